"""Numba implementations of the reduction helpers (:mod:`adjoint.runtime.reductions`).

Under Numba a reduction takes fewer forms than in CPython (np.sum takes an int axis,
np.mean/max/prod none), so these implementations cover every form that compiles as a primal,
and more where it costs nothing.
"""

from __future__ import annotations

import numpy as np
from numba import types
from numba.core.errors import TypingError
from numba.extending import overload, register_jitable
from numba.np.unsafe.ndarray import to_fixed_tuple

from .. import runtime
from .common import (
    _axes_array,
    _fill,
    _is_array,
    _is_none,
    _is_scalar,
    _kept_shape,
    _lanes,
    _raise_no_rule,
    _sum_kept,
    _total,
)

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


@overload(runtime.norm_power, prefer_literal=True)
def _norm_power(ord, x, axis):
    matrix = (_is_none(axis) and _is_array(x) and x.ndim == 2) or (
        isinstance(axis, types.BaseTuple) and len(axis) == 2)
    if _is_none(ord) or (isinstance(ord, types.StringLiteral) and ord.literal_value == "fro"):
        return lambda ord, x, axis: 2.0
    if matrix:
        def refuse(ord, x, axis):
            _raise_no_rule("adjoint differentiates this matrix norm once only")
            return 2.0
        return refuse
    if isinstance(ord, (types.Integer, types.Float)):
        def power(ord, x, axis):
            if ord == 0 or ord == 1 or ord == np.inf or ord == -np.inf:
                return 1.0
            return float(ord)
        return power
    return None
