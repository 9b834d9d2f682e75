"""Rules for the runtime helpers of ``np.linalg.solve``, ``det``, ``slogdet``, ``norm`` and of
``np.prod``, so that their
generated adjoints can be differentiated again, in both modes and to any order.

Takes nothing; importing it registers the rules in :mod:`adjoint.rules.registry`. Each rule is
written with helpers and NumPy functions that have rules themselves, so the chain never ends.
With ``y = solve_vjp_b(g, a, b) = a⁻ᵀ g`` and ``inv(a)``'s derivative ``-a⁻¹ da a⁻¹``:

- ``logdet_vjp(g, a) = g a⁻ᵀ`` and ``logdet_jvp(t, a) = trace(a⁻¹ t)`` are transposes in
  (g, t); both are ``-… da …`` in ``a`` by the derivative of the inverse;
- ``det_vjp(g, a, z) = logdet_vjp(g z, a)`` and ``det_jvp(t, a, z) = z logdet_jvp(t, a)``;
- ``solve_vjp_a(g, a, b, x) = -y xᵀ``, ``solve_jvp_a(t, a, b, x) = -a⁻¹ t x``: bilinear in the
  adjoint (or tangent) and ``x``, and ``a`` enters through ``a⁻¹``.

``b`` gives these helpers only a shape (a vector or a matrix); ``z``, the primal's result, is an
argument of its own, differentiated where the program makes it depend on the inputs.
"""

import numpy as np

from .. import runtime
from ..runtime.decompositions import _symmetric as symmetric_triangle
from ..runtime.linalg import phi
from ..runtime.reductions import (
    along_last,
    from_last,
    reduced_back,
    reduced_last,
    reduction_layout,
)
from .registry import by_source, jvp, nondiff, vjp


@vjp(runtime.logdet_vjp)
def logdet_vjp_vjp(z, g, a):
    """z = g a⁻ᵀ: ḡ = ⟨z̄, a⁻ᵀ⟩ = trace(a⁻¹ z̄), ā = -g a⁻ᵀ z̄ᵀ a⁻ᵀ"""
    d[g] = logdet_jvp(d[z], a)  # noqa: F821
    d[a] = -(logdet_vjp(g, a) @ mT(d[z]) @ mT(np.linalg.inv(a)))  # noqa: F821


@jvp(runtime.logdet_vjp)
def logdet_vjp_jvp(z, g, a):
    """d (g a⁻ᵀ) = dg a⁻ᵀ - g a⁻ᵀ daᵀ a⁻ᵀ"""
    d[z] = (logdet_vjp(d[g], a)  # noqa: F821
            - logdet_vjp(g, a) @ mT(d[a]) @ mT(np.linalg.inv(a)))  # noqa: F821


@vjp(runtime.logdet_jvp)
def logdet_jvp_vjp(z, t, a):
    """z = trace(a⁻¹ t): t̄ = z̄ a⁻ᵀ, ā = -z̄ (a⁻¹ t a⁻¹)ᵀ"""
    d[t] = logdet_vjp(d[z], a)  # noqa: F821
    d[a] = -(logdet_vjp(d[z], a) @ mT(t) @ mT(np.linalg.inv(a)))  # noqa: F821


@jvp(runtime.logdet_jvp)
def logdet_jvp_jvp(z, t, a):
    """d trace(a⁻¹ t) = trace(a⁻¹ dt) - trace(a⁻¹ da a⁻¹ t)"""
    d[z] = (logdet_jvp(d[t], a)  # noqa: F821
            - logdet_jvp(d[a] @ np.linalg.solve(a, t), a))  # noqa: F821


@vjp(runtime.det_vjp)
def det_vjp_vjp(z, g, a, z_):
    """z = g det a⁻ᵀ (det = z_): ḡ = det ⟨z̄, a⁻ᵀ⟩, d̄et = g ⟨z̄, a⁻ᵀ⟩, ā = -g det a⁻ᵀ z̄ᵀ a⁻ᵀ"""
    d[g] = z_ * logdet_jvp(d[z], a)  # noqa: F821
    d[z_] = g * logdet_jvp(d[z], a)  # noqa: F821
    d[a] = -(det_vjp(g, a, z_) @ mT(d[z]) @ mT(np.linalg.inv(a)))  # noqa: F821


