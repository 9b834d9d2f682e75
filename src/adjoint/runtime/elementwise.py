"""Partial derivatives of elementwise rules that need care at the edge of their domain:
``log`` only where it is defined, ``pow`` with JAX's conventions at 0, and ``clip``'s indicator
functions.

Take scalars or arrays (broadcasting as NumPy does); return float or float64 arrays.
"""

from __future__ import annotations

import math

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


def _sinc_series(x, n, terms=40):
    """The n-th derivative of sinc by its Taylor series at 0 (accurate for |x| <= 1/2):
    sinc(x) = Σ_j (-1)^j (πx)^(2j) / (2j+1)!, so d^n/dx^n is
    Σ_{2j >= n} (-1)^j π^(2j) x^(2j-n) / ((2j+1) (2j-n)!)."""
    total = np.zeros(np.shape(x))
    for j in range((n + 1) // 2, (n + 1) // 2 + terms):
        power = 2 * j - n
        total = total + (-1.0) ** j * np.pi ** (2 * j) * x ** power / (
            (2 * j + 1) * math.factorial(power))
    return total


def _sinc_leibniz(x, n):
    """The n-th derivative of sinc(x) = sin(πx)/π · 1/x by Leibniz's rule (for |x| > 1/2)."""
    total = np.zeros(np.shape(x))
    for k in range(n + 1):
        sin_k = np.pi ** (k - 1) * np.sin(np.pi * x + k * np.pi / 2)  # (sin(πx)/π)^(k)
        inv_k = (-1.0) ** (n - k) * math.factorial(n - k) / x ** (n - k + 1)  # (1/x)^(n-k)
        total = total + math.comb(n, k) * sin_k * inv_k
    return total


def sinc_deriv(x, n):
    """The ``n``-th derivative of ``np.sinc`` at ``x`` (n >= 1): exact at 0 (0 for odd n,
    (-1)^(n/2) π^n / (n+1) for even n), by the Taylor series near 0, Leibniz's rule elsewhere."""
    xf = np.asarray(x, dtype=np.float64)
    near = np.abs(xf) <= 0.5
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(near, _sinc_series(np.where(near, xf, 0.0), n),
                       _sinc_leibniz(np.where(near, 1.0, xf), n))
    return out if isinstance(x, np.ndarray) else float(out)
