"""Helpers of the shape rules: reshape, transpose, split/stack/concatenate, tile, repeat,
roll, flip, pad, sort.

These primals only move elements, so each adjoint moves them back (summing where one element
went to several places); results are float64 arrays of the primal argument's shape.
"""

from __future__ import annotations

import numpy as np

from ..errors import NoRuleError


def reshape_like(g, like):
    """``g`` reshaped to ``like``'s shape; a float when ``like`` is a scalar."""
    if not isinstance(like, np.ndarray):
        return float(np.reshape(g, ()))
    return np.reshape(g, like.shape)


def reshape_order(g, like, order):
    """``g`` reshaped to ``like``'s shape, reading and writing elements in ``order``."""
    if not isinstance(like, np.ndarray):
        return float(np.reshape(g, ()))
    if order in ("A", "K"):
        order = "F" if like.flags.f_contiguous and not like.flags.c_contiguous else "C"
    return np.reshape(g, like.shape, order=order)


def method_axes(ax0=None, ax1=None, ax2=None, ax3=None, ax4=None, ax5=None):
    """The axes of ``x.transpose(*axes)``: None, the tuple passed, or the ints passed."""
    if ax1 is None:
        return ax0
    return tuple(k for k in (ax0, ax1, ax2, ax3, ax4, ax5) if k is not None)


def permute(x, axes):
    """``np.transpose(x, axes)``."""
    return np.transpose(x, axes)


def unpermute(g, axes):
    """The inverse of ``np.transpose(., axes)`` applied to ``g``."""
    if axes is None:
        return np.transpose(g)
    return np.transpose(g, np.argsort([k % np.ndim(g) for k in axes]))


def split_like(g, arrays, axis):
    """The pieces of ``g`` that ``np.concatenate(arrays, axis)`` took from each of ``arrays``."""
    pieces = []
    start = 0
    flat = np.ravel(g) if axis is None else g
    for x in arrays:
        n = np.size(x) if axis is None else np.shape(x)[axis]
        index = slice(start, start + n)
        piece = flat[index] if axis is None else np.take(flat, np.arange(start, start + n),
                                                         axis=axis)
        pieces.append(reshape_like(piece, x) if axis is None else piece)
        start += n
    return tuple(pieces)


def unstack(g, axis):
    """The adjoints of the arrays ``np.stack(arrays, axis)`` stacked: ``g``'s slices along
    ``axis``, indexable by position."""
    return np.moveaxis(g, axis, 0)


def hstack_vjp(g, tup):
    """The adjoints of the arrays of ``np.hstack(tup)``."""
    axis = 0 if np.ndim(g) == 1 else 1
    pieces = split_like(g, [np.atleast_1d(x) for x in tup], axis)
    return tuple(reshape_like(p, x) for p, x in zip(pieces, tup))


def vstack_vjp(g, tup):
    """The adjoints of the arrays of ``np.vstack(tup)``."""
    pieces = split_like(g, [np.atleast_2d(x) for x in tup], 0)
    return tuple(reshape_like(p, x) for p, x in zip(pieces, tup))


def _index_concat_labels(maker, items):
    """``maker[items]`` (``np.r_`` or ``np.c_``) with item k replaced by the label k (and each
    constant slice by -1), so that ``labels == k`` selects item k's elements of the result, in
    the item's own order."""
    labels = []
    for k, item in enumerate(items):
        if isinstance(item, str):
            raise NoRuleError("adjoint's rules for np.r_ and np.c_ do not support string "
                              f"directives such as {item!r}",
                              hint="concatenate with np.concatenate, np.stack or "
                                   "np.column_stack instead")
        if isinstance(item, slice):
            labels.append(np.full(np.shape(np.r_[item]), -1.0))
        else:
            labels.append(np.full(np.shape(item), float(k)))
    return maker[tuple(labels)]


def index_concat_vjp(g, maker, items):
    """The adjoints of the items of ``maker[items]`` (``np.r_[a, b]``, ``np.c_[a, b]``): each
    item's elements of ``g``, in its shape (0.0 for slices, which are constants)."""
    labels = _index_concat_labels(maker, items)
    g = np.asarray(g, dtype=np.float64)
    return tuple(0.0 if isinstance(item, slice) else reshape_like(g[labels == k], item)
                 for k, item in enumerate(items))


