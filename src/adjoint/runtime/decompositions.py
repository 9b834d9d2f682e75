"""Helpers of the rules for matrix decompositions: ``np.linalg.svd`` and ``np.linalg.eigh``
(``np.linalg.pinv``'s rules are products only, written in their templates).

Takes the primal argument ``a`` (a matrix or a stack of them, float64) and an adjoint or a
tangent; returns the adjoint of ``a`` (its shape) or the tangents of the results. The formulas
are the usual ones (Townsend's for the SVD, Magnus's for eigenvectors); they hold where the
decomposition is differentiable: distinct singular values or eigenvalues, and nonzero singular
values for the singular vectors. Elsewhere the result is inf or nan, never a finite wrong
number.
"""

from __future__ import annotations

import numpy as np

from ..errors import NoRuleError
from .linalg import mT


def gaps(v):
    """F[..., i, j] = 1 / (v_j - v_i) off the diagonal, 0 on it (inf where two values of ``v``
    are equal: the decompositions' derivatives do not exist there)."""
    v = np.asarray(v, dtype=np.float64)
    diff = v[..., None, :] - v[..., :, None]
    eye = np.eye(v.shape[-1], dtype=bool)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(eye, 0.0, 1.0 / np.where(eye, 1.0, diff))


def _parts(g, count):
    """The adjoints of a tuple result's elements: ``g`` holds those of its first elements (the
    ones generated code read), the rest are zero."""
    return list(g) + [0.0] * (count - len(g))


def _as_array(g, like):
    """An adjoint of the array ``like``, given as an array or, when generated code read only
    its first elements (``s[0]``), as the tuple of their adjoints."""
    if not isinstance(g, (tuple, list)):
        return np.broadcast_to(np.asarray(g, dtype=np.float64), like.shape)
    out = np.zeros(like.shape)
    for k, part in enumerate(g):
        out[k] = part
    return out


def _svd_factors(a, z, full_matrices, compute_uv, hermitian):
    """(U, S, Vh) of ``a``, reduced: the primal's own result ``z`` when it has them (so the
    signs of the singular vectors are the user's), else a fresh SVD (compute_uv=False: only
    U diag(g) Vh is needed, which does not depend on the signs). Refuses the full SVD of a
    non-square matrix, whose extra singular vectors are not unique (no derivative)."""
    if hermitian:
        raise NoRuleError("adjoint's rule for np.linalg.svd does not support hermitian=True "
                          "(it reads one triangle of the matrix)",
                          hint="drop hermitian=True, or use np.linalg.eigh")
    if not compute_uv:
        return np.linalg.svd(np.asarray(a, dtype=np.float64), full_matrices=False)
    u, s, vh = z
    if u.shape[-1] != s.shape[-1] or vh.shape[-2] != s.shape[-1]:
        raise NoRuleError("adjoint's rule for np.linalg.svd of a non-square matrix needs "
                          "full_matrices=False (the extra singular vectors are not unique)",
                          hint="pass full_matrices=False")
    return u, s, vh


def svd_vjp(g, a, z, full_matrices, compute_uv, hermitian):
    """Adjoint of ``a`` in ``z = np.linalg.svd(a, full_matrices, compute_uv)``; ``g`` is the
    adjoint of the singular values (``compute_uv=False``) or the tuple of adjoints of
    (U, S, Vh): U [(F ∘ (J - Jᵀ)) S + diag(gS) + S (F ∘ (K - Kᵀ))] Vᵀ plus the parts of gU and
    gV outside the spans of U and V, with J = Uᵀ gU, K = Vᵀ gV, F_ij = 1 / (s_j² - s_i²)."""
    u, s, vh = _svd_factors(a, z, full_matrices, compute_uv, hermitian)
    if not compute_uv:
        return (u * _as_array(g, s)[..., None, :]) @ vh
    gu, gs, gvh = (np.asarray(x, dtype=np.float64) for x in _parts(g, 3))
    gu = np.broadcast_to(gu, u.shape)
    gv = mT(np.broadcast_to(gvh, vh.shape))
    gs = np.broadcast_to(gs, s.shape)
    v = mT(vh)
    f = gaps(s * s)
    j = mT(u) @ gu
    k = mT(v) @ gv
    inner = (f * (j - mT(j))) * s[..., None, :] + s[..., :, None] * (f * (k - mT(k)))
    inner = inner + gs[..., None, :] * np.eye(s.shape[-1])
    out = u @ inner @ vh
    inv_s = 1.0 / s
    m, n = np.shape(a)[-2:]
    if m > s.shape[-1]:  # (I - U Uᵀ) gU S⁻¹ Vᵀ
        out = out + ((gu - u @ j) * inv_s[..., None, :]) @ vh
    if n > s.shape[-1]:  # U S⁻¹ gVᵀ (I - V Vᵀ)
        out = out + u @ (mT(gv - v @ k) * inv_s[..., :, None])
    return out


