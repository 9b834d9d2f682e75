"""Numba implementations of the runtime helpers, registered on the helpers themselves.

Importing this module is all ``jit=True`` needs: it registers, with
``numba.extending.overload``, an implementation for every function in
:data:`adjoint.runtime.__all__`, so a ``numba.njit`` function that calls ``adjoint.runtime.X``
(the very object Python mode calls) compiles. Each overload looks at the Numba *types* of its
arguments at compile time and returns a small implementation for that case only, so a helper
costs nothing for the cases it does not need — ``unbroadcast`` of two arrays of the same
dimension is one shape comparison — and every branch of one implementation returns one type.

Guarantees, for every argument type the plain-Python helper accepts and Numba can type: the
result equals the plain-Python result to rounding (summation order may differ), with the same
kind (float for scalars, float64 arrays for array adjoints). Cases Numba cannot express at all
(an integer index array of more than one dimension, which Numba cannot index with either) have no
overload, so Numba reports them as a typing error at compile time.

Run-time errors keep Python mode's exception classes (``ValueError``); their messages are shorter
where Numba cannot format a value.
"""

from __future__ import annotations

import numpy as np
from numba import types
from numba.extending import overload, register_jitable

from . import runtime

_SCALAR_TYPES = (types.Number, types.Boolean)


def _is_scalar(t):
    return isinstance(t, _SCALAR_TYPES)


def _is_array(t):
    return isinstance(t, types.Array)


def _is_integer_array(t):
    return _is_array(t) and isinstance(t.dtype, types.Integer)


# --- zeros_like, fresh, as_float ------------------------------------------------------------


@overload(runtime.zeros_like)
def _zeros_like(x):
    if _is_array(x):
        return lambda x: np.zeros(x.shape)
    return lambda x: 0.0


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


# --- unbroadcast ----------------------------------------------------------------------------


@register_jitable
def _sum_flat(src, g_shape, shape):
    """Sum ``src`` (an array of shape ``g_shape``, flattened) down to ``shape``, flattened.

    ``len(g_shape) >= len(shape)``, ``len(g_shape) >= 1``. Sums the leading axes and the axes
    where ``shape`` has 1 and ``g_shape`` does not, in one pass over ``src`` in C order: an
    odometer walks the outer axes while ``base`` tracks the matching element of the result.
    Numba's ``np.sum`` has no ``keepdims``, hence the loop. Shapes come as arrays, not tuples, so
    that this loop compiles once, not once per pair of dimensions.
    """
    ndim = len(g_shape)
    lead = ndim - len(shape)
    size = 1
    for m in shape:
        size *= m
    out = np.zeros(size)
    # step[j]: how far the result's flat index moves per step along axis j (0 if summed).
    step = np.zeros(ndim, np.intp)
    stride = 1
    for j in range(ndim - 1, lead - 1, -1):
        m = shape[j - lead]
        if m == g_shape[j]:
            step[j] = stride
        elif m != 1:
            raise ValueError("cannot unbroadcast an adjoint to a shape it does not "
                             "broadcast to")
        stride *= m
    if src.size == 0:
        return out
    inner = g_shape[ndim - 1]
    # The last axis is either kept (step 1, rows add elementwise) or summed (step 0).
    keep_inner = step[ndim - 1] == 1
    index = np.zeros(ndim, np.intp)
    base = 0
    for start in range(0, src.size, inner):
        if keep_inner:
            for t in range(inner):
                out[base + t] += src[start + t]
        else:
            total = 0.0
            for t in range(inner):
                total += src[start + t]
            out[base] += total
        j = ndim - 2
        while j >= 0:
            index[j] += 1
            base += step[j]
            if index[j] < g_shape[j]:
                break
            base -= step[j] * index[j]
            index[j] = 0
            j -= 1
    return out


@register_jitable
def _sum_to_shape(g, shape):
    """Sum C-contiguous array ``g`` (``g.ndim >= len(shape) >= 1``) down to ``shape``."""
    g_shape = np.empty(g.ndim, np.intp)
    for j in range(g.ndim):
        g_shape[j] = g.shape[j]
    target = np.empty(len(shape), np.intp)
    for j in range(len(shape)):
        target[j] = shape[j]
    return _sum_flat(g.reshape(g.size), g_shape, target).reshape(shape)


@overload(runtime.unbroadcast)
def _unbroadcast(g, like):
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
    # function around the shared loop of _sum_flat (Numba compile time is the cost here).
    if g.layout != "C":
        return lambda g, like: runtime.unbroadcast(np.ascontiguousarray(g), like)
    if g.ndim > like.ndim:
        return lambda g, like: _sum_to_shape(g, like.shape)
    # Same number of dimensions: the common case, which must cost one shape comparison.
    if g.dtype == types.float64:
        if g.ndim == 0:
            return lambda g, like: g

        def same_ndim(g, like):
            if g.shape == like.shape:
                return g
            return _sum_to_shape(g, like.shape)
    else:
        if g.ndim == 0:
            return lambda g, like: g.astype(np.float64)

        def same_ndim(g, like):
            if g.shape == like.shape:
                return g.astype(np.float64)
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
        return n if n > 0 else 0
    return impl


# --- the tape -------------------------------------------------------------------------------


@overload(runtime.tape_alloc)
def _tape_alloc(n, like):
    if not isinstance(n, types.Integer):
        return None
    if _is_array(like):
        return lambda n, like: np.empty((n,) + like.shape, like.dtype)
    # The same dtypes as runtime._scalar_dtype; Boolean first, as there.
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