@jvp(runtime.det_vjp)
def det_vjp_jvp(z, g, a, z_):
    """d (g det a⁻ᵀ) = (dg det + g ddet) a⁻ᵀ - g det a⁻ᵀ daᵀ a⁻ᵀ"""
    d[z] = (logdet_vjp(d[g] * z_, a) + logdet_vjp(g * d[z_], a)  # noqa: F821
            - det_vjp(g, a, z_) @ mT(d[a]) @ mT(np.linalg.inv(a)))  # noqa: F821


@vjp(runtime.det_jvp)
def det_jvp_vjp(z, t, a, z_):
    """z = det trace(a⁻¹ t): t̄ = z̄ det a⁻ᵀ, d̄et = z̄ trace(a⁻¹ t), ā = -z̄ det (a⁻¹ t a⁻¹)ᵀ"""
    d[t] = det_vjp(d[z], a, z_)  # noqa: F821
    d[z_] = d[z] * logdet_jvp(t, a)  # noqa: F821
    d[a] = -(det_vjp(d[z], a, z_) @ mT(t) @ mT(np.linalg.inv(a)))  # noqa: F821


@jvp(runtime.det_jvp)
def det_jvp_jvp(z, t, a, z_):
    """d (det trace(a⁻¹ t)) = ddet trace(a⁻¹ t) + det trace(a⁻¹ dt) - det trace(a⁻¹ da a⁻¹ t)"""
    d[z] = (d[z_] * logdet_jvp(t, a) + det_jvp(d[t], a, z_)  # noqa: F821
            - det_jvp(d[a] @ np.linalg.solve(a, t), a, z_))  # noqa: F821


@vjp(runtime.solve_vjp_b)
def solve_vjp_b_vjp(z, g, a, b):
    """y = a⁻ᵀ g: ḡ = a⁻¹ ȳ, ā = -y (a⁻¹ ȳ)ᵀ"""
    d[g] = np.linalg.solve(a, d[z])  # noqa: F821
    d[a] = solve_vjp_a(g, a, solve_rhs(b, a), np.linalg.solve(a, d[z]))  # noqa: F821


@jvp(runtime.solve_vjp_b)
def solve_vjp_b_jvp(z, g, a, b):
    """d (a⁻ᵀ g) = a⁻ᵀ dg - a⁻ᵀ daᵀ a⁻ᵀ g"""
    d[z] = (solve_vjp_b(d[g], a, b)  # noqa: F821
            - solve_vjp_b(mT(d[a]) @ np.linalg.solve(mT(a), g), a,  # noqa: F821
                          solve_rhs(b, a)))  # noqa: F821


@vjp(runtime.solve_vjp_a)
def solve_vjp_a_vjp(z, g, a, b, x):
    """R = -y xᵀ (y = a⁻ᵀ g): ḡ = -a⁻¹ R̄ x, x̄ = -R̄ᵀ y, ā = y (a⁻¹ R̄ x)ᵀ"""
    d[g] = -np.linalg.solve(a, d[z] @ x)  # noqa: F821
    d[x] = -(mT(d[z]) @ np.linalg.solve(mT(a), g))  # noqa: F821
    d[a] = -solve_vjp_a(g, a, solve_rhs(b, a),  # noqa: F821
                        np.linalg.solve(a, d[z] @ x))  # noqa: F821


@jvp(runtime.solve_vjp_a)
def solve_vjp_a_jvp(z, g, a, b, x):
    """d (-y xᵀ) = -dy xᵀ - y dxᵀ, dy = a⁻ᵀ dg - a⁻ᵀ daᵀ y"""
    d[z] = (solve_vjp_a(d[g], a, b, x) + solve_vjp_a(g, a, b, d[x])  # noqa: F821
            - solve_vjp_a(mT(d[a]) @ np.linalg.solve(mT(a), g), a,  # noqa: F821
                          solve_rhs(b, a), x))  # noqa: F821


@vjp(runtime.solve_jvp_a)
def solve_jvp_a_vjp(z, t, a, b, x):
    """w = -a⁻¹ t x: t̄ = -a⁻ᵀ w̄ xᵀ, x̄ = -tᵀ a⁻ᵀ w̄, ā = a⁻ᵀ w̄ (a⁻¹ t x)ᵀ"""
    d[t] = solve_vjp_a(d[z], a, b, x)  # noqa: F821
    d[x] = -(mT(t) @ np.linalg.solve(mT(a), d[z]))  # noqa: F821
    d[a] = -solve_vjp_a(d[z], a, solve_rhs(b, a),  # noqa: F821
                        np.linalg.solve(a, t @ x))  # noqa: F821


