"""Partial derivatives of elementwise rules that need care at the edge of their domain:
``log`` only where it is defined, ``pow`` with JAX's conventions at 0, and ``clip``'s indicator
functions.

Take scalars or arrays (broadcasting as NumPy does); return float or float64 arrays.
"""

from __future__ import annotations

import numpy as np


def safe_log(x):
    """``log(x)`` where ``x > 0`` and 0 elsewhere: the partial ``z log(x)`` of ``x ** y`` in
    ``y``, which matters only where it is defined (``y`` usually is a constant there)."""
    if isinstance(x, np.ndarray):
        return np.log(np.where(x > 0, x, 1.0))
    return np.log(x) if x > 0 else 0.0


def pow_dx(a, b):
    """``b * a ** (b - 1)``, the partial of ``a ** b`` in ``a``, with JAX's conventions: 0
    wherever ``b == 0`` (``x ** 0`` is constant, even at ``x == 0``), and ``±inf`` at
    ``a == 0`` for ``b < 1`` (NumPy's ``0.0 ** negative``), never a ZeroDivisionError."""
    af = np.asarray(a, dtype=np.float64)
    bf = np.asarray(b, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        d = np.where(bf == 0, 0.0, bf * af ** (bf - 1.0))
    return d if isinstance(a, np.ndarray) or isinstance(b, np.ndarray) else float(d)


def clip_inside(a, lo, hi):
    """1.0 where ``lo <= a <= hi`` (a missing bound is no bound), else 0.0: ``clip``'s
    derivative in ``a``. At a bound the derivative is 1, as in PyTorch."""
    inside = np.ones(np.shape(a), dtype=bool) if isinstance(a, np.ndarray) else True
    if lo is not None:
        inside = inside & (a >= lo)
    if hi is not None:
        inside = inside & (a <= hi)
    return inside * 1.0


def clip_below(a, lo, hi):
    """1.0 where ``a < lo <= hi`` (``clip`` returns the lower bound there), else 0.0. Where the
    bounds cross (``lo > hi``) NumPy's clip returns ``hi``: the lower bound gets nothing."""
    if lo is None:
        return 0.0
    if hi is None:
        return (a < lo) * 1.0
    return ((a < lo) & (lo <= hi)) * 1.0


def clip_above(a, lo, hi):
    """1.0 where ``clip`` returns the upper bound: ``a > hi``, or anywhere the bounds cross
    (``lo > hi``; NumPy's clip is ``minimum(maximum(a, lo), hi)``), else 0.0."""
    if hi is None:
        return 0.0
    if lo is None:
        return (a > hi) * 1.0
    return ((a > hi) | (lo > hi)) * 1.0
