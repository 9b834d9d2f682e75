"""In-place semantics: writes into arrays that other names share (views, aliases, helpers).

Each case is either differentiated right — checked against central finite differences in
float64, in Python mode and under ``jit=True`` — or refused with an ``UnsupportedSyntaxError``
located at the line marked ``# refused`` in this file. The gradient call never changes the
caller's arrays.
"""

from __future__ import annotations

import inspect
import math

import numpy as np
import pytest

import adjoint
from adjoint.errors import UnsupportedSyntaxError

CASES = []


def case(*args, wrt=0, jit=True):
    def deco(f):
        CASES.append(pytest.param(f, args, wrt, jit, id=f.__name__))
        return f
    return deco


def _copy(a):
    return a.copy() if isinstance(a, np.ndarray) else a


def numeric(f, args, wrt, eps=1e-6):
    """Central differences in float64; every evaluation gets fresh copies."""
    x = args[wrt]
    if isinstance(x, np.ndarray):
        out = np.zeros(x.shape)
        for i in np.ndindex(x.shape):
            hi = [_copy(a) for a in args]
            lo = [_copy(a) for a in args]
            hi[wrt][i] += eps
            lo[wrt][i] -= eps
            out[i] = (f(*hi) - f(*lo)) / (2 * eps)
        return out
    hi = [_copy(a) for a in args]
    lo = [_copy(a) for a in args]
    hi[wrt] = x + eps
    lo[wrt] = x - eps
    return (f(*hi) - f(*lo)) / (2 * eps)


M = np.array([[0.3, -0.5, 0.8], [0.7, 0.9, -0.2], [0.4, 1.1, 0.6]])
V = np.array([0.3, 0.5, -0.7, 0.9])


# -- a view read before a write sees the old values ------------------------------------------
@case(V.copy())
def slice_sin(x):
    x[1:3] = np.sin(x[1:3])
    return np.sum(x)


@case(V.copy())
def slice_read_then_write(x):
    s = np.sum(x[1:] ** 2)
    x[1] = 0.0
    return s


@case(0.7)
def ones_slice(a):
    v = np.ones(4)
    v[0:1] = v[0:1] * a
    return np.sum(v * v)


@case(V.copy())
def overlapping_augmented(x):
    x[1:] += x[:-1] * x[1:]
    return np.sum(x * x)


@case(V.copy())
def whole_slice_and_ellipsis(x):
    x[:] = np.sin(x)
    x[...] = x * x[0]
    return np.sum(x)


@case(V.copy())
def element_read_then_written(x):
    for i in range(4):
        t = x[i]
        x[i] = t * t
        x[3 - i] = x[3 - i] + t
    return np.sum(x * x)


# -- a write through one name is seen through the other -----------------------------------------
@case(V.copy())
def plain_alias(x):
    v = x
    v[0] += 2.0 * x[1]
    return np.sum(x * x)


@case(M.copy(), 0.4, wrt=0)
@case(M.copy(), 0.4, wrt=1)
def row_alias(W, a):
    row = W[0]
    row[1] += a * row[2]
    return np.sum(W * W)


@case(M.copy(), 0.4, wrt=0)
@case(M.copy(), 0.4, wrt=1)
def row_alias_in_loop(W, a):
    for i in range(3):
        row = W[i]
        row[0] = row[0] * a + row[1]
    return np.sum(W * np.cos(W))


@case(M.copy(), 0.4, wrt=0)
@case(M.copy(), 0.4, wrt=1)
def view_written_in_loop(W, a):
    row = W[1]
    for j in range(3):
        row[j] = row[j] * a
    return np.sum(W * W) + np.sum(row)


@case(M.copy(), 0.4, wrt=0)
@case(M.copy(), 0.4, wrt=1)
def column_sees_write(x, c):
    y = x[:, 0]
    x[0, 0] = c * x[1, 1]
    return np.sum(y * y) + np.sum(x)


