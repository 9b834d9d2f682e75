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
kind (float for scalars, float64 arrays for array adjoints; a 0-d array may come back as a
float, as 0-d arithmetic does under Numba). Where Numba cannot express a case at all there is
no implementation and Numba says so at compile time: an integer index array of more than one
dimension (Numba cannot index with one either), and the helpers of NumPy functions Numba cannot
compile (``np.einsum``, ``np.tensordot``, ``np.pad``), whose overloads name the function.

Arguments that select a shape (``keepdims``, an ``order`` or ``ord`` string, a dtype) must be
constants, as generated code writes them. Run-time errors keep Python mode's exception classes
(``ValueError``, :class:`~adjoint.errors.NoRuleError`); their messages are shorter where Numba
cannot format a value.

The first half covers the helpers the compiler core emits; the second half, the helpers of the
NumPy rules (:mod:`adjoint.rules.numpy`), in the order of :mod:`adjoint.runtime`.
"""

from __future__ import annotations

import numpy as np
from numba import literal_unroll, types
from numba.core.errors import TypingError
from numba.extending import overload, register_jitable
from numba.np.numpy_support import from_dtype
from numba.np.unsafe.ndarray import to_fixed_tuple

from . import runtime
from .errors import NoRuleError

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


# inline="always": Numba inlines each small implementation into the caller, so the common
# equal-shape check costs nothing there; left to LLVM, the matrix case was a ~35 ns call.
@overload(runtime.unbroadcast, inline="always")
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


# =============================================================================================
# The NumPy rules' helpers (adjoint.rules.numpy). Under Numba a NumPy primal takes fewer forms
# than in CPython (np.sum takes an int axis, np.mean/max/prod none; `@`, np.dot and np.linalg
# take 1-D and 2-D arrays), so these implementations cover every form that compiles as a
# primal, and more where it costs nothing. A helper whose primal Numba cannot compile at all
# (np.einsum, np.tensordot, np.pad) gets an overload that says so at compile time.
# =============================================================================================


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


# --- reductions -----------------------------------------------------------------------------


@overload(runtime.keep_dims)
def _keep_dims(r, a, axis):
    if _is_scalar(a):
        return lambda r, a, axis: r
    if not _is_array(a):
        return None
    ndim = a.ndim
    if ndim == 0:
        return lambda r, a, axis: _fill(r, ())
    return lambda r, a, axis: _fill(r, to_fixed_tuple(_kept_shape(a.shape, axis), ndim))


@overload(runtime.unreduce)
def _unreduce(g, a, axis):
    if _is_scalar(a):
        return lambda g, a, axis: float(_total(g))
    if not _is_array(a):
        return None
    if a.ndim == 0:
        # Arithmetic on 0-d arrays gives scalars under Numba, so build the 0-d result directly.
        return lambda g, a, axis: np.full((), float(_total(g)))
    return lambda g, a, axis: np.zeros(a.shape) + runtime.keep_dims(g, a, axis)


@overload(runtime.reduce_sum, prefer_literal=True)
def _reduce_sum(x, axis, keepdims):
    if _is_scalar(x):
        return lambda x, axis, keepdims: x
    if not _is_array(x):
        return None
    keep = getattr(keepdims, "literal_value", None)
    if keep is None:
        raise TypingError("reduce_sum needs keepdims as a constant under Numba")
    if keep:
        return lambda x, axis, keepdims: _sum_kept(x, axis)
    if _is_none(axis):
        return lambda x, axis, keepdims: np.sum(x)
    if isinstance(axis, types.Integer):
        return lambda x, axis, keepdims: np.sum(x, axis=axis)
    if isinstance(axis, types.BaseTuple):
        ndim_out = x.ndim - len(axis)
        if ndim_out == 0:
            return lambda x, axis, keepdims: np.sum(x)

        def drop_axes(x, axis, keepdims):
            kept = _kept_shape(x.shape, axis)
            shape = np.empty(ndim_out, np.intp)
            j = 0
            reduced = _axes_array(axis) % x.ndim
            for k in range(x.ndim):
                if not (reduced == k).any():
                    shape[j] = kept[k]
                    j += 1
            return _sum_kept(x, axis).reshape(to_fixed_tuple(shape, ndim_out))
        return drop_axes
    return None


@overload(runtime.reduced_count)
def _reduced_count(a, axis):
    if _is_scalar(a):
        return lambda a, axis: 1
    if not _is_array(a):
        return None
    if _is_none(axis):
        return lambda a, axis: a.size

    def impl(a, axis):
        n = 1
        for k in _axes_array(axis):
            n *= a.shape[k % a.ndim]
        return n
    return impl


@overload(runtime.ddof_count)
def _ddof_count(a, axis, ddof):
    def impl(a, axis, ddof):
        n = runtime.reduced_count(a, axis) - ddof
        return float(n) if n > 0 else np.nan
    return impl


@overload(runtime.nonzero_reciprocal)
def _nonzero_reciprocal(x):
    if _is_scalar(x):
        return lambda x: 1.0 / x if x != 0 else 0.0
    if _is_array(x):
        def impl(x):
            out = np.zeros(x.shape)
            flat_x, flat_out = x.ravel(), out.reshape(out.size)
            for i in range(flat_x.size):
                if flat_x[i] != 0:
                    flat_out[i] = 1.0 / flat_x[i]
            return out
        return impl
    return None


@overload(runtime.centered)
def _centered(a, axis):
    if _is_scalar(a):
        return lambda a, axis: 0.0
    if not _is_array(a):
        return None
    return lambda a, axis: a - _sum_kept(a, axis) / runtime.reduced_count(a, axis)


@overload(runtime.extreme_weights)
def _extreme_weights(a, z, axis):
    if _is_scalar(a):
        return lambda a, z, axis: 1.0
    if not _is_array(a):
        return None

    def impl(a, z, axis):
        hit = (a == runtime.keep_dims(z, a, axis)) * 1.0
        return hit / _sum_kept(hit, axis)
    return impl


@register_jitable
def _exclusive_products(x3):
    """For each lane of x3 (before, n, after), the product of the lane's other elements."""
    before, n, after = x3.shape
    out = np.empty((before, n, after))
    for i in range(before):
        for k in range(after):
            p = 1.0
            for j in range(n):
                out[i, j, k] = p
                p *= x3[i, j, k]
            p = 1.0
            for j in range(n - 1, -1, -1):
                out[i, j, k] *= p
                p *= x3[i, j, k]
    return out


