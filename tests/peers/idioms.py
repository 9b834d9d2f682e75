"""Peer cases: Numerical idioms, kinks and edge cases, gradcheck's concerns (layouts), higher order.

See :mod:`peer_functions` for what a case is and how it is registered.
"""

from __future__ import annotations

import math

import numpy as np
from peer_functions import away, distinct, fortran, off_floor, p, peer, s, sgn, strided, v

# ---------------------------------------------------------------------------------------------
# Numerical idioms


@peer(lambda rng: (v(rng, 6) * 3.0,), hessian=True, jit=True)
def logsumexp_max_shift(x):
    m = np.max(x)
    return m + np.log(np.sum(np.exp(x - m)))


@peer(lambda rng: (np.array([800.0, 799.0, -5.0]) + 0.1 * v(rng, 3),))
def logsumexp_large_values(x):
    m = np.max(x)
    return m + np.log(np.sum(np.exp(x - m)))


@peer(lambda rng: (v(rng, 3, 4) * 3.0,))
def logsumexp_axis_keepdims(x):
    m = np.max(x, axis=1, keepdims=True)
    lse = m + np.log(np.sum(np.exp(x - m), axis=1, keepdims=True))
    return np.sum(lse * np.array([[1.0], [2.0], [-1.0]]))


@peer(lambda rng: (v(rng, 5),))
def softmax_vector(x):
    e = np.exp(x - np.max(x))
    return e / np.sum(e)


@peer(lambda rng: (v(rng, 3, 4),))
def softmax_rows(x):
    e = np.exp(x - np.max(x, axis=1, keepdims=True))
    return e / np.sum(e, axis=1, keepdims=True)


@peer(lambda rng: (v(rng, 5), np.array([0.0, 0.0, 1.0, 0.0, 0.0])), wrt=0, hessian=True)
def log_softmax_cross_entropy(x, onehot):
    z = x - np.max(x)
    logp = z - np.log(np.sum(np.exp(z)))
    return -np.sum(onehot * logp)


@peer(lambda rng: (np.array([-800.0, -30.0, -1.0, 0.5, 30.0, 800.0]) + 0.01 * v(rng, 6),))
def stable_sigmoid_safe_where(x):
    z = np.exp(-np.abs(x))
    sig = np.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z))
    return np.sum(sig * np.arange(6.0))


@peer(lambda rng: (sgn(rng, 0.2, 40.0),))
def stable_sigmoid_scalar_branch(a):
    if a >= 0:
        return 1.0 / (1.0 + math.exp(-a))
    e = math.exp(a)
    return e / (1.0 + e)


@peer(lambda rng: (np.array([-700.0, -3.0, 0.7, 4.0, 700.0]) + 0.01 * v(rng, 5),))
def softplus_stable(x):
    return np.sum(np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x))))


@peer(lambda rng: (v(rng, 5),), hessian=True)
def normalise_by_norm(x):
    u = x / np.linalg.norm(x)
    return np.sum(u * np.arange(5.0))


@peer(lambda rng: (v(rng, 5),))
def normalise_with_epsilon(x):
    u = x / np.sqrt(np.sum(x * x) + 1e-8)
    return np.sum(u ** 3)


@peer(lambda rng: (v(rng, 4), v(rng, 4)), wrt=(0, 1))
def cosine_similarity(a, b):
    return np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b))


@peer(lambda rng: (v(rng, 3, 5), p(rng, 5), v(rng, 5)), wrt=(0, 1, 2))
def layer_norm(x, gamma, beta):
    mu = np.mean(x, axis=-1, keepdims=True)
    var = np.var(x, axis=-1, keepdims=True)
    y = (x - mu) / np.sqrt(var + 1e-5) * gamma + beta
    return np.sum(y * np.arange(15.0).reshape(3, 5))


@peer(lambda rng: (v(rng, 6, 3),))
def batch_norm_by_hand(x):
    mu = np.sum(x, axis=0) / x.shape[0]
    c = x - mu
    var = np.sum(c * c, axis=0) / x.shape[0]
    y = c / np.sqrt(var + 1e-3)
    return np.sum(y ** 3)


@peer(lambda rng: (v(rng, 4, 3), v(rng, 5, 3), v(rng, 5, 2)), wrt=(0, 1, 2))
def attention(q, k, vals):
    scores = q @ k.T / np.sqrt(3.0)
    scores = scores - np.max(scores, axis=1, keepdims=True)
    w = np.exp(scores)
    w = w / np.sum(w, axis=1, keepdims=True)
    return np.sum((w @ vals) ** 2)


