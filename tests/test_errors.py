"""Every refusal: the error class, the user's line, and a hint that says what to do instead.

Takes small functions defined in this file, each with its offending line(s) marked
``# refused``. Guarantees that each construct adjoint does not differentiate is refused with the
right :mod:`adjoint.errors` class, located at a marked line of *this* file (found with
``inspect``, never hard-coded), with a non-empty hint, and that ``str(err)`` shows the offending
source line. A refusal may come when ``grad(f)`` is called or at the first call of the result,
but always before any number is returned.
"""

from __future__ import annotations

import inspect
import math
import os

import numpy as np
import pytest

import adjoint
from adjoint import errors
from adjoint.errors import (
    AdjointError,
    NonScalarOutputError,
    NoRuleError,
    SourceUnavailableError,
    UnsupportedSyntaxError,
    WrtError,
)

MARKER = "# refused"


def marked_lines(fn):
    """Absolute line numbers (in this file) of ``fn``'s lines that carry the marker."""
    lines, start = inspect.getsourcelines(fn)
    found = {start + k for k, line in enumerate(lines) if MARKER in line}
    assert found, f"{fn.__name__} has no '{MARKER}' line"
    return found


def refusal(fn, *args, transform=None, **options):
    """The AdjointError raised by transforming ``fn`` or by calling the result on ``args``."""
    transform = transform or adjoint.grad
    with pytest.raises(AdjointError) as info:
        result = transform(fn, **options)(*args)
        pytest.fail(f"no error; returned {result!r}")  # pragma: no cover - the failure case
    return info.value


def assert_hint(err):
    hint = err.hint
    assert isinstance(hint, str) and len(hint.split()) >= 3, f"hint too short: {hint!r}"
    assert hint.strip() != str(err.message).strip(), "the hint repeats the message"
    assert f"hint: {hint}" in str(err)


def assert_located(err, fn, lines=None):
    """``err`` points at a marked line of ``fn`` in this file, and shows that line."""
    lines = marked_lines(fn) if lines is None else lines
    assert err.lineno in lines, f"line {err.lineno}, expected one of {sorted(lines)}:\n{err}"
    assert err.filename is not None and os.path.samefile(err.filename, __file__), err.filename
    text = str(err)
    shown = inspect.getsourcelines(fn)[0][err.lineno - inspect.getsourcelines(fn)[1]]
    assert shown.split(MARKER)[0].strip() in text, f"offending line not shown:\n{text}"


def test_error_classes_form_one_family():
    for cls in (UnsupportedSyntaxError, NoRuleError, SourceUnavailableError,
                NonScalarOutputError, WrtError):
        assert issubclass(cls, AdjointError)
        assert getattr(errors, cls.__name__) is cls
    assert adjoint.AdjointError is AdjointError


# --- syntax outside the differentiable subset -------------------------------------------------


def uses_yield(x):
    y = x * 2.0
    yield y  # refused


async def uses_async(x):  # refused
    return x * 2.0


def uses_try(x):
    try:  # refused
        y = 1.0 / x
    except ZeroDivisionError:
        y = 0.0
    return y


def uses_with(x):
    with np.errstate(all="ignore"):  # refused
        y = np.log(x)
    return y


_TOTAL = 0.0


def uses_global(x):
    global _TOTAL  # refused
    _TOTAL = _TOTAL + x  # refused
    return x * _TOTAL


def _make_uses_nonlocal():
    acc = 1.0

    def uses_nonlocal(x):
        nonlocal acc  # refused
        acc = acc * x  # refused
        return acc * x

    return uses_nonlocal


def star_args(x, *rest):  # refused
    return x * 2.0


def star_kwargs(x, **options):  # refused
    return x * 2.0


def defines_class(x):
    class Point:  # refused
        scale = 2.0

    return x * Point.scale


def defines_nested_function(x):
    if x > 0:
        def inner(v):  # refused: a local function defined in a branch
            return v * v

    return inner(x)


def uses_del(x):
    y = x * x
    del y  # refused
    return x


def imports_inside(x):
    import math as m  # refused

    return m.sin(x)


# Each case with the words of which the message must contain one: it names what is refused.
SYNTAX_CASES = [
    pytest.param(uses_yield, ("yield", "generator"), id="yield"),
    pytest.param(uses_async, ("async",), id="async-def"),
    pytest.param(uses_try, ("try",), id="try"),
    pytest.param(uses_with, ("with",), id="with"),
    pytest.param(uses_global, ("global",), id="global"),
    pytest.param(_make_uses_nonlocal(), ("nonlocal",), id="nonlocal"),
    pytest.param(star_args, ("*args",), id="star-args"),
    pytest.param(star_kwargs, ("**kwargs",), id="star-kwargs"),
    pytest.param(defines_class, ("class",), id="class-def"),
    pytest.param(defines_nested_function, ("def", "branch"), id="nested-def"),
    pytest.param(uses_del, ("del",), id="del"),
    pytest.param(imports_inside, ("import",), id="import"),
]


@pytest.mark.parametrize("fn, words", SYNTAX_CASES)
def test_unsupported_syntax_is_refused_at_the_users_line(fn, words):
    err = refusal(fn, 2.0)
    assert type(err) is UnsupportedSyntaxError, f"{type(err).__name__}: {err}"
    assert any(word in err.message for word in words), (
        f"the message should name the construct ({' or '.join(words)}):\n{err}")
    assert_located(err, fn)
    assert_hint(err)