@overload(runtime.prod_weights)
def _prod_weights(a, axis):
    if _is_scalar(a):
        return lambda a, axis: 1.0
    if not _is_array(a):
        return None
    if _is_none(axis) or isinstance(axis, types.Integer):
        return lambda a, axis: _exclusive_products(_lanes(a, axis)).reshape(a.shape)
    raise TypingError("prod_weights takes one axis under Numba (Numba's np.prod takes none)")


@register_jitable
def _nonzero(norms):
    """Norms with 0 replaced by 1 (np.where compiles slowly under Numba)."""
    return norms + (norms == 0) * 1.0


@register_jitable
def _two_norm_weights(x, z, axis):
    """x / ‖x‖ (2-norm or Frobenius), 0 where the norm is 0."""
    zk = runtime.keep_dims(z, x, axis)
    return (x * 1.0) / _nonzero(zk)


@overload(runtime.norm_weights, prefer_literal=True)
def _norm_weights(x, z, ord, axis):
    if not _is_array(x):
        return None
    if _is_none(axis):
        if x.ndim > 2 and not _is_none(ord):
            def too_many_dims(x, z, ord, axis):
                _raise_no_rule("np.linalg.norm with ord needs axis for arrays of more than 2 "
                               "dimensions; pass axis=... or flatten the array")
                return np.zeros(x.shape)
            return too_many_dims
        matrix = x.ndim == 2 and not _is_none(ord)
    else:
        matrix = isinstance(axis, types.BaseTuple) and len(axis) == 2

    def two_norm(x, z, ord, axis):
        return _two_norm_weights(x, z, axis)

    if _is_none(ord):
        return two_norm
    if isinstance(ord, (types.UnicodeType, types.StringLiteral)):
        def named(x, z, ord, axis):
            if not (matrix and ord == "fro"):
                _raise_no_rule("adjoint has no rule for np.linalg.norm with this ord; use "
                               "ord='fro' for matrices, or compute the norm from its definition")
            return _two_norm_weights(x, z, axis)
        return named
    if matrix:
        def no_rule(x, z, ord, axis):
            _raise_no_rule("adjoint has no rule for this matrix norm under np.linalg.norm; use "
                           "ord='fro', or compute the norm from its definition")
            return np.zeros(x.shape)
        return no_rule

    def vector(x, z, ord, axis):
        xf = x * 1.0
        zk = runtime.keep_dims(z, x, axis)
        safe = _nonzero(zk)
        if ord == 2:
            return xf / safe
        if ord == 1:
            return np.sign(xf)
        if ord == np.inf or ord == -np.inf:
            return np.sign(xf) * runtime.extreme_weights(np.abs(xf), z, axis)
        if ord == 0:
            return np.zeros(x.shape)
        p = float(ord)
        return np.sign(xf) * np.abs(xf) ** (p - 1.0) / safe ** (p - 1.0)
    return vector


# --- cumulative sums and products, differences ----------------------------------------------


@overload(runtime.cumsum_axis)
def _cumsum_axis(x, axis):
    if not _is_array(x):
        return None
    if _is_none(axis):
        return lambda x, axis: np.cumsum(x)
    if isinstance(axis, types.Integer):
        return lambda x, axis: np.cumsum(x, axis=axis)
    return None


@register_jitable
def _reverse_cumsum(g3):
    before, n, after = g3.shape
    out = np.empty((before, n, after))
    for i in range(before):
        for k in range(after):
            total = 0.0
            for j in range(n - 1, -1, -1):
                total += g3[i, j, k]
                out[i, j, k] = total
    return out


@overload(runtime.cumsum_vjp)
def _cumsum_vjp(g, a, axis):
    if not _is_array(g):
        return None
    if _is_none(axis):
        return lambda g, a, axis: runtime.reshape_like(_reverse_cumsum(_lanes(g, axis)), a)
    if isinstance(axis, types.Integer):
        return lambda g, a, axis: _reverse_cumsum(_lanes(g, axis)).reshape(g.shape)
    return None


@register_jitable
def _cumprod_adjoint(g3, x3):
    """T_i = g_i + x_{i+1} T_{i+1}, times the exclusive prefix product P_i, along each lane."""
    before, n, after = x3.shape
    out = np.empty((before, n, after))
    for i in range(before):
        for k in range(after):
            t = 0.0
            for j in range(n - 1, -1, -1):
                t = g3[i, j, k] + (x3[i, j + 1, k] * t if j + 1 < n else 0.0)
                out[i, j, k] = t
            prefix = 1.0
            for j in range(n):
                out[i, j, k] *= prefix
                prefix *= x3[i, j, k]
    return out


