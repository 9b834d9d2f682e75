"""Peer cases: Closures, globals, custom rules, argument kinds, and NumPy functions (some
without rules).

See :mod:`peer_functions` for what a case is and how it is registered.
"""

from __future__ import annotations

import numpy as np
from peer_functions import away, distinct, p, peer, s, spd, v

import adjoint

# ---------------------------------------------------------------------------------------------
# Closures, globals, custom rules, argument kinds and more NumPy (some refused: no rule)


SCALE = np.array([1.0, 2.0, 3.0])


def _make_closure():
    w = np.array([0.5, -0.25, 2.0])

    def closure_weighted_squares(x):
        return np.sum(w * x * x)
    return closure_weighted_squares


peer(lambda rng: (v(rng, 3),))(_make_closure())


@peer(lambda rng: (v(rng, 3),))
def global_array_read(x):
    return np.sum(SCALE * np.sin(x))


@adjoint.custom_vjp
def _softplus(x):
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))


@_softplus.defvjp
def _softplus_bwd(x, out, g):
    return g * -np.expm1(-out)


@peer(lambda rng: (v(rng, 4),))
def custom_vjp_called_in_loop(x):
    total = 0.0
    for i in range(3):
        total += np.sum(_softplus(x * (i + 1.0)))
    return total


@peer(lambda rng: (v(rng, 4),))
def stop_gradient_inside(x):
    m = adjoint.stop_gradient(np.max(x))
    return np.sum(np.exp(x - m)) * np.exp(m)


@peer(lambda rng: (np.float64(s(rng)),))
def numpy_float64_argument(a):
    return a * a * 3.0


@peer(lambda rng: (v(rng, 5),))
def shape_driven_loop(x):
    total = 0.0
    for i in range(x.shape[0]):
        if x.ndim == 1:
            total += x[i] * x[x.shape[0] - 1 - i]
    return total


@peer(lambda rng: (away(rng, 5),))
def vector_norms_orders(x):
    return np.linalg.norm(x, 1) + np.linalg.norm(x, ord=2) * np.linalg.norm(x)


@peer(lambda rng: (distinct(rng, 5),))
def vector_inf_norm(x):
    return np.linalg.norm(x, np.inf) * 2.0


@peer(lambda rng: (v(rng, 2, 3), v(rng, 3, 4), v(rng, 4)), wrt=(0, 1, 2))
def einsum_three(a, b, c):
    return np.sum(np.einsum("ij,jk,k->i", a, b, c) ** 2)


@peer(lambda rng: (p(rng, 5, lo=0.5, hi=1.5),))
def cumprod_diff_idiom(x):
    return np.sum(np.diff(np.cumprod(x)) ** 2)


@peer(lambda rng: (v(rng, 4),))
def growing_array_by_concatenate(x):
    y = x[:1] * 2.0
    for i in range(1, 4):
        y = np.concatenate([y, x[i:i + 1] * y[-1]])
    return np.sum(y)


@peer(lambda rng: (v(rng, 4),))
def list_append_idiom(x):
    out = []
    for i in range(4):
        out.append(x[i] * 2.0)
    return np.sum(np.array(out))


@peer(lambda rng: (v(rng, 5),))
def mean_by_len(x):
    return np.sum(x * x) / len(x) + x[len(x) // 2]


@peer(lambda rng: (v(rng, 3),))
def polyval_call(x):
    return np.sum(np.polyval(np.array([1.0, 2.0, 3.0]), x))


@peer(lambda rng: (spd(rng, 3),))
def eigh_call(a):
    w, _ = np.linalg.eigh(a)
    return np.sum(w)


@peer(lambda rng: (v(rng, 4),))
def ufunc_reduce_method(x):
    return np.logaddexp.reduce(x)


@peer(lambda rng: (away(rng, 5),))
def clip_keywords_and_method(x):
    return np.sum(np.clip(x, a_min=-0.5, a_max=0.9) + x.clip(-1.0, 1.0) ** 2)


@peer(lambda rng: (away(rng, 5),))
def single_argument_where_gather(x):
    idx = np.where(x > 0)
    return np.sum(x[idx] ** 2)


@peer(lambda rng: (v(rng, 3, 2), v(rng, 2)), wrt=(0, 1))
def matmul_2d_by_1d_and_dot(a, b):
    return np.sum(np.matmul(a, b) ** 2) + np.sum(np.dot(b, a.T))


@peer(lambda rng: (v(rng, 4, 4),))
def trace_with_offset(a):
    return np.trace(a, 1) * np.trace(a, offset=-1)


@peer(lambda rng: (v(rng, 4),))
def method_on_expression(x):
    return np.exp(x).sum() + (x ** 2).mean() * x.max()


@peer(lambda rng: (v(rng, 4),))
def take_call(x):
    return np.sum(np.take(x, np.array([0, 2, 2])))


@peer(lambda rng: (v(rng, 4),))
def isfinite_guard(x):
    y = np.exp(x)
    if np.all(np.isfinite(y)):
        return np.sum(y)
    return 0.0


@peer(lambda rng: (v(rng, 3, 3),))
def det_of_product(a):
    return np.linalg.det(a @ a.T + np.eye(3))


@peer(lambda rng: (v(rng, 6),))
def stack_of_slices(x):
    m = np.stack([x[:3], x[3:], x[::2]])
    return np.sum(m * np.arange(9.0).reshape(3, 3))


@peer(lambda rng: (v(rng, 4), v(rng, 4)), wrt="y")
def wrt_by_name(x, y):
    return np.sum(x * y * y)


@peer(lambda rng: (v(rng, 5),))
def where_three_way(x):
    return np.sum(np.where(x > 0.5, x, np.where(x < -0.5, -x, x * x)))


@peer(lambda rng: (v(rng, 3),))
def hstack_vstack_mix(x):
    m = np.vstack([x, x * 2.0])
    h = np.hstack([x, m[1]])
    return np.sum(m ** 2) + np.sum(h * np.arange(6.0))


@peer(lambda rng: (v(rng, 3),))
def int_times_array_cast(x):
    k = np.arange(3)
    return np.sum(k * x) + np.sum(x * (k > 0))


@peer(lambda rng: (v(rng, 2, 3),))
def expand_and_broadcast_to(x):
    y = np.broadcast_to(x[:, None, :], (2, 4, 3))
    return np.sum(y * np.arange(4.0)[None, :, None])


@peer(lambda rng: (v(rng, 5),))
def roll_and_flip(x):
    return np.sum(np.roll(x, 2) * x) + np.sum(np.flip(x) * np.arange(5.0))


@peer(lambda rng: (v(rng, 4),))
def pad_then_conv(x):
    y = np.pad(x, 1)
    return np.sum((y[:-2] + y[2:] - 2.0 * y[1:-1]) ** 2)
