"""Rules for the scalar functions of Python's :mod:`math` module.

Every ``math`` function takes and returns Python floats, so each rule is an elementwise template
without broadcasting: it returns the partial derivative with respect to each argument, and the
transformer turns that into reverse (``d[x] = d[z] * partial``) and forward
(``d[z] = partial * d[x] + ...``) code. The templates use only ``math`` and scalar ``np``
functions, so the same emitted code runs in CPython and under ``numba.njit``.

Conventions (see ``docs/``):

- Partials are evaluated where the primal is; at a point where the derivative is infinite
  (``sqrt`` at 0, ``asin`` at ±1) the partial divides by zero, which raises
  ``ZeroDivisionError`` as Python arithmetic does.
- ``hypot`` at the origin (a cone's tip, where no derivative exists) has partials 0, the
  subgradient ``np.linalg.norm`` uses at a zero vector.
- ``fabs`` uses the convention of JAX: its derivative is ``sign(x)``, which is 0 at ``x == 0``.
- ``floor``, ``ceil`` and ``trunc`` are piecewise constant: their results are inactive.
- ``math.pi``, ``math.e``, ``math.inf`` are constants and need no rule.
"""

import math

import numpy as np

from .registry import elementwise, nondiff

# --- trigonometric -------------------------------------------------------------------------


@elementwise(math.sin, broadcast=False)
def sin(z, x):
    """d sin(x) = cos(x) dx"""
    return math.cos(x)


@elementwise(math.cos, broadcast=False)
def cos(z, x):
    """d cos(x) = -sin(x) dx"""
    return -math.sin(x)


@elementwise(math.tan, broadcast=False)
def tan(z, x):
    """d tan(x) = (1 + tan²(x)) dx"""
    return 1.0 + z * z


@elementwise(math.asin, broadcast=False)
def asin(z, x):
    """d asin(x) = dx / sqrt(1 - x²)"""
    return 1.0 / math.sqrt(1.0 - x * x)


@elementwise(math.acos, broadcast=False)
def acos(z, x):
    """d acos(x) = -dx / sqrt(1 - x²)"""
    return -1.0 / math.sqrt(1.0 - x * x)


@elementwise(math.atan, broadcast=False)
def atan(z, x):
    """d atan(x) = dx / (1 + x²)"""
    return 1.0 / (1.0 + x * x)


@elementwise(math.atan2, broadcast=False)
def atan2(z, y, x):
    """d atan2(y, x) = (x dy - y dx) / (x² + y²)"""
    r = x * x + y * y
    return x / r, -y / r


@elementwise(math.hypot, broadcast=False)
def hypot(z, x, y):
    """d hypot(x, y) = (x dx + y dy) / hypot(x, y)   (two arguments only; 0 at the origin)"""
    nonzero = z + (z == 0.0)  # z, or 1 at the origin where x and y are 0
    return x / nonzero, y / nonzero


@elementwise(math.degrees, broadcast=False)
def degrees(z, x):
    """d degrees(x) = (180 / π) dx"""
    return 180.0 / math.pi


@elementwise(math.radians, broadcast=False)
def radians(z, x):
    """d radians(x) = (π / 180) dx"""
    return math.pi / 180.0


# --- hyperbolic ----------------------------------------------------------------------------


@elementwise(math.sinh, broadcast=False)
def sinh(z, x):
    """d sinh(x) = cosh(x) dx"""
    return math.cosh(x)


@elementwise(math.cosh, broadcast=False)
def cosh(z, x):
    """d cosh(x) = sinh(x) dx"""
    return math.sinh(x)


@elementwise(math.tanh, broadcast=False)
def tanh(z, x):
    """d tanh(x) = (1 - tanh²(x)) dx"""
    return 1.0 - z * z


@elementwise(math.asinh, broadcast=False)
def asinh(z, x):
    """d asinh(x) = dx / sqrt(x² + 1)"""
    return 1.0 / math.sqrt(x * x + 1.0)


