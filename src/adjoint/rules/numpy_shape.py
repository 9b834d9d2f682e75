"""Rules for NumPy's shape functions: reshape, transpose, flips, roll, tile, repeat, pad,
concatenate/stack/split, ``np.r_`` and ``np.c_``.

Takes nothing; importing it registers the rules in :mod:`adjoint.rules.registry`. These
functions are linear maps that only move elements, so each adjoint moves them back.
"""

import numpy as np

from . import registry
from .registry import jvp, vjp

# ---------------------------------------------------------------------------------------------
# Shape functions: linear maps that only move elements, so each adjoint moves them back.


@vjp(np.reshape)
def reshape_vjp(z, a, shape=None, order="C"):
    """d reshape(a) = reshape(da)"""
    d[a] = reshape_order(d[z], a, order)


@jvp(np.reshape)
def reshape_jvp(z, a, shape=None, order="C"):
    """d reshape(a) = reshape(da)"""
    d[z] = reshape_order(d[a], z, order)


@vjp(np.ndarray.reshape)
def ndarray_reshape_vjp(z, a, s0=None, s1=None, s2=None, s3=None, s4=None, s5=None, *,
                        order="C"):
    """d a.reshape(*shape) = da.reshape(*shape)"""
    d[a] = reshape_order(d[z], a, order)


@jvp(np.ndarray.reshape)
def ndarray_reshape_jvp(z, a, s0=None, s1=None, s2=None, s3=None, s4=None, s5=None, *,
                        order="C"):
    """d a.reshape(*shape) = da.reshape(*shape)"""
    d[z] = reshape_order(d[a], z, order)


@vjp(np.ravel, np.ndarray.flatten)
def ravel_vjp(z, a, order="C"):
    """d ravel(a) = ravel(da)"""
    d[a] = reshape_order(d[z], a, order)


@jvp(np.ravel, np.ndarray.flatten)
def ravel_jvp(z, a, order="C"):
    """d ravel(a) = ravel(da)"""
    d[z] = reshape_order(d[a], z, order)


@vjp(np.expand_dims, np.squeeze)
def expand_dims_vjp(z, a, axis=None):
    """d expand_dims(a) = expand_dims(da); squeeze likewise"""
    d[a] = reshape_like(d[z], a)


@jvp(np.expand_dims, np.squeeze)
def expand_dims_jvp(z, a, axis=None):
    """d expand_dims(a) = expand_dims(da); squeeze likewise"""
    d[z] = reshape_like(d[a], z)


@vjp(np.atleast_1d, np.atleast_2d, np.atleast_3d, np.copy, np.ndarray.item)
def atleast_vjp(z, a):
    """d atleast_2d(a) = atleast_2d(da) (one array); copy and item alike"""
    d[a] = reshape_like(d[z], a)


@jvp(np.atleast_1d, np.atleast_2d, np.atleast_3d, np.copy, np.ndarray.item)
def atleast_jvp(z, a):
    """d atleast_2d(a) = atleast_2d(da) (one array); copy and item alike"""
    d[z] = fresh(reshape_like(d[a], z))


@vjp(np.transpose)
def transpose_vjp(z, a, axes=None):
    """d transpose(a, p) = transpose(da, p); the adjoint applies the inverse permutation"""
    d[a] = unpermute(d[z], axes)


@jvp(np.transpose)
def transpose_jvp(z, a, axes=None):
    """d transpose(a, p) = transpose(da, p)"""
    d[z] = permute(d[a], axes)


@vjp(np.ndarray.transpose)
def ndarray_transpose_vjp(z, a, ax0=None, ax1=None, ax2=None, ax3=None, ax4=None, ax5=None):
    """d a.transpose(*axes) = da.transpose(*axes)"""
    d[a] = unpermute(d[z], method_axes(ax0, ax1, ax2, ax3, ax4, ax5))


@jvp(np.ndarray.transpose)
def ndarray_transpose_jvp(z, a, ax0=None, ax1=None, ax2=None, ax3=None, ax4=None, ax5=None):
    """d a.transpose(*axes) = da.transpose(*axes)"""
    d[z] = permute(d[a], method_axes(ax0, ax1, ax2, ax3, ax4, ax5))


@vjp(np.matrix_transpose)
def matrix_transpose_vjp(z, x):
    """d x.mT = (dx).mT"""
    d[x] = mT(d[z])