@overload(runtime.cumprod_vjp)
def _cumprod_vjp(g, a, axis):
    if not (_is_array(g) and _is_array(a)):
        return None
    if _is_none(axis):
        return lambda g, a, axis: runtime.reshape_like(
            _cumprod_adjoint(_lanes(g, axis), _lanes(a, axis)), a)
    if isinstance(axis, types.Integer):
        return lambda g, a, axis: _cumprod_adjoint(_lanes(g, axis), _lanes(a, axis)).reshape(
            a.shape)
    return None


@register_jitable
def _cumprod_tangent(t3, x3, z3):
    before, n, after = x3.shape
    out = np.empty((before, n, after))
    for i in range(before):
        for k in range(after):
            dz = 0.0
            for j in range(n):
                previous = z3[i, j - 1, k] if j else 1.0
                dz = dz * x3[i, j, k] + previous * t3[i, j, k]
                out[i, j, k] = dz
    return out


@overload(runtime.cumprod_jvp)
def _cumprod_jvp(t, a, z, axis):
    if not (_is_array(t) and _is_array(a) and _is_array(z)):
        return None
    if _is_none(axis):
        return lambda t, a, z, axis: _cumprod_tangent(
            _lanes(t, axis), _lanes(a, axis), _lanes(z, axis)).reshape(a.size)
    if isinstance(axis, types.Integer):
        return lambda t, a, z, axis: _cumprod_tangent(
            _lanes(t, axis), _lanes(a, axis), _lanes(z, axis)).reshape(a.shape)
    return None


@register_jitable
def _with_length(shape, axis, n):
    """``shape`` (a tuple) with axis ``axis`` of length ``n``, as an ``intp`` array."""
    out = np.empty(len(shape), np.intp)
    for j in range(len(shape)):
        out[j] = shape[j]
    out[axis] = n
    return out


@register_jitable
def _diff_lanes(y, n):
    """np.diff(., n) along the middle axis of y (before, m, after)."""
    for _ in range(n):
        before, m, after = y.shape
        if m == 0:
            break
        r = np.empty((before, m - 1, after))
        for i in range(before):
            for j in range(m - 1):
                for k in range(after):
                    r[i, j, k] = y[i, j + 1, k] - y[i, j, k]
        y = r
    return y


@register_jitable
def _diff_adjoint_lanes(y, n):
    """The adjoint of np.diff(., n) along the middle axis: n times, minus the difference of y
    padded with a zero at both ends, r[j] = y[j-1] - y[j]."""
    for _ in range(n):
        before, m, after = y.shape
        r = np.zeros((before, m + 1, after))
        for i in range(before):
            for j in range(m):
                for k in range(after):
                    r[i, j, k] -= y[i, j, k]
                    r[i, j + 1, k] += y[i, j, k]
        y = r
    return y


@overload(runtime.diff_axis)
def _diff_axis(x, n, axis):
    if not (_is_array(x) and isinstance(axis, types.Integer)):
        return None
    ndim = x.ndim

    def impl(x, n, axis):
        y = _diff_lanes(_lanes(x, axis), n)
        return y.reshape(to_fixed_tuple(_with_length(x.shape, axis % ndim, y.shape[1]), ndim))
    return impl


@overload(runtime.diff_vjp)
def _diff_vjp(g, a, n, axis):
    if not (_is_array(g) and _is_array(a) and isinstance(axis, types.Integer)):
        return None
    ndim = g.ndim

    def impl(g, a, n, axis):
        if a.shape[axis % ndim] <= n:  # an empty difference: nothing flows back
            return np.zeros(a.shape)
        y = _diff_adjoint_lanes(_lanes(g, axis), n)
        return y.reshape(to_fixed_tuple(_with_length(g.shape, axis % ndim, y.shape[1]), ndim))
    return impl


# --- linear algebra -------------------------------------------------------------------------


@overload(runtime.mT)
def _mT(x):
    if _is_array(x) and x.ndim == 2:
        # x.T keeps a known (Fortran) layout, which Numba's `@` takes without a copy or a
        # performance warning; swapaxes would give an 'A'-layout view.
        return lambda x: x.T
    if _is_array(x) and x.ndim > 2:
        return lambda x: np.swapaxes(x, -1, -2)
    return None


def _bilinear(name, cases):
    """Register ``cases[(a.ndim, b.ndim)]`` (0 for a scalar) as the overload of ``name``."""
    def typer(g, a, b):
        key = tuple(0 if _is_scalar(t) else t.ndim if _is_array(t) else None for t in (a, b))
        impl = cases.get(key)
        if impl is None:
            raise TypingError(f"{name} under Numba takes scalars, 1-D and 2-D arrays (Numba's "
                              f"products take no more), not {a} and {b}")
        if any(_is_array(t) and t.dtype != types.float64 for t in (g, a, b)):
            # Numba's products take one dtype: a float32 (or integer) primal meets a float64
            # adjoint, so everything goes to float64 first, as NumPy's promotion would.
            helper = getattr(runtime, name)
            return lambda g, a, b: helper(runtime.as_float(g), runtime.as_float(a),
                                          runtime.as_float(b))
        return impl
    overload(getattr(runtime, name))(typer)


