"""Peer cases: Reductions with axis and keepdims, broadcasting in both directions, linear algebra.

See :mod:`peer_functions` for what a case is and how it is registered.
"""

from __future__ import annotations

import numpy as np
from peer_functions import away, distinct, fortran, p, peer, s, spd, strided, v, wc

# ---------------------------------------------------------------------------------------------
# Reductions with axis and keepdims (autograd's systematic reductions)


@peer(lambda rng: (v(rng, 3, 4),))
def sum_axis0_times_axis1(x):
    return np.sum(np.sum(x, axis=0) ** 2) + np.sum(np.sum(x, axis=1) ** 3)


@peer(lambda rng: (v(rng, 3, 4),))
def sum_negative_axis_keepdims(x):
    r = np.sum(x, axis=-1, keepdims=True)
    return np.sum(x * r)


@peer(lambda rng: (v(rng, 3, 4),))
def sum_positional_axis(x):
    return np.sum(np.sum(x, 0) * np.sum(x * x, 0))


@peer(lambda rng: (v(rng, 2, 3, 4),))
def sum_tuple_axes_keepdims(x):
    r = np.sum(x, axis=(0, 2), keepdims=True)
    return np.sum(x * r * r)


@peer(lambda rng: (v(rng, 2, 3, 4),))
def mean_tuple_axes(x):
    return np.sum(np.mean(x ** 2, axis=(1, 2)) * np.array([1.0, 2.0]))


@peer(lambda rng: (v(rng, 3, 4),))
def center_rows_keepdims(x):
    c = x - x.mean(axis=1, keepdims=True)
    return np.sum(c ** 3)


@peer(lambda rng: (v(rng, 3, 4),))
def method_reductions_with_keepdims(x):
    return np.sum(x.sum(axis=0, keepdims=True) * x) + x.max() * x.min()


@peer(lambda rng: (distinct(rng, 3, 4),))
def max_axis_keepdims_broadcast(x):
    return np.sum(np.exp(x - np.max(x, axis=0, keepdims=True)))


@peer(lambda rng: (distinct(rng, 3, 4),))
def min_along_axis(x):
    return np.sum(np.min(x, axis=1) ** 2) + np.sum(np.amin(x, axis=0))


@peer(lambda rng: (p(rng, 3, 4, lo=0.5, hi=1.5),))
def prod_along_axis(x):
    return np.sum(np.prod(x, axis=1)) + np.sum(x.prod(axis=0, keepdims=True) * x)


@peer(lambda rng: (v(rng, 4, 5),))
def var_std_axis_ddof(x):
    return np.sum(np.var(x, axis=1, ddof=1)) + np.sum(np.std(x, axis=0, keepdims=True))


@peer(lambda rng: (v(rng, 4, 3),))
def norm_axis_keepdims(x):
    n = np.linalg.norm(x, axis=1, keepdims=True)
    return np.sum(x / n * np.arange(3.0))


@peer(lambda rng: (v(rng, 3, 4),))
def cumsum_axis_then_reduce(x):
    return np.sum(np.cumsum(x, axis=1) ** 2) + np.sum(np.cumsum(x, axis=0)[-1])


@peer(lambda rng: (v(rng, 1, 1),))
def reduce_one_by_one(x):
    return np.sum(np.mean(x, axis=0)) * np.max(x, axis=1)[0]


@peer(lambda rng: (v(rng, 4),))
def reduce_0d_result_used_as_array(x):
    t = np.sum(x, keepdims=True)
    return float(t[0] * np.sum(x ** 2))


# ---------------------------------------------------------------------------------------------
# Broadcasting in both directions


@peer(lambda rng: (v(rng, 3, 1), v(rng, 1, 4)), wrt=(0, 1))
def broadcast_column_and_row(a, b):
    return np.sum(np.sin(a + b) * (a * b))


@peer(lambda rng: (v(rng, 4), v(rng, 3, 4)), wrt=(0, 1))
def broadcast_vector_over_matrix(a, b):
    return np.sum((b - a) ** 2 / (1.0 + a * a))


@peer(lambda rng: (v(rng, 3, 4), v(rng, 4)), wrt=(0, 1))
def broadcast_matrix_then_vector(b, a):
    return np.sum(b / (2.0 + np.tanh(a)))


@peer(lambda rng: (v(rng, 2, 1, 3), v(rng, 4, 1)), wrt=(0, 1))
def broadcast_three_dims(a, b):
    return np.sum((a * b) ** 2)


