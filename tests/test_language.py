"""Comprehensions, generator expressions, builtin ``sum``, tuple and list literals of
differentiated values, and lists built with ``append`` (``transforms/comprehensions.py``,
``transforms/literals.py``, ``transforms/list_adjoints.py``).

Each case is checked against central finite differences in float64 with ``grad`` in Python mode
and (a representative subset) under ``jit=True``, and with ``jvp`` in Python mode
(:mod:`language_cases`). Refusals are checked for their location and hint.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from language_cases import V3, V4, Cases, check_grad_case, check_jvp_case

import adjoint
from adjoint.errors import UnsupportedSyntaxError

case = Cases()

# -- comprehensions and generator expressions ---------------------------------------------------

@case(V3)
def sum_of_generator_over_range(x):
    return sum(x[i] * x[i] for i in range(len(x)))


@case(V4, jit=True)
def sum_of_generator_with_filter(x):
    return sum(v * v * v for v in x if v > 0)


@case(V3, 0.5, wrt=(0, 1))
def np_sum_of_list_comprehension(x, w):
    return np.sum([w * np.sin(v) for v in x])


@case(V4, jit=True)
def max_of_generator(x):
    return max(math.sin(v) for v in x)


@case(V3, V3[::-1].copy(), wrt=(0, 1))
def min_over_zip(x, y):
    return min(a * b + a for a, b in zip(x, y))


@case(V3, jit=True)
def np_array_of_comprehension(x):
    r = np.array([x[i] ** 2 for i in range(len(x))])
    return np.sum(r * x)


@case(V3)
def np_stack_of_arrays(x):
    rows = np.stack([x * k + np.cos(x) for k in range(3)])
    return np.sum(rows ** 2)


@case(V4, jit=True)
def np_concatenate_of_slices(x):
    r = np.concatenate([x[:k] * k for k in range(1, 4)])
    return np.sum(r * r)


@case(V4)
def enumerate_with_filter(x):
    r = np.array([k * v for k, v in enumerate(x) if k != 1])
    return np.sum(np.sin(r))


@case(V3)
def list_comprehension_bound_to_a_name(x):
    squares = [v * v for v in x]
    s = 0.0
    for k in range(len(squares)):
        s = s + squares[k] * (k + 1)
    return s + squares[0]


@case(V3, jit=True)
def loop_over_a_generator(x):
    s = 0.0
    for v in (t * 2.0 for t in x if t < 2.0):
        s = s + v * v
    return s


@case(V3)
def nested_generators(x):
    return sum(sum(a * b for b in x) for a in x) + sum(a * b for a in x for b in x if a < b)


@case(V3)
def comprehension_variable_does_not_leak(x):
    v = 2.0
    s = sum(v * v for v in x)
    return s * v


@case(V3, 0.4, wrt=(0, 1), jit=True)
def comprehensions_passed_to_numpy(x, w):
    return np.mean([np.sin(v) * w for v in x]) + np.dot(x, [v * w for v in x]) + np.prod(
        [1.0 + v for v in x])


@case(V3)
def builtin_sum_of_array(x):
    return sum(x * x)


@case(1.3, 0.4, wrt=(0, 1))
def builtin_sum_of_list_literal(x, y):
    return sum([x, y, x * y], 1.0)


@case(np.arange(6.0).reshape(2, 3) / 5.0)  # not under jit: Numba cannot unify 0 with a row
def builtin_sum_of_matrix_rows(m):
    return np.sum(sum(m) ** 2)


# -- tuple and list literals of differentiated values -------------------------------------------

@case(1.3, 0.4, wrt=(0, 1))
def tuple_literal_indexed(x, y):
    p = (x * y, x - y)
    return p[0] + 2.0 * p[-1]


@case(1.3, 0.4, wrt=(0, 1), jit=True)
def tuple_literal_unpacked(x, y):
    p = (x * y, x - y)
    q = p
    a, b = q
    return a * b + len(p)


@case(1.3, 0.4, wrt=(0, 1), jit=True)
def list_literal_to_numpy(x, y):
    parts = [x * y, np.sin(x), y]
    v = np.array(parts)
    return np.sum(v * v) + sum(parts)


@case(1.3, wrt=0)
def nested_tuple_literal(x):
    t = ((x, x * 2.0), 3.0)
    (a, b), c = t
    inner = t[0]
    return a * b * c + inner[1]


def _first_times_length(xs):
    a, b = xs[0], xs[-1]
    return a * b * len(xs)


@case(1.3, 0.4, wrt=(0, 1))
def literal_passed_to_a_helper(x, y):
    return _first_times_length((x * y, y)) + _first_times_length([x, 2.0, y])


@case(V3)
def tuple_literal_in_a_loop(x):
    s = 0.0
    for v in x:
        pair = (v * v, np.cos(v))
        s = s + pair[0] * pair[1]
    return s


@case(0.6, 1.7, wrt=(0, 1), jit=True)
def comprehensions_over_literals(x, y):
    parts = (x * y, np.sin(x), y)
    total = 0.0
    for p in parts:
        total = total + p * p
    r = np.array([v * 2.0 for v in [x, y, x * y] if v > 0.0])
    return total + sum(q * x for q in (y, 2.0)) + max(v for v in parts) + np.sum(r)


@case(V4, jit=True)
def index_array_from_a_comprehension(x):
    picked = np.array([k for k in range(len(x)) if x[k] > 0.5], dtype=np.int64)
    return np.sum(x[picked] ** 2) + sum(x[k] for k in picked)


# -- lists built with append ----------------------------------------------------------------

@case(V4, jit=True)
def list_of_scalars_appended_then_made_an_array(x):
    out = []
    for i in range(len(x)):
        out.append(x[i] * 2.0 + np.sin(x[i]))
    return np.sum(np.array(out) ** 2) + len(out)


@case(V3)
def list_of_arrays_appended_then_stacked(x):
    rows = []
    for k in range(3):
        rows.append(x * (k + 1.0))
    m = np.stack(rows)
    return np.sum(m @ x) + np.sum(np.asarray(m) ** 2)


@case(V4, jit=True)
def list_appended_under_a_condition_then_summed(x):
    picked = []
    for v in x:
        if v > 0.5:
            picked.append(np.exp(v) * v)
    return sum(picked) * 3.0


# -- refusals ---------------------------------------------------------------------------------

def comprehension_in_conditional(x, flag):
    return sum(v for v in x) if flag else 0.0


def comprehension_passed_elsewhere(x):
    return np.sum(np.hstack([x * k for k in range(2)]))


def list_literal_indexed_by_a_variable(x, k):
    p = [x, x * x]
    return p[k]


@pytest.mark.parametrize("fn, args, message, hint", [
    (comprehension_in_conditional, (V3, True), "may be skipped or evaluated again",
     "on a line of its own"),
    (comprehension_passed_elsewhere, (V3,), "this use of a comprehension", "feed it to sum"),
    (list_literal_indexed_by_a_variable, (1.0, 1), "list or tuple of differentiated values",
     "np.array"),
])
def test_refusals_are_located(fn, args, message, hint):
    with pytest.raises(UnsupportedSyntaxError) as info:
        adjoint.grad(fn)(*args)
    err = info.value
    assert message in str(err) and hint in (err.hint or "")
    assert err.filename == __file__
    assert fn.__code__.co_firstlineno < err.lineno <= fn.__code__.co_firstlineno + 2


def list_made_an_array_in_the_loop_that_appends(x):
    out = []
    total = 0.0
    for v in x:
        out.append(v * v)
        total = total + np.sum(np.array(out))  # each array holds the items appended so far
    return total


def test_a_list_made_an_array_more_than_once_is_refused_where_it_is():
    with pytest.raises(UnsupportedSyntaxError, match="made into an array once") as info:
        adjoint.grad(list_made_an_array_in_the_loop_that_appends)(V3)
    err = info.value
    assert err.filename == __file__ and "collect the values in an array" in err.hint
    assert err.lineno == list_made_an_array_in_the_loop_that_appends.__code__.co_firstlineno + 5


def ragged_items(x):
    r = np.array([x[:k + 1] * 2.0 for k in range(2, -1, -1)])
    return np.sum(r)


def test_items_of_different_shapes_are_an_error_not_a_broadcast():
    with pytest.raises(AssertionError, match="one shape"):
        adjoint.grad(ragged_items)(V3)


# -- every case: grad (Python mode and jit) and jvp against finite differences -----------------

@pytest.mark.parametrize("mode", ["python", "jit"])
@pytest.mark.parametrize("fn, args, wrt, jit", case.params)
def test_grad_against_finite_differences(fn, args, wrt, jit, mode):
    check_grad_case(fn, args, wrt, jit, mode)


@pytest.mark.parametrize("fn, args, wrt, jit", case.params)
def test_jvp_against_finite_differences(fn, args, wrt, jit):
    check_jvp_case(fn, args, wrt)


# -- second derivatives of arrays built from comprehensions and lists ---------------------------

def _squares_of_sines(x):
    y = np.array([np.sin(x[i]) * x[i] for i in range(len(x))])
    z = np.stack([v * y for v in x])
    return np.sum(y * y) + np.sum(z ** 3)


def _sines_times_squares(x):
    y = np.array([np.sin(x[i]) * x[i] for i in range(len(x))])
    return np.sum(y * y)


@pytest.mark.parametrize("fn, jit", [
    (_squares_of_sines, False), (list_of_scalars_appended_then_made_an_array, False),
    (_sines_times_squares, True)])
def test_hessian_of_arrays_built_from_comprehensions_and_lists(fn, jit):
    """hessian (forward over the generated gradient, which writes the array's adjoint into the
    items' adjoints) against central differences of the gradient."""
    x = V4[:3]
    hess = adjoint.hessian(fn, jit=jit)(x)
    gradient = adjoint.grad(fn)
    h = 1e-6
    expected = np.stack([(gradient(x + h * e) - gradient(x - h * e)) / (2 * h)
                         for e in np.eye(3)], axis=1)
    np.testing.assert_allclose(hess, expected, rtol=1e-6, atol=1e-6)


def empty_comprehensions(x, cut):
    return max(v for v in x if v > cut) + np.sum(np.array([v for v in x if v > cut]))


def test_empty_comprehensions_raise():
    dempty = adjoint.grad(empty_comprehensions)
    np.testing.assert_allclose(dempty(V3, 1.0), [0.0, 0.0, 2.0])
    with pytest.raises(AssertionError, match="empty"):
        dempty(V3, 5.0)