@pytest.mark.parametrize("fn", [pytest.param(uses_try, id="try"),
                                pytest.param(uses_yield, id="yield")])
def test_refusal_also_under_jit(fn):
    err = refusal(fn, 2.0, jit=True)
    assert type(err) is UnsupportedSyntaxError
    assert_located(err, fn)


def test_refusal_through_value_and_grad():
    err = refusal(uses_del, 2.0, transform=adjoint.value_and_grad)
    assert type(err) is UnsupportedSyntaxError
    assert_located(err, uses_del)


def _calls_refused_helper(x):
    return uses_del(x) + x


def test_refusal_inside_a_called_user_function_points_into_the_callee():
    err = refusal(_calls_refused_helper, 2.0)
    assert type(err) is UnsupportedSyntaxError
    assert_located(err, uses_del)


# --- functions whose source cannot be read -----------------------------------------------------


def test_lambda_sharing_its_line_is_refused():
    square, _ = (lambda x: x * x), (lambda x: x + x)
    line = inspect.currentframe().f_lineno - 1
    assert adjoint.grad(lambda y: y * y)(2.0) == 4.0  # a lambda alone on its line is fine
    err = refusal(square, 2.0)
    # Two lambdas with the same parameters on one line: which one is square cannot be told.
    assert type(err) is UnsupportedSyntaxError, f"{type(err).__name__}: {err}"
    assert err.lineno == line, f"line {err.lineno}, expected {line}:\n{err}"
    assert "def" in err.hint, f"the hint should say to write a def: {err.hint!r}"
    assert_hint(err)


def test_builtin_function_is_refused():
    err = refusal(math.sin, 2.0)
    assert type(err) is SourceUnavailableError, f"{type(err).__name__}: {err}"
    assert "sin" in str(err)
    assert_hint(err)


def test_function_made_by_exec_is_refused():
    namespace = {}
    exec("def made(x):\n    return x * x\n", namespace)  # noqa: S102 - the case under test
    err = refusal(namespace["made"], 2.0)
    assert type(err) is SourceUnavailableError, f"{type(err).__name__}: {err}"
    assert "made" in str(err)
    assert_hint(err)


# --- calls adjoint cannot differentiate ----------------------------------------------------------

_cube_ufunc = np.frompyfunc(lambda v: v**3, 1, 1)


def calls_opaque_ufunc(x):
    y = _cube_ufunc(x)  # refused
    return y * 2.0


def calls_gamma(x):
    y = math.gamma(x)  # refused
    return y * 2.0


def calls_lgamma(x):
    y = math.lgamma(x)  # refused
    return y * 2.0


def uses_fft(x):
    y = np.fft.fft(x)  # refused
    return np.sum(np.abs(y))


def _has_rule(obj):
    from adjoint.rules import registry

    return registry.lookup(obj) is not None


@pytest.mark.parametrize("fn, callee", [
    pytest.param(calls_opaque_ufunc, _cube_ufunc, id="frompyfunc-ufunc"),
    pytest.param(calls_gamma, math.gamma, id="math.gamma"),
    pytest.param(calls_lgamma, math.lgamma, id="math.lgamma"),
])
def test_callee_without_rule_or_source_is_refused(fn, callee):
    if _has_rule(callee):
        pytest.skip(f"{callee!r} has a derivative rule")
    err = refusal(fn, 2.5)
    assert type(err) is NoRuleError, f"{type(err).__name__}: {err}"
    assert_located(err, fn)
    assert_hint(err)


def test_numpy_function_without_rule_is_refused_at_the_users_line():
    """NumPy's own Python source must not be transformed: the refusal names the user's call."""
    err = refusal(uses_fft, np.linspace(0.5, 2.0, 4))
    assert type(err) is NoRuleError, f"{type(err).__name__}: {err}"
    assert_located(err, uses_fft)
    assert "fft" in str(err)
    assert_hint(err)


# --- wrt -----------------------------------------------------------------------------------------


def two_args(x, y):  # refused
    return x * y


def test_wrt_name_that_does_not_exist():
    err = refusal(two_args, 2.0, 3.0, wrt="z")
    assert type(err) is WrtError, f"{type(err).__name__}: {err}"
    assert any(quoted in str(err) for quoted in ("'z'", '"z"', "`z`")), str(err)
    assert_located(err, two_args)
    assert_hint(err)


@pytest.mark.parametrize("wrt", [2, (0, 5)])
def test_wrt_index_out_of_range(wrt):
    err = refusal(two_args, 2.0, 3.0, wrt=wrt)
    assert type(err) is WrtError, f"{type(err).__name__}: {err}"
    assert_located(err, two_args)
    assert_hint(err)


# --- outputs -------------------------------------------------------------------------------------


def returns_array(x):
    return np.sin(x)  # refused


def returns_tuple(x, y):
    return x * y, x + y  # refused


@pytest.mark.parametrize("fn, args", [
    pytest.param(returns_array, (np.linspace(0.5, 2.0, 3),), id="array"),
    pytest.param(returns_tuple, (2.0, 3.0), id="tuple"),
])
def test_grad_of_non_scalar_output_points_to_vjp(fn, args):
    err = refusal(fn, *args)
    assert type(err) is NonScalarOutputError, f"{type(err).__name__}: {err}"
    assert "vjp" in str(err), f"the error must point to vjp:\n{err}"
    assert_located(err, fn)
    assert_hint(err)