# The adjoint of a in z = a ∘ b is g contracted with b over b's free axes (and of b likewise);
# with 1-D operands the contractions are dot products and outer products.
_bilinear("matmul_vjp_a", {
    (2, 2): lambda g, a, b: np.dot(g, b.T),
    (1, 2): lambda g, a, b: np.dot(b, g),
    (2, 1): lambda g, a, b: np.outer(g, b),
    (1, 1): lambda g, a, b: g * b,
})
_bilinear("matmul_vjp_b", {
    (2, 2): lambda g, a, b: np.dot(a.T, g),
    (1, 2): lambda g, a, b: np.outer(a, g),
    (2, 1): lambda g, a, b: np.dot(g, a),
    (1, 1): lambda g, a, b: g * a,
})
_SCALAR_FACTOR_A = {
    (0, 0): lambda g, a, b: float(g * b),
    (0, 1): lambda g, a, b: float(np.sum(g * b)),
    (0, 2): lambda g, a, b: float(np.sum(g * b)),
    (1, 0): lambda g, a, b: g * b,
    (2, 0): lambda g, a, b: g * b,
}
_SCALAR_FACTOR_B = {
    (0, 0): lambda g, a, b: float(g * a),
    (1, 0): lambda g, a, b: float(np.sum(g * a)),
    (2, 0): lambda g, a, b: float(np.sum(g * a)),
    (0, 1): lambda g, a, b: g * a,
    (0, 2): lambda g, a, b: g * a,
}
_bilinear("dot_vjp_a", {
    (2, 2): lambda g, a, b: np.dot(g, b.T),
    (1, 2): lambda g, a, b: np.dot(b, g),
    (2, 1): lambda g, a, b: np.outer(g, b),
    (1, 1): lambda g, a, b: g * b,
    **_SCALAR_FACTOR_A,
})
_bilinear("dot_vjp_b", {
    (2, 2): lambda g, a, b: np.dot(a.T, g),
    (1, 2): lambda g, a, b: np.outer(a, g),
    (2, 1): lambda g, a, b: np.dot(g, a),
    (1, 1): lambda g, a, b: g * a,
    **_SCALAR_FACTOR_B,
})
# np.inner contracts the last axes of both: inner(a, b) = a @ b.T for matrices.
_bilinear("inner_vjp_a", {
    (2, 2): lambda g, a, b: np.dot(g, b),
    (1, 2): lambda g, a, b: np.dot(g, b),
    (2, 1): lambda g, a, b: np.outer(g, b),
    (1, 1): lambda g, a, b: g * b,
    **_SCALAR_FACTOR_A,
})
_bilinear("inner_vjp_b", {
    (2, 2): lambda g, a, b: np.dot(g.T, a),
    (1, 2): lambda g, a, b: np.outer(g, a),
    (2, 1): lambda g, a, b: np.dot(g, a),
    (1, 1): lambda g, a, b: g * a,
    **_SCALAR_FACTOR_B,
})

overload(runtime.tensordot_vjp_a)(_refuse("Numba cannot compile np.tensordot"))
overload(runtime.tensordot_vjp_b)(_refuse("Numba cannot compile np.tensordot"))
overload(runtime.einsum_vjp)(_refuse("Numba cannot compile np.einsum"))
overload(runtime.einsum_jvp)(_refuse("Numba cannot compile np.einsum"))


def _diagonal_value(g, k):
    """Element ``k`` of the diagonal values ``g``: a scalar, or a 1-D array (length 1
    broadcasts)."""


@overload(_diagonal_value)
def _diagonal_value_impl(g, k):
    if _is_array(g) and g.ndim == 1:
        return lambda g, k: g[k if g.shape[0] != 1 else 0]
    if _is_scalar(g):
        return lambda g, k: g
    return None


@overload(runtime.diagonal_vjp)
def _diagonal_vjp(g, a, offset, axis1, axis2):
    if not (_is_array(a) and a.ndim == 2):
        raise TypingError("diagonal_vjp under Numba takes a 2-D array (Numba has no "
                          "np.diagonal; np.trace and np.diag are 2-D)")

    def impl(g, a, offset, axis1, axis2):
        out = np.zeros(a.shape)
        swapped = axis1 % 2 == 1 and axis2 % 2 == 0
        rows = a.shape[1] if swapped else a.shape[0]
        cols = a.shape[0] if swapped else a.shape[1]
        first = max(0, -offset)
        for i in range(first, min(rows, cols - offset)):
            if swapped:
                out[i + offset, i] = _diagonal_value(g, i - first)
            else:
                out[i, i + offset] = _diagonal_value(g, i - first)
        return out
    return impl


@overload(runtime.trace_vjp)
def _trace_vjp(g, a, offset, axis1, axis2):
    if not (_is_array(a) and a.ndim == 2 and _is_scalar(g)):
        raise TypingError("trace_vjp under Numba takes a 2-D array (Numba's np.trace is 2-D)")
    return lambda g, a, offset, axis1, axis2: runtime.diagonal_vjp(g, a, offset, axis1, axis2)


@overload(runtime.diag_vjp)
def _diag_vjp(g, v, k):
    if _is_array(v) and v.ndim == 1:
        return lambda g, v, k: np.diag(g, k).copy()
    if _is_array(v) and v.ndim == 2:
        return lambda g, v, k: runtime.diagonal_vjp(g, v, k, 0, 1)
    return None


def _matrices(*ts):
    """Whether every type is a 2-D array (Numba's np.linalg takes no stacks of matrices)."""
    return all(_is_array(t) and t.ndim == 2 for t in ts)


