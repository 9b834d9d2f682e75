"""The Python people write in numeric code: comprehensions, generator expressions, builtin
``sum``, tuple and list literals of differentiated values, side effects, callables and bounded
recursion.

Each case is checked against central finite differences in float64 with ``grad`` in Python mode
and under ``jit=True`` (one compiled function per case, reused), and with ``jvp`` in Python
mode along a random direction. Refusals are checked for their location and hint.
"""

from __future__ import annotations

import functools
import linecache
import math

import numba
import numpy as np
import pytest

import adjoint
from adjoint.errors import UnsupportedSyntaxError
from adjoint.testing import check_grad

CASES = []


def case(*args, wrt=0, jit=False):
    def register(fn):
        CASES.append(pytest.param(fn, args, wrt, jit, id=fn.__name__))
        return fn
    return register


V3 = np.array([0.7, -1.3, 2.1])
V4 = np.array([0.4, 1.1, -0.8, 1.6])


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


_BUILT = {}


def _jitted(fn, wrt, mode):
    key = (fn, mode)
    if key not in _BUILT:
        _BUILT[key] = adjoint.grad(fn, wrt=wrt, jit=(mode == "jit"))
    return _BUILT[key]


@pytest.mark.parametrize("mode", ["python", "jit"])
@pytest.mark.parametrize("fn, args, wrt, jit", CASES)
def test_grad_against_finite_differences(fn, args, wrt, jit, mode):
    if mode == "jit" and not jit:
        pytest.skip("compiled for a representative subset only (Numba compiles are slow)")
    check_grad(fn, *args, wrt=wrt, grad_fn=_jitted(fn, wrt, mode))
    if mode == "jit":
        expected = _jitted(fn, wrt, "python")(*args)
        got = _jitted(fn, wrt, "jit")(*args)
        for e, o in zip(np.atleast_1d(expected) if not isinstance(expected, tuple) else expected,
                        np.atleast_1d(got) if not isinstance(got, tuple) else got):
            np.testing.assert_allclose(o, e, rtol=1e-10)


@pytest.mark.parametrize("fn, args, wrt, jit", CASES)
def test_jvp_against_finite_differences(fn, args, wrt, jit):
    positions = wrt if isinstance(wrt, tuple) else (wrt,)
    rng = np.random.default_rng(7)
    tangents = [rng.standard_normal(np.shape(args[p])) if np.ndim(args[p]) else
                float(rng.standard_normal()) for p in positions]
    value, tangent = adjoint.jvp(fn, wrt=wrt)(*args, *tangents)
    eps = 1e-6

    def moved(sign):
        out = list(args)
        for p, t in zip(positions, tangents):
            out[p] = args[p] + sign * eps * np.asarray(t) if np.ndim(args[p]) else \
                args[p] + sign * eps * t
        return fn(*out)

    assert value == pytest.approx(fn(*args), rel=1e-12)
    assert tangent == pytest.approx((moved(1) - moved(-1)) / (2 * eps), rel=1e-5, abs=1e-7)


# -- refusals ---------------------------------------------------------------------------------

def comprehension_in_conditional(x, flag):
    return sum(v for v in x) if flag else 0.0


def comprehension_passed_elsewhere(x):
    return np.prod([v for v in x])


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


# -- side effects: print, assert, discarded calls ------------------------------------------------

RECORDED = []


def _record(value):
    RECORDED.append(value)


def noisy(x, n):
    print("start", n)
    y = 0.0
    for i in range(n):
        y = y + math.sin(x * i)
        print("step", i)
    assert y < 100.0, "y too large"
    return y * x


@pytest.mark.parametrize("mode", ["python", "jit"])
def test_print_and_assert_run_once_in_order(mode, capfd):
    dnoisy = adjoint.grad(noisy, jit=(mode == "jit"))
    check_grad(noisy, 0.5, 3, grad_fn=dnoisy)
    capfd.readouterr()
    dnoisy(0.5, 3)
    assert capfd.readouterr().out.split("\n") == [
        "start 3", "step 0", "step 1", "step 2", ""]


def logged(x, n):
    _record(n)
    return x * n


def test_discarded_call_on_other_values_runs_once():
    RECORDED.clear()
    assert adjoint.grad(logged)(0.5, 3) == 3.0
    assert RECORDED == [3]
    with pytest.raises(adjoint.JitError):  # Numba cannot append to a global list
        adjoint.grad(logged, jit=True)(0.5, 3)


def printed(x):
    y = x * x
    print("y", y)
    assert np.all(y >= 0.0), "a square is never negative"
    return np.sum(y)


@pytest.mark.parametrize("mode", ["python", "jit"])
def test_print_of_differentiated_values(mode, capfd):
    dprinted = adjoint.grad(printed, jit=(mode == "jit"))
    np.testing.assert_allclose(dprinted(np.array([1.0, 2.0])), [2.0, 4.0])
    out = capfd.readouterr().out
    assert out.count("y [") == 1 and "1." in out and "4." in out
    value, tangent = adjoint.jvp(printed)(np.array([1.0, 2.0]), np.ones(2))
    assert tangent == pytest.approx(6.0) and capfd.readouterr().out.count("y [") == 1


