"""Helpers of the linear-algebra rules: products (matmul, dot, inner, tensordot; einsum is in
:mod:`.einsum`), diagonals and traces, solve, inv, det, slogdet, cholesky.

Takes the primal operands and an adjoint (or tangent); returns the adjoint of one operand with
that operand's shape (float64), or the tangent of the result.
"""

from __future__ import annotations

import numpy as np

from ..errors import NoRuleError
from .core import unbroadcast
from .shape import reshape_like


def mT(x):
    """The matrix transpose of a stack of matrices: the last two axes swapped."""
    return np.swapaxes(x, -1, -2)


def _as_matrices(g, a, b):
    """matmul's operands and adjoint with 1-D operands promoted to matrices, as matmul does."""
    g = np.asarray(g, dtype=np.float64)
    a2 = a[None, :] if a.ndim == 1 else a
    b2 = b[:, None] if b.ndim == 1 else b
    if b.ndim == 1:
        g = g[..., None]
    if a.ndim == 1:
        g = np.expand_dims(g, -2)
    return g, a2, b2


def _plain_product_vjp(g, a, b, which):
    """The adjoint of a 1-D/2-D by 1-D/2-D product (where np.dot and matmul agree), or None."""
    if not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)) or not (
            1 <= a.ndim <= 2 and 1 <= b.ndim <= 2):
        return None
    if which == 0:
        if b.ndim == 2:
            return g @ b.T if a.ndim == 2 else b @ g
        return np.outer(g, b) if a.ndim == 2 else g * b
    if a.ndim == 2:
        return a.T @ g
    return np.outer(a, g) if b.ndim == 2 else g * a


def matmul_vjp_a(g, a, b):
    """Adjoint of ``a`` in ``a @ b`` (1-D operands, batches and batch broadcasting included)."""
    plain = _plain_product_vjp(g, a, b, 0)
    if plain is not None:
        return plain
    g2, a2, b2 = _as_matrices(g, a, b)
    return reshape_like(unbroadcast(g2 @ mT(b2), a2), a)


def matmul_vjp_b(g, a, b):
    """Adjoint of ``b`` in ``a @ b``."""
    plain = _plain_product_vjp(g, a, b, 1)
    if plain is not None:
        return plain
    g2, a2, b2 = _as_matrices(g, a, b)
    return reshape_like(unbroadcast(mT(a2) @ g2, b2), b)


def _tensordot_vjp(g, a, b, a_axes, b_axes, which):
    """Adjoint of ``a`` (which=0) or ``b`` (which=1) in ``np.tensordot(a, b, (a_axes, b_axes))``.

    The result's axes are a's free axes then b's free axes, each in increasing order; the adjoint
    contracts ``g`` with the other operand over that operand's free axes and puts the axes back in
    the operand's order.
    """
    g = np.asarray(g, dtype=np.float64)
    a_axes = [k % a.ndim for k in a_axes]
    b_axes = [k % b.ndim for k in b_axes]
    free_a = [k for k in range(a.ndim) if k not in a_axes]
    free_b = [k for k in range(b.ndim) if k not in b_axes]
    if which == 0:
        g_free_b = list(range(len(free_a), g.ndim))
        r = np.tensordot(g, b, (g_free_b, free_b))
        # r's axes: a's free axes, then b's contracted axes in increasing order (as a's partners).
        order = free_a + [a_axes[b_axes.index(k)] for k in sorted(b_axes)]
    else:
        r = np.tensordot(a, g, (free_a, list(range(len(free_a)))))
        order = [b_axes[a_axes.index(k)] for k in sorted(a_axes)] + free_b
    return np.transpose(r, np.argsort(order))


def _dot_axes(a, b):
    if a.ndim == 0 or b.ndim == 0:
        return None
    return [a.ndim - 1], [max(b.ndim - 2, 0)]


