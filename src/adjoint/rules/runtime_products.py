"""Reverse rules for the runtime helpers of products and of functions returning several arrays,
so that generated adjoints of array code can be differentiated in reverse mode again.

Takes nothing; importing it registers the rules in :mod:`adjoint.rules.registry`.

A product P(a, b) is bilinear; its adjoint helpers ``va(g, a, b) = ∂ₐ⟨g, P(a, b)⟩`` and
``vb(g, a, b) = ∂_b⟨g, P(a, b)⟩`` are bilinear in (g, b) and (g, a), ``a`` (or ``b``) giving
only a shape. From ⟨u, va(g, a, b)⟩ = ⟨g, P(u, b)⟩ = ⟨vb(g, u, b), b⟩ their own adjoints are::

    va:  d g = P(u, b),   d b = vb(g, u, b)
    vb:  d g = P(a, u),   d a = va(g, a, u)

Helpers that split an adjoint into pieces (``split_like``, ``unstack``, ``hstack_vjp``, ...)
return tuples; their adjoints join the pieces' adjoints again.
"""

import numpy as np

from .. import runtime
from .registry import jvp, nondiff, returns_tuple, takes_sequences, vjp


@vjp(runtime.matmul_vjp_a)
def matmul_vjp_a_vjp(z, g, a, b):
    """⟨u, va(g)⟩ = ⟨g, u @ b⟩"""
    d[g] = d[z] @ b  # noqa: F821
    d[b] = matmul_vjp_b(g, d[z], b)  # noqa: F821


@vjp(runtime.matmul_vjp_b)
def matmul_vjp_b_vjp(z, g, a, b):
    """⟨u, vb(g)⟩ = ⟨g, a @ u⟩"""
    d[g] = a @ d[z]  # noqa: F821
    d[a] = matmul_vjp_a(g, a, d[z])  # noqa: F821


@vjp(runtime.dot_vjp_a)
def dot_vjp_a_vjp(z, g, a, b):
    """⟨u, va(g)⟩ = ⟨g, dot(u, b)⟩"""
    d[g] = np.dot(d[z], b)  # noqa: F821
    d[b] = dot_vjp_b(g, d[z], b)  # noqa: F821


@vjp(runtime.dot_vjp_b)
def dot_vjp_b_vjp(z, g, a, b):
    """⟨u, vb(g)⟩ = ⟨g, dot(a, u)⟩"""
    d[g] = np.dot(a, d[z])  # noqa: F821
    d[a] = dot_vjp_a(g, a, d[z])  # noqa: F821


@vjp(runtime.inner_vjp_a)
def inner_vjp_a_vjp(z, g, a, b):
    """⟨u, va(g)⟩ = ⟨g, inner(u, b)⟩"""
    d[g] = np.inner(d[z], b)  # noqa: F821
    d[b] = inner_vjp_b(g, d[z], b)  # noqa: F821


@vjp(runtime.inner_vjp_b)
def inner_vjp_b_vjp(z, g, a, b):
    """⟨u, vb(g)⟩ = ⟨g, inner(a, u)⟩"""
    d[g] = np.inner(a, d[z])  # noqa: F821
    d[a] = inner_vjp_a(g, a, d[z])  # noqa: F821


@vjp(runtime.tensordot_vjp_a)
def tensordot_vjp_a_vjp(z, g, a, b, axes):
    """⟨u, va(g)⟩ = ⟨g, tensordot(u, b)⟩"""
    d[g] = np.tensordot(d[z], b, axes)  # noqa: F821
    d[b] = tensordot_vjp_b(g, d[z], b, axes)  # noqa: F821


@vjp(runtime.tensordot_vjp_b)
def tensordot_vjp_b_vjp(z, g, a, b, axes):
    """⟨u, vb(g)⟩ = ⟨g, tensordot(a, u)⟩"""
    d[g] = np.tensordot(a, d[z], axes)  # noqa: F821
    d[a] = tensordot_vjp_a(g, a, d[z], axes)  # noqa: F821


@vjp(runtime.kron_vjp_a)
def kron_vjp_a_vjp(z, g, a, b):
    """⟨u, va(g)⟩ = ⟨g, kron(u, b)⟩"""
    d[g] = np.kron(d[z], b)  # noqa: F821
    d[b] = kron_vjp_b(g, d[z], b)  # noqa: F821


@jvp(runtime.kron_vjp_a)
def kron_vjp_a_jvp(z, g, a, b):
    """bilinear in (g, b)"""
    d[z] = kron_vjp_a(d[g], a, b) + kron_vjp_a(g, a, d[b])  # noqa: F821


@vjp(runtime.kron_vjp_b)
def kron_vjp_b_vjp(z, g, a, b):
    """⟨u, vb(g)⟩ = ⟨g, kron(a, u)⟩"""
    d[g] = np.kron(a, d[z])  # noqa: F821
    d[a] = kron_vjp_a(g, a, d[z])  # noqa: F821


