"""Rules for the helpers that generated code calls, so generated code can be differentiated
again (``grad(grad(f))``, ``jvp(grad(f))``): each helper is linear in its differentiated
argument, and its rule says so."""

from .. import runtime
from ..runtime import add_at, as_float, broadcast_like, fresh, unbroadcast
from .registry import jvp, nondiff, vjp


@vjp(unbroadcast)
def unbroadcast_vjp(z, g, like):
    """unbroadcast sums g to like's shape: its adjoint broadcasts back"""
    d[g] = broadcast_like(d[z], g)  # noqa: F821


@jvp(unbroadcast)
def unbroadcast_jvp(z, g, like):
    """linear in g"""
    d[z] = unbroadcast(d[g], like)  # noqa: F821


@vjp(broadcast_like)
def broadcast_like_vjp(z, g, like):
    """broadcast_like copies g up to like's shape: its adjoint sums back"""
    d[g] = unbroadcast(d[z], g)  # noqa: F821


@jvp(broadcast_like)
def broadcast_like_jvp(z, g, like):
    """linear in g"""
    d[z] = broadcast_like(d[g], like)  # noqa: F821


@vjp(fresh, as_float)
def identity_vjp(z, x):
    """a copy: the identity"""
    d[x] = d[z]  # noqa: F821


@jvp(fresh, as_float)
def identity_jvp(z, x):
    """a copy: the identity"""
    d[z] = d[x]  # noqa: F821


@vjp(add_at)
def add_at_vjp(z, a, index, value):
    """z = a with value added at index: d a = d z, d value = d z[index]"""
    d[a] = d[z]  # noqa: F821
    d[value] = d[z][index]  # noqa: F821


@jvp(add_at)
def add_at_jvp(z, a, index, value):
    """linear in a and value"""
    d[z] = add_at(fresh(d[a]), index, d[value])  # noqa: F821


nondiff(runtime.zeros_like, runtime.range_len, doc="shape bookkeeping: no derivative")


@jvp(runtime.matmul_vjp_a)
def matmul_vjp_a_jvp(z, g, a, b):
    """bilinear in (g, b); a gives only the shape"""
    d[z] = matmul_vjp_a(d[g], a, b) + matmul_vjp_a(g, a, d[b])  # noqa: F821


@jvp(runtime.matmul_vjp_b)
def matmul_vjp_b_jvp(z, g, a, b):
    """bilinear in (g, a); b gives only the shape"""
    d[z] = matmul_vjp_b(d[g], a, b) + matmul_vjp_b(g, d[a], b)  # noqa: F821


@vjp(runtime.safe_log)
def safe_log_vjp(z, a):
    """d log(a) = da / a where a > 0 (and the helper is 0 elsewhere)"""
    d[a] = d[z] / a  # noqa: F821


@jvp(runtime.safe_log)
def safe_log_jvp(z, a):
    """d log(a) = da / a"""
    d[z] = d[a] / a  # noqa: F821
