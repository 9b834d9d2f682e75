"""Rules for NumPy: ufuncs, reductions, linear algebra, shape functions, creation, methods.

Takes nothing; importing it registers, in :mod:`adjoint.rules.registry`, one rule per NumPy
function adjoint differentiates, and routes array methods (``x.sum(axis=0)``, ``x.T``) to them.
A NumPy function that is not registered here has no rule, so the compiler refuses it with a
located error that names it: nothing NumPy offers is ever differentiated as if it were constant.

Guarantees:

- Elementwise functions broadcast exactly: their reverse contributions are summed back to each
  argument's shape (``broadcast=True``), so scalar ⊗ array, row + matrix, ``(n, 1) * (1, m)`` and
  0-d arrays all get gradients of their own shape.
- Reductions accept ``axis`` as None, an int (negative too) or a tuple, and ``keepdims``; the
  adjoint is broadcast back over the reduced axes by :func:`~adjoint.runtime.unreduce`, which
  accepts a result with or without the kept axes.
- Every template body runs unchanged in CPython and under ``numba.njit``: whatever Numba's NumPy
  cannot do (``keepdims``, ``axis`` tuples, tie sharing, unbroadcasting, placing a diagonal) is a
  helper of :mod:`adjoint.runtime`, which has a Numba implementation in
  :mod:`adjoint.runtime_numba`. Numba's ``@``, ``np.dot`` and ``np.linalg`` need SciPy at run time
  (SciPy is in the ``test`` extra; Python mode needs only NumPy).
- A forward (jvp) template is a sum of terms, each linear in one argument's tangent, so the
  forward transformer can drop the term of an argument that is constant or inactive.

Derivative conventions at kinks (tested, and described in ``docs/conventions.md``):

- ``abs``/``absolute``/``fabs``: ``sign(x)``, so 0 at ``x == 0`` (JAX, PyTorch).
- ``maximum``/``minimum``/``fmax``/``fmin``: the selected argument gets the gradient; at a tie
  each gets half (JAX, PyTorch). So ``np.maximum(x, 0)`` (relu) has derivative ½ at 0.
- ``max``/``min``/``amax``/``amin`` reductions and ``norm(ord=inf)``: the k tied extremes share
  the gradient equally, 1/k each (JAX).
- ``clip``: derivative 1 in ``a`` on the closed interval ``[a_min, a_max]`` (PyTorch), and the
  bounds get the gradient only strictly outside it.
- ``sqrt`` at 0: ``1 / (2 sqrt(0)) = inf``, as in JAX, and so ``x ** c`` for ``0 < c < 1``;
  ``x ** 0`` has derivative 0 everywhere, 0 included (JAX; :func:`~adjoint.runtime.pow_dx`).
- ``np.linalg.norm`` at a zero vector and ``std`` where it is 0 (constant data, one element):
  derivative 0, a subgradient (JAX gives nan for norm). ``var``/``std`` with ``n <= ddof``: nan.
- ``dtype=`` of an integer or boolean type makes the result piecewise constant: derivative 0
  (:func:`~adjoint.runtime.astype_vjp`); a float type keeps it.
- ``sign``, ``floor``, ``ceil``, ``round``, ``rint``, ``trunc``, ``fix``, ``heaviside``,
  ``floor_divide``, comparisons, ``argmax``/``argmin``/``argsort``: zero derivative.
- ``np.linalg.cholesky`` reads one triangle of its argument, so its gradient lives on that
  triangle (exactly what finite differences of NumPy's function give); symmetrize the argument
  first (``0.5 * (a + a.T)``) for the symmetric gradient JAX and PyTorch report.
"""

import numpy as np

from . import registry
from .registry import elementwise, jvp, nondiff, register_attribute, register_method, vjp

# ---------------------------------------------------------------------------------------------
# Elementwise arithmetic (np.add is what `+` does on arrays; users also call it by name).


@elementwise(np.add, broadcast=True)
def add(z, x1, x2):
    """d(x1 + x2) = dx1 + dx2"""
    return 1.0, 1.0


@elementwise(np.subtract, broadcast=True)
def subtract(z, x1, x2):
    """d(x1 - x2) = dx1 - dx2"""
    return 1.0, -1.0


@elementwise(np.multiply, broadcast=True)
def multiply(z, x1, x2):
    """d(x1 x2) = x2 dx1 + x1 dx2"""
    return x2, x1


@elementwise(np.divide, broadcast=True)
def divide(z, x1, x2):
    """d(x1 / x2) = dx1 / x2 - (x1 / x2²) dx2"""
    return 1.0 / x2, -z / x2


@elementwise(np.negative, broadcast=True)
def negative(z, x):
    """d(-x) = -dx"""
    return -1.0


@elementwise(np.positive, broadcast=True)
def positive(z, x):
    """d(+x) = dx"""
    return 1.0


@elementwise(np.power, np.float_power, broadcast=True)
def power(z, x1, x2):
    """d x1^x2 = x2 x1^(x2-1) dx1 + x1^x2 log(x1) dx2   (dx1 term 0 where x2 == 0; dx2 term 0
    where x1 <= 0)"""
    return pow_dx(x1, x2), z * safe_log(x1)


@elementwise(np.square, broadcast=True)
def square(z, x):
    """d x² = 2x dx"""
    return 2.0 * x


@elementwise(np.sqrt, broadcast=True)
def sqrt(z, x):
    """d sqrt(x) = dx / (2 sqrt(x))   (inf at 0)"""
    return 0.5 / z


@elementwise(np.cbrt, broadcast=True)
def cbrt(z, x):
    """d cbrt(x) = dx / (3 cbrt(x)²)"""
    return 1.0 / (3.0 * z * z)


@elementwise(np.reciprocal, broadcast=True)
def reciprocal(z, x):
    """d (1/x) = -dx / x²"""
    return -z * z


@elementwise(np.absolute, np.fabs, broadcast=True)
def absolute(z, x):
    """d |x| = sign(x) dx   (0 at x == 0)"""
    return np.sign(x)


@elementwise(np.mod, broadcast=True)
def mod(z, x1, x2):
    """d mod(x1, x2) = dx1 - floor(x1 / x2) dx2   (mod = x1 - floor(x1/x2) x2)"""
    return 1.0, -np.floor_divide(x1, x2)