def dot_vjp_a(g, a, b):
    """Adjoint of ``a`` in ``np.dot(a, b)`` (scalars, vectors, matrices, N-d arrays)."""
    plain = _plain_product_vjp(g, a, b, 0)
    if plain is not None:
        return plain
    a, b = np.asarray(a), np.asarray(b)
    axes = _dot_axes(a, b)
    if axes is None:
        return unbroadcast(g * b, a)
    return _tensordot_vjp(g, a, b, axes[0], axes[1], 0)


def dot_vjp_b(g, a, b):
    """Adjoint of ``b`` in ``np.dot(a, b)``."""
    plain = _plain_product_vjp(g, a, b, 1)
    if plain is not None:
        return plain
    a, b = np.asarray(a), np.asarray(b)
    axes = _dot_axes(a, b)
    if axes is None:
        return unbroadcast(g * a, b)
    return _tensordot_vjp(g, a, b, axes[0], axes[1], 1)


def inner_vjp_a(g, a, b):
    """Adjoint of ``a`` in ``np.inner(a, b)`` (contracts the last axes of both)."""
    a, b = np.asarray(a), np.asarray(b)
    if a.ndim == 0 or b.ndim == 0:
        return unbroadcast(g * b, a)
    return _tensordot_vjp(g, a, b, [a.ndim - 1], [b.ndim - 1], 0)


def inner_vjp_b(g, a, b):
    """Adjoint of ``b`` in ``np.inner(a, b)``."""
    a, b = np.asarray(a), np.asarray(b)
    if a.ndim == 0 or b.ndim == 0:
        return unbroadcast(g * a, b)
    return _tensordot_vjp(g, a, b, [a.ndim - 1], [b.ndim - 1], 1)


def _tensordot_axes(a, b, axes):
    if isinstance(axes, (int, np.integer)):
        return list(range(a.ndim - axes, a.ndim)), list(range(axes))
    a_axes, b_axes = axes
    a_axes = [a_axes] if isinstance(a_axes, (int, np.integer)) else list(a_axes)
    b_axes = [b_axes] if isinstance(b_axes, (int, np.integer)) else list(b_axes)
    return a_axes, b_axes


def tensordot_vjp_a(g, a, b, axes):
    """Adjoint of ``a`` in ``np.tensordot(a, b, axes)``."""
    a, b = np.asarray(a), np.asarray(b)
    return _tensordot_vjp(g, a, b, *_tensordot_axes(a, b, axes), 0)


def tensordot_vjp_b(g, a, b, axes):
    """Adjoint of ``b`` in ``np.tensordot(a, b, axes)``."""
    a, b = np.asarray(a), np.asarray(b)
    return _tensordot_vjp(g, a, b, *_tensordot_axes(a, b, axes), 1)


def diagonal_vjp(g, a, offset, axis1, axis2):
    """Adjoint of ``np.diagonal(a, offset, axis1, axis2)``: ``g`` written on that diagonal."""
    out = np.zeros(np.shape(a))
    view = np.moveaxis(out, (axis1, axis2), (-2, -1))
    rows = np.arange(max(0, -offset), min(view.shape[-2], view.shape[-1] - offset))
    view[..., rows, rows + offset] = g
    return out


def trace_vjp(g, a, offset, axis1, axis2):
    """Adjoint of ``np.trace(a, offset, axis1, axis2)``: ``g`` on every diagonal element."""
    return diagonal_vjp(np.asarray(g, dtype=np.float64)[..., None], a, offset, axis1, axis2)


def solve_vjp_b(g, a, b):
    """Adjoint of ``b`` in ``x = np.linalg.solve(a, b)``: solve(aᵀ, g)."""
    if np.ndim(b) == 1:  # NumPy 2: only a 1-D b is a vector; otherwise it is (..., M, K)
        return unbroadcast(np.linalg.solve(mT(a), g[..., None])[..., 0], b)
    return unbroadcast(np.linalg.solve(mT(a), g), b)


def solve_vjp_a(g, a, b, x):
    """Adjoint of ``a`` in ``x = np.linalg.solve(a, b)``: -solve(aᵀ, g) xᵀ."""
    if np.ndim(b) == 1:
        gb = np.linalg.solve(mT(a), g[..., None])
        return unbroadcast(-gb * x[..., None, :], a)
    return unbroadcast(-(np.linalg.solve(mT(a), g) @ mT(x)), a)