@jvp(np.matrix_transpose)
def matrix_transpose_jvp(z, x):
    """d x.mT = (dx).mT"""
    d[z] = mT(d[x])


@vjp(np.swapaxes)
def swapaxes_vjp(z, a, axis1, axis2):
    """d swapaxes(a, i, j) = swapaxes(da, i, j)"""
    d[a] = np.swapaxes(d[z], axis1, axis2)


@jvp(np.swapaxes)
def swapaxes_jvp(z, a, axis1, axis2):
    """d swapaxes(a, i, j) = swapaxes(da, i, j)"""
    d[z] = np.swapaxes(d[a], axis1, axis2)


@vjp(np.moveaxis)
def moveaxis_vjp(z, a, source, destination):
    """d moveaxis(a, s, t) = moveaxis(da, s, t); the adjoint moves the axes back"""
    d[a] = np.moveaxis(d[z], destination, source)


@jvp(np.moveaxis)
def moveaxis_jvp(z, a, source, destination):
    """d moveaxis(a, s, t) = moveaxis(da, s, t)"""
    d[z] = np.moveaxis(d[a], source, destination)


@vjp(np.broadcast_to)
def broadcast_to_vjp(z, array, shape, subok=False):
    """d broadcast_to(x) = broadcast_to(dx); the adjoint sums over the broadcast axes"""
    d[array] = unbroadcast(d[z], array)


@jvp(np.broadcast_to)
def broadcast_to_jvp(z, array, shape, subok=False):
    """d broadcast_to(x) = broadcast_to(dx)"""
    d[z] = np.zeros(shape) + d[array]


@vjp(np.flip)
def flip_vjp(z, m, axis=None):
    """d flip(m) = flip(dm)"""
    d[m] = flip_axis(d[z], axis)


@jvp(np.flip)
def flip_jvp(z, m, axis=None):
    """d flip(m) = flip(dm)"""
    d[z] = flip_axis(d[m], axis)


@vjp(np.fliplr)
def fliplr_vjp(z, m):
    """d fliplr(m) = fliplr(dm)"""
    d[m] = np.fliplr(d[z])


@jvp(np.fliplr)
def fliplr_jvp(z, m):
    """d fliplr(m) = fliplr(dm)"""
    d[z] = np.fliplr(d[m])


@vjp(np.flipud)
def flipud_vjp(z, m):
    """d flipud(m) = flipud(dm)"""
    d[m] = np.flipud(d[z])


@jvp(np.flipud)
def flipud_jvp(z, m):
    """d flipud(m) = flipud(dm)"""
    d[z] = np.flipud(d[m])


@vjp(np.roll)
def roll_vjp_rule(z, a, shift, axis=None):
    """d roll(a, s) = roll(da, s); the adjoint rolls back by -s"""
    d[a] = roll_vjp(d[z], shift, axis)


@jvp(np.roll)
def roll_jvp_rule(z, a, shift, axis=None):
    """d roll(a, s) = roll(da, s)"""
    d[z] = roll_axis(d[a], shift, axis)


@vjp(np.tile)
def tile_vjp_rule(z, A, reps):
    """d tile(A, r) = tile(dA, r); the adjoint sums the tiles"""
    d[A] = tile_vjp(d[z], A, reps)


@jvp(np.tile)
def tile_jvp_rule(z, A, reps):
    """d tile(A, r) = tile(dA, r)"""
    d[z] = np.tile(d[A], reps)


@vjp(np.repeat)
def repeat_vjp_rule(z, a, repeats, axis=None):
    """d repeat(a, r) = repeat(da, r); the adjoint sums each element's copies"""
    d[a] = repeat_vjp(d[z], a, repeats, axis)


@jvp(np.repeat)
def repeat_jvp_rule(z, a, repeats, axis=None):
    """d repeat(a, r) = repeat(da, r)"""
    d[z] = repeat_axis(d[a], repeats, axis)


@vjp(np.pad)
def pad_vjp(z, array, pad_width, mode="constant", *, constant_values=0.0):
    """d pad(x, w, c) = pad(dx, w, 0) + dc on the border   (mode 'constant' only)"""
    d[array] = unpad(d[z], array, pad_width, mode)
    d[constant_values] = np.sum(d[z] * pad_border(array, pad_width))


@jvp(np.pad)
def pad_jvp(z, array, pad_width, mode="constant", *, constant_values=0.0):
    """d pad(x, w, c) = pad(dx, w, 0) + dc on the border"""
    d[z] = np.pad(d[array], pad_width, mode) + d[constant_values] * pad_border(array, pad_width)


