"""A zoo of small numeric functions, written the way users write them, for the gradient tests.

Takes nothing; defines functions. Each public function here is registered with :func:`zoo`, which
records, in :data:`ZOO`, an :class:`Entry` with:

- ``fn``: the function itself (unchanged: the decorator returns it as it was);
- ``args``: ``rng -> tuple`` drawing one random argument tuple *inside the function's domain* —
  positive where ``log``/``sqrt`` need it, away from kinks (``abs``, ``min``, ``max``) and
  discontinuities (``//``, ``%``, ``floor``, branch conditions) by a fixed margin, away from 0
  for division, and with Python ``int`` values for counts such as ``n``;
- ``wrt``: what the tests differentiate with respect to (int, name, or tuple of them);
- ``points``: explicit argument tuples tested besides the random draws, where the draws would
  miss an arm of a branch (every arm of every ``if`` and conditional expression must run at some
  test point: ``test_every_branch_arm_runs``);
- ``unreachable``: ``{(condition, arm): reason}`` for an arm no valid test point can take (a tie
  where the function jumps, so finite differences cannot check it there).

Helpers whose names start with ``_`` are plain user functions that zoo entries call; they are not
entries themselves. Derivative conventions the zoo relies on: ``a // b`` has zero derivative;
``a % b`` has derivative 1 with respect to ``a`` and ``-floor(a / b)`` with respect to ``b``.

Adding an op: add one small function here with a generator that stays in its domain.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Entry:
    """One zoo function and how to test it."""

    name: str
    fn: object
    args: object  # rng -> tuple of arguments
    wrt: object = 0
    points: tuple = ()  # explicit argument tuples, tested besides the random draws
    unreachable: tuple = ()  # ((condition, arm, reason), ...)

    def __repr__(self):
        return f"<zoo {self.name}>"


ZOO: list[Entry] = []


def zoo(*, args, wrt=0, name=None, points=(), unreachable=None):
    """Register the decorated function as a zoo entry (see the module docstring)."""
    unreachable = tuple((text, arm, why) for (text, arm), why in (unreachable or {}).items())

    def register(fn):
        entry = Entry(name or fn.__name__, fn, args, wrt, tuple(points), unreachable)
        if any(e.name == entry.name for e in ZOO):
            raise ValueError(f"duplicate zoo entry {entry.name!r}")
        ZOO.append(entry)
        return fn

    return register


def by_name(name):
    """The zoo entry called ``name``."""
    for entry in ZOO:
        if entry.name == name:
            return entry
    raise KeyError(name)


# ---------------------------------------------------------------------------------------------
# Argument generators. Every one takes a numpy Generator and returns floats, ints or arrays.


def u(rng, lo=0.5, hi=2.0):
    """A float uniformly in [lo, hi)."""
    return float(rng.uniform(lo, hi))


def pm(rng, lo=0.5, hi=2.0):
    """A float whose magnitude is in [lo, hi), with a random sign (so away from 0)."""
    return float(rng.choice([-1.0, 1.0]) * rng.uniform(lo, hi))


def region(rng, *intervals):
    """A float drawn from one of ``intervals`` (chosen at random): keeps branch points away."""
    lo, hi = intervals[int(rng.integers(len(intervals)))]
    return float(rng.uniform(lo, hi))


def off_integer(rng, lo, hi):
    """A float in [lo, hi] whose fractional part is in [0.2, 0.8] (away from floor jumps)."""
    return float(int(rng.integers(lo, hi)) + rng.uniform(0.2, 0.8))


def apart(rng, k, lo=0.5, hi=2.0, gap=0.3):
    """``k`` floats in [lo, hi) pairwise at least ``gap`` apart (away from ties of min/max)."""
    while True:
        values = rng.uniform(lo, hi, size=k)
        diffs = np.abs(values[:, None] - values[None, :]) + np.eye(k) * gap
        if np.all(diffs >= gap):
            return tuple(float(v) for v in values)


def vec(rng, n=4, lo=0.5, hi=2.0):
    """A float64 array of ``n`` values in [lo, hi)."""
    return rng.uniform(lo, hi, size=n)


def signed_vec(rng, n=4, lo=0.3, hi=2.0):
    """A float64 array of ``n`` values of random sign with magnitudes in [lo, hi)."""
    return rng.choice([-1.0, 1.0], size=n) * rng.uniform(lo, hi, size=n)


def mat(rng, shape, lo=0.5, hi=2.0):
    """A float64 array of the given shape with values in [lo, hi)."""
    return rng.uniform(lo, hi, size=shape)


def vec_pair_apart(rng, n=4):
    """Two arrays that differ by at least 0.3 in every element (away from ties)."""
    x = vec(rng, n)
    return x, x + signed_vec(rng, n, 0.3, 1.0)


# ---------------------------------------------------------------------------------------------
# Assignment and tuple unpacking


@zoo(args=lambda rng: (u(rng),))
def poly(x):
    return x**2 + 3 * x + 1


@zoo(args=lambda rng: (u(rng), u(rng)), wrt=(0, 1))
def assign_chain(x, y):
    a = x * y
    b = a + x
    c = b * a - y
    return c


@zoo(args=lambda rng: (pm(rng),))
def reassign(x):
    y = x
    y = y * y
    y = y + x
    y = y * x
    return y


@zoo(args=lambda rng: (u(rng), u(rng)), wrt=("x", "y"))
def tuple_unpack(x, y):
    a, b = x, y * 2.0
    return a * b + a


@zoo(args=lambda rng: (u(rng), u(rng)), wrt=(0, 1))
def swap_unpack(x, y):
    a, b = x, y
    a, b = b, a * b
    return a - b * a


@zoo(args=lambda rng: (u(rng), u(rng)), wrt=(0, 1))
def nested_unpack(x, y):
    (a, b), c = (x, y), x * y
    return a * c + b


@zoo(args=lambda rng: (u(rng), u(rng)), wrt=(0, 1))
def chained_assign(x, y):
    a = b = x * y
    a = a + x
    return a * b


@zoo(args=lambda rng: (u(rng), u(rng)), wrt=(0, 1))
def unused_and_dead(x, y):
    unused = x * 100.0  # noqa: F841 - dead code on purpose
    z = y * y
    z = x * z
    return z


# ---------------------------------------------------------------------------------------------
# Several return points


@zoo(args=lambda rng: (pm(rng),))
def two_returns(x):
    if x > 0:
        return x * x
    return -3.0 * x


@zoo(args=lambda rng: (region(rng, (-2.0, -0.3), (0.2, 0.8), (1.2, 2.0)),))
def three_returns(x):
    if x < 0.0:
        return x * x * x
    elif x < 1.0:
        return 2.0 * x
    else:
        return math.sqrt(x) + x


@zoo(args=lambda rng: (u(rng), region(rng, (0.2, 0.7), (1.3, 2.0))), wrt=(0, 1),
     points=[(0.8, 1.6)])
def returns_in_both_branches(x, y):
    z = x * y
    if y > 1.0:
        return z - x
    else:
        return z + y


# ---------------------------------------------------------------------------------------------
# Arithmetic operators


@zoo(args=lambda rng: (pm(rng), pm(rng)), wrt=(0, 1))
def arithmetic_mix(x, y):
    return (x + y) * (x - y) / (x * y) + x / 4 - 2 / y


@zoo(args=lambda rng: (u(rng), u(rng, -2.0, 2.0)), wrt=(0, 1))
def power_xy(x, y):
    return x**y


@zoo(args=lambda rng: (pm(rng),))
def power_int(x):
    return x**3 - 2 * x**2 + x**1


@zoo(args=lambda rng: (u(rng),))
def power_fractional(x):
    return x**0.5 + x**-1.5 + x**2.5


@zoo(args=lambda rng: (u(rng, -1.0, 1.0),))
def power_base_constant(x):
    return 2.0**x + 10**x * 0.1


@zoo(args=lambda rng: (pm(rng), pm(rng)), wrt=(0, 1))
def unary_minus(x, y):
    return -x * -y + -(x * y) + -(x**2)


@zoo(args=lambda rng: (pm(rng), pm(rng)), wrt=(0, 1))
def divide(x, y):
    return 1.0 / x + y / (x * x) - x / y


@zoo(args=lambda rng: (u(rng),))
def int_constants(x):
    return 3 * x + x / 2 - 1 + 2 * x * x


def _floordiv_args(rng):
    y = u(rng, 0.5, 1.5)
    return y * off_integer(rng, 1, 4), y


@zoo(args=_floordiv_args, wrt=(0, 1))
def floordiv(x, y):
    return (x // y) * x + y


@zoo(args=lambda rng: (0.5 * off_integer(rng, 1, 6),))
def floordiv_constant(x):
    return (x // 0.5) * x + x


@zoo(args=_floordiv_args, wrt=(0, 1))
def modulo(a, b):
    return a % b


@zoo(args=lambda rng: tuple(v * s for v, s in zip(_floordiv_args(rng), (-1.0, 1.0))),
     wrt=(0, 1))
def modulo_negative_dividend(a, b):
    return (a % b) * b


@zoo(args=lambda rng: (off_integer(rng, 0, 3),))
def modulo_constant(x):
    return (x % 1.0) * x


# ---------------------------------------------------------------------------------------------
# Comparisons and boolean operators in conditions


@zoo(args=lambda rng: (region(rng, (0.5, 0.8), (1.2, 2.0)), region(rng, (0.5, 0.8), (1.2, 2.0))),
     wrt=(0, 1), points=[(1.5, 0.6)])
def and_condition(x, y):
    if x > 1.0 and y < 1.0:
        return x * y
    return x + y * y


@zoo(args=lambda rng: (pm(rng), pm(rng)), wrt=(0, 1), points=[(1.2, 0.7)])
def or_condition(x, y):
    if x < 0.0 or y < 0.0:
        return x * x + y
    return x * y


@zoo(args=lambda rng: (region(rng, (0.2, 0.8), (1.2, 2.0)),))
def not_condition(x):
    if not x > 1.0:
        return x**3
    return 2.0 * x


_TIE = "only at a tie x == y, where the function jumps (finite differences cannot check it)"


@zoo(args=lambda rng: apart(rng, 2), wrt=(0, 1),
     unreachable={("x != y", False): _TIE, ("x == y", True): _TIE})
def comparison_operators(x, y):
    s = 0.0
    if x >= y:
        s += x
    if x <= y:
        s += y * y
    if x != y:
        s += x * y
    if x == y:
        s -= 100.0
    return s


@zoo(args=lambda rng: (u(rng), int(rng.integers(2, 5))))
def int_equality(x, n):
    if n == 3:
        return x * n
    return x**2


@zoo(args=lambda rng: (pm(rng), pm(rng), pm(rng)), wrt=(0, 1, 2))
def boolean_mix(x, y, z):
    if (x > 0 and y > 0) or not z > 0:
        return x * y * z
    return x + y + z


# ---------------------------------------------------------------------------------------------
# if / elif / else, conditional expressions, chained comparisons


@zoo(args=lambda rng: (region(rng, (-2.0, -1.2), (-0.8, -0.2), (0.2, 0.8), (1.2, 2.0)),),
     points=[(-1.6,), (-0.5,), (0.5,), (1.5,)])
def piecewise(x):
    if x < -1.0:
        y = -x
    elif x < 0.0:
        y = x * x
    elif x < 1.0:
        y = math.sin(x)
    else:
        y = x**0.5
    return y * 2.0


@zoo(args=lambda rng: (pm(rng), pm(rng)), wrt=(0, 1), points=[(1.1, 0.9), (-0.7, 1.4)])
def nested_if(x, y):
    if x > 0:
        if y > 0:
            z = x * y
        else:
            z = x - y
    else:
        if y > 0:
            z = x + y * y
        else:
            z = x * x * y
    return z + x


@zoo(args=lambda rng: (region(rng, (0.2, 0.8), (1.2, 2.0)),))
def if_without_else(x):
    y = x * 2.0
    if x > 1.0:
        y = y * x
    return y + x


@zoo(args=lambda rng: apart(rng, 2), wrt=(0, 1))
def if_assigns_used_later(x, y):
    if x > y:
        a = x
        b = y
    else:
        a = y
        b = x
    return a * a + b


@zoo(args=lambda rng: (pm(rng),))
def ternary(x):
    y = x * x if x > 0 else -2.0 * x
    return y + x


@zoo(args=lambda rng: (region(rng, (-2.0, -0.2), (0.2, 0.8), (1.2, 2.0)),), points=[(0.6,)])
def nested_ternary(x):
    return x if x > 1.0 else (x * x if x > 0.0 else -2.0 * x)


@zoo(args=lambda rng: apart(rng, 2), wrt=(0, 1))
def ternary_in_expression(x, y):
    return 2.0 * (x if x > y else y) + x * y  # noqa: FURB136 - the ternary is the test


@zoo(args=lambda rng: (region(rng, (-1.0, -0.2), (0.2, 0.8), (1.2, 2.0)),), points=[(0.4,)])
def chained_comparison(x):
    if 0.0 < x < 1.0:
        return x * (1.0 - x)
    return x * x


def _three_apart_shuffled(rng):
    values = list(apart(rng, 3))
    rng.shuffle(values)
    return tuple(values)


@zoo(args=_three_apart_shuffled, wrt=(0, 1, 2))
def chained_comparison_three(a, b, c):
    if a < b <= c:
        return a * b * c
    return a + b + c


# ---------------------------------------------------------------------------------------------
# Augmented assignment


@zoo(args=lambda rng: (u(rng), u(rng)), wrt=(0, 1))
def augmented_all(x, y):
    s = x
    s += y
    s *= x
    s -= 1.0
    s /= y
    s **= 2
    return s


@zoo(args=lambda rng: (region(rng, (0.3, 0.4), (1.05, 1.15)),))
def augmented_floordiv_modulo(x):
    s = x * 3.0
    s %= 2.0
    t = x
    t //= 0.5
    return s * t + x


@zoo(args=lambda rng: (vec(rng),))
def augmented_array(x):
    y = x * 1.0
    y += x * x
    y *= 2.0
    y -= x
    return np.sum(y * y)


# ---------------------------------------------------------------------------------------------
# for over range(...)


@zoo(args=lambda rng: (u(rng), int(rng.integers(3, 7))))
def range_loop(x, n):
    s = 0.0
    for i in range(n):
        s = s + x**i
    return s


@zoo(args=lambda rng: (u(rng),))
def range_start_stop(x):
    p = 1.0
    for i in range(2, 6):
        p = p * (x + i)
    return p


@zoo(args=lambda rng: (u(rng),))
def range_step(x):
    s = 0.0
    for i in range(1, 10, 3):
        s += math.sin(i * x)
    return s


@zoo(args=lambda rng: (u(rng),))
def range_negative_step(x):
    s = x
    for i in range(5, 0, -1):
        s = s * x + i
    return s


@zoo(args=lambda rng: (u(rng), int(rng.integers(3, 7))))
def range_down_to_zero(x, n):
    s = 0.0
    for i in range(n - 1, -1, -1):
        s = s * x + (i + 1)
    return s


@zoo(args=lambda rng: (u(rng),))
def range_negative_step_two(x):
    s = 0.0
    for i in range(10, 1, -2):
        s = 0.5 * s + x * i
    return s


@zoo(args=lambda rng: (u(rng),))
def zero_trip_loops(x):
    s = x * x
    for i in range(0):
        s = s * 100.0
    for i in range(5, 2):
        s = s + 100.0
    for i in range(2, 5, -1):
        s = s - x
    return s + x


@zoo(args=lambda rng: (u(rng), int(rng.choice([0, 1, 3]))))
def count_may_be_zero(x, n):
    s = x
    for i in range(n):
        s = s * x
    return s


@zoo(args=lambda rng: (u(rng),))
def loop_index_in_arithmetic(x):
    s = 0
    for k in range(1, 6):
        s += x**k / k
    return s


@zoo(args=lambda rng: (vec(rng),))
def range_len_of_array(x):
    s = 0.0
    for i in range(len(x)):
        s += (i + 1) * x[i] ** 2
    return s


# ---------------------------------------------------------------------------------------------
# for over the elements of a 1-D array


@zoo(args=lambda rng: (vec(rng),))
def for_elements(x):
    s = 0.0
    for v in x:
        s += v * v
    return s


@zoo(args=lambda rng: (signed_vec(rng),))
def for_elements_carried(x):
    s = 0.0
    for v in x:
        s = 0.5 * s + math.sin(v)
    return s


@zoo(args=lambda rng: (vec(rng), u(rng, 0.1, 0.5)), wrt=(0, 1))
def for_elements_with_scalar(x, w):
    s = 1.0
    for v in x:
        s = s * (1.0 + w * v)
    return s


# ---------------------------------------------------------------------------------------------
# while loops


@zoo(args=lambda rng: (u(rng, 1.2, 2.0),))
def while_data_dependent(x):
    s = x
    k = 0
    while s < 50.0:
        s = s * x + 1.0
        k += 1
    return s / k


@zoo(args=lambda rng: (u(rng), int(rng.integers(2, 6))))
def while_counter(x, n):
    i = 0
    s = 1.0
    while i < n:
        s = s * x + 0.5
        i += 1
    return s


@zoo(args=lambda rng: (u(rng, 0.5, 4.0),))
def newton_sqrt(a):
    y = a
    while abs(y * y - a) > 1e-12 * a:
        y = 0.5 * (y + a / y)
    return y


@zoo(args=lambda rng: (u(rng, 0.5, 1.5),))
def while_true_break(x):
    s = x
    while True:
        s = s * 1.3 + x
        if s > 20.0:
            break
    return s


# ---------------------------------------------------------------------------------------------
# break, continue, early return


@zoo(args=lambda rng: (u(rng, 0.5, 1.5), int(rng.integers(5, 9))))
def for_break(x, n):
    s = 0.0
    for i in range(n):
        s += x * (i + 1)
        if s > 4.0:
            break
    return s * x


@zoo(args=lambda rng: (u(rng), int(rng.integers(3, 7))))
def for_continue(x, n):
    s = 0.0
    for i in range(n):
        if i % 2 == 0:
            continue
        s += x**i
    return s


@zoo(args=lambda rng: (u(rng, 1.2, 2.0),))
def early_return_in_loop(x):
    s = 1.0
    for i in range(10):
        s = s * x
        if s > 5.0:
            return s - i
    return -s


def _mixed_signs(rng):
    x = signed_vec(rng, 6)
    x[int(rng.integers(1, 5))] = -u(rng, 0.3, 2.0)  # at least one negative, not always first
    return (x,)


@zoo(args=_mixed_signs)
def break_over_elements(x):
    s = 0.0
    for v in x:
        if v < 0.0:
            break
        s += v * v
    return s + x[0]


@zoo(args=_mixed_signs)
def continue_over_elements(x):
    s = 0.0
    for v in x:
        if v < 0.0:
            continue
        s += math.log(v)
    return s + np.sum(x)


@zoo(args=lambda rng: (vec(rng, 5),))
def early_return_nested(x):
    n = x.shape[0]
    s = 0.0
    for i in range(n):
        for j in range(i):
            s += x[i] * x[j]
            if s > 6.0:
                return s * x[j]
    return s


@zoo(args=lambda rng: (u(rng, 0.5, 1.5), int(rng.integers(2, 5))))
def while_with_continue(x, n):
    i = 0
    s = 0.0
    while i < 2 * n:
        i += 1
        if i % 3 == 0:
            continue
        s = s * x + i
    return s


# ---------------------------------------------------------------------------------------------
# Nested loops and loop-carried state


@zoo(args=lambda rng: (vec(rng, 3), vec(rng, 4)), wrt=(0, 1))
def nested_loops(x, y):
    s = 0.0
    for i in range(len(x)):
        for j in range(len(y)):
            s += x[i] * y[j] * (i - j)
    return s


@zoo(args=lambda rng: (vec(rng, 5),))
def triangular_loops(x):
    s = 0.0
    for i in range(len(x)):
        for j in range(i):
            s += x[i] * x[j]
    return s


@zoo(args=lambda rng: (mat(rng, (3, 4)), vec(rng, 4)), wrt=(0, 1))
def matvec_loops(A, x):
    n, m = A.shape
    s = 0.0
    for i in range(n):
        r = 0.0
        for j in range(m):
            r += A[i, j] * x[j]
        s += r * r
    return s


@zoo(args=lambda rng: (vec(rng, 5),))
def nested_break(x):
    s = 0.0
    for i in range(len(x)):
        for j in range(len(x)):
            if j > i:
                break
            s += x[i] * x[j] * (j + 1)
    return s


@zoo(args=lambda rng: (u(rng, 0.5, 1.0), int(rng.integers(3, 7))))
def fibonacci_like(x, n):
    a, b = 1.0, x
    for i in range(n):
        a, b = b, a + b * x
    return b


@zoo(args=lambda rng: (vec(rng, 6), u(rng, 0.1, 0.9)), wrt=(0, 1))
def moving_average(x, alpha):
    m = x[0]
    for i in range(1, len(x)):
        m = alpha * x[i] + (1.0 - alpha) * m
    return m


@zoo(args=lambda rng: (vec(rng, 5, -1.0, 1.0), u(rng, -1.5, 1.5)), wrt=(0, 1))
def horner(c, x):
    s = 0.0
    for i in range(len(c) - 1, -1, -1):
        s = s * x + c[i]
    return s


@zoo(args=lambda rng: (u(rng, 1.5, 2.5), u(rng, 0.2, 0.8), 6), wrt=(0, 1))
def logistic_map(r, x0, n):
    x = x0
    for i in range(n):
        x = r * x * (1.0 - x)
    return x


@zoo(args=lambda rng: (u(rng, -1.0, 1.0), signed_vec(rng, 5)), wrt=(0, 1))
def recurrent_cell(w, x):
    h = 0.0
    for i in range(len(x)):
        h = math.tanh(w * h + x[i])
    return h


# ---------------------------------------------------------------------------------------------
# Subscript reads


@zoo(args=lambda rng: (vec(rng, 4),))
def index_reads(x):
    return x[0] * x[1] + x[2] ** 2 - x[-1]


@zoo(args=lambda rng: (mat(rng, (2, 3)),))
def index_2d(A):
    return A[0, 1] * A[1, 0] + A[1, 2] ** 2 - A[-1, -1]


@zoo(args=lambda rng: (mat(rng, (3, 2)),))
def index_chained(A):
    return A[0][1] * A[1][0] + A[2][1] ** 2


@zoo(args=lambda rng: (signed_vec(rng, 5),))
def index_computed(x):
    s = 0.0
    for i in range(len(x) - 1):
        s += (x[i + 1] - x[i]) ** 2
    return s


@zoo(args=lambda rng: (vec(rng, 5), int(rng.integers(0, 4))))
def index_by_int_argument(x, k):
    return x[k] * x[k + 1]


# ---------------------------------------------------------------------------------------------
# Subscript writes (local arrays; the functions never write into their arguments)


@zoo(args=lambda rng: (signed_vec(rng),))
def write_into_zeros(x):
    n = len(x)
    out = np.zeros(n)
    for i in range(n):
        out[i] = x[i] ** 2 + 1.0
    return np.sum(out * out)


@zoo(args=lambda rng: (signed_vec(rng),))
def write_then_add(x):
    y = np.zeros_like(x)
    for i in range(len(x)):
        y[i] = math.sin(x[i])
        y[i] += x[i] * y[i]
    return np.sum(y)


@zoo(args=lambda rng: (signed_vec(rng),))
def overwrite_element_read_before(x):
    y = x * 1.0
    for i in range(len(y)):
        y[i] = y[i] * y[i] + 0.5
    return np.sum(y * x)


@zoo(args=lambda rng: (u(rng, 0.5, 1.2), int(rng.integers(2, 6))))
def overwrite_same_element_repeatedly(x, n):
    buf = np.zeros(1)
    buf[0] = x
    for i in range(n):
        buf[0] = buf[0] * x + 1.0
    return buf[0]


@zoo(args=lambda rng: (signed_vec(rng, 5),))
def prefix_sum_in_place(x):
    y = x * 1.0
    for i in range(1, len(y)):
        y[i] += y[i - 1]
    return np.sum(y * y)


@zoo(args=lambda rng: (signed_vec(rng, 3),))
def write_2d(x):
    n = len(x)
    A = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            A[i, j] = x[i] * x[j] + i
    return np.sum(A * A)


@zoo(args=lambda rng: (mat(rng, (2, 3)),))
def overwrite_2d_read_before(A):
    B = A * 1.0
    n, m = B.shape
    for i in range(n):
        for j in range(m):
            B[i, j] = B[i, j] * B[i, j] - A[i, j]
    return np.sum(B * A)


@zoo(args=lambda rng: (signed_vec(rng),))
def write_into_empty(x):
    out = np.empty(len(x))
    for i in range(len(x)):
        out[i] = math.exp(x[i])
    return np.sum(out) / len(x)


@zoo(args=lambda rng: (signed_vec(rng),))
def write_into_empty_like(x):
    out = np.empty_like(x)
    for i in range(len(x)):
        out[i] = x[i] * x[i] * x[i]
    return np.sum(out)


@zoo(args=lambda rng: (vec(rng, 3),))
def swap_elements(x):
    y = x * 1.0
    t = y[0]
    y[0] = y[1]
    y[1] = t * 2.0
    return y[0] * y[1] + y[2]


@zoo(args=lambda rng: (u(rng),))
def scalar_into_ones(x):
    y = np.ones(3)
    y[1] = x
    y[2] = x * y[1]
    return np.sum(y) ** 2


@zoo(args=lambda rng: (mat(rng, (3, 3)),))
def accumulate_2d_in_place(A):
    B = np.zeros((3, 3))
    for i in range(3):
        for j in range(3):
            B[i, j] += A[i, j] * A[j, i]
            B[i, j] += B[i, j] * A[i, j]
    return np.sum(B)


# ---------------------------------------------------------------------------------------------
# Calls to plain user-defined functions


def _square(v):
    return v * v


def _cube(v):
    return v * _square(v)


def _poly_helper(v):
    return _square(v) + 2.0 * _cube(v)


def _polar(x, y):
    return math.hypot(x, y), math.atan2(y, x)


def _scaled(v, k=2.0):
    return k * v


def _dot_loop(a, b):
    s = 0.0
    for i in range(len(a)):
        s += a[i] * b[i]
    return s


def _leaky(v):
    if v > 0:
        return v
    return 0.1 * v


@zoo(args=lambda rng: (pm(rng),))
def call_helper(x):
    return _square(x) + x


@zoo(args=lambda rng: (pm(rng), pm(rng)), wrt=(0, 1))
def call_helper_twice(x, y):
    return _square(x) + _square(x * y)


@zoo(args=lambda rng: (pm(rng),))
def call_two_levels(x):
    return _cube(x) - _square(x)


@zoo(args=lambda rng: (pm(rng),))
def call_three_levels(x):
    return _poly_helper(x) * x


@zoo(args=lambda rng: (u(rng), u(rng)), wrt=(0, 1))
def call_tuple_helper(x, y):
    r, t = _polar(x, y)
    return r * t


@zoo(args=lambda rng: (u(rng),))
def call_with_defaults(x):
    return _scaled(x) + _scaled(x, 3.0) * x + _scaled(x, k=0.5)


@zoo(args=lambda rng: (vec(rng), vec(rng)), wrt=(0, 1))
def call_loop_helper(a, b):
    return _dot_loop(a, b) ** 2


@zoo(args=lambda rng: (signed_vec(rng),))
def call_helper_in_loop(x):
    s = 0.0
    for v in x:
        s += _square(v) * v
    return s


@zoo(args=lambda rng: (pm(rng), pm(rng)), wrt=(0, 1))
def call_branching_helper(x, y):
    return _leaky(x) * _leaky(y) + _leaky(x * y)


# ---------------------------------------------------------------------------------------------
# Module-level constants and closures over constants

SCALE = 2.5
OFFSET = -0.75
N_TERMS = 6
WEIGHTS = np.array([0.5, -1.0, 2.0, 0.25])


@zoo(args=lambda rng: (pm(rng),))
def global_constants(x):
    return SCALE * x**2 + OFFSET


@zoo(args=lambda rng: (u(rng),))
def global_count(x):
    s = 0.0
    for k in range(N_TERMS):
        s += SCALE**-k * x**k
    return s


@zoo(args=lambda rng: (signed_vec(rng, 4),))
def global_array(x):
    return np.sum(WEIGHTS * x * x)


@zoo(args=lambda rng: (signed_vec(rng, 4),))
def global_array_in_loop(x):
    s = 0.0
    for i in range(len(WEIGHTS)):
        s += WEIGHTS[i] * math.sin(x[i])
    return s


@zoo(args=lambda rng: (u(rng),))
def math_constants(x):
    return math.pi * x**2 + math.e * x


def _make_scaled_square(k):
    def scaled_square(x):
        return k * x * x + k

    return scaled_square


def _make_weighted_sine(w):
    def weighted_sine(x):
        return np.sum(w * np.sin(x))

    return weighted_sine


def _make_polynomial(c0, c1, c2):
    def polynomial(x):
        return c0 + c1 * x + c2 * _square(x)

    return polynomial


zoo(args=lambda rng: (pm(rng),), name="closure_over_constant")(_make_scaled_square(3.0))
zoo(args=lambda rng: (signed_vec(rng, 3),), name="closure_over_array")(
    _make_weighted_sine(np.array([1.0, -2.0, 0.5])))
zoo(args=lambda rng: (pm(rng),), name="closure_calling_helper")(_make_polynomial(1.0, -2.0, 0.5))


# ---------------------------------------------------------------------------------------------
# math module


@zoo(args=lambda rng: (pm(rng),))
def math_sin(x):
    return math.sin(x) * x


@zoo(args=lambda rng: (pm(rng),))
def math_cos(x):
    return math.cos(x * x)


@zoo(args=lambda rng: (u(rng, -1.2, 1.2),))
def math_tan(x):
    return math.tan(x) + x


@zoo(args=lambda rng: (u(rng, -0.9, 0.9),))
def math_asin(x):
    return math.asin(x) * 2.0


@zoo(args=lambda rng: (u(rng, -0.9, 0.9),))
def math_acos(x):
    return math.acos(x) + x


@zoo(args=lambda rng: (pm(rng),))
def math_atan(x):
    return math.atan(x * 2.0)


@zoo(args=lambda rng: (pm(rng), pm(rng)), wrt=(0, 1))
def math_atan2(y, x):
    return math.atan2(y, x)


@zoo(args=lambda rng: (pm(rng),))
def math_sinh(x):
    return math.sinh(x) / 2.0


@zoo(args=lambda rng: (pm(rng),))
def math_cosh(x):
    return math.cosh(x) * x


@zoo(args=lambda rng: (pm(rng, 0.1, 1.5),))
def math_tanh(x):
    return math.tanh(2.0 * x)


@zoo(args=lambda rng: (pm(rng),))
def math_asinh(x):
    return math.asinh(x)


@zoo(args=lambda rng: (u(rng, 1.2, 3.0),))
def math_acosh(x):
    return math.acosh(x) * x


@zoo(args=lambda rng: (u(rng, -0.8, 0.8),))
def math_atanh(x):
    return math.atanh(x)


@zoo(args=lambda rng: (pm(rng),))
def math_exp(x):
    return math.exp(-x * x)


@zoo(args=lambda rng: (pm(rng, 0.2, 1.0),))
def math_expm1(x):
    return math.expm1(x) / x


@zoo(args=lambda rng: (u(rng),))
def math_log(x):
    return math.log(x) * x


@zoo(args=lambda rng: (u(rng), u(rng, 1.5, 4.0)), wrt=(0, 1))
def math_log_base(x, b):
    return math.log(x, b)


@zoo(args=lambda rng: (u(rng, -0.5, 2.0),))
def math_log1p(x):
    return math.log1p(x)


@zoo(args=lambda rng: (u(rng),))
def math_log2(x):
    return math.log2(x) + x


@zoo(args=lambda rng: (u(rng),))
def math_log10(x):
    return math.log10(x * x)


@zoo(args=lambda rng: (pm(rng),))
def math_sqrt(x):
    return math.sqrt(x * x + 1.0)


@zoo(args=lambda rng: (u(rng), u(rng, -2.0, 2.0)), wrt=(0, 1))
def math_pow(x, y):
    return math.pow(x, y)


@zoo(args=lambda rng: (pm(rng), pm(rng)), wrt=(0, 1))
def math_hypot(x, y):
    return math.hypot(x, y)


@zoo(args=lambda rng: (pm(rng),))
def math_fabs(x):
    return math.fabs(x) * x


@zoo(args=lambda rng: (pm(rng, 0.1, 1.5),))
def math_erf(x):
    return math.erf(x)


@zoo(args=lambda rng: (pm(rng, 0.1, 1.5),))
def math_erfc(x):
    return math.erfc(x) * x


@zoo(args=lambda rng: (pm(rng), pm(rng)), wrt=(0, 1))
def math_copysign(x, y):
    return math.copysign(x, y) * x


@zoo(args=lambda rng: (off_integer(rng, -3, 3),))
def math_floor(x):
    return math.floor(x) * x + x


@zoo(args=lambda rng: (0.5 * off_integer(rng, -4, 4),))
def math_ceil(x):
    return x * math.ceil(x * 2.0)


@zoo(args=lambda rng: (off_integer(rng, -3, 3),))
def math_trunc(x):
    return math.trunc(x) * x + x * x


# ---------------------------------------------------------------------------------------------
# Builtins


def _signed_pair_apart(rng):
    """Two floats, both away from 0 and away from each other."""
    y = pm(rng)
    return y + pm(rng, 0.3, 1.5), y


@zoo(args=_signed_pair_apart, wrt=(0, 1))
def builtin_abs(x, y):
    return abs(x - y) * x + abs(y)


@zoo(args=lambda rng: apart(rng, 2), wrt=(0, 1))
def builtin_min(x, y):
    return min(x, y) * 2.0 + x


@zoo(args=_signed_pair_apart, wrt=(0, 1))
def builtin_max(x, y):
    return max(x, y) ** 2 + max(x, 0.0)


@zoo(args=lambda rng: apart(rng, 3), wrt=(0, 1, 2))
def builtin_min_max_three(x, y, z):
    return min(x, y, z) + 2.0 * max(x, y, z)


@zoo(args=lambda rng: (u(rng), u(rng, -2.0, 2.0)), wrt=(0, 1))
def builtin_pow(x, y):
    return pow(x, 3) + pow(x, y)


@zoo(args=lambda rng: (u(rng), int(rng.integers(1, 5))), wrt=(0, 1))
def builtin_float(x, n):
    return x * float(n) + 0.5 * n * n


@zoo(args=lambda rng: (u(rng), int(rng.integers(2, 5))), wrt=("x", "k"))
def int_argument_in_wrt(x, k):
    return x**k + k * x


# ---------------------------------------------------------------------------------------------
# NumPy functions on arrays and scalars


@zoo(args=lambda rng: (signed_vec(rng),))
def np_sin_cos(x):
    return np.sum(np.sin(x) * np.cos(x))


@zoo(args=lambda rng: (vec(rng, 4, -1.0, 1.0),))
def np_tan(x):
    return np.sum(np.tan(x))


@zoo(args=lambda rng: (vec(rng, 4, -0.8, 0.8),))
def np_inverse_trig(x):
    return np.sum(np.arcsin(x) + np.arccos(x) * x + np.arctan(2.0 * x))


@zoo(args=lambda rng: (signed_vec(rng, 4, 0.1, 1.5),))
def np_hyperbolic(x):
    return np.sum(np.sinh(x) + np.cosh(x) * np.tanh(x))


@zoo(args=lambda rng: (vec(rng),))
def np_exp_log(x):
    return np.sum(np.exp(-x) * np.log(x))


@zoo(args=lambda rng: (signed_vec(rng),))
def np_sqrt(x):
    return np.sum(np.sqrt(x * x + 1.0))


@zoo(args=lambda rng: (signed_vec(rng),))
def np_abs(x):
    return np.sum(np.abs(x) * x)


@zoo(args=lambda rng: (signed_vec(rng),))
def np_maximum_relu(x):
    return np.sum(np.maximum(x, 0.0) ** 2 + x)


@zoo(args=vec_pair_apart, wrt=(0, 1))
def np_maximum_arrays(x, y):
    return np.sum(np.maximum(x, y) * y)


@zoo(args=vec_pair_apart, wrt=(0, 1))
def np_minimum_arrays(x, y):
    return np.sum(np.minimum(x, y) * x)


@zoo(args=lambda rng: (signed_vec(rng),))
def np_sum(x):
    return np.sum(x) ** 2 + np.sum(x * x)


@zoo(args=lambda rng: (mat(rng, (3, 4)),))
def np_sum_axis(A):
    return np.sum(np.sum(A, axis=1) ** 2) + np.sum(np.sum(A, axis=0))


@zoo(args=lambda rng: (signed_vec(rng),))
def np_mean(x):
    return np.mean(x * x) + np.mean(x)


@zoo(args=lambda rng: (vec(rng), vec(rng)), wrt=(0, 1))
def np_dot_vectors(x, y):
    return np.dot(x, y)


@zoo(args=lambda rng: (mat(rng, (3, 4)), signed_vec(rng, 4)), wrt=(0, 1))
def np_dot_matvec(A, x):
    return np.sum(np.dot(A, x) ** 2)


@zoo(args=lambda rng: (signed_vec(rng, 3), u(rng, -0.5, 0.5), mat(rng, (5, 3), -1.0, 1.0),
                       vec(rng, 5, -1.0, 1.0)),
     wrt=("w", "b"))
def matmul_loss(w, b, X, y):
    h = np.tanh(X @ w + b)
    return np.mean((h - y) ** 2)


@zoo(args=lambda rng: (signed_vec(rng),))
def np_zeros_accumulate(x):
    acc = np.zeros(len(x))
    for k in range(3):
        acc = acc + x * k
    return np.sum(acc * acc)


@zoo(args=lambda rng: (signed_vec(rng),))
def np_ones(x):
    w = np.ones(len(x))
    w[0] = 2.0
    return np.dot(w, x * x)


@zoo(args=lambda rng: (signed_vec(rng),))
def np_zeros_like_accumulate(x):
    g = np.zeros_like(x)
    g = g + np.sin(x)
    g = g * x
    return np.sum(g)


@zoo(args=lambda rng: (u(rng),))
def np_on_scalars(x):
    return np.sin(x) + np.exp(x) * np.sqrt(x) - np.log(x) + np.tanh(x) * np.cos(x)


@zoo(args=lambda rng: apart(rng, 2), wrt=(0, 1))
def np_maximum_scalars(x, y):
    return np.maximum(x, y) * np.minimum(x, y) + np.abs(x - y)


# ---------------------------------------------------------------------------------------------
# Broadcasting


@zoo(args=lambda rng: (pm(rng), signed_vec(rng)), wrt=(0, 1))
def broadcast_scalar_times_array(a, x):
    return np.sum(a * x * x)


@zoo(args=lambda rng: (pm(rng), signed_vec(rng)), wrt=(0, 1))
def broadcast_scalar_minus_array(a, x):
    return np.mean((a - x) ** 2)


@zoo(args=lambda rng: (signed_vec(rng), pm(rng)), wrt=(0, 1))
def broadcast_array_over_scalar(x, s):
    return np.sum(x / s) + np.sum(s / (x * x + 1.0))


@zoo(args=lambda rng: (signed_vec(rng, 3), mat(rng, (2, 3))), wrt=(0, 1))
def broadcast_row_plus_matrix(r, A):
    return np.sum((A + r) ** 2)


@zoo(args=lambda rng: (mat(rng, (3, 1)), mat(rng, (1, 4))), wrt=(0, 1))
def broadcast_column_times_row(c, r):
    return np.sum(np.sin(c * r))


@zoo(args=lambda rng: (mat(rng, (2, 3)), signed_vec(rng, 3), pm(rng)), wrt=(0, 1, 2))
def broadcast_three_ways(A, r, s):
    return np.sum(A * r * s + np.exp(-A * A) * r)