_NOT_2D = "{} under Numba takes 2-D matrices (Numba's np.linalg takes no stacks of them)"


def _not_float64(*args):
    """Whether an array among ``args`` is not float64: Numba's linear algebra takes one dtype,
    and a float32 primal meets a float64 adjoint."""
    return any(_is_array(t) and t.dtype != types.float64 for t in args)


@register_jitable
def _f64(x):
    return runtime.as_float(x)


@overload(runtime.solve_vjp_b)
def _solve_vjp_b(g, a, b):
    if not (_matrices(a) and _is_array(b)):
        raise TypingError(_NOT_2D.format("solve_vjp_b"))
    if _not_float64(g, a, b):
        return lambda g, a, b: runtime.solve_vjp_b(g, _f64(a), _f64(b))
    return lambda g, a, b: np.linalg.solve(a.T, g)


@overload(runtime.solve_vjp_a)
def _solve_vjp_a(g, a, b, x):
    if not (_matrices(a) and _is_array(b)):
        raise TypingError(_NOT_2D.format("solve_vjp_a"))
    if _not_float64(g, a, b, x):
        return lambda g, a, b, x: runtime.solve_vjp_a(g, _f64(a), _f64(b), _f64(x))
    if b.ndim == 1:
        return lambda g, a, b, x: -np.outer(np.linalg.solve(a.T, g), x)
    return lambda g, a, b, x: -np.dot(np.linalg.solve(a.T, g), x.T)


@overload(runtime.solve_jvp_a)
def _solve_jvp_a(t, a, b, x):
    if not (_matrices(a) and _is_array(b)):
        raise TypingError(_NOT_2D.format("solve_jvp_a"))
    if _not_float64(t, a, b, x):
        return lambda t, a, b, x: runtime.solve_jvp_a(t, _f64(a), _f64(b), _f64(x))
    return lambda t, a, b, x: -np.linalg.solve(a, np.dot(t, x))


@overload(runtime.det_vjp)
def _det_vjp(g, a, z):
    if not _matrices(a):
        raise TypingError(_NOT_2D.format("det_vjp"))
    return lambda g, a, z: np.ascontiguousarray((g * z) * np.linalg.inv(a).T)


@overload(runtime.det_jvp)
def _det_jvp(t, a, z):
    if not _matrices(a):
        raise TypingError(_NOT_2D.format("det_jvp"))
    if _not_float64(t, a):
        return lambda t, a, z: runtime.det_jvp(t, _f64(a), z)
    return lambda t, a, z: z * np.trace(np.linalg.solve(a, t))


@overload(runtime.logdet_vjp)
def _logdet_vjp(g, a):
    if not _matrices(a):
        raise TypingError(_NOT_2D.format("logdet_vjp"))
    return lambda g, a: np.ascontiguousarray(g * np.linalg.inv(a).T)


@overload(runtime.logdet_jvp)
def _logdet_jvp(t, a):
    if not _matrices(a):
        raise TypingError(_NOT_2D.format("logdet_jvp"))
    if _not_float64(t, a):
        return lambda t, a: runtime.logdet_jvp(t, _f64(a))
    return lambda t, a: np.trace(np.linalg.solve(a, t))


# Triangles are written as loops: np.tril costs seconds of Numba compile time.


@register_jitable
def _phi(x):
    """The lower triangle of square ``x`` with its diagonal halved."""
    n = x.shape[0]
    out = np.zeros((n, n))
    for i in range(n):
        for j in range(i):
            out[i, j] = x[i, j]
        out[i, i] = 0.5 * x[i, i]
    return out


@register_jitable
def _cholesky_lower_vjp(g, z):
    """tril(S + Sᵀ) with the diagonal of S, where S = L⁻ᵀ Φ(Lᵀ Ḡ) L⁻¹."""
    inv_l = np.linalg.inv(z)
    s = np.dot(np.dot(inv_l.T, _phi(np.dot(z.T, g))), inv_l)
    n = s.shape[0]
    out = np.zeros((n, n))
    for i in range(n):
        for j in range(i):
            out[i, j] = s[i, j] + s[j, i]
        out[i, i] = s[i, i]
    return out


@register_jitable
def _cholesky_lower_jvp(t, z):
    """L Φ(L⁻¹ dA L⁻ᵀ), dA the symmetric matrix whose lower triangle is t's."""
    n = t.shape[0]
    sym = np.empty((n, n))
    for i in range(n):
        for j in range(n):
            sym[i, j] = t[i, j] if j <= i else t[j, i]
    inv_l = np.linalg.inv(z)
    return np.dot(z, _phi(np.dot(np.dot(inv_l, sym), inv_l.T)))


@overload(runtime.cholesky_vjp)
def _cholesky_vjp(g, z, upper):
    if not _matrices(g, z):
        raise TypingError(_NOT_2D.format("cholesky_vjp"))

    def impl(g, z, upper):
        # The upper factor is the transpose of the lower one. Contiguous copies, so that the
        # lower-case code compiles once (Numba compiles per memory layout).
        if upper:
            return np.ascontiguousarray(_cholesky_lower_vjp(
                np.ascontiguousarray(g.T), np.ascontiguousarray(z.T)).T)
        return _cholesky_lower_vjp(np.ascontiguousarray(g), np.ascontiguousarray(z))
    return impl