@elementwise(np.fmod, broadcast=True)
def fmod(z, x1, x2):
    """d fmod(x1, x2) = dx1 - trunc(x1 / x2) dx2   (fmod = x1 - trunc(x1/x2) x2)"""
    return 1.0, -np.trunc(x1 / x2)


@elementwise(np.hypot, broadcast=True)
def hypot(z, x1, x2):
    """d hypot(x1, x2) = (x1 dx1 + x2 dx2) / hypot(x1, x2)"""
    return x1 / z, x2 / z


# --- exponentials and logarithms -------------------------------------------------------------


@elementwise(np.exp, broadcast=True)
def exp(z, x):
    """d exp(x) = exp(x) dx"""
    return z


@elementwise(np.exp2, broadcast=True)
def exp2(z, x):
    """d 2^x = 2^x ln 2 dx"""
    return z * np.log(2.0)


@elementwise(np.expm1, broadcast=True)
def expm1(z, x):
    """d expm1(x) = exp(x) dx"""
    return z + 1.0


@elementwise(np.log, broadcast=True)
def log(z, x):
    """d log(x) = dx / x"""
    return 1.0 / x


@elementwise(np.log2, broadcast=True)
def log2(z, x):
    """d log2(x) = dx / (x ln 2)"""
    return 1.0 / (x * np.log(2.0))


@elementwise(np.log10, broadcast=True)
def log10(z, x):
    """d log10(x) = dx / (x ln 10)"""
    return 1.0 / (x * np.log(10.0))


@elementwise(np.log1p, broadcast=True)
def log1p(z, x):
    """d log1p(x) = dx / (1 + x)"""
    return 1.0 / (1.0 + x)


@elementwise(np.logaddexp, broadcast=True)
def logaddexp(z, x1, x2):
    """d log(e^x1 + e^x2) = e^(x1 - z) dx1 + e^(x2 - z) dx2   (softmax weights, overflow-free)"""
    return np.exp(x1 - z), np.exp(x2 - z)


@elementwise(np.logaddexp2, broadcast=True)
def logaddexp2(z, x1, x2):
    """d log2(2^x1 + 2^x2) = 2^(x1 - z) dx1 + 2^(x2 - z) dx2"""
    return np.exp2(x1 - z), np.exp2(x2 - z)


# --- trigonometric and hyperbolic ------------------------------------------------------------


@elementwise(np.sin, broadcast=True)
def sin(z, x):
    """d sin(x) = cos(x) dx"""
    return np.cos(x)


@elementwise(np.cos, broadcast=True)
def cos(z, x):
    """d cos(x) = -sin(x) dx"""
    return -np.sin(x)


@elementwise(np.tan, broadcast=True)
def tan(z, x):
    """d tan(x) = (1 + tan²(x)) dx"""
    return 1.0 + z * z


@elementwise(np.arcsin, broadcast=True)
def arcsin(z, x):
    """d arcsin(x) = dx / sqrt(1 - x²)"""
    return 1.0 / np.sqrt(1.0 - x * x)


@elementwise(np.arccos, broadcast=True)
def arccos(z, x):
    """d arccos(x) = -dx / sqrt(1 - x²)"""
    return -1.0 / np.sqrt(1.0 - x * x)


@elementwise(np.arctan, broadcast=True)
def arctan(z, x):
    """d arctan(x) = dx / (1 + x²)"""
    return 1.0 / (1.0 + x * x)


@elementwise(np.arctan2, broadcast=True)
def arctan2(z, x1, x2):
    """d arctan2(x1, x2) = (x2 dx1 - x1 dx2) / (x1² + x2²)"""
    r = x1 * x1 + x2 * x2
    return x2 / r, -x1 / r


@elementwise(np.deg2rad, np.radians, broadcast=True)
def deg2rad(z, x):
    """d radians(x) = (π / 180) dx"""
    return np.pi / 180.0


@elementwise(np.rad2deg, np.degrees, broadcast=True)
def rad2deg(z, x):
    """d degrees(x) = (180 / π) dx"""
    return 180.0 / np.pi


@elementwise(np.sinh, broadcast=True)
def sinh(z, x):
    """d sinh(x) = cosh(x) dx"""
    return np.cosh(x)


@elementwise(np.cosh, broadcast=True)
def cosh(z, x):
    """d cosh(x) = sinh(x) dx"""
    return np.sinh(x)


@elementwise(np.tanh, broadcast=True)
def tanh(z, x):
    """d tanh(x) = (1 - tanh²(x)) dx"""
    return 1.0 - z * z


@elementwise(np.arcsinh, broadcast=True)
def arcsinh(z, x):
    """d arcsinh(x) = dx / sqrt(x² + 1)"""
    return 1.0 / np.sqrt(x * x + 1.0)


@elementwise(np.arccosh, broadcast=True)
def arccosh(z, x):
    """d arccosh(x) = dx / sqrt(x² - 1)   (x > 1)"""
    # sqrt(x - 1) sqrt(x + 1) has no cancellation near x = 1, unlike sqrt(x² - 1).
    return 1.0 / (np.sqrt(x - 1.0) * np.sqrt(x + 1.0))


@elementwise(np.arctanh, broadcast=True)
def arctanh(z, x):
    """d arctanh(x) = dx / (1 - x²)"""
    return 1.0 / (1.0 - x * x)


# --- selection: maximum, minimum, clip, where -------------------------------------------------


@elementwise(np.maximum, broadcast=True)
def maximum(z, x1, x2):
    """d maximum(x1, x2) = [x1 > x2] dx1 + [x2 > x1] dx2, split ½ and ½ at a tie"""
    tie = 0.5 * (x1 == x2)
    return (x1 > x2) + tie, (x2 > x1) + tie


@elementwise(np.minimum, broadcast=True)
def minimum(z, x1, x2):
    """d minimum(x1, x2) = [x1 < x2] dx1 + [x2 < x1] dx2, split ½ and ½ at a tie"""
    tie = 0.5 * (x1 == x2)
    return (x1 < x2) + tie, (x2 < x1) + tie


