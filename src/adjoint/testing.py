"""Gradient checking: adjoint's gradients against central finite differences.

Takes a user's *primal* function and a point (its positional arguments) and guarantees:

- :func:`numeric_grad` returns the central-difference gradient of a scalar-valued function with
  the structure ``adjoint.grad`` returns (one gradient, or a tuple for a tuple ``wrt``; a float
  for a scalar argument, a float64 array of the argument's shape for an array);
- :func:`numeric_vjp` returns ``sum(cotangent * d output / d x)`` for any output (scalar, array,
  tuple of them), the finite-difference counterpart of a ``vjp`` pullback;
- :func:`check_grad` compares every element of every ``wrt`` gradient with central differences
  and returns the worst relative error, or raises :class:`~adjoint.errors.GradientCheckError`
  with a per-element report; :func:`gradient_report` runs the same check and returns
  ``(ok, text, worst)`` instead of raising, for the ``adjoint check`` command.

The caller's arrays are never mutated: every evaluation of the function (and the adjoint call)
receives fresh copies, so even a function that writes into its arguments is probed at the same
point each time. Differentiated arguments are perturbed in float64 (an int becomes a float, an
int or float32 array a float64 copy). ``eps`` is a relative step: element ``x`` moves by
``eps * max(1, |x|)``, so large values are not lost in rounding, and the quotient divides by the
step actually represented, ``(x + h) - (x - h)``.

An element passes when ``abs(adjoint - numeric) <= max(rtol * max(|adjoint|, |numeric|),
atol + noise)`` — :func:`math.isclose` with ``abs_tol = atol + noise`` — where ``noise`` is the
rounding error the finite difference itself cannot resolve, a few ulps of the function's value
divided by the step. Its *relative error* is ``abs_error / max(|adjoint|, |numeric|,
(atol + noise) / rtol)``, so an element passes exactly when its relative error is at most
``rtol``, and values too small for ``rtol`` to judge are judged by ``atol`` instead.

>>> round(numeric_grad(lambda x: x**2 + 3*x + 1, 2.0), 6)
7.0
>>> check_grad(lambda x: x**2, 3.0, grad_fn=lambda x: 2 * x) < 1e-5
True
"""

from __future__ import annotations

import inspect
import math
import numbers
from typing import NamedTuple

import numpy as np

from .errors import GradientCheckError, NonScalarOutputError, WrtError

__all__ = [
    "ElementCheck",
    "check_grad",
    "format_report",
    "gradient_report",
    "numeric_grad",
    "numeric_vjp",
]

# A computed function value carries a rounding error of a few ulps (more after many operations);
# the difference of two such values, divided by the step, is noise no check can see through.
_ROUNDING_ULPS = 16
_UNIT_ROUNDOFF = np.finfo(np.float64).eps
_MAX_ROWS = 20

_KINK_HINT = (
    "a kink, discontinuity or singularity near the point (abs, max/min, relu, a branch on the "
    "input, log or sqrt near 0)? try another point or a smaller eps; if f is noisy (long sums, "
    "float32 steps), a larger eps"
)


class ElementCheck(NamedTuple):
    """One compared element: which argument and index, both values, and the errors."""

    argument: str
    index: tuple
    adjoint: float
    numeric: float
    abs_error: float
    rel_error: float
    ok: bool

    @property
    def label(self):
        """``w[1, 2]`` for an array element, ``x`` for a scalar argument."""
        return self.argument + _index_text(self.index)


# --- public helpers --------------------------------------------------------------------------


def numeric_grad(f, *args, wrt=0, eps=1e-6):
    """Central-difference gradient of the scalar output of ``f(*args)`` with respect to ``wrt``.

    ``wrt`` is a position, a parameter name, or a tuple of them, as for ``adjoint.grad``; the
    result has the same structure as ``adjoint.grad``'s. Raises ``NonScalarOutputError`` if ``f``
    returns anything but a scalar (use :func:`numeric_vjp` for arrays and tuples).
    """
    return _numeric(_scalar_objective(f), f, args, wrt, eps)


def numeric_vjp(f, args, wrt, cotangent, eps=1e-6):
    """Central-difference vector-Jacobian product: ``sum(cotangent * d f(*args) / d x)``.

    ``args`` is the tuple of positional arguments; ``cotangent`` has the structure of ``f``'s
    output (a number for a scalar, an array of the output's shape, a tuple for a tuple). The
    result has the structure of ``adjoint.grad``'s (one gradient per ``wrt`` entry).
    """
    return _numeric(lambda point: _inner(f(*point), cotangent), f, tuple(args), wrt, eps)


