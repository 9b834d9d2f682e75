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
    assert adjoint.grad(jit_rejects.scaled)(3.0) == 24.0  # Python mode is unaffected


def test_straight_line_code_numba_refuses_runs_in_numpy():
    """No loop: nothing is lost by running it as NumPy, as array code always does."""
    g = adjoint.grad(jit_rejects.scaled_once, jit=True)
    assert g(3.0) == 12.0 and g(1.0) == 4.0  # the second call takes the fast path


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


# --- what Numba compiles (adjoint.kernels) ------------------------------------------------------
# Straight-line array code runs in NumPy, loops are outlined into Numba kernels, scalar code and
# loops with light work around them are compiled whole. The numbers must be Python mode's.


def big_ufuncs(x, w):
    y = np.exp(x) * np.tanh(x) + np.log(x) + np.sin(x) + np.arccosh(x + 1.5)
    return np.sum(w * y)


def rows_then_loop(X, w, n):
    """Heavy array code (keepdims, @) around a loop that reads its result."""
    z = X @ w
    p = np.exp(z - np.max(z, axis=0, keepdims=True))
    s = 0.0
    for i in range(n):
        s = s + np.tanh(p[i] * s + w[0])
    return s * np.sum(p)


def loop_with_reductions(X, n):
    """keepdims reductions and ufuncs of arrays inside the loop: Numba compiles them through
    adjoint.jit_numpy."""
    total = 0.0
    for k in range(n):
        Z = X * (k + 1.0)
        Z = Z - np.max(Z, axis=1, keepdims=True)
        P = np.exp(Z) / np.sum(np.exp(Z), axis=1, keepdims=True)
        total = total + np.mean(P[:, 0] * np.std(Z, axis=0)[0]) + np.var(Z, axis=1, ddof=1)[0]
    return total


def bound_in_branch_then_loop(x, c, n):
    """A value bound in one branch before a loop, and a result the loop may not rebind."""
    if c > 0:
        y = np.sum(x * x)
    else:
        y = np.sum(np.sin(x))
    s = y
    for i in range(n):
        if x[i] > 0.0:
            s = s * x[i]
    return s + np.sum(np.cumsum(x))


def _directional(fn, args, v, h=1e-6):
    plus = (args[0] + h * v,) + args[1:]
    minus = (args[0] - h * v,) + args[1:]
    return (np.asarray(fn(*plus)) - np.asarray(fn(*minus))) / (2 * h)


def _assert_jit_equals_python(got, want, label):
    assert type(got) is type(want), f"{label}: {type(got)} vs {type(want)}"
    assert np.shape(got) == np.shape(want) and np.asarray(got).dtype == np.asarray(want).dtype
    scale = max(1.0, float(np.max(np.abs(want))))
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10 * scale, err_msg=label)


def _plan(transform, *args):
    from adjoint.jit import njit_derived
    return njit_derived(transform.derive(*args)).plan


def test_straight_line_array_code_runs_in_numpy_and_matches_python_mode():
    rng = np.random.default_rng(4096)
    x, w = rng.uniform(0.1, 0.9, 5000), rng.normal(size=5000)
    compiled = adjoint.value_and_grad(big_ufuncs, jit=True)
    plan = _plan(compiled, x, w)  # NumPy, but for elementwise arithmetic, fused
    assert plan.how == "kernels" and not plan.loops and all(k.fused for k in plan.kernels)
    ref_value, ref_grad = adjoint.value_and_grad(big_ufuncs)(x.copy(), w.copy())
    for _ in range(2):  # the first call compiles the fused kernels, the second runs them
        value, grad = compiled(x, w)
        _assert_jit_equals_python(value, ref_value, "value")
        _assert_jit_equals_python(grad, ref_grad, "gradient")