@elementwise(np.fmax, broadcast=True)
def fmax(z, x1, x2):
    """d fmax(x1, x2): as maximum, but a nan argument is ignored (the other one is selected)"""
    tie = 0.5 * (x1 == x2)
    # x == x is False exactly where x is nan.
    return ((x1 > x2) + tie + np.isnan(x2) * (x1 == x1),
            (x2 > x1) + tie + np.isnan(x1) * (x2 == x2))


@elementwise(np.fmin, broadcast=True)
def fmin(z, x1, x2):
    """d fmin(x1, x2): as minimum, but a nan argument is ignored (the other one is selected)"""
    tie = 0.5 * (x1 == x2)
    return ((x1 < x2) + tie + np.isnan(x2) * (x1 == x1),
            (x2 < x1) + tie + np.isnan(x1) * (x2 == x2))


@elementwise(np.clip, broadcast=True)
def clip(z, a, a_min=None, a_max=None):
    """d clip(a, lo, hi) = [lo <= a <= hi] da + [a < lo] dlo + [a > hi] dhi   (crossed bounds,
    lo > hi: the result is hi)"""
    return (clip_inside(a, a_min, a_max), clip_below(a, a_min, a_max),
            clip_above(a, a_min, a_max))


@elementwise(np.where, broadcast=True)
def where(z, condition, x=None, y=None):
    """d where(c, x, y) = [c] dx + [not c] dy   (c carries no derivative; np.where(c) alone
    gives indices, which carry none either)"""
    chosen = (condition != 0) * 1.0
    return 0.0, chosen, 1.0 - chosen


nondiff(np.sign, np.floor, np.ceil, np.round, np.around, np.rint, np.trunc, np.fix,
        np.heaviside, np.floor_divide,
        doc="piecewise constant: zero derivative, the result is inactive")
nondiff(np.greater, np.greater_equal, np.less, np.less_equal, np.equal, np.not_equal,
        np.logical_and, np.logical_or, np.logical_not, np.logical_xor, np.isnan, np.isinf,
        np.isfinite, np.signbit, np.isclose, np.allclose, np.array_equal, np.any, np.all,
        np.count_nonzero, np.nonzero, np.flatnonzero, np.argmax, np.argmin, np.argsort,
        np.searchsorted, np.shape, np.ndim, np.size,
        doc="boolean, integer or index valued: no derivative, the result is inactive")
nondiff(np.zeros, np.ones, np.empty, np.zeros_like, np.ones_like, np.empty_like, np.eye,
        np.identity, doc="a new array whose values do not depend on the arguments' values")

# ---------------------------------------------------------------------------------------------
# Reductions. Reverse: unreduce(g) * weights; forward: reduce_sum(t * weights). The parameter
# lists follow NumPy's positional order so that positional calls bind as NumPy binds them.


@vjp(np.sum)
def sum_vjp(z, a, axis=None, dtype=None, out=None, keepdims=False):
    """d sum(a) = sum(da)   (0 for an integer or boolean dtype)"""
    d[a] = astype_vjp(unreduce(d[z], a, axis), dtype)


@jvp(np.sum)
def sum_jvp(z, a, axis=None, dtype=None, out=None, keepdims=False):
    """d sum(a) = sum(da)"""
    d[z] = astype_vjp(reduce_sum(d[a], axis, keepdims), dtype)


@vjp(np.mean)
def mean_vjp(z, a, axis=None, dtype=None, out=None, keepdims=False):
    """d mean(a) = sum(da) / n"""
    d[a] = astype_vjp(unreduce(d[z], a, axis) / reduced_count(a, axis), dtype)


@jvp(np.mean)
def mean_jvp(z, a, axis=None, dtype=None, out=None, keepdims=False):
    """d mean(a) = sum(da) / n"""
    d[z] = astype_vjp(reduce_sum(d[a], axis, keepdims) / reduced_count(a, axis), dtype)


@vjp(np.prod)
def prod_vjp(z, a, axis=None, dtype=None, out=None, keepdims=False):
    """d prod(a) = Σ_i (Π_{j≠i} a_j) da_i   (exact where some a_j == 0)"""
    d[a] = astype_vjp(unreduce(d[z], a, axis) * prod_weights(a, axis), dtype)


@jvp(np.prod)
def prod_jvp(z, a, axis=None, dtype=None, out=None, keepdims=False):
    """d prod(a) = Σ_i (Π_{j≠i} a_j) da_i"""
    d[z] = astype_vjp(reduce_sum(d[a] * prod_weights(a, axis), axis, keepdims), dtype)


@vjp(np.max, np.amax, np.min, np.amin)
def extreme_vjp(z, a, axis=None, out=None, keepdims=False):
    """d max(a) = da at the maximum; k tied maxima share it, 1/k each"""
    d[a] = unreduce(d[z], a, axis) * extreme_weights(a, z, axis)


@jvp(np.max, np.amax, np.min, np.amin)
def extreme_jvp(z, a, axis=None, out=None, keepdims=False):
    """d max(a) = the mean of da over the tied maxima"""
    d[z] = reduce_sum(d[a] * extreme_weights(a, z, axis), axis, keepdims)