def check_grad(f, *args, wrt=0, jit=False, optimize=True, grad_fn=None, eps=1e-6, rtol=1e-5,
               atol=1e-8, max_elements=None, seed=None):
    """Check ``adjoint.grad(f, wrt=wrt)`` at ``args`` against central finite differences.

    ``f`` is the primal function (not yet transformed); ``jit`` and ``optimize`` are passed to
    ``adjoint.value_and_grad``, whose value is also compared with ``f(*args)``. ``grad_fn``
    replaces the adjoint under test by any callable taking ``f``'s arguments and returning
    gradients in ``grad``'s structure — a hand-written gradient, say. ``eps`` is the relative
    finite-difference step, ``rtol``/``atol`` the tolerances (see the module docstring). An array
    argument with more than ``max_elements`` elements is checked at that many elements chosen at
    random (reproducibly with ``seed``).

    Returns the worst relative error (at most ``rtol``). Raises ``GradientCheckError`` (with
    ``.report`` and ``.max_error``) on a mismatch, and whatever ``grad`` raises for ``f`` (for
    example ``NonScalarOutputError``).
    """
    outcome = _run_check(f, args, wrt=wrt, jit=jit, optimize=optimize, grad_fn=grad_fn, eps=eps,
                         rtol=rtol, atol=atol, max_elements=max_elements, seed=seed)
    if outcome.ok:
        return outcome.worst
    code = getattr(f, "__code__", None)
    raise GradientCheckError(
        _failure_message(outcome),
        report=outcome.text,
        max_error=outcome.worst,
        filename=getattr(code, "co_filename", None),
        lineno=getattr(code, "co_firstlineno", None),
        hint=_KINK_HINT + ("; otherwise grad_fn is wrong" if grad_fn is not None else
                           "; otherwise print the adjoint with adjoint.source() to inspect it"),
    )


def gradient_report(f, *args, wrt=0, jit=False, optimize=True, grad_fn=None, eps=1e-6, rtol=1e-5,
                    atol=1e-8, max_elements=None, seed=None):
    """Run :func:`check_grad`'s comparison and return ``(ok, text, worst)`` instead of raising.

    ``text`` is the full report (title, value check, per-element table, summary), printable on
    success as well as on failure. Errors about ``f`` itself (unsupported code, non-scalar
    output) still propagate.
    """
    outcome = _run_check(f, args, wrt=wrt, jit=jit, optimize=optimize, grad_fn=grad_fn, eps=eps,
                         rtol=rtol, atol=atol, max_elements=max_elements, seed=seed)
    return outcome.ok, outcome.text, outcome.worst


def format_report(rows, *, max_rows=_MAX_ROWS):
    """A table of compared elements plus a one-line summary.

    When there are more than ``max_rows`` rows, the ones over tolerance are shown first, then the
    largest errors, in argument order, with a count of those left out. Rows over tolerance are
    marked with ``!``.
    """
    rows = list(rows)
    if not rows:
        return "no elements compared"
    shown = _select_rows(rows, max_rows)
    header = ("", "argument", "index", "adjoint", "numeric", "abs error", "rel error")
    table = [header] + [
        ("" if r.ok else "!", r.argument, _index_text(r.index) or "-", f"{r.adjoint:.12g}",
         f"{r.numeric:.12g}", f"{r.abs_error:.1e}", f"{r.rel_error:.1e}")
        for r in shown
    ]
    widths = [max(1, *(len(line[k]) for line in table)) for k in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip() for line in table]

    failed = [r for r in rows if not r.ok]
    hidden = len(rows) - len(shown)
    if hidden:
        hidden_failed = len(failed) - sum(not r.ok for r in shown)
        lines.append(f"... and {hidden} more element{'s' * (hidden != 1)}"
                     f" ({hidden_failed} of them over tolerance)")
    worst = max(rows, key=lambda r: _sort_key(r.rel_error))
    if failed:
        lines.append(f"FAILED: {len(failed)} of {len(rows)} element{'s' * (len(rows) != 1)} "
                     f"over tolerance (marked !), "
                     f"worst relative error {worst.rel_error:.1e} at {worst.label}")
    else:
        lines.append(f"ok: {len(rows)} element{'s' * (len(rows) != 1)} within tolerance, "
                     f"worst relative error {worst.rel_error:.1e} at {worst.label}")
    return "\n".join(lines)