@jvp(runtime.kron_vjp_b)
def kron_vjp_b_jvp(z, g, a, b):
    """bilinear in (g, a)"""
    d[z] = kron_vjp_b(d[g], a, b) + kron_vjp_b(g, d[a], b)  # noqa: F821


@vjp(runtime.cross_vjp_a)
def cross_vjp_a_vjp(z, g, a, b, axisa, axisb, axisc, axis):
    """⟨u, va(g)⟩ = ⟨g, u × b⟩"""
    d[g] = np.cross(d[z], b, axisa, axisb, axisc, axis)  # noqa: F821
    d[b] = cross_vjp_b(g, d[z], b, axisa, axisb, axisc, axis)  # noqa: F821


@jvp(runtime.cross_vjp_a)
def cross_vjp_a_jvp(z, g, a, b, axisa, axisb, axisc, axis):
    """bilinear in (g, b)"""
    d[z] = (cross_vjp_a(d[g], a, b, axisa, axisb, axisc, axis)  # noqa: F821
            + cross_vjp_a(g, a, d[b], axisa, axisb, axisc, axis))  # noqa: F821


@vjp(runtime.cross_vjp_b)
def cross_vjp_b_vjp(z, g, a, b, axisa, axisb, axisc, axis):
    """⟨u, vb(g)⟩ = ⟨g, a × u⟩"""
    d[g] = np.cross(a, d[z], axisa, axisb, axisc, axis)  # noqa: F821
    d[a] = cross_vjp_a(g, a, d[z], axisa, axisb, axisc, axis)  # noqa: F821


@jvp(runtime.cross_vjp_b)
def cross_vjp_b_jvp(z, g, a, b, axisa, axisb, axisc, axis):
    """bilinear in (g, a)"""
    d[z] = (cross_vjp_b(d[g], a, b, axisa, axisb, axisc, axis)  # noqa: F821
            + cross_vjp_b(g, d[a], b, axisa, axisb, axisc, axis))  # noqa: F821


# --- helpers returning one adjoint per piece ------------------------------------------------


@vjp(runtime.split_like)
def split_like_vjp_rule(z, g, arrays, axis):
    """the pieces of g: the adjoint joins the pieces' adjoints"""
    d[g] = join_like(d[z], arrays, axis)  # noqa: F821


@jvp(runtime.split_like)
def split_like_jvp_rule(z, g, arrays, axis):
    """linear in g"""
    d[z] = split_like(d[g], arrays, axis)  # noqa: F821


@vjp(runtime.join_like)
def join_like_vjp(z, pieces, arrays, axis):
    """the pieces joined: the adjoint cuts the adjoint the same way"""
    d[pieces] = split_like(d[z], arrays, axis)  # noqa: F821


@jvp(runtime.join_like)
def join_like_jvp(z, pieces, arrays, axis):
    """linear in the pieces"""
    d[z] = join_like(d[pieces], arrays, axis)  # noqa: F821


@vjp(runtime.unstack)
def unstack_vjp_rule(z, g, axis):
    """the slices of g along axis: the adjoint joins the pieces' adjoints"""
    d[g] = stack_like(d[z], g, axis)  # noqa: F821


@jvp(runtime.unstack)
def unstack_jvp_rule(z, g, axis):
    """linear in g"""
    d[z] = unstack(d[g], axis)  # noqa: F821


@vjp(runtime.stack_like)
def stack_like_vjp(z, pieces, g, axis):
    """the slices stacked: the adjoint cuts the adjoint the same way"""
    d[pieces] = unstack(d[z], axis)  # noqa: F821


@jvp(runtime.stack_like)
def stack_like_jvp(z, pieces, g, axis):
    """linear in the pieces"""
    d[z] = stack_like(d[pieces], g, axis)  # noqa: F821


@vjp(runtime.hstack_vjp)
def hstack_vjp_vjp_rule(z, g, tup):
    """the pieces of g hstack took from each item: the adjoint joins the pieces' adjoints"""
    d[g] = hstack_join(d[z], tup)  # noqa: F821


@jvp(runtime.hstack_vjp)
def hstack_vjp_jvp_rule(z, g, tup):
    """linear in g"""
    d[z] = hstack_vjp(d[g], tup)  # noqa: F821


@vjp(runtime.hstack_join)
def hstack_join_vjp(z, pieces, tup):
    """the pieces hstacked: the adjoint cuts the adjoint the same way"""
    d[pieces] = hstack_vjp(d[z], tup)  # noqa: F821


@jvp(runtime.hstack_join)
def hstack_join_jvp(z, pieces, tup):
    """linear in the pieces"""
    d[z] = hstack_join(d[pieces], tup)  # noqa: F821