@elementwise(math.acosh, broadcast=False)
def acosh(z, x):
    """d acosh(x) = dx / sqrt(x² - 1)   (x > 1)"""
    # sqrt(x - 1) * sqrt(x + 1) instead of sqrt(x*x - 1): no cancellation near x = 1.
    return 1.0 / (math.sqrt(x - 1.0) * math.sqrt(x + 1.0))


@elementwise(math.atanh, broadcast=False)
def atanh(z, x):
    """d atanh(x) = dx / (1 - x²)"""
    return 1.0 / (1.0 - x * x)


# --- exponentials, logarithms, powers ------------------------------------------------------


@elementwise(math.exp, broadcast=False)
def exp(z, x):
    """d exp(x) = exp(x) dx"""
    return z


@elementwise(math.expm1, broadcast=False)
def expm1(z, x):
    """d expm1(x) = exp(x) dx"""
    # expm1(x) + 1 == exp(x), and reuses the primal instead of a second exponential.
    return z + 1.0


@elementwise(math.log, broadcast=False)
def log(z, x, base=math.e):
    """d log(x, b) = dx / (x ln b) - log(x, b) db / (b ln b)"""
    # The base partial is -ln(x) / (b ln² b) rather than -z / (b ln b): not needing z lets the
    # gradient compile under Numba, whose math.log takes no base.
    ln_base = math.log(base)
    return 1.0 / (x * ln_base), -math.log(x) / (base * ln_base * ln_base)


@elementwise(math.log1p, broadcast=False)
def log1p(z, x):
    """d log1p(x) = dx / (1 + x)"""
    return 1.0 / (1.0 + x)


@elementwise(math.log2, broadcast=False)
def log2(z, x):
    """d log2(x) = dx / (x ln 2)"""
    return 1.0 / (x * math.log(2.0))


@elementwise(math.log10, broadcast=False)
def log10(z, x):
    """d log10(x) = dx / (x ln 10)"""
    return 1.0 / (x * math.log(10.0))


@elementwise(math.sqrt, broadcast=False)
def sqrt(z, x):
    """d sqrt(x) = dx / (2 sqrt(x))"""
    return 0.5 / z


@elementwise(math.pow, broadcast=False)
def power(z, x, y):
    """d pow(x, y) = y x^(y-1) dx + pow(x, y) ln(x) dy   (as x ** y: the dx term is 0 where
    y == 0, the dy term where x <= 0)"""
    # Exactly the partials of `x ** y` (rules.operators.pow): at x == 0 the x-partial is 0 for
    # y == 0 or y > 1, y for y == 1 and inf for 0 < y < 1 (JAX's convention).
    return pow_dx(x, y), z * safe_log(x)  # noqa: F821


# --- special functions ---------------------------------------------------------------------


@elementwise(math.erf, broadcast=False)
def erf(z, x):
    """d erf(x) = (2 / sqrt(π)) exp(-x²) dx"""
    return 2.0 / math.sqrt(math.pi) * math.exp(-x * x)


@elementwise(math.erfc, broadcast=False)
def erfc(z, x):
    """d erfc(x) = -(2 / sqrt(π)) exp(-x²) dx"""
    return -2.0 / math.sqrt(math.pi) * math.exp(-x * x)


# --- sign and magnitude --------------------------------------------------------------------


@elementwise(math.fabs, broadcast=False)
def fabs(z, x):
    """d |x| = sign(x) dx   (JAX's convention: sign(0) = 0, so the derivative at 0 is 0)"""
    return np.sign(x)


@elementwise(math.copysign, broadcast=False)
def copysign(z, x, y):
    """d copysign(x, y) = sign(x) s(y) dx, with s(y) = ±1 the sign bit of y; y only selects"""
    # copysign(x, y) == |x| * s(y): the x-partial is the derivative of |x| (0 at x == 0, as for
    # fabs) times s(y). Moving y changes the result only where it crosses zero, so its partial
    # is 0.
    return np.sign(x) * math.copysign(1.0, y), 0.0


nondiff(math.floor, math.ceil, math.trunc,
        doc="piecewise constant (integer valued): zero derivative, the result is inactive")
