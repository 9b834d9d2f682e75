"""Peer cases: Loops with accumulators, while loops with convergence tests, and nested calls to
helpers.

See :mod:`peer_functions` for what a case is and how it is registered.
"""

from __future__ import annotations

import math

import numpy as np
from peer_functions import away, peer, s, sgn, spd, v

# ---------------------------------------------------------------------------------------------
# Loops with accumulators


@peer(lambda rng: (s(rng, 0.8, 1.05), 4), wrt=0, third=True, jit=True)
def iterated_squaring(a, n):
    for _ in range(n):
        a = a * a
    return a


@peer(lambda rng: (s(rng, 0.9, 1.05),))
def nested_iterated_power(a):
    for _ in range(2):
        for _ in range(3):
            a = a * a * 0.9
    return a


@peer(lambda rng: (s(rng, 0.5, 1.5), 3), wrt=0)
def serial_loops(a, n):
    for _ in range(n):
        a = a * 0.9 + 0.1 * a * a
    a = 2.0 * a
    for _ in range(n + 1):
        a = a * 0.7
    return a


@peer(lambda rng: (v(rng, 6),))
def running_sum_and_product(x):
    s1 = 0.0
    p1 = 1.0
    for i in range(len(x)):
        s1 = s1 + x[i]
        p1 = p1 * (1.0 + 0.1 * x[i])
    return s1 * p1


@peer(lambda rng: (v(rng, 7),), jit=True)
def two_accumulators_coupled(x):
    a = 0.0
    b = 1.0
    for xi in x:
        a, b = b * xi + 0.5 * a, a - 0.1 * b * xi
    return a + b


@peer(lambda rng: (v(rng, 6),))
def accumulate_with_enumerate(x):
    total = 0.0
    for i, xi in enumerate(x):
        total += (i + 1) * xi * xi
    return total


@peer(lambda rng: (v(rng, 5), v(rng, 5)), wrt=(0, 1), jit=True)
def accumulate_with_zip(x, y):
    total = 0.0
    for a, b in zip(x, y):
        total += a * b + math.tanh(a - b)
    return total


@peer(lambda rng: (v(rng, 5), 0.9), wrt=(0, 1), jit=True)
def discounted_return(rewards, gamma):
    g = 0.0
    for t in range(len(rewards) - 1, -1, -1):
        g = rewards[t] + gamma * g
    return g


@peer(lambda rng: (v(rng, 8), 0.7), wrt=(0, 1))
def exponential_moving_average(x, alpha):
    m = x[0]
    for i in range(1, len(x)):
        m = alpha * m + (1.0 - alpha) * x[i]
    return m


@peer(lambda rng: (v(rng, 4, 3),))
def loop_over_rows_accumulates_vector(a):
    acc = np.zeros(3)
    for row in a:
        acc = acc + row * row
    return np.sum(np.sqrt(acc + 1.0))


@peer(lambda rng: (v(rng, 4, 3),))
def augmented_vector_accumulator(a):
    acc = np.zeros(3)
    for i in range(a.shape[0]):
        acc += np.tanh(a[i])
    return np.sum(acc * acc)


@peer(lambda rng: (v(rng, 6),))
def loop_with_continue_and_break(x):
    total = 0.0
    for i in range(len(x)):
        if i == 1:
            continue
        if i == 4:
            break
        total += x[i] * x[i] * (i + 1)
    return total


@peer(lambda rng: (v(rng, 8),), jit=True)
def welford_variance(x):
    mean = 0.0
    m2 = 0.0
    n = 0
    for xi in x:
        n += 1
        delta = xi - mean
        mean += delta / n
        m2 += delta * (xi - mean)
    return m2 / (n - 1)


@peer(lambda rng: (v(rng, 9),), jit=True)
def kahan_sum(x):
    total = 0.0
    comp = 0.0
    for i in range(len(x)):
        y = x[i] * x[i] - comp
        t = total + y
        comp = (t - total) - y
        total = t
    return total


