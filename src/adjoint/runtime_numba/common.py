"""What the Numba implementations share: type predicates, summing to a shape (the core of
``unbroadcast``), and small jitted building blocks for work along an axis.

Takes Numba types (the predicates) or arrays inside jitted code; nothing here is a runtime
helper itself, so nothing here is registered on :mod:`adjoint.runtime`.
"""

from __future__ import annotations

import numpy as np
from numba import literal_unroll, types
from numba.core.errors import TypingError
from numba.extending import overload, register_jitable
from numba.np.unsafe.ndarray import to_fixed_tuple

from ..errors import NoRuleError

_SCALAR_TYPES = (types.Number, types.Boolean)


def _is_scalar(t):
    return isinstance(t, _SCALAR_TYPES)


def _is_array(t):
    return isinstance(t, types.Array)


def _is_integer_array(t):
    return _is_array(t) and isinstance(t.dtype, types.Integer)


# --- unbroadcast ----------------------------------------------------------------------------


@register_jitable
def _accumulate(src, dst, work, ndim):
    """Add ``src`` (a C-ordered array, flattened) into ``dst`` (flattened) by an odometer.

    ``work`` holds, per axis j of the source, its length (``work[j]``), how far the flat index
    of ``dst`` moves per step along it (``work[ndim + j]``, 0 for an axis summed away), and the
    odometer's digit (``work[2 * ndim + j]``, 0 on entry). Shapes travel in an array, not a
    tuple, so this loop compiles once, not once per pair of dimensions.
    """
    inner = work[ndim - 1]
    # The last axis is either kept (step 1, rows add elementwise) or summed (step 0).
    keep_inner = work[2 * ndim - 1] == 1
    base = 0
    for start in range(0, src.size, inner):
        if keep_inner:
            for t in range(inner):
                dst[base + t] += src[start + t]
        else:
            total = 0.0
            for t in range(inner):
                total += src[start + t]
            dst[base] += total
        j = ndim - 2
        while j >= 0:
            work[2 * ndim + j] += 1
            base += work[ndim + j]
            if work[2 * ndim + j] < work[j]:
                break
            base -= work[ndim + j] * work[2 * ndim + j]
            work[2 * ndim + j] = 0
            j -= 1


# Matrices, the common case, are summed without the odometer's bookkeeping or a flattening
# reshape (together four fifths of the cost on small arrays).


@register_jitable
def _sum_matrix_to_matrix(g, like):
    rows, cols = like.shape
    if (rows != 1 and rows != g.shape[0]) or (cols != 1 and cols != g.shape[1]):
        raise ValueError("cannot unbroadcast an adjoint to a shape it does not broadcast to")
    out = np.zeros(like.shape)
    if cols == 1:  # row sums (into one row when rows == 1 too)
        for a in range(g.shape[0]):
            total = 0.0
            for b in range(g.shape[1]):
                total += g[a, b]
            out[a if rows != 1 else 0, 0] += total
    else:  # column sums, or rows kept as they are
        for a in range(g.shape[0]):
            r = a if rows != 1 else 0
            for b in range(cols):
                out[r, b] += g[a, b]
    return out


@register_jitable
def _sum_matrix_to_vector(g, like):
    cols = like.shape[0]
    if cols != 1 and cols != g.shape[1]:
        raise ValueError("cannot unbroadcast an adjoint to a shape it does not broadcast to")
    out = np.zeros(like.shape)
    if cols == 1:
        total = 0.0
        for a in range(g.shape[0]):
            for b in range(g.shape[1]):
                total += g[a, b]
        out[0] = total
    else:
        for a in range(g.shape[0]):
            for b in range(cols):
                out[b] += g[a, b]
    return out


@register_jitable
def _sum_to_shape(g, shape):
    """Sum C-contiguous array ``g`` (``g.ndim >= len(shape) >= 1``) down to ``shape``.

    Sums the leading axes of ``g`` and the axes where ``shape`` has 1 and ``g`` does not, in one
    pass over ``g`` (Numba's ``np.sum`` has no ``keepdims``, hence the loop).
    """
    ndim = g.ndim
    lead = ndim - len(shape)
    work = np.zeros(3 * ndim, np.intp)  # one allocation for the loop's bookkeeping
    stride = 1
    for j in range(ndim - 1, -1, -1):
        work[j] = g.shape[j]
        if j >= lead:
            m = shape[j - lead]
            if m == g.shape[j]:
                work[ndim + j] = stride
            elif m != 1:
                raise ValueError("cannot unbroadcast an adjoint to a shape it does not "
                                 "broadcast to")
            stride *= m
    out = np.zeros(shape)
    if g.size:
        _accumulate(g.reshape(g.size), out.reshape(out.size), work, ndim)
    return out


