"""Peer cases: Tuple and array outputs, indexing and slicing patterns, in-place updates and
aliasing.

See :mod:`peer_functions` for what a case is and how it is registered.
"""

from __future__ import annotations

import math

import numpy as np
from peer_functions import away, distinct, peer, s, sgn, v

from peers.loops import _norm_and_unit

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
