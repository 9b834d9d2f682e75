"""adjoint.testing: finite differences, the per-element report, and check_grad.

The first sections need no compiler: numeric gradients are checked against hand-written
derivatives, and check_grad's failure path is driven through ``grad_fn=`` with deliberately
wrong gradients. The last section runs check_grad against adjoint's own gradients.
"""

import math

import numpy as np
import pytest

import adjoint
from adjoint.errors import GradientCheckError, NonScalarOutputError, WrtError
from adjoint.testing import (
    ElementCheck,
    check_grad,
    format_report,
    gradient_report,
    numeric_grad,
    numeric_vjp,
)

RNG = np.random.default_rng(20240611)


def poly(x):
    return x**2 + 3 * x + 1


def loss(w, b, X, y):
    h = np.tanh(X @ w + b)
    return np.mean((h - y) ** 2)


def dloss(w, b, X, y):
    """The hand-written gradient of ``loss`` with respect to ``w`` and ``b``."""
    h = np.tanh(X @ w + b)
    g = 2.0 * (h - y) / y.size * (1.0 - h**2)
    return X.T @ g, float(np.sum(g))


def loss_point():
    w = RNG.normal(size=3)
    X = RNG.normal(size=(5, 3))
    y = RNG.normal(size=5)
    return w, 0.25, X, y


# --- numeric_grad ----------------------------------------------------------------------------


def test_numeric_grad_of_a_polynomial():
    assert numeric_grad(poly, 2.0) == pytest.approx(7.0, rel=1e-9)


def test_numeric_grad_of_an_int_argument_is_a_float():
    g = numeric_grad(poly, 2)
    assert type(g) is float
    assert g == pytest.approx(7.0, rel=1e-9)


def test_numeric_grad_structure_follows_wrt():
    w, b, X, y = loss_point()
    gw, gb = numeric_grad(loss, w, b, X, y, wrt=("w", "b"))
    ew, eb = dloss(w, b, X, y)
    assert isinstance(gw, np.ndarray) and gw.shape == w.shape and gw.dtype == np.float64
    assert type(gb) is float
    np.testing.assert_allclose(gw, ew, rtol=1e-7, atol=1e-10)
    assert gb == pytest.approx(eb, rel=1e-7)
    # positions and names select the same arguments; a single wrt gives a bare gradient
    gw_pos, gb_pos = numeric_grad(loss, w, b, X, y, wrt=(0, 1))
    np.testing.assert_array_equal(gw_pos, gw)
    assert gb_pos == gb
    gX = numeric_grad(loss, w, b, X, y, wrt="X")
    assert isinstance(gX, np.ndarray) and gX.shape == X.shape


def test_numeric_grad_of_matrix_argument_matches_closed_form():
    A = RNG.normal(size=(3, 4))

    def f(A):
        return np.sum(np.sin(A) * A)

    np.testing.assert_allclose(numeric_grad(f, A), np.cos(A) * A + np.sin(A), rtol=1e-7)


def test_numeric_grad_of_int_array_is_float64():
    x = np.array([1, 2, 3])
    g = numeric_grad(lambda x: np.sum(x**2), x)
    assert g.dtype == np.float64
    np.testing.assert_allclose(g, [2.0, 4.0, 6.0], rtol=1e-8)


def test_numeric_grad_of_zero_dim_array_keeps_its_shape():
    g = numeric_grad(lambda x: float(x) ** 3, np.array(2.0))
    assert isinstance(g, np.ndarray) and g.shape == ()
    assert float(g) == pytest.approx(12.0, rel=1e-8)


def test_step_is_relative_to_the_magnitude_of_x():
    # With an absolute step of 1e-6, x**2 at 1e8 would lose about 3 digits to rounding.
    assert numeric_grad(lambda x: x**2, 1e8) == pytest.approx(2e8, rel=1e-12)


def test_numeric_grad_refuses_non_scalar_outputs():
    with pytest.raises(NonScalarOutputError) as info:
        numeric_grad(lambda x: x * np.ones(3), 1.0)
    assert "numeric_vjp" in info.value.hint
    with pytest.raises(NonScalarOutputError):
        numeric_grad(lambda x: (x, x), 1.0)


@pytest.mark.parametrize(
    "wrt, args, words",
    [
        ("z", (1.0, 2.0), "not a positional parameter"),
        (2, (1.0, 2.0), "2 arguments were given"),
        ("y", (1.0,), "1 argument was given"),
        (True, (1.0, 2.0), "positions or parameter names"),
        ((), (1.0, 2.0), "selects no argument"),
        ([0], (1.0, 2.0), "positions or parameter names"),
    ],
)
def test_bad_wrt_is_a_wrt_error(wrt, args, words):
    with pytest.raises(WrtError, match=words):
        numeric_grad(lambda x, y=0.0: x * y, *args, wrt=wrt)