@peer(lambda rng: (np.array(s(rng)), v(rng, 3)), wrt=(0, 1))
def zero_dim_array_argument(a, x):
    return np.sum(a * x * x) + float(a) ** 2


@peer(lambda rng: (v(rng, 1, 4), v(rng, 3, 4)), wrt=(0, 1))
def broadcast_bias_of_shape_1_n(bias, x):
    return np.sum(np.tanh(x + bias))


@peer(lambda rng: (v(rng, 3), v(rng, 3, 3)), wrt=(0, 1))
def broadcast_both_directions_in_one_expression(c, m):
    return np.sum(m * c[:, None] + m * c[None, :] - c)


@peer(lambda rng: (away(rng, 3, 4), away(rng, 4)), wrt=(0, 1))
def broadcast_maximum_with_row(x, row):
    return np.sum(np.maximum(x, row) ** 2)


@peer(lambda rng: (away(rng, 4), s(rng, 0.5, 1.0)), wrt=(0, 1))
def broadcast_where_scalar_branch(x, a):
    return np.sum(np.where(x > 0, x * a, a * a))


@peer(lambda rng: (v(rng, 5), v(rng, 3)), wrt=(0, 1))
def outer_difference_gaussian_kernel(x, y):
    d = x[:, None] - y[None, :]
    return np.sum(np.exp(-0.5 * d * d))


@peer(lambda rng: (v(rng, 4, 2),))
def pairwise_squared_distances(x):
    d = x[:, None, :] - x[None, :, :]
    return np.sum(np.exp(-np.sum(d * d, axis=-1)))


@peer(lambda rng: (s(rng), v(rng, 4)), wrt=(0, 1))
def scalar_broadcast_in_place(a, x):
    y = np.zeros(4)
    y += a
    y *= x
    return np.sum(y * y)


# ---------------------------------------------------------------------------------------------
# Linear algebra (autograd's test_linalg ideas)


@peer(lambda rng: (wc(rng, 3), v(rng, 3)), wrt=(0, 1))
def solve_vector(a, b):
    return np.sum(np.linalg.solve(a, b) ** 2)


@peer(lambda rng: (wc(rng, 3), v(rng, 3, 2)), wrt=(0, 1))
def solve_matrix_rhs(a, b):
    x = np.linalg.solve(a, b)
    return np.sum(x * np.array([1.0, -2.0]))


@peer(lambda rng: (wc(rng, 3),))
def inv_sum_squares(a):
    return np.sum(np.linalg.inv(a) ** 2)


@peer(lambda rng: (wc(rng, 3),))
def inv_of_inv(a):
    return np.sum(np.linalg.inv(np.linalg.inv(a)) * np.arange(9.0).reshape(3, 3))


@peer(lambda rng: (wc(rng, 3),), jit=True)
def det_(a):
    return np.linalg.det(a)


@peer(lambda rng: (wc(rng, 2),))
def det_matches_formula(a):
    return np.linalg.det(a) * (a[0, 0] * a[1, 1] - a[0, 1] * a[1, 0])


@peer(lambda rng: (wc(rng, 1),))
def det_one_by_one(a):
    return np.linalg.det(a) ** 2


@peer(lambda rng: (wc(rng, 3) * np.array([1.0, -1.0, 1.0]),))
def slogdet_negative_determinant(a):
    sign, logdet = np.linalg.slogdet(a)
    return sign * logdet


@peer(lambda rng: (spd(rng, 3),))
def cholesky_logdet(a):
    lower = np.linalg.cholesky(a)
    return 2.0 * np.sum(np.log(np.diagonal(lower)))


@peer(lambda rng: (v(rng, 3, 3),))
def cholesky_of_gram(b):
    a = b @ b.T + 3.0 * np.eye(3)
    lower = np.linalg.cholesky(a)
    return np.sum(lower * np.arange(9.0).reshape(3, 3))


@peer(lambda rng: (v(rng, 3, 3), v(rng, 3)), wrt=(0, 1))
def gaussian_log_likelihood(b, x):
    cov = b @ b.T + np.eye(3)
    _, logdet = np.linalg.slogdet(cov)
    return -0.5 * (x @ np.linalg.solve(cov, x) + logdet + 3.0 * np.log(2.0 * np.pi))


