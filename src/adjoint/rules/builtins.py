"""Rules for Python's builtin functions (``abs``, ``min``, ``max``, ``pow``, ``float`` ...).

The differentiable builtins are elementwise, so each rule is a template returning the partial
derivative with respect to each argument. ``abs`` and ``pow`` also accept NumPy arrays (users write
``abs(x)`` on arrays), so their templates use NumPy functions that work on scalars and arrays
alike, in CPython and under ``numba.njit``.

Conventions (see ``docs/``):

- ``abs`` follows JAX: its derivative is ``np.sign(x)``, which is 0 at ``x == 0``.
- ``min(x, y)`` and ``max(x, y)`` (two arguments only) send the whole gradient to the selected
  argument and split it equally, ½ and ½, at a tie ``x == y``, as JAX does.
- ``pow(base, exp)`` differentiates exactly as ``base ** exp``: the ``exp`` partial uses
  ``log(base)`` where ``base > 0`` and is 0 elsewhere.
- ``len``, ``range``, ``int``, ``round`` and ``bool`` give integers or flags: their results are
  inactive (``int`` and ``round`` are piecewise constant, so the zero derivative is exact almost
  everywhere).
"""

import builtins

import numpy as np

from .registry import elementwise, nondiff


@elementwise(builtins.abs, broadcast=False)
def abs_rule(z, x):
    """d |x| = sign(x) dx   (JAX's convention: sign(0) = 0, so the derivative at 0 is 0)"""
    return np.sign(x)


@elementwise(builtins.max, broadcast=False)
def max_rule(z, x, y):
    """d max(x, y) = [x > y] dx + [y > x] dy, split ½ dx + ½ dy at a tie x == y"""
    tie = 0.5 * (x == y)
    return (x > y) + tie, (y > x) + tie


@elementwise(builtins.min, broadcast=False)
def min_rule(z, x, y):
    """d min(x, y) = [x < y] dx + [y < x] dy, split ½ dx + ½ dy at a tie x == y"""
    tie = 0.5 * (x == y)
    return (x < y) + tie, (y < x) + tie


@elementwise(builtins.pow, broadcast=True)
def pow_rule(z, base, exp):
    """d pow(b, e) = e b^(e-1) db + log(b) b^e de   (two arguments; the de term needs b > 0)"""
    # Same partials as `base ** exp` (rules.operators.pow): pow(array, 2) broadcasts like **.
    # safe_log is 0 where base <= 0, so the exp partial is 0 there (not nan or an error):
    # exp is then usually an integer constant that is not differentiated.
    return pow_dx(base, exp), z * safe_log(base)  # noqa: F821


@elementwise(builtins.float, broadcast=False)
def float_rule(z, x):
    """d float(x) = dx"""
    return 1.0


nondiff(builtins.len, builtins.range, builtins.bool,
        doc="integer or flag valued: no derivative, the result is inactive")
nondiff(builtins.int, builtins.round,
        doc="piecewise constant: zero derivative, the result is inactive")
