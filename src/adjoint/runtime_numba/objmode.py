"""Numba implementations that run a helper's plain-Python implementation in object mode.

For the helpers of rules whose primal Numba compiles but whose adjoint needs what Numba's NumPy
lacks (``np.moveaxis``, ``np.pad``, ``np.put_along_axis``, batched ``@``, keyword arguments of
``np.linalg``): the decompositions (svd, eigh), kron, cross, the parts of np.append,
column_stack, partition and the derivatives of sinc. Each overload computes, from the argument
types, the type the Python implementation returns (a float64 array of the dimension of the
argument it is the adjoint of, or the type of the primal's result for a tangent), and calls it
inside ``numba.objmode``. The numbers are the plain-Python helper's own; the cost is one trip
into the interpreter per call, which matters only inside long loops.
"""

from __future__ import annotations

from numba import objmode, types
from numba.core.errors import TypingError
from numba.extending import overload

from .. import runtime
from .common import _refuse


def _float_like(t, name):
    """The Numba type of a float64 value shaped like one of type ``t`` (an array or a number)."""
    if isinstance(t, types.Array):
        return types.Array(types.float64, t.ndim, "A")
    if isinstance(t, (types.Number, types.Boolean)):
        return types.float64
    raise TypingError(f"adjoint.runtime.{name}: cannot compile for an argument of type {t}")


def _result_like(t, name):
    """The Numba type of a tangent of a primal result of type ``t`` (arrays, tuples of them)."""
    if isinstance(t, types.BaseTuple):
        return types.Tuple(tuple(_result_like(e, name) for e in t))
    return _float_like(t, name)


def _list_like(t, name):
    """The type of the adjoints of the items of the sequence type ``t``, as a tuple."""
    if isinstance(t, types.BaseTuple):
        return types.Tuple(tuple(_float_like(e, name) for e in t))
    raise TypingError(f"adjoint.runtime.{name}: takes a tuple of arrays under Numba, got {t}")


# One overload per helper: the return type is chosen from the argument types, then the
# implementation calls the Python helper in object mode.


@overload(runtime.kron_vjp_a)
def _kron_vjp_a(g, a, b):
    out_type = _float_like(a, "kron_vjp_a")

    def impl(g, a, b):
        with objmode(out=out_type):
            out = runtime.kron_vjp_a(g, a, b)
        return out
    return impl


@overload(runtime.kron_vjp_b)
def _kron_vjp_b(g, a, b):
    out_type = _float_like(b, "kron_vjp_b")

    def impl(g, a, b):
        with objmode(out=out_type):
            out = runtime.kron_vjp_b(g, a, b)
        return out
    return impl


@overload(runtime.cross_vjp_a)
def _cross_vjp_a(g, a, b, axisa, axisb, axisc, axis):
    out_type = _float_like(a, "cross_vjp_a")

    def impl(g, a, b, axisa, axisb, axisc, axis):
        with objmode(out=out_type):
            out = runtime.cross_vjp_a(g, a, b, axisa, axisb, axisc, axis)
        return out
    return impl


@overload(runtime.cross_vjp_b)
def _cross_vjp_b(g, a, b, axisa, axisb, axisc, axis):
    out_type = _float_like(b, "cross_vjp_b")

    def impl(g, a, b, axisa, axisb, axisc, axis):
        with objmode(out=out_type):
            out = runtime.cross_vjp_b(g, a, b, axisa, axisb, axisc, axis)
        return out
    return impl


@overload(runtime.take_part)
def _take_part(g, like, axis, front):
    out_type = _float_like(like, "take_part")

    def impl(g, like, axis, front):
        with objmode(out=out_type):
            out = runtime.take_part(g, like, axis, front)
        return out
    return impl


@overload(runtime.pad_part)
def _pad_part(y, like, axis, front):
    out_type = _float_like(like, "pad_part")

    def impl(y, like, axis, front):
        with objmode(out=out_type):
            out = runtime.pad_part(y, like, axis, front)
        return out
    return impl


@overload(runtime.column_stack_vjp)
def _column_stack_vjp(g, tup):
    out_type = _list_like(tup, "column_stack_vjp")

    def impl(g, tup):
        with objmode(out=out_type):
            out = runtime.column_stack_vjp(g, tup)
        return out
    return impl


@overload(runtime.partition_vjp)
def _partition_vjp(g, a, z, axis):
    out_type = _float_like(a, "partition_vjp")

    def impl(g, a, z, axis):
        with objmode(out=out_type):
            out = runtime.partition_vjp(g, a, z, axis)
        return out
    return impl


@overload(runtime.partition_jvp)
def _partition_jvp(t, a, z, axis):
    out_type = _float_like(z, "partition_jvp")

    def impl(t, a, z, axis):
        with objmode(out=out_type):
            out = runtime.partition_jvp(t, a, z, axis)
        return out
    return impl


