"""Reverse rules for the runtime helpers that are linear in their differentiated argument, so
that a generated adjoint can be differentiated in reverse mode again (``grad(grad(f))``).

Takes nothing; importing it registers the rules in :mod:`adjoint.rules.registry` (the forward
rules of the same helpers are in :mod:`adjoint.rules.runtime`). A linear helper's adjoint is its
transpose, which is again a helper (or a NumPy function): ``unreduce`` (broadcast over reduced
axes) and ``reduce_sum`` transpose each other, as do ``cumsum_vjp`` and ``cumsum_axis``,
``diff_vjp`` and ``diff_axis``, ``permute`` and ``unpermute``, ``tile_vjp`` and ``np.tile``.
Arguments that only give a shape, an axis or a permutation (the primal ``a`` of ``unreduce``,
the values ``sort`` orders by) carry no derivative: their rules assign them nothing.
"""

import numpy as np

from .. import runtime
from .registry import jvp, nondiff, returns_tuple, vjp


@vjp(runtime.unreduce)
def unreduce_vjp(z, g, a, axis):
    """unreduce broadcasts g over the reduced axes: its adjoint sums them"""
    d[g] = reshape_like(reduce_sum(d[z], axis, True), g)  # noqa: F821


@vjp(runtime.keep_dims)
def keep_dims_vjp(z, r, a, axis):
    """a reshape: its adjoint reshapes back"""
    d[r] = reshape_like(d[z], r)  # noqa: F821


@vjp(runtime.reduce_sum)
def reduce_sum_vjp(z, x, axis, keepdims):
    """a sum over axes: its adjoint broadcasts back over them"""
    d[x] = unreduce(d[z], x, axis)  # noqa: F821


@vjp(runtime.centered)
def centered_vjp(z, a, axis):
    """a - mean(a) is an orthogonal projection, its own transpose"""
    d[a] = centered(d[z], axis)  # noqa: F821


@vjp(runtime.cumsum_vjp)
def cumsum_vjp_vjp(z, g, a, axis):
    """the reversed cumulative sum: its adjoint is the cumulative sum"""
    d[g] = cumsum_axis(d[z], axis)  # noqa: F821


@vjp(runtime.cumsum_axis)
def cumsum_axis_vjp(z, x, axis):
    """a cumulative sum: its adjoint is the reversed one"""
    d[x] = cumsum_vjp(d[z], x, axis)  # noqa: F821


@jvp(runtime.cumsum_axis)
def cumsum_axis_jvp(z, x, axis):
    """linear in x"""
    d[z] = cumsum_axis(d[x], axis)  # noqa: F821


@vjp(runtime.diff_vjp)
def diff_vjp_vjp(z, g, a, n, axis):
    """the transpose of n-th differences: its adjoint is the differences"""
    d[g] = diff_axis(d[z], n, axis)  # noqa: F821


@vjp(runtime.diff_axis)
def diff_axis_vjp(z, x, n, axis):
    """n-th differences: the adjoint is their transpose"""
    d[x] = diff_vjp(d[z], x, n, axis)  # noqa: F821


@jvp(runtime.diff_axis)
def diff_axis_jvp(z, x, n, axis):
    """linear in x"""
    d[z] = diff_axis(d[x], n, axis)  # noqa: F821


@vjp(runtime.mT)
def mT_vjp(z, x):
    """a transpose: its adjoint transposes back"""
    d[x] = mT(d[z])  # noqa: F821


@vjp(runtime.diagonal_vjp)
def diagonal_vjp_vjp(z, g, a, offset, axis1, axis2):
    """g placed on a diagonal: its adjoint reads that diagonal"""
    d[g] = np.diagonal(d[z], offset, axis1, axis2).copy()  # noqa: F821


@vjp(runtime.trace_vjp)
def trace_vjp_vjp(z, g, a, offset, axis1, axis2):
    """g times the identity: its adjoint is the trace"""
    d[g] = trace_axes(d[z], offset, axis1, axis2)  # noqa: F821


@vjp(runtime.trace_axes)
def trace_axes_vjp(z, x, offset, axis1, axis2):
    """a trace: its adjoint is the identity scaled"""
    d[x] = trace_vjp(d[z], x, offset, axis1, axis2)  # noqa: F821