# --- the check -------------------------------------------------------------------------------


class _Outcome(NamedTuple):
    ok: bool
    text: str
    worst: float
    rows: list
    problems: list  # whole-argument failures (wrong structure or shape, wrong value)
    names: tuple  # the checked arguments' names, in wrt order
    function: str


def _run_check(f, args, *, wrt, jit, optimize, grad_fn, eps, rtol, atol, max_elements, seed):
    _check_options(eps, rtol, atol, max_elements, grad_fn, jit, optimize)
    positions, as_tuple = _resolve_wrt(f, args, wrt)
    names = tuple(_argument_label(f, p) for p in positions)
    if grad_fn is None:
        from .api import value_and_grad  # imported here: api imports the whole compiler

        run = value_and_grad(f, wrt=wrt, jit=jit, optimize=optimize)
        adjoint_value, grads = run(*_fresh(args))
    else:
        adjoint_value, grads = None, grad_fn(*_fresh(args))
    objective = _scalar_objective(f)
    value = objective(_fresh(args))

    notes, problems, rows = [], [], []
    if adjoint_value is not None:
        if _values_agree(adjoint_value, value, rtol, atol):
            notes.append(f"value: {value!r} (f and the adjoint's forward pass agree)")
        else:
            problems.append(f"value: the adjoint's forward pass returned "
                            f"{_number_text(adjoint_value)}, but {_name(f)} returned {value!r}")
    if not as_tuple:
        grads = (grads,)
    elif not (isinstance(grads, tuple) and len(grads) == len(positions)):
        problems.append(f"expected a tuple of {len(positions)} gradients for wrt={wrt!r}, "
                        f"got {_describe(grads)}")
        grads = ()
    rng = np.random.default_rng(seed)
    for position, name, grad in zip(positions, names, grads):
        arg = args[position]
        if not _is_real(grad) or np.shape(grad) != np.shape(arg):
            expected = f"an array of shape {arg.shape}" if np.ndim(arg) else "a scalar"
            problems.append(f"gradient for {name} should be {expected}, got {_describe(grad)}")
            continue
        picks = _pick_elements(arg, max_elements, rng)
        if picks is not None:
            notes.append(f"{name}: {len(picks)} randomly chosen elements checked")
        numeric = _differences(objective, args, position, eps, picks)
        grad = np.asarray(grad, dtype=np.float64)
        for index, num, noise in zip(*numeric):
            rows.append(_compare(name, index, grad[index], num, noise, rtol, atol))

    worst = math.inf if problems else max((r.rel_error for r in rows), key=_sort_key,
                                          default=0.0)
    title = (f"gradient check of {_name(f)} with respect to {', '.join(names)} "
             f"(eps={eps:g}, rtol={rtol:g}, atol={atol:g})")
    text = "\n".join([title, *notes, *(f"FAILED: {p}" for p in problems)]
                     + ([format_report(rows)] if rows else []))
    ok = not problems and all(r.ok for r in rows)
    return _Outcome(ok, text, float(worst), rows, problems, names, _name(f))


def _check_options(eps, rtol, atol, max_elements, grad_fn, jit, optimize):
    _check_eps(eps)
    if not rtol > 0 or not atol >= 0:
        raise ValueError(f"need rtol > 0 and atol >= 0, got rtol={rtol!r}, atol={atol!r}")
    if max_elements is not None and (isinstance(max_elements, bool) or
                                     not isinstance(max_elements, numbers.Integral) or
                                     max_elements < 1):
        raise ValueError(f"max_elements must be a positive int or None, got {max_elements!r}")
    if grad_fn is not None and (jit or not optimize):
        raise ValueError("jit and optimize configure adjoint's gradient; with grad_fn= they "
                         "would be ignored")


def _compare(name, index, adjoint, numeric, noise, rtol, atol):
    adjoint, numeric, noise = float(adjoint), float(numeric), float(noise)
    abs_error = abs(adjoint - numeric)
    if math.isnan(abs_error) or math.isinf(abs_error):
        # Equal infinities agree; anything involving NaN or a lone infinity does not.
        rel_error = 0.0 if adjoint == numeric else math.inf
    else:
        scale = max(abs(adjoint), abs(numeric), (atol + noise) / rtol)
        rel_error = abs_error / scale if scale > 0 else 0.0
    return ElementCheck(name, index, adjoint, numeric, abs_error, rel_error, rel_error <= rtol)