@pytest.mark.parametrize("arg", ["1.0", [1.0, 2.0], np.array([1j]), np.array([True]), True])
def test_non_numeric_arguments_cannot_be_differentiated(arg):
    with pytest.raises(WrtError):
        numeric_grad(lambda x: 0.0, arg)


def test_caller_arrays_are_never_mutated():
    def f(x, c):
        x += 1.0  # writes into its argument: every evaluation must still see the same point
        c[0] = -1
        return np.sum(x**2 * c)

    x = np.array([1.0, 2.0, 3.0])
    c = np.array([1, 2, 3])
    x_before, c_before = x.copy(), c.copy()
    g = numeric_grad(f, x, c)
    np.testing.assert_array_equal(x, x_before)
    np.testing.assert_array_equal(c, c_before)
    np.testing.assert_allclose(g, 2.0 * (x + 1.0) * np.array([-1, 2, 3]), rtol=1e-8)


def test_read_only_arrays_are_accepted():
    x = np.linspace(0.1, 1.0, 4)
    x.flags.writeable = False
    np.testing.assert_allclose(numeric_grad(lambda x: np.sum(np.log(x)), x), 1.0 / x, rtol=1e-7)


# --- numeric_vjp -----------------------------------------------------------------------------


def test_numeric_vjp_of_an_elementwise_function():
    x = RNG.normal(size=4)
    u = RNG.normal(size=4)
    np.testing.assert_allclose(numeric_vjp(lambda x: x**2, (x,), 0, u), 2 * x * u, rtol=1e-7)


def test_numeric_vjp_of_a_matrix_product_is_the_transpose():
    A = RNG.normal(size=(3, 4))
    x = RNG.normal(size=4)
    u = RNG.normal(size=3)
    gA, gx = numeric_vjp(lambda A, x: A @ x, (A, x), ("A", "x"), u)
    np.testing.assert_allclose(gx, A.T @ u, rtol=1e-7)
    np.testing.assert_allclose(gA, np.outer(u, x), rtol=1e-7)


def test_numeric_vjp_of_a_tuple_output():
    def f(x, y):
        return x * y, x + y

    gx, gy = numeric_vjp(f, (2.0, 5.0), (0, 1), (3.0, 7.0))
    assert gx == pytest.approx(3.0 * 5.0 + 7.0, rel=1e-8)
    assert gy == pytest.approx(3.0 * 2.0 + 7.0, rel=1e-8)


def test_numeric_vjp_with_a_scalar_output_is_a_scaled_gradient():
    assert numeric_vjp(poly, (2.0,), 0, 0.5) == pytest.approx(3.5, rel=1e-8)


def test_numeric_vjp_checks_the_cotangent_structure():
    with pytest.raises(ValueError, match="shape"):
        numeric_vjp(lambda x: x * 2.0, (np.ones(3),), 0, np.ones(2))
    with pytest.raises(ValueError, match="tuple"):
        numeric_vjp(lambda x: (x, x), (1.0,), 0, 1.0)


# --- format_report ---------------------------------------------------------------------------


def row(index, adjoint_value, numeric_value, ok, argument="w"):
    err = abs(adjoint_value - numeric_value)
    return ElementCheck(argument, index, adjoint_value, numeric_value, err,
                        err / max(abs(adjoint_value), abs(numeric_value)), ok)


def test_report_marks_failing_rows_and_summarises():
    text = format_report([row((0,), 1.0, 1.0, True), row((1,), 2.5, 2.0, False),
                          row((), 3.0, 3.0, True, argument="b")])
    lines = text.splitlines()
    assert lines[0].split() == ["argument", "index", "adjoint", "numeric", "abs", "error", "rel",
                                "error"]
    failing = [line for line in lines if line.startswith("!")]
    assert len(failing) == 1 and "[1]" in failing[0] and "2.5" in failing[0]
    assert any(line.split()[:2] == ["b", "-"] for line in lines)
    assert lines[-1] == ("FAILED: 1 of 3 elements over tolerance (marked !), "
                         "worst relative error 2.0e-01 at w[1]")


