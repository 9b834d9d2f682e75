"""Helpers of the creation rules: dtype casts, arange, linspace.

An integer or boolean ``dtype`` makes a result piecewise constant (derivative 0); a float one
keeps the derivative.
"""

from __future__ import annotations

import numpy as np

from ..errors import NoRuleError
from .core import unbroadcast


def astype_vjp(g, dtype):
    """The derivative through ``astype(dtype)`` (or a NumPy function's ``dtype=``): identity to
    a float type or None (no cast), zero to an integer or boolean type (the cast is then
    piecewise constant)."""
    if dtype is None or np.issubdtype(np.dtype(dtype), np.inexact):
        return g
    return g * 0.0


def arange_vjp_start(g, stop):
    """Adjoint of ``start`` in ``np.arange(start, stop, step)``; with one argument it is the
    stop, on which the values do not depend."""
    if stop is None:
        return 0.0
    return float(np.sum(g))


def arange_vjp_step(g):
    """Adjoint of ``step`` in ``np.arange(start, stop, step)``: element k is start + k step."""
    return float(np.sum(g * np.arange(np.size(g))))


def arange_jvp_start(t, z, stop):
    """Tangent of ``np.arange`` from its first argument's tangent ``t`` (see arange_vjp_start)."""
    if stop is None:
        return np.zeros(np.shape(z))
    return np.zeros(np.shape(z)) + t


def linspace_basis(num, endpoint, retstep, z, axis):
    """The weights of ``stop`` in ``z = np.linspace(start, stop, num, endpoint, axis=axis)``
    (those of ``start`` are 1 minus them), shaped to broadcast against ``z``."""
    if retstep:
        raise NoRuleError("adjoint's rule for np.linspace does not support retstep=True",
                          hint="compute the step as (stop - start) / (num - 1)")
    w = np.linspace(0.0, 1.0, num, endpoint=endpoint)
    shape = [1] * np.ndim(z)
    shape[axis % np.ndim(z)] = num
    return w.reshape(shape)


def linspace_vjp(g, like, weights, axis):
    """Adjoint of ``start`` or ``stop`` of ``np.linspace`` given that end's ``weights``."""
    return unbroadcast(np.sum(g * weights, axis=axis), like)


def linspace_jvp(t, weights, axis):
    """Tangent of ``np.linspace`` from ``start``'s or ``stop``'s tangent ``t``."""
    if isinstance(t, np.ndarray):
        t = np.expand_dims(t, axis)
    return t * weights