@overload(runtime.cholesky_jvp)
def _cholesky_jvp(t, z, upper):
    if not _matrices(t, z):
        raise TypingError(_NOT_2D.format("cholesky_jvp"))

    def impl(t, z, upper):
        if upper:
            return np.ascontiguousarray(_cholesky_lower_jvp(
                np.ascontiguousarray(t.T), np.ascontiguousarray(z.T)).T)
        return _cholesky_lower_jvp(np.ascontiguousarray(t), np.ascontiguousarray(z))
    return impl


# --- shape ----------------------------------------------------------------------------------


@overload(runtime.reshape_like)
def _reshape_like(g, like):
    if _is_scalar(like):
        if _is_array(g):
            def to_scalar(g, like):
                if g.size != 1:
                    raise ValueError("cannot reshape an adjoint of several elements to a scalar")
                return float(np.ravel(g)[0])
            return to_scalar
        return lambda g, like: float(g)
    if not _is_array(like):
        return None
    if _is_array(g):
        return lambda g, like: np.ascontiguousarray(g).reshape(like.shape)

    def from_scalar(g, like):
        if like.size != 1:
            raise ValueError("cannot reshape a scalar adjoint to several elements")
        return np.full(like.shape, g)
    return from_scalar


@overload(runtime.reshape_order, prefer_literal=True)
def _reshape_order(g, like, order):
    if not _is_array(like) or not _is_array(g):
        return lambda g, like, order: runtime.reshape_like(g, like)
    # "A" and "K" read like's memory order: Fortran for an F-contiguous array.
    like_order = "F" if like.layout == "F" else "C"
    constant = getattr(order, "literal_value", None)
    if constant is not None:
        if constant in ("A", "K"):
            constant = like_order
        if constant == "C":
            return lambda g, like, order: runtime.reshape_like(g, like)
        if constant == "F":
            return lambda g, like, order: _reshape_fortran(g, like.shape)
        return None

    def impl(g, like, order):
        if order == "F" or (order in ("A", "K") and like_order == "F"):
            return _reshape_fortran(g, like.shape)
        return runtime.reshape_like(g, like)
    return impl


@register_jitable
def _reshape_fortran(g, shape):
    # Reading g in Fortran order is reading g.T in C order; writing the result in Fortran
    # order is writing its transpose in C order.
    return np.ascontiguousarray(g.T).reshape(shape[::-1]).T


@overload(runtime.method_axes)
def _method_axes(ax0=None, ax1=None, ax2=None, ax3=None, ax4=None, ax5=None):
    given = [not _is_none(t) for t in (ax0, ax1, ax2, ax3, ax4, ax5)]
    count = given.index(False) if False in given else 6
    if count <= 1:
        return lambda ax0=None, ax1=None, ax2=None, ax3=None, ax4=None, ax5=None: ax0
    return {
        2: lambda ax0=None, ax1=None, ax2=None, ax3=None, ax4=None, ax5=None: (ax0, ax1),
        3: lambda ax0=None, ax1=None, ax2=None, ax3=None, ax4=None, ax5=None: (ax0, ax1, ax2),
        4: lambda ax0=None, ax1=None, ax2=None, ax3=None, ax4=None, ax5=None: (
            ax0, ax1, ax2, ax3),
        5: lambda ax0=None, ax1=None, ax2=None, ax3=None, ax4=None, ax5=None: (
            ax0, ax1, ax2, ax3, ax4),
        6: lambda ax0=None, ax1=None, ax2=None, ax3=None, ax4=None, ax5=None: (
            ax0, ax1, ax2, ax3, ax4, ax5),
    }[count]


@overload(runtime.permute)
def _permute(x, axes):
    if not _is_array(x):
        return None
    if _is_none(axes):
        return lambda x, axes: np.transpose(x)
    ndim = x.ndim
    return lambda x, axes: np.transpose(x, to_fixed_tuple(_axes_array(axes) % ndim, ndim))


@overload(runtime.unpermute)
def _unpermute(g, axes):
    if not _is_array(g):
        return None
    if _is_none(axes):
        return lambda g, axes: np.transpose(g)
    ndim = g.ndim
    return lambda g, axes: np.transpose(
        g, to_fixed_tuple(np.argsort(_axes_array(axes) % ndim), ndim))


def _pieces(count, params, setup, length, finish):
    """``impl(params)`` returning ``count`` consecutive pieces of ``g3`` along its middle axis.

    ``setup`` lines define ``g3`` (the adjoint as (before, n, after)); piece ``i`` is
    ``length(i)`` long and is returned as ``finish(i, piece)``. Generated as source because a
    Numba function cannot build a tuple of a length known only at compile time in a loop.
    """
    lines = [f"def impl({params}):", *("    " + line for line in setup), "    start = 0"]
    for i in range(count):
        lines += [f"    n{i} = {length(i)}",
                  f"    p{i} = {finish(i, f'g3[:, start:start + n{i}, :]')}",
                  f"    start += n{i}"]
    lines.append("    return (" + "".join(f"p{i}, " for i in range(count)) + ")")
    scope = {"np": np, "_axis_split": _axis_split}
    exec("\n".join(lines), scope)  # noqa: S102  (source built above from constants)
    return scope["impl"]


def _piece_finish(t, i, sequence):
    """Source that turns a (before, n, after) piece into the adjoint of element ``i`` (type
    ``t``) of ``sequence``: a float for a scalar, an array of the element's shape otherwise."""
    if _is_scalar(t):
        return lambda piece: f"float({piece}[0, 0, 0])"
    return lambda piece: f"np.ascontiguousarray({piece}).reshape({sequence}[{i}].shape)"