@vjp(np.concatenate)
def concatenate_vjp(z, arrays, axis=0):
    """d concatenate(xs) = concatenate(dxs); each x gets its own piece of the adjoint"""
    d[arrays] = split_like(d[z], arrays, axis)


@jvp(np.concatenate)
def concatenate_jvp(z, arrays, axis=0):
    """d concatenate(xs) = concatenate(dxs)"""
    d[z] = np.concatenate(d[arrays], axis)


@vjp(np.stack)
def stack_vjp(z, arrays, axis=0):
    """d stack(xs) = stack(dxs); x_i gets the adjoint's i-th slice along axis"""
    d[arrays] = unstack(d[z], axis)


@jvp(np.stack)
def stack_jvp(z, arrays, axis=0):
    """d stack(xs) = stack(dxs)"""
    d[z] = np.stack(d[arrays], axis)


@vjp(np.hstack)
def hstack_vjp_rule(z, tup):
    """d hstack(xs) = hstack(dxs)"""
    d[tup] = hstack_vjp(d[z], tup)


@jvp(np.hstack)
def hstack_jvp_rule(z, tup):
    """d hstack(xs) = hstack(dxs)"""
    d[z] = np.hstack(d[tup])


@vjp(np.vstack, np.row_stack)
def vstack_vjp_rule(z, tup):
    """d vstack(xs) = vstack(dxs)"""
    d[tup] = vstack_vjp(d[z], tup)


@jvp(np.vstack, np.row_stack)
def vstack_jvp_rule(z, tup):
    """d vstack(xs) = vstack(dxs)"""
    d[z] = np.vstack(d[tup])


@vjp(np.split, np.array_split)
def split_vjp(z, ary, indices_or_sections, axis=0):
    """d split(x) = split(dx); the adjoint concatenates the pieces' adjoints"""
    d[ary] = np.concatenate(d[z], axis)


@jvp(np.split)
def split_jvp(z, ary, indices_or_sections, axis=0):
    """d split(x) = split(dx)"""
    d[z] = np.split(d[ary], indices_or_sections, axis)


@jvp(np.array_split)
def array_split_jvp(z, ary, indices_or_sections, axis=0):
    """d array_split(x) = array_split(dx)"""
    d[z] = np.array_split(d[ary], indices_or_sections, axis)


@vjp(np.r_)
def r_vjp(z, items):
    """d np.r_[a, 0:3, b] = np.r_[da, 0, db]: each item gets its piece (slices are constants;
    no string directives)"""
    d[items] = index_concat_vjp(d[z], np.r_, items)


@jvp(np.r_)
def r_jvp(z, items):
    """d np.r_[a, 0:3, b] = np.r_[da, 0, db]"""
    d[z] = index_concat_jvp(d[items], np.r_, items)


@vjp(np.c_)
def c_vjp(z, items):
    """d np.c_[a, b] = np.c_[da, db]: each item gets its columns (slices are constants)"""
    d[items] = index_concat_vjp(d[z], np.c_, items)


@jvp(np.c_)
def c_jvp(z, items):
    """d np.c_[a, b] = np.c_[da, db]"""
    d[z] = index_concat_jvp(d[items], np.c_, items)


registry.lookup(np.r_).name = "np.r_"
registry.lookup(np.c_).name = "np.c_"


# ---------------------------------------------------------------------------------------------



@vjp(np.vsplit)
def vsplit_vjp(z, ary, indices_or_sections):
    """d vsplit(x) = vsplit(dx) (axis 0); the adjoint concatenates the pieces' adjoints"""
    d[ary] = np.concatenate(d[z], 0)


@vjp(np.dsplit)
def dsplit_vjp(z, ary, indices_or_sections):
    """d dsplit(x) = dsplit(dx) (axis 2); the adjoint concatenates the pieces' adjoints"""
    d[ary] = np.concatenate(d[z], 2)


@jvp(np.vsplit)
def vsplit_jvp(z, ary, indices_or_sections):
    """d vsplit(x) = vsplit(dx)"""
    d[z] = np.vsplit(d[ary], indices_or_sections)


@jvp(np.dsplit)
def dsplit_jvp(z, ary, indices_or_sections):
    """d dsplit(x) = dsplit(dx)"""
    d[z] = np.dsplit(d[ary], indices_or_sections)


