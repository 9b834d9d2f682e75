"""Numba implementations of the shape and sorting helpers (:mod:`adjoint.runtime.shape`).

A helper whose primal Numba cannot compile (np.pad, np.r_, np.c_) gets an overload that says so
at compile time.
"""

from __future__ import annotations

import numpy as np
from numba import types
from numba.extending import overload, register_jitable
from numba.np.unsafe.ndarray import to_fixed_tuple

from .. import runtime
from .common import (
    _axes_array,
    _axis_split,
    _is_array,
    _is_none,
    _is_scalar,
    _lanes,
    _raise_no_rule,
    _refuse,
    _total,
)

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


@overload(runtime.rot90_axes)
def _rot90_axes(x, k, axes):
    if not _is_array(x):
        return None

    def impl(x, k, axes):
        if axes[0] % x.ndim == 0 and axes[1] % x.ndim == 1:
            return np.rot90(x, k)
        if axes[0] % x.ndim == 1 and axes[1] % x.ndim == 0:
            return np.rot90(x, -k)
        _raise_no_rule("np.rot90 under jit=True: only axes (0, 1) and (1, 0)")
        return np.rot90(x, k)
    return impl