@jvp(runtime.trace_axes)
def trace_axes_jvp(z, x, offset, axis1, axis2):
    """linear in x"""
    d[z] = trace_axes(d[x], offset, axis1, axis2)  # noqa: F821


@vjp(runtime.diag_vjp)
def diag_vjp_vjp(z, g, v, k):
    """diag_vjp reads a diagonal (v 1-D) or places g on one (v 2-D): np.diag does the other"""
    d[g] = np.diag(d[z], k)  # noqa: F821


@jvp(runtime.diag_vjp)
def diag_vjp_jvp(z, g, v, k):
    """linear in g"""
    d[z] = diag_vjp(d[g], v, k)  # noqa: F821


@vjp(runtime.reshape_like)
def reshape_like_vjp(z, g, like):
    """a reshape: its adjoint reshapes back"""
    d[g] = reshape_like(d[z], g)  # noqa: F821


@vjp(runtime.reshape_order)
def reshape_order_vjp(z, g, like, order):
    """a reshape in a given order: its adjoint reshapes back in that order"""
    d[g] = reshape_order(d[z], g, order)  # noqa: F821


@jvp(runtime.reshape_order)
def reshape_order_jvp(z, g, like, order):
    """linear in g"""
    d[z] = reshape_order(d[g], like, order)  # noqa: F821


@vjp(runtime.permute)
def permute_vjp(z, x, axes):
    """a transpose of axes: its adjoint undoes it"""
    d[x] = unpermute(d[z], axes)  # noqa: F821


@vjp(runtime.unpermute)
def unpermute_vjp(z, g, axes):
    """undoing a transpose of axes: its adjoint does it"""
    d[g] = permute(d[z], axes)  # noqa: F821


@vjp(runtime.tile_vjp)
def tile_vjp_vjp(z, g, a, reps):
    """the sum of the tiles: its adjoint tiles"""
    d[g] = reshape_like(np.tile(d[z], reps), g)  # noqa: F821


@vjp(runtime.repeat_vjp)
def repeat_vjp_vjp(z, g, a, repeats, axis):
    """the sum of the repeats: its adjoint repeats"""
    d[g] = reshape_like(repeat_axis(d[z], repeats, axis), g)  # noqa: F821


@vjp(runtime.repeat_axis)
def repeat_axis_vjp(z, x, repeats, axis):
    """a repeat: its adjoint sums the repeats"""
    d[x] = repeat_vjp(d[z], x, repeats, axis)  # noqa: F821


@jvp(runtime.repeat_axis)
def repeat_axis_jvp(z, x, repeats, axis):
    """linear in x"""
    d[z] = repeat_axis(d[x], repeats, axis)  # noqa: F821


@vjp(runtime.roll_vjp)
def roll_vjp_vjp(z, g, shift, axis):
    """a roll back: its adjoint rolls forward"""
    d[g] = roll_axis(d[z], shift, axis)  # noqa: F821


@vjp(runtime.roll_axis)
def roll_axis_vjp(z, x, shift, axis):
    """a roll: its adjoint rolls back"""
    d[x] = roll_vjp(d[z], shift, axis)  # noqa: F821


@jvp(runtime.roll_axis)
def roll_axis_jvp(z, x, shift, axis):
    """linear in x"""
    d[z] = roll_axis(d[x], shift, axis)  # noqa: F821


@vjp(runtime.flip_axis)
def flip_axis_vjp(z, x, axis):
    """a flip: its own transpose"""
    d[x] = flip_axis(d[z], axis)  # noqa: F821


@jvp(runtime.flip_axis)
def flip_axis_jvp(z, x, axis):
    """linear in x"""
    d[z] = flip_axis(d[x], axis)  # noqa: F821


@vjp(runtime.unpad)
def unpad_vjp(z, g, a, pad_width, mode):
    """the interior of a constant pad: its adjoint pads with zeros"""
    d[g] = np.pad(d[z], pad_width)  # noqa: F821


@vjp(runtime.sort_vjp)
def sort_vjp_vjp(z, g, a, axis):
    """g scattered by a's sorting permutation: its adjoint gathers (a only orders)"""
    d[g] = sort_jvp(d[z], a, axis)  # noqa: F821


@vjp(runtime.sort_jvp)
def sort_jvp_vjp(z, t, a, axis):
    """t gathered by a's sorting permutation: its adjoint scatters"""
    d[t] = sort_vjp(d[z], a, axis)  # noqa: F821


