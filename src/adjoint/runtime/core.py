"""The helpers the compiler core emits: zero adjoints, unbroadcasting, copies, accumulation
at an index, trip counts, the tape, and the scalar-output check.

Takes values of generated code (Python numbers or NumPy arrays); guarantees that adjoints of
scalars are floats and adjoints of arrays float64 arrays of the same shape. The tape helpers store
values the backward sweep needs in a preallocated, typed array::

    tape = tape_alloc(n, x)          # room for n values shaped like x
    tape_store(tape, i, x)           # forward sweep, iteration i
    x = tape_load(tape, i)           # backward sweep, same slot

A 0-d array and a scalar share a tape layout, so a 0-d array comes back from the tape as a
scalar of its dtype.
"""

from __future__ import annotations

import math

import numpy as np


def zeros_like(x):
    """A zero adjoint for ``x``: ``0.0`` for a scalar, a float64 zeros array for an array."""
    if isinstance(x, np.ndarray):
        return np.zeros(x.shape)
    return 0.0


_SMALL = 1 << 16  # elements: below, BLAS runs a matrix-vector product in one thread


def unbroadcast(g, like):
    """Sum ``g`` back to the shape of ``like`` (undoing NumPy broadcasting).

    For a scalar ``like`` the result is a float; for an array — or a shape, given as a tuple —
    it is a float64 array of that shape: ``g`` itself when it already is one. A ``g`` with
    fewer dimensions than ``like`` (a scalar included) is broadcast up to ``like``'s shape.
    Shapes that do not broadcast raise ``ValueError``.
    """
    if type(like) is tuple:
        shape = like
    elif isinstance(like, np.ndarray):
        shape = like.shape
    else:
        if isinstance(g, np.ndarray):
            return float(np.add.reduce(g, axis=None))  # np.sum's dispatch costs microseconds
        return float(g)
    if not isinstance(g, np.ndarray):
        return np.full(shape, g, dtype=np.float64)
    if g.dtype != np.float64:
        g = g.astype(np.float64)
    if g.shape == shape:
        return g
    if g.ndim < len(shape):
        return np.broadcast_to(g, shape).copy()
    lead = g.ndim - len(shape)
    trailing = g.shape[lead:]
    if any(n != m and n != 1 for n, m in zip(shape, trailing)):
        raise ValueError(f"cannot unbroadcast an adjoint of shape {g.shape} to shape {shape}")
    axes = tuple(range(lead)) + tuple(
        lead + k for k, (n, m) in enumerate(zip(shape, trailing)) if n == 1 and m != 1)
    if lead and len(axes) == lead and 0 < g.size <= _SMALL and g.flags.c_contiguous:
        # Only leading axes (a bias's adjoint): NumPy sums short rows one at a time, a
        # product with ones (BLAS, one thread at this size) is several times faster.
        rows = g.reshape(-1, math.prod(shape))
        return (np.ones(rows.shape[0]) @ rows).reshape(shape)
    if axes:
        # keepdims, so that summing every axis still gives an array, never a NumPy scalar.
        g = g.sum(axis=axes, keepdims=True)
    return g.reshape(shape)


def sum_to(g, like):
    """``g`` brought to ``like``'s shape (or a number's) as the adjoint of one operand of an
    elementwise product needs: summed over the axes ``like`` lacks or has as 1, and broadcast
    over the axes ``g`` has as 1 where ``like`` does not. ``unbroadcast`` with broadcasting
    in both directions: ``sum_to(s * e, w)`` is ``unbroadcast(np.broadcast_to(s * e,
    shape(e * w)), w)`` without the product ``e * w``. Always a new array or ``g`` itself, as
    ``unbroadcast`` gives."""
    if not isinstance(like, np.ndarray) or not isinstance(g, np.ndarray) or \
            g.shape == like.shape:
        return unbroadcast(g, like)
    full = np.broadcast_shapes(g.shape, like.shape)
    if full == like.shape:
        return broadcast_like(g, like)
    return unbroadcast(np.broadcast_to(g, full), like)


def broadcast_like(g, like):
    """``g`` broadcast up to ``like``'s shape (float for a scalar ``like``, else a new float64
    array): the adjoint of :func:`unbroadcast`."""
    if not isinstance(like, np.ndarray):
        return float(np.sum(g)) if isinstance(g, np.ndarray) else float(g)
    return np.broadcast_to(np.asarray(g, dtype=np.float64), like.shape).copy()


