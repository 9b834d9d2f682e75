"""Peer cases: Names local to a loop or a branch and read later; swaps of names.

See :mod:`peer_functions` for what a case is and how it is registered.
"""

from __future__ import annotations

import math

import numpy as np
from peer_functions import peer, s, sgn, v

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
