"""Rules for NumPy's reductions and scans: sum, mean, prod, max/min, var/std, norm, cumsum,
cumprod, diff, sort, and the ``reduce`` methods of the ufuncs add, multiply, maximum, minimum,
logaddexp and logaddexp2 (``np.add.reduce(x)``: the reductions above, with ``axis=0`` by
default).

Takes nothing; importing it registers the rules in :mod:`adjoint.rules.registry`. Reductions
accept ``axis`` as None, an int (negative too) or a tuple, and ``keepdims``; the adjoint is
broadcast back over the reduced axes by :func:`~adjoint.runtime.unreduce`, which accepts a
result with or without the kept axes.

Conventions (tested, and described in ``docs/conventions.md``):

- ``max``/``min``/``amax``/``amin`` reductions and ``norm(ord=inf)``: the k tied extremes share
  the gradient equally, 1/k each (JAX).
- ``np.linalg.norm`` at a zero vector and ``std`` where it is 0 (constant data, one element):
  derivative 0, a subgradient (JAX gives nan for norm). ``var``/``std`` with ``n <= ddof``: nan.
"""

import numpy as np

from .registry import jvp, ufunc_method, vjp

# ---------------------------------------------------------------------------------------------
# Reductions. Reverse: unreduce(g) * weights; forward: reduce_sum(t * weights). The parameter
# lists follow NumPy's positional order so that positional calls bind as NumPy binds them.


@vjp(np.sum)
def sum_vjp(z, a, axis=None, dtype=None, out=None, keepdims=False):
    """d sum(a) = sum(da)   (0 for an integer or boolean dtype)"""
    d[a] = astype_vjp(unreduce(d[z], a, axis), dtype)


@jvp(np.sum)
def sum_jvp(z, a, axis=None, dtype=None, out=None, keepdims=False):
    """d sum(a) = sum(da)"""
    d[z] = astype_vjp(reduce_sum(d[a], axis, keepdims), dtype)


@vjp(np.mean)
def mean_vjp(z, a, axis=None, dtype=None, out=None, keepdims=False):
    """d mean(a) = sum(da) / n"""
    d[a] = astype_vjp(unreduce(d[z], a, axis) / reduced_count(a, axis), dtype)


@jvp(np.mean)
def mean_jvp(z, a, axis=None, dtype=None, out=None, keepdims=False):
    """d mean(a) = sum(da) / n"""
    d[z] = astype_vjp(reduce_sum(d[a], axis, keepdims) / reduced_count(a, axis), dtype)


@vjp(np.prod)
def prod_vjp(z, a, axis=None, dtype=None, out=None, keepdims=False):
    """d prod(a) = Σ_i (Π_{j≠i} a_j) da_i   (exact where some a_j == 0)"""
    d[a] = astype_vjp(unreduce(d[z], a, axis) * prod_weights(a, axis), dtype)


@jvp(np.prod)
def prod_jvp(z, a, axis=None, dtype=None, out=None, keepdims=False):
    """d prod(a) = Σ_i (Π_{j≠i} a_j) da_i"""
    d[z] = astype_vjp(reduce_sum(d[a] * prod_weights(a, axis), axis, keepdims), dtype)


@vjp(np.max, np.amax, np.min, np.amin)
def extreme_vjp(z, a, axis=None, out=None, keepdims=False):
    """d max(a) = da at the maximum; k tied maxima share it, 1/k each"""
    d[a] = unreduce(d[z], a, axis) * extreme_weights(a, z, axis)


@jvp(np.max, np.amax, np.min, np.amin)
def extreme_jvp(z, a, axis=None, out=None, keepdims=False):
    """d max(a) = the mean of da over the tied maxima"""
    d[z] = reduce_sum(d[a] * extreme_weights(a, z, axis), axis, keepdims)


