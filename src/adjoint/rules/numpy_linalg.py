"""Rules for NumPy's linear algebra: products (matmul, dot, inner, outer, vdot, tensordot,
einsum, kron, cross), diagonals and triangles, and ``np.linalg`` (solve, inv, det, slogdet,
cholesky, svd, eigh, pinv).

Takes nothing; importing it registers the rules in :mod:`adjoint.rules.registry`. Numba's ``@``,
``np.dot`` and ``np.linalg`` need SciPy at run time (SciPy is in the ``test`` extra; Python mode
needs only NumPy).

``np.linalg.cholesky`` reads one triangle of its argument, so its gradient lives on that
triangle (exactly what finite differences of NumPy's function give); symmetrize the argument
first (``0.5 * (a + a.T)``) for the symmetric gradient JAX and PyTorch report.
"""

import numpy as np

from . import registry
from .registry import jvp, vjp

# ---------------------------------------------------------------------------------------------
# Linear algebra. Products are bilinear: each argument's adjoint is the product of the output's
# adjoint with the other argument, arranged back into that argument's axes.


@vjp(np.matmul)
def matmul_vjp(z, x1, x2):
    """d(x1 @ x2) = dx1 @ x2 + x1 @ dx2"""
    d[x1] = matmul_vjp_a(d[z], x1, x2)
    d[x2] = matmul_vjp_b(d[z], x1, x2)


@jvp(np.matmul)
def matmul_jvp(z, x1, x2):
    """d(x1 @ x2) = dx1 @ x2 + x1 @ dx2"""
    d[z] = d[x1] @ x2 + x1 @ d[x2]


@vjp(np.dot)
def dot_vjp(z, a, b):
    """d dot(a, b) = dot(da, b) + dot(a, db)"""
    d[a] = dot_vjp_a(d[z], a, b)
    d[b] = dot_vjp_b(d[z], a, b)


@jvp(np.dot)
def dot_jvp(z, a, b):
    """d dot(a, b) = dot(da, b) + dot(a, db)"""
    d[z] = np.dot(d[a], b) + np.dot(a, d[b])


@vjp(np.inner)
def inner_vjp(z, a, b):
    """d inner(a, b) = inner(da, b) + inner(a, db)"""
    d[a] = inner_vjp_a(d[z], a, b)
    d[b] = inner_vjp_b(d[z], a, b)


@jvp(np.inner)
def inner_jvp(z, a, b):
    """d inner(a, b) = inner(da, b) + inner(a, db)"""
    d[z] = np.inner(d[a], b) + np.inner(a, d[b])


@vjp(np.outer)
def outer_vjp(z, a, b):
    """d outer(a, b) = outer(da, b) + outer(a, db)   (both flattened)"""
    d[a] = reshape_like(np.dot(d[z], as_float(np.ravel(b))), a)
    d[b] = reshape_like(np.dot(as_float(np.ravel(a)), d[z]), b)


@jvp(np.outer)
def outer_jvp(z, a, b):
    """d outer(a, b) = outer(da, b) + outer(a, db)"""
    d[z] = np.outer(d[a], b) + np.outer(a, d[b])


@vjp(np.vdot)
def vdot_vjp(z, a, b):
    """d vdot(a, b) = vdot(da, b) + vdot(a, db)   (real arrays, both flattened)"""
    d[a] = reshape_like(d[z] * np.ravel(b), a)
    d[b] = reshape_like(d[z] * np.ravel(a), b)


@jvp(np.vdot)
def vdot_jvp(z, a, b):
    """d vdot(a, b) = vdot(da, b) + vdot(a, db)"""
    d[z] = np.vdot(d[a], b) + np.vdot(a, d[b])


@vjp(np.tensordot)
def tensordot_vjp(z, a, b, axes=2):
    """d tensordot(a, b) = tensordot(da, b) + tensordot(a, db)"""
    d[a] = tensordot_vjp_a(d[z], a, b, axes)
    d[b] = tensordot_vjp_b(d[z], a, b, axes)


@jvp(np.tensordot)
def tensordot_jvp(z, a, b, axes=2):
    """d tensordot(a, b) = tensordot(da, b) + tensordot(a, db)"""
    d[z] = np.tensordot(d[a], b, axes) + np.tensordot(a, d[b], axes)


