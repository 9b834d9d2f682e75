"""Peer cases: Scalar expressions, graph structure (fan-out, fan-in, deep chains, hygiene) and
branches on data.

See :mod:`peer_functions` for what a case is and how it is registered.
"""

from __future__ import annotations

import math

import numpy as np
from peer_functions import away, distinct, peer, s, sgn, v

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
