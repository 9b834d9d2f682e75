"""Numba implementations of the elementwise partials (:mod:`adjoint.runtime.elementwise`).
"""

from __future__ import annotations

import numpy as np
from numba import types
from numba.extending import overload

from .. import runtime
from .common import _is_array, _is_integer_array, _is_none, _is_scalar

# --- elementwise partials -------------------------------------------------------------------


@overload(runtime.safe_log)
def _safe_log(x):
    if _is_array(x):
        def impl(x):
            out = np.zeros(x.shape)
            flat_x = np.ravel(x)
            flat_out = out.reshape(out.size)
            for i in range(flat_x.size):
                if flat_x[i] > 0:
                    flat_out[i] = np.log(flat_x[i])
            return out
        return impl
    if _is_scalar(x):
        return lambda x: np.log(x) if x > 0 else 0.0
    return None


@overload(runtime.pow_dx)
def _pow_dx(a, b):
    if _is_scalar(a) and _is_scalar(b):
        def scalar(a, b):
            if b == 0:
                return 0.0
            if a == 0 and b < 1:  # NumPy's 0.0 ** negative: inf, not an error
                return b * np.inf
            return b * float(a) ** (b - 1.0)
        return scalar
    if _is_array(a) and _is_scalar(b):
        def array_scalar(a, b):
            if b == 0:
                return np.zeros(a.shape)
            return b * np.power(a * 1.0, b - 1.0)
        return array_scalar
    if _is_array(b) and (_is_array(a) or _is_scalar(a)):
        def with_array_exponent(a, b):
            d = b * np.power(a * 1.0, b - 1.0)
            zero = np.broadcast_to(b == 0, d.shape)
            for index in np.ndindex(d.shape):
                if zero[index]:
                    d[index] = 0.0
            return d
        return with_array_exponent
    return None


@overload(runtime.clip_inside)
def _clip_inside(a, lo, hi):
    if _is_none(lo) and _is_none(hi):
        if _is_array(a):
            return lambda a, lo, hi: np.ones(a.shape)
        return lambda a, lo, hi: 1.0
    if _is_none(hi):
        return lambda a, lo, hi: (a >= lo) * 1.0
    if _is_none(lo):
        return lambda a, lo, hi: (a <= hi) * 1.0
    return lambda a, lo, hi: ((a >= lo) & (a <= hi)) * 1.0


@overload(runtime.clip_below)
def _clip_below(a, lo, hi):
    if _is_none(lo):
        return lambda a, lo, hi: 0.0
    if _is_none(hi):
        return lambda a, lo, hi: (a < lo) * 1.0
    return lambda a, lo, hi: ((a < lo) & (lo <= hi)) * 1.0


@overload(runtime.clip_above)
def _clip_above(a, lo, hi):
    if _is_none(hi):
        return lambda a, lo, hi: 0.0
    if _is_none(lo):
        return lambda a, lo, hi: (a > hi) * 1.0
    return lambda a, lo, hi: ((a > hi) | (lo > hi)) * 1.0


@overload(runtime.write_adjoint)
def _write_adjoint(d, index):
    # The last occurrence of a repeated integer index is the write NumPy keeps.
    if _is_array(index) and isinstance(index.dtype, types.Integer) and index.ndim == 1:
        def impl(d, index):
            out = d[index].astype(np.float64)
            n = d.shape[0]
            seen = np.zeros(n, dtype=np.bool_)
            for k in range(index.shape[0] - 1, -1, -1):
                i = index[k] % n
                if seen[i]:
                    out[k] = 0.0
                seen[i] = True
            return out
        return impl

    if isinstance(index, types.BaseTuple) and any(_is_integer_array(i) for i in index):
        def mixed(d, index):
            # Each position's number, written through the same index: the ones read back are
            # the writes NumPy kept.
            out = d[index].astype(np.float64)
            position = np.arange(out.size).reshape(out.shape)
            labels = np.full(d.shape, -1, np.intp)
            labels[index] = position
            kept = labels[index]
            flat, flat_kept, flat_position = (out.reshape(out.size), kept.reshape(kept.size),
                                              position.reshape(position.size))
            for k in range(out.size):
                if flat_kept[k] != flat_position[k]:
                    flat[k] = 0.0
            return out
        return mixed

    def plain(d, index):
        return runtime.fresh(d[index])
    return plain