@vjp(np.einsum)
def einsum_vjp_rule(z, subscripts, op0, op1=None, op2=None, op3=None, op4=None, op5=None,
                    op6=None, op7=None):
    """d einsum(s, a, b, ...) = einsum(s, da, b, ...) + einsum(s, a, db, ...) + ...   (1-8
    operands, '...' allowed; or the sublist form einsum(a, [0, 1], b, [1, 2])): each adjoint
    is an einsum of the output's adjoint with the other operands (einsum_adjoint's spec)"""
    d[subscripts] = einsum_of(einsum_adjoint(None, 0, subscripts, op0, op1, op2, op3, op4, op5,
                                             op6, op7),
                              d[z], op0, op1, op2, op3, op4, op5, op6, op7)
    d[op0] = einsum_of(einsum_adjoint(None, 1, subscripts, op0, op1, op2, op3, op4, op5, op6,
                                      op7),
                       subscripts, d[z], op1, op2, op3, op4, op5, op6, op7)
    d[op1] = einsum_of(einsum_adjoint(None, 2, subscripts, op0, op1, op2, op3, op4, op5, op6,
                                      op7),
                       subscripts, op0, d[z], op2, op3, op4, op5, op6, op7)
    d[op2] = einsum_of(einsum_adjoint(None, 3, subscripts, op0, op1, op2, op3, op4, op5, op6,
                                      op7),
                       subscripts, op0, op1, d[z], op3, op4, op5, op6, op7)
    d[op3] = einsum_of(einsum_adjoint(None, 4, subscripts, op0, op1, op2, op3, op4, op5, op6,
                                      op7),
                       subscripts, op0, op1, op2, d[z], op4, op5, op6, op7)
    d[op4] = einsum_of(einsum_adjoint(None, 5, subscripts, op0, op1, op2, op3, op4, op5, op6,
                                      op7),
                       subscripts, op0, op1, op2, op3, d[z], op5, op6, op7)
    d[op5] = einsum_of(einsum_adjoint(None, 6, subscripts, op0, op1, op2, op3, op4, op5, op6,
                                      op7),
                       subscripts, op0, op1, op2, op3, op4, d[z], op6, op7)
    d[op6] = einsum_of(einsum_adjoint(None, 7, subscripts, op0, op1, op2, op3, op4, op5, op6,
                                      op7),
                       subscripts, op0, op1, op2, op3, op4, op5, d[z], op7)
    d[op7] = einsum_of(einsum_adjoint(None, 8, subscripts, op0, op1, op2, op3, op4, op5, op6,
                                      op7),
                       subscripts, op0, op1, op2, op3, op4, op5, op6, d[z])


@jvp(np.einsum)
def einsum_jvp_rule(z, subscripts, op0, op1=None, op2=None, op3=None, op4=None, op5=None,
                    op6=None, op7=None):
    """d einsum(s, a, b, ...) = einsum(s, da, b, ...) + einsum(s, a, db, ...) + ..."""
    d[z] = (einsum_of(None, d[subscripts], op0, op1, op2, op3, op4, op5, op6, op7)
            + einsum_of(None, subscripts, d[op0], op1, op2, op3, op4, op5, op6, op7)
            + einsum_of(None, subscripts, op0, d[op1], op2, op3, op4, op5, op6, op7)
            + einsum_of(None, subscripts, op0, op1, d[op2], op3, op4, op5, op6, op7)
            + einsum_of(None, subscripts, op0, op1, op2, d[op3], op4, op5, op6, op7)
            + einsum_of(None, subscripts, op0, op1, op2, op3, d[op4], op5, op6, op7)
            + einsum_of(None, subscripts, op0, op1, op2, op3, op4, d[op5], op6, op7)
            + einsum_of(None, subscripts, op0, op1, op2, op3, op4, op5, d[op6], op7)
            + einsum_of(None, subscripts, op0, op1, op2, op3, op4, op5, op6, d[op7]))


@vjp(np.trace)
def trace_vjp_rule(z, a, offset=0, axis1=0, axis2=1, dtype=None):
    """d trace(a) = trace(da)"""
    d[a] = astype_vjp(trace_vjp(d[z], a, offset, axis1, axis2), dtype)