def _failure_message(outcome):
    per_argument = []
    for name in outcome.names:
        checked = [r for r in outcome.rows if r.argument == name]
        failed = sum(not r.ok for r in checked)
        if failed:
            per_argument.append(f"{name} ({failed} of {len(checked)} "
                                f"element{'s' * (len(checked) != 1)})")
    parts = []
    if per_argument:
        parts.append(f"the gradient of {outcome.function} disagrees with central finite "
                     f"differences in " + ", ".join(per_argument))
    parts.extend(outcome.problems)
    return "; ".join(parts)


def _values_agree(a, b, rtol, atol):
    try:
        a, b = float(a), float(b)
    except (TypeError, ValueError):
        return False
    return a == b or math.isclose(a, b, rel_tol=rtol, abs_tol=atol)


# --- finite differences ----------------------------------------------------------------------


class _Differences(NamedTuple):
    indices: list  # index tuples of the probed elements (() for a scalar argument)
    derivatives: np.ndarray
    noise: np.ndarray  # what rounding in the function's value alone could explain


def _differences(objective, args, position, eps, picks=None):
    """Central differences of the scalar ``objective(point)`` in each element of one argument.

    ``picks`` is an array of flat indices to probe (default: every element).
    """
    arg = args[position]
    is_array = isinstance(arg, np.ndarray)
    # a float64 copy to perturb; _resolve_wrt has checked that the argument is real
    work = np.array(arg, dtype=np.float64)
    flat = work.reshape(-1)  # a view of the fresh C-ordered copy: writing flat[k] perturbs work
    picks = np.arange(flat.size) if picks is None else picks
    point = list(args)
    derivatives = np.empty(len(picks))
    noise = np.empty(len(picks))
    for out, k in enumerate(picks):
        x = float(flat[k])
        h = eps * max(1.0, abs(x))
        values = []
        for shifted in (x + h, x - h):
            flat[k] = shifted
            point[position] = work.copy() if is_array else shifted
            values.append(objective(_fresh(point)))
        flat[k] = x
        step = (x + h) - (x - h)  # the step the floats really represent
        derivatives[out] = (values[0] - values[1]) / step
        noise[out] = _ROUNDING_ULPS * _UNIT_ROUNDOFF * max(abs(values[0]), abs(values[1])) / step
    indices = [tuple(int(i) for i in np.unravel_index(k, work.shape)) if work.ndim else ()
               for k in picks]
    return _Differences(indices, derivatives, noise)


def _numeric(objective, f, args, wrt, eps):
    """Central differences of ``objective`` in every ``wrt`` argument, in ``grad``'s structure."""
    _check_eps(eps)
    positions, as_tuple = _resolve_wrt(f, args, wrt)
    grads = []
    for p in positions:
        derivatives = _differences(objective, args, p, eps).derivatives
        is_array = isinstance(args[p], np.ndarray)
        grads.append(derivatives.reshape(args[p].shape) if is_array else float(derivatives[0]))
    return tuple(grads) if as_tuple else grads[0]


def _pick_elements(arg, max_elements, rng):
    size = int(np.size(arg)) if isinstance(arg, np.ndarray) else 1
    if max_elements is None or size <= max_elements:
        return None
    return np.sort(rng.choice(size, size=max_elements, replace=False))


def _scalar_objective(f):
    def objective(point):
        out = f(*point)
        if not _is_real(out) or np.ndim(out) != 0:
            raise NonScalarOutputError(
                f"{_name(f)} returned {_describe(out)}; a gradient needs a scalar output",
                hint="for array or tuple outputs compare a vjp with "
                     "adjoint.testing.numeric_vjp(f, args, wrt, cotangent)")
        return float(out)

    return objective


def _inner(out, cotangent):
    """``sum(cotangent * out)`` over a possibly nested tuple output."""
    if isinstance(out, tuple):
        if not isinstance(cotangent, tuple) or len(cotangent) != len(out):
            raise ValueError(f"the output is a tuple of {len(out)}; the cotangent must be a "
                             f"tuple of as many, got {_describe(cotangent)}")
        return sum(_inner(o, c) for o, c in zip(out, cotangent))
    out, cotangent = np.asarray(out, dtype=np.float64), np.asarray(cotangent, dtype=np.float64)
    if out.shape != cotangent.shape:
        raise ValueError(f"cotangent has shape {cotangent.shape}, the output has shape "
                         f"{out.shape}")
    return float(np.sum(out * cotangent))