def asserting(x):
    assert x < 1.0, "x must be below 1"
    return x * x


@pytest.mark.parametrize("mode", ["python", "jit"])
def test_assert_keeps_its_message(mode):
    dasserting = adjoint.grad(asserting, jit=(mode == "jit"))
    assert dasserting(0.5) == pytest.approx(1.0)
    with pytest.raises(AssertionError, match="x must be below 1"):
        dasserting(2.0)


def records_a_differentiated_value(x):
    _record(x)
    return x * x


def test_discarded_call_on_a_differentiated_value_is_refused():
    with pytest.raises(UnsupportedSyntaxError) as info:
        adjoint.grad(records_a_differentiated_value)(1.0)
    assert "is discarded" in str(info.value) and "stop_gradient" in info.value.hint


# -- callables: partial, lambda, closures, notebook cells, numba.njit -----------------------------

def _power(x, p, scale=1.0):
    return scale * x ** p


cube = functools.partial(_power, p=3)
two_to_the = functools.partial(_power, 2.0, scale=0.5)
square = lambda x: x * x  # noqa: E731 (a lambda at module level is the point)
WEIGHTS = np.array([0.5, -1.0, 2.0])
weighted_power = functools.partial(_power, scale=WEIGHTS)


def _make_closure(a):
    def scaled_sin(x):
        return np.sum(a * np.sin(x) + square(x))
    return scaled_sin


scaled_sin = _make_closure(1.7)


@numba.njit
def _nb_energy(x, y):
    s = 0.0
    for i in range(x.shape[0]):
        s += math.sin(x[i]) * y
    return s


@case(1.3)
def calls_partials_and_a_lambda(x):
    return cube(x) + two_to_the(x) + square(x)


@case(V3)
def calls_a_partial_bound_to_an_array(x):
    return np.sum(weighted_power(x, 2))


@case(V3)
def calls_a_closure(x):
    return scaled_sin(x) * 2.0


@case(V3, 0.8, wrt=(0, 1), jit=True)
def calls_an_njit_function(x, y):
    return _nb_energy(x, y) * y


CALLABLES = [
    pytest.param(cube, (1.3,), "python", id="partial"),
    pytest.param(square, (1.3,), "jit", id="module_lambda"),
    pytest.param(lambda v: np.sum(v ** 3) + v[0], (V3,), "python", id="inline_lambda"),
    pytest.param(scaled_sin, (V3,), "python", id="closure"),
    pytest.param(_nb_energy, (V3, 0.8), "python", id="njit"),
    pytest.param(_nb_energy, (V3, 0.8), "jit", id="njit-jit"),
]


@pytest.mark.parametrize("fn, args, mode", CALLABLES)
def test_transforming_callables(fn, args, mode):
    check_grad(fn, *args, grad_fn=adjoint.grad(fn, jit=(mode == "jit")))


def test_function_defined_in_a_notebook_cell():
    source = "def cell_cube(x):\n    return x ** 3 + x\n"
    filename = "<ipython-input-7-0123456789ab>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace = {}
    exec(compile(source, filename, "exec"), namespace)
    assert adjoint.grad(namespace["cell_cube"])(2.0) == pytest.approx(13.0)
    assert adjoint.grad(namespace["cell_cube"], jit=True)(2.0) == pytest.approx(13.0)


def two_lambdas_on_one_line():
    return (lambda x: x * x), (lambda x: x + x)


def test_two_lambdas_on_one_line_are_refused():
    first, _ = two_lambdas_on_one_line()
    with pytest.raises(UnsupportedSyntaxError) as info:
        adjoint.grad(first)(1.0)
    assert "2 lambdas" in str(info.value) and "line of its own" in info.value.hint
    assert info.value.lineno == two_lambdas_on_one_line.__code__.co_firstlineno + 1


# -- recursion bounded by an int argument ---------------------------------------------------------

def power(x, n):
    return 1.0 if n == 0 else x * power(x, n - 1)


def fib_like(x, n):
    if n <= 1:
        return x
    return fib_like(x, n - 1) + math.sin(fib_like(x, n - 2))


@case(1.3, jit=True)
def calls_bounded_recursion(x):
    return power(x, 3) + fib_like(x, 4)


@pytest.mark.parametrize("mode", ["python", "jit"])
def test_recursive_function_specialised_per_int_value(mode):
    dpower = adjoint.grad(power, jit=(mode == "jit"))
    for n in ((0, 3) if mode == "jit" else (0, 1, 4, 2)):
        assert dpower(1.3, n) == pytest.approx(n * 1.3 ** (n - 1) if n else 0.0, rel=1e-12)
    value, tangent = adjoint.jvp(fib_like)(0.4, 5, 1.0)
    assert value == pytest.approx(fib_like(0.4, 5))
    check_grad(fib_like, 0.4, 5)