@jvp(np.trace)
def trace_jvp_rule(z, a, offset=0, axis1=0, axis2=1, dtype=None):
    """d trace(a) = trace(da)"""
    d[z] = astype_vjp(trace_axes(d[a], offset, axis1, axis2), dtype)


@vjp(np.diagonal)
def diagonal_vjp_rule(z, a, offset=0, axis1=0, axis2=1):
    """d diagonal(a) = diagonal(da)"""
    d[a] = diagonal_vjp(d[z], a, offset, axis1, axis2)


@jvp(np.diagonal)
def diagonal_jvp_rule(z, a, offset=0, axis1=0, axis2=1):
    """d diagonal(a) = diagonal(da)"""
    d[z] = np.diagonal(d[a], offset, axis1, axis2).copy()


@vjp(np.diag)
def diag_vjp_rule(z, v, k=0):
    """d diag(v, k) = diag(dv, k)"""
    d[v] = diag_vjp(d[z], v, k)


@jvp(np.diag)
def diag_jvp_rule(z, v, k=0):
    """d diag(v, k) = diag(dv, k)"""
    d[z] = np.diag(d[v], k)


@vjp(np.tril)
def tril_vjp(z, m, k=0):
    """d tril(m) = tril(dm)"""
    d[m] = np.tril(d[z], k)


@jvp(np.tril)
def tril_jvp(z, m, k=0):
    """d tril(m) = tril(dm)"""
    d[z] = np.tril(d[m], k)


@vjp(np.triu)
def triu_vjp(z, m, k=0):
    """d triu(m) = triu(dm)"""
    d[m] = np.triu(d[z], k)


@jvp(np.triu)
def triu_jvp(z, m, k=0):
    """d triu(m) = triu(dm)"""
    d[z] = np.triu(d[m], k)


@vjp(np.linalg.solve)
def solve_vjp(z, a, b):
    """x = solve(a, b): dx = solve(a, db - da x); ā = -solve(aᵀ, x̄) xᵀ, b̄ = solve(aᵀ, x̄)"""
    d[a] = solve_vjp_a(d[z], a, b, z)
    d[b] = solve_vjp_b(d[z], a, b)


@jvp(np.linalg.solve)
def solve_jvp(z, a, b):
    """x = solve(a, b): dx = solve(a, db) - solve(a, da x)"""
    d[z] = np.linalg.solve(a, d[b]) + solve_jvp_a(d[a], a, b, z)


@vjp(np.linalg.inv)
def inv_vjp(z, a):
    """d inv(a) = -inv(a) da inv(a); ā = -inv(a)ᵀ z̄ inv(a)ᵀ"""
    d[a] = -(mT(z) @ d[z] @ mT(z))


@jvp(np.linalg.inv)
def inv_jvp(z, a):
    """d inv(a) = -inv(a) da inv(a)"""
    d[z] = -(z @ d[a] @ z)


@vjp(np.linalg.det)
def det_vjp_rule(z, a):
    """d det(a) = det(a) trace(inv(a) da); ā = z̄ det(a) inv(a)ᵀ   (a invertible)"""
    d[a] = det_vjp(d[z], a, z)


@jvp(np.linalg.det)
def det_jvp_rule(z, a):
    """d det(a) = det(a) trace(inv(a) da)"""
    d[z] = det_jvp(d[a], a, z)


@vjp(np.linalg.slogdet)
def slogdet_vjp(z, a):
    """(sign, log|det a|) = slogdet(a): d log|det a| = trace(inv(a) da); the sign is constant"""
    d[a] = logdet_vjp(d[z][1], a)


@jvp(np.linalg.slogdet)
def slogdet_jvp(z, a):
    """d (sign, log|det a|) = (0, trace(inv(a) da))"""
    d[z] = (zeros_like(z[0]), logdet_jvp(d[a], a))


@vjp(np.linalg.cholesky)
def cholesky_vjp_rule(z, a, upper=False):
    """L = cholesky(a): dL = L Φ(L⁻¹ da L⁻ᵀ), Φ = lower triangle with half diagonal"""
    d[a] = cholesky_vjp(d[z], z, upper)


@jvp(np.linalg.cholesky)
def cholesky_jvp_rule(z, a, upper=False):
    """L = cholesky(a): dL = L Φ(L⁻¹ da L⁻ᵀ)"""
    d[z] = cholesky_jvp(d[a], z, upper)