def solve_jvp_a(t, a, b, x):
    """Tangent of ``x = np.linalg.solve(a, b)`` from ``a``'s tangent: -solve(a, t x)."""
    if np.ndim(b) == 1:
        return -np.linalg.solve(a, t @ x[..., None])[..., 0]
    return -np.linalg.solve(a, t @ x)


def det_vjp(g, a, z):
    """Adjoint of ``np.linalg.det(a)``: g det(a) inv(a)ᵀ (a must be invertible)."""
    scale = np.asarray(g * z, dtype=np.float64)[..., None, None]
    return scale * mT(np.linalg.inv(a))


def det_jvp(t, a, z):
    """Tangent of ``np.linalg.det(a)``: det(a) trace(solve(a, t))."""
    return z * np.trace(np.linalg.solve(a, t), axis1=-2, axis2=-1)


def logdet_vjp(g, a):
    """Adjoint of ``log|det(a)|`` (``np.linalg.slogdet(a)[1]``): g inv(a)ᵀ."""
    return np.asarray(g, dtype=np.float64)[..., None, None] * mT(np.linalg.inv(a))


def logdet_jvp(t, a):
    """Tangent of ``log|det(a)|``: trace(solve(a, t))."""
    return np.trace(np.linalg.solve(a, t), axis1=-2, axis2=-1)


def phi(x):
    """The lower triangle of ``x`` with its diagonal halved (Φ of the Cholesky derivative)."""
    return np.tril(x) - 0.5 * x * np.eye(x.shape[-1])


def cholesky_vjp(g, z, upper):
    """Adjoint of ``np.linalg.cholesky(a, upper=upper)`` with result ``z``.

    NumPy reads only one triangle of ``a`` (the lower one, or the upper one for ``upper=True``),
    so the adjoint lives on that triangle: for the lower case it is tril(S + Sᵀ) with the
    diagonal of S, where S = L⁻ᵀ Φ(Lᵀ Ḡ) L⁻¹ and Φ takes the lower triangle with half diagonal.
    Written with functions that have rules: differentiated again through this source.
    """
    lower_g = mT(g) if upper else g
    lower = mT(z) if upper else z
    inv_l = np.linalg.inv(lower)
    s = mT(inv_l) @ phi(mT(lower) @ lower_g) @ inv_l
    out = np.tril(s + mT(s)) - s * np.eye(s.shape[-1])
    return mT(out) if upper else out


def cholesky_jvp(t, z, upper):
    """Tangent of ``np.linalg.cholesky(a, upper=upper)``: L Φ(L⁻¹ dA L⁻ᵀ), where dA is the
    symmetric matrix that the read triangle of ``t`` stands for. Written with functions that
    have rules: differentiated again through this source."""
    lower_t = mT(t) if upper else t
    lower = mT(z) if upper else z
    sym = np.tril(lower_t) + mT(np.tril(lower_t, -1))
    inv_l = np.linalg.inv(lower)
    out = lower @ phi(inv_l @ sym @ mT(inv_l))
    return mT(out) if upper else out


def diag_vjp(g, v, k):
    """Adjoint of ``np.diag(v, k)``: the k-th diagonal of ``g`` (v 1-D), or ``g`` placed on
    the k-th diagonal of a zero matrix (v 2-D)."""
    if np.ndim(v) == 1:
        return np.diagonal(g, k).copy()
    return diagonal_vjp(g, v, k, 0, 1)


