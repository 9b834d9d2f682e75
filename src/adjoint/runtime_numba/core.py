"""Numba implementations of the helpers the compiler core emits (:mod:`adjoint.runtime.core`):
zero adjoints, unbroadcasting, copies, accumulation at an index, trip counts, the tape and the
scalar-output check.
"""

from __future__ import annotations

import numpy as np
from numba import types
from numba.extending import overload, register_jitable

from .. import runtime
from ..rules.stop import stop_gradient
from .common import (
    _is_array,
    _is_integer_array,
    _is_scalar,
    _sum_matrix_to_matrix,
    _sum_matrix_to_vector,
    _sum_to_shape,
    _total,
)

# --- zeros_like, fresh, as_float ------------------------------------------------------------


@overload(runtime.zeros_like)
def _zeros_like(x):
    if _is_array(x):
        return lambda x: np.zeros(x.shape)
    return lambda x: 0.0


@overload(runtime.broadcast_like)
def _broadcast_like(g, like):
    if _is_scalar(like):
        return lambda g, like: float(_total(g))
    if not _is_array(like):
        return None
    if _is_scalar(g) or like.ndim == 0:
        return lambda g, like: np.full(like.shape, float(_total(g)))
    return lambda g, like: np.broadcast_to(g, like.shape).astype(np.float64)


@overload(runtime.fresh)
def _fresh(x):
    if _is_array(x):
        return lambda x: x.copy()
    return lambda x: x


@overload(runtime.as_float)
def _as_float(x):
    if _is_array(x):
        if x.dtype == types.float64:
            return lambda x: x
        return lambda x: x.astype(np.float64)
    if isinstance(x, types.Boolean):
        return lambda x: 1.0 if x else 0.0  # Numba has no float(bool)
    if _is_scalar(x):
        return lambda x: float(x)
    return None


# inline="always": Numba inlines each small implementation into the caller, so the common
# equal-shape check costs nothing there; left to LLVM, the matrix case was a ~35 ns call.
@overload(runtime.sum_to)
def _sum_to(g, like):
    if not (_is_array(g) and _is_array(like)):
        return lambda g, like: runtime.unbroadcast(g, like)

    def impl(g, like):
        if g.shape == like.shape:
            return runtime.unbroadcast(g, like)
        full = np.broadcast_shapes(g.shape, like.shape)
        return runtime.unbroadcast(np.ascontiguousarray(np.broadcast_to(g, full)), like)
    return impl


@overload(runtime.unbroadcast, inline="always")
def _unbroadcast(g, like):
    if isinstance(like, types.UniTuple) and isinstance(like.dtype, types.Integer):
        # a shape (a matrix product's, read off its operands): an array of it, never filled
        return lambda g, like: runtime.unbroadcast(g, np.empty(like))
    if _is_scalar(like):
        if _is_array(g):
            return lambda g, like: float(np.sum(g))
        if _is_scalar(g):
            return lambda g, like: float(g)
        return None
    if not _is_array(like):
        return None
    if _is_scalar(g):
        return lambda g, like: np.full(like.shape, float(g))
    if not _is_array(g):
        return None
    if g.ndim < like.ndim:
        return lambda g, like: np.broadcast_to(g, like.shape).astype(np.float64)
    if like.ndim == 0:
        return lambda g, like: np.full(like.shape, float(np.sum(g)))
    # Every implementation compiles per pair of argument types, so each is kept to one small
    # function around the shared loop of _accumulate (Numba compile time is the cost here).
    if g.layout != "C":
        return lambda g, like: runtime.unbroadcast(np.ascontiguousarray(g), like)
    if g.ndim == 2:
        if like.ndim == 1:
            return lambda g, like: _sum_matrix_to_vector(g, like)
        if g.dtype != types.float64:
            def matrix_cast(g, like):
                if g.shape == like.shape:
                    return g.astype(np.float64)
                return _sum_matrix_to_matrix(g, like)
            return matrix_cast

        def matrix(g, like):
            if g.shape == like.shape:
                return g
            return _sum_matrix_to_matrix(g, like)
        return matrix
    if g.ndim > like.ndim:
        return lambda g, like: _sum_to_shape(g, like.shape)
    # Same number of dimensions: the common case, which must cost one shape comparison.
    if g.ndim == 0:
        if g.dtype == types.float64:
            return lambda g, like: g
        return lambda g, like: g.astype(np.float64)
    if g.dtype != types.float64:
        def same_ndim_cast(g, like):
            if g.shape == like.shape:
                return g.astype(np.float64)
            return _sum_to_shape(g, like.shape)
        return same_ndim_cast

    def same_ndim(g, like):
        if g.shape == like.shape:
            return g
        return _sum_to_shape(g, like.shape)
    return same_ndim


# --- add_at ---------------------------------------------------------------------------------