@overload(runtime.split_like)
def _split_like(g, arrays, axis):
    if not (_is_array(g) and isinstance(arrays, types.BaseTuple)):
        return None
    elements = arrays.types
    finishes = [_piece_finish(t, i, "arrays") for i, t in enumerate(elements)]
    flat = _is_none(axis)

    def length(i):
        if flat:
            return "1" if _is_scalar(elements[i]) else f"arrays[{i}].size"
        return f"arrays[{i}].shape[ax]"

    if flat:
        setup = ["g3 = np.ascontiguousarray(g).reshape((1, g.size, 1))"]
    else:
        setup = ["ax = axis % g.ndim",
                 "g3 = np.ascontiguousarray(g).reshape(_axis_split(g.shape, ax))"]
    return _pieces(len(elements), "g, arrays, axis", setup, length,
                   lambda i, piece: finishes[i](piece))


@overload(runtime.unstack)
def _unstack(g, axis):
    if not (_is_array(g) and isinstance(axis, types.Integer)):
        return None
    ndim = g.ndim

    def impl(g, axis):  # np.moveaxis(g, axis, 0), which compiles slowly under Numba
        first = axis % ndim
        order = np.empty(ndim, np.intp)
        order[0] = first
        for k in range(ndim):
            if k < first:
                order[k + 1] = k
            elif k > first:
                order[k] = k
        return np.transpose(g, to_fixed_tuple(order, ndim))
    return impl


def _stack_vjp(g, tup, axis, length_of):
    if not (_is_array(g) and isinstance(tup, types.BaseTuple)):
        return None
    elements = tup.types
    finishes = [_piece_finish(t, i, "tup") for i, t in enumerate(elements)]
    setup = [f"g3 = np.ascontiguousarray(g).reshape(_axis_split(g.shape, {axis}))"]
    return _pieces(len(elements), "g, tup", setup, lambda i: length_of(elements[i], i),
                   lambda i, piece: finishes[i](piece))


@overload(runtime.hstack_vjp)
def _hstack_vjp(g, tup):
    if not _is_array(g):
        return None
    axis = 0 if g.ndim == 1 else 1  # hstack joins 1-D arrays on axis 0, others on axis 1

    def length_of(t, i):
        return f"tup[{i}].shape[{axis}]" if _is_array(t) and t.ndim >= 1 else "1"
    return _stack_vjp(g, tup, axis, length_of)


@overload(runtime.vstack_vjp)
def _vstack_vjp(g, tup):
    def length_of(t, i):  # vstack makes each element at least 2-D: (1, n) for a 1-D one
        return f"tup[{i}].shape[0]" if _is_array(t) and t.ndim >= 2 else "1"
    return _stack_vjp(g, tup, 0, length_of)


@register_jitable
def _fold_tiles(g, a_shape):
    """Sum ``g`` over the tiles of ``np.tile``: element i of g lands on i mod a_shape, with
    ``a_shape`` padded with leading 1s to g's number of dimensions."""
    ndim = g.ndim
    size = 1
    for k in range(ndim):
        size *= a_shape[k]
    out = np.zeros(size)
    src = np.ascontiguousarray(g).reshape(g.size)
    for f in range(src.size):
        rest = f
        target = 0
        stride = 1
        for k in range(ndim - 1, -1, -1):
            index = rest % g.shape[k]
            rest //= g.shape[k]
            target += (index % a_shape[k]) * stride
            stride *= a_shape[k]
        out[target] += src[f]
    return out


@overload(runtime.tile_vjp)
def _tile_vjp(g, a, reps):
    if _is_scalar(a):
        return lambda g, a, reps: float(_total(g))
    if not (_is_array(a) and _is_array(g)):
        return None
    pad = g.ndim - a.ndim

    def impl(g, a, reps):
        a_shape = np.ones(g.ndim, np.intp)
        for k in range(a.ndim):
            a_shape[pad + k] = a.shape[k]
        return _fold_tiles(g, a_shape).reshape(a.shape)
    return impl


@register_jitable
def _gather_repeats(g3, counts):
    """Sum the copies ``np.repeat`` made: g3 is (before, total, after), counts one per
    element of the middle axis of the result."""
    before, _, after = g3.shape
    n = counts.size
    out = np.zeros((before, n, after))
    position = 0
    for j in range(n):
        for _ in range(counts[j]):
            for i in range(before):
                for k in range(after):
                    out[i, j, k] += g3[i, position, k]
            position += 1
    return out


def _repeat_counts(repeats, n):
    """``repeats`` (an int or an array, length 1 broadcasting) as n counts."""


@overload(_repeat_counts)
def _repeat_counts_impl(repeats, n):
    if isinstance(repeats, types.Integer):
        return lambda repeats, n: np.full(n, repeats, np.intp)
    if _is_array(repeats):
        def impl(repeats, n):
            flat = np.ravel(repeats)
            if flat.size == 1:
                return np.full(n, flat[0], np.intp)
            return flat.astype(np.intp)
        return impl
    return None