@jvp(runtime.solve_jvp_a)
def solve_jvp_a_jvp(z, t, a, b, x):
    """d (-a⁻¹ t x) = -a⁻¹ dt x - a⁻¹ t dx + a⁻¹ da a⁻¹ t x"""
    d[z] = (solve_jvp_a(d[t], a, b, x) + solve_jvp_a(t, a, b, d[x])  # noqa: F821
            - solve_jvp_a(d[a], a, solve_rhs(b, a),  # noqa: F821
                          np.linalg.solve(a, t @ x)))  # noqa: F821


nondiff(runtime.solve_rhs, doc="a right-hand side that only gives a shape (checked)")


# np.linalg.norm's weights w = sign(x) |x|^(p-1) / z^(p-1) (x / z for the 2-norm), with z the
# norm (an argument of its own): dw = (p-1) |x|^(p-2) / z^(p-1) dx - (p-1) w / z dz. Written
# with helpers that have rules, so every order works; norm_power gives p (1 where the weights
# are piecewise constant, which makes both terms 0).


@vjp(runtime.norm_weights)
def norm_weights_vjp(z, x, zn, ord, axis):
    """w = sign(x) |x|^(p-1) / z^(p-1): x̄ = w̄ (p-1) |x|^(p-2) / z^(p-1),
    z̄ = -(p-1) Σ w̄ w / z over the reduced axes"""
    p = norm_power(ord, x, axis)  # noqa: F821
    inverse = nonzero_reciprocal(keep_dims(zn, x, axis))  # noqa: F821
    d[x] = d[z] * pow_dx(np.abs(x), p - 1.0) * inverse ** (p - 1.0)  # noqa: F821
    d[zn] = (1.0 - p) * reshape_like(reduce_sum(  # noqa: F821
        d[z] * norm_weights(x, zn, ord, axis) * inverse, axis, True), zn)  # noqa: F821


@jvp(runtime.norm_weights)
def norm_weights_jvp(z, x, zn, ord, axis):
    """dw = (p-1) |x|^(p-2) / z^(p-1) dx - (p-1) w / z dz"""
    p = norm_power(ord, x, axis)  # noqa: F821
    inverse = nonzero_reciprocal(keep_dims(zn, x, axis))  # noqa: F821
    d[z] = (pow_dx(np.abs(x), p - 1.0) * inverse ** (p - 1.0) * d[x]  # noqa: F821
            + (1.0 - p) * norm_weights(x, zn, ord, axis) * inverse  # noqa: F821
            * keep_dims(d[zn], x, axis))  # noqa: F821


@vjp(runtime.prod_weights)
def prod_weights_vjp_rule(z, a, axis):
    """w_i = Π_{k≠i} a_k: ∂w_i/∂a_j = Π_{k≠i,j} a_k, symmetric in (i, j)"""
    d[a] = prod_weights_vjp(d[z], a, axis)  # noqa: F821


@jvp(runtime.prod_weights)
def prod_weights_jvp_rule(z, a, axis):
    """dw_i = Σ_{j≠i} Π_{k≠i,j} a_k da_j"""
    d[z] = prod_weights_vjp(d[a], a, axis)  # noqa: F821


@vjp(runtime.gaps)
def gaps_vjp(z, v):
    """F_ij = 1 / (v_j - v_i) off the diagonal: dF_ij = -F_ij² (dv_j - dv_i)"""
    d[v] = (reduce_sum(d[z] * z * z, -1, False)  # noqa: F821
            - reduce_sum(d[z] * z * z, -2, False))  # noqa: F821


@jvp(runtime.gaps)
def gaps_jvp(z, v):
    """dF_ij = -F_ij² (dv_j - dv_i)"""
    d[z] = -(z * z) * (np.expand_dims(d[v], -2) - np.expand_dims(d[v], -1))  # noqa: F821


# Helpers written with functions that have rules (in the subset adjoint differentiates): code
# that calls them is differentiated again through their source.
by_source(runtime.cholesky_vjp, runtime.cholesky_jvp, phi, runtime.eigh_vjp,
          runtime.eigh_jvp, symmetric_triangle, runtime.cumprod_vjp, runtime.cumprod_jvp,
          along_last, from_last, runtime.prod_weights_vjp, reduced_last, reduced_back,
          runtime.svd_vjp, runtime.svd_jvp, runtime.svd_values_vjp, runtime.svd_values_jvp)
nondiff(reduction_layout, doc="the axes and shapes of a reduction's layout: no derivative")