@overload(runtime.svd_vjp)
def _svd_vjp(g, a, z, full_matrices, compute_uv, hermitian):
    out_type = _float_like(a, "svd_vjp")

    def impl(g, a, z, full_matrices, compute_uv, hermitian):
        with objmode(out=out_type):
            out = runtime.svd_vjp(g, a, z, full_matrices, compute_uv, hermitian)
        return out
    return impl


@overload(runtime.svd_jvp)
def _svd_jvp(t, a, z, full_matrices, compute_uv, hermitian):
    out_type = _result_like(z, "svd_jvp")

    def impl(t, a, z, full_matrices, compute_uv, hermitian):
        with objmode(out=out_type):
            out = runtime.svd_jvp(t, a, z, full_matrices, compute_uv, hermitian)
        return out
    return impl


@overload(runtime.eigh_vjp)
def _eigh_vjp(g, a, z, uplo):
    out_type = _float_like(a, "eigh_vjp")

    def impl(g, a, z, uplo):
        with objmode(out=out_type):
            out = runtime.eigh_vjp(g, a, z, uplo)
        return out
    return impl


@overload(runtime.eigh_jvp)
def _eigh_jvp(t, a, z, uplo):
    out_type = _result_like(z, "eigh_jvp")

    def impl(t, a, z, uplo):
        with objmode(out=out_type):
            out = runtime.eigh_jvp(t, a, z, uplo)
        return out
    return impl


@overload(runtime.prod_weights_vjp)
def _prod_weights_vjp(g, a, axis):
    out_type = _float_like(a, "prod_weights_vjp")

    def impl(g, a, axis):
        with objmode(out=out_type):
            out = runtime.prod_weights_vjp(g, a, axis)
        return out
    return impl


@overload(runtime.sinc_deriv)
def _sinc_deriv(x, n):
    out_type = _float_like(x, "sinc_deriv")

    def impl(x, n):
        with objmode(out=out_type):
            out = runtime.sinc_deriv(x, n)
        return out
    return impl


@overload(runtime.place_at)
def _place_at(y, like, index):
    out_type = _float_like(like, "place_at")

    def impl(y, like, index):
        with objmode(out=out_type):
            out = runtime.place_at(y, like, index)
        return out
    return impl


# Transposes of the helpers that cut adjoints into pieces (met at higher orders only): the
# result's dimension is that of the whole the pieces come from.


def _array(ndim):
    return types.Array(types.float64, ndim, "A")


def _items_ndim(items):
    if not isinstance(items, types.BaseTuple):
        raise TypingError(f"adjoint.runtime: takes a tuple of arrays under Numba, got {items}")
    return max(getattr(t, "ndim", 0) for t in items)


@overload(runtime.join_like)
def _join_like(pieces, arrays, axis):
    out_type = _array(1 if axis is None or isinstance(axis, (types.NoneType, types.Omitted))
                      else _items_ndim(arrays))

    def impl(pieces, arrays, axis):
        with objmode(out=out_type):
            out = runtime.join_like(pieces, arrays, axis)
        return out
    return impl


@overload(runtime.stack_like)
def _stack_like(pieces, g, axis):
    out_type = _array(g.ndim)

    def impl(pieces, g, axis):
        with objmode(out=out_type):
            out = runtime.stack_like(pieces, g, axis)
        return out
    return impl


@overload(runtime.hstack_join)
def _hstack_join(pieces, tup):
    out_type = _array(max(1, _items_ndim(tup)))

    def impl(pieces, tup):
        with objmode(out=out_type):
            out = runtime.hstack_join(pieces, tup)
        return out
    return impl


@overload(runtime.vstack_join)
def _vstack_join(pieces, tup):
    out_type = _array(max(2, _items_ndim(tup)))

    def impl(pieces, tup):
        with objmode(out=out_type):
            out = runtime.vstack_join(pieces, tup)
        return out
    return impl


@overload(runtime.column_stack_join)
def _column_stack_join(pieces, tup):
    out_type = _array(2)

    def impl(pieces, tup):
        with objmode(out=out_type):
            out = runtime.column_stack_join(pieces, tup)
        return out
    return impl


overload(runtime.select_join)(_refuse("Numba cannot compile np.select of a list"))


# Helpers of primals Numba cannot compile at all: they say so at compile time.
overload(runtime.gradient_vjp)(_refuse("Numba cannot compile np.gradient"))
overload(runtime.gradient_of)(_refuse("Numba cannot compile np.gradient"))
overload(runtime.gradient_spacing)(_refuse("Numba cannot compile np.gradient"))
overload(runtime.select_vjp)(_refuse("Numba cannot compile np.select of a list"))
overload(runtime.select_default_vjp)(_refuse("Numba cannot compile np.select of a list"))