@overload(runtime.repeat_vjp)
def _repeat_vjp(g, a, repeats, axis):
    if not _is_array(g):
        return None
    if _is_scalar(a):
        return lambda g, a, repeats, axis: float(np.sum(g))
    if not _is_array(a):
        return None
    if _is_none(axis):
        def flat(g, a, repeats, axis):
            g3 = np.ascontiguousarray(g).reshape((1, g.size, 1))
            return _gather_repeats(g3, _repeat_counts(repeats, a.size)).reshape(a.shape)
        return flat

    def along(g, a, repeats, axis):
        ax = axis % a.ndim
        before, n, after = _axis_split(a.shape, ax)
        g3 = np.ascontiguousarray(g).reshape((before, g.shape[ax], after))
        return _gather_repeats(g3, _repeat_counts(repeats, n)).reshape(a.shape)
    return along


@register_jitable
def _roll_axis(y, shift, axis):
    """``np.roll(y, shift, axis)`` for a C-contiguous float64 ``y``, as a new array."""
    before, n, after = _axis_split(y.shape, axis % y.ndim)
    out = np.empty((before, n, after))
    if n == 0:
        return out.reshape(y.shape)
    y3 = y.reshape((before, n, after))
    for j in range(n):
        out[:, (j + shift) % n, :] = y3[:, j, :]
    return out.reshape(y.shape)


def _roll(direction):
    """An overload body for ``np.roll(x, direction * shift, axis)`` (Numba's has no axis)."""
    def typer(x, shift, axis):
        if not _is_array(x):
            return None
        if _is_none(axis):
            if isinstance(shift, types.Integer):
                return lambda x, shift, axis: np.roll(x, direction * shift)
            return None

        def impl(x, shift, axis):
            shifts = _axes_array(shift)
            axes = _axes_array(axis)
            count = max(shifts.size, axes.size)  # NumPy broadcasts one against the other
            y = np.ascontiguousarray(x).astype(np.float64)
            for k in range(count):
                y = _roll_axis(y, direction * shifts[k if shifts.size > 1 else 0],
                               axes[k if axes.size > 1 else 0])
            return y
        return impl
    return typer


overload(runtime.roll_axis)(_roll(1))
overload(runtime.roll_vjp)(_roll(-1))


@overload(runtime.flip_axis)
def _flip_axis(x, axis):
    if not _is_array(x):
        return None
    if _is_none(axis):
        return lambda x, axis: np.flip(x)

    def impl(x, axis):
        y = np.ascontiguousarray(x).astype(np.float64)
        for k in _axes_array(axis):
            y3 = y.reshape(_axis_split(y.shape, k % y.ndim))
            y = np.ascontiguousarray(y3[:, ::-1, :]).reshape(x.shape)
        return y
    return impl


overload(runtime.unpad)(_refuse("Numba cannot compile np.pad"))
overload(runtime.index_concat_vjp)(_refuse("Numba cannot compile np.r_ or np.c_"))
overload(runtime.index_concat_jvp)(_refuse("Numba cannot compile np.r_ or np.c_"))
overload(runtime.pad_border)(_refuse("Numba cannot compile np.pad"))


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


# --- sorting --------------------------------------------------------------------------------


@register_jitable
def _lane_orders(a3):
    """For each lane of a3 (before, n, after), the stable argsort of the lane."""
    before, n, after = a3.shape
    orders = np.empty((before, n, after), np.intp)
    lane = np.empty(n)
    for i in range(before):
        for k in range(after):
            for j in range(n):
                lane[j] = a3[i, j, k]
            order = np.argsort(lane, kind="mergesort")
            for j in range(n):
                orders[i, j, k] = order[j]
    return orders


@register_jitable
def _scatter_sorted(g3, orders):
    before, n, after = g3.shape
    out = np.zeros((before, n, after))
    for i in range(before):
        for j in range(n):
            for k in range(after):
                out[i, orders[i, j, k], k] = g3[i, j, k]
    return out


@register_jitable
def _gather_sorted(t3, orders):
    before, n, after = t3.shape
    out = np.empty((before, n, after))
    for i in range(before):
        for j in range(n):
            for k in range(after):
                out[i, j, k] = t3[i, orders[i, j, k], k]
    return out


@overload(runtime.sort_vjp)
def _sort_vjp(g, a, axis):
    if not (_is_array(g) and _is_array(a)):
        return None
    if _is_none(axis):
        return lambda g, a, axis: runtime.reshape_like(
            _scatter_sorted(_lanes(g, axis), _lane_orders(_lanes(a, axis))), a)
    return lambda g, a, axis: _scatter_sorted(
        _lanes(g, axis), _lane_orders(_lanes(a, axis))).reshape(a.shape)


@overload(runtime.sort_jvp)
def _sort_jvp(t, a, axis):
    if not (_is_array(t) and _is_array(a)):
        return None
    if _is_none(axis):
        return lambda t, a, axis: _gather_sorted(
            _lanes(t, axis), _lane_orders(_lanes(a, axis))).reshape(a.size)
    return lambda t, a, axis: _gather_sorted(
        _lanes(t, axis), _lane_orders(_lanes(a, axis))).reshape(a.shape)


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


# --- NumPy calls with axes, for forward-mode rules (helpers added with adjoint.rules.numpy) ---


@overload(runtime.trace_axes)
def _trace_axes(x, offset, axis1, axis2):
    if not (_is_array(x) and x.ndim == 2):
        return None

    def impl(x, offset, axis1, axis2):
        if axis1 % 2 == 1 and axis2 % 2 == 0:
            return np.trace(np.ascontiguousarray(x.T), offset)
        return np.trace(x, offset)
    return impl


@overload(runtime.repeat_axis)
def _repeat_axis(x, repeats, axis):
    if _is_none(axis):
        return lambda x, repeats, axis: np.repeat(x, repeats)
    return None