def test_report_of_a_pass_names_the_worst_element():
    text = format_report([row((0, 1), 1.0, 1.0 + 1e-9, True), row((1, 0), 1.0, 1.0, True)])
    assert "!" not in text
    assert text.splitlines()[-1] == ("ok: 2 elements within tolerance, "
                                     "worst relative error 1.0e-09 at w[0, 1]")


def test_long_reports_show_failures_first_and_count_the_rest():
    rows = [row((i,), 1.0, 1.0, True) for i in range(50)]
    rows[7] = row((7,), 2.0, 1.0, False)
    rows[42] = row((42,), 3.0, 1.0, False)
    lines = format_report(rows, max_rows=5).splitlines()
    table = lines[1:-2]
    assert len(table) == 5
    assert [line.split()[2] for line in table if line.startswith("!")] == ["[7]", "[42]"]
    # shown rows stay in argument order
    shown = [int(line.split("[")[1].split("]")[0]) for line in table]
    assert shown == sorted(shown)
    assert lines[-2] == "... and 45 more elements (0 of them over tolerance)"
    hidden_failure = format_report(rows, max_rows=1).splitlines()[-2]
    assert hidden_failure == "... and 49 more elements (1 of them over tolerance)"


def test_empty_report():
    assert format_report([]) == "no elements compared"


# --- check_grad with an injected gradient ----------------------------------------------------


def test_a_correct_hand_written_gradient_passes():
    w, b, X, y = loss_point()
    worst = check_grad(loss, w, b, X, y, wrt=("w", "b"), grad_fn=dloss)
    assert 0.0 <= worst <= 1e-5
    ok, text, worst_again = gradient_report(loss, w, b, X, y, wrt=("w", "b"), grad_fn=dloss)
    assert ok and worst_again == worst
    assert text.splitlines()[0] == ("gradient check of loss with respect to w, b "
                                    "(eps=1e-06, rtol=1e-05, atol=1e-08)")
    assert text.splitlines()[-1].startswith("ok: 4 elements within tolerance")


def wrong_dloss(w, b, X, y):
    gw, gb = dloss(w, b, X, y)
    gw[1] += 0.05
    return gw, gb


def test_a_wrong_gradient_raises_with_a_report():
    w, b, X, y = loss_point()
    with pytest.raises(GradientCheckError) as info:
        check_grad(loss, w, b, X, y, wrt=("w", "b"), grad_fn=wrong_dloss)
    err = info.value
    assert "the gradient of loss disagrees" in err.message
    assert "w (1 of 3 elements)" in err.message and "b (" not in err.message
    right = dloss(w, b, X, y)[0][1]
    assert err.max_error == pytest.approx(0.05 / max(abs(right), abs(right + 0.05)), rel=1e-4)
    marked = [line for line in err.report.splitlines() if line.startswith("!")]
    assert len(marked) == 1 and marked[0].split()[1:3] == ["w", "[1]"]
    text = str(err)
    assert "kink" in text and err.report in text
    assert err.lineno == loss.__code__.co_firstlineno


def test_gradient_report_returns_the_failure_instead_of_raising():
    w, b, X, y = loss_point()
    ok, text, worst = gradient_report(loss, w, b, X, y, wrt=("w", "b"), grad_fn=wrong_dloss)
    assert not ok and worst > 1e-3
    assert "FAILED: 1 of 4 elements" in text


@pytest.mark.parametrize(
    "grad_fn, words",
    [
        (lambda w, b, X, y: (np.zeros(4), 0.0), "gradient for w should be an array of shape (3,)"),
        (lambda w, b, X, y: (dloss(w, b, X, y)[0], np.zeros(1)),
         "gradient for b should be a scalar"),
        (lambda w, b, X, y: dloss(w, b, X, y)[0], "expected a tuple of 2 gradients"),
        (lambda w, b, X, y: (None, 0.0), "got a NoneType"),
    ],
)
def test_gradients_of_the_wrong_structure_fail(grad_fn, words):
    w, b, X, y = loss_point()
    with pytest.raises(GradientCheckError) as info:
        check_grad(loss, w, b, X, y, wrt=("w", "b"), grad_fn=grad_fn)
    assert words in info.value.message
    assert info.value.max_error == math.inf


def test_nan_gradients_fail():
    with pytest.raises(GradientCheckError, match="1 of 1 element"):
        check_grad(poly, 2.0, grad_fn=lambda x: math.nan)


def test_wrong_kink_convention_is_reported_with_the_hint():
    # Central differences of abs at 0 give 0, the convention adjoint documents.
    with pytest.raises(GradientCheckError) as info:
        check_grad(abs, 0.0, grad_fn=lambda x: 1.0)
    assert "kink" in info.value.hint


