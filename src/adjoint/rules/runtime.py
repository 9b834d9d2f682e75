"""Rules for the helpers that generated code calls, so generated code can be differentiated
again (``grad(grad(f))``, ``jvp(grad(f))``): each helper is linear in its differentiated
argument, and its rule says so."""

from .. import runtime
from ..runtime import add_at, as_float, broadcast_like, fresh, sum_to, unbroadcast
from .registry import elementwise, jvp, nondiff, vjp


@vjp(unbroadcast)
def unbroadcast_vjp(z, g, like):
    """unbroadcast sums g to like's shape: its adjoint broadcasts back"""
    d[g] = broadcast_like(d[z], g)  # noqa: F821


@jvp(unbroadcast)
def unbroadcast_jvp(z, g, like):
    """linear in g"""
    d[z] = unbroadcast(d[g], like)  # noqa: F821


@vjp(sum_to)
def sum_to_vjp(z, g, like):
    """linear in g; its transpose brings the adjoint back to g's shape the same way"""
    d[g] = sum_to(d[z], g)  # noqa: F821


@jvp(sum_to)
def sum_to_jvp(z, g, like):
    """linear in g"""
    d[z] = sum_to(d[g], like)  # noqa: F821


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
    """a copy: the identity (the tangent is a copy too, never the argument's own array)"""
    d[z] = fresh(d[x])  # noqa: F821


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
nondiff(runtime.revolve_start, runtime.revolve_next, runtime.revolve_step,
        runtime.revolve_until, runtime.auto_snapshots,
        doc="checkpointing schedule (integers): no derivative")


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


# Forward rules for the NumPy helpers of generated adjoints, so that ``jvp(grad(f))`` (and so
# ``hvp`` and ``hessian``) works through array code. Each helper is linear in the adjoint it
# receives, and the products below are bilinear in the adjoint and the other operand.

@jvp(runtime.unreduce)
def unreduce_jvp(z, g, a, axis):
    """linear in g"""
    d[z] = unreduce(d[g], a, axis)  # noqa: F821


@jvp(runtime.keep_dims)
def keep_dims_jvp(z, r, a, axis):
    """linear in r"""
    d[z] = keep_dims(d[r], a, axis)  # noqa: F821


@jvp(runtime.reduce_sum)
def reduce_sum_jvp(z, x, axis, keepdims):
    """linear in x"""
    d[z] = reduce_sum(d[x], axis, keepdims)  # noqa: F821


@jvp(runtime.centered)
def centered_jvp(z, a, axis):
    """linear in a"""
    d[z] = centered(d[a], axis)  # noqa: F821


@jvp(runtime.cumsum_vjp)
def cumsum_vjp_jvp(z, g, a, axis):
    """linear in g"""
    d[z] = cumsum_vjp(d[g], a, axis)  # noqa: F821


@jvp(runtime.diff_vjp)
def diff_vjp_jvp(z, g, a, n, axis):
    """linear in g"""
    d[z] = diff_vjp(d[g], a, n, axis)  # noqa: F821


@jvp(runtime.mT)
def mT_jvp(z, x):
    """a transpose: linear"""
    d[z] = mT(d[x])  # noqa: F821


@jvp(runtime.dot_vjp_a)
def dot_vjp_a_jvp(z, g, a, b):
    """bilinear in (g, b)"""
    d[z] = dot_vjp_a(d[g], a, b) + dot_vjp_a(g, a, d[b])  # noqa: F821


@jvp(runtime.dot_vjp_b)
def dot_vjp_b_jvp(z, g, a, b):
    """bilinear in (g, a)"""
    d[z] = dot_vjp_b(d[g], a, b) + dot_vjp_b(g, d[a], b)  # noqa: F821


@jvp(runtime.inner_vjp_a)
def inner_vjp_a_jvp(z, g, a, b):
    """bilinear in (g, b)"""
    d[z] = inner_vjp_a(d[g], a, b) + inner_vjp_a(g, a, d[b])  # noqa: F821