@case(M.copy(), 1.5, wrt=0)
@case(M.copy(), 1.5, wrt=1)
def view_of_view(W, a):
    r = W[1]
    s = r[1:]
    s[0] = s[0] * a
    return np.sum(W * W) + np.sum(r * s[1])


@case(V.copy(), 0.4, wrt=0)
@case(V.copy(), 0.4, wrt=1)
def negative_step(x, a):
    v = x[::-1]
    v[0] = v[0] * a
    return np.sum(x * np.arange(4.0)) + v[1]


@case(M.copy(), 0.4, wrt=0)
@case(M.copy(), 0.4, wrt=1)
def transpose_view(x, a):
    y = x.T
    y[0, 1] = a * y[1, 0]
    return np.sum(x * np.arange(3.0))


def scale_first(v, a):
    v[0] = v[0] * a
    return 0.0


def scale_and_sum(v, a):
    v[1] = v[1] * a
    return np.sum(v)


@case(V.copy(), 0.4, wrt=0)
@case(V.copy(), 0.4, wrt=1)
def helper_statement(x, a):
    scale_first(x, a)
    return np.sum(x * x)


@case(V.copy(), 0.4, wrt=0)
@case(V.copy(), 0.4, wrt=1)
def helper_result_dropped(x, a):
    _ = scale_first(x, a)
    return np.sum(x * x)


@case(V.copy(), 0.4, wrt=0)
@case(V.copy(), 0.4, wrt=1)
def helper_writes_and_returns(x, a):
    s = scale_and_sum(x, a)
    return s * np.sum(x * x)


@case(M.copy(), 0.4, wrt=0)
@case(M.copy(), 0.4, wrt=1)
def helper_on_a_row(W, a):
    scale_first(W[2], a)
    return np.sum(W * W)


# -- rebinding ---------------------------------------------------------------------------------
@case(np.array([0.3, 0.5, 0.7]))
def iteration_over_rebound_name(x):
    s = 0.0
    for t in x:
        s = s + t * t
        x = x * 2.0
    return s + np.sum(x)


@case(np.array([0.3, 0.5, 0.7]))
def write_then_copy(x):
    for i in range(3):
        x[i] = x[i] * x[i]
        x = x.copy()
    return np.sum(x)


@case(np.array([0.3, 0.5, 0.7]))
def write_then_self(x):
    for i in range(3):
        x[i] = x[i] * x[i]
        x = x
    return np.sum(x)


# -- broadcasting into a slice -----------------------------------------------------------------
@case(np.array([0.3, 0.5, 0.7]), 0.5, wrt=0)
@case(np.array([0.3, 0.5, 0.7]), 0.5, wrt=1)
def scalar_into_slice(x, b):
    x[1:3] = b
    return np.sum(x * x)


@case(M.copy(), np.array([0.1, 0.2, 0.3]), wrt=0)
@case(M.copy(), np.array([0.1, 0.2, 0.3]), wrt=1)
def scalar_into_row(h, x):
    for t in range(2):
        h[t] = x[t]
    return np.sum(h * h)



# -- found by the peer cases: augmented assignment of an array writes into its memory ----------
X3 = np.array([1.0, 2.0, 3.0])


@case(X3.copy())
def augmented_through_alias(x):
    y = x * 1.0
    z = y
    z *= 2.0
    return np.sum(y * x)


@case(X3.copy())
def augmented_alias_of_argument(x):
    y = x
    y *= 3.0
    return np.sum(x * x)


@case(np.array([[1.0, 2.0], [3.0, 4.0]]))
def augmented_row_view(x):
    y = x * 1.0
    row = y[0]
    row *= 2.0
    return np.sum(y * x)


@case(X3.copy())
def augmented_alias_in_loop(x):
    y = x + 0.0
    z = y
    for i in range(2):
        z += y * x
    return np.sum(y * z)


def _fill(out, v):
    out[0] = v
    return out


@case(X3.copy())
def callee_fills_callers_array(x):
    y = x * 1.0
    _ = _fill(y, 0.0)
    return np.sum(y * x)


@case(X3.copy())
def broadcast_row_assignment(b):
    out = np.zeros((2, 3))
    out[:] = b
    return np.sum(out * out)


