"""Semantics of the public API layer, in Python mode and under ``jit=True``.

Takes small functions defined here (and module globals of this file). Guarantees, each checked
against central finite differences where a number is involved:

- a ``custom_vjp`` rule holds wherever its function is differentiated — directly too — and
  ``check_grad`` fails a deliberately wrong rule;
- arguments bind as in Python: an extra positional argument is a TypeError (never the output
  seed); an omitted defaulted argument takes its default, also when ``wrt`` names it;
- globals are read when the gradient is called (rebinding, in-place changes, rebinding an
  inlined helper, NumPy scalar globals), in both modes and across the on-disk jit cache;
- a cotangent or tangent of the wrong shape is refused (``CotangentError``, a ValueError);
- a non-numeric ``wrt`` argument is refused; tuple and list arguments are differentiated
  (tests/test_trees.py has the rest of trees), writing into one is refused; float32 arrays get
  float32 gradients, integer arrays float64;
- bound methods and ``functools.partial`` are differentiated with their bound arguments as
  constants, bound methods under jit too;
- a gradient of the wrong shape is an internal error, never broadcast;
- errors in generated code being differentiated again name the user's line and point to
  hessian/hvp; an inlined library function that cannot be differentiated is refused at the
  user's call with ``defvjp`` offered.
"""

from __future__ import annotations

import functools
import math
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import scipy.special

import adjoint
from adjoint import conventions
from adjoint.errors import ArgumentError, CotangentError, InternalError

MODES = ("python", "jit")
HERE = Path(__file__).resolve()


def numeric(f, args, wrt=0, eps=1e-6):
    """Central differences of scalar ``f`` with respect to argument ``wrt``."""
    args = list(args)
    x = args[wrt]
    if isinstance(x, np.ndarray):
        out = np.zeros(x.shape)
        for idx in np.ndindex(x.shape):
            up, down = x.astype(float), x.astype(float)
            up[idx] += eps
            down[idx] -= eps
            out[idx] = (f(*args[:wrt], up, *args[wrt + 1:]) -
                        f(*args[:wrt], down, *args[wrt + 1:])) / (2 * eps)
        return out
    return (f(*args[:wrt], x + eps, *args[wrt + 1:]) -
            f(*args[:wrt], x - eps, *args[wrt + 1:])) / (2 * eps)


def line_of(fn, text):
    """The file line number of the first line of ``fn``'s source containing ``text``."""
    import inspect
    lines, first = inspect.getsourcelines(fn)
    return first + next(k for k, line in enumerate(lines) if text in line)


# ------------------------------------------------------------------ 1. custom_vjp rules hold
@adjoint.custom_vjp
def clip_st(x):
    return np.clip(x, -1.0, 1.0)


@clip_st.defvjp
def clip_st_bwd(x, out, g):
    return (g,)  # straight-through: deliberately not the derivative of clip


@adjoint.custom_vjp
def cube(x):
    return x * x * x


@cube.defvjp
def cube_bwd(x, out, g):
    return (3.0 * x * x * g,)


@adjoint.custom_vjp
def cube_wrong(x):
    return x * x * x


@cube_wrong.defvjp
def cube_wrong_bwd(x, out, g):
    return (2.0 * x * x * g,)  # wrong on purpose


def through_helper(x):
    return np.sum(clip_st(x))


@pytest.mark.parametrize("mode", MODES)
def test_custom_vjp_rule_holds_when_differentiated_directly(mode):
    jit = mode == "jit"
    x = np.array([3.0, 0.5, -2.0])
    assert np.array_equal(adjoint.grad(through_helper, jit=jit)(x), np.ones(3))
    _, pullback = adjoint.vjp(clip_st, jit=jit)(x)
    assert np.array_equal(pullback(np.ones(3)), np.ones(3))  # not clip's 0, 1, 0
    assert adjoint.grad(cube, jit=jit)(1.5) == pytest.approx(numeric(cube, [1.5]), rel=1e-7)
    assert adjoint.grad(cube_wrong, jit=jit)(1.5) == pytest.approx(2.0 * 1.5**2, rel=1e-12)
    value, slope = adjoint.value_and_grad(cube_wrong, jit=jit)(2.0)
    assert (value, slope) == (8.0, 8.0)


def test_custom_vjp_scalar_straight_through_python():
    assert adjoint.grad(clip_st)(3.0) == 1.0
    _, pullback = adjoint.vjp(clip_st)(3.0)
    assert pullback(1.0) == 1.0


