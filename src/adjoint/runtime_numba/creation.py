"""Numba implementations of the creation helpers (:mod:`adjoint.runtime.creation`): dtype
casts, arange, linspace.
"""

from __future__ import annotations

import numpy as np
from numba import types
from numba.extending import overload, register_jitable
from numba.np.numpy_support import from_dtype
from numba.np.unsafe.ndarray import to_fixed_tuple

from .. import runtime
from .common import _is_array, _is_none, _raise_no_rule


@overload(runtime.astype_vjp, prefer_literal=True)
def _astype_vjp(g, dtype):
    if _is_none(dtype):
        return lambda g, dtype: g
    if isinstance(dtype, types.NumberClass):
        target = dtype.instance_type
    elif isinstance(dtype, types.DType):
        target = dtype.dtype
    elif isinstance(dtype, types.StringLiteral):
        target = from_dtype(np.dtype(dtype.literal_value))
    else:
        return None
    if isinstance(target, (types.Float, types.Complex)):
        return lambda g, dtype: g
    return lambda g, dtype: g * 0.0


# --- creation -------------------------------------------------------------------------------


@overload(runtime.arange_vjp_start)
def _arange_vjp_start(g, stop):
    if _is_none(stop):
        return lambda g, stop: 0.0
    return lambda g, stop: float(np.sum(g))


@overload(runtime.arange_vjp_step)
def _arange_vjp_step(g):
    if _is_array(g):
        return lambda g: float(np.sum(g * np.arange(g.size)))
    return None


@overload(runtime.arange_jvp_start)
def _arange_jvp_start(t, z, stop):
    if not _is_array(z):
        return None
    if _is_none(stop):
        return lambda t, z, stop: np.zeros(z.shape)
    return lambda t, z, stop: np.zeros(z.shape) + t


@register_jitable
def _unit_steps(num, endpoint):
    """np.linspace(0, 1, num, endpoint) (Numba's linspace has no endpoint)."""
    if endpoint:
        return np.linspace(0.0, 1.0, num)
    return np.linspace(0.0, 1.0, num + 1)[:num].copy()


@overload(runtime.linspace_basis)
def _linspace_basis(num, endpoint, retstep, z, axis):
    if not _is_array(z):
        return None
    rank = z.ndim

    def impl(num, endpoint, retstep, z, axis):
        if retstep:
            _raise_no_rule("adjoint's rule for np.linspace does not support retstep=True; "
                           "compute the step as (stop - start) / (num - 1)")
        shape = np.ones(rank, np.intp)
        shape[axis % rank] = num
        return _unit_steps(num, endpoint).reshape(to_fixed_tuple(shape, rank))
    return impl


@overload(runtime.linspace_vjp)
def _linspace_vjp(g, like, weights, axis):
    return lambda g, like, weights, axis: runtime.unbroadcast(np.sum(g * weights, axis=axis),
                                                              like)


@overload(runtime.linspace_jvp)
def _linspace_jvp(t, weights, axis):
    if _is_array(t):
        return lambda t, weights, axis: np.expand_dims(t, axis) * weights
    return lambda t, weights, axis: t * weights