@case(X3.copy())
def adjoint_of_element_read_not_shared(a):
    b = a + 1.0
    c = b[0]
    d = a + b
    return np.sum(d + c)



# -- found by the random-program tester (shrunk reproducers) --------------------------------
A3 = np.array([0.7, -1.5, -1.0])


@case(A3.copy())
def alias_sees_augmented_write(a):
    u = a
    a[2] *= 1.25
    return np.sum(u * u)


def _halve_second(a0):
    a0[1] *= 0.5
    return 0.25


@case(np.array([0.4, -1.2, 0.2]))
def helper_halves_callers_array(a):
    v = np.cos(a)
    s = _halve_second(v)
    return np.sum(v * v) + s


@case(np.eye(2) + 0.5, 0.3, wrt=0)
@case(np.eye(2) + 0.5, 0.3, wrt=1)
def augmented_subtract_through_alias(M, x):
    v1 = M
    v1 -= x
    return np.sum(M * M)


@case(A3.copy(), 0.3, wrt=1)
def write_through_alias_of_argument(a, x):
    u = a
    u[1] = x
    return np.sum(u * a)


@case(np.array([0.5, -0.3, 0.1]), 1.3, wrt=0)
@case(np.array([0.5, -0.3, 0.1]), 1.3, wrt=1)
def augmented_multiply_on_slice(a, x):
    a[0:2] *= x
    return np.sum(a * a)


@case(np.array([0.3, 0.45, -0.6]), 0.2, wrt=0)
def slice_read_then_element_written(a, x):
    s = np.sum(np.cos(a[::1]))
    a[0] += x
    return s + a[0] * a[1]


@case(np.array([1.0, 2.0, 3.0]))
def write_array_into_itself(a):
    a[0:3] = a
    a[1:] = a[:2] * a[1:]
    return np.mean(a)


def _zero_half(a0, a1):
    return 0.5


def _bump(a0, a1):
    a0[1] += _zero_half(0.5, a1)
    return np.sum(a0 * a0)


@case(0.6, np.eye(3) + 0.1, np.array([1.3, 1.2, -1.0]), wrt=2)
def helper_calling_helper_writes_parameter(x, M, a):
    x = _bump(a, a)
    a -= M[1, 1]
    return x + np.sum(a)


def _second(a0, a1):
    return a1


def _first_of(a0, a1):
    s = _second(a0, a1[::-1])
    return a1[0] * s[0]


@case(np.array([1.0, 2.0, 3.0]))
def nested_helpers_keep_their_parameters(b):
    return _first_of(b, b)


@case(np.array([1.0, 2.0, 3.0]))
def rebind_to_slice_of_itself(a):
    a = a[1:3]
    return a[1] * a[0]



def _scale_through_second_name(a0, a1):
    v2 = a1
    v2[0] *= np.cos(a0[1])
    return np.sum(a0 ** 2)


@case(np.array([0.3, -0.5, 0.8, 0.1]), 0.7, wrt=0)
@case(np.array([0.3, -0.5, 0.8, 0.1]), 0.7, wrt=1)
def helper_writes_through_alias_of_parameter(a, x):
    a[2] -= _scale_through_second_name(a, a)
    return np.sum(a * x)


@case(np.array([0.3, -0.5, 0.8, 0.1]), 0.7, wrt=0)
def zip_over_array_updated_in_place(a, x):
    s = 0.0
    for p, q in zip(a, a):
        a[3] = a[3] * x + p
        a *= 0.5
        s = s + p * q
    return s + np.sum(a)



def _symmetrize(a0, a1):
    a0 += a0[::-1]
    a0 *= 0.5
    return a1 + np.sum(a0)


@case(0.58, np.array([0.3, -0.5, 0.8, 0.1]), -1.22, wrt=1)
@case(0.58, np.array([0.3, -0.5, 0.8, 0.1]), -1.22, wrt=2)
def successive_augmented_updates_in_a_helper(x, a, y):
    k = 0
    s = 0.0
    while k < 3:
        k += 1
        if y <= a[k]:
            x = np.mean(a * a)
        s = _symmetrize(a, np.sum(a * a)) ** 2
    return y * x + np.sum(a * a * a) + 0.1 * s