def _kron_factors(g, a, b):
    """``g`` with the axes of ``np.kron(a, b)`` split into interleaved (a axis, b axis) pairs,
    and ``a``, ``b`` reshaped to broadcast against it (both padded to the same ndim)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    nd = max(a.ndim, b.ndim)
    sa = (1,) * (nd - a.ndim) + a.shape
    sb = (1,) * (nd - b.ndim) + b.shape
    pairs = [n for pair in zip(sa, sb) for n in pair]
    spread_a = [n for m in sa for n in (m, 1)]
    spread_b = [n for m in sb for n in (1, m)]
    return (np.reshape(g, pairs), a.reshape(spread_a), b.reshape(spread_b),
            tuple(range(1, 2 * nd, 2)), tuple(range(0, 2 * nd, 2)))


def kron_vjp_a(g, a, b):
    """Adjoint of ``a`` in ``np.kron(a, b)``: each block of ``g`` contracted with ``b``."""
    g4, _, b4, b_axes, _ = _kron_factors(g, a, b)
    return reshape_like(np.sum(g4 * b4, axis=b_axes), a)


def kron_vjp_b(g, a, b):
    """Adjoint of ``b`` in ``np.kron(a, b)``: the blocks of ``g`` summed, weighted by ``a``."""
    g4, a4, _, _, a_axes = _kron_factors(g, a, b)
    return reshape_like(np.sum(g4 * a4, axis=a_axes), b)


def _cross_vectors(a, b, axisa, axisb, axisc, axis):
    """``np.cross``'s operands with their vector axes last, padded to 3 components, and the
    axis of the result's vectors (None when the result is a scalar per pair: 2 x 2)."""
    if axis is not None:
        axisa = axisb = axisc = axis
    a3 = np.moveaxis(np.asarray(a, dtype=np.float64), axisa, -1)
    b3 = np.moveaxis(np.asarray(b, dtype=np.float64), axisb, -1)
    scalar = a3.shape[-1] == 2 and b3.shape[-1] == 2
    pad = [(0, 0)] * (a3.ndim - 1) + [(0, 3 - a3.shape[-1])]
    a3 = np.pad(a3, pad)
    pad = [(0, 0)] * (b3.ndim - 1) + [(0, 3 - b3.shape[-1])]
    b3 = np.pad(b3, pad)
    return a3, b3, None if scalar else axisc


def _cross_adjoint(g, like, axis_like, n_like):
    """Bring a 3-component adjoint (vector axis last) back to ``like``'s layout."""
    return unbroadcast(np.moveaxis(g[..., :n_like], -1, axis_like), like)


def cross_vjp_a(g, a, b, axisa, axisb, axisc, axis):
    """Adjoint of ``a`` in ``np.cross(a, b, axisa, axisb, axisc, axis)``: b × g (with 2-vector
    operands taken as 3-vectors in the plane, and their scalar product as the z component)."""
    a3, b3, axisc = _cross_vectors(a, b, axisa, axisb, axisc, axis)
    g3 = _cross_seed(g, axisc)
    axis_a = axisa if axis is None else axis
    return _cross_adjoint(np.cross(b3, g3), a, axis_a, np.shape(a)[axis_a])


def cross_vjp_b(g, a, b, axisa, axisb, axisc, axis):
    """Adjoint of ``b`` in ``np.cross(a, b, ...)``: g × a."""
    a3, b3, axisc = _cross_vectors(a, b, axisa, axisb, axisc, axis)
    g3 = _cross_seed(g, axisc)
    axis_b = axisb if axis is None else axis
    return _cross_adjoint(np.cross(g3, a3), b, axis_b, np.shape(b)[axis_b])


def _cross_seed(g, axisc):
    """The adjoint of the result as 3-vectors, vector axis last (a scalar result is the z
    component)."""
    g = np.asarray(g, dtype=np.float64)
    if axisc is None:
        zero = np.zeros(g.shape)
        return np.stack([zero, zero, g], axis=-1)
    return np.moveaxis(g, axisc, -1)


def solve_rhs(b, a):
    """``b``, the right-hand side of ``np.linalg.solve(a, b)``, as the rules of the solve
    helpers' own derivatives take it: they refuse a stack of matrices ``a`` with a 1-D ``b``
    (a stack of vectors for a result, which they would read as a matrix)."""
    if np.ndim(b) == 1 and np.ndim(a) > 2:
        raise NoRuleError("adjoint differentiates np.linalg.solve of a stack of matrices with a "
                          "1-D right-hand side only once",
                          hint="pass b as a column, b[:, None], and take [..., 0] of the result")
    return b