def svd_jvp(t, a, z, full_matrices, compute_uv, hermitian):
    """Tangent of ``z = np.linalg.svd(a, full_matrices, compute_uv)`` from ``a``'s tangent
    ``t``: dS = diag(dP), or the tuple (dU, dS, dVh), with dP = Uᵀ dA V."""
    u, s, vh = _svd_factors(a, z, full_matrices, compute_uv, hermitian)
    t = np.asarray(t, dtype=np.float64)
    v = mT(vh)
    dp = mT(u) @ t @ v
    ds = np.diagonal(dp, axis1=-2, axis2=-1).copy()
    if not compute_uv:
        return ds
    f = gaps(s * s)
    cols = s[..., None, :]  # M * cols = M S;  rows * M = S M
    rows = s[..., :, None]
    du = u @ (f * (dp * cols + rows * mT(dp)))
    dv = v @ (f * (rows * dp + mT(dp) * cols))
    inv_s = 1.0 / s
    m, n = np.shape(a)[-2:]
    if m > s.shape[-1]:
        du = du + (t @ v - u @ (mT(u) @ t @ v)) * inv_s[..., None, :]
    if n > s.shape[-1]:
        dv = dv + (mT(t) @ u - v @ (mT(v) @ mT(t) @ u)) * inv_s[..., None, :]
    return du, ds, mT(dv)


def _symmetric(t, uplo):
    """The symmetric matrix that the triangle ``uplo`` of ``t`` stands for (what eigh reads)."""
    low = np.tril(t) if uplo == "L" else mT(np.triu(t))
    return low + mT(np.tril(low, -1))


def eigh_vjp(g, a, w, v, uplo):
    """Adjoint of ``a`` in ``(w, v) = np.linalg.eigh(a, UPLO=uplo)`` from the adjoints
    ``g = (gw, gv)``.

    NumPy reads only the triangle ``uplo`` of ``a``, so the adjoint lives there (as for
    cholesky): the symmetric adjoint S = V (diag(gw) + F ∘ (Vᵀ gv)) Vᵀ, symmetrized, then
    folded onto that triangle (off-diagonal entries count twice). Written with functions that
    have rules: differentiated again through this source."""
    gw, gv = g
    eye = np.eye(np.shape(w)[-1])
    inner = gaps(w) * (mT(v) @ gv) + np.expand_dims(gw, -2) * eye
    s = v @ inner @ mT(v)
    s = 0.5 * (s + mT(s))
    folded = np.tril(2.0 * s, -1) + s * eye
    return folded if uplo == "L" else mT(folded)


def eigh_jvp(t, a, w, v, uplo):
    """Tangent (dw, dv) of ``np.linalg.eigh(a, UPLO=uplo)``: dw = diag(Vᵀ dA V),
    dv = V (F ∘ (Vᵀ dA V)), with dA the symmetric matrix the read triangle of ``t`` stands for.
    Written with functions that have rules: differentiated again through this source."""
    dp = mT(v) @ _symmetric(t, uplo) @ v
    return np.copy(np.diagonal(dp, 0, -2, -1)), v @ (gaps(w) * dp)