@vjp(runtime.vstack_vjp)
def vstack_vjp_vjp_rule(z, g, tup):
    """the rows of g vstack took from each item: the adjoint joins the pieces' adjoints"""
    d[g] = vstack_join(d[z], tup)  # noqa: F821


@jvp(runtime.vstack_vjp)
def vstack_vjp_jvp_rule(z, g, tup):
    """linear in g"""
    d[z] = vstack_vjp(d[g], tup)  # noqa: F821


@vjp(runtime.vstack_join)
def vstack_join_vjp(z, pieces, tup):
    """the pieces vstacked: the adjoint cuts the adjoint the same way"""
    d[pieces] = vstack_vjp(d[z], tup)  # noqa: F821


@jvp(runtime.vstack_join)
def vstack_join_jvp(z, pieces, tup):
    """linear in the pieces"""
    d[z] = vstack_join(d[pieces], tup)  # noqa: F821


@vjp(runtime.column_stack_vjp)
def column_stack_vjp_vjp_rule(z, g, tup):
    """the columns of g each item gave: the adjoint joins the pieces' adjoints"""
    d[g] = column_stack_join(d[z], tup)  # noqa: F821


@jvp(runtime.column_stack_vjp)
def column_stack_vjp_jvp_rule(z, g, tup):
    """linear in g"""
    d[z] = column_stack_vjp(d[g], tup)  # noqa: F821


@vjp(runtime.column_stack_join)
def column_stack_join_vjp(z, pieces, tup):
    """the pieces column-stacked: the adjoint cuts the adjoint the same way"""
    d[pieces] = column_stack_vjp(d[z], tup)  # noqa: F821


@jvp(runtime.column_stack_join)
def column_stack_join_jvp(z, pieces, tup):
    """linear in the pieces"""
    d[z] = column_stack_join(d[pieces], tup)  # noqa: F821


@vjp(runtime.select_vjp)
def select_vjp_vjp_rule(z, g, condlist, choicelist):
    """g where each choice is the first true one: the adjoint joins the pieces' adjoints"""
    d[g] = select_join(d[z], condlist, choicelist, g)  # noqa: F821


@jvp(runtime.select_vjp)
def select_vjp_jvp_rule(z, g, condlist, choicelist):
    """linear in g"""
    d[z] = select_vjp(d[g], condlist, choicelist)  # noqa: F821


@vjp(runtime.select_join)
def select_join_vjp(z, pieces, condlist, choicelist, like):
    """each piece where its choice is the first true one: the adjoint cuts the same way"""
    d[pieces] = select_vjp(d[z], condlist, choicelist)  # noqa: F821


@jvp(runtime.select_join)
def select_join_jvp(z, pieces, condlist, choicelist, like):
    """linear in the pieces"""
    d[z] = select_join(d[pieces], condlist, choicelist, like)  # noqa: F821


@vjp(runtime.index_concat_vjp)
def index_concat_vjp_vjp(z, g, maker, items):
    """the pieces np.r_ or np.c_ took from each item: the adjoint joins them again"""
    d[g] = index_concat_jvp(d[z], maker, items)  # noqa: F821


@jvp(runtime.index_concat_vjp)
def index_concat_vjp_jvp(z, g, maker, items):
    """linear in g"""
    d[z] = index_concat_vjp(d[g], maker, items)  # noqa: F821


@vjp(runtime.index_concat_jvp)
def index_concat_jvp_vjp(z, tangents, maker, items):
    """the items' tangents joined: the adjoint splits"""
    d[tangents] = index_concat_vjp(d[z], maker, items)  # noqa: F821


@jvp(runtime.index_concat_jvp)
def index_concat_jvp_jvp(z, tangents, maker, items):
    """linear in the tangents"""
    d[z] = index_concat_jvp(d[tangents], maker, items)  # noqa: F821


@vjp(runtime.select_default_vjp)
def select_default_vjp_vjp(z, g, condlist, default):
    """g where no condition holds, summed to default's shape: the adjoint broadcasts back"""
    d[g] = broadcast_like(d[z], g) * select_default_vjp(np.ones(np.shape(g)), condlist,  # noqa: F821
                                                        g)


@jvp(runtime.select_default_vjp)
def select_default_vjp_jvp(z, g, condlist, default):
    """linear in g"""
    d[z] = select_default_vjp(d[g], condlist, default)  # noqa: F821


# --- einsum: every derivative of an einsum is an einsum (runtime/einsum.py) ------------------