@peer(lambda rng: (v(rng, 6),), jit=True)
def online_logsumexp(x):
    m = -np.inf
    acc = 0.0
    for xi in x:
        if xi > m:
            acc = acc * math.exp(m - xi) + 1.0
            m = xi
        else:
            acc = acc + math.exp(xi - m)
    return m + math.log(acc)


@peer(lambda rng: (v(rng, 5), s(rng, -0.8, 0.8)), wrt=(0, 1), jit=True)
def clenshaw_chebyshev(c, t):
    b1 = 0.0
    b2 = 0.0
    for k in range(len(c) - 1, 0, -1):
        b1, b2 = 2.0 * t * b1 - b2 + c[k], b1
    return t * b1 - b2 + c[0]


@peer(lambda rng: (s(rng, 0.5, 1.5), s(rng, 0.5, 1.0)), wrt=(0, 1), jit=True, hessian=True)
def rk4_decay(y0, k):
    y = y0
    h = 0.1
    for _ in range(10):
        k1 = -k * y
        k2 = -k * (y + 0.5 * h * k1)
        k3 = -k * (y + 0.5 * h * k2)
        k4 = -k * (y + h * k3)
        y = y + h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
    return y


@peer(lambda rng: (np.array([1.0, 0.0]) + 0.1 * v(rng, 2), s(rng, 0.8, 1.2)), wrt=(0, 1), jit=True)
def leapfrog_oscillator(q0, omega):
    q = q0[0]
    pm = q0[1]
    dt = 0.05
    for _ in range(20):
        pm = pm - 0.5 * dt * omega * omega * q
        q = q + dt * pm
        pm = pm - 0.5 * dt * omega * omega * q
    return q * q + pm * pm


@peer(lambda rng: (v(rng, 3), v(rng, 3), s(rng, 0.05, 0.2)), wrt=(0, 2))
def unrolled_gradient_descent(w0, target, lr):
    w = w0
    for _ in range(15):
        grad_w = 2.0 * (w - target) + 0.1 * w ** 3
        w = w - lr * grad_w
    return np.sum(w * w)


# ---------------------------------------------------------------------------------------------
# While loops with convergence tests


@peer(lambda rng: (sgn(rng, 0.5, 5.0),))
def halve_until_small(a):
    while abs(a) > 0.1:
        a = a * 0.5
    return a


@peer(lambda rng: (s(rng, 0.5, 9.0),), third=True, jit=True)
def newton_sqrt_converged(a):
    x = a
    while abs(x * x - a) > 1e-13 * a:
        x = 0.5 * (x + a / x)
    return x


@peer(lambda rng: (s(rng, 0.5, 9.0),), jit=True)
def newton_cube_root_capped(a):
    x = 1.0
    k = 0
    while k < 100:
        step = (x * x * x - a) / (3.0 * x * x)
        x = x - step
        k += 1
        if abs(step) < 1e-14:
            break
    return x


@peer(lambda rng: (s(rng, 0.3, 1.0),), jit=True)
def fixed_point_cosine(a):
    x = 0.5
    diff = 1.0
    while diff > 1e-14:
        new = math.cos(a * x)
        diff = abs(new - x)
        x = new
    return x


@peer(lambda rng: (s(rng, -1.0, 2.0),), jit=True)
def taylor_exp_until_tiny(a):
    term = 1.0
    total = 1.0
    n = 0
    while abs(term) > 1e-17:
        n += 1
        term = term * a / n
        total = total + term
    return total


@peer(lambda rng: (s(rng, 0.1, 0.8),))
def geometric_series_while(r):
    total = 0.0
    term = 1.0
    while term > 1e-16:
        total += term
        term *= r
    return total


@peer(lambda rng: (s(rng, 1.3, 2.0),), jit=True)
def bisection_then_evaluate(c):
    lo = 0.0
    hi = 4.0
    while hi - lo > 0.6:
        mid = 0.5 * (lo + hi)
        if mid * mid > c:
            hi = mid
        else:
            lo = mid
    root = 0.5 * (lo + hi)
    return root * c + c * c