@vjp(np.var)
def var_vjp(z, a, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    """d var(a) = 2 Σ (a - mean(a)) da / (n - ddof)   (nan where n <= ddof, as var itself)"""
    d[a] = astype_vjp(unreduce(d[z], a, axis) * centered(a, axis) * (
        2.0 / ddof_count(a, axis, ddof)), dtype)


@jvp(np.var)
def var_jvp(z, a, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    """d var(a) = 2 Σ (a - mean(a)) da / (n - ddof)"""
    d[z] = astype_vjp(reduce_sum(d[a] * centered(a, axis), axis, keepdims) * (
        2.0 / ddof_count(a, axis, ddof)), dtype)


@vjp(np.std)
def std_vjp(z, a, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    """d std(a) = Σ (a - mean(a)) da / ((n - ddof) std(a))   (0 where std(a) == 0)"""
    d[a] = astype_vjp(unreduce(d[z] * nonzero_reciprocal(z), a, axis) * centered(a, axis) / (
        ddof_count(a, axis, ddof)), dtype)


@jvp(np.std)
def std_jvp(z, a, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    """d std(a) = Σ (a - mean(a)) da / ((n - ddof) std(a))"""
    d[z] = astype_vjp(reduce_sum(d[a] * centered(a, axis), axis, keepdims) * (
        nonzero_reciprocal(z) / ddof_count(a, axis, ddof)), dtype)


@vjp(np.linalg.norm)
def norm_vjp(z, x, ord=None, axis=None, keepdims=False):
    """d ‖x‖ = Σ (∂‖x‖/∂x) dx: x/‖x‖ (2, 'fro'), sign(x) (1), sign on the extremes (±inf)"""
    d[x] = unreduce(d[z], x, axis) * norm_weights(x, z, ord, axis)


@jvp(np.linalg.norm)
def norm_jvp(z, x, ord=None, axis=None, keepdims=False):
    """d ‖x‖ = Σ (∂‖x‖/∂x) dx"""
    d[z] = reduce_sum(d[x] * norm_weights(x, z, ord, axis), axis, keepdims)


@vjp(np.cumsum)
def cumsum_vjp_rule(z, a, axis=None, dtype=None):
    """d cumsum(a) = cumsum(da); its adjoint is the reversed cumulative sum"""
    d[a] = astype_vjp(cumsum_vjp(d[z], a, axis), dtype)


@jvp(np.cumsum)
def cumsum_jvp_rule(z, a, axis=None, dtype=None):
    """d cumsum(a) = cumsum(da)"""
    d[z] = astype_vjp(cumsum_axis(d[a], axis), dtype)


@vjp(np.cumprod)
def cumprod_vjp_rule(z, a, axis=None, dtype=None):
    """d cumprod(a)_i = Σ_{j<=i} (Π_{k<=i, k≠j} a_k) da_j"""
    d[a] = astype_vjp(cumprod_vjp(d[z], a, axis), dtype)


@jvp(np.cumprod)
def cumprod_jvp_rule(z, a, axis=None, dtype=None):
    """d cumprod(a)_i = d cumprod(a)_{i-1} a_i + cumprod(a)_{i-1} da_i"""
    d[z] = astype_vjp(cumprod_jvp(d[a], a, z, axis), dtype)


@vjp(np.diff)
def diff_vjp_rule(z, a, n=1, axis=-1):
    """d diff(a) = diff(da)   (no prepend/append)"""
    d[a] = diff_vjp(d[z], a, n, axis)


@jvp(np.diff)
def diff_jvp_rule(z, a, n=1, axis=-1):
    """d diff(a) = diff(da)"""
    d[z] = diff_axis(d[a], n, axis)


@vjp(np.sort)
def sort_vjp_rule(z, a, axis=-1, kind=None, order=None):
    """d sort(a) = da permuted as a's values are (ties keep their order: a stable sort)"""
    d[a] = sort_vjp(d[z], a, axis)


@jvp(np.sort)
def sort_jvp_rule(z, a, axis=-1, kind=None, order=None):
    """d sort(a) = da permuted as a's values are"""
    d[z] = sort_jvp(d[a], a, axis)


# ---------------------------------------------------------------------------------------------
# Linear algebra. Products are bilinear: each argument's adjoint is the product of the output's
# adjoint with the other argument, arranged back into that argument's axes.


@vjp(np.matmul)
def matmul_vjp(z, x1, x2):
    """d(x1 @ x2) = dx1 @ x2 + x1 @ dx2"""
    d[x1] = matmul_vjp_a(d[z], x1, x2)
    d[x2] = matmul_vjp_b(d[z], x1, x2)


@jvp(np.matmul)
def matmul_jvp(z, x1, x2):
    """d(x1 @ x2) = dx1 @ x2 + x1 @ dx2"""
    d[z] = d[x1] @ x2 + x1 @ d[x2]


@vjp(np.dot)
def dot_vjp(z, a, b):
    """d dot(a, b) = dot(da, b) + dot(a, db)"""
    d[a] = dot_vjp_a(d[z], a, b)
    d[b] = dot_vjp_b(d[z], a, b)


@jvp(np.dot)
def dot_jvp(z, a, b):
    """d dot(a, b) = dot(da, b) + dot(a, db)"""
    d[z] = np.dot(d[a], b) + np.dot(a, d[b])


@vjp(np.inner)
def inner_vjp(z, a, b):
    """d inner(a, b) = inner(da, b) + inner(a, db)"""
    d[a] = inner_vjp_a(d[z], a, b)
    d[b] = inner_vjp_b(d[z], a, b)


@jvp(np.inner)
def inner_jvp(z, a, b):
    """d inner(a, b) = inner(da, b) + inner(a, db)"""
    d[z] = np.inner(d[a], b) + np.inner(a, d[b])


@vjp(np.outer)
def outer_vjp(z, a, b):
    """d outer(a, b) = outer(da, b) + outer(a, db)   (both flattened)"""
    d[a] = reshape_like(np.dot(d[z], as_float(np.ravel(b))), a)
    d[b] = reshape_like(np.dot(as_float(np.ravel(a)), d[z]), b)


@jvp(np.outer)
def outer_jvp(z, a, b):
    """d outer(a, b) = outer(da, b) + outer(a, db)"""
    d[z] = np.outer(d[a], b) + np.outer(a, d[b])


@vjp(np.vdot)
def vdot_vjp(z, a, b):
    """d vdot(a, b) = vdot(da, b) + vdot(a, db)   (real arrays, both flattened)"""
    d[a] = reshape_like(d[z] * np.ravel(b), a)
    d[b] = reshape_like(d[z] * np.ravel(a), b)


@jvp(np.vdot)
def vdot_jvp(z, a, b):
    """d vdot(a, b) = vdot(da, b) + vdot(a, db)"""
    d[z] = np.vdot(d[a], b) + np.vdot(a, d[b])


@vjp(np.tensordot)
def tensordot_vjp(z, a, b, axes=2):
    """d tensordot(a, b) = tensordot(da, b) + tensordot(a, db)"""
    d[a] = tensordot_vjp_a(d[z], a, b, axes)
    d[b] = tensordot_vjp_b(d[z], a, b, axes)


@jvp(np.tensordot)
def tensordot_jvp(z, a, b, axes=2):
    """d tensordot(a, b) = tensordot(da, b) + tensordot(a, db)"""
    d[z] = np.tensordot(d[a], b, axes) + np.tensordot(a, d[b], axes)


@vjp(np.einsum)
def einsum_vjp_rule(z, subscripts, op0, op1=None, op2=None, op3=None, op4=None, op5=None,
                    op6=None, op7=None):
    """d einsum(s, a, b, ...) = einsum(s, da, b, ...) + einsum(s, a, db, ...) + ...   (1-8
    operands, letters only: no '...'; or the sublist form einsum(a, [0, 1], b, [1, 2]))"""
    # In the sublist form the operands are the arguments subscripts, op1, op3, ...
    d[subscripts] = einsum_vjp(d[z], 0, subscripts, op0, op1, op2, op3, op4, op5, op6, op7)
    d[op0] = einsum_vjp(d[z], 1, subscripts, op0, op1, op2, op3, op4, op5, op6, op7)
    d[op1] = einsum_vjp(d[z], 2, subscripts, op0, op1, op2, op3, op4, op5, op6, op7)
    d[op2] = einsum_vjp(d[z], 3, subscripts, op0, op1, op2, op3, op4, op5, op6, op7)
    d[op3] = einsum_vjp(d[z], 4, subscripts, op0, op1, op2, op3, op4, op5, op6, op7)
    d[op4] = einsum_vjp(d[z], 5, subscripts, op0, op1, op2, op3, op4, op5, op6, op7)
    d[op5] = einsum_vjp(d[z], 6, subscripts, op0, op1, op2, op3, op4, op5, op6, op7)
    d[op6] = einsum_vjp(d[z], 7, subscripts, op0, op1, op2, op3, op4, op5, op6, op7)
    d[op7] = einsum_vjp(d[z], 8, subscripts, op0, op1, op2, op3, op4, op5, op6, op7)


@jvp(np.einsum)
def einsum_jvp_rule(z, subscripts, op0, op1=None, op2=None, op3=None, op4=None, op5=None,
                    op6=None, op7=None):
    """d einsum(s, a, b, ...) = einsum(s, da, b, ...) + einsum(s, a, db, ...) + ..."""
    d[z] = (einsum_jvp(d[subscripts], 0, subscripts, op0, op1, op2, op3, op4, op5, op6, op7)
            + einsum_jvp(d[op0], 1, subscripts, op0, op1, op2, op3, op4, op5, op6, op7)
            + einsum_jvp(d[op1], 2, subscripts, op0, op1, op2, op3, op4, op5, op6, op7)
            + einsum_jvp(d[op2], 3, subscripts, op0, op1, op2, op3, op4, op5, op6, op7)
            + einsum_jvp(d[op3], 4, subscripts, op0, op1, op2, op3, op4, op5, op6, op7)
            + einsum_jvp(d[op4], 5, subscripts, op0, op1, op2, op3, op4, op5, op6, op7)
            + einsum_jvp(d[op5], 6, subscripts, op0, op1, op2, op3, op4, op5, op6, op7)
            + einsum_jvp(d[op6], 7, subscripts, op0, op1, op2, op3, op4, op5, op6, op7)
            + einsum_jvp(d[op7], 8, subscripts, op0, op1, op2, op3, op4, op5, op6, op7))


@vjp(np.trace)
def trace_vjp_rule(z, a, offset=0, axis1=0, axis2=1, dtype=None):
    """d trace(a) = trace(da)"""
    d[a] = astype_vjp(trace_vjp(d[z], a, offset, axis1, axis2), dtype)


@jvp(np.trace)
def trace_jvp_rule(z, a, offset=0, axis1=0, axis2=1, dtype=None):
    """d trace(a) = trace(da)"""
    d[z] = astype_vjp(trace_axes(d[a], offset, axis1, axis2), dtype)


@vjp(np.diagonal)
def diagonal_vjp_rule(z, a, offset=0, axis1=0, axis2=1):
    """d diagonal(a) = diagonal(da)"""
    d[a] = diagonal_vjp(d[z], a, offset, axis1, axis2)


@jvp(np.diagonal)
def diagonal_jvp_rule(z, a, offset=0, axis1=0, axis2=1):
    """d diagonal(a) = diagonal(da)"""
    d[z] = np.diagonal(d[a], offset, axis1, axis2).copy()


@vjp(np.diag)
def diag_vjp_rule(z, v, k=0):
    """d diag(v, k) = diag(dv, k)"""
    d[v] = diag_vjp(d[z], v, k)


@jvp(np.diag)
def diag_jvp_rule(z, v, k=0):
    """d diag(v, k) = diag(dv, k)"""
    d[z] = np.diag(d[v], k)


@vjp(np.tril)
def tril_vjp(z, m, k=0):
    """d tril(m) = tril(dm)"""
    d[m] = np.tril(d[z], k)


@jvp(np.tril)
def tril_jvp(z, m, k=0):
    """d tril(m) = tril(dm)"""
    d[z] = np.tril(d[m], k)


@vjp(np.triu)
def triu_vjp(z, m, k=0):
    """d triu(m) = triu(dm)"""
    d[m] = np.triu(d[z], k)


@jvp(np.triu)
def triu_jvp(z, m, k=0):
    """d triu(m) = triu(dm)"""
    d[z] = np.triu(d[m], k)


@vjp(np.linalg.solve)
def solve_vjp(z, a, b):
    """x = solve(a, b): dx = solve(a, db - da x); ā = -solve(aᵀ, x̄) xᵀ, b̄ = solve(aᵀ, x̄)"""
    d[a] = solve_vjp_a(d[z], a, b, z)
    d[b] = solve_vjp_b(d[z], a, b)


@jvp(np.linalg.solve)
def solve_jvp(z, a, b):
    """x = solve(a, b): dx = solve(a, db) - solve(a, da x)"""
    d[z] = np.linalg.solve(a, d[b]) + solve_jvp_a(d[a], a, b, z)


@vjp(np.linalg.inv)
def inv_vjp(z, a):
    """d inv(a) = -inv(a) da inv(a); ā = -inv(a)ᵀ z̄ inv(a)ᵀ"""
    d[a] = -(mT(z) @ d[z] @ mT(z))


@jvp(np.linalg.inv)
def inv_jvp(z, a):
    """d inv(a) = -inv(a) da inv(a)"""
    d[z] = -(z @ d[a] @ z)


@vjp(np.linalg.det)
def det_vjp_rule(z, a):
    """d det(a) = det(a) trace(inv(a) da); ā = z̄ det(a) inv(a)ᵀ   (a invertible)"""
    d[a] = det_vjp(d[z], a, z)


@jvp(np.linalg.det)
def det_jvp_rule(z, a):
    """d det(a) = det(a) trace(inv(a) da)"""
    d[z] = det_jvp(d[a], a, z)


@vjp(np.linalg.slogdet)
def slogdet_vjp(z, a):
    """(sign, log|det a|) = slogdet(a): d log|det a| = trace(inv(a) da); the sign is constant"""
    d[a] = logdet_vjp(d[z][1], a)


@jvp(np.linalg.slogdet)
def slogdet_jvp(z, a):
    """d (sign, log|det a|) = (0, trace(inv(a) da))"""
    d[z] = (zeros_like(z[0]), logdet_jvp(d[a], a))


@vjp(np.linalg.cholesky)
def cholesky_vjp_rule(z, a, upper=False):
    """L = cholesky(a): dL = L Φ(L⁻¹ da L⁻ᵀ), Φ = lower triangle with half diagonal"""
    d[a] = cholesky_vjp(d[z], z, upper)


@jvp(np.linalg.cholesky)
def cholesky_jvp_rule(z, a, upper=False):
    """L = cholesky(a): dL = L Φ(L⁻¹ da L⁻ᵀ)"""
    d[z] = cholesky_jvp(d[a], z, upper)


# ---------------------------------------------------------------------------------------------
# Shape functions: linear maps that only move elements, so each adjoint moves them back.


@vjp(np.reshape)
def reshape_vjp(z, a, shape=None, order="C"):
    """d reshape(a) = reshape(da)"""
    d[a] = reshape_order(d[z], a, order)


@jvp(np.reshape)
def reshape_jvp(z, a, shape=None, order="C"):
    """d reshape(a) = reshape(da)"""
    d[z] = reshape_order(d[a], z, order)


@vjp(np.ndarray.reshape)
def ndarray_reshape_vjp(z, a, s0=None, s1=None, s2=None, s3=None, s4=None, s5=None, *,
                        order="C"):
    """d a.reshape(*shape) = da.reshape(*shape)"""
    d[a] = reshape_order(d[z], a, order)


@jvp(np.ndarray.reshape)
def ndarray_reshape_jvp(z, a, s0=None, s1=None, s2=None, s3=None, s4=None, s5=None, *,
                        order="C"):
    """d a.reshape(*shape) = da.reshape(*shape)"""
    d[z] = reshape_order(d[a], z, order)


@vjp(np.ravel, np.ndarray.flatten)
def ravel_vjp(z, a, order="C"):
    """d ravel(a) = ravel(da)"""
    d[a] = reshape_order(d[z], a, order)


@jvp(np.ravel, np.ndarray.flatten)
def ravel_jvp(z, a, order="C"):
    """d ravel(a) = ravel(da)"""
    d[z] = reshape_order(d[a], z, order)


@vjp(np.expand_dims, np.squeeze)
def expand_dims_vjp(z, a, axis=None):
    """d expand_dims(a) = expand_dims(da); squeeze likewise"""
    d[a] = reshape_like(d[z], a)


@jvp(np.expand_dims, np.squeeze)
def expand_dims_jvp(z, a, axis=None):
    """d expand_dims(a) = expand_dims(da); squeeze likewise"""
    d[z] = reshape_like(d[a], z)


@vjp(np.atleast_1d, np.atleast_2d, np.atleast_3d, np.copy, np.ndarray.item)
def atleast_vjp(z, a):
    """d atleast_2d(a) = atleast_2d(da) (one array); copy and item alike"""
    d[a] = reshape_like(d[z], a)


@jvp(np.atleast_1d, np.atleast_2d, np.atleast_3d, np.copy, np.ndarray.item)
def atleast_jvp(z, a):
    """d atleast_2d(a) = atleast_2d(da) (one array); copy and item alike"""
    d[z] = fresh(reshape_like(d[a], z))


@vjp(np.transpose)
def transpose_vjp(z, a, axes=None):
    """d transpose(a, p) = transpose(da, p); the adjoint applies the inverse permutation"""
    d[a] = unpermute(d[z], axes)


@jvp(np.transpose)
def transpose_jvp(z, a, axes=None):
    """d transpose(a, p) = transpose(da, p)"""
    d[z] = permute(d[a], axes)


@vjp(np.ndarray.transpose)
def ndarray_transpose_vjp(z, a, ax0=None, ax1=None, ax2=None, ax3=None, ax4=None, ax5=None):
    """d a.transpose(*axes) = da.transpose(*axes)"""
    d[a] = unpermute(d[z], method_axes(ax0, ax1, ax2, ax3, ax4, ax5))


@jvp(np.ndarray.transpose)
def ndarray_transpose_jvp(z, a, ax0=None, ax1=None, ax2=None, ax3=None, ax4=None, ax5=None):
    """d a.transpose(*axes) = da.transpose(*axes)"""
    d[z] = permute(d[a], method_axes(ax0, ax1, ax2, ax3, ax4, ax5))


@vjp(np.matrix_transpose)
def matrix_transpose_vjp(z, x):
    """d x.mT = (dx).mT"""
    d[x] = mT(d[z])


@jvp(np.matrix_transpose)
def matrix_transpose_jvp(z, x):
    """d x.mT = (dx).mT"""
    d[z] = mT(d[x])


@vjp(np.swapaxes)
def swapaxes_vjp(z, a, axis1, axis2):
    """d swapaxes(a, i, j) = swapaxes(da, i, j)"""
    d[a] = np.swapaxes(d[z], axis1, axis2)


@jvp(np.swapaxes)
def swapaxes_jvp(z, a, axis1, axis2):
    """d swapaxes(a, i, j) = swapaxes(da, i, j)"""
    d[z] = np.swapaxes(d[a], axis1, axis2)


@vjp(np.moveaxis)
def moveaxis_vjp(z, a, source, destination):
    """d moveaxis(a, s, t) = moveaxis(da, s, t); the adjoint moves the axes back"""
    d[a] = np.moveaxis(d[z], destination, source)


@jvp(np.moveaxis)
def moveaxis_jvp(z, a, source, destination):
    """d moveaxis(a, s, t) = moveaxis(da, s, t)"""
    d[z] = np.moveaxis(d[a], source, destination)


@vjp(np.broadcast_to)
def broadcast_to_vjp(z, array, shape, subok=False):
    """d broadcast_to(x) = broadcast_to(dx); the adjoint sums over the broadcast axes"""
    d[array] = unbroadcast(d[z], array)


@jvp(np.broadcast_to)
def broadcast_to_jvp(z, array, shape, subok=False):
    """d broadcast_to(x) = broadcast_to(dx)"""
    d[z] = np.zeros(shape) + d[array]


@vjp(np.flip)
def flip_vjp(z, m, axis=None):
    """d flip(m) = flip(dm)"""
    d[m] = flip_axis(d[z], axis)


@jvp(np.flip)
def flip_jvp(z, m, axis=None):
    """d flip(m) = flip(dm)"""
    d[z] = flip_axis(d[m], axis)


@vjp(np.fliplr)
def fliplr_vjp(z, m):
    """d fliplr(m) = fliplr(dm)"""
    d[m] = np.fliplr(d[z])


@jvp(np.fliplr)
def fliplr_jvp(z, m):
    """d fliplr(m) = fliplr(dm)"""
    d[z] = np.fliplr(d[m])


@vjp(np.flipud)
def flipud_vjp(z, m):
    """d flipud(m) = flipud(dm)"""
    d[m] = np.flipud(d[z])


@jvp(np.flipud)
def flipud_jvp(z, m):
    """d flipud(m) = flipud(dm)"""
    d[z] = np.flipud(d[m])


@vjp(np.roll)
def roll_vjp_rule(z, a, shift, axis=None):
    """d roll(a, s) = roll(da, s); the adjoint rolls back by -s"""
    d[a] = roll_vjp(d[z], shift, axis)


@jvp(np.roll)
def roll_jvp_rule(z, a, shift, axis=None):
    """d roll(a, s) = roll(da, s)"""
    d[z] = roll_axis(d[a], shift, axis)


@vjp(np.tile)
def tile_vjp_rule(z, A, reps):
    """d tile(A, r) = tile(dA, r); the adjoint sums the tiles"""
    d[A] = tile_vjp(d[z], A, reps)


@jvp(np.tile)
def tile_jvp_rule(z, A, reps):
    """d tile(A, r) = tile(dA, r)"""
    d[z] = np.tile(d[A], reps)


@vjp(np.repeat)
def repeat_vjp_rule(z, a, repeats, axis=None):
    """d repeat(a, r) = repeat(da, r); the adjoint sums each element's copies"""
    d[a] = repeat_vjp(d[z], a, repeats, axis)


@jvp(np.repeat)
def repeat_jvp_rule(z, a, repeats, axis=None):
    """d repeat(a, r) = repeat(da, r)"""
    d[z] = repeat_axis(d[a], repeats, axis)


@vjp(np.pad)
def pad_vjp(z, array, pad_width, mode="constant", *, constant_values=0.0):
    """d pad(x, w, c) = pad(dx, w, 0) + dc on the border   (mode 'constant' only)"""
    d[array] = unpad(d[z], array, pad_width, mode)
    d[constant_values] = np.sum(d[z] * pad_border(array, pad_width))


@jvp(np.pad)
def pad_jvp(z, array, pad_width, mode="constant", *, constant_values=0.0):
    """d pad(x, w, c) = pad(dx, w, 0) + dc on the border"""
    d[z] = np.pad(d[array], pad_width, mode) + d[constant_values] * pad_border(array, pad_width)


@vjp(np.concatenate)
def concatenate_vjp(z, arrays, axis=0):
    """d concatenate(xs) = concatenate(dxs); each x gets its own piece of the adjoint"""
    d[arrays] = split_like(d[z], arrays, axis)


@jvp(np.concatenate)
def concatenate_jvp(z, arrays, axis=0):
    """d concatenate(xs) = concatenate(dxs)"""
    d[z] = np.concatenate(d[arrays], axis)


@vjp(np.stack)
def stack_vjp(z, arrays, axis=0):
    """d stack(xs) = stack(dxs); x_i gets the adjoint's i-th slice along axis"""
    d[arrays] = unstack(d[z], axis)


@jvp(np.stack)
def stack_jvp(z, arrays, axis=0):
    """d stack(xs) = stack(dxs)"""
    d[z] = np.stack(d[arrays], axis)


@vjp(np.hstack)
def hstack_vjp_rule(z, tup):
    """d hstack(xs) = hstack(dxs)"""
    d[tup] = hstack_vjp(d[z], tup)


@jvp(np.hstack)
def hstack_jvp_rule(z, tup):
    """d hstack(xs) = hstack(dxs)"""
    d[z] = np.hstack(d[tup])


@vjp(np.vstack)
def vstack_vjp_rule(z, tup):
    """d vstack(xs) = vstack(dxs)"""
    d[tup] = vstack_vjp(d[z], tup)


@jvp(np.vstack)
def vstack_jvp_rule(z, tup):
    """d vstack(xs) = vstack(dxs)"""
    d[z] = np.vstack(d[tup])


@vjp(np.split, np.array_split)
def split_vjp(z, ary, indices_or_sections, axis=0):
    """d split(x) = split(dx); the adjoint concatenates the pieces' adjoints"""
    d[ary] = np.concatenate(d[z], axis)


@jvp(np.split)
def split_jvp(z, ary, indices_or_sections, axis=0):
    """d split(x) = split(dx)"""
    d[z] = np.split(d[ary], indices_or_sections, axis)


@jvp(np.array_split)
def array_split_jvp(z, ary, indices_or_sections, axis=0):
    """d array_split(x) = array_split(dx)"""
    d[z] = np.array_split(d[ary], indices_or_sections, axis)


@vjp(np.r_)
def r_vjp(z, items):
    """d np.r_[a, 0:3, b] = np.r_[da, 0, db]: each item gets its piece (slices are constants;
    no string directives)"""
    d[items] = index_concat_vjp(d[z], np.r_, items)


@jvp(np.r_)
def r_jvp(z, items):
    """d np.r_[a, 0:3, b] = np.r_[da, 0, db]"""
    d[z] = index_concat_jvp(d[items], np.r_, items)


@vjp(np.c_)
def c_vjp(z, items):
    """d np.c_[a, b] = np.c_[da, db]: each item gets its columns (slices are constants)"""
    d[items] = index_concat_vjp(d[z], np.c_, items)


@jvp(np.c_)
def c_jvp(z, items):
    """d np.c_[a, b] = np.c_[da, db]"""
    d[z] = index_concat_jvp(d[items], np.c_, items)


registry.lookup(np.r_).name = "np.r_"
registry.lookup(np.c_).name = "np.c_"


# ---------------------------------------------------------------------------------------------
# Creation. Arrays built from differentiable values are differentiable in those values.


@vjp(np.array)
def array_vjp(z, object, dtype=None):
    """d array([x, y, ...]) = array([dx, dy, ...]); x gets the adjoint's element (or row) 0"""
    d[object] = astype_vjp(d[z], dtype)


@jvp(np.array)
def array_jvp(z, object, dtype=None):
    """d array([x, y, ...]) = array([dx, dy, ...])"""
    d[z] = astype_vjp(np.array(d[object]), dtype)


@vjp(np.asarray, np.ascontiguousarray)
def asarray_vjp(z, a, dtype=None):
    """d asarray(a) = asarray(da)   (0 for an integer or boolean dtype)"""
    d[a] = astype_vjp(d[z], dtype)


@jvp(np.asarray, np.ascontiguousarray)
def asarray_jvp(z, a, dtype=None):
    """d asarray(a) = asarray(da)"""
    d[z] = astype_vjp(np.asarray(d[a]), dtype)


@vjp(np.astype)
def astype_vjp_rule(z, x, dtype):
    """d x.astype(t) = dx for a float type t; 0 for an integer or boolean type"""
    d[x] = astype_vjp(d[z], dtype)


@jvp(np.astype)
def astype_jvp_rule(z, x, dtype):
    """d x.astype(t) = dx for a float type t; 0 for an integer or boolean type"""
    d[z] = astype_vjp(d[x], dtype)


@vjp(np.full)
def full_vjp(z, shape, fill_value, dtype=None):
    """d full(shape, v) = full(shape, dv); v's adjoint sums the output's"""
    d[fill_value] = astype_vjp(unbroadcast(d[z], fill_value), dtype)


@jvp(np.full)
def full_jvp(z, shape, fill_value, dtype=None):
    """d full(shape, v) = full(shape, dv)"""
    d[z] = astype_vjp(np.zeros(shape) + d[fill_value], dtype)


@vjp(np.full_like)
def full_like_vjp(z, a, fill_value, dtype=None):
    """d full_like(a, v) = full_like(a, dv); a's values do not matter, but its dtype does
    (the default): an integer or boolean result carries no derivative"""
    d[fill_value] = astype_vjp(unbroadcast(d[z], fill_value), z.dtype)


@jvp(np.full_like)
def full_like_jvp(z, a, fill_value, dtype=None):
    """d full_like(a, v) = full_like(a, dv)"""
    d[z] = astype_vjp(np.zeros(z.shape) + d[fill_value], z.dtype)


@vjp(np.arange)
def arange_vjp(z, start_or_stop, stop=None, step=1):
    """arange(start, stop, step)_k = start + k step: d = dstart + k dstep (stop only sets the
    length; with one argument it is the stop)"""
    d[start_or_stop] = arange_vjp_start(d[z], stop)
    d[step] = arange_vjp_step(d[z])


@jvp(np.arange)
def arange_jvp(z, start_or_stop, stop=None, step=1):
    """arange(start, stop, step)_k = start + k step: d = dstart + k dstep"""
    d[z] = arange_jvp_start(d[start_or_stop], z, stop) + d[step] * np.arange(len(z))


@vjp(np.linspace)
def linspace_vjp_rule(z, start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    """linspace(a, b)_k = a + (b - a) w_k: d = (1 - w_k) da + w_k db   (retstep=False)"""
    d[start] = astype_vjp(linspace_vjp(
        d[z], start, 1.0 - linspace_basis(num, endpoint, retstep, z, axis), axis), dtype)
    d[stop] = astype_vjp(linspace_vjp(
        d[z], stop, linspace_basis(num, endpoint, retstep, z, axis), axis), dtype)


@jvp(np.linspace)
def linspace_jvp_rule(z, start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    """linspace(a, b)_k = a + (b - a) w_k: d = (1 - w_k) da + w_k db"""
    d[z] = astype_vjp(
        linspace_jvp(d[start], 1.0 - linspace_basis(num, endpoint, retstep, z, axis), axis)
        + linspace_jvp(d[stop], linspace_basis(num, endpoint, retstep, z, axis), axis), dtype)


# ---------------------------------------------------------------------------------------------
# Array methods and attributes: x.name(...) differentiates as the function named here.

for _name, _primal in [
        ("sum", np.sum), ("mean", np.mean), ("prod", np.prod), ("max", np.max),
        ("min", np.min), ("var", np.var), ("std", np.std), ("cumsum", np.cumsum),
        ("cumprod", np.cumprod), ("dot", np.dot), ("clip", np.clip), ("trace", np.trace),
        ("diagonal", np.diagonal), ("swapaxes", np.swapaxes), ("squeeze", np.squeeze),
        ("ravel", np.ravel), ("flatten", np.ndarray.flatten), ("reshape", np.ndarray.reshape),
        ("transpose", np.ndarray.transpose), ("copy", np.copy), ("astype", np.astype),
        ("repeat", np.repeat), ("item", np.ndarray.item), ("round", np.round),
        ("argmax", np.argmax), ("argmin", np.argmin), ("argsort", np.argsort),
        ("nonzero", np.nonzero), ("any", np.any), ("all", np.all)]:
    register_method(_name, _primal)

for _name, _primal in [("T", np.transpose), ("mT", np.matrix_transpose), ("shape", np.shape),
                       ("ndim", np.ndim), ("size", np.size)]:
    register_attribute(_name, _primal)


registry.returns_tuple(np.split, np.array_split, np.linalg.slogdet)
for _primal, _param in [(np.concatenate, "arrays"), (np.stack, "arrays"), (np.hstack, "tup"),
                        (np.vstack, "tup"), (np.array, "object"), (np.asarray, "a"),
                        (np.ascontiguousarray, "a"), (np.r_, "items"), (np.c_, "items")]:
    registry.takes_sequences(_primal, _param)