@vjp(np.hsplit)
def hsplit_vjp(z, ary, indices_or_sections):
    """d hsplit(x) = hsplit(dx) (axis 1, or 0 for a vector); the adjoint concatenates"""
    d[ary] = np.concatenate(d[z], min(ary.ndim - 1, 1))


@jvp(np.hsplit)
def hsplit_jvp(z, ary, indices_or_sections):
    """d hsplit(x) = hsplit(dx)"""
    d[z] = np.hsplit(d[ary], indices_or_sections)


@vjp(np.column_stack)
def column_stack_vjp_rule(z, tup):
    """d column_stack(xs) = column_stack(dxs): each item gets its columns"""
    d[tup] = column_stack_vjp(d[z], tup)


@jvp(np.column_stack)
def column_stack_jvp(z, tup):
    """d column_stack(xs) = column_stack(dxs)"""
    d[z] = np.column_stack(d[tup])


@vjp(np.append)
def append_vjp(z, arr, values, axis=None):
    """d append(a, v) = append(da, dv): each gets its part of the adjoint"""
    d[arr] = take_part(d[z], arr, axis, True)
    d[values] = take_part(d[z], values, axis, False)


@jvp(np.append)
def append_jvp(z, arr, values, axis=None):
    """d append(a, v) = append(da, dv)"""
    d[z] = np.append(d[arr], d[values], axis)


@vjp(np.rot90)
def rot90_vjp(z, m, k=1, axes=(0, 1)):
    """d rot90(m, k) = rot90(dm, k); the adjoint rotates back, by -k"""
    d[m] = rot90_axes(d[z], -k, axes)


@jvp(np.rot90)
def rot90_jvp(z, m, k=1, axes=(0, 1)):
    """d rot90(m, k) = rot90(dm, k)"""
    d[z] = rot90_axes(d[m], k, axes)


@vjp(np.partition)
def partition_vjp_rule(z, a, kth, axis=-1, kind="introselect", order=None):
    """d partition(a) = dₐ permuted as the values are (matched by rank: ties share no
    gradient)"""
    d[a] = partition_vjp(d[z], a, z, axis)


@jvp(np.partition)
def partition_jvp_rule(z, a, kth, axis=-1, kind="introselect", order=None):
    """d partition(a) = da permuted as the values are"""
    d[z] = partition_jvp(d[a], a, z, axis)


@vjp(np.select)
def select_vjp_rule(z, condlist, choicelist, default=0):
    """d select(cs, xs, x0) = [first true c_k] dx_k + [no c] dx0 (conditions: no derivative)"""
    d[choicelist] = select_vjp(d[z], condlist, choicelist)
    d[default] = select_default_vjp(d[z], condlist, default)


@jvp(np.select)
def select_jvp_rule(z, condlist, choicelist, default=0):
    """d select(cs, xs, x0) = select(cs, dxs, dx0)"""
    d[z] = np.select(condlist, d[choicelist], d[default])


@vjp(np.gradient)
def gradient_vjp_rule(z, f, s0=None, s1=None, s2=None, s3=None, *, axis=None, edge_order=1):
    """gradient is linear in f: the adjoint applies the transpose of each axis's difference
    operator (a spacing that depends on the inputs is refused)"""
    d[f] = gradient_vjp(d[z], f, s0, s1, s2, s3, axis, edge_order)
    d[s0] = gradient_spacing(d[z])
    d[s1] = gradient_spacing(d[z])
    d[s2] = gradient_spacing(d[z])
    d[s3] = gradient_spacing(d[z])


@jvp(np.gradient)
def gradient_jvp_rule(z, f, s0=None, s1=None, s2=None, s3=None, *, axis=None, edge_order=1):
    """d gradient(f) = gradient(df)"""
    d[z] = (gradient_of(d[f], s0, s1, s2, s3, axis, edge_order) + gradient_spacing(d[s0])
            + gradient_spacing(d[s1]) + gradient_spacing(d[s2]) + gradient_spacing(d[s3]))


registry.returns_tuple(np.split, np.array_split, np.vsplit, np.hsplit, np.dsplit,
                       np.gradient)
for _primal, _param in [(np.concatenate, "arrays"), (np.stack, "arrays"), (np.hstack, "tup"),
                        (np.vstack, "tup"), (np.row_stack, "tup"), (np.column_stack, "tup"),
                        (np.r_, "items"), (np.c_, "items"), (np.select, "condlist"),
                        (np.select, "choicelist")]:
    registry.takes_sequences(_primal, _param)