def test_tolerances_are_relative_above_atol_over_rtol_and_absolute_below():
    # relative: an error of 1e-6 on a value of 7 passes at rtol=1e-5 and fails at rtol=1e-7
    assert check_grad(poly, 2.0, grad_fn=lambda x: 7.0 * (1 + 1e-6)) < 1e-5
    with pytest.raises(GradientCheckError):
        check_grad(poly, 2.0, grad_fn=lambda x: 7.0 * (1 + 1e-6), rtol=1e-7)
    # absolute: at the minimum of x**2 a zero gradient passes whatever rounding says, but an
    # error of 1e-6 is beyond atol=1e-8
    assert check_grad(lambda x: x * x, 0.0, grad_fn=lambda x: 0.0) <= 1e-5
    with pytest.raises(GradientCheckError):
        check_grad(lambda x: x * x, 0.0, grad_fn=lambda x: 1e-6)
    assert check_grad(lambda x: x * x, 0.0, grad_fn=lambda x: 1e-6, atol=1e-5) <= 1e-5


def test_rounding_noise_of_a_large_value_is_tolerated():
    # 1000 + x**2 near 0: its finite difference is rounding noise of about 1e-7 on a
    # gradient of 2e-3 — no adjoint could be checked more finely than that.
    assert check_grad(lambda x: 1000.0 + x**2, 1e-3, grad_fn=lambda x: 2 * x) <= 1e-5


def test_check_grad_never_mutates_arrays_even_if_grad_fn_does():
    def f(x):
        return np.sum(x**3)

    def grad_fn(x):
        g = 3 * x**2
        x[:] = 0.0
        return g

    x = np.array([1.0, -2.0, 0.5])
    before = x.copy()
    check_grad(f, x, grad_fn=grad_fn)
    np.testing.assert_array_equal(x, before)


def test_max_elements_checks_a_reproducible_random_subset():
    calls = []

    def f(x):
        calls.append(1)
        return np.sum(np.sin(x))

    x = RNG.normal(size=(10, 10))
    ok, text, _ = gradient_report(f, x, grad_fn=np.cos, max_elements=6, seed=3)
    assert ok and "x: 6 randomly chosen elements checked" in text
    assert len(calls) == 1 + 2 * 6  # the value, then two evaluations per checked element

    def table(report):
        return [line for line in report.splitlines() if line.lstrip().startswith("x ")]

    assert len(table(text)) == 6
    assert table(gradient_report(f, x, grad_fn=np.cos, max_elements=6, seed=3)[1]) == table(text)


@pytest.mark.parametrize(
    "options",
    [{"eps": 0.0}, {"rtol": 0.0}, {"atol": -1.0}, {"max_elements": 0}, {"jit": True},
     {"optimize": False}],
)
def test_bad_options_are_value_errors(options):
    with pytest.raises(ValueError):
        check_grad(poly, 2.0, grad_fn=lambda x: 2 * x + 3, **options)


# --- check_grad against adjoint's own gradients ----------------------------------------------


def vector_output(x):
    return x * 2.0


def test_check_grad_is_public():
    assert adjoint.check_grad is check_grad


@pytest.mark.parametrize("jit", [False, True])
def test_check_grad_passes_on_a_polynomial(jit):
    worst = check_grad(poly, 2.0, jit=jit)
    assert isinstance(worst, float) and 0.0 <= worst <= 1e-5


@pytest.mark.parametrize("jit", [False, True])
def test_check_grad_passes_on_a_loss(jit):
    w, b, X, y = loss_point()
    X_before = X.copy()
    assert check_grad(loss, w, b, X, y, wrt=("w", "b"), jit=jit) <= 1e-5
    np.testing.assert_array_equal(X, X_before)


def test_check_grad_raises_what_grad_raises_for_a_non_scalar_output():
    with pytest.raises(NonScalarOutputError):
        check_grad(vector_output, np.ones(3))


def test_a_wrong_forward_value_is_caught(monkeypatch):
    import adjoint.api

    real = adjoint.api.value_and_grad

    def off_by_one(f, **options):
        run = real(f, **options)

        def wrapped(*args):
            value, grads = run(*args)
            return value + 1.0, grads

        return wrapped

    monkeypatch.setattr(adjoint.api, "value_and_grad", off_by_one)
    with pytest.raises(GradientCheckError, match="forward pass returned 12.0, but poly returned "
                                                 "11.0"):
        check_grad(poly, 2.0)