# -- writes into an array the backward sweep reads though nothing is differentiated through it --
@case(0.019669, np.array([-0.050437, -0.84098, 0.458987]), np.array([0.55, 1.12, 1.04]))
def inactive_array_halved_in_loop(x, a, b):
    for p, q in zip(b, a):
        x += np.linspace(0.0, 1.0, 3) * x @ a
        a *= 0.5
    return x


@case(0.7, np.array([0.3, -0.5, 0.8]))
def inactive_element_halved_in_loop(x, a):
    for i in range(3):
        x = x * a[0] + np.sin(x) * a[1]
        a[0] = a[0] * 0.5
    return x


@case(0.7, np.array([0.3, -0.5, 0.8]))
def inactive_element_written_after_read(x, a):
    y = x * a
    a[0] = 3.0
    return np.sum(y)


@case(0.7, np.array([0.3, -0.5, 0.8]))
def inactive_write_in_untouched_loop(x, a):
    y = x * a
    for i in range(3):
        a[i] = 3.0
    return np.sum(y)


@case(0.7, np.array([0.3, -0.5, 0.8]))
def inactive_write_in_untouched_branch(x, a):
    y = x * a
    if a[0] > 0.0:
        a[1] = 3.0
    return np.sum(y) + x * a[1]


@case(0.7, np.array([0.3, -0.5, 0.8]))
def inactive_array_halved_in_while(x, a):
    k = 0
    while k < 3:
        x = x * np.sum(a) + np.cos(x)
        a[k] = a[k] * 0.5
        a *= 0.9
        k += 1
    return x


@case(0.7, np.array([0.3, -0.5, 0.8]))
def inactive_array_read_by_matmul_in_while(x, a):
    k = 0
    while k < 3:
        x = x + (x * np.linspace(0.0, 1.0, 3)) @ a
        a[k] = a[k] * 0.5
        k += 1
    return x


@case(0.7, np.array([0.1, 0.1, 0.2]))
def inactive_array_halved_in_loop_that_breaks(x, a):
    for i in range(4):
        x = x + (x * np.ones(3)) @ a
        if x > 1.0:
            break
        a[i % 3] = 0.5 * a[i % 3]
    return x


@case(0.7, np.array([0.3, -0.5, 0.8]))
def inactive_array_halved_in_nested_loops(x, a):
    for i in range(2):
        for j in range(3):
            x = x * a[j] + np.sin(x * a[i])
            a[j] = a[j] * 0.5
        a += 0.25
    return x


# -- a recorded array written in place later in the same iteration: the tape holds its final state
@case(0.7, np.array([0.3, -0.5, 0.8]))
def stored_array_written_after_definition(x, a):
    s = 0.0
    for i in range(3):
        t = x * a
        t[0] = 5.0
        s = s + np.sum(t * x)
    return s


@case(0.7, np.array([0.3, -0.5, 0.8]))
def carried_array_written_then_rebound(x, a):
    for i in range(2):
        a[0] = a[0] * 0.5
        x = x * np.sum(a * a) + 0.1
        a = a * x
    return x


@case(0.7, np.array([0.3, -0.5, 0.8]), wrt=0)
def array_bound_in_branch_written_after_it(x, a):
    s = 0.0
    for i in range(3):
        if a[i] > 0.0:
            t = a * x
        else:
            t = a * 2.0
        t[0] = 5.0 * x
        s = s + np.sum(np.sin(t) * x)
    return s


def _halve_by_largest(a0, a1):
    a0[2] = a1[np.argmax(a0)] * 0.5
    return np.sum(np.sin(a0))


# random programs, seed 90261: the copy of the helper's parameter is bound in the branch the
# return is in, and written after it there
@case(-0.65, np.array([0.94, 0.52, 1.22]), wrt=1)
def helper_writes_alias_in_branch_of_loop(x, a):
    for i in range(1, 4):
        v = a
        if x <= 0.0:
            return _halve_by_largest(v, a)
    return 0.0