@peer(lambda rng: (wc(rng, 3), v(rng, 3, 3)), wrt=(0, 1))
def trace_inv_product(a, b):
    return np.trace(np.linalg.inv(a) @ b)


@peer(lambda rng: (v(rng, 3, 3) * 0.4,))
def matrix_power_loop(a):
    m = np.eye(3)
    for _ in range(4):
        m = m @ a
    return np.sum(m)


@peer(lambda rng: (wc(rng, 3),))
def newton_schulz_inverse(a):
    x = a.T / (np.max(np.sum(np.abs(a), axis=0)) * np.max(np.sum(np.abs(a), axis=1)))
    for _ in range(30):
        x = x @ (2.0 * np.eye(3) - a @ x)
    return np.sum(x * np.arange(9.0).reshape(3, 3))


@peer(lambda rng: (wc(rng, 4), v(rng, 4)), wrt=(0, 1), jit=True, hessian=True)
def gaussian_elimination_solve(a, b):
    m = a.copy()
    r = b.copy()
    n = 4
    for k in range(n):
        for i in range(k + 1, n):
            factor = m[i, k] / m[k, k]
            m[i, :] = m[i, :] - factor * m[k, :]
            r[i] = r[i] - factor * r[k]
    x = np.zeros(n)
    for i in range(n - 1, -1, -1):
        x[i] = (r[i] - np.dot(m[i, i + 1:], x[i + 1:])) / m[i, i]
    return np.sum(x * np.arange(1.0, 5.0))


@peer(lambda rng: (spd(rng, 3),), jit=True, hessian=True)
def cholesky_by_loops(a):
    n = 3
    lower = np.zeros((n, n))
    for j in range(n):
        d = a[j, j] - np.sum(lower[j, :j] ** 2)
        lower[j, j] = np.sqrt(d)
        for i in range(j + 1, n):
            lower[i, j] = (a[i, j] - np.sum(lower[i, :j] * lower[j, :j])) / lower[j, j]
    return np.sum(lower * np.arange(9.0).reshape(3, 3))


@peer(lambda rng: (wc(rng, 3) + np.tril(v(rng, 3, 3)), v(rng, 3)), wrt=(0, 1))
def forward_substitution(a, b):
    lower = np.tril(a)
    x = np.zeros(3)
    for i in range(3):
        x[i] = (b[i] - lower[i, :i] @ x[:i]) / lower[i, i]
    return np.sum(x ** 2)


@peer(lambda rng: (v(rng, 4, 3),))
def gram_schmidt(a):
    q = np.zeros((4, 3))
    for j in range(3):
        w = a[:, j].copy()
        for i in range(j):
            w = w - (q[:, i] @ a[:, j]) * q[:, i]
        q[:, j] = w / np.linalg.norm(w)
    return np.sum(q * np.arange(12.0).reshape(4, 3))


@peer(lambda rng: (v(rng, 6), v(rng, 6)), wrt=1)
def polynomial_fit_normal_equations(x, y):
    vander = np.stack([np.ones(6), x, x * x], axis=1)
    coef = np.linalg.solve(vander.T @ vander, vander.T @ y)
    return coef @ np.array([1.0, 0.5, 0.25])


@peer(lambda rng: (v(rng, 3, 4),))
def frobenius_and_nuclear_like(a):
    return np.linalg.norm(a) + np.linalg.norm(a, "fro") ** 2 + np.trace(a @ a.T)


@peer(lambda rng: (v(rng, 3, 4),), jit=True)
def frobenius_norm(a):
    return np.linalg.norm(a, "fro")


@peer(lambda rng: (v(rng, 2, 3, 3) + 3.0 * np.eye(3),))
def batched_det(a):
    return np.sum(np.linalg.det(a) ** 2)


@peer(lambda rng: (v(rng, 2, 3, 3) + 3.0 * np.eye(3), v(rng, 2, 3, 1)), wrt=(0, 1))
def batched_solve(a, b):
    return np.sum(np.linalg.solve(a, b) ** 2)


@peer(lambda rng: (v(rng, 2, 3, 4), v(rng, 2, 4, 2)), wrt=(0, 1))
def batched_matmul(a, b):
    return np.sum(np.tanh(a @ b))


@peer(lambda rng: (fortran(rng, 3, 3) + 3.0 * np.eye(3), strided(rng, 3)), wrt=(0, 1))
def solve_non_contiguous_inputs(a, b):
    return np.sum(np.linalg.solve(a, b) * b)
