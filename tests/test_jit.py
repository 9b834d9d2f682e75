"""jit=True: same numbers as Python mode; Numba's refusals become located AdjointErrors."""

import inspect
import os

import jit_rejects
import numpy as np
import pytest
from golden_functions import GOLDEN

import adjoint


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_jit_agrees_with_python_mode(name):
    fn, args = GOLDEN[name]
    expected = adjoint.grad(fn)(*args)
    got = adjoint.grad(fn, jit=True)(*args)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-14)
    assert type(got) is type(expected)


def test_numba_refusal_is_a_located_jit_error():
    with pytest.raises(adjoint.JitError) as info:
        adjoint.grad(jit_rejects.scaled, jit=True)(3.0)
    err = info.value
    lines, first = inspect.getsourcelines(jit_rejects.scaled)
    assert err.filename == jit_rejects.__file__
    assert err.lineno == first + 1  # k = SETTINGS.scale
    assert "Numba" in str(err) and err.hint and "jit=False" in err.hint
    assert adjoint.grad(jit_rejects.scaled)(3.0) == 12.0  # Python mode is unaffected


def test_preallocated_tapes_are_typed_arrays():
    def lotka_volterra(a, b):
        u, v = 1.0, 0.5
        for k in range(200):
            u, v = u + 0.01 * (a * u - b * u * v), v + 0.01 * (b * u * v - v)
        return u + v
    g = adjoint.grad(lotka_volterra, wrt=(0, 1), jit=True)
    value = g(1.1, 0.4)
    source = g.source
    assert "np.empty(200)" in source and ".append(" not in source
    np.testing.assert_allclose(value, adjoint.grad(lotka_volterra, wrt=(0, 1))(1.1, 0.4),
                               rtol=1e-12)


# --- NumPy's kernels through objmode for big arrays (adjoint.fast_numpy) ------------------------
# Under jit=True the transcendental ufuncs of arrays of THRESHOLD elements or more leave Numba
# and call NumPy; smaller arrays stay compiled. The numbers must be Python mode's either way.


def big_ufuncs(x, w):
    y = np.exp(x) * np.tanh(x) + np.log(x) + np.sin(x) + np.arccosh(x + 1.5)
    return np.sum(w * y)


def big_transposed(a):
    """A transposed (Fortran-ordered, not C-contiguous) 2-D view into the objmode path."""
    return np.sum(np.tanh(a.T) ** 2)


def big_array_output(x):
    return np.tanh(x) * np.exp(-x) + np.log1p(x * x)


def _directional(fn, args, v, h=1e-6):
    plus = (args[0] + h * v,) + args[1:]
    minus = (args[0] - h * v,) + args[1:]
    return (np.asarray(fn(*plus)) - np.asarray(fn(*minus))) / (2 * h)


def _assert_jit_equals_python(got, want, label):
    assert type(got) is type(want), f"{label}: {type(got)} vs {type(want)}"
    assert np.shape(got) == np.shape(want) and np.asarray(got).dtype == np.asarray(want).dtype
    scale = max(1.0, float(np.max(np.abs(want))))
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10 * scale, err_msg=label)


def test_big_array_ufuncs_under_jit_match_python_mode_and_finite_differences():
    from adjoint.fast_numpy import THRESHOLD, UFUNCS

    rng = np.random.default_rng(4096)
    compiled = adjoint.value_and_grad(big_ufuncs, jit=True)
    python = adjoint.value_and_grad(big_ufuncs)
    assert any(f"np.{u}(" in compiled.derive(np.ones(1), np.ones(1)).source for u in UFUNCS)
    for n in (THRESHOLD - 1, THRESHOLD, THRESHOLD + 37):  # both sides of the threshold
        x, w = rng.uniform(0.1, 0.9, n), rng.normal(size=n)
        (value, grad), (ref_value, ref_grad) = compiled(x, w), python(x.copy(), w.copy())
        _assert_jit_equals_python(value, ref_value, f"n={n} value")
        _assert_jit_equals_python(grad, ref_grad, f"n={n} gradient")
        v = rng.normal(size=n)
        slope = _directional(big_ufuncs, (x, w), v)
        assert float(np.dot(grad, v)) == pytest.approx(float(slope), rel=1e-6, abs=1e-6)


def test_big_transposed_view_under_jit_matches_python_mode():
    rng = np.random.default_rng(8192)
    a = rng.uniform(-1.0, 1.0, (130, 64))  # 8320 elements
    got = adjoint.grad(big_transposed, jit=True)(a)
    want = adjoint.grad(big_transposed)(a.copy())
    _assert_jit_equals_python(got, want, "big_transposed gradient")
    v = rng.normal(size=a.shape)
    slope = float(_directional(big_transposed, (a,), v))
    assert float(np.sum(want * v)) == pytest.approx(slope, rel=1e-6, abs=1e-6)


def test_big_array_output_vjp_and_jvp_under_jit_match_python_mode():
    from adjoint.fast_numpy import THRESHOLD

    rng = np.random.default_rng(2 * THRESHOLD)
    x = rng.uniform(-1.0, 1.0, THRESHOLD + 100)
    u, v = rng.normal(size=x.shape), rng.normal(size=x.shape)
    value, pullback = adjoint.vjp(big_array_output, jit=True)(x)
    ref_value, ref_pullback = adjoint.vjp(big_array_output)(x.copy())
    _assert_jit_equals_python(value, ref_value, "vjp value")
    pulled = pullback(u)
    _assert_jit_equals_python(pulled, ref_pullback(u), "vjp pullback")
    tangent_value, tangent = adjoint.jvp(big_array_output, jit=True)(x, v)
    ref_tangent_value, ref_tangent = adjoint.jvp(big_array_output)(x.copy(), v)
    _assert_jit_equals_python(tangent_value, ref_tangent_value, "jvp value")
    _assert_jit_equals_python(tangent, ref_tangent, "jvp tangent")
    np.testing.assert_allclose(ref_tangent, _directional(big_array_output, (x,), v),
                               rtol=1e-6, atol=1e-6)
    assert float(np.dot(pulled, v)) == pytest.approx(float(np.dot(u, tangent)), rel=1e-10)


def test_session_cache_is_this_sessions_own(request):
    """conftest gives every test session a new, empty cache directory (see its docstring)."""
    import conftest

    from adjoint import jit

    run = os.environ.get("PYTEST_XDIST_TESTRUNUID") or request.config.option.testrunuid
    assert run and jit._CACHE_DIR == conftest._session_cache_dir(run)
    assert os.path.isdir(jit._CACHE_DIR)