def _fresh(args):
    """Copies of the array arguments, so neither the caller's arrays nor the probe point change."""
    return [a.copy() if isinstance(a, np.ndarray) else a for a in args]


def _check_differentiable(f, arg, position):
    if isinstance(arg, np.ndarray):
        ok = arg.dtype.kind in "iuf"
    else:
        ok = isinstance(arg, (numbers.Real, np.integer, np.floating)) and not isinstance(
            arg, (bool, np.bool_))
    if not ok:
        raise WrtError(f"argument {_argument_label(f, position)} is {_describe(arg)}; finite "
                       "differences need a float, an int, or an array of floats or ints",
                       hint="differentiate only with respect to numbers and numeric arrays")


# --- wrt, names and descriptions -------------------------------------------------------------


def _resolve_wrt(f, args, wrt):
    """The positions in ``args`` that ``wrt`` selects, and whether it was a tuple."""
    items = wrt if isinstance(wrt, tuple) else (wrt,)
    if not items:
        raise WrtError("wrt=() selects no argument", hint="name at least one argument")
    names, _ = _parameters(f)
    positions = []
    for item in items:
        if isinstance(item, str):
            if item not in names:
                raise WrtError(f"wrt={item!r} is not a positional parameter of {_name(f)}",
                               hint=f"its parameters are {', '.join(names) or '(none)'}")
            position = names.index(item)
        elif isinstance(item, (int, np.integer)) and not isinstance(item, (bool, np.bool_)):
            position = int(item)
        else:
            raise WrtError(f"wrt entries are positions or parameter names, got {item!r}",
                           hint="use an int, a str or a tuple of them")
        if not 0 <= position < len(args):
            raise WrtError(f"wrt={item!r} selects argument {position}, but {len(args)} "
                           f"argument{'s were' if len(args) != 1 else ' was'} given",
                           hint="pass every argument positionally")
        _check_differentiable(f, args[position], position)
        positions.append(position)
    return tuple(positions), isinstance(wrt, tuple)


def _parameters(f):
    """The names of ``f``'s positional parameters, and of its ``*args`` (or None)."""
    try:
        params = inspect.signature(f).parameters.values()
    except (TypeError, ValueError):  # some builtins and extension callables have none
        return [], None
    fixed = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    star = next((p.name for p in params if p.kind == p.VAR_POSITIONAL), None)
    return fixed, star


def _argument_label(f, position):
    """A readable name for a positional argument: its parameter's name, ``args[2]``, ``arg2``."""
    fixed, star = _parameters(f)
    if position < len(fixed):
        return fixed[position]
    return f"{star}[{position - len(fixed)}]" if star else f"arg{position}"


def _name(f):
    return getattr(f, "__name__", None) or type(f).__name__


def _is_real(x):
    if isinstance(x, np.ndarray):
        return x.dtype.kind in "biuf"
    return isinstance(x, (numbers.Real, np.number)) and not isinstance(x, np.complexfloating)


def _describe(x):
    if isinstance(x, np.ndarray):
        return f"an array of shape {x.shape} and dtype {x.dtype}"
    if isinstance(x, tuple):
        return f"a tuple of {len(x)}"
    return f"a {type(x).__name__}"


def _number_text(x):
    try:
        return repr(float(x))
    except (TypeError, ValueError):
        return _describe(x)


def _index_text(index):
    return f"[{', '.join(str(i) for i in index)}]" if index else ""


def _select_rows(rows, max_rows):
    """At most ``max_rows`` rows: failures first, then the largest errors, in original order."""
    if len(rows) <= max_rows:
        return rows
    ranked = sorted(range(len(rows)),
                    key=lambda i: (rows[i].ok, -_sort_key(rows[i].rel_error), i))
    return [rows[i] for i in sorted(ranked[:max_rows])]


def _sort_key(error):
    return math.inf if math.isnan(error) else error


def _check_eps(eps):
    if not (isinstance(eps, numbers.Real) and eps > 0):
        raise ValueError(f"eps must be a positive number, got {eps!r}")
