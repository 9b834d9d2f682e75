"""Helpers of the shape rules: reshape, transpose, split/stack/concatenate, tile, repeat,
roll, flip, pad, sort.

These primals only move elements, so each adjoint moves them back (summing where one element
went to several places); results are float64 arrays of the primal argument's shape.
"""

from __future__ import annotations

import numpy as np

from ..errors import NoRuleError
from .core import unbroadcast


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
    """The tangent of ``maker[items]`` from the items' ``tangents`` (slices' are zeros; so
    are those of items past the end of ``tangents``, when generated code gave only the first
    ones)."""
    _index_concat_labels(maker, items)  # refuses what index_concat_vjp refuses
    tangents = list(tangents) + [None] * (len(items) - len(tangents))
    parts = [np.zeros(np.shape(np.r_[item])) if isinstance(item, slice) else
             np.zeros(np.shape(item)) if t is None else t
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


def _source_order(a, z, axis):
    """For ``z``, a permutation of ``a`` along ``axis`` (None: of the flattened ``a``), the
    index in ``a`` each element of ``z`` came from: the k-th smallest of ``z`` is the k-th
    smallest of ``a`` (stable ranks, so equal values are matched in order)."""
    a = np.ravel(a) if axis is None else np.asarray(a)
    z = np.asarray(z)
    ax = 0 if axis is None else axis
    rank_a = np.argsort(a, axis=ax, kind="stable")
    rank_z = np.argsort(z, axis=ax, kind="stable")
    source = np.empty_like(rank_a)
    np.put_along_axis(source, rank_z, rank_a, axis=ax)
    return source, ax


def partition_vjp(g, a, z, axis):
    """Adjoint of ``a`` in ``z = np.partition(a, kth, axis)``: ``g`` scattered back to where
    each value of ``z`` came from (found by ranks, whatever order NumPy left the parts in)."""
    source, ax = _source_order(a, z, axis)
    out = np.zeros(source.shape)
    np.put_along_axis(out, source, g, axis=ax)
    return reshape_like(out, a)


def partition_jvp(t, a, z, axis):
    """Tangent of ``z = np.partition(a, kth, axis)``: ``t`` permuted as the values are."""
    source, ax = _source_order(a, z, axis)
    t = np.ravel(t) if axis is None else np.asarray(t, dtype=np.float64)
    return np.take_along_axis(t, source, axis=ax)


def column_stack_vjp(g, tup):
    """Adjoints of the items of ``np.column_stack(tup)``: a 1-D item (or a scalar) is one
    column of ``g``, a 2-D item its own columns."""
    pieces = []
    start = 0
    for x in tup:
        width = np.shape(x)[1] if np.ndim(x) >= 2 else 1
        pieces.append(reshape_like(g[:, start:start + width], x)
                      if np.ndim(x) >= 1 else float(np.sum(g[:, start])))
        start += width
    return tuple(pieces)


def take_part(g, like, axis, front):
    """The part of ``g`` that ``np.append`` took from ``like`` (``front``: the array appended
    to, else the values appended): the first or last ``like``-sized part of ``g`` flattened
    (``axis`` None) or along ``axis``, shaped like ``like``."""
    if axis is None:
        flat = np.ravel(g)
        n = np.size(like)
        return reshape_like(flat[:n] if front else flat[flat.size - n:], like)
    n = np.shape(like)[axis]
    total = np.shape(g)[axis]
    index = np.arange(n) if front else np.arange(total - n, total)
    return reshape_like(np.take(g, index, axis=axis), like)


def pad_part(y, like, axis, front):
    """The transpose of :func:`take_part`: zeros shaped like ``like`` (the whole) with ``y``
    at the front or the back (of the flattened array when ``axis`` is None)."""
    if axis is None:
        flat = np.zeros(np.size(like))
        n = np.size(y)
        if front:
            flat[:n] = np.ravel(y)
        else:
            flat[flat.size - n:] = np.ravel(y)
        return reshape_like(flat, like)
    out = np.zeros(np.shape(like))
    n = np.shape(y)[axis]
    total = out.shape[axis]
    index = [slice(None)] * out.ndim
    index[axis] = slice(0, n) if front else slice(total - n, total)
    out[tuple(index)] = y
    return out


def select_vjp(g, condlist, choicelist):
    """Adjoints of the choices of ``np.select(condlist, choicelist, default)``: each gets
    ``g`` where its condition is the first true one (summed to its shape)."""
    taken = np.zeros(np.shape(g), dtype=bool)
    out = []
    for cond, choice in zip(condlist, choicelist):
        mine = np.asarray(cond, dtype=bool) & ~taken
        out.append(unbroadcast(g * mine, choice))
        taken = taken | mine
    return tuple(out)


def select_default_vjp(g, condlist, default):
    """Adjoint of ``default`` in ``np.select(condlist, choicelist, default)``: ``g`` where no
    condition holds."""
    taken = np.zeros(np.shape(g), dtype=bool)
    for cond in condlist:
        taken = taken | np.asarray(cond, dtype=bool)
    return unbroadcast(g * ~taken, default)


def _elements(g, shape):
    """An adjoint of an array of ``shape``: ``g`` itself, or, when generated code read only
    the array's first elements (``y[0]``), the tuple of their adjoints."""
    if not isinstance(g, (tuple, list)):
        return g
    out = np.zeros(shape)
    for k, part in enumerate(g):
        out[k] = part
    return out


def _gradient_spacings(axes, s0, s1, s2, s3):
    """The spacing argument of ``np.gradient`` that applies to each axis in ``axes``."""
    spacings = [s for s in (s0, s1, s2, s3) if s is not None]
    if not spacings:
        return [1.0] * len(axes)
    if len(spacings) == 1 and np.ndim(spacings[0]) == 0:
        return spacings * len(axes)
    if len(spacings) != len(axes):
        raise NoRuleError("np.gradient: give one spacing, or one per differentiated axis",
                          hint="pass the spacings as NumPy does")
    return spacings


def _gradient_axes(ndim, axis):
    if axis is None:
        return list(range(ndim))
    if isinstance(axis, (tuple, list)):
        return [int(k) % ndim for k in axis]
    return [int(axis) % ndim]


def _gradient_transpose(g, n, spacing, edge_order, axis):
    """``Dᵀ g`` along ``axis`` for D, the length-n finite-difference operator of
    ``np.gradient`` (banded: row i reads at most columns i-2..i+2). D's entries are read by
    applying np.gradient to five combs (every fifth unit vector summed), whose columns do not
    overlap within a band."""
    g = np.moveaxis(np.asarray(g, dtype=np.float64), axis, -1)
    out = np.zeros(g.shape)
    columns = np.arange(n)
    for r in range(5):
        comb = (columns % 5 == r) * 1.0
        entries = np.gradient(comb, spacing, edge_order=edge_order)  # D[i, j(i)], j ≡ r
        weighted = g * entries
        for offset in range(-2, 3):  # column j gets row i = j + offset
            j = columns[(columns % 5 == r) & (columns + offset >= 0) & (columns + offset < n)]
            out[..., j] += weighted[..., j + offset]
    return np.moveaxis(out, -1, axis)


def gradient_vjp(g, f, s0, s1, s2, s3, axis, edge_order):
    """Adjoint of ``f`` in ``np.gradient(f, *spacings, axis=axis, edge_order=edge_order)``
    (linear in ``f``): the transpose of each axis's difference operator applied to that
    axis's adjoint, summed. ``g`` is one adjoint, or one per axis (a tuple result)."""
    axes = _gradient_axes(np.ndim(f), axis)
    spacings = _gradient_spacings(axes, s0, s1, s2, s3)
    if len(axes) == 1:  # an array result (read element by element: a tuple of adjoints)
        parts = [_elements(g, np.shape(f))]
    else:  # a tuple result, of which generated code may have read the first elements only
        parts = list(g) + [0.0] * (len(axes) - len(g))
    out = np.zeros(np.shape(f))
    for k, part, spacing in zip(axes, parts, spacings):
        out = out + _gradient_transpose(part, np.shape(f)[k], spacing, edge_order, k)
    return reshape_like(out, f)


def gradient_of(f, s0, s1, s2, s3, axis, edge_order):
    """``np.gradient(f, *spacings, axis=axis, edge_order=edge_order)`` with the spacings given
    as the parameters that are not None (what the rule's parameters hold)."""
    spacings = [s for s in (s0, s1, s2, s3) if s is not None]
    return np.gradient(f, *spacings, axis=axis, edge_order=edge_order)


def rot90_axes(x, k, axes):
    """``np.rot90(x, k, axes)`` (Numba's np.rot90 takes no axes)."""
    return np.rot90(x, k, axes)


# --- transposes of the helpers that cut an adjoint into pieces (for higher orders) -----------
# Generated code may hand over the adjoints of the first pieces only (those it read): the rest
# are zeros shaped like their items.


def _padded(pieces, items):
    pieces = [np.asarray(p, dtype=np.float64) for p in pieces]
    return pieces + [np.zeros(np.shape(x)) for x in list(items)[len(pieces):]]


def join_like(pieces, arrays, axis):
    """The transpose of :func:`split_like`: the pieces' adjoints concatenated along ``axis``
    (flattened first when ``axis`` is None)."""
    pieces = _padded(pieces, arrays)
    if axis is None:
        return np.concatenate([np.ravel(p) for p in pieces])
    return np.concatenate(pieces, axis)


def stack_like(pieces, g, axis):
    """The transpose of :func:`unstack`: the slices' adjoints stacked along ``axis``."""
    return np.stack(_padded(pieces, unstack(g, axis)), axis)


def hstack_join(pieces, tup):
    """The transpose of :func:`hstack_vjp`: the items' adjoints hstacked."""
    return np.hstack(_padded(pieces, tup))


def vstack_join(pieces, tup):
    """The transpose of :func:`vstack_vjp`: the items' adjoints vstacked."""
    return np.vstack(_padded(pieces, tup))


def column_stack_join(pieces, tup):
    """The transpose of :func:`column_stack_vjp`: the items' adjoints column-stacked."""
    return np.column_stack(_padded(pieces, tup))


def select_join(pieces, condlist, choicelist, like):
    """The transpose of :func:`select_vjp`: each choice's adjoint where its condition is the
    first true one, broadcast to ``like``'s shape."""
    chosen = np.select(condlist, _padded(pieces, choicelist), 0.0)
    return np.broadcast_to(chosen, np.shape(like)).astype(np.float64)


def gradient_spacing(t):
    """Refuses a derivative with respect to a spacing (or coordinates) of ``np.gradient``: the
    rules call it only for a spacing that depends on the differentiated inputs."""
    raise NoRuleError("adjoint differentiates np.gradient in its array only, not in its "
                      "spacings or coordinates",
                      hint="compute the spacing from constants, or divide the result of "
                           "np.gradient(f) by it yourself")