@pytest.mark.parametrize("fn, make", [
    (rows_then_loop, lambda rng: (rng.normal(size=(6, 3)), rng.normal(size=3), 4)),
    (loop_with_reductions, lambda rng: (rng.normal(size=(4, 3)), 3)),
])
def test_loops_compile_as_kernels_and_match_python_mode(fn, make):
    rng = np.random.default_rng(7)
    args = make(rng)
    compiled = adjoint.grad(fn, jit=True)
    got, want = compiled(*args), adjoint.grad(fn)(*args)
    _assert_jit_equals_python(got, want, fn.__name__)
    v = rng.normal(size=args[0].shape)
    slope = float(_directional(fn, args, v))
    assert float(np.sum(want * v)) == pytest.approx(slope, rel=1e-6, abs=1e-6)
    plan = _plan(compiled, *args)
    if fn is rows_then_loop:
        assert plan.how == "kernels" and len(plan.kernels) == 1
        kernel = plan.kernels[0]  # the keepdims reduction stays in NumPy
        assert "keepdims" not in kernel.source and "keepdims" in plan.driver


@pytest.mark.parametrize("c", [1.0, -1.0])
def test_kernel_boundaries_keep_values_bound_on_some_paths(c):
    x = np.array([0.5, -1.2, 2.0, 0.3])
    compiled = adjoint.grad(bound_in_branch_then_loop, jit=True)
    _assert_jit_equals_python(compiled(x, c, 4), adjoint.grad(bound_in_branch_then_loop)(x, c, 4),
                              f"c={c}")
    assert _plan(compiled, x, c, 4).how == "kernels"


def test_a_slow_compile_says_so_once_through_logging(monkeypatch, caplog):
    from adjoint import jit

    monkeypatch.setattr(jit, "_SLOW_COMPILE", 0.0)

    def cube_sum(x, n):
        s = 0.0
        for i in range(n):
            s = s + x * x * x
        return s

    g = adjoint.grad(cube_sum, jit=True)
    with caplog.at_level("WARNING", logger="adjoint"):
        assert g(2.0, 3) == pytest.approx(36.0)
        assert g(2.0, 3) == pytest.approx(36.0)
    messages = [r.getMessage() for r in caplog.records if r.name == "adjoint"]
    assert len(messages) == 1 and "dcube_sum" in messages[0] and "compiling" in messages[0]


def einsum_in_loop(x, n):
    s = 0.0
    for i in range(n):
        s = s + np.einsum("i,i->", x, x) * i
    return s


def test_a_call_numba_lacks_inside_a_loop_names_the_call():
    with pytest.raises(adjoint.JitError) as info:
        adjoint.grad(einsum_in_loop, jit=True)(np.ones(3), 2)
    lines, first = inspect.getsourcelines(einsum_in_loop)
    assert info.value.lineno == first + 3
    assert "Numba has no np.einsum" in str(info.value)


def test_session_cache_is_this_sessions_own(request):
    """conftest gives every test session a new, empty cache directory (see its docstring)."""
    import conftest

    from adjoint import jit

    run = os.environ.get("PYTEST_XDIST_TESTRUNUID") or request.config.option.testrunuid
    assert run and jit._CACHE_DIR == conftest._session_cache_dir(run)
    assert os.path.isdir(jit._CACHE_DIR)


# --- stop_gradient and custom_vjp rules compile inside loops --------------------------------------


@adjoint.custom_vjp
def clip_st(x):
    return min(max(x, -1.0), 1.0)


@clip_st.defvjp
def _clip_st_bwd(x, out, g):
    return (g,)  # straight-through: the clip's derivative is taken as 1


def straight_through_loop(x, n):
    s = 0.0
    for i in range(n):
        s = s + clip_st(x * i) + adjoint.stop_gradient(x * x) * x
    return s


def test_stop_gradient_and_custom_vjp_rules_hold_in_a_compiled_loop():
    x, n = 0.7, 5
    want = n * (n - 1) / 2 + n * x * x  # d/dx: sum of i (straight through) + n x² (x² constant)
    compiled = adjoint.grad(straight_through_loop, jit=True)
    assert compiled(x, n) == pytest.approx(want, rel=1e-12)
    assert adjoint.grad(straight_through_loop)(x, n) == pytest.approx(want, rel=1e-12)
    assert len(_plan(compiled, x, n).kernels) == 0 and compiled._entries  # compiled whole
