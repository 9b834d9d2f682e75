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

import inspect

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


# One overload per helper, made by _in_object_mode: the return type is chosen from the argument
# types, then the implementation calls the Python helper in object mode.


def _in_object_mode(helper, result_type):
    """Register an overload of ``helper`` that calls the helper itself in object mode.
    ``result_type(name, arg_types)`` gives the Numba type it returns from the helper's name and
    the Numba types of its arguments (a dict by parameter name)."""
    params = list(inspect.signature(helper).parameters)
    args = ", ".join(params)
    source = (f"def typer({args}):\n"
              f"    out_type = result_type(name, dict(zip(params, ({args},))))\n"
              f"    def impl({args}):\n"
              f"        with objmode(out=out_type):\n"
              f"            out = helper({args})\n"
              f"        return out\n"
              f"    return impl\n")
    scope = {"objmode": objmode, "helper": helper, "result_type": result_type,
             "name": helper.__name__, "params": params}
    exec(source, scope)  # noqa: S102 (text built from the helper's parameter names only)
    overload(helper)(scope["typer"])


def _float_of(param):
    """A float64 value shaped like argument ``param``."""
    return lambda name, ts: _float_like(ts[param], name)


def _result_of(param):
    """A tangent of the primal result ``param`` (arrays, tuples of them)."""
    return lambda name, ts: _result_like(ts[param], name)


def _array(ndim):
    return types.Array(types.float64, ndim, "A")


def _items_ndim(items):
    if not isinstance(items, types.BaseTuple):
        raise TypingError(f"adjoint.runtime: takes a tuple of arrays under Numba, got {items}")
    return max(getattr(t, "ndim", 0) for t in items)


def _joined(ts):
    """join_like's result: the whole the pieces come from (1-D when joined with no axis)."""
    axis = ts["axis"]
    whole = axis is None or isinstance(axis, (types.NoneType, types.Omitted))
    return _array(1 if whole else _items_ndim(ts["arrays"]))


for _helper, _result in (
        (runtime.kron_vjp_a, _float_of("a")),
        (runtime.kron_vjp_b, _float_of("b")),
        (runtime.cross_vjp_a, _float_of("a")),
        (runtime.cross_vjp_b, _float_of("b")),
        (runtime.take_part, _float_of("like")),
        (runtime.pad_part, _float_of("like")),
        (runtime.column_stack_vjp, lambda name, ts: _list_like(ts["tup"], name)),
        (runtime.partition_vjp, _float_of("a")),
        (runtime.partition_jvp, _float_of("z")),
        (runtime.svd_vjp, _float_of("a")),
        (runtime.svd_jvp, lambda name, ts: types.Tuple(tuple(
            _float_like(ts[p], name) for p in ("u", "s", "vh")))),
        (runtime.svd_values_vjp, _float_of("a")),
        (runtime.svd_values_jvp, lambda name, ts: _array(ts["a"].ndim - 1)),
        (runtime.eigh_vjp, _float_of("a")),
        (runtime.eigh_jvp, lambda name, ts: types.Tuple((_float_like(ts["w"], name),
                                                         _float_like(ts["v"], name)))),
        (runtime.prod_weights_vjp, _float_of("a")),
        (runtime.sinc_deriv, _float_of("x")),
        (runtime.place_at, _float_of("like")),
        # transposes of the helpers that cut adjoints into pieces (met at higher orders only):
        # the result's dimension is that of the whole the pieces come from
        (runtime.join_like, lambda name, ts: _joined(ts)),
        (runtime.stack_like, lambda name, ts: _array(ts["g"].ndim)),
        (runtime.hstack_join, lambda name, ts: _array(max(1, _items_ndim(ts["tup"])))),
        (runtime.vstack_join, lambda name, ts: _array(max(2, _items_ndim(ts["tup"])))),
        (runtime.column_stack_join, lambda name, ts: _array(2)),
):
    _in_object_mode(_helper, _result)


overload(runtime.select_join)(_refuse("Numba cannot compile np.select of a list"))


# Helpers of primals Numba cannot compile at all: they say so at compile time.
overload(runtime.gradient_vjp)(_refuse("Numba cannot compile np.gradient"))
overload(runtime.gradient_of)(_refuse("Numba cannot compile np.gradient"))
overload(runtime.gradient_spacing)(_refuse("Numba cannot compile np.gradient"))
overload(runtime.select_vjp)(_refuse("Numba cannot compile np.select of a list"))
overload(runtime.select_default_vjp)(_refuse("Numba cannot compile np.select of a list"))