@pytest.mark.parametrize("mode", MODES)
def test_check_grad_fails_a_wrong_custom_rule(mode):
    adjoint.check_grad(cube, 1.5, jit=mode == "jit")
    with pytest.raises(adjoint.GradientCheckError):
        adjoint.check_grad(cube_wrong, 1.5, jit=mode == "jit")


# ------------------------------------------------------------------ 2 and 6. argument binding
def loss(w, X):
    return np.sum((X @ w) ** 2)


def with_default(x, b=2.0):
    return x * b * b + math.sin(b)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("kind", [adjoint.grad, adjoint.value_and_grad, adjoint.vjp])
def test_extra_positional_argument_is_a_type_error(kind, mode):
    w, X = np.array([1.0, 2.0]), np.array([[1.0, 0.5], [0.2, 0.3]])
    fn = kind(loss, jit=mode == "jit")
    with pytest.raises(TypeError, match="takes 2 positional"):
        fn(w, X, 5.0)
    with pytest.raises(TypeError, match="missing"):
        fn(w)
    with pytest.raises(TypeError, match="unexpected keyword"):
        fn(w, X, dout=5.0)
    if kind is adjoint.grad:  # and after a successful call (the fast path) too
        assert np.allclose(fn(w, X), numeric(loss, [w, X]), rtol=1e-6)
        with pytest.raises(TypeError, match="takes 2 positional"):
            fn(w, X, 5.0)


@pytest.mark.parametrize("mode", MODES)
def test_wrt_names_a_defaulted_parameter(mode):
    jit = mode == "jit"
    want = numeric(with_default, [1.5, 2.0], wrt=1)
    assert adjoint.grad(with_default, wrt="b", jit=jit)(1.5) == pytest.approx(want, rel=1e-7)
    dx, db = adjoint.grad(with_default, wrt=("x", "b"), jit=jit)(1.5)
    assert (dx, db) == pytest.approx((4.0, want), rel=1e-7)
    assert adjoint.grad(with_default, wrt="b", jit=jit)(1.5, 3.0) == pytest.approx(
        numeric(with_default, [1.5, 3.0], wrt=1), rel=1e-7)
    _, tangent = adjoint.jvp(with_default, wrt="b", jit=jit)(1.5, 1.0)
    assert tangent == pytest.approx(want, rel=1e-7)


# ------------------------------------------------------------------ 3. globals at call time
SCALE = 3.0
WEIGHTS = np.array([1.0, 2.0])
F32 = np.float32(3.0)


def _square(x):
    return x * x


def _cube(x):
    return x * x * x


ACTIVATION = _square


def scaled(x):
    return SCALE * x * x


def weighted(x):
    return np.sum(WEIGHTS * x * x)


def activated(x):
    return ACTIVATION(x) * 2.0


def by_f32(x):
    return F32 * x


@pytest.fixture
def restore_globals():
    saved = dict(SCALE=SCALE, WEIGHTS=WEIGHTS, ACTIVATION=ACTIVATION, F32=F32)
    yield globals()
    globals().update(saved)


@pytest.mark.parametrize("mode", MODES)
def test_rebound_scalar_global_is_read_at_call_time(mode, restore_globals):
    jit = mode == "jit"
    g = adjoint.grad(scaled, jit=jit)
    assert g(1.0) == pytest.approx(numeric(scaled, [1.0]), rel=1e-7)
    restore_globals["SCALE"] = 4.0
    assert g(1.0) == pytest.approx(numeric(scaled, [1.0]), rel=1e-7)  # 8, not 6
    assert adjoint.grad(scaled, jit=jit)(1.0) == pytest.approx(8.0)  # a new transform too


@pytest.mark.parametrize("mode", MODES)
def test_global_array_changed_in_place_or_rebound(mode, restore_globals):
    jit = mode == "jit"
    restore_globals["WEIGHTS"] = np.array([1.0, 2.0])
    g = adjoint.grad(weighted, jit=jit)
    x = np.array([0.5, -1.5])
    assert np.allclose(g(x), numeric(weighted, [x]), rtol=1e-7)
    WEIGHTS[0] = 10.0
    assert np.allclose(g(x), numeric(weighted, [x]), rtol=1e-7)
    restore_globals["WEIGHTS"] = np.array([5.0, 6.0, 7.0])[:2]
    assert np.allclose(g(x), numeric(weighted, [x]), rtol=1e-7)