@case(np.array([-0.249813, -0.621407, -1.428443, -0.514372]),
      np.array([0.021309, 0.919722, -0.190322, 0.537784]), wrt=1)
def carried_array_written_in_nested_loops(a, b):
    for p, q in zip(a, a):
        for r, t in zip(a, a):
            b[np.argmax(a)] *= 0.5
            b -= a * (b[::-1] * b)
    return b[np.argmax(b)]


@case(np.array([[-0.24, 0.36, 0.88], [0.77, 1.46, 0.72], [0.3, 1.44, -0.34]]),
      np.array([0.62, 0.71, 0.58]), -0.84, wrt=2)
@case(np.array([[-0.24, 0.36, 0.88], [0.77, 1.46, 0.72], [0.3, 1.44, -0.34]]),
      np.array([0.62, 0.71, 0.58]), 2.5, wrt=2)
def carried_array_written_in_branch_then_rebound(M, a, x):
    for r in M:
        if x > 3.0:
            continue
        a[np.argmax(r)] = x
        a = np.fmax(a, 0.5 * r)
    return np.sum(a)


# -- a value that is a view of the array written (random programs, seeds 71617 and 71892) -----
@case(M.copy(), np.array([0.1, 0.9, 0.3]), 0.7, wrt=0)
def column_from_row_copied(M, a, b):
    M[:, np.argmax(a)] = M[1, :].copy()
    return np.sum(M * M * b)


def rows_and_blocks_from_the_same_array(M, b):
    M[0, :] = M[1, :] * b  # a new array
    M[2, :] = M[1, :]  # other rows: no element is both read and written
    M[:, 0] = M[:, 2]
    M[1:, :] = M[:-1, :]  # a 2-D destination: NumPy copies an overlapping value first
    return np.sum(M * M)


def slices_read_as_copies(x):
    x[1:2] = x[0:1] * 1.0 + x[1:2]  # a new array
    x[2:3] = x[0:1]  # different elements
    x[0:3] = x[1:4]  # the same step: moved as by memmove
    x[0:4] = x[::-1]  # opposite directions: NumPy copies the value first
    return np.sum(x * np.arange(1.0, 5.0) * x[0])


# -- a version of an array written in place is its own copy (random programs, seed 201815) -----
# Static single assignment names the array before a loop (or a branch) and the array the loop
# carries differently; the write in the first iteration must not change the value before it.
B3 = np.array([-0.48, 0.87, -0.32])


@case(np.array([0.4, -1.1, 1.3]), B3.copy(), 0.32, wrt=0)
def write_then_rebind_in_loop(a, b, y):
    s = b @ a
    for i in range(len(b)):
        b[i] = y
        b *= 0.5
    return s + np.sum(b * b)


@case(np.array([0.4, -1.1, 1.3]), B3.copy(), 0.32, wrt=1)
def write_then_augment_in_loop(a, b, y):
    s = b @ a
    for i in range(2):
        b[i] = y * b[i]
        b += 0.5
    return s + np.sum(b * b)


@case(np.array([0.4, -1.1, 1.3]), B3.copy(), 0.32, wrt=0)
def write_then_rebind_in_while(a, b, y):
    s = b @ a
    i = 0
    while i < 2:
        b[i] = y * b[i]
        b = b * 0.5
        i += 1
    return s + np.sum(b * b)


@case(np.array([0.4, -1.1, 1.3]), B3.copy(), 0.32, -1.0, wrt=0)
def write_after_branch_that_may_rebind(a, b, y, c):
    s = b @ a
    if c > 0:
        b = b * 2.0
    b[0] = y
    return s + np.sum(b * b)


# -- an adjoint that is a view of another is copied before an update (seed 203839) ------------
@case(np.array([-0.09, -1.7, -0.77, -0.83]))
def flip_and_slice_of_one_array(a):
    a = a + (a[::1] + np.flip(a))
    return np.prod(a)