@peer(lambda rng: (spd(rng, 3), v(rng, 3)), wrt=0)
def power_iteration_rayleigh(a, x0):
    x = x0 / np.linalg.norm(x0)
    lam = 0.0
    change = 1.0
    k = 0
    while change > 1e-13 and k < 500:
        y = a @ x
        x = y / np.linalg.norm(y)
        new = x @ (a @ x)
        change = abs(new - lam)
        lam = new
        k += 1
    return lam


@peer(lambda rng: (sgn(rng, 0.5, 3.0),))
def while_true_with_break(a):
    k = 0
    while True:
        a = a * 0.8 + 0.05
        k += 1
        if k >= 6:
            break
    return a * a


@peer(lambda rng: (v(rng, 6),), jit=True)
def while_index_scan(x):
    i = 0
    total = 0.0
    while i < len(x) and total < 50.0:
        total += x[i] * x[i]
        i += 2
    return total


# ---------------------------------------------------------------------------------------------
# Nested function calls


def _mul(a, b):
    return a * b


def _mul_twice(a, b):
    return _mul(_mul(a, b), b)


def _affine(x, scale=2.0, shift=0.5):
    return x * scale + shift


def _norm_and_unit(x):
    n = np.sqrt(np.sum(x * x))
    return n, x / n


def _first_positive_index(x):
    for i in range(len(x)):
        if x[i] > 0:
            return x[i]
    return x[0] * 0.0


def _rebinds_parameter(x):
    x = x * 2.0
    return x + 1.0


def _fill_first(out, value):
    out[0] = value
    return out


def _returns_argument(x):
    return x


def _square_sum(x):
    return np.sum(x * x)


@peer(lambda rng: (sgn(rng), sgn(rng)), wrt=(0, 1))
def call_chain(a, b):
    return _mul_twice(a, b) + _mul(b, a)


@peer(lambda rng: (sgn(rng), sgn(rng)), wrt=(0, 1))
def call_in_branches(a, b):
    if a > b:
        o = _mul(a, b)
    else:
        o = _mul(b, a * a)
    return o


@peer(lambda rng: (s(rng, 0.8, 1.1), 3), wrt=0, jit=True)
def call_in_loop_carried(a, n):
    for _ in range(n):
        a = _mul(a, a)
    return a


@peer(lambda rng: (sgn(rng),), jit=True)
def call_with_keywords(a):
    return _affine(a, shift=1.5) * _affine(a, scale=0.5) + _affine(shift=0.1, x=a)


@peer(lambda rng: (v(rng, 4),))
def call_returning_tuple(x):
    n, unit = _norm_and_unit(x)
    return n * np.sum(unit * np.arange(4.0))


@peer(lambda rng: (away(rng, 5),), jit=True)
def call_with_early_return_in_loop(x):
    return _first_positive_index(x) * 3.0 + x[1]


@peer(lambda rng: (v(rng, 3),))
def callee_rebinds_parameter(x):
    y = _rebinds_parameter(x)
    return np.sum(x * y)


@peer(lambda rng: (v(rng, 3), sgn(rng)), wrt=(0, 1))
def callee_writes_into_callers_array(x, a):
    y = x * 1.0
    unused = _fill_first(y, a * a)  # noqa: F841 - the call writes into y
    return np.sum(y * x)


@peer(lambda rng: (v(rng, 3),))
def callee_returns_its_argument(x):
    y = _returns_argument(x)
    z = _returns_argument(y * 2.0)
    return np.sum(y * z)


@peer(lambda rng: (v(rng, 3),))
def same_callee_same_argument(x):
    return _square_sum(x) * _square_sum(x) + _square_sum(x * 2.0)


@peer(lambda rng: (v(rng, 3), v(rng, 3)), wrt=(0, 1))
def callee_in_tuple_expression(x, y):
    a, b = _square_sum(x), _square_sum(y)
    return a * b
