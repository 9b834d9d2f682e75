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


def svd_checked(a_shape, s_shape, full_matrices, hermitian):
    """Refuse what the SVD rules cannot differentiate: ``hermitian=True`` (NumPy then reads one
    triangle), and the full SVD of a non-square matrix (its extra singular vectors are not
    unique: no derivative)."""
    if hermitian:
        raise NoRuleError("adjoint's rule for np.linalg.svd does not support hermitian=True "
                          "(it reads one triangle of the matrix)",
                          hint="drop hermitian=True, or use np.linalg.eigh")
    if full_matrices and a_shape[-1] != a_shape[-2]:
        raise NoRuleError("adjoint's rule for np.linalg.svd of a non-square matrix needs "
                          "full_matrices=False (the extra singular vectors are not unique)",
                          hint="pass full_matrices=False")


def svd_values_vjp(g, a, hermitian):
    """Adjoint of ``a`` in ``s = np.linalg.svd(a, compute_uv=False)``: U diag(g) Vh, from a
    fresh reduced SVD (the product does not depend on the singular vectors' signs). Written
    with functions that have rules: differentiated again through this source."""
    svd_checked(np.shape(a), np.shape(a)[:-1], False, hermitian)
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    return (u * np.expand_dims(np.reshape(g, np.shape(s)), -2)) @ vh


def svd_values_jvp(t, a, hermitian):
    """Tangent of ``np.linalg.svd(a, compute_uv=False)``: diag(Uᵀ dA V). Differentiated again
    through this source."""
    svd_checked(np.shape(a), np.shape(a)[:-1], False, hermitian)
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    return np.copy(np.diagonal(mT(u) @ t @ mT(vh), 0, -2, -1))


def svd_vjp(g, a, u, s, vh, full_matrices, hermitian):
    """Adjoint of ``a`` in ``(u, s, vh) = np.linalg.svd(a, full_matrices)`` from the adjoints
    ``g = (gU, gS, gVh)``: U [(F ∘ (J - Jᵀ)) S + diag(gS) + S (F ∘ (K - Kᵀ))] Vᵀ plus the parts of
    gU and gV outside the spans of U and V, with J = Uᵀ gU, K = Vᵀ gV, F_ij = 1 / (s_j² - s_i²).
    Written with functions that have rules: differentiated again through this source."""
    svd_checked(np.shape(a), np.shape(s), full_matrices, hermitian)
    gu, gs, gvh = g
    v = mT(vh)
    gv = mT(gvh)
    f = gaps(s * s)
    j = mT(u) @ gu
    k = mT(v) @ gv
    inner = (f * (j - mT(j))) * np.expand_dims(s, -2) + np.expand_dims(s, -1) * (
        f * (k - mT(k)))
    out = u @ (inner + np.expand_dims(gs, -2) * np.eye(np.shape(s)[-1])) @ vh
    inv_s = 1.0 / s
    if np.shape(a)[-2] > np.shape(s)[-1]:  # (I - U Uᵀ) gU S⁻¹ Vᵀ
        out = out + ((gu - u @ j) * np.expand_dims(inv_s, -2)) @ vh
    if np.shape(a)[-1] > np.shape(s)[-1]:  # U S⁻¹ gVᵀ (I - V Vᵀ)
        out = out + u @ (mT(gv - v @ k) * np.expand_dims(inv_s, -1))
    return out


def svd_jvp(t, a, u, s, vh, full_matrices, hermitian):
    """Tangent (dU, dS, dVh) of ``np.linalg.svd(a, full_matrices)`` from ``a``'s tangent ``t``,
    with dP = Uᵀ dA V: dS = diag(dP). Differentiated again through this source."""
    svd_checked(np.shape(a), np.shape(s), full_matrices, hermitian)
    v = mT(vh)
    dp = mT(u) @ t @ v
    f = gaps(s * s)
    cols = np.expand_dims(s, -2)  # M * cols = M S;  rows * M = S M
    rows = np.expand_dims(s, -1)
    du = u @ (f * (dp * cols + rows * mT(dp)))
    dv = v @ (f * (rows * dp + mT(dp) * cols))
    inv_s = 1.0 / s
    if np.shape(a)[-2] > np.shape(s)[-1]:
        du = du + (t @ v - u @ (mT(u) @ t @ v)) * np.expand_dims(inv_s, -2)
    if np.shape(a)[-1] > np.shape(s)[-1]:
        dv = dv + (mT(t) @ u - v @ (mT(v) @ mT(t) @ u)) * np.expand_dims(inv_s, -2)
    return du, np.copy(np.diagonal(dp, 0, -2, -1)), mT(dv)


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