@jvp(runtime.inner_vjp_b)
def inner_vjp_b_jvp(z, g, a, b):
    """bilinear in (g, a)"""
    d[z] = inner_vjp_b(d[g], a, b) + inner_vjp_b(g, d[a], b)  # noqa: F821


@jvp(runtime.tensordot_vjp_a)
def tensordot_vjp_a_jvp(z, g, a, b, axes):
    """bilinear in (g, b)"""
    d[z] = tensordot_vjp_a(d[g], a, b, axes) + tensordot_vjp_a(g, a, d[b], axes)  # noqa: F821


@jvp(runtime.tensordot_vjp_b)
def tensordot_vjp_b_jvp(z, g, a, b, axes):
    """bilinear in (g, a)"""
    d[z] = tensordot_vjp_b(d[g], a, b, axes) + tensordot_vjp_b(g, d[a], b, axes)  # noqa: F821


@jvp(runtime.diagonal_vjp)
def diagonal_vjp_jvp(z, g, a, offset, axis1, axis2):
    """linear in g"""
    d[z] = diagonal_vjp(d[g], a, offset, axis1, axis2)  # noqa: F821


@jvp(runtime.trace_vjp)
def trace_vjp_jvp(z, g, a, offset, axis1, axis2):
    """linear in g"""
    d[z] = trace_vjp(d[g], a, offset, axis1, axis2)  # noqa: F821


@jvp(runtime.reshape_like)
def reshape_like_jvp(z, g, like):
    """linear in g"""
    d[z] = reshape_like(d[g], like)  # noqa: F821


@jvp(runtime.permute)
def permute_jvp(z, x, axes):
    """linear in x"""
    d[z] = permute(d[x], axes)  # noqa: F821


@jvp(runtime.unpermute)
def unpermute_jvp(z, g, axes):
    """linear in g"""
    d[z] = unpermute(d[g], axes)  # noqa: F821


@jvp(runtime.tile_vjp)
def tile_vjp_jvp(z, g, a, reps):
    """linear in g"""
    d[z] = tile_vjp(d[g], a, reps)  # noqa: F821


@jvp(runtime.repeat_vjp)
def repeat_vjp_jvp(z, g, a, repeats, axis):
    """linear in g"""
    d[z] = repeat_vjp(d[g], a, repeats, axis)  # noqa: F821


@jvp(runtime.roll_vjp)
def roll_vjp_jvp(z, g, shift, axis):
    """linear in g"""
    d[z] = roll_vjp(d[g], shift, axis)  # noqa: F821


@jvp(runtime.unpad)
def unpad_jvp(z, g, a, pad_width, mode):
    """linear in g"""
    d[z] = unpad(d[g], a, pad_width, mode)  # noqa: F821


nondiff(runtime.reduced_count, runtime.ddof_count, doc="an element count: no derivative")


@elementwise(runtime.pow_dx, broadcast=True)
def pow_dx_rule(z, a, b):
    """pow_dx(a, b) = b a^(b-1): d = b (b-1) a^(b-2) da + a^(b-1) (1 + b log a) db"""
    return pow_dx(a, b - 1.0) * b, a ** (b - 1.0) * (1.0 + b * safe_log(a))  # noqa: F821


@elementwise(runtime.nonzero_reciprocal, broadcast=True)
def nonzero_reciprocal_rule(z, x):
    """d (1/x) = -dx / x² where x != 0 (the helper is 0, a constant, at x == 0)"""
    return -z * z


@vjp(runtime.astype_vjp)
def astype_vjp_vjp(z, g, dtype):
    """linear in g (the identity or zero, by dtype)"""
    d[g] = astype_vjp(d[z], dtype)  # noqa: F821


@jvp(runtime.astype_vjp)
def astype_vjp_jvp(z, g, dtype):
    """linear in g"""
    d[z] = astype_vjp(d[g], dtype)  # noqa: F821


@elementwise(runtime.sinc_deriv, broadcast=True)
def sinc_deriv_rule(z, x, n):
    """d sinc⁽ⁿ⁾(x) = sinc⁽ⁿ⁺¹⁾(x) dx (n, the order, is an integer)"""
    return sinc_deriv(x, n + 1), 0.0  # noqa: F821

