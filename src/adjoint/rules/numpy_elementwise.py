"""Rules for NumPy's elementwise functions: ufuncs, ``clip``, ``where``, and the functions whose
result carries no derivative (piecewise constant, boolean or index valued, new constant arrays).

Takes nothing; importing it registers the rules in :mod:`adjoint.rules.registry`.

A NumPy function that no ``numpy_*`` module registers has no rule, so the compiler refuses it
with a located error that names it: nothing NumPy offers is ever differentiated as if it were
constant. Every template body runs unchanged in CPython and under ``numba.njit``: whatever
Numba's NumPy cannot do is a helper of :mod:`adjoint.runtime`, with a Numba implementation in
:mod:`adjoint.runtime_numba`. A forward (jvp) template is a sum of terms, each linear in one
argument's tangent, so the forward transformer can drop the term of an argument that is
constant or inactive.

Elementwise functions broadcast exactly: their reverse contributions are summed back to each
argument's shape (``broadcast=True``), so scalar ⊗ array, row + matrix, ``(n, 1) * (1, m)`` and
0-d arrays all get gradients of their own shape.

Derivative conventions at kinks (tested, and described in ``docs/conventions.md``):

- ``abs``/``absolute``/``fabs``: ``sign(x)``, so 0 at ``x == 0`` (JAX, PyTorch).
- ``maximum``/``minimum``/``fmax``/``fmin``: the selected argument gets the gradient; at a tie
  each gets half (JAX, PyTorch). So ``np.maximum(x, 0)`` (relu) has derivative ½ at 0.
- ``clip``: derivative 1 in ``a`` on the closed interval ``[a_min, a_max]`` (PyTorch), and the
  bounds get the gradient only strictly outside it.
- ``sqrt`` at 0: ``1 / (2 sqrt(0)) = inf``, as in JAX, and so ``x ** c`` for ``0 < c < 1``;
  ``x ** 0`` has derivative 0 everywhere, 0 included (JAX; :func:`~adjoint.runtime.pow_dx`).
- ``sign``, ``floor``, ``ceil``, ``round``, ``rint``, ``trunc``, ``fix``, ``heaviside``,
  ``floor_divide``, comparisons, ``argmax``/``argmin``/``argsort``: zero derivative.
"""

import numpy as np

from .registry import elementwise, nondiff

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
    """d hypot(x1, x2) = (x1 dx1 + x2 dx2) / hypot(x1, x2)   (0 at the origin, as norm's)"""
    nonzero = z + (z == 0.0)  # z, or 1 where x1 and x2 are 0
    return x1 / nonzero, x2 / nonzero


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


@elementwise(np.sinc, broadcast=True)
def sinc(z, x):
    """d sinc(x) = (cos(πx) - sinc(x)) / x dx, 0 at x = 0 (every order: sinc_deriv)"""
    return sinc_deriv(x, 1)


@elementwise(np.nan_to_num, broadcast=True)
def nan_to_num(z, x, copy=True, nan=0.0, posinf=None, neginf=None):
    """d nan_to_num(x) = dx where x is finite; the replacement values' own where x is nan,
    +inf or -inf"""
    return (np.isfinite(x) * 1.0, 0.0, np.isnan(x) * 1.0, (x == np.inf) * 1.0,
            (x == -np.inf) * 1.0)


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