@overload(runtime.add_at)
def _add_at(a, index, value):
    if not _is_array(a):
        return None
    if _is_array(value) and value.ndim == 0:
        # Index with the 0-d value's element, so every case below sees a scalar.
        return lambda a, index, value: runtime.add_at(a, index, value[()])

    if _is_integer_array(index):
        if index.ndim != 1:
            return None
        if _is_array(value) and value.ndim == a.ndim:
            # One value row per index (or a single row, broadcast along the index).
            def rows(a, index, value):
                single = value.shape[0] == 1
                for j in range(index.size):
                    a[index[j]] += value[0 if single else j]
                return a
            return rows

        # A scalar, or an array broadcast against every selected row.
        def each(a, index, value):
            for j in range(index.size):
                a[index[j]] += value
            return a
        return each

    if isinstance(index, types.BaseTuple) and any(_is_integer_array(i) for i in index.types):
        # An integer array mixed with ints and slices: find the flat position of every element
        # a[index] selects (Numba orders its axes the same way it orders the value's), then
        # accumulate one element at a time so repeated positions add up.
        def positions(a, index, value):
            where = np.arange(a.size).reshape(a.shape)[index]
            flat_where = where.reshape(where.size)
            contribution = np.broadcast_to(value, where.shape).copy().reshape(where.size)
            total = np.zeros(a.size)
            for k in range(flat_where.size):
                total[flat_where[k]] += contribution[k]
            a += total.reshape(a.shape)
            return a
        return positions

    # Ints, slices, boolean masks and tuples of them select each element at most once.
    def plain(a, index, value):
        a[index] += value
        return a
    return plain


# --- range_len ------------------------------------------------------------------------------


@overload(runtime.range_len)
def _range_len(start, stop, step):
    if not all(isinstance(t, types.Integer) for t in (start, stop, step)):
        return None

    def impl(start, stop, step):
        if step > 0:
            n = (stop - start + step - 1) // step
        else:
            n = (start - stop - step - 1) // (-step)
        return max(n, 0)
    return impl


# --- the tape -------------------------------------------------------------------------------


@overload(runtime.tape_alloc)
def _tape_alloc(n, like):
    if not isinstance(n, types.Integer):
        return None
    if _is_array(like):
        return lambda n, like: np.empty((n,) + like.shape, like.dtype)
    # The same dtypes as _scalar_dtype; Boolean first, as there.
    if isinstance(like, types.Boolean):
        dtype = np.bool_
    elif isinstance(like, types.Integer):
        dtype = np.int64
    elif isinstance(like, types.Float):
        dtype = np.float64
    elif isinstance(like, types.Complex):
        dtype = np.complex128
    else:
        return None
    return lambda n, like: np.empty(n, dtype)


@overload(runtime.tape_store)
def _tape_store(tape, k, value):
    if not _is_array(tape):
        return None
    if _is_scalar(value) and tape.ndim == 1:
        def store_scalar(tape, k, value):
            tape[k] = value
        return store_scalar
    if _is_array(value) and value.ndim == 0 and tape.ndim == 1:
        def store_0d(tape, k, value):
            tape[k] = value[()]
        return store_0d
    if _is_array(value) and value.ndim == tape.ndim - 1:
        def store_array(tape, k, value):
            if value.shape != tape.shape[1:]:
                # Setitem would broadcast a smaller value into the slot without a word.
                raise ValueError("cannot record a value on a tape of slots of another shape")
            tape[k] = value
        return store_array
    return None


@overload(runtime.tape_load)
def _tape_load(tape, k):
    if not _is_array(tape):
        return None
    if tape.ndim == 1:
        return lambda tape, k: tape[k]
    return lambda tape, k: tape[k].copy()


# --- check_scalar ---------------------------------------------------------------------------


@register_jitable
def _shape_text(shape):
    """``str(shape)`` as Python prints a tuple: ``(3,)``, ``(2, 3)``."""
    if len(shape) == 1:
        return "(" + str(shape[0]) + ",)"
    text = "("
    for j in range(len(shape)):
        if j:
            text += ", "
        text += str(shape[j])
    return text + ")"


@register_jitable
def _raise_not_scalar(detail):
    """Raise Python mode's error for a non-scalar output.

    A separate function, so that its callers go on to ``return 0.0``: that never runs, but it
    gives the call the float type of a scalar result, so the code after the call still compiles
    and the error comes at run time, as in Python mode. (A ``raise`` written in the caller would
    make Numba type the call as returning nothing.)
    """
    raise ValueError("the output is not a scalar " + detail)


@overload(runtime.check_scalar)
def _check_scalar(out):
    if _is_scalar(out) and not isinstance(out, types.Complex):
        return lambda out: out
    if _is_array(out):
        if out.ndim == 0:
            return lambda out: float(out[()])

        def not_scalar(out):
            _raise_not_scalar("(shape " + _shape_text(out.shape) + ")")
            return 0.0
        return not_scalar

    kind = "tuple" if isinstance(out, types.BaseTuple) else str(out)
    detail = "(got " + kind + ")"

    def not_number(out):
        _raise_not_scalar(detail)
        return 0.0
    return not_number


# --- stop_gradient: the identity in value, however generated code reaches it --------------------


@overload(stop_gradient)
def _stop_gradient(x):
    return lambda x: x