def calls_recursion_with_its_int_argument(x, n):
    return power(x, n) * 2.0


def test_int_argument_of_the_differentiated_function_bounds_the_recursion():
    dcalls = adjoint.grad(calls_recursion_with_its_int_argument)
    for n in (2, 5):
        check_grad(calls_recursion_with_its_int_argument, 1.1, n, grad_fn=dcalls)


def recursion_with_a_runtime_depth(x, n):
    k = n + 1
    return power(x, k)


def recursion_without_an_int(x):
    return x if x < 0.1 else recursion_without_an_int(x * 0.5)


@pytest.mark.parametrize("fn, line", [(recursion_with_a_runtime_depth, 2),
                                      (recursion_without_an_int, 1)])
def test_unbounded_recursion_is_refused(fn, line):
    with pytest.raises(UnsupportedSyntaxError) as info:
        adjoint.grad(fn)(1.0, 2) if fn is recursion_with_a_runtime_depth else \
            adjoint.grad(fn)(1.0)
    assert "recursive call" in str(info.value) and "int argument" in info.value.hint
    assert info.value.lineno == fn.__code__.co_firstlineno + line


# -- functions defined inside the differentiated function ---------------------------------------

@case(0.7, 1.5, wrt=(0, 1), jit=True)
def local_def_lambda_and_closure(x, a):
    def scaled(v):
        return a * math.sin(v)
    sq = lambda v: v * v  # noqa: E731
    def both(v, k=2.0):
        return scaled(v) + sq(v) * k
    a = a * 2.0  # a closure reads the value at the call
    return both(x) + scaled(x * 2.0)


@case(1.3)
def local_recursive_def(x):
    def fact(v, n):
        return 1.0 if n == 0 else v * fact(v, n - 1)
    return fact(x, 3)


def local_function_returned(x):
    def h(v):
        return v
    return h


def local_function_in_a_branch(x):
    if x > 0:
        def h(v):
            return v
    return x


@pytest.mark.parametrize("fn, line, message", [
    (local_function_returned, 3, "can only be called"),
    (local_function_in_a_branch, 2, "inside a branch"),
])
def test_local_functions_used_otherwise_are_refused(fn, line, message):
    with pytest.raises(UnsupportedSyntaxError) as info:
        adjoint.grad(fn)(1.0)
    assert message in str(info.value) and "module level" in info.value.hint
    assert info.value.lineno == fn.__code__.co_firstlineno + line


@case(0.6, 1.7, wrt=(0, 1), jit=True)
def comprehensions_over_literals(x, y):
    parts = (x * y, np.sin(x), y)
    total = 0.0
    for p in parts:
        total = total + p * p
    r = np.array([v * 2.0 for v in [x, y, x * y] if v > 0.0])
    return total + sum(q * x for q in (y, 2.0)) + max(v for v in parts) + np.sum(r)


def greets(x):
    print("hello")
    return x ** 3


def test_print_survives_a_second_derivative(capfd):
    ddgreets = adjoint.grad(adjoint.grad(greets))
    assert ddgreets(2.0) == pytest.approx(12.0)
    capfd.readouterr()
    assert ddgreets(1.0) == pytest.approx(6.0)
    assert capfd.readouterr().out == "hello\n"


def test_int_argument_in_wrt_is_differentiated_not_specialised():
    dpower = adjoint.grad(power, wrt=0)
    assert dpower(2, 3) == pytest.approx(12.0)  # x = 2 (an int) is differentiated as 2.0
    with pytest.raises(UnsupportedSyntaxError, match="recursive call"):
        adjoint.grad(power, wrt=(0, 1))(2.0, 3)  # n differentiated: its depth is not known


def ragged_items(x):
    r = np.array([x[:k + 1] * 2.0 for k in range(2, -1, -1)])
    return np.sum(r)


def test_items_of_different_shapes_are_an_error_not_a_broadcast():
    with pytest.raises(AssertionError, match="one shape"):
        adjoint.grad(ragged_items)(V3)


def prints_an_f_string(x, n):
    y = np.sum(x * x)
    print(f"loss {y:.3f} n={n} first={x[0] * 2.0}")
    assert y > 0, f"y = {y}"
    return y


def test_f_strings_in_print_and_assert(capfd):
    np.testing.assert_allclose(adjoint.grad(prints_an_f_string)(np.array([1.0, 2.0]), 3),
                               [2.0, 4.0])
    assert capfd.readouterr().out == "loss 5.000 n=3 first=2.0\n"
    with pytest.raises(adjoint.JitError) as info:  # Numba cannot format with a spec
        adjoint.grad(prints_an_f_string, jit=True)(np.array([1.0, 2.0]), 3)
    assert info.value.lineno == prints_an_f_string.__code__.co_firstlineno + 2


@case(V4, jit=True)
def index_array_from_a_comprehension(x):
    picked = np.array([k for k in range(len(x)) if x[k] > 0.5], dtype=np.int64)
    return np.sum(x[picked] ** 2) + sum(x[k] for k in picked)