@case(M.copy())
def transpose_and_row_of_one_array(m):
    return np.sum(np.sin(m.T + m[0]) * m)


@case(M.copy())
def reshape_and_element_of_one_array(m):
    return np.sum(np.cos(np.reshape(m, (9,)) * m[1, 1])) + np.sum(np.moveaxis(m, 0, 1)[0] ** 2)


# -- a value read before the loop writes into its array is not replayed from the written array --
# (random programs, seed 900329): the backward iteration recomputed ``M + 2.0`` from the array
# the tape holds, the one after ``M[k, 1] = x``, before undoing that write.
M3 = np.array([[0.37, -2.34, 0.7], [1.89, -0.73, -0.65], [-0.38, 1.31, -0.2]])


@case(-0.32, M3.copy(), -1.5, wrt=1)
def norm_before_write_in_while(x, M, y):
    k = 0
    while k < 1:
        k += 1
        y = np.linalg.norm(M + 2.0)
        M[k, 1] = x
        M *= 0.5
    return np.sum(M) + y


@case(-0.32, M3.copy(), 0.5, wrt=1)
def value_in_branch_before_write_in_for(x, M, c):
    s = 0.0
    for k in range(3):
        if c > 0:
            t = M + 1.0
            s += np.sum(t[k] * t[k])
        M[k, 0] = x * s
    return s


# -- x[i] op= f(...) where f writes into the array x views (random programs, seed 1301066) -----
# The augmented write's read and its store shared one name node: renaming the store's array
# to the version re-taken after f's write renamed the read, which comes before it.
def _lower_first(a0, v):
    a0[0] -= 0.5
    return v


@case(np.array([0.97, -1.6, -0.08, -0.05]), np.array([0.11, -0.69, 1.02, 0.7]), wrt=1)
def augmented_element_of_a_view_written_by_the_call(a, b):
    u = a[:-1]
    a *= 0.5
    u[1] -= _lower_first(a, b[0])
    return np.sum(u)


@case(np.array([0.97, -1.6, -0.08, -0.05]), np.array([0.11, -0.69, 1.02, 0.7]), wrt=1)
def augmented_element_of_a_view_then_rederived(a, b):
    u = a[:-1]
    u[1] -= _lower_first(a, b[0])
    return np.sum(u)


@pytest.mark.parametrize("mode", ["python", "jit"])
@pytest.mark.parametrize("f, args, wrt, jit_ok", CASES)
def test_matches_finite_differences(f, args, wrt, jit_ok, mode):
    if mode == "jit" and not jit_ok:
        pytest.skip("does not compile with Numba")  # none today; kept explicit per case
    before = [_copy(a) for a in args]
    passed = [_copy(a) for a in args]
    got = adjoint.grad(f, wrt=wrt, jit=(mode == "jit"))(*passed)
    for a, b in zip(passed, before):
        if isinstance(a, np.ndarray):
            np.testing.assert_array_equal(a, b)  # the caller's arrays are unchanged
    want = numeric(f, args, wrt)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)


# -- what cannot be followed is refused, at the user's line --------------------------------------
G = np.array([1.0, 2.0, 3.0])


def alias_in_either_branch(x, y, c):
    if c > 0.0:
        v = x
    else:
        v = y
    v[0] = 2.0 * v[0]  # refused
    return np.sum(x) + np.sum(y)


def write_through_reshape(x, a):
    y = x.reshape(4)
    y[0] = a  # refused
    return np.sum(x * x)


def read_through_reshape(x, a):
    y = x.reshape(4)
    x[0, 0] = a  # refused
    return np.sum(y * y)


def write_into_module_array(x):
    G[0] = x  # refused
    return np.sum(G * x)


def write_through_module_array(x):
    v = G
    v[1] = x  # refused
    return x * v[1]


def view_of_unknown_rank(x, a):
    y = np.stack([x, x])  # the analysis does not follow stack's rank
    t = y[0]
    y[0] = a * t  # refused
    return np.sum(t)