@vjp(runtime.einsum_of)
def einsum_of_vjp(z, spec, x0=None, x1=None, x2=None, x3=None, x4=None, x5=None, x6=None,
                  x7=None, x8=None):
    """multilinear in the slots: each adjoint is the einsum of the output's adjoint with the
    other slots (einsum_adjoint gives its spec)"""
    d[x0] = einsum_of(einsum_adjoint(spec, 0, x0, x1, x2, x3, x4, x5, x6, x7, x8),  # noqa: F821
                       d[z], x1, x2, x3, x4, x5, x6, x7, x8)  # noqa: F821
    d[x1] = einsum_of(einsum_adjoint(spec, 1, x0, x1, x2, x3, x4, x5, x6, x7, x8),  # noqa: F821
                       x0, d[z], x2, x3, x4, x5, x6, x7, x8)  # noqa: F821
    d[x2] = einsum_of(einsum_adjoint(spec, 2, x0, x1, x2, x3, x4, x5, x6, x7, x8),  # noqa: F821
                       x0, x1, d[z], x3, x4, x5, x6, x7, x8)  # noqa: F821
    d[x3] = einsum_of(einsum_adjoint(spec, 3, x0, x1, x2, x3, x4, x5, x6, x7, x8),  # noqa: F821
                       x0, x1, x2, d[z], x4, x5, x6, x7, x8)  # noqa: F821
    d[x4] = einsum_of(einsum_adjoint(spec, 4, x0, x1, x2, x3, x4, x5, x6, x7, x8),  # noqa: F821
                       x0, x1, x2, x3, d[z], x5, x6, x7, x8)  # noqa: F821
    d[x5] = einsum_of(einsum_adjoint(spec, 5, x0, x1, x2, x3, x4, x5, x6, x7, x8),  # noqa: F821
                       x0, x1, x2, x3, x4, d[z], x6, x7, x8)  # noqa: F821
    d[x6] = einsum_of(einsum_adjoint(spec, 6, x0, x1, x2, x3, x4, x5, x6, x7, x8),  # noqa: F821
                       x0, x1, x2, x3, x4, x5, d[z], x7, x8)  # noqa: F821
    d[x7] = einsum_of(einsum_adjoint(spec, 7, x0, x1, x2, x3, x4, x5, x6, x7, x8),  # noqa: F821
                       x0, x1, x2, x3, x4, x5, x6, d[z], x8)  # noqa: F821
    d[x8] = einsum_of(einsum_adjoint(spec, 8, x0, x1, x2, x3, x4, x5, x6, x7, x8),  # noqa: F821
                       x0, x1, x2, x3, x4, x5, x6, x7, d[z])  # noqa: F821


@jvp(runtime.einsum_of)
def einsum_of_jvp(z, spec, x0=None, x1=None, x2=None, x3=None, x4=None, x5=None, x6=None,
                  x7=None, x8=None):
    """multilinear in the slots: one einsum per slot with a tangent"""
    d[z] = (einsum_of(spec, d[x0], x1, x2, x3, x4, x5, x6, x7, x8)
            + einsum_of(spec, x0, d[x1], x2, x3, x4, x5, x6, x7, x8)
            + einsum_of(spec, x0, x1, d[x2], x3, x4, x5, x6, x7, x8)
            + einsum_of(spec, x0, x1, x2, d[x3], x4, x5, x6, x7, x8)
            + einsum_of(spec, x0, x1, x2, x3, d[x4], x5, x6, x7, x8)
            + einsum_of(spec, x0, x1, x2, x3, x4, d[x5], x6, x7, x8)
            + einsum_of(spec, x0, x1, x2, x3, x4, x5, d[x6], x7, x8)
            + einsum_of(spec, x0, x1, x2, x3, x4, x5, x6, d[x7], x8)
            + einsum_of(spec, x0, x1, x2, x3, x4, x5, x6, x7, d[x8]))  # noqa: F821


nondiff(runtime.einsum_spec, runtime.einsum_adjoint,
        doc="the subscripts and constants of an einsum: no derivative")


returns_tuple(runtime.split_like, runtime.unstack, runtime.hstack_vjp, runtime.vstack_vjp,
              runtime.column_stack_vjp, runtime.index_concat_vjp, runtime.select_vjp)
for _helper, _params in [(runtime.split_like, ("arrays",)),
                         (runtime.join_like, ("pieces", "arrays")),
                         (runtime.stack_like, ("pieces",)),
                         (runtime.hstack_join, ("pieces", "tup")),
                         (runtime.vstack_join, ("pieces", "tup")),
                         (runtime.column_stack_join, ("pieces", "tup")),
                         (runtime.select_join, ("pieces", "condlist", "choicelist")),
                         (runtime.hstack_vjp, ("tup",)), (runtime.vstack_vjp, ("tup",)),
                         (runtime.column_stack_vjp, ("tup",)),
                         (runtime.index_concat_vjp, ("items",)),
                         (runtime.index_concat_jvp, ("tangents", "items")),
                         (runtime.select_vjp, ("condlist", "choicelist")),
                         (runtime.select_default_vjp, ("condlist",))]:
    takes_sequences(_helper, *_params)