@jvp(runtime.sort_vjp)
def sort_vjp_jvp(z, g, a, axis):
    """linear in g (a only orders)"""
    d[z] = sort_vjp(d[g], a, axis)  # noqa: F821


@jvp(runtime.sort_jvp)
def sort_jvp_jvp(z, t, a, axis):
    """linear in t (a only orders)"""
    d[z] = sort_jvp(d[t], a, axis)  # noqa: F821


@vjp(runtime.partition_vjp)
def partition_vjp_vjp(z, g, a, z_, axis):
    """g scattered by a permutation: its adjoint gathers (a and the result only order)"""
    d[g] = partition_jvp(d[z], a, z_, axis)  # noqa: F821


@vjp(runtime.partition_jvp)
def partition_jvp_vjp(z, t, a, z_, axis):
    """t gathered by a permutation: its adjoint scatters"""
    d[t] = partition_vjp(d[z], a, z_, axis)  # noqa: F821


@jvp(runtime.partition_vjp)
def partition_vjp_jvp(z, g, a, z_, axis):
    """linear in g"""
    d[z] = partition_vjp(d[g], a, z_, axis)  # noqa: F821


@jvp(runtime.partition_jvp)
def partition_jvp_jvp(z, t, a, z_, axis):
    """linear in t"""
    d[z] = partition_jvp(d[t], a, z_, axis)  # noqa: F821


@vjp(runtime.rot90_axes)
def rot90_axes_vjp(z, x, k, axes):
    """a rotation: its adjoint rotates back"""
    d[x] = rot90_axes(d[z], -k, axes)  # noqa: F821


@jvp(runtime.rot90_axes)
def rot90_axes_jvp(z, x, k, axes):
    """linear in x"""
    d[z] = rot90_axes(d[x], k, axes)  # noqa: F821


@vjp(runtime.arange_vjp_start)
def arange_vjp_start_vjp(z, g, stop):
    """the sum of g (0 when arange had one argument): its adjoint broadcasts"""
    d[g] = arange_jvp_start(d[z], g, stop)  # noqa: F821


@jvp(runtime.arange_vjp_start)
def arange_vjp_start_jvp(z, g, stop):
    """linear in g"""
    d[z] = arange_vjp_start(d[g], stop)  # noqa: F821


@vjp(runtime.arange_jvp_start)
def arange_jvp_start_vjp(z, t, z_, stop):
    """t broadcast over the range (0 when arange had one argument): its adjoint sums"""
    d[t] = arange_vjp_start(d[z], stop)  # noqa: F821


@jvp(runtime.arange_jvp_start)
def arange_jvp_start_jvp(z, t, z_, stop):
    """linear in t"""
    d[z] = arange_jvp_start(d[t], z_, stop)  # noqa: F821


@vjp(runtime.arange_vjp_step)
def arange_vjp_step_vjp(z, g):
    """Σ k g_k: its adjoint is k times the adjoint"""
    d[g] = reshape_like(d[z] * np.arange(np.size(g)), g)  # noqa: F821


@jvp(runtime.arange_vjp_step)
def arange_vjp_step_jvp(z, g):
    """linear in g"""
    d[z] = arange_vjp_step(d[g])  # noqa: F821


@vjp(runtime.linspace_vjp)
def linspace_vjp_vjp(z, g, like, weights, axis):
    """Σ_k w_k g_k along axis: its adjoint is w times the adjoint, broadcast"""
    d[g] = broadcast_like(linspace_jvp(d[z], weights, axis), g)  # noqa: F821


@jvp(runtime.linspace_vjp)
def linspace_vjp_jvp(z, g, like, weights, axis):
    """linear in g"""
    d[z] = linspace_vjp(d[g], like, weights, axis)  # noqa: F821


@vjp(runtime.take_vjp)
def take_vjp_vjp(z, g, a, indices, axis, mode):
    """g added at the taken positions: its adjoint takes them again"""
    d[g] = np.take(d[z], indices, axis, None, mode)  # noqa: F821


@jvp(runtime.take_vjp)
def take_vjp_jvp(z, g, a, indices, axis, mode):
    """linear in g"""
    d[z] = take_vjp(d[g], a, indices, axis, mode)  # noqa: F821