@vjp(np.var)
def var_vjp(z, a, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    """d var(a) = 2 Σ (a - mean(a)) da / (n - ddof)   (nan where n <= ddof, as var itself)"""
    d[a] = astype_vjp(unreduce(d[z], a, axis) * centered(a, axis) * (
        2.0 / ddof_count(a, axis, ddof)), dtype)


@jvp(np.var)
def var_jvp(z, a, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    """d var(a) = 2 Σ (a - mean(a)) da / (n - ddof)"""
    d[z] = astype_vjp(reduce_sum(d[a] * centered(a, axis), axis, keepdims) * (
        2.0 / ddof_count(a, axis, ddof)), dtype)


@vjp(np.std)
def std_vjp(z, a, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    """d std(a) = Σ (a - mean(a)) da / ((n - ddof) std(a))   (0 where std(a) == 0)"""
    d[a] = astype_vjp(unreduce(d[z] * nonzero_reciprocal(z), a, axis) * centered(a, axis) / (
        ddof_count(a, axis, ddof)), dtype)


@jvp(np.std)
def std_jvp(z, a, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    """d std(a) = Σ (a - mean(a)) da / ((n - ddof) std(a))"""
    d[z] = astype_vjp(reduce_sum(d[a] * centered(a, axis), axis, keepdims) * (
        nonzero_reciprocal(z) / ddof_count(a, axis, ddof)), dtype)


@vjp(np.linalg.norm)
def norm_vjp(z, x, ord=None, axis=None, keepdims=False):
    """d ‖x‖ = Σ (∂‖x‖/∂x) dx: x/‖x‖ (2, 'fro'), sign(x) (1), sign on the extremes (±inf),
    U Vᵀ ('nuc', nonzero singular values)"""
    d[x] = unreduce(d[z], x, axis) * norm_weights(x, z, ord, axis)


@jvp(np.linalg.norm)
def norm_jvp(z, x, ord=None, axis=None, keepdims=False):
    """d ‖x‖ = Σ (∂‖x‖/∂x) dx"""
    d[z] = reduce_sum(d[x] * norm_weights(x, z, ord, axis), axis, keepdims)


@vjp(np.cumsum)
def cumsum_vjp_rule(z, a, axis=None, dtype=None):
    """d cumsum(a) = cumsum(da); its adjoint is the reversed cumulative sum"""
    d[a] = astype_vjp(cumsum_vjp(d[z], a, axis), dtype)


@jvp(np.cumsum)
def cumsum_jvp_rule(z, a, axis=None, dtype=None):
    """d cumsum(a) = cumsum(da)"""
    d[z] = astype_vjp(cumsum_axis(d[a], axis), dtype)


@vjp(np.cumprod)
def cumprod_vjp_rule(z, a, axis=None, dtype=None):
    """d cumprod(a)_i = Σ_{j<=i} (Π_{k<=i, k≠j} a_k) da_j"""
    d[a] = astype_vjp(cumprod_vjp(d[z], a, axis), dtype)


@jvp(np.cumprod)
def cumprod_jvp_rule(z, a, axis=None, dtype=None):
    """d cumprod(a)_i = d cumprod(a)_{i-1} a_i + cumprod(a)_{i-1} da_i"""
    d[z] = astype_vjp(cumprod_jvp(d[a], a, z, axis), dtype)


@vjp(np.diff)
def diff_vjp_rule(z, a, n=1, axis=-1):
    """d diff(a) = diff(da)   (no prepend/append)"""
    d[a] = diff_vjp(d[z], a, n, axis)


@jvp(np.diff)
def diff_jvp_rule(z, a, n=1, axis=-1):
    """d diff(a) = diff(da)"""
    d[z] = diff_axis(d[a], n, axis)


@vjp(np.sort)
def sort_vjp_rule(z, a, axis=-1, kind=None, order=None):
    """d sort(a) = da permuted as a's values are (ties keep their order: a stable sort)"""
    d[a] = sort_vjp(d[z], a, axis)


@jvp(np.sort)
def sort_jvp_rule(z, a, axis=-1, kind=None, order=None):
    """d sort(a) = da permuted as a's values are"""
    d[z] = sort_jvp(d[a], a, axis)


# ---------------------------------------------------------------------------------------------
# ufunc.reduce: NumPy's reductions by another name, with axis=0 by default. logaddexp.reduce
# is log Σ exp(a) (its weights, the softmax of a, are written with np.exp: every order works).


@vjp(ufunc_method(np.add, "reduce"))
def add_reduce_vjp(z, array, axis=0, dtype=None, out=None, keepdims=False):
    """d add.reduce(a) = sum(da)"""
    d[array] = astype_vjp(unreduce(d[z], array, axis), dtype)


@jvp(ufunc_method(np.add, "reduce"))
def add_reduce_jvp(z, array, axis=0, dtype=None, out=None, keepdims=False):
    """d add.reduce(a) = sum(da)"""
    d[z] = astype_vjp(reduce_sum(d[array], axis, keepdims), dtype)


@vjp(ufunc_method(np.multiply, "reduce"))
def multiply_reduce_vjp(z, array, axis=0, dtype=None, out=None, keepdims=False):
    """d multiply.reduce(a) = Σ_i (Π_{j≠i} a_j) da_i   (exact where some a_j == 0)"""
    d[array] = astype_vjp(unreduce(d[z], array, axis) * prod_weights(array, axis), dtype)


@jvp(ufunc_method(np.multiply, "reduce"))
def multiply_reduce_jvp(z, array, axis=0, dtype=None, out=None, keepdims=False):
    """d multiply.reduce(a) = Σ_i (Π_{j≠i} a_j) da_i"""
    d[z] = astype_vjp(reduce_sum(d[array] * prod_weights(array, axis), axis, keepdims), dtype)


@vjp(ufunc_method(np.maximum, "reduce"), ufunc_method(np.minimum, "reduce"))
def extreme_reduce_vjp(z, array, axis=0, dtype=None, out=None, keepdims=False):
    """d maximum.reduce(a) = da at the maximum; k tied maxima share it, 1/k each"""
    d[array] = unreduce(d[z], array, axis) * extreme_weights(array, z, axis)


@jvp(ufunc_method(np.maximum, "reduce"), ufunc_method(np.minimum, "reduce"))
def extreme_reduce_jvp(z, array, axis=0, dtype=None, out=None, keepdims=False):
    """d maximum.reduce(a) = the mean of da over the tied maxima"""
    d[z] = reduce_sum(d[array] * extreme_weights(array, z, axis), axis, keepdims)


@vjp(ufunc_method(np.logaddexp, "reduce"))
def logaddexp_reduce_vjp(z, array, axis=0, dtype=None, out=None, keepdims=False):
    """d log Σ e^a = Σ e^(a - z) da   (the softmax of a)"""
    d[array] = unreduce(d[z], array, axis) * np.exp(array - keep_dims(z, array, axis))


@jvp(ufunc_method(np.logaddexp, "reduce"))
def logaddexp_reduce_jvp(z, array, axis=0, dtype=None, out=None, keepdims=False):
    """d log Σ e^a = Σ e^(a - z) da"""
    d[z] = reduce_sum(d[array] * np.exp(array - keep_dims(z, array, axis)), axis, keepdims)


@vjp(ufunc_method(np.logaddexp2, "reduce"))
def logaddexp2_reduce_vjp(z, array, axis=0, dtype=None, out=None, keepdims=False):
    """d log₂ Σ 2^a = Σ 2^(a - z) da"""
    d[array] = unreduce(d[z], array, axis) * np.exp2(array - keep_dims(z, array, axis))


@jvp(ufunc_method(np.logaddexp2, "reduce"))
def logaddexp2_reduce_jvp(z, array, axis=0, dtype=None, out=None, keepdims=False):
    """d log₂ Σ 2^a = Σ 2^(a - z) da"""
    d[z] = reduce_sum(d[array] * np.exp2(array - keep_dims(z, array, axis)), axis, keepdims)
