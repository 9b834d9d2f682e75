"""Peer cases: More in-place, aliasing and control-flow patterns (slice updates, fancy indexing,
views).

See :mod:`peer_functions` for what a case is and how it is registered.
"""

from __future__ import annotations

import math

import numpy as np
from peer_functions import away, distinct, peer, s, sgn, v

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
# Inlining: helpers with the same local names, loops, in-place parameters, early returns

def _h1(x):
    t = x * 2.0
    return t + 1.0


def _h2(x):
    t = _h1(x) * x
    return t


@peer(lambda rng: (sgn(rng),))
def same_local_names_in_helpers(t):
    x = _h2(t)
    return x * t + _h1(x)


def _accumulate(total, x):
    for i in range(len(x)):
        total = total + x[i] * x[i]
    return total


@peer(lambda rng: (v(rng, 3),))
def helper_loop_called_twice(x):
    a = _accumulate(0.0, x)
    b = _accumulate(a, x * 2.0)
    return a * b


def _scale_in_place(y, k):
    y *= k
    return y


@peer(lambda rng: (v(rng, 3),))
def helper_augments_its_parameter(x):
    y = x * 1.0
    z = _scale_in_place(y, 3.0)
    return np.sum(z * x)


@peer(lambda rng: (v(rng, 3), s(rng)), wrt=(0, 1))
def helper_result_aliases_argument_then_written(x, a):
    y = x * 1.0
    z = _scale_in_place(y, a)
    z[0] = 1.0
    return np.sum(y * x)


def _first_over(x, k):
    i = 0
    while i < len(x):
        if x[i] > k:
            return x[i]
        i += 1
    return x[-1]


@peer(lambda rng: (distinct(rng, 5),))
def helper_while_early_return(x):
    return _first_over(x, 0.0) * 2.0 + _first_over(x, -0.1)


@peer(lambda rng: (v(rng, 4),))
def return_in_for_loop(x):
    for i in range(3):
        if i == 1:
            return np.sum(x * x) * i
    return 0.0


@peer(lambda rng: (v(rng, 4), v(rng, 4)), wrt=(0, 1))
def builtin_min_max_of_scalars_from_arrays(x, y):
    return max(x[0], y[0] + 5.0) * min(x[1] - 5.0, y[1])


@peer(lambda rng: (s(rng), 2.0), wrt=("a", "k"))
def wrt_by_names_with_default(a, k=2.0):
    return a ** k + k * a


@peer(lambda rng: (v(rng, 4),))
def nested_helper_with_same_param_names(x):
    return _outer_x(x, x * 2.0)


def _inner_x(x, y):
    return np.sum(x * y)


def _outer_x(y, x):
    return _inner_x(x, y) + _inner_x(y, y)


@peer(lambda rng: (v(rng, 4),))
def reassigned_parameter_in_loop_with_subscript(x):
    for _ in range(2):
        x = x * 0.5
        x[0] = x[1] + 1.0
    return np.sum(x * x)