@vjp(runtime.linspace_jvp)
def linspace_jvp_vjp(z, t, weights, axis):
    """t times the weights along a new axis: its adjoint sums them back"""
    d[t] = linspace_vjp(d[z], t, weights, axis)  # noqa: F821


@jvp(runtime.linspace_jvp)
def linspace_jvp_jvp(z, t, weights, axis):
    """linear in t"""
    d[z] = linspace_jvp(d[t], weights, axis)  # noqa: F821


@vjp(runtime.check_scalar)
def check_scalar_vjp(z, x):
    """the identity on a scalar"""
    d[x] = d[z]  # noqa: F821


@jvp(runtime.check_scalar)
def check_scalar_jvp(z, x):
    """the identity on a scalar"""
    d[z] = d[x]  # noqa: F821


@vjp(runtime.take_part)
def take_part_vjp(z, g, like, axis, front):
    """a part of g: its adjoint puts the adjoint back in place, zeros elsewhere"""
    d[g] = pad_part(d[z], g, axis, front)  # noqa: F821


@jvp(runtime.take_part)
def take_part_jvp(z, g, like, axis, front):
    """linear in g"""
    d[z] = take_part(d[g], like, axis, front)  # noqa: F821


@vjp(runtime.pad_part)
def pad_part_vjp(z, y, like, axis, front):
    """y placed in zeros: its adjoint takes that part"""
    d[y] = take_part(d[z], y, axis, front)  # noqa: F821


@jvp(runtime.pad_part)
def pad_part_jvp(z, y, like, axis, front):
    """linear in y"""
    d[z] = pad_part(d[y], like, axis, front)  # noqa: F821


@vjp(runtime.write_adjoint)
def write_adjoint_vjp(z, g, index):
    """g[index] with repeated writes but the last zeroed: its adjoint writes back at index"""
    d[g] = place_at(d[z], g, index)  # noqa: F821


@jvp(runtime.write_adjoint)
def write_adjoint_jvp(z, g, index):
    """linear in g"""
    d[z] = write_adjoint(d[g], index)  # noqa: F821


@vjp(runtime.place_at)
def place_at_vjp(z, y, like, index):
    """y written at index into zeros: its adjoint reads the writes that stayed"""
    d[y] = write_adjoint(d[z], index)  # noqa: F821


@jvp(runtime.place_at)
def place_at_jvp(z, y, like, index):
    """linear in y"""
    d[z] = place_at(d[y], like, index)  # noqa: F821


@vjp(runtime.gradient_vjp)
def gradient_vjp_vjp(z, g, f, s0, s1, s2, s3, axis, edge_order):
    """the transpose of np.gradient's difference operators: its adjoint is np.gradient"""
    d[g] = gradient_of(d[z], s0, s1, s2, s3, axis, edge_order)  # noqa: F821


@jvp(runtime.gradient_vjp)
def gradient_vjp_jvp(z, g, f, s0, s1, s2, s3, axis, edge_order):
    """linear in g"""
    d[z] = gradient_vjp(d[g], f, s0, s1, s2, s3, axis, edge_order)  # noqa: F821


@vjp(runtime.gradient_of)
def gradient_of_vjp(z, f, s0, s1, s2, s3, axis, edge_order):
    """np.gradient, linear in f: its adjoint is the transpose"""
    d[f] = gradient_vjp(d[z], f, s0, s1, s2, s3, axis, edge_order)  # noqa: F821


@jvp(runtime.gradient_of)
def gradient_of_jvp(z, f, s0, s1, s2, s3, axis, edge_order):
    """linear in f"""
    d[z] = gradient_of(d[f], s0, s1, s2, s3, axis, edge_order)  # noqa: F821


nondiff(runtime.norm_power, doc="the p of a p-norm: a number, no derivative")
nondiff(runtime.gradient_spacing, doc="raises: np.gradient's spacing is not differentiated")
nondiff(runtime.method_axes, doc="the axes of a transpose: integers, no derivative")
nondiff(runtime.linspace_basis, runtime.pad_border,
        doc="weights or masks that depend on shapes only: no derivative")
nondiff(runtime.clip_inside, runtime.clip_below, runtime.clip_above, runtime.extreme_weights,
        doc="an indicator (0, 1 or 1/k): piecewise constant, zero derivative")

returns_tuple(runtime.gradient_of)