def index_concat_jvp(tangents, maker, items):
    """The tangent of ``maker[items]`` from the items' ``tangents`` (slices' are zeros)."""
    _index_concat_labels(maker, items)  # refuses what index_concat_vjp refuses
    parts = [np.zeros(np.shape(np.r_[item])) if isinstance(item, slice) else t
             for t, item in zip(tangents, items)]
    return maker[tuple(parts)]


def tile_vjp(g, a, reps):
    """Adjoint of ``np.tile(a, reps)``: the sum of ``g`` over the tiles."""
    reps = (reps,) if isinstance(reps, (int, np.integer)) else tuple(reps)
    shape = np.shape(a)
    n = max(len(reps), len(shape))
    shape = (1,) * (n - len(shape)) + shape
    reps = (1,) * (n - len(reps)) + reps
    split = tuple(m for pair in zip(reps, shape) for m in pair)
    summed = np.sum(np.reshape(g, split), axis=tuple(range(0, 2 * n, 2)))
    return reshape_like(summed, a)


def repeat_vjp(g, a, repeats, axis):
    """Adjoint of ``np.repeat(a, repeats, axis)``: each element collects its copies' adjoints."""
    if axis is None:
        owner = np.repeat(np.arange(np.size(a)), repeats)
        out = np.zeros(np.size(a))
        np.add.at(out, owner, np.ravel(g))
        return reshape_like(out, a)
    owner = np.repeat(np.arange(a.shape[axis]), repeats)
    out = np.zeros(a.shape)
    np.add.at(np.moveaxis(out, axis, 0), owner, np.moveaxis(g, axis, 0))
    return out


def roll_axis(x, shift, axis):
    """``np.roll(x, shift, axis)`` (Numba's ``np.roll`` has no axis)."""
    return np.roll(x, shift, axis)


def roll_vjp(g, shift, axis):
    """Adjoint of ``np.roll(a, shift, axis)``: roll ``g`` back."""
    if isinstance(shift, (tuple, list)):
        back = tuple(-s for s in shift)
    else:
        back = -shift
    return np.roll(g, back, axis)


def trace_axes(x, offset, axis1, axis2):
    """``np.trace(x, offset, axis1, axis2)`` (Numba's ``np.trace`` has no axes)."""
    return np.trace(x, offset, axis1, axis2)


def repeat_axis(x, repeats, axis):
    """``np.repeat(x, repeats, axis)`` (Numba's ``np.repeat`` has no axis)."""
    return np.repeat(x, repeats, axis)


def flip_axis(x, axis):
    """``np.flip(x, axis)`` (Numba's ``np.flip`` has no axis)."""
    return np.flip(x, axis)


def _pad_slices(shape, pad_width):
    widths = np.broadcast_to(np.asarray(pad_width, dtype=np.intp), (len(shape), 2))
    return tuple(slice(int(before), int(before) + n) for (before, _), n in zip(widths, shape))


def unpad(g, a, pad_width, mode):
    """Adjoint of ``np.pad(a, pad_width, mode)`` with respect to ``a`` (mode 'constant')."""
    if mode != "constant":
        raise NoRuleError(f"adjoint's rule for np.pad supports mode='constant' only, not "
                          f"mode={mode!r}", hint="pad with constants, or build the border with "
                          "slicing and np.concatenate")
    return reshape_like(np.asarray(g)[_pad_slices(np.shape(a), pad_width)].copy(), a)


def pad_border(a, pad_width):
    """1.0 where ``np.pad(a, pad_width)`` holds the constant, 0.0 where it holds ``a``."""
    return np.pad(np.zeros(np.shape(a)), pad_width, constant_values=1.0)


def sort_vjp(g, a, axis):
    """Adjoint of ``np.sort(a, axis)``: ``g`` scattered back to where each value came from."""
    if axis is None:
        order = np.argsort(np.ravel(a), kind="stable")
        out = np.zeros(np.size(a))
        out[order] = g
        return reshape_like(out, a)
    order = np.argsort(a, axis=axis, kind="stable")
    out = np.zeros(np.shape(a))
    np.put_along_axis(out, order, g, axis=axis)
    return out


def sort_jvp(t, a, axis):
    """Tangent of ``np.sort(a, axis)``: ``t`` permuted as the values are."""
    if axis is None:
        return np.ravel(t)[np.argsort(np.ravel(a), kind="stable")]
    return np.take_along_axis(t, np.argsort(a, axis=axis, kind="stable"), axis=axis)