@pytest.mark.parametrize("mode", MODES)
def test_rebound_inlined_helper_is_differentiated_anew(mode, restore_globals):
    jit = mode == "jit"
    g = adjoint.grad(activated, jit=jit)
    assert g(1.5) == pytest.approx(numeric(activated, [1.5]), rel=1e-7)
    restore_globals["ACTIVATION"] = _cube
    assert g(1.5) == pytest.approx(numeric(activated, [1.5]), rel=1e-7)
    vg = adjoint.value_and_grad(activated, jit=jit)
    assert vg(1.5) == pytest.approx((2.0 * 1.5**3, numeric(activated, [1.5])), rel=1e-7)


@pytest.mark.parametrize("mode", MODES)
def test_numpy_scalar_global_is_read_at_call_time(mode, restore_globals):
    jit = mode == "jit"
    g = adjoint.grad(by_f32, jit=jit)
    assert g(1.0) == pytest.approx(3.0)
    restore_globals["F32"] = np.float32(4.0)
    assert g(1.0) == pytest.approx(4.0)
    assert adjoint.grad(by_f32, jit=jit)(1.0) == pytest.approx(4.0)


def closure_pair():
    k = 2.0

    def f(x):
        return k * x * x

    def set_k(value):
        nonlocal k
        k = value

    return f, set_k


@pytest.mark.parametrize("mode", MODES)
def test_rebound_closure_variable_is_read_at_call_time(mode):
    f, set_k = closure_pair()
    g = adjoint.grad(f, jit=mode == "jit")
    assert g(1.0) == pytest.approx(numeric(f, [1.0]), rel=1e-7)
    set_k(3.0)
    assert g(1.0) == pytest.approx(numeric(f, [1.0]), rel=1e-7)  # 6, not 4


CACHE_PROBE = textwrap.dedent("""
    import sys
    import adjoint
    sys.path.insert(0, sys.argv[1])
    import np_global_model
    print(adjoint.grad(np_global_model.f, jit=True)(1.0))
""")

CACHE_MODEL = textwrap.dedent("""
    import numpy as np
    K = np.float32({k})
    def f(x):
        return K * x * x
""")


def test_on_disk_jit_cache_does_not_reuse_a_changed_numpy_scalar_global(tmp_path):
    env = {"ADJOINT_CACHE_DIR": str(tmp_path / "cache"), "PATH": "/usr/bin:/bin",
           "PYTHONPATH": str(HERE.parent.parent / "src"), "PYTHONDONTWRITEBYTECODE": "1"}
    results = []
    for k in (2.0, 3.0):
        (tmp_path / "np_global_model.py").write_text(CACHE_MODEL.format(k=k))
        proc = subprocess.run([sys.executable, "-c", CACHE_PROBE, str(tmp_path)], env=env,
                              capture_output=True, text=True, timeout=300, check=False)
        assert proc.returncode == 0, proc.stderr[-2000:]
        results.append(float(proc.stdout.split()[-1]))
    assert results == [4.0, 6.0]  # d/dx K x² at x = 1


# ------------------------------------------------------------------ 4. cotangent shapes
def spread(x):
    return x * np.ones(3)


def pair(x):
    return x * np.ones(3), x * x


@pytest.mark.parametrize("mode", MODES)
def test_cotangent_of_the_wrong_shape_is_refused(mode):
    jit = mode == "jit"
    _, pullback = adjoint.vjp(spread, jit=jit)(2.0)
    assert pullback(np.array([1.0, 2.0, 3.0])) == pytest.approx(6.0)
    for bad in (np.ones(4), np.ones((2, 3)), 1.0):
        with pytest.raises(CotangentError, match="shape") as info:
            pullback(bad)
        assert isinstance(info.value, ValueError)
    _, pullback = adjoint.vjp(pair, jit=jit)(2.0)
    assert pullback((np.ones(3), 1.0)) == pytest.approx(3.0 + 4.0)
    with pytest.raises(CotangentError):
        pullback((np.ones(2), 1.0))
    with pytest.raises(CotangentError):
        pullback(np.ones(3))
    with pytest.raises(CotangentError, match="tangent"):
        adjoint.jvp(weighted_sum, jit=jit)(np.ones(3), np.ones(2))


def weighted_sum(x):
    return np.sum(x * x)


# ------------------------------------------------------------------ 5. argument kinds, dtypes
def with_label(x, label):
    return x * 2.0


@pytest.mark.parametrize("mode", MODES)
def test_string_wrt_argument_is_refused(mode):
    with pytest.raises(ArgumentError, match="'label'"):
        adjoint.grad(with_label, wrt=1, jit=mode == "jit")(1.0, "a")


