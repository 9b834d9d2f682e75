"""Regression tests for the semantics of the NumPy rules at their edges.

Each case is a construct that used to give a silently wrong gradient (or crash) and its fix:
index-trick concatenation (``np.r_``, ``np.c_``), the sublist form of ``np.einsum``, the power
family and ``std``/``var`` at points where a naive formula divides by zero, ``dtype=`` arguments
that make a result integer, list literals passed to NumPy functions, empty and size-1 inputs,
and the audit of ties, repeated indices, broadcasting and axis forms. Gradients are compared with
central finite differences in float64 (:func:`adjoint.check_grad`), in Python mode and under
``jit=True`` where Numba compiles the primal; values fixed by a documented convention
(``docs/conventions.md``: JAX's, where finite differences cannot decide) are asserted exactly.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import adjoint
from adjoint.errors import AdjointError, NoRuleError
from adjoint.testing import numeric_grad

MODES = [pytest.param(False, id="python"), pytest.param(True, id="jit")]
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

X = np.array([1.3, -2.4, 3.6])
Y = np.array([0.7, 1.9, -0.4])


def check(f, *args, wrt=0, jit=False, **options):
    """Raises GradientCheckError unless every element agrees with central differences."""
    adjoint.check_grad(f, *args, wrt=wrt, jit=jit, **options)


def check_jvp(f, *args, wrt=0):
    """Forward mode against a central difference along a random direction."""
    rng = np.random.default_rng(0)
    positions = wrt if isinstance(wrt, tuple) else (wrt,)
    tangents = [rng.normal(size=np.shape(args[k])) for k in positions]
    _, slope = adjoint.jvp(f, wrt=wrt)(*args, *tangents)

    def along(h):
        moved = list(args)
        for k, t in zip(positions, tangents):
            moved[k] = args[k] + h * t
        return f(*moved)
    h = 1e-6
    assert slope == pytest.approx((along(h) - along(-h)) / (2 * h), rel=1e-6, abs=1e-8)


# --- 1. np.r_ and np.c_ -----------------------------------------------------------------------


def r_vectors(x, y):
    return np.sum(np.r_[x, 0:3, y, 2.0, x[0]] * np.arange(11.0))


def r_twice(x):
    return np.sum(np.r_[x, x] * np.arange(6.0))


def r_matrices(a):
    return np.sum(np.r_[a, 2.0 * a] ** 2 * np.arange(12.0).reshape(4, 3))


def c_columns(x, y):
    return np.sum(np.c_[x, 2.0 * y, x * y, 0:3] * np.arange(12.0).reshape(3, 4))


def r_runtime_slice(x, n):
    return np.sum(np.r_[0:n, x])


def r_directive(x):
    return np.sum(np.r_["0,2", x, x])


def mgrid_of_x(x):
    return np.sum(np.mgrid[0:x:5j])


def test_r_and_c_concatenate_their_items():
    check(r_twice, X)
    check(r_vectors, X, Y, wrt=(0, 1))
    check(r_matrices, np.arange(6.0).reshape(2, 3) * 0.3)
    check(c_columns, X, Y, wrt=(0, 1))
    check_jvp(r_vectors, X, Y, wrt=(0, 1))
    check_jvp(c_columns, X, Y, wrt=(0, 1))


def test_r_under_jit_runs_in_numpy_and_is_not_zero():
    got = adjoint.grad(r_twice, jit=True)(X)
    assert np.array_equal(got, adjoint.grad(r_twice)(X)) and np.any(got != 0.0)


@pytest.mark.parametrize("fn, args, words", [
    (r_runtime_slice, (X, 3), "slice bound computed at run time"),
    (mgrid_of_x, (2.0,), "np.mgrid"),
])
def test_index_tricks_without_a_rule_are_refused_at_the_line(fn, args, words):
    with pytest.raises(NoRuleError, match=words) as info:
        adjoint.grad(fn)(*args)
    assert "test_semantics_numpy.py" in str(info.value)


def test_r_with_a_string_directive_is_refused():
    with pytest.raises(NoRuleError, match="string directives"):
        adjoint.grad(r_directive)(X)


# --- 2. np.einsum's sublist form ----------------------------------------------------------------

W22 = np.array([[0.5, -1.0], [2.0, 1.5]])


def einsum_transpose(a):
    return np.sum(np.einsum(a, [0, 1], [1, 0]) * W22)


def einsum_product(a, b):
    return np.sum(np.einsum(a, [0, 1], b, [1, 2], [0, 2]) * W22)


def einsum_implicit(a, b):
    return np.sum(np.einsum(a, [0, 1], b, [1, 2]) ** 2)


def einsum_trace(a):
    return np.einsum(a, [0, 0]) ** 2


def test_einsum_sublist_form():
    a = np.array([[1.0, 2.0], [3.0, 4.0]])
    b = np.array([[0.3, -0.2], [1.1, 0.4]])
    check(einsum_transpose, a)
    check(einsum_product, a, b, wrt=(0, 1))
    check(einsum_implicit, a, b, wrt=(0, 1))
    check(einsum_trace, a)
    check_jvp(einsum_product, a, b, wrt=(0, 1))


# --- 3. std, var and the power family where a formula divides by zero --------------------------


def std_one(x):
    return np.std(x) + np.sum(x)


def var_one(x):
    return np.var(x) + np.sum(x)


def var_one_ddof(x):
    return np.var(x, ddof=1)


def std_constant_rows(x):
    return np.sum(np.std(x, axis=1)) + np.sum(x * x)


@pytest.mark.parametrize("jit", MODES)
def test_std_and_var_of_one_element(jit):
    check(std_one, np.array([1.7]), jit=jit)
    check(var_one, np.array([1.7]), jit=jit)
    # NumPy's var with ddof=1 of one element is nan (0/0); so is its derivative.
    assert np.isnan(var_one_ddof(np.array([1.7])))
    assert np.isnan(adjoint.grad(var_one_ddof, jit=jit)(np.array([1.7]))).all()


def test_std_is_zero_where_std_is_zero():
    # Rows of one element: std is identically 0, so its derivative is exactly 0.
    check(std_constant_rows, np.array([[1.5], [-2.0]]))
    # Constant rows of several: 0, a subgradient, as norm's at 0 (docs/conventions.md).
    g = adjoint.grad(std_constant_rows)(np.full((2, 3), 0.5))
    np.testing.assert_array_equal(g, 2 * np.full((2, 3), 0.5))


def pow_zero(x):
    return x ** 0.0


def pow_zero_int(x):
    return x ** 0


def pow_one(x):
    return x ** 1


def pow_two(x):
    return x ** 2.0


def pow_half(x):
    return x ** 0.5


def pow_variable(x, y):
    return x ** y


def power_array(x):
    return np.sum(np.power(x, 0.0) + x ** 0 + np.power(x, 1.0) + x ** 2)


def math_pow_zero(x):
    return math.pow(x, 0.0)


def math_pow_half(x):
    return math.pow(x, 0.5)


def builtin_pow_zero(x):
    return pow(x, 0.0)


def sqrt_sum(x):
    return np.sum(np.sqrt(x))


def norm_(x):
    return np.linalg.norm(x)


@pytest.mark.parametrize("jit", MODES)
def test_power_family_at_zero(jit):
    # x ** 0 is the constant 1, even at 0: finite differences say 0 (so does JAX).
    for f in (pow_zero, pow_zero_int, pow_one, pow_two, math_pow_zero, builtin_pow_zero):
        assert adjoint.grad(f, jit=jit)(0.0) == pytest.approx(numeric_grad(f, 0.0), abs=1e-9)
    check(power_array, np.array([0.0, 1.5, -2.0]), jit=jit)
    check(pow_variable, 0.0, 0.0, jit=jit)
    # The derivative in the exponent is taken as 0 where the base is 0 (JAX).
    assert adjoint.grad(pow_variable, wrt=1, jit=jit)(0.0, 2.0) == 0.0


@pytest.mark.parametrize("jit", MODES)
def test_infinite_derivatives_at_zero_follow_jax(jit):
    # d sqrt(x)/dx = 1 / (2 sqrt(x)) is +inf at 0 in JAX; adjoint agrees, never an exception.
    assert adjoint.grad(pow_half, jit=jit)(0.0) == math.inf
    assert adjoint.grad(math_pow_half, jit=jit)(0.0) == math.inf
    np.testing.assert_array_equal(adjoint.grad(sqrt_sum, jit=jit)(np.array([0.0, 4.0])),
                                  [math.inf, 0.25])
    # norm at 0: the subgradient 0 (JAX gives nan there; see docs/conventions.md).
    np.testing.assert_array_equal(adjoint.grad(norm_, jit=jit)(np.zeros(3)), np.zeros(3))


def cube(x):
    return x ** 3


def root(x):
    return x ** 0.5


def test_higher_order_of_powers():
    second = adjoint.grad(adjoint.grad(cube))
    assert second(1.5) == pytest.approx(9.0)
    assert adjoint.grad(adjoint.grad(root))(4.0) == pytest.approx(-0.25 * 4.0 ** -1.5)
    check(adjoint.grad(root), 2.0)


def test_constant_exponents_stay_plain_arithmetic():
    code = adjoint.source(adjoint.grad(cube), 1.5)
    assert "pow_dx" not in code and "x ** 2" in code


# --- 4. dtype= makes a result integer (no derivative) or keeps it float ------------------------


def sum_int(x):
    return np.sum(x, dtype=int) + np.sum(x * x)


def mean_int(x):
    return np.mean(x, dtype=np.int64)


def prod_int(x):
    return np.prod(x, dtype=np.int64)


def cumsum_int(x):
    return np.sum(np.cumsum(x, dtype=int))


def cumprod_int(x):
    return np.sum(np.cumprod(x, dtype=int))


def var_int(x):
    return np.var(x, dtype=np.int64)


def trace_int(a):
    return np.trace(a, dtype=int)


def asarray_int(x):
    return np.sum(np.asarray(x, dtype=np.int64))


def array_int(x):
    return np.sum(np.array(x, dtype=int))


def astype_int(x):
    return np.sum(x.astype(int))


def astype_bool(x):
    return np.sum(x.astype(bool) * x)


def full_int(x):
    return np.sum(np.full(3, x[0], dtype=int))


def full_like_int(x):
    return np.sum(np.full_like(np.arange(3), x[1]))


def linspace_int(x):
    return np.sum(np.linspace(x[0], x[2], 5, dtype=int))


def sum_float32(x):
    return np.sum(x * x, dtype=np.float32)


def cumsum_float32(x):
    return np.sum(np.cumsum(x, dtype=np.float32) ** 2)


def asarray_float32(x):
    return np.sum(np.asarray(x, dtype=np.float32) ** 2)


INT_RESULTS = [sum_int, mean_int, prod_int, cumsum_int, cumprod_int, var_int, asarray_int,
               array_int, astype_int, astype_bool, full_int, full_like_int, linspace_int]


@pytest.mark.parametrize("fn", INT_RESULTS, ids=lambda f: f.__name__)
def test_integer_dtype_has_no_derivative(fn):
    # Points away from integers: the integer result is locally constant.
    check(fn, X)


def test_integer_dtype_trace():
    check(trace_int, np.array([[1.3, 2.2], [0.4, 3.6]]))


@pytest.mark.parametrize("fn", [sum_float32, cumsum_float32, asarray_float32],
                         ids=lambda f: f.__name__)
def test_float_dtype_keeps_the_derivative(fn):
    # float32 rounding: a larger step and tolerance, still far from a wrong or zero gradient.
    check(fn, X, eps=1e-3, rtol=1e-3)


def sum_int64(x):
    return np.sum(x, dtype=np.int64) + np.sum(x * x)


def cumsum_int64(x):
    return np.sum(np.cumsum(x, dtype=np.int64))


def astype_int64(x):
    return np.sum(x.astype(np.int64))


# Numba takes NumPy types as dtypes (np.int64), not the builtin int.
@pytest.mark.parametrize("fn", [sum_int64, cumsum_int64, astype_int64, asarray_int],
                         ids=lambda f: f.__name__)
def test_integer_dtype_under_jit(fn):
    check(fn, X, jit=True)


def test_integer_dtype_forward_mode():
    _, slope = adjoint.jvp(cumsum_int)(X, np.ones(3))
    assert slope == 0.0


# --- 5. list literals passed to NumPy functions --------------------------------------------------


def mean_of_list(x):
    return np.mean([x, x + 2])


def sum_of_list(x):
    return np.sum([x, x * 2]) + np.max([x * 2, x ** 2])


def maximum_of_list(x):
    return np.sum(np.maximum([x, 2 * x], 1.0))


def dot_of_list(x, y):
    return np.dot([x[0], x[1] * 2], y[1:])


def std_of_list(x):
    return np.std([x[0], x[1], 3.0])


@pytest.mark.parametrize("fn, wrt", [(mean_of_list, 0), (sum_of_list, 0),
                                     (maximum_of_list, 0), (dot_of_list, (0, 1)),
                                     (std_of_list, 0)], ids=lambda v: getattr(v, "__name__", ""))
def test_list_literals_are_arrays(fn, wrt):
    args = (X, Y) if wrt == (0, 1) else (X,)
    check(fn, *args, wrt=wrt)
    check_jvp(fn, *args, wrt=wrt)


# --- 6. empty and size-1 inputs; products with zeros ---------------------------------------------


def diff_sum(x):
    return np.sum(np.diff(x) ** 2) + np.sum(x)


def diff_twice(x):
    return np.sum(np.diff(x, 2) ** 2) + np.sum(x)


def sum_empty(x):
    return np.sum(x) + 1.0


def prod_(x):
    return np.prod(x)


def cumprod_(x):
    return np.sum(np.cumprod(x) * np.arange(1.0, np.size(x) + 1.0))


@pytest.mark.parametrize("jit", MODES)
def test_empty_and_size_one(jit):
    check(diff_sum, np.array([1.7]), jit=jit)
    check(diff_twice, np.array([1.7, 0.2]), jit=jit)
    check(diff_twice, np.array([1.7, 0.2, -0.5]), jit=jit)
    assert adjoint.grad(sum_empty, jit=jit)(np.zeros(0)).shape == (0,)


def diff_axis0(x):
    return np.sum(np.diff(x, axis=0) ** 2) + np.sum(x)


def test_diff_empty_along_an_axis():
    check(diff_axis0, np.array([[1.0, 2.0, 3.0]]))


@pytest.mark.parametrize("jit", MODES)
@pytest.mark.parametrize("x", [[0.0, 2.0, 3.0], [2.0, 0.0, 0.0], [0.0, 0.0, 3.0],
                               [0.0, 0.0, 0.0], [1.5]])
def test_products_with_zeros(x, jit):
    x = np.array(x)
    check(prod_, x, jit=jit)
    check(cumprod_, x, jit=jit)


# --- what to do instead of a refusal is in the message -------------------------------------------


def test_refusals_are_adjoint_errors():
    assert issubclass(NoRuleError, AdjointError)


# --- 7. the audit: repeated indices, crossed bounds, float32 under jit ----------------------------


def write_repeated_list(x):
    y = np.zeros(3)
    y[[0, 0, 1]] = x * np.array([1.0, 2.0, 3.0])
    return np.sum(y * np.arange(1.0, 4.0))


def add_repeated_list(x):
    y = np.zeros(3)
    y[[0, 0, 1]] += x
    return np.sum(y * np.arange(1.0, 4.0))


def write_repeated_columns(a):
    b = a * 1.0
    cols = np.array([0, 0, 2])
    b[:, cols] = a * 3.0
    return np.sum(b * np.arange(6.0).reshape(2, 3))


def write_repeated_in_row(a):
    b = a * 1.0
    cols = np.array([2, 2, 1])
    b[1, cols] = a[0] * 2.0
    return np.sum(b * np.arange(6.0).reshape(2, 3))


def test_repeated_list_indices_credit_the_last_write():
    # NumPy keeps the last of repeated writes: x[0]'s value is overwritten by x[1]'s.
    check(write_repeated_list, X)
    check(add_repeated_list, X)


@pytest.mark.parametrize("jit", MODES)
def test_repeated_indices_in_a_tuple_index(jit):
    a = np.array([[1.3, -0.4, 2.2], [0.5, 1.7, -2.1]])
    check(write_repeated_columns, a, jit=jit)
    check(write_repeated_in_row, a, jit=jit)


def clip_by(a, lo, hi):
    return np.sum(np.clip(a, lo, hi) * np.array([1.0, 2.0, 3.0]))


@pytest.mark.parametrize("jit", MODES)
def test_clip_with_crossed_bounds(jit):
    # lo > hi: NumPy's clip returns hi everywhere; lo gets nothing.
    check(clip_by, X, 1.5, -0.5, wrt=(0, 1, 2), jit=jit)
    check(clip_by, X, np.array([0.0, 3.0, -1.0]), np.array([1.0, 2.0, 2.0]), wrt=(0, 1, 2),
          jit=jit)


def sin_weighted(x):
    return np.sum(np.sin(x) * x)


def outer_sum(x):
    return np.sum(np.outer(x, x) ** 2)


def matmul_sum(a, b):
    return np.sum((a @ b) ** 2)


def solve_sum(a, b):
    return np.sum(np.linalg.solve(a, b) ** 2)


@pytest.mark.parametrize("jit", MODES)
def test_float32_inputs(jit):
    # The primal runs in float32; the gradient is float64. Checked against float64 differences
    # of the same function with the float32 rounding's tolerance.
    x = np.array([1.0, 2.0, 3.0], dtype=np.float32)
    m = np.array([[2.0, 0.5], [0.3, 1.5]], dtype=np.float32)
    big = np.linspace(0.1, 1.0, 5000).astype(np.float32)  # NumPy's kernels under jit
    cases = [(sin_weighted, (x,), 0), (sin_weighted, (big[:50],), 0), (outer_sum, (x,), 0),
             (matmul_sum, (m, m), (0, 1)), (solve_sum, (m, x[:2]), (0, 1))]
    for f, args, wrt in cases:
        got = adjoint.grad(f, wrt=wrt, jit=jit)(*args)
        want = numeric_grad(f, *[a.astype(np.float64) for a in args], wrt=wrt)
        for g, n in zip(got if isinstance(wrt, tuple) else (got,),
                        want if isinstance(wrt, tuple) else (want,)):
            np.testing.assert_allclose(g, n, rtol=1e-4, atol=1e-4)
    g = adjoint.grad(sin_weighted, jit=jit)(big)
    np.testing.assert_allclose(g, np.sin(big) + big * np.cos(big), rtol=1e-5, atol=1e-6)


# --- found by the peer cases --------------------------------------------------------------------


def copy_then_overwrite(x):
    b = np.vstack((x, x * 2.0))
    tmp = b[0].copy()
    b[0] = tmp * 5.0
    return np.sum(tmp * 3.0) + np.sum(b)


@pytest.mark.parametrize("jit", MODES)
def test_tangent_of_a_copy_is_not_a_view(jit):
    # tmp's tangent must not change when b[0] (whose tangent tmp's was read from) is written.
    t = np.array([1.0, -0.5, 2.0])
    _, slope = adjoint.jvp(copy_then_overwrite, jit=jit)(X, t)
    h = 1e-6
    want = (copy_then_overwrite(X + h * t) - copy_then_overwrite(X - h * t)) / (2 * h)
    assert slope == pytest.approx(want, rel=1e-7)


def frobenius(a):
    return np.linalg.norm(a, "fro") + np.linalg.norm(a, ord="fro") ** 2


@pytest.mark.parametrize("jit", MODES)
def test_frobenius_norm_by_name(jit):
    check(frobenius, np.arange(12.0).reshape(3, 4) * 0.1 - 0.3, jit=jit)
