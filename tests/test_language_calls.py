"""Side effects (``print``, ``assert``, discarded calls), callables (``functools.partial``,
lambdas, closures, notebook cells, ``@numba.njit`` functions, functions defined in the body) and
recursion bounded by int arguments.

Each case is checked against central finite differences in float64 with ``grad`` in Python mode
and (a representative subset) under ``jit=True``, and with ``jvp`` in Python mode
(:mod:`language_cases`). Refusals are checked for their location and hint.
"""

from __future__ import annotations

import functools
import linecache
import math

import numba
import numpy as np
import pytest
from language_cases import V3, Cases, check_grad_case, check_jvp_case

import adjoint
from adjoint.errors import UnsupportedSyntaxError
from adjoint.testing import check_grad

case = Cases()

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
    # Numba cannot append to a global list: this straight-line code runs in NumPy under jit
    assert adjoint.grad(logged, jit=True)(0.5, 3) == 3.0
    assert RECORDED == [3, 3]


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


def prints_an_f_string(x, n):
    y = np.sum(x * x)
    print(f"loss {y:.3f} n={n} first={x[0] * 2.0}")
    assert y > 0, f"y = {y}"
    return y


def test_f_strings_in_print_and_assert(capfd):
    np.testing.assert_allclose(adjoint.grad(prints_an_f_string)(np.array([1.0, 2.0]), 3),
                               [2.0, 4.0])
    assert capfd.readouterr().out == "loss 5.000 n=3 first=2.0\n"
    # Numba cannot format with a spec: this straight-line code runs in NumPy under jit
    np.testing.assert_allclose(
        adjoint.grad(prints_an_f_string, jit=True)(np.array([1.0, 2.0]), 3), [2.0, 4.0])
    assert capfd.readouterr().out == "loss 5.000 n=3 first=2.0\n"


# -- every case: grad (Python mode and jit) and jvp against finite differences -----------------

@pytest.mark.parametrize("mode", ["python", "jit"])
@pytest.mark.parametrize("fn, args, wrt, jit", case.params)
def test_grad_against_finite_differences(fn, args, wrt, jit, mode):
    check_grad_case(fn, args, wrt, jit, mode)


@pytest.mark.parametrize("fn, args, wrt, jit", case.params)
def test_jvp_against_finite_differences(fn, args, wrt, jit):
    check_jvp_case(fn, args, wrt)