@pytest.mark.parametrize("mode", MODES)
def test_gradient_keeps_the_float_dtype(mode):
    jit = mode == "jit"
    x32 = np.array([0.5, -1.0, 2.0], dtype=np.float32)
    g32 = adjoint.grad(weighted_sum, jit=jit)(x32)
    assert g32.dtype == np.float32
    assert np.allclose(g32, numeric(weighted_sum, [x32.astype(float)]), rtol=1e-6)
    xi = np.array([1, -2, 3])
    gi = adjoint.grad(weighted_sum, jit=jit)(xi)
    assert gi.dtype == np.float64
    assert np.allclose(gi, numeric(weighted_sum, [xi.astype(float)]), rtol=1e-7)
    g64 = adjoint.grad(weighted_sum, jit=jit)(x32.astype(float))  # same ndim, other dtype
    assert g64.dtype == np.float64


# ------------------------------------------------------------------ 7. structured arguments
def tuple_param(x, p):
    return x * p[0] + p[1] * x * x


def list_written(x, p):
    p[0] = x * 2.0
    return p[0] * x


@pytest.mark.parametrize("mode", MODES)
def test_structured_arguments_are_differentiated(mode):
    jit = mode == "jit"
    gp = adjoint.grad(tuple_param, wrt=1, jit=jit)(1.0, (2.0, 3.0))
    assert type(gp) is tuple and gp == pytest.approx((1.0, 1.0), rel=1e-12)
    gl = adjoint.grad(tuple_param, wrt="p", jit=jit)(1.5, [2.0, 3.0])
    assert type(gl) is list and gl == pytest.approx([1.5, 2.25], rel=1e-12)
    got = adjoint.grad(tuple_param, jit=jit)(1.5, (2.0, 3.0))  # read as a constant: fine
    assert got == pytest.approx(numeric(tuple_param, [1.5, (2.0, 3.0)]), rel=1e-7)


@pytest.mark.parametrize("mode", MODES)
def test_list_argument_written_is_refused(mode):
    with pytest.raises(adjoint.UnsupportedSyntaxError, match="assigned into") as info:
        adjoint.grad(list_written, jit=mode == "jit")(1.5, [0.0])
    assert info.value.lineno == line_of(list_written, "p[0] = ")


# ------------------------------------------------------------------ 8. methods and partials
class Model:
    def __init__(self, a):
        self.a = a

    def energy(self, x):
        return self.a * x * x + math.sin(x)


def shifted(x, a, b=1.0):
    return a * x * x + b * x


def summed(x, a, b):
    return np.sum(a * x * x + b * x)


@pytest.mark.parametrize("mode", MODES)
def test_partial_arguments_are_constants(mode):
    jit = mode == "jit"
    part = functools.partial(shifted, a=3.0)
    assert adjoint.grad(part, jit=jit)(2.0) == pytest.approx(numeric(part, [2.0]), rel=1e-7)
    first = functools.partial(shifted, 0.5)
    assert adjoint.grad(first, jit=jit)(3.0) == pytest.approx(numeric(first, [3.0]), rel=1e-7)
    x = np.array([1.0, -2.0])
    vec = functools.partial(summed, b=np.array([0.5, 0.25]))
    assert np.allclose(adjoint.grad(vec, jit=jit)(x, 2.0), numeric(vec, [x, 2.0]), rtol=1e-7)


def rebinds_its_parameter(x, a):
    a = a * 2.0
    return a * x


def test_partial_argument_reassigned_in_the_body_is_refused():
    with pytest.raises(adjoint.UnsupportedSyntaxError, match="'a' is bound") as info:
        adjoint.grad(functools.partial(rebinds_its_parameter, a=3.0))(1.0)
    assert info.value.lineno == line_of(rebinds_its_parameter, "def ")


def test_bound_method_has_self_as_a_constant():
    m = Model(3.0)
    assert adjoint.grad(m.energy)(2.0) == pytest.approx(numeric(m.energy, [2.0]), rel=1e-7)
    m.a = 5.0  # an attribute is read at call time, as Python does
    assert adjoint.grad(m.energy)(2.0) == pytest.approx(numeric(m.energy, [2.0]), rel=1e-7)


def test_bound_method_under_jit_reads_its_attributes_at_call_time():
    m = Model(3.0)
    dm = adjoint.grad(m.energy, jit=True)
    assert dm(2.0) == pytest.approx(numeric(m.energy, [2.0]), rel=1e-7)
    m.a = 5.0  # the attributes are arguments of the compiled code
    assert dm(2.0) == pytest.approx(numeric(m.energy, [2.0]), rel=1e-7)


