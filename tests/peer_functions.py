"""Plain numeric functions in the spirit of other AD projects' test suites, for adjoint to
differentiate.

Takes nothing; defines functions. The ideas come from what tangent, autograd, JAX and PyTorch
test (a zoo of small functions, systematic shapes for broadcasting and reductions, graph
structure — fan-out, fan-in, deep chains, values used many times —, linear algebra, kinks, and
gradcheck's concerns such as non-contiguous inputs); the code is this project's own. Each public
function is registered with :func:`peer`, which appends a :class:`Case` to :data:`PEERS`:

- ``fn``: the function itself, unchanged;
- ``args``: ``rng -> tuple``, one argument tuple inside the function's domain (away from
  kinks, ties and branch points by a margin, so central differences are valid);
- ``wrt``: what to differentiate with respect to (position, name or tuple of them);
- ``hessian``: also check ``adjoint.hessian`` and ``adjoint.hvp`` (first wrt argument) against
  finite differences of the gradient;
- ``third``: (scalar output, wrt one float) also check ``grad(grad(f))`` and
  ``grad(grad(grad(f)))``;
- ``jit``: also compare ``jit=True`` with Python mode. Only a sample of the cases sets it
  (loops, while loops, in-place updates, indexing, a little linear algebra): each compiled
  gradient costs about a second of Numba, and the module must stay fast.

A function may return a float (checked with ``grad``) or an array or tuple (checked with
``vjp`` and a random cotangent). Helpers whose names start with ``_`` are user functions the
cases call; they are not cases themselves.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

import adjoint


@dataclass(frozen=True)
class Case:
    """One peer function and how to test it."""

    name: str
    fn: object
    args: object
    wrt: object = 0
    hessian: bool = False
    third: bool = False
    jit: bool = False

    def __repr__(self):
        return f"<peer {self.name}>"


PEERS: list[Case] = []


def peer(args, *, wrt=0, hessian=False, third=False, jit=False):
    """Register the decorated function as a peer case (see the module docstring)."""

    def register(fn):
        if any(c.name == fn.__name__ for c in PEERS):
            raise ValueError(f"duplicate peer case {fn.__name__!r}")
        PEERS.append(Case(fn.__name__, fn, args, wrt, hessian, third, jit))
        return fn

    return register


# ---------------------------------------------------------------------------------------------
# Argument generators (numpy Generator -> value)


def s(rng, lo=0.5, hi=1.5):
    """A float in [lo, hi)."""
    return float(rng.uniform(lo, hi))


def sgn(rng, lo=0.4, hi=1.5):
    """A float with magnitude in [lo, hi) and a random sign."""
    return float(rng.choice([-1.0, 1.0]) * rng.uniform(lo, hi))


def v(rng, *shape):
    """Standard normal float64 array."""
    return rng.standard_normal(shape)


def p(rng, *shape, lo=0.5, hi=2.0):
    """Positive array with values in [lo, hi)."""
    return rng.uniform(lo, hi, size=shape)


def distinct(rng, *shape, gap=0.15):
    """Normal values, all pairwise at least ``gap`` apart (no ties for max, sort, argmax)."""
    n = int(np.prod(shape))
    base = np.arange(n) * gap * 1.5 + rng.uniform(0.0, 0.2, size=n)
    return (rng.permutation(base) - base.mean()).reshape(shape)


def away(rng, *shape, gap=0.3):
    """Normal-ish values at least ``gap`` away from 0 (no kinks of abs, relu, sign branches)."""
    mag = rng.uniform(gap, 1.5, size=shape)
    return np.where(rng.random(shape) < 0.5, -mag, mag)


def off_floor(rng, n):
    """Values whose fractional parts (and those of 2x) stay away from 0: no jumps of floor/mod."""
    return rng.integers(-3, 3, size=n) + rng.uniform(0.1, 0.4, size=n)


def wc(rng, n):
    """A well-conditioned (diagonally dominant) n x n matrix."""
    return rng.standard_normal((n, n)) * 0.3 + n * np.eye(n)


def spd(rng, n):
    """A symmetric positive definite n x n matrix."""
    b = rng.standard_normal((n, n))
    return b @ b.T + n * np.eye(n)


def strided(rng, n):
    """A non-contiguous 1-D view (every other element of a longer array)."""
    return rng.standard_normal(2 * n)[::2]


def fortran(rng, r, c):
    """A Fortran-ordered (column-major) matrix."""
    return np.asfortranarray(rng.standard_normal((r, c)))


# ---------------------------------------------------------------------------------------------
# Scalar expressions and graph structure (tangent's and autograd's basics)


@peer(lambda rng: (sgn(rng),), third=True, jit=True)
def identity(a):
    return a


@peer(lambda rng: (sgn(rng),))
def constant_output(a):
    b = a * 0.0
    return b + 3.0


@peer(lambda rng: (sgn(rng),))
def truly_constant(a):
    return 3.0


@peer(lambda rng: (sgn(rng),))
def self_subtract(a):
    return a - a + a * a


@peer(lambda rng: (sgn(rng),))
def self_divide(a):
    return a / a + a


@peer(lambda rng: (sgn(rng),), third=True, jit=True)
def fanout_sines(a):
    return math.sin(math.sin(a) + math.sin(a))


@peer(lambda rng: (sgn(rng), sgn(rng)), wrt=(0, 1))
def fanout_two_args(a, b):
    return math.sin(math.sin(a) + math.sin(b))


@peer(lambda rng: (s(rng, 0.5, 1.2),), third=True)
def used_many_times(a):
    return a * a * a * a + a * (a + a) - a / (a + a + a)


@peer(lambda rng: (sgn(rng),), third=True, jit=True)
def diamond(a):
    b = math.sin(a)
    c = math.cos(a)
    d = b * c
    e = b + c
    return d * e


@peer(lambda rng: (sgn(rng), sgn(rng), sgn(rng)), wrt=(0, 1, 2))
def saxpy_overwritten(a, b, c):
    t = a * b
    t = t + c
    t = t * t
    return t


@peer(lambda rng: (sgn(rng),), jit=True)
def adjoint_like_names(a):
    da = a * a
    dout = da + a
    t_1 = dout * 2.0
    return t_1 + da


@peer(lambda rng: (sgn(rng), sgn(rng)), wrt=(0, 1))
def parameter_named_like_adjoint(x, dx):
    return x * dx + dx * dx


@peer(lambda rng: (sgn(rng),), jit=True, hessian=True)
def locals_named_like_helpers(a):
    unbroadcast = a * 2.0
    fresh = unbroadcast * a
    tape = fresh + unbroadcast
    return tape * fresh


@peer(lambda rng: (s(rng, 0.5, 1.5),))
def long_straight_line(a):
    b = a * 1.1
    c = b + a
    d = c * b
    e = d - a
    f = e / c
    g = f * f
    h = g + d
    i = h * 0.5
    j = i - e
    k = j * a
    return k


@peer(lambda rng: (s(rng, 0.2, 0.9),), third=True, jit=True)
def deep_chain_loop(a):
    x = a
    for _ in range(60):
        x = math.sin(x) * 0.99 + 0.01 * a
    return x


@peer(lambda rng: (sgn(rng),))
def fan_in_sum_of_many(a):
    b1 = a * 1.0
    b2 = a * 2.0
    b3 = a * 3.0
    b4 = a * 4.0
    return b1 * b2 + b2 * b3 + b3 * b4 + b4 * b1


@peer(lambda rng: (v(rng, 5),))
def mutating_outgrad(a):
    b = a + 1.0
    c = b + 1.5
    d = a + b
    e = d + c
    return np.sum(e * e)


@peer(lambda rng: (v(rng, 5),), jit=True)
def mutating_outgrad_from_indexing(a):
    b = a + 1.0
    c = b[0] + 1.5
    d = a + b
    e = d + c
    return np.sum(e * e)


@peer(lambda rng: (v(rng, 4),))
def alias_then_multiply(a):
    b = a
    return np.sum(a * b)


@peer(lambda rng: (v(rng, 4),))
def alias_used_in_two_branches_of_sum(a):
    b = a
    c = b
    return np.sum(a * 2.0 + b * 3.0 + c * c)


@peer(lambda rng: (sgn(rng),))
def tuple_temp_pass_through(a):
    t = (a, a * 2.0, 3.0)
    x, y, z = t
    return x * y * z


@peer(lambda rng: (sgn(rng), sgn(rng)), wrt=(0, 1))
def swap_many_times(a, b):
    for _ in range(5):
        a, b = b, a * 1.5
    return a * b * b


@peer(lambda rng: (s(rng, 0.5, 1.5),))
def unused_argument_second(a, b=2.0):
    return a * a


@peer(lambda rng: (s(rng), s(rng)), wrt=1)
def unused_wrt_argument(a, b):
    return a * a


@peer(lambda rng: (s(rng, 0.5, 1.5), 3), wrt=(0, 1))
def int_argument_differentiated(a, n):
    return a ** n + n * a


# ---------------------------------------------------------------------------------------------
# Branches on data (tangent's if tests)


@peer(lambda rng: (sgn(rng, 0.3, 1.5),))
def overwrite_if_else(a):
    if a > 0:
        a = a * 3.0
    else:
        a = a * 2.0
    return a * a


@peer(lambda rng: (float(rng.choice([-1.0, 1.0])) * s(rng, 0.5, 3.0),), jit=True)
def spammy_branches(a):
    if a * a / 3.0 > 0:
        b = 3.0
    else:
        b = 4.0
    a = a * b
    if a < b - a * b:
        a = a * a
    elif a > b + 3.0 * a:
        if a / 2.0 < 0:
            a = a / b
        else:
            a = a * b
    else:
        a = -a
    return a


@peer(lambda rng: (sgn(rng, 0.3, 2.0),))
def serial_ifs(a):
    if a > 0:
        a = a * a
    a = a + a
    if a < 0:
        a = 3.0 * a
    return a


@peer(lambda rng: (sgn(rng, 0.3, 2.0), sgn(rng, 0.3, 2.0)), wrt=(0, 1))
def branch_on_two_values(a, b):
    if a > b + 0.1 or a < b - 0.1:
        if a > b:
            return a * a
        return a * b
    return a + b


@peer(lambda rng: (sgn(rng, 0.2, 3.0),))
def nested_if_reassigns(a):
    if a > 0:
        a = a * 3.0
        if a < 4.5:
            a = a * a
        else:
            a = a * 2.0
    return a


@peer(lambda rng: (sgn(rng, 0.3, 2.0), 3), wrt=0)
def if_then_for(a, n):
    if a > 0:
        a = a * a
    a = 0.5 * a
    for _ in range(n):
        a = a * a
    return a


@peer(lambda rng: (sgn(rng, 0.3, 1.2), 2), wrt=0)
def for_then_if(a, n):
    for _ in range(n):
        a = a * a
    a = 2.0 * a
    if a > 1.0:
        a = a * a
    return a


@peer(lambda rng: (s(rng, 1.1, 1.4),))
def conditional_in_loop_carried(a):
    for _ in range(4):
        if a < 20.0:
            a = a * a
    return a


@peer(lambda rng: (s(rng, 1.1, 1.4),))
def loop_inside_conditional(a):
    if a < 20.0:
        for _ in range(3):
            a = a * a
    return a


@peer(lambda rng: (away(rng, 6),), jit=True)
def branch_per_element(x):
    total = 0.0
    for i in range(len(x)):
        if x[i] > 0:
            total = total + x[i] ** 2
        elif x[i] < -1.0:
            total = total - x[i]
        else:
            total = total + math.sin(x[i])
    return total


@peer(lambda rng: (away(rng, 6), 0.2), wrt=0, jit=True, hessian=True)
def huber_loop(r, delta):
    total = 0.0
    for i in range(len(r)):
        a = abs(r[i])
        if a <= delta:
            total += 0.5 * r[i] * r[i]
        else:
            total += delta * (a - 0.5 * delta)
    return total


@peer(lambda rng: (away(rng, 5, gap=0.2),))
def branch_on_array_sum(x):
    if np.sum(x) > 0:
        return np.sum(np.exp(-x * x))
    return np.sum(x ** 3)


@peer(lambda rng: (distinct(rng, 5),))
def branch_on_max(x):
    m = np.max(x)
    if m > 0.3:
        return m * np.sum(x)
    return np.sum(x * x)


@peer(lambda rng: (sgn(rng, 0.3, 2.0), sgn(rng, 0.3, 2.0)), wrt=(0, 1))
def short_circuit_guards(a, b):
    if a > 0 and b / a > 0.5:
        return a * b
    if a < 0 or b > 1.0:
        return a - b * b
    return a * a * b


@peer(lambda rng: (s(rng, 0.3, 1.5),))
def branch_local_read_by_second_if(a):
    positive = a > 0
    if positive:
        b = a * a
    else:
        c = -a
        b = c * a
    u = b * math.cos(a)
    if positive:
        r = u * 2.0
    else:
        r = u * c
    return r


@peer(lambda rng: (sgn(rng, 0.3, 2.0),))
def ternary_chain(a):
    b = a * a if a > 0 else -a
    c = b + 1.0 if b > 1.0 else b * 3.0
    return c * a


@peer(lambda rng: (sgn(rng, 0.3, 2.0),))
def early_return_then_more(a):
    if a > 1.0:
        return a * 2.0
    b = a * a
    if b > 0.5:
        return b * a
    return b


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


# ---------------------------------------------------------------------------------------------
# Tuple and array outputs (checked with vjp)


@peer(lambda rng: (s(rng), sgn(rng)), wrt=(0, 1), jit=True)
def polar_to_cartesian(r, theta):
    return r * math.cos(theta), r * math.sin(theta)


@peer(lambda rng: (sgn(rng),))
def same_value_twice(a):
    b = a * a
    return b, b


@peer(lambda rng: (sgn(rng),))
def output_with_constant(a):
    return a * 2.0, 1.0


@peer(lambda rng: (v(rng, 4),))
def mixed_scalar_and_array_outputs(x):
    return np.sum(x * x), x * 3.0


@peer(lambda rng: (v(rng, 4),))
def returns_argument_unchanged(x):
    return x


@peer(lambda rng: (v(rng, 4),))
def returns_argument_twice(x):
    return x, x


@peer(lambda rng: (v(rng, 5),))
def returns_view_of_argument(x):
    return x[1:]


@peer(lambda rng: (v(rng, 2, 3),))
def returns_transpose(x):
    return x.T


@peer(lambda rng: (v(rng, 3, 4),))
def returns_keepdims_sum(x):
    return np.sum(np.sin(x), axis=1, keepdims=True)


@peer(lambda rng: (v(rng, 3, 3),))
def singleton_array_output(x):
    return np.sum(np.sin(x), keepdims=True)


@peer(lambda rng: (v(rng, 3, 1),))
def singleton_axis_dropped(x):
    return np.sum(np.sin(x), axis=1)


@peer(lambda rng: (v(rng, 1, 3),))
def singleton_axis_kept(x):
    return np.sum(np.sin(x), axis=0, keepdims=True)


@peer(lambda rng: (v(rng, 4), v(rng, 4)), wrt=(0, 1))
def tuple_of_arrays_from_helper(x, y):
    n, unit = _norm_and_unit(x * y)
    return unit, n


@peer(lambda rng: (v(rng, 4),), jit=True)
def array_output_from_loop(x):
    out = np.zeros(4)
    acc = 0.0
    for i in range(4):
        acc = acc + x[i]
        out[i] = acc * x[i]
    return out


@peer(lambda rng: (sgn(rng), sgn(rng)), wrt=(0, 1))
def array_built_from_scalars(a, b):
    return np.array([a * b, a + b, a - b * b])


# ---------------------------------------------------------------------------------------------
# Indexing and slicing patterns


@peer(lambda rng: (v(rng, 6),))
def index_first_last(x):
    return x[0] * x[-1] + x[-2] * x[1]


@peer(lambda rng: (v(rng, 6), 2), wrt=0)
def index_computed_from_int(x, k):
    return x[k] * x[k + 1] + x[len(x) - k - 1]


@peer(lambda rng: (v(rng, 9),))
def slice_with_steps(x):
    return np.sum(x[::2][:4] * x[1::2]) + np.sum(x[1:7:3] ** 2)


@peer(lambda rng: (v(rng, 7),), jit=True)
def slice_reversed(x):
    return np.sum(x * x[::-1] * np.arange(7.0))


@peer(lambda rng: (v(rng, 8),))
def slice_negative_bounds(x):
    return np.sum(x[-3:] * x[:3]) + np.sum(x[-5:-1:2])


@peer(lambda rng: (v(rng, 9),))
def slice_negative_step_with_bounds(x):
    return np.sum(x[7:1:-2] * np.array([1.0, 2.0, 3.0]))


@peer(lambda rng: (v(rng, 4, 5),))
def slice_2d_rows_and_columns(x):
    return np.sum(x[1, :] * x[:, 2][0]) + np.sum(x[:, ::2] ** 2) + np.sum(x[::-1, 1:4] * x[:, :3])


@peer(lambda rng: (v(rng, 3, 4, 2),))
def ellipsis_and_newaxis(x):
    y = x[..., 0] * x[..., 1]
    z = y[:, None, :] * y[None, :, :]
    return np.sum(z)


@peer(lambda rng: (v(rng, 10),))
def laplacian_stencil(x):
    lap = x[:-2] - 2.0 * x[1:-1] + x[2:]
    return np.sum(lap * lap)


@peer(lambda rng: (v(rng, 5, 5),))
def laplacian_2d(u):
    lap = u[1:-1, :-2] + u[1:-1, 2:] + u[:-2, 1:-1] + u[2:, 1:-1] - 4.0 * u[1:-1, 1:-1]
    return np.sum(lap ** 2)


@peer(lambda rng: (v(rng, 4, 4),), jit=True)
def double_loop_index_2d(a):
    total = 0.0
    for i in range(4):
        for j in range(i, 4):
            total += a[i, j] * a[j, i] * (1.0 + i)
    return total


@peer(lambda rng: (v(rng, 6),))
def fancy_index_with_repeats(x):
    idx = np.array([0, 2, 2, 5, 0])
    return np.sum(x[idx] ** 2 * np.arange(1.0, 6.0))


@peer(lambda rng: (away(rng, 8),))
def boolean_mask_read(x):
    return np.sum(x[x > 0] ** 2) - np.sum(x[x < 0] ** 3)


@peer(lambda rng: (distinct(rng, 6),))
def gather_by_argsort(x):
    order = np.argsort(x)
    return np.sum(x[order] * np.arange(6.0))


@peer(lambda rng: (distinct(rng, 3, 4),))
def gather_row_argmax(x):
    cols = np.argmax(x, axis=1)
    return np.sum(x[np.arange(3), cols] ** 2)


@peer(lambda rng: (v(rng, 4, 3), np.array([2, 0, 1, 2])), wrt=0)
def cross_entropy_integer_labels(logits, labels):
    m = np.max(logits, axis=1, keepdims=True)
    z = logits - m
    logp = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    return -np.mean(logp[np.arange(4), labels])


@peer(lambda rng: (v(rng, 2, 3, 4),))
def integer_index_middle_axis(x):
    return np.sum(x[:, 1, :] * x[1, :, 2][:, None].T[0, 0])


@peer(lambda rng: (v(rng, 5),))
def index_with_numpy_int(x):
    k = np.argmin(np.abs(x - 10.0))
    return x[k] * x[(k + 1) % 5]


@peer(lambda rng: (v(rng, 6),))
def reshape_then_index(x):
    m = x.reshape(2, 3)
    return m[1, 2] * m[0, 0] + np.sum(m[:, 1])


# ---------------------------------------------------------------------------------------------
# In-place updates and aliasing


@peer(lambda rng: (v(rng, 4),))
def argument_written_in_place(x):
    a = x[0]
    b = x[1]
    x[0] = a * b
    return np.sum(x * x)


@peer(lambda rng: (v(rng, 4),))
def overwrite_from_squared_copy(x):
    y = x ** 2.0
    x[0] = y[1] * y[2]
    return np.sum(x * y)


@peer(lambda rng: (v(rng, 5),), jit=True)
def copy_then_increment_element(x):
    y = x.copy()
    y[0] += y[1] * y[2]
    y[3] *= y[0]
    return np.sum(y * y)


@peer(lambda rng: (v(rng, 4),))
def augmented_multiply_through_alias(x):
    y = x * 1.0
    z = y
    z *= 2.0
    return np.sum(y * x)


@peer(lambda rng: (v(rng, 4),))
def augmented_add_on_argument(x):
    x += 1.0
    return np.sum(x * x)


@peer(lambda rng: (v(rng, 4),), jit=True)
def alias_of_argument_augmented(x):
    y = x
    y *= 3.0
    return np.sum(x)


@peer(lambda rng: (v(rng, 3, 3),))
def row_view_written(a):
    b = a * 1.0
    row = b[0]
    row *= 2.0
    return np.sum(b * b)


@peer(lambda rng: (v(rng, 3, 3),))
def row_view_element_assigned(a):
    b = a * 1.0
    row = b[1]
    row[0] = 7.0
    return np.sum(b * a)


@peer(lambda rng: (v(rng, 3, 3),))
def transposed_view_written(a):
    b = a + 0.0
    t = b.T
    t[0, 1] = t[0, 1] * 5.0
    return np.sum(b * b)


@peer(lambda rng: (v(rng, 5), sgn(rng)), wrt=(0, 1))
def write_scalar_into_zeros_alias(x, a):
    out = np.zeros(5)
    other = out
    other[2] = a
    return np.sum(out * x)


@peer(lambda rng: (v(rng, 6),), jit=True)
def overlapping_slice_augmented(x):
    y = x * 1.0
    y[1:] += y[:-1]
    return np.sum(y * y)


@peer(lambda rng: (v(rng, 6),), hessian=True)
def overlapping_slice_assign(x):
    y = x * 1.0
    y[1:] = y[:-1] * 2.0
    return np.sum(y * x)


@peer(lambda rng: (v(rng, 4),))
def slice_assign_then_read(x):
    out = np.zeros(8)
    out[::2] = x
    out[1::2] = -x * x
    return np.sum(out * np.arange(8.0))


@peer(lambda rng: (v(rng, 6),))
def reversed_slice_assign(x):
    y = np.zeros(6)
    y[::-1] = x * 2.0
    return np.sum(y * np.arange(6.0))


@peer(lambda rng: (v(rng, 4), v(rng, 3)), wrt=(0, 1), jit=True)
def broadcast_row_assignment(x, b):
    out = np.zeros((4, 3))
    out[:] = b
    out[1] = x[:3]
    out[:, 0] = x
    return np.sum(out * out)


@peer(lambda rng: (v(rng, 3, 3),))
def swap_rows_with_fancy_index(a):
    b = a * 1.0
    b[[0, 1]] = b[[1, 0]]
    return np.sum(b * np.arange(9.0).reshape(3, 3))


@peer(lambda rng: (v(rng, 3, 3),))
def swap_rows_with_temp(a):
    b = a.copy()
    tmp = b[0].copy()
    b[0] = b[2]
    b[2] = tmp
    return np.sum(b * np.arange(9.0).reshape(3, 3))


@peer(lambda rng: (v(rng, 8), s(rng, 0.3, 0.9)), wrt=(0, 1), jit=True, hessian=True)
def iir_filter_in_place(x, a):
    y = np.zeros(8)
    y[0] = x[0]
    for i in range(1, 8):
        y[i] = a * y[i - 1] + x[i]
    return np.sum(y * y)


@peer(lambda rng: (v(rng, 5, 3),), jit=True)
def rnn_hidden_state_table(inputs):
    w = np.array([[0.5, -0.2, 0.1], [0.3, 0.4, -0.6], [-0.1, 0.2, 0.3]])
    h = np.zeros((6, 3))
    for t in range(5):
        h[t + 1] = np.tanh(inputs[t] @ w + h[t])
    return np.sum(h[1:])


@peer(lambda rng: (v(rng, 6),), jit=True)
def prefix_max_in_place(x):
    y = x.copy()
    for i in range(1, 6):
        y[i] = max(y[i], y[i - 1] * 0.5)
    return np.sum(y * y)


@peer(lambda rng: (away(rng, 5),))
def mask_write_in_place(x):
    y = x * 2.0
    y[y < 0] = 0.0
    return np.sum(y * x)


@peer(lambda rng: (v(rng, 4, 3), v(rng, 3)), wrt=(0, 1))
def in_place_broadcast_add(a, b):
    y = a * 1.0
    y += b
    y *= b
    return np.sum(y)


@peer(lambda rng: (v(rng, 4), sgn(rng)), wrt=(0, 1), jit=True)
def element_overwritten_in_loop(x, a):
    y = x.copy()
    for _ in range(3):
        y[1] = y[1] * a + y[0]
        y[0] = y[1] - y[0]
    return np.sum(y)


@peer(lambda rng: (v(rng, 4),))
def in_place_on_empty(x):
    y = np.empty(4)
    for i in range(4):
        y[i] = x[i] * x[(i + 1) % 4]
    return np.sum(y)


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


# ---------------------------------------------------------------------------------------------
# More in-place, aliasing and control-flow patterns


@peer(lambda rng: (v(rng, 4),))
def fancy_augmented_with_repeats(x):
    y = np.zeros(3)
    idx = np.array([0, 0, 2, 1])
    y[idx] += x
    return np.sum(y * np.array([1.0, 2.0, 3.0]))


@peer(lambda rng: (v(rng, 4),))
def fancy_assign_with_repeats(x):
    y = np.zeros(3)
    idx = np.array([0, 0, 2, 1])
    y[idx] = x
    return np.sum(y * np.array([1.0, 2.0, 3.0]))


@peer(lambda rng: (v(rng, 5),))
def overlapping_window_accumulate(x):
    out = np.zeros(6)
    for i in range(5):
        out[i:i + 2] += x[i] * np.array([1.0, -0.5])
    return np.sum(out * out)


@peer(lambda rng: (v(rng, 6),))
def strided_slice_augmented(x):
    y = np.ones(6)
    y[::2] += x[:3]
    y[1::2] *= x[3:]
    return np.sum(y * y)


@peer(lambda rng: (v(rng, 3, 3), v(rng, 2, 2)), wrt=(0, 1))
def block_write_2d(a, b):
    m = a.copy()
    m[1:, :2] = b
    m[0, ::2] *= 3.0
    return np.sum(m * m)


@peer(lambda rng: (v(rng, 4),))
def builtin_sum_of_array(x):
    return sum(x * x)


@peer(lambda rng: (away(rng, 5),))
def multiply_by_boolean_mask(x):
    return np.sum(x * x * (x > 0))


@peer(lambda rng: (away(rng, 5),))
def where_with_int_zero(x):
    return np.sum(np.where(x > 0, x, 0) ** 2) + np.sum(np.maximum(x, 0))


@peer(lambda rng: (v(rng, 4),))
def dot_same_argument(x):
    return np.dot(x, x) + x @ x + np.sum(np.outer(x, x)) + np.einsum("i,i->", x, x)


@peer(lambda rng: (v(rng, 6),))
def split_then_unpack(x):
    a, b = np.split(x, 2)
    return np.sum(a * b)


@peer(lambda rng: (v(rng, 3, 2),))
def iterate_transposed(a):
    total = 0.0
    for col in a.T:
        total += np.sum(col) ** 2
    return total


@peer(lambda rng: (v(rng, 5),))
def while_any_condition(x):
    y = x * 1.0
    k = 0
    while np.any(np.abs(y) > 0.1) and k < 20:
        y = y * 0.5
        k += 1
    return np.sum(y)


@peer(lambda rng: (v(rng, 5),))
def loop_conditionally_defines(x):
    last = 0.0
    for i in range(5):
        if x[i] > -10.0:
            last = x[i] * x[i]
    return last


@peer(lambda rng: (v(rng, 4),))
def loop_local_read_after_loop(x):
    for i in range(4):
        t = x[i] * 2.0
    return t * x[0]


@peer(lambda rng: (v(rng, 3, 3),), jit=True)
def nested_break_with_writes(a):
    b = a.copy()
    for i in range(3):
        for j in range(3):
            if j > i:
                break
            b[i, j] = b[i, j] * b[j, i]
    return np.sum(b)


@peer(lambda rng: (v(rng, 6),), jit=True)
def while_with_writes(x):
    y = x.copy()
    i = 0
    while i < 5:
        y[i + 1] = y[i + 1] + y[i] * 0.5
        i += 1
    return np.sum(y * y)


@peer(lambda rng: (v(rng, 5),))
def while_continue(x):
    i = 0
    total = 0.0
    while i < 5:
        i += 1
        if i == 2:
            continue
        total += x[i - 1] ** 2
    return total


def _loop_helper(x, k):
    for i in range(len(x)):
        if x[i] > k:
            return x[i] * k
    return k * 0.0


@peer(lambda rng: (v(rng, 5),))
def helper_with_early_return_called_in_loop(x):
    total = 0.0
    for j in range(3):
        total += _loop_helper(x, j * 0.3 - 0.5)
    return total


WEIGHTS = np.array([0.5, -1.0, 2.0])


def _with_global_default(x, w=WEIGHTS):
    return np.sum(x * w)


@peer(lambda rng: (v(rng, 3),))
def helper_with_array_default(x):
    return _with_global_default(x) * _with_global_default(x, x)


def _unpack_pair(pair):
    a, b = pair
    return a * b


@peer(lambda rng: (sgn(rng), sgn(rng)), wrt=(0, 1))
def helper_takes_tuple(a, b):
    return _unpack_pair((a, b)) + a


def _maybe_pair(a):
    if a > 0:
        return a, a * a
    return a * a, a


@peer(lambda rng: (sgn(rng),))
def helper_conditional_tuple_return(a):
    x, y = _maybe_pair(a)
    return x * 3.0 + y


@peer(lambda rng: (v(rng, 4),))
def loop_returns_tuple(x):
    a = 0.0
    b = 1.0
    for xi in x:
        a = a + xi
        b = b * (1.0 + 0.1 * xi)
    return a, b


@peer(lambda rng: (v(rng, 4),))
def rebinding_to_reversed_view(x):
    x = x[::-1]
    y = x * np.arange(4.0)
    x = y.copy()
    x[0] += 1.0
    return np.sum(x * y)


@peer(lambda rng: (v(rng, 4),))
def float_of_sum_times_mean_axis0(x):
    return float(np.sum(x)) * np.mean(x, axis=0)


@peer(lambda rng: (v(rng, 3, 4),))
def squeeze_newaxis_roundtrip(x):
    return np.sum(np.squeeze(x[:, None, :]) * x[np.newaxis][0])


@peer(lambda rng: (v(rng, 5),))
def in_place_tape_in_loop(x):
    y = x.copy()
    for k in range(3):
        for i in range(5):
            y[i] = math.sin(y[i]) + 0.1 * y[(i + 1) % 5]
    return np.sum(y)


@peer(lambda rng: (v(rng, 4), v(rng, 4)), wrt=(0, 1))
def swap_arrays_in_loop(x, y):
    for _ in range(3):
        x, y = y * 0.5, x + y
    return np.sum(x * y)


@peer(lambda rng: (v(rng, 4),))
def array_rebound_in_branch_then_written(x):
    if x[0] > -10.0:
        y = x * 2.0
    else:
        y = x
    y[1] = 0.0
    return np.sum(y * x)


@peer(lambda rng: (v(rng, 4),))
def array_alias_in_other_branch(x):
    z = x * 1.0
    if x[0] > 10.0:
        y = x * 2.0
    else:
        y = z
    y[1] = 0.0
    return np.sum(z * x)


@peer(lambda rng: (v(rng, 4),), hessian=True)
def accumulate_into_row_of_2d_in_loop(x):
    m = np.zeros((2, 4))
    for i in range(4):
        m[0] += x * x[i]
        m[1, i] = m[0, i]
    return np.sum(m * m)


@peer(lambda rng: (v(rng, 3),))
def copy_of_argument_written(x):
    y = np.copy(x)
    y[0] = 5.0
    return np.sum(y * x)


@peer(lambda rng: (v(rng, 3),))
def asarray_alias_written(x):
    z = x * 1.0
    y = np.asarray(z)
    y[0] = 5.0
    return np.sum(z * x)


@peer(lambda rng: (v(rng, 6),))
def reshape_view_written(x):
    z = x * 1.0
    m = z.reshape(2, 3)
    m[0, 0] = 5.0
    return np.sum(z * x)


@peer(lambda rng: (v(rng, 4),))
def ravel_then_augmented(x):
    z = x.reshape(2, 2) * 1.0
    f = z.ravel()
    f += 1.0
    return np.sum(z * z)


@peer(lambda rng: (v(rng, 3),))
def float_int_mixed_power(x):
    n = 3
    return np.sum(x ** n + n ** x)


@peer(lambda rng: (v(rng, 4),))
def tuple_of_scalars_and_slice(x):
    return x[0], x[1] * 2.0, x[2:]


@peer(lambda rng: (v(rng, 3),))
def slice_augmented_multiply(x):
    y = np.ones(4)
    y[1:3] *= x[:2]
    return np.sum(y * y)


# ---------------------------------------------------------------------------------------------
# Names local to a loop or a branch, read later; swaps



@peer(lambda rng: (v(rng, 4),))
def while_local_read_after(x):
    i = 0
    while i < 3:
        t = x[i] * 2.0
        i += 1
    return t * x[0]


@peer(lambda rng: (v(rng, 4),))
def for_elements_local_read_after(x):
    for xi in x:
        t = xi * xi
    return t


@peer(lambda rng: (v(rng, 4),))
def loop_local_in_branch_read_after(x):
    t = 0.0
    for i in range(4):
        if i == 2:
            u = x[i] * 3.0
        t = t + x[i]
    return t * u


@peer(lambda rng: (v(rng, 4),))
def nested_loop_local_read_after(x):
    for i in range(2):
        for j in range(2):
            t = x[i] * x[j + 2]
    return t


@peer(lambda rng: (v(rng, 4),))
def loop_local_array_read_after(x):
    for i in range(3):
        y = x * (i + 1.0)
    return np.sum(y * y)


@peer(lambda rng: (v(rng, 4),))
def loop_break_local_read_after(x):
    for i in range(4):
        t = x[i] * 2.0
        if i == 2:
            break
    return t * t


@peer(lambda rng: (v(rng, 4),))
def loop_local_also_used_inside(x):
    acc = 0.0
    for i in range(4):
        t = x[i] * 2.0
        acc = acc + t * t
    return acc + t


@peer(lambda rng: (s(rng), 3), wrt=0)
def loop_local_sine_then_update(a, n):
    for _ in range(n):
        b = math.sin(a)
        a = a * 0.5 + b
    return b


@peer(lambda rng: (v(rng, 5),))
def for_range_zero_trip_then_use(x):
    t = x[0]
    for i in range(0):
        t = x[i]
    return t * 2.0


@peer(lambda rng: (v(rng, 4),))
def return_inside_nested_loop(x):
    for i in range(4):
        for j in range(4):
            if i + j == 3:
                return x[i] * x[j]
    return 0.0


@peer(lambda rng: (v(rng, 4),))
def if_defines_in_both_then_loop(x):
    if x[0] > -5.0:
        y = x * 2.0
    else:
        y = x * 3.0
    for i in range(3):
        y = y + x[i]
    return np.sum(y * y)


@peer(lambda rng: (v(rng, 4),))
def elif_chain_local_defs(x):
    total = 0.0
    for i in range(4):
        if x[i] > 0.5:
            w = 2.0 * x[i]
        elif x[i] > -0.5:
            w = x[i] * x[i]
        else:
            w = -x[i]
        total += w
    return total


@peer(lambda rng: (v(rng, 3), v(rng, 3)), wrt=(0, 1))
def conditional_swap_of_arrays(x, y):
    if np.sum(x) > np.sum(y):
        x, y = y, x
    return np.sum(x * 2.0 + y * y)


@peer(lambda rng: (v(rng, 4),))
def loop_writes_then_reads_other_array(x):
    a = np.zeros(4)
    b = np.zeros(4)
    for i in range(4):
        a[i] = x[i] * 2.0
        b[i] = a[i] * a[(i + 3) % 4]
    return np.sum(b)


@peer(lambda rng: (v(rng, 5),))
def while_with_break_and_array_write(x):
    y = x.copy()
    i = 0
    while True:
        y[i] = y[i] * y[i + 1]
        i += 1
        if i >= 4:
            break
    return np.sum(y)


@peer(lambda rng: (s(rng, 0.5, 1.0),))
def while_loop_local_then_after(a):
    k = 0
    while k < 5:
        b = a * (k + 1)
        a = a + 0.1 * b
        k += 1
    return a * b


@peer(lambda rng: (v(rng, 3),))
def tuple_return_from_loop_locals(x):
    for i in range(3):
        a = x[i] * 2.0
        b = x[i] * x[0]
    return a, b


@peer(lambda rng: (v(rng, 4),))
def continue_skips_local_def(x):
    t = 0.0
    for i in range(4):
        if i == 3:
            continue
        t = x[i] * x[i]
    return t


@peer(lambda rng: (v(rng, 4),))
def enumerate_local_read_after(x):
    for i, xi in enumerate(x):
        t = xi * (i + 1.0)
    return t


@peer(lambda rng: (v(rng, 3), v(rng, 3)), wrt=(0, 1))
def zip_local_read_after(x, y):
    for a, b in zip(x, y):
        t = a * b
    return t


@peer(lambda rng: (sgn(rng), sgn(rng)), wrt=(0, 1))
def swap_names_plain(a, b):
    a, b = b, a
    return a * 2.0 + b * b


@peer(lambda rng: (sgn(rng), sgn(rng)), wrt=(0, 1))
def swap_names_in_loop(a, b):
    for _ in range(3):
        a, b = b, a
    return a * 2.0 + b * b


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