@vjp(np.kron)
def kron_vjp_rule(z, a, b):
    """d kron(a, b) = kron(da, b) + kron(a, db)"""
    d[a] = kron_vjp_a(d[z], a, b)
    d[b] = kron_vjp_b(d[z], a, b)


@jvp(np.kron)
def kron_jvp_rule(z, a, b):
    """d kron(a, b) = kron(da, b) + kron(a, db)"""
    d[z] = np.kron(d[a], b) + np.kron(a, d[b])


@vjp(np.cross)
def cross_vjp_rule(z, a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """d (a × b) = da × b + a × db: the adjoints are b × g and g × a"""
    d[a] = cross_vjp_a(d[z], a, b, axisa, axisb, axisc, axis)
    d[b] = cross_vjp_b(d[z], a, b, axisa, axisb, axisc, axis)


@jvp(np.cross)
def cross_jvp_rule(z, a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """d (a × b) = da × b + a × db"""
    d[z] = np.cross(d[a], b, axisa, axisb, axisc, axis) + np.cross(a, d[b], axisa, axisb,
                                                                   axisc, axis)


@vjp(np.linalg.svd)
def svd_vjp_rule(z, a, full_matrices=True, compute_uv=True, hermitian=False):
    """a = U S Vᵀ: dS = diag(Uᵀ da V); dU, dV by Townsend's formulas (distinct nonzero singular
    values; full_matrices=False for a non-square matrix)"""
    d[a] = (svd_vjp(d[z], a, z[0], z[1], z[2], full_matrices, hermitian) if compute_uv
            else svd_values_vjp(d[z], a, hermitian))


@jvp(np.linalg.svd)
def svd_jvp_rule(z, a, full_matrices=True, compute_uv=True, hermitian=False):
    """a = U S Vᵀ: dS = diag(Uᵀ da V), dU = U (F ∘ (dP S + S dPᵀ)) + (I - UUᵀ) da V S⁻¹, ..."""
    d[z] = (svd_jvp(d[a], a, z[0], z[1], z[2], full_matrices, hermitian) if compute_uv
            else svd_values_jvp(d[a], a, hermitian))


@vjp(np.linalg.eigh)
def eigh_vjp_rule(z, a, UPLO="L"):
    """a = V diag(w) Vᵀ: dw = diag(Vᵀ da V), dV = V (F ∘ (Vᵀ da V)) (distinct eigenvalues); the
    gradient lives on the triangle eigh reads, as for cholesky"""
    d[a] = eigh_vjp(d[z], a, z[0], z[1], UPLO)


@jvp(np.linalg.eigh)
def eigh_jvp_rule(z, a, UPLO="L"):
    """a = V diag(w) Vᵀ: dw = diag(Vᵀ da V), dV = V (F ∘ (Vᵀ da V))"""
    d[z] = eigh_jvp(d[a], a, z[0], z[1], UPLO)


@vjp(np.linalg.pinv)
def pinv_vjp_rule(z, a, rcond=None, hermitian=False, *, rtol=None):
    """P = pinv(a): dP = -P da P + P Pᵀ daᵀ (I - a P) + (I - P a) daᵀ Pᵀ P (constant rank);
    ā = -Pᵀ P̄ Pᵀ + (I - a P) P̄ᵀ P Pᵀ + Pᵀ P P̄ᵀ (I - P a), written with products only"""
    d[a] = (mT(d[z]) @ z @ mT(z) - a @ (z @ (mT(d[z]) @ z @ mT(z)))
            + mT(z) @ z @ mT(d[z]) - mT(z) @ z @ mT(d[z]) @ z @ a - mT(z) @ d[z] @ mT(z))


@jvp(np.linalg.pinv)
def pinv_jvp_rule(z, a, rcond=None, hermitian=False, *, rtol=None):
    """P = pinv(a): dP = -P da P + P Pᵀ daᵀ (I - a P) + (I - P a) daᵀ Pᵀ P (constant rank)"""
    d[z] = (z @ mT(z) @ mT(d[a]) - z @ mT(z) @ mT(d[a]) @ a @ z
            + mT(d[a]) @ mT(z) @ z - z @ (a @ (mT(d[a]) @ mT(z) @ z)) - z @ d[a] @ z)


registry.returns_tuple(np.linalg.slogdet, np.linalg.svd, np.linalg.eigh)