REFUSED = [
    (alias_in_either_branch, (V.copy(), V.copy(), 0.5), 0),
    (write_through_reshape, (np.ones((2, 2)), 0.5), 1),
    (read_through_reshape, (np.ones((2, 2)), 0.5), 1),
    (write_into_module_array, (0.5,), 0),
    (write_through_module_array, (0.5,), 0),
    (view_of_unknown_rank, (V.copy(), 0.5), 1),
]


def test_forward_mode_sees_writes_through_views():
    """jvp goes through the same normalization: a write through a row is seen in the array."""
    W, a = M.copy(), 0.4
    _, tangent = adjoint.jvp(row_alias, wrt=1)(W, a, 1.0)
    np.testing.assert_allclose(tangent, numeric(row_alias, (W, a), 1), rtol=1e-6)
    np.testing.assert_array_equal(W, M)


@case(M.copy(), wrt=0)
def row_read_across_writes_to_base(x):
    y = x[0]
    for i in range(3):
        x[0, i] = y[i] * y[(i + 1) % 3] + x[1, i]
    return np.sum(x * y[0])


def sort_method(x):
    y = x * 2.0
    _ = y.sort()  # refused
    return np.sum(y * np.arange(3.0))


def fill_method(x, a):
    y = x * 2.0
    _ = y.fill(a)  # refused
    return np.sum(y * x)


def copyto_call(x, a):
    y = x * 2.0
    _ = np.copyto(y, a)  # refused
    return np.sum(y * x)


def ufunc_at_call(x, a):
    y = x * 2.0
    _ = np.add.at(y, [0, 0], a)  # refused
    return np.sum(y * x)


def augmented_of_unknown_rank(x):
    y = x.reshape(2, 2) * 1.0  # the analysis does not follow reshape's rank
    z = y
    z *= 2.0  # refused
    return np.sum(y)


REFUSED += [
    (augmented_of_unknown_rank, (np.ones(4),), 0),
    (sort_method, (np.array([3.0, 1.0, 2.0]),), 0),
    (fill_method, (np.array([3.0, 1.0, 2.0]), 0.5), 0),
    (copyto_call, (np.array([3.0, 1.0, 2.0]), 0.5), 0),
    (ufunc_at_call, (np.array([3.0, 1.0, 2.0]), 0.5), 0),
]


def element_of_unknown_rank_through_alias(y, a):
    b = np.concatenate([a, a])  # the analysis does not follow concatenate's rank
    z = b[0]  # a number read now, or a row that sees the write?
    y = z
    b[0] -= 0.5  # refused
    return y * y


REFUSED += [(element_of_unknown_rank_through_alias, (0.5, V.copy()), 1)]


def column_from_overlapping_row(M, a, b):
    # NumPy copies the row into the column element by element: M[1, j] is overwritten before
    # it is read, and the value depends on the order (adjoint would copy the row first)
    M[:, np.argmax(a)] = M[1, :]  # refused
    return np.sum(M * b)


def every_other_from_view_of_alias(x, a):
    v = x
    x[0:2] = v[1:4:2]  # refused
    return np.sum(x * a)


REFUSED += [(column_from_overlapping_row, (M.copy(), np.array([0.1, 0.9, 0.3]), 0.7), 2),
            (every_other_from_view_of_alias, (V.copy(), 0.5), 1)]


@pytest.mark.parametrize("f, args, wrt", REFUSED, ids=[r[0].__name__ for r in REFUSED])
def test_refused_with_location(f, args, wrt):
    lines, start = inspect.getsourcelines(f)
    marked = {start + k for k, line in enumerate(lines) if "# refused" in line}
    with pytest.raises(UnsupportedSyntaxError) as info:
        adjoint.grad(f, wrt=wrt)(*args)
    err = info.value
    assert err.lineno in marked, str(err)
    assert err.filename == __file__
    assert err.hint


def running_product_in_place(x):
    y = x * 1.0
    for i in range(1, 3):
        y[i] = y[i - 1] * y[i]
    return np.sum(y * y)