@peer(lambda rng: (v(rng, 10), v(rng, 3)), wrt=(0, 1), jit=True)
def conv1d_by_loops(x, kernel):
    out = np.zeros(8)
    for i in range(8):
        acc = 0.0
        for j in range(3):
            acc += x[i + j] * kernel[j]
        out[i] = acc
    return np.sum(out ** 2)


@peer(lambda rng: (v(rng, 10), v(rng, 3)), wrt=(0, 1))
def conv1d_by_slices(x, kernel):
    out = kernel[0] * x[:-2] + kernel[1] * x[1:-1] + kernel[2] * x[2:]
    return np.sum(np.tanh(out))


@peer(lambda rng: (distinct(rng, 4, 6),))
def max_pool_by_reshape(x):
    pooled = np.max(x.reshape(4, 3, 2), axis=2)
    return np.sum(pooled ** 2)


@peer(lambda rng: (v(rng, 9), 0.25), wrt=0)
def trapezoid_rule(y, dx):
    return dx * (np.sum(y[1:-1]) + 0.5 * (y[0] + y[-1])) * np.sum(y ** 2)


@peer(lambda rng: (v(rng, 5),))
def log1p_expm1_idioms(x):
    return np.sum(np.log1p(x * x) + np.expm1(-x * x))


@peer(lambda rng: (v(rng, 6) * 0.1,), jit=True)
def scaled_two_norm_with_branches(x):
    scale = 0.0
    ssq = 1.0
    for i in range(len(x)):
        a = abs(x[i])
        if a > scale:
            ssq = 1.0 + ssq * (scale / a) ** 2
            scale = a
        else:
            ssq = ssq + (a / scale) ** 2
    return scale * math.sqrt(ssq)


@peer(lambda rng: (v(rng, 4, 3), v(rng, 3), 0.0 + p(rng, 4)), wrt=(1,))
def logistic_regression_loss(inputs, w, labels01):
    h = np.dot(inputs, w)
    pred = 0.5 * (np.tanh(h) + 1.0)
    probs = pred * (labels01 > 1.0) + (1.0 - pred) * (labels01 <= 1.0)
    return -np.sum(np.log(probs))


@peer(lambda rng: (v(rng, 3), v(rng, 2), v(rng, 2, 2), v(rng, 3, 2), v(rng, 2)),
      wrt=(0, 1, 2, 3, 4))
def bilinear_tanh_layer(x, h, u, w, b):
    y = np.dot(x, w)
    y = y + np.dot(h, u)
    y = y + b
    y = np.tanh(y)
    return np.sum(y)


@peer(lambda rng: (v(rng, 2, 4), v(rng, 4, 5), v(rng, 5), v(rng, 5, 1)), wrt=(1, 2, 3))
def two_layer_mlp(x, w1, b1, w2):
    h = np.maximum(x @ w1 + b1, 0.0) + 0.01 * (x @ w1 + b1)
    out = h @ w2
    return np.mean(out ** 2)


@peer(lambda rng: (v(rng, 5),))
def softsign_and_tanh_mix(x):
    return np.sum(x / (1.0 + np.abs(x)) * np.tanh(x))


@peer(lambda rng: (p(rng, 5), v(rng, 5)), wrt=(0, 1))
def poisson_nll(rate, k):
    return np.sum(rate - k * np.log(rate))


@peer(lambda rng: (v(rng, 6), s(rng, 0.5, 1.5)), wrt=(0, 1))
def gaussian_pdf_sum(x, sigma):
    return np.sum(np.exp(-0.5 * (x / sigma) ** 2) / (sigma * math.sqrt(2.0 * math.pi)))


# ---------------------------------------------------------------------------------------------
# Kinks and edge cases (JAX's lax_autodiff ideas): only where finite differences are valid


@peer(lambda rng: (sgn(rng, 0.5, 2.0),))
def power_negative_base_integer_exponent(a):
    return a ** 3.0 + a ** 2.0 + (a - 3.0) ** 4.0


@peer(lambda rng: (away(rng, 5),))
def np_power_negative_base(x):
    return np.sum(np.power(x, 3.0) + np.power(x - 5.0, 2))


@peer(lambda rng: (away(rng, 4),))
def power_zero_and_one_exponent(x):
    return np.sum(x ** 0 + x ** 1 + x ** 1.0 * 2.0)


@peer(lambda rng: (sgn(rng, 0.5, 2.0),))
def power_negative_exponent(a):
    return a ** -2 + a ** -1.0 + 1.0 / a ** 3