def fresh(x):
    """``x`` itself if it is a scalar, a copy if it is an array (so results are caller-owned)."""
    if isinstance(x, np.ndarray):
        return x.copy()
    return x


def write_adjoint(d, index):
    """The adjoint of the values ``a[index] = v`` wrote, given ``d``, the adjoint of ``a``
    after the write: a copy of ``d[index]`` in which, for an index with integer arrays (or
    lists) that names an element several times, only the occurrence NumPy keeps — the last
    write — is credited. Which one that is is found by writing each position's number
    through the same index, so any mix of slices, integers and integer arrays is exact.
    """
    out = np.array(d[index], dtype=np.float64, copy=True)
    if _is_integer_array(index) or (
            isinstance(index, tuple) and any(_is_integer_array(i) for i in index)):
        position = np.arange(out.size).reshape(out.shape)
        labels = np.full(np.shape(d), -1, dtype=np.intp)
        labels[index] = position
        out[labels[index] != position] = 0.0
    return out if out.ndim else float(out)


def _is_integer_array(i):
    return isinstance(i, (np.ndarray, list)) and np.asarray(i).dtype != np.bool_


def add_at(a, index, value):
    """``a[index] += value`` that accumulates repeated integer indices; returns ``a``."""
    if _is_integer_array(index) or (
            isinstance(index, tuple) and any(_is_integer_array(i) for i in index)):
        np.add.at(a, index, value)
    else:
        a[index] += value
    return a


def range_len(start, stop, step):
    """``len(range(start, stop, step))`` for a nonzero integer step."""
    if step > 0:
        n = (stop - start + step - 1) // step
    else:
        n = (start - stop - step - 1) // (-step)
    return n if n > 0 else 0


def _scalar_dtype(x):
    """The tape dtype for a scalar: bool → bool_, integer → int64, float → float64."""
    # bool before int: bool is a subclass of int.
    if isinstance(x, (bool, np.bool_)):
        return np.bool_
    if isinstance(x, (int, np.integer)):
        return np.int64
    if isinstance(x, (float, np.floating)):
        return np.float64
    if isinstance(x, (complex, np.complexfloating)):
        return np.complex128
    raise TypeError(f"cannot record a value of type {type(x).__name__} on a tape")


def tape_alloc(n, like):
    """An uninitialised tape with room for ``n`` values shaped like ``like``.

    A scalar gives a 1-D array of the matching dtype (float64, int64, bool_, complex128); an array
    gives an array of shape ``(n,) + like.shape`` and ``like``'s dtype.
    """
    if isinstance(like, np.ndarray):
        return np.empty((n,) + like.shape, like.dtype)
    return np.empty(n, _scalar_dtype(like))


def tape_store(tape, k, value):
    """``tape[k] = value``; an array value is copied into the slot, whose shape it must have."""
    if isinstance(value, np.ndarray) and value.shape != tape.shape[1:]:
        # NumPy would silently broadcast a smaller value into the slot.
        raise ValueError(f"cannot record a value of shape {value.shape} on a tape of slots "
                         f"of shape {tape.shape[1:]}")
    tape[k] = value


def tape_load(tape, k):
    """The value in slot ``k``: a Python scalar for a scalar tape, else a copy of the slot."""
    if tape.ndim == 1:
        return tape[k].item()
    return tape[k].copy()


def as_float(x):
    """``x`` as the float it stands for: ``float(x)`` for a scalar, a float64 array for an array.

    A float64 array is returned as it is, without a copy.
    """
    if isinstance(x, np.ndarray):
        return x.astype(np.float64, copy=False)
    return float(x)


def check_scalar(out):
    """``out`` if it is a scalar (a 0-d array becomes a float); otherwise ``ValueError``."""
    if isinstance(out, np.ndarray):
        if out.ndim == 0:
            return float(out)
        raise ValueError(f"the output is not a scalar (shape {out.shape})")
    if isinstance(out, (int, float, np.integer, np.floating, np.bool_)):
        return out
    raise ValueError(f"the output is not a scalar (got {type(out).__name__})")


def place_at(y, like, index):
    """Zeros shaped like ``like`` with ``y`` written at ``index`` (``out[index] = y``; for a
    repeated integer index the last write stays, as in NumPy): the transpose of
    :func:`write_adjoint`."""
    out = np.zeros(np.shape(like))
    out[index] = y
    return out