def write_through_tail_view(x):
    v = x[1:]
    v[0] = v[0] * x[0]
    return np.sum(x ** 3)


@pytest.mark.parametrize("f", [running_product_in_place, write_through_tail_view])
def test_second_order_through_in_place_writes(f):
    """The generated gradient (full of in-place adjoint updates) is differentiated again."""
    x = np.array([0.5, 1.5, 2.0])
    gradient = adjoint.grad(f)
    want = np.array([numeric(lambda z, k=k: gradient(z)[k], (x,), 0) for k in range(3)])
    np.testing.assert_allclose(adjoint.hessian(f)(x.copy()), want, rtol=1e-5, atol=1e-6)


# -- the value is the plain function's value (the random-program tester's finds) ---------------
VALUED = []


def valued(*args, wrt=0):
    def deco(f):
        VALUED.append(pytest.param(f, args, wrt, id=f.__name__))
        return f
    return deco


@valued(0.27, -0.41, np.array([0.43, 0.04, 0.56, 0.17]), wrt=1)
def element_read_before_write_then_rebound(x, y, a):
    # a is 1-D where it is read (a number, a copy), a float after: y keeps the old element
    x, y = (y, a[int(np.argmax(a))])
    a[np.argmax(a)] -= 0.5
    a = 2.0
    return y * x + a


def _scale_largest(a0, a1):
    a0[np.argmax(a0)] *= math.cos(a1 + a1)
    return 0.5 * a1


@valued(np.array([1.06, 1.09, -0.37]), np.array([0.91, 0.31, -0.31]), 1.0, wrt=2)
def value_before_target_index(a, b, x):
    # Python evaluates the right-hand side first: np.argmax sees b as the helper left it
    a[np.argmax(b)] = _scale_largest(b, x)
    return np.sum(a * a) + np.sum(b)


@valued(np.array([1.06, 1.09, -0.37]), np.array([0.91, 0.31, -0.31]), 1.0, wrt=2)
def target_index_before_augmented_value(a, b, x):
    # a[i] += v: the index (and a[i]) are read before v, so np.argmax sees b unchanged
    a[np.argmax(b)] += _scale_largest(b, x)
    return np.sum(a * a) + np.sum(b)


@valued(np.array([1.06, 1.09, -0.37]), 1.0, wrt=1)
def value_changes_the_target_array(a, x):
    a[np.argmax(a)] = _scale_largest(a, x) * a[0]
    return np.sum(a * a)


@valued(np.array([1.06, 1.09, -0.37]), 1.0, wrt=0)
def augmented_value_changes_the_target_array(a, x):
    a[np.argmax(a)] += _scale_largest(a, x) * a[0]
    return np.sum(a * a)


def reversed_into_array_rebound_in_loop(x):
    for i in range(2):
        x = np.cos(x) * x
    x[0:4] = x[::-1]  # x is bound in several places: the indices alone show the copy
    return np.sum(x * np.arange(4.0))


# the values of writes whose value is a view of the array written (read as copies)
VALUED += [pytest.param(reversed_into_array_rebound_in_loop, (V.copy(),), 0,
                        id="reversed_into_array_rebound_in_loop"),
           pytest.param(slices_read_as_copies, (V.copy(),), 0, id="slices_read_as_copies"),
           pytest.param(rows_and_blocks_from_the_same_array, (M.copy(), 0.7), 0,
                        id="rows_and_blocks_from_the_same_array")]


@pytest.mark.parametrize("mode", ["python", "jit"])
@pytest.mark.parametrize("f, args, wrt", VALUED)
def test_value_and_gradient_match_the_function(f, args, wrt, mode):
    want_value = f(*[_copy(a) for a in args])
    value, (got,) = adjoint.value_and_grad(f, wrt=(wrt,), jit=(mode == "jit"))(
        *[_copy(a) for a in args])
    np.testing.assert_allclose(value, want_value, rtol=1e-12)
    np.testing.assert_allclose(got, numeric(f, args, wrt), rtol=1e-6, atol=1e-7)