@peer(lambda rng: (s(rng, 0.5, 2.0),))
def power_variable_exponent(a):
    return 2.0 ** a + a ** a + math.pow(a, 1.5)


@peer(lambda rng: (v(rng, 4),))
def sqrt_of_sum_of_squares_plus_eps(x):
    return np.sum(np.sqrt(x * x + 1e-3))


@peer(lambda rng: (away(rng, 6),))
def abs_relu_leaky_away_from_zero(x):
    return np.sum(np.abs(x) * 2.0 + np.maximum(x, 0.0) + np.where(x > 0, x, 0.1 * x))


@peer(lambda rng: (away(rng, 6),))
def clip_inside_and_outside(x):
    return np.sum(np.clip(x, -0.8, 0.8) ** 2 + x)


@peer(lambda rng: (v(rng, 5),))
def sort_then_weight(x):
    return np.sum(np.sort(x) * np.arange(5.0))


@peer(lambda rng: (off_floor(rng, 5),))
def floor_mod_away_from_jumps(x):
    return np.sum(x * np.floor(x) + x % 1.0 + (x // 0.5) * x)


@peer(lambda rng: (sgn(rng, 0.5, 2.0), sgn(rng, 0.5, 2.0)), wrt=(0, 1))
def atan2_and_hypot(y, x):
    return math.atan2(y, x) * math.hypot(x, y)


@peer(lambda rng: (v(rng, 0),))
def empty_array_sum(x):
    return np.sum(x * x) + 1.0


@peer(lambda rng: (v(rng, 1),))
def single_element_array(x):
    return np.sum(np.exp(x)) * x[0]


@peer(lambda rng: (v(rng, 4) * 1e-3,))
def tiny_values(x):
    return np.sum(np.sin(x) / (1.0 + x)) * 1e3


@peer(lambda rng: (v(rng, 4) * 1e3,))
def large_values(x):
    return np.sum(np.tanh(x * 1e-3) * x)


# ---------------------------------------------------------------------------------------------
# gradcheck's concerns: argument layouts and specialisation


@peer(lambda rng: (strided(rng, 5),), jit=True)
def strided_argument(x):
    return np.sum(x * x * np.arange(5.0))


@peer(lambda rng: (fortran(rng, 3, 4),), jit=True)
def fortran_order_argument(a):
    return np.sum(a @ a.T) + np.sum(a.ravel() * np.arange(12.0))


@peer(lambda rng: (v(rng, 4, 3).T,))
def transposed_argument_reshaped(a):
    return np.sum(a.reshape(12) * np.arange(12.0))


@peer(lambda rng: (v(rng, 3, 4),))
def reshape_fortran_order(a):
    return np.sum(np.reshape(a, (4, 3), order="F") * np.arange(12.0).reshape(4, 3))


@peer(lambda rng: (rng.integers(1, 5, size=4),), wrt=0)
def integer_array_argument(k):
    return np.sum(k * 2.0)


@peer(lambda rng: (v(rng, 3), v(rng, 3)), wrt=(0, 1))
def output_independent_of_second(x, y):
    return np.sum(x * x) + np.sum(y) * 0.0


@peer(lambda rng: (v(rng, 3), sgn(rng)), wrt=(0, 1))
def stop_gradient_style_through_int(x, a):
    k = int(a > 0)
    return np.sum(x * k) + a * k


# ---------------------------------------------------------------------------------------------
# Higher order: hessian and third derivatives


@peer(lambda rng: (v(rng, 3),), hessian=True)
def rosenbrock_vector(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


@peer(lambda rng: (v(rng, 4),), hessian=True)
def quartic_coupled_loop(x):
    total = 0.0
    for i in range(len(x)):
        for j in range(len(x)):
            total += x[i] * x[i] * x[j] * x[j] * (1.0 + 0.1 * i * j)
    return total


@peer(lambda rng: (v(rng, 3), v(rng, 3, 3)), hessian=True)
def quadratic_form_with_sin(x, a):
    return x @ a @ x + np.sum(np.sin(x))


@peer(lambda rng: (sgn(rng),), third=True)
def sin_of_exp(a):
    return math.sin(math.exp(0.5 * a)) * a


@peer(lambda rng: (s(rng, 0.5, 2.0),), third=True)
def log_times_power(a):
    return math.log(a) * a ** 3 + math.sqrt(a)


@peer(lambda rng: (sgn(rng, 0.3, 2.0),), third=True)
def branchy_polynomial(a):
    if a > 0:
        b = a * a * a
    else:
        b = -a * a
    return b * math.cos(a)
