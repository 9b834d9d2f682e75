"""Helpers of the reduction rules (sum, mean, prod, max/min, var/std, norm, cumsum, cumprod,
diff).

Conventions: ``axis`` is what the user passed to a reduction (None, an int, possibly negative,
or a tuple of ints); a reduction's result may or may not keep the reduced axes. ``a`` is the
primal argument, so its shape is the shape an adjoint must come back with.
"""

from __future__ import annotations

import numpy as np

from ..errors import NoRuleError
from .shape import reshape_like


def _reduced_axes(axis, ndim):
    """The reduced axes as a sorted tuple of non-negative ints (None: all of them)."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (tuple, list)):
        return tuple(sorted(int(k) % ndim for k in axis))
    return (int(axis) % ndim,)


def keep_dims(r, a, axis):
    """A reduction's result ``r`` reshaped to ``a``'s number of dimensions (reduced axes as 1).

    ``r`` may or may not have kept the reduced axes; either way it has the same elements in the
    same order, so a reshape restores the kept form. For a scalar ``a``, ``r`` itself.
    """
    if not isinstance(a, np.ndarray):
        return r
    axes = _reduced_axes(axis, a.ndim)
    shape = tuple(1 if k in axes else n for k, n in enumerate(a.shape))
    return np.reshape(r, shape)


def unreduce(g, a, axis):
    """The adjoint ``g`` of a reduction of ``a`` over ``axis``, broadcast back to ``a``'s shape.

    Always a fresh float64 array (a float for a scalar ``a``), so callers may write into it.
    """
    if not isinstance(a, np.ndarray):
        return float(np.sum(g))
    out = np.empty(a.shape)
    if axis is None and np.ndim(g) == 0:
        out.fill(g)  # the adjoint of a full reduction: one number everywhere
    else:
        out[...] = keep_dims(g, a, axis)
    return out


def reduce_sum(x, axis, keepdims):
    """``np.sum(x, axis=axis, keepdims=keepdims)`` (Numba's ``np.sum`` has no keepdims)."""
    if not isinstance(x, np.ndarray):
        return x
    return np.sum(x, axis=axis, keepdims=keepdims)


def reduced_count(a, axis):
    """How many elements of ``a`` each result of a reduction over ``axis`` combines."""
    if not isinstance(a, np.ndarray):
        return 1
    n = 1
    for k in _reduced_axes(axis, a.ndim):
        n *= a.shape[k]
    return n


def ddof_count(a, axis, ddof):
    """The divisor of ``np.var(a, axis, ddof=ddof)`` as a float: ``n - ddof``, or nan where
    that is not positive (NumPy's variance is then nan or inf, and so is its derivative),
    so that dividing by it never raises."""
    n = reduced_count(a, axis) - ddof
    return float(n) if n > 0 else np.nan


def nonzero_reciprocal(x):
    """``1 / x`` where ``x != 0`` and 0 where ``x == 0``: the factor ``1 / std`` of the
    derivative of ``np.std``, whose numerator (the centered data) is 0 wherever std is, so the
    derivative there is 0 (a subgradient; exact when one element is reduced)."""
    if isinstance(x, np.ndarray):
        safe = np.where(x == 0, 1.0, x)
        return np.where(x == 0, 0.0, 1.0 / safe)
    return 1.0 / x if x != 0 else 0.0


def centered(a, axis):
    """``a`` minus its mean over ``axis`` (the mean keeps the reduced axes, so it broadcasts)."""
    if not isinstance(a, np.ndarray):
        return 0.0
    return a - np.mean(a, axis=axis, keepdims=True)


def extreme_weights(a, z, axis):
    """d max(a)/da (or min): 1/k on each of the k elements equal to the extreme ``z``, else 0.

    Ties share the derivative equally, as JAX does, so the weights of each reduced group sum
    to 1 and the gradient of ``max(x, x)``-like cases stays symmetric.
    """
    if not isinstance(a, np.ndarray):
        return 1.0
    # the extreme of every element (axis None) broadcasts as it is
    hit = a == (z if axis is None else keep_dims(z, a, axis))
    weights = hit.astype(np.float64)
    # hit is 0 or 1, so multiplying by 1/k is exactly dividing by k, and cheaper
    if axis is None:
        k = np.count_nonzero(hit)
        return weights if k == 1 else weights * (1.0 / k)  # one extreme: no tie to share
    return weights * (1.0 / np.sum(weights, axis=axis, keepdims=True))


def _axes_last(a, axes):
    """``a`` with ``axes`` moved to the end and flattened into one: (rest..., prod(axes))."""
    rest = [k for k in range(a.ndim) if k not in axes]
    moved = np.transpose(a, rest + list(axes))
    return moved.reshape(moved.shape[:len(rest)] + (-1,)), rest + list(axes), moved.shape


def _axes_back(c, perm, moved_shape):
    """Undo :func:`_axes_last`."""
    return np.transpose(c.reshape(moved_shape), np.argsort(perm))


def prod_weights(a, axis):
    """d prod(a)/da: for each element, the product of the *other* elements of its group.

    Computed from exclusive prefix and suffix products, so zeros in ``a`` are handled exactly
    (no division by ``a``).
    """
    if not isinstance(a, np.ndarray):
        return 1.0
    flat, perm, moved_shape = _axes_last(a.astype(np.float64), _reduced_axes(axis, a.ndim))
    return _axes_back(_exclusive_products(flat), perm, moved_shape)


def _exclusive_products(flat):
    """For each element of the last axis, the product of the others (prefix and suffix
    products: exact with zeros)."""
    ones = np.ones(flat.shape[:-1] + (1,))
    before = np.cumprod(np.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
    after = np.cumprod(np.concatenate([ones, flat[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
    return before * after


def reduction_layout(a, axis):
    """How :func:`reduced_last` lays out ``a`` for a reduction over ``axis``: (the reduced axes,
    where they go — the last ones —, the shape with them flattened into one, the shape with
    them moved last)."""
    axes = _reduced_axes(axis, np.ndim(a))
    ends = tuple(range(-len(axes), 0))
    moved = np.moveaxis(np.empty(np.shape(a)), axes, ends).shape
    return axes, ends, moved[:np.ndim(a) - len(axes)] + (-1,), moved


def reduced_last(x, axis):
    """``x`` (float64) with the axes a reduction over ``axis`` combines moved to the end and
    flattened into one (a scalar ``x``: a vector of one element)."""
    axes, ends, flat, _ = reduction_layout(x, axis)
    return np.reshape(np.moveaxis(np.asarray(x, dtype=np.float64), axes, ends), flat)


def reduced_back(y, a, axis):
    """Undo :func:`reduced_last`: ``y`` in ``a``'s layout."""
    axes, ends, _, moved = reduction_layout(a, axis)
    return np.moveaxis(np.reshape(y, moved), ends, axes)


def prod_weights_vjp(g, a, axis):
    """The derivative of :func:`prod_weights` applied to ``g`` (a symmetric matrix per group, so
    both its adjoint and its tangent): Σ_{i≠j} g_i Π_{k≠i,j} a_k for each element j, without
    division (exact with zeros): row j of B is the group with a_j replaced by 1, and
    prod_weights(B) off the diagonal is Π_{k≠i,j} a_k. O(n²) per group. Written with functions
    that have rules: differentiated again through this source (every order of np.prod)."""
    x = reduced_last(a, axis)
    gl = reduced_last(g, axis)
    eye = np.eye(np.shape(x)[-1])
    b = np.expand_dims(x, -2) * (1.0 - eye) + eye
    m = prod_weights(b, -1) * (1.0 - eye)
    out = np.sum(m * np.expand_dims(gl, -2), axis=-1)
    return reduced_back(out, a, axis) if np.ndim(a) > 0 else 0.0 * g


def norm_weights(x, z, ord, axis):
    """d norm(x)/dx for ``np.linalg.norm(x, ord, axis)`` with result ``z`` (any keepdims).

    Vector norms: ord None/2 (x / z), 1 (sign x), inf/-inf (sign x on the extreme entries, ties
    shared), any other p (sign(x) |x|^(p-1) / z^(p-1)). Matrix norms: None or 'fro' (x / z),
    'nuc' (U Vᵀ of the reduced SVD: where every singular value is nonzero).
    At a zero norm the derivative is taken as 0 (a subgradient) rather than nan.
    """
    x = np.asarray(x, dtype=np.float64)
    if axis is None:
        matrix = x.ndim == 2 and ord is not None
        if x.ndim > 2 and ord is not None:
            raise NoRuleError("np.linalg.norm with ord needs axis for arrays of more than 2 "
                              "dimensions", hint="pass axis=... or flatten the array")
    else:
        matrix = isinstance(axis, (tuple, list)) and len(axis) == 2
    zk = keep_dims(z, x, axis)
    safe = np.where(zk == 0, 1.0, zk)
    if matrix:
        if ord in ("fro", None):
            return x / safe
        if ord == "nuc":  # d sum(s) = U Vᵀ (reduced SVD; the matrix axes moved last)
            pair = (-2, -1) if axis is None else tuple(axis)
            moved = np.moveaxis(x, pair, (-2, -1))
            u, _, vh = np.linalg.svd(moved, full_matrices=False)
            return np.moveaxis(u @ vh, (-2, -1), pair)
        raise NoRuleError(f"adjoint has no rule for the matrix norm np.linalg.norm(ord={ord!r})",
                          hint="use ord='fro', or compute the norm from its definition")
    if ord is None or ord == 2:
        return x / safe
    if ord == 1:
        return np.sign(x)
    if ord == np.inf or ord == -np.inf:
        return np.sign(x) * extreme_weights(np.abs(x), z, axis)
    if ord == 0:
        return np.zeros(x.shape)  # counts nonzeros: piecewise constant
    p = float(ord)
    return np.sign(x) * np.abs(x) ** (p - 1.0) / safe ** (p - 1.0)


def cumsum_axis(x, axis):
    """``np.cumsum(x, axis)`` (Numba's ``np.cumsum`` has no axis)."""
    return np.cumsum(x, axis=axis)


def cumsum_vjp(g, a, axis):
    """Adjoint of ``np.cumsum(a, axis)``: reversed cumulative sums of ``g``, in ``a``'s shape."""
    if axis is None:
        flat = np.ravel(g)
        return reshape_like(np.cumsum(flat[::-1])[::-1], a)
    return np.flip(np.cumsum(np.flip(g, axis), axis=axis), axis)


def along_last(x, axis):
    """``x`` as a float64 array with ``axis`` (None: flattened) moved to the end."""
    x = np.asarray(x, dtype=np.float64)
    return np.ravel(x) if axis is None else np.moveaxis(x, axis, -1)


def from_last(y, a, axis):
    """Undo :func:`along_last`: ``y`` back in ``a``'s layout."""
    return reshape_like(y, a) if axis is None else np.moveaxis(y, -1, axis)


def cumprod_vjp(g, a, axis):
    """Adjoint of ``np.cumprod(a, axis)``, without dividing by ``a`` (exact where a == 0).

    With P the exclusive prefix products and T_i = g_i + a_{i+1} T_{i+1}, the adjoint is P_i T_i.
    Written with functions that have rules: differentiated again through this source.
    """
    x = along_last(a, axis)
    gl = along_last(g, axis)
    n = np.shape(x)[-1]
    shifted = np.concatenate((np.ones(np.shape(x)[:-1] + (1,)), x[..., :n - 1]), axis=-1)
    prefixes = np.cumprod(shifted, axis=-1)
    backwards = []  # T_{n-1}, ..., T_0
    t = np.zeros(np.shape(x)[:-1])
    for k in range(n):
        i = n - 1 - k
        t = gl[..., i] + x[..., i + 1] * t if i + 1 < n else gl[..., i] + 0.0 * t
        backwards.append(t)
    suffixes = np.moveaxis(np.flip(np.stack(backwards), 0), 0, -1)
    return from_last(prefixes * suffixes, a, axis)


def cumprod_jvp(t, a, z, axis):
    """Tangent of ``np.cumprod(a, axis)``: dz_i = dz_{i-1} a_i + z_{i-1} t_i (no division).
    Written with functions that have rules: differentiated again through this source."""
    x, tl, zl = along_last(a, axis), along_last(t, axis), along_last(z, axis)
    tangents = []
    dz = np.zeros(np.shape(x)[:-1])
    for i in range(np.shape(x)[-1]):
        dz = dz * x[..., i] + (zl[..., i - 1] if i > 0 else 1.0) * tl[..., i]
        tangents.append(dz)
    out = np.moveaxis(np.stack(tangents), 0, -1)
    return out if axis is None else np.moveaxis(out, -1, axis)


def diff_axis(x, n, axis):
    """``np.diff(x, n, axis)`` (Numba's ``np.diff`` has no axis)."""
    return np.diff(x, n=n, axis=axis)


def diff_vjp(g, a, n, axis):
    """Adjoint of ``np.diff(a, n, axis)``: n times, pad ``g`` with a zero at both ends of the
    axis and take minus its first difference. When ``n`` is at least ``a``'s length along the
    axis the difference is empty and the adjoint is zero."""
    if np.shape(a)[axis] <= n:
        return np.zeros(np.shape(a))
    g = np.asarray(g, dtype=np.float64)
    for _ in range(n):
        zero = np.zeros_like(np.take(g, [0], axis=axis))
        g = -np.diff(np.concatenate([zero, g, zero], axis=axis), axis=axis)
    return g


def norm_power(ord, x, axis):
    """The p of the p-norm ``np.linalg.norm(x, ord, axis)`` computes, as the rules of
    :func:`norm_weights`'s own derivatives need it: 2.0 for None, 2 and 'fro'; p for another
    vector p-norm; 1.0 where the weights are piecewise constant (ord 1, inf, -inf, 0), whose
    derivative that makes 0. Other matrix norms are refused."""
    if axis is None:
        matrix = np.ndim(x) == 2 and ord is not None
    else:
        matrix = isinstance(axis, (tuple, list)) and len(axis) == 2
    if ord is None or ord == "fro":
        return 2.0
    if matrix:
        raise NoRuleError(f"adjoint differentiates np.linalg.norm(ord={ord!r}) of a matrix once "
                          "only", hint="use ord='fro' for higher derivatives")
    if ord in (1, 0) or ord == np.inf or ord == -np.inf:
        return 1.0
    return float(ord)