# ------------------------------------------------------------------ 9. wrong-shaped gradients
def test_a_gradient_of_the_wrong_shape_is_an_internal_error():
    with pytest.raises(InternalError, match=r"shape \(2,\)"):
        conventions.as_result(np.ones(2), np.ones(3), "x")
    with pytest.raises(InternalError):
        conventions.as_result(1.0, np.ones(3), "x")  # never broadcast up
    with pytest.raises(InternalError):
        conventions.as_result(np.ones(3), 2.0, "x")
    assert conventions.as_result(2.0, np.array(1.0), "x").shape == ()


# ------------------------------------------------------------------ 10 and 11. error locations
def tanh_layer(x):
    return np.sum(np.tanh(x @ np.ones((3, 3))))


def scalar_layer(x):
    return np.sum(np.tanh(x * np.ones(3)))


def nuclear_layer(x):
    return np.linalg.norm(np.reshape(np.tanh(x), (2, 2)), ord="nuc") ** 2


@pytest.mark.parametrize("mode", MODES)
def test_higher_order_error_names_the_users_line_and_hessian(mode):
    jit = mode == "jit"
    # the nuclear norm's gradient helper refuses to be differentiated again, at run time
    _, pullback = adjoint.vjp(adjoint.grad(nuclear_layer, jit=jit), jit=jit)(
        np.array([0.4, -0.3, 0.9, 0.2]))
    with pytest.raises(adjoint.NoRuleError) as info:
        pullback(np.ones(4))
    err = info.value
    assert err.filename == __file__
    assert err.lineno == line_of(nuclear_layer, "return")
    assert "ord='fro'" in err.hint
    x = np.array([0.3, -0.2, 0.1])
    hess = adjoint.hessian(tanh_layer, jit=jit)(x)
    gradient = adjoint.grad(tanh_layer)
    for i in range(3):
        assert np.allclose(hess[i], numeric(lambda v, i=i: gradient(v)[i], [x]), atol=1e-7)
    # reverse over reverse through matmul's adjoint helpers gives the same rows
    _, pullback = adjoint.vjp(adjoint.grad(tanh_layer, jit=jit), jit=jit)(x)
    for i in range(3):
        assert np.allclose(pullback(np.eye(3)[i]), hess[i], atol=1e-10)


def library_call(x):
    return scipy.special.logsumexp(x)


def test_library_function_that_cannot_be_inlined_is_refused_at_the_call():
    with pytest.raises(adjoint.NoRuleError) as info:
        adjoint.grad(library_call)(np.ones(3))
    err = info.value
    assert err.filename == __file__
    assert err.lineno == line_of(library_call, "logsumexp")
    assert "adjoint.defvjp(scipy.special.logsumexp" in err.hint


# -------------------------------------- found by the random-program tester and the peer cases
def _inner(a0, a1):
    return a1


def _outer(a0, a1):
    s = _inner(a0, a1[::-1])  # noqa: F841  (its value is unused; its binding must not clobber a1)
    return a1[0]


def nested_helpers(b):
    return _outer(b, b)


def local_named_like_helper(a):
    fresh = a * 2.0
    return fresh * a


def masked(a):
    return np.sum(a[a > 0] ** 2)


def masked_in_loop(a, n):
    s = 0.0
    for k in range(n):
        s = s + np.sum(a[a > 0] ** 2)
    return s


@pytest.mark.parametrize("mode", MODES)
def test_nested_inlining_renames_callee_parameters_apart(mode):
    b = np.array([1.0, 2.0, 3.0])
    value, grad = adjoint.value_and_grad(nested_helpers, jit=mode == "jit")(b)
    assert value == nested_helpers(b)
    assert np.allclose(grad, numeric(nested_helpers, [b]), atol=1e-8)


def test_user_local_named_like_a_runtime_helper():
    a = 1.5
    assert adjoint.grad(local_named_like_helper)(a) == pytest.approx(
        numeric(local_named_like_helper, [a]), rel=1e-7)
    gradient = adjoint.grad(local_named_like_helper)
    assert adjoint.hessian(local_named_like_helper)(a) == pytest.approx(
        numeric(gradient, [a]), rel=1e-6)


def test_numba_internal_assertion_becomes_a_located_jit_error():
    with pytest.raises(adjoint.JitError) as info:
        adjoint.grad(masked_in_loop, jit=True)(np.ones((2, 3)), 2)
    assert info.value.filename == __file__
    assert info.value.lineno == line_of(masked_in_loop, "def masked_in_loop")


def test_straight_line_code_numba_cannot_compile_runs_in_numpy_under_jit():
    a = np.array([[1.0, -2.0, 3.0], [-0.5, 0.5, 2.0]])
    assert np.array_equal(adjoint.grad(masked, jit=True)(a), adjoint.grad(masked)(a))