def _is_none(t):
    # An omitted argument reaches an overload as its Python default (None) or as Omitted.
    return t is None or isinstance(t, types.NoneType) or (
        isinstance(t, types.Omitted) and t.value is None)


def _refuse(why):
    """An overload body for a helper whose NumPy primal Numba cannot compile."""
    def typer(*args, **kwargs):
        raise TypingError(f"{why}; use jit=False for this function")
    return typer


@register_jitable
def _raise_no_rule(message):
    raise NoRuleError(message)


def _axes_array(axes):
    """An int or a tuple of ints (of any element types) as a 1-D ``intp`` array."""


@overload(_axes_array)
def _axes_array_impl(axes):
    if isinstance(axes, types.Integer):
        def one(axes):
            out = np.empty(1, np.intp)
            out[0] = axes
            return out
        return one
    if isinstance(axes, types.BaseTuple):
        def many(axes):
            out = np.empty(len(axes), np.intp)
            j = 0
            for k in literal_unroll(axes):  # enumerate() cannot be unrolled
                out[j] = k
                j += 1  # noqa: SIM113
            return out
        return many
    return None


@register_jitable
def _axis_split(shape, axis):
    """``(before, n, after)``: the product of ``shape`` before ``axis``, its length, and after."""
    before = 1
    after = 1
    for j in range(len(shape)):
        if j < axis:
            before *= shape[j]
        elif j > axis:
            after *= shape[j]
    return before, shape[axis], after


def _lanes(x, axis):
    """``x`` as a float64 C array of shape (before, n, after) around ``axis`` (None: flattened),
    so that work along one axis of any array is a loop over the middle axis of a 3-D one."""


@overload(_lanes)
def _lanes_impl(x, axis):
    if not _is_array(x):
        return None
    if _is_none(axis):
        return lambda x, axis: np.ascontiguousarray(x).astype(np.float64).reshape((1, x.size, 1))
    if isinstance(axis, types.Integer):
        def impl(x, axis):
            parts = _axis_split(x.shape, axis % x.ndim)
            return np.ascontiguousarray(x).astype(np.float64).reshape(parts)
        return impl
    return None


def _kept_shape(shape, axis):
    """``shape`` with the reduced ``axis`` (None: all axes) set to 1, as an ``intp`` array."""


@overload(_kept_shape)
def _kept_shape_impl(shape, axis):
    if _is_none(axis):
        return lambda shape, axis: np.ones(len(shape), np.intp)

    def impl(shape, axis):
        out = np.empty(len(shape), np.intp)
        for j in range(len(shape)):
            out[j] = shape[j]
        for k in _axes_array(axis):
            out[k % len(shape)] = 1
        return out
    return impl


def _fill(r, shape):
    """``r`` (an array of ``prod(shape)`` elements, or a scalar) in the given shape."""


@overload(_fill)
def _fill_impl(r, shape):
    if _is_array(r):
        return lambda r, shape: np.ascontiguousarray(r).reshape(shape)
    return lambda r, shape: np.full(shape, r)


def _sum_kept(x, axis):
    """``np.sum(x, axis, keepdims=True)`` for an array ``x``, as float64."""


@overload(_sum_kept)
def _sum_kept_impl(x, axis):
    if not _is_array(x):
        return None
    ndim = x.ndim
    if ndim == 0:
        return lambda x, axis: x.astype(np.float64)
    return lambda x, axis: _sum_to_shape(np.ascontiguousarray(x),
                                         to_fixed_tuple(_kept_shape(x.shape, axis), ndim))


def _total(x):
    """``np.sum(x)`` for an array or a scalar."""


@overload(_total)
def _total_impl(x):
    if _is_array(x):
        return lambda x: np.sum(x)
    return lambda x: x
