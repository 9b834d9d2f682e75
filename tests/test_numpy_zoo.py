"""Every NumPy zoo function through ``grad`` (and ``vjp`` for array outputs), in both modes.

Takes the entries of :mod:`numpy_zoo`. For every shape case of every entry, at its test points
(``harness.numpy_points``: two random in-domain points per case, each from its own seeded
stream, plus the entry's explicit points), checks:

- every arm of every ``if`` and conditional expression of every entry runs at some point;
- gradients agree with central finite differences of the user's function (float64), with the
  default ``optimize=True`` and (in Python mode) with ``optimize=False``, and have exactly their
  argument's type, shape and dtype (a float for a float argument, a float64 array of the same
  shape for an array);
- the VJP inner-product identity ⟨u, J v⟩ = ⟨Jᵀ u, v⟩ on random directions v (and random
  cotangents u for array outputs, through ``adjoint.vjp``, whose value has ``f``'s shape and
  whose pullback gives each argument's type, shape and dtype), with J v from central
  differences;
- forward mode (``adjoint.jvp``) gives the value and the directional derivative d/dt f(x + t v)
  that central differences give, with ``f``'s output shape;
- under ``jit=True``, the same numbers as Python mode (to ~1e-10): through ``grad`` for scalar
  outputs and through ``vjp`` (pullback included) for array outputs.

Also: every NumPy rule in the registry has a zoo entry that calls it (read from the zoo's
source); the kink conventions of ``docs/conventions.md`` hold exactly; NumPy functions without a
rule are refused with a located ``AdjointError`` that names them.

CI time: a transformed function is built once per (transform, entry, mode, options) and reused
for every case and point; under ``jit=True`` only ``JIT_CASES`` + 1 shape cases of an entry run
(the first ones and the last), because Numba compiles once per argument-type signature (0.1-1 s
each); the VJP identity runs under jit only for array outputs, at their most general case
(scalar outputs are compared with Python mode through ``grad``), the JVP test in Python mode,
``optimize=False`` at the first point of each case.
"""

from __future__ import annotations

import ast
import inspect
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from harness import build, numpy_points, rng, uncovered_arms
from numpy_zoo import ZOO, by_name

import adjoint
from adjoint.errors import AdjointError
from adjoint.rules import registry

MODES = ("python", "jit")
JIT_CASES = 1  # under jit: the first shape case (scalars or 0-d) and the last (the most general)
FD_RTOL = 1e-5
FD_ATOL = 1e-6  # times max(1, |f(x)|)
JIT_RTOL = 1e-10


def copy_args(args):
    return tuple(a.copy() if isinstance(a, np.ndarray) else a for a in args)


def _outputs(entry):
    """The output ndims of the entry at its test points."""
    return {np.ndim(entry.fn(*copy_args(args))) for _, _, args in numpy_points(entry)}


SCALAR_OUTPUT = {e.name for e in ZOO if 0 in _outputs(e)}
ARRAY_OUTPUT = {e.name for e in ZOO if _outputs(e) - {0}}


def _params(modes=MODES, only=None):
    params = []
    for entry in ZOO:
        if only is not None and entry.name not in only:
            continue
        for mode in modes:
            params.append(pytest.param(entry, mode, id=f"{entry.name}-{mode}"))
    return params


def cases(entry, mode):
    """All shape cases in Python mode; under jit the first and the last (the most general
    shapes come last), so that scalars, 0-d arrays and arrays all compile."""
    if mode != "jit":
        return entry.cases
    return entry.cases[:JIT_CASES] + entry.cases[JIT_CASES:][-1:]


def positions(entry):
    names = list(inspect.signature(entry.fn).parameters)
    items = entry.wrt if isinstance(entry.wrt, tuple) else (entry.wrt,)
    return [names.index(w) if isinstance(w, str) else w for w in items]


def as_tuple(result, entry):
    if isinstance(entry.wrt, tuple):
        assert isinstance(result, tuple) and len(result) == len(entry.wrt), (
            f"{entry.name}: wrt={entry.wrt!r} needs a tuple of {len(entry.wrt)}, got {result!r}")
        return result
    return (result,)


def is_scalar_output(entry, args):
    return np.ndim(entry.fn(*copy_args(args))) == 0


def shifted(args, pos, delta):
    """``args`` with ``delta`` (a number or an array of the argument's shape) added at ``pos``."""
    new = list(copy_args(args))
    if isinstance(new[pos], np.ndarray):
        with np.errstate(invalid="ignore"):  # nan_to_num's points hold inf and nan on purpose
            new[pos] = new[pos] + delta
    else:
        new[pos] = float(new[pos]) + float(delta)
    return new


def numeric_gradient(fn, args, pos):
    """Central differences of a scalar ``fn`` in every element of argument ``pos``."""
    x = args[pos]
    if not isinstance(x, np.ndarray):
        h = 1e-6 * max(1.0, abs(x))
        return (fn(*shifted(args, pos, h)) - fn(*shifted(args, pos, -h))) / (2 * h)
    out = np.zeros(x.shape)
    for index in np.ndindex(x.shape):
        h = 1e-6 * max(1.0, abs(float(x[index])))
        e = np.zeros(x.shape)
        e[index] = h
        out[index] = (fn(*shifted(args, pos, e)) - fn(*shifted(args, pos, -e))) / (2 * h)
    return out


def directional(fn, args, directions):
    """d/dt fn(args + t v) at t = 0 (central differences; any output shape)."""
    h = 1e-6
    plus, minus = list(copy_args(args)), list(copy_args(args))
    for pos, v in directions.items():
        plus = shifted(plus, pos, h * v)
        minus = shifted(minus, pos, -h * v)
    return (np.asarray(fn(*plus), dtype=float) - np.asarray(fn(*minus), dtype=float)) / (2 * h)


def random_like(stream, x):
    return stream.normal(size=x.shape) if isinstance(x, np.ndarray) else float(stream.normal())


def assert_like_argument(grad, arg, label):
    """A gradient has exactly its argument's type, shape and dtype (float64 arrays)."""
    if isinstance(arg, np.ndarray):
        assert type(grad) is np.ndarray, f"{label}: array argument, got {type(grad)}"
        assert grad.shape == arg.shape, f"{label}: shape {grad.shape} != {arg.shape}"
        assert grad.dtype == np.float64 == arg.dtype, f"{label}: dtype {grad.dtype}"
    else:
        assert type(grad) is float, f"{label}: float argument, got {type(grad)}"


def assert_like_output(got, expected, label, dtype=None):
    """``got`` has the shape of ``f``'s output ``expected`` (a float for a scalar output) and
    its dtype (or ``dtype``)."""
    if np.ndim(expected) == 0:
        assert isinstance(got, float) or (type(got) is np.ndarray and got.ndim == 0), (
            f"{label}: scalar output, got {type(got)}")
    else:
        assert type(got) is np.ndarray, f"{label}: array output, got {type(got)}"
        assert got.shape == np.shape(expected), f"{label}: shape {got.shape}"
        want = dtype or np.asarray(expected).dtype
        assert got.dtype == want, f"{label}: dtype {got.dtype} != {want}"


# ---------------------------------------------------------------------------------------------


def test_every_branch_arm_runs():
    """At the test points, every arm of every ``if`` and conditional expression of every zoo
    function (and of the module functions it calls) runs, except the declared unreachable."""
    problems = uncovered_arms(ZOO, lambda entry: [args for _, _, args in numpy_points(entry)])
    assert not problems, "add points= to these entries:\n" + "\n".join(problems)


def check_grad(entry, dfn, mode, points):
    """``dfn`` (a grad of ``entry``) at the scalar-output ``points``: finite differences, the
    argument's type, shape and dtype; under jit, Python mode's numbers too."""
    checked = 0
    for label, point, args in points:
        if not is_scalar_output(entry, args):
            continue  # array outputs: test_vjp_inner_product_identity
        where = f"{entry.name} [{mode}] case {label!r} {point}"
        grads = as_tuple(dfn(*copy_args(args)), entry)
        scale = max(1.0, abs(float(entry.fn(*copy_args(args)))))
        for pos, grad in zip(positions(entry), grads):
            assert_like_argument(grad, args[pos], f"{where} d/darg{pos}")
            expected = numeric_gradient(entry.fn, args, pos)
            np.testing.assert_allclose(grad, expected, rtol=FD_RTOL, atol=FD_ATOL * scale,
                                       err_msg=f"{where}: d/darg{pos} vs finite differences")
        if mode == "jit":
            python = build(adjoint.grad, entry, "python")
            reference = as_tuple(python(*copy_args(args)), entry)
            for grad, ref in zip(grads, reference):
                atol = JIT_RTOL * max(1.0, float(np.max(np.abs(ref))))
                np.testing.assert_allclose(grad, ref, rtol=JIT_RTOL, atol=atol,
                                           err_msg=f"{where}: jit vs python")
        checked += 1
    return checked


@pytest.mark.parametrize("entry, mode", _params(only=SCALAR_OUTPUT))
def test_grad_matches_finite_differences(entry, mode):
    points = numpy_points(entry, cases(entry, mode))
    assert check_grad(entry, build(adjoint.grad, entry, mode), mode, points)


@pytest.mark.parametrize("entry, mode", _params(("python",)))
def test_unoptimized_matches_finite_differences(entry, mode):
    """``optimize=False`` (no simplification passes): gradients (scalar outputs) and the VJP
    identity (array outputs) at the first point of each shape case."""
    points = [p for p in numpy_points(entry) if p[1] == "random 0" or p[1].startswith("point")]
    check_grad(entry, build(adjoint.grad, entry, mode, optimize=False), mode, points)
    check_vjp_identity(entry, mode, points, optimize=False)


def check_vjp_identity(entry, mode, points, optimize=True):
    """⟨u, J v⟩ (central differences) == ⟨Jᵀ u, v⟩ (adjoint) on random u and v; array outputs
    through ``adjoint.vjp`` (and, under jit, the same numbers as Python mode's pullback)."""
    for label, point, args in points:
        stream = rng("vjp", entry.name, label, point)
        where = f"{entry.name} [{mode}] case {label!r} {point}"
        pos = positions(entry)
        v = {p: random_like(stream, args[p]) for p in pos}
        out = entry.fn(*copy_args(args))
        if np.ndim(out) == 0:
            if mode == "jit":
                continue  # compared with Python mode by test_grad_matches_finite_differences
            u = 1.0
            pulled = as_tuple(build(adjoint.grad, entry, mode, optimize=optimize)(
                *copy_args(args)), entry)
        else:
            u = stream.normal(size=np.shape(out))
            value, pullback = build(adjoint.vjp, entry, mode, optimize=optimize)(
                *copy_args(args))
            assert_like_output(value, out, f"{where} vjp value")
            np.testing.assert_allclose(value, out, rtol=1e-10, atol=1e-12,
                                       err_msg=f"{where}: vjp value vs f(*args)")
            pulled = as_tuple(pullback(u), entry)
            for p, g in zip(pos, pulled):
                assert_like_argument(g, args[p], f"{where} pullback d/darg{p}")
            if mode == "jit":
                _, python = build(adjoint.vjp, entry, "python")(*copy_args(args))
                for g, ref in zip(pulled, as_tuple(python(u), entry)):
                    atol = JIT_RTOL * max(1.0, float(np.max(np.abs(ref))))
                    np.testing.assert_allclose(g, ref, rtol=JIT_RTOL, atol=atol,
                                               err_msg=f"{where}: jit pullback vs python")
        lhs = float(np.sum(u * directional(entry.fn, args, v)))
        rhs = float(sum(np.sum(g * v[p]) for g, p in zip(pulled, pos)))
        scale = max(1.0, abs(lhs), float(np.max(np.abs(out))))
        assert rhs == pytest.approx(lhs, rel=FD_RTOL, abs=FD_ATOL * scale), (
            f"{where}: <u, J v> = {lhs!r} by finite differences, <J^T u, v> = {rhs!r}")


@pytest.mark.parametrize("entry, mode", _params(("python",)) + _params(("jit",), ARRAY_OUTPUT))
def test_vjp_inner_product_identity(entry, mode):
    """Python mode: every entry, every case. jit: the array-output entries (scalar outputs are
    compared with Python mode through ``grad``) at their most general case (two compilations
    per case: the primal and the pullback)."""
    picked = cases(entry, mode) if mode == "python" else entry.cases[-1:]
    check_vjp_identity(entry, mode, numpy_points(entry, picked))


@pytest.mark.parametrize("entry, mode", _params(("python",)))
def test_jvp_matches_directional_differences(entry, mode):
    """Forward mode: ``jvp`` gives f(x) and d/dt f(x + t v) on random tangents v, with f's
    output shape (a float for a scalar output)."""
    for label, point, args in numpy_points(entry, cases(entry, mode)):
        stream = rng("jvp", entry.name, label, point)
        where = f"{entry.name} [{mode}] case {label!r} {point}"
        pos = positions(entry)
        v = {p: random_like(stream, args[p]) for p in pos}
        forward = build(adjoint.jvp, entry, mode)
        value, derivative = forward(*copy_args(args), *(v[p] for p in pos))
        expected_value = entry.fn(*copy_args(args))
        assert_like_output(value, expected_value, f"{where} jvp value")
        assert_like_output(derivative, expected_value, f"{where} jvp tangent", np.float64)
        if np.ndim(expected_value) == 0:
            assert type(value) is float and type(derivative) is float, where
        np.testing.assert_allclose(value, expected_value, rtol=1e-10, atol=1e-12,
                                   err_msg=f"{where}: jvp value vs f(*args)")
        expected = directional(entry.fn, args, v)
        scale = max(1.0, float(np.max(np.abs(expected_value))))
        np.testing.assert_allclose(derivative, expected, rtol=FD_RTOL, atol=FD_ATOL * scale,
                                   err_msg=f"{where}: jvp vs finite differences")


def test_a_missing_rule_module_is_an_import_error():
    """``adjoint.rules`` imports every rule module: a missing one is not silently skipped."""
    probe = textwrap.dedent("""
        import importlib.abc, sys
        class Hide(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path, target=None):
                if name == "adjoint.rules.numpy_linalg":
                    raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        sys.meta_path.insert(0, Hide())
        import adjoint
    """)
    src = Path(__file__).resolve().parent.parent / "src"
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          env={"PYTHONPATH": str(src), "PATH": "/usr/bin:/bin"}, timeout=300,
                          check=False)
    assert proc.returncode != 0, "importing adjoint without its NumPy rules succeeded"
    assert "ModuleNotFoundError: No module named 'adjoint.rules.numpy_linalg'" in proc.stderr, (
        proc.stderr[-2000:])


# --- every NumPy rule has a zoo entry ----------------------------------------------------------


def _numpy_primals():
    """The registered primals that belong to NumPy (functions, ufuncs, ndarray methods)."""
    found = []
    for rule in registry.all_rules():
        if rule.custom is not None:
            continue  # a user's rule (defvjp on, say, a SciPy ufunc), not one of adjoint's
        primal = rule.primal
        module = getattr(primal, "__module__", None) or ""
        owner = getattr(primal, "__objclass__", None)
        if module.startswith("numpy") or isinstance(primal, np.ufunc) or owner is np.ndarray:
            found.append(primal)
    return found


def _called_primals(fn):
    """NumPy objects ``fn``'s source calls or reads: ``np.f``, ``np.linalg.f``, ``x.method()``,
    ``x.attribute``, resolved through the registry's method and attribute tables."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            chain, base = [node.attr], node.value
            while isinstance(base, ast.Attribute):
                chain.append(base.attr)
                base = base.value
            if isinstance(base, ast.Name) and base.id == "np":
                obj = np
                for part in reversed(chain):
                    obj = getattr(obj, part, None)
                found.append(obj)
            else:
                found.append(registry.lookup_method(node.attr))
                found.append(registry.lookup_attribute(node.attr))
    return [obj for obj in found if obj is not None]


def test_every_numpy_rule_has_a_zoo_entry():
    primals = _numpy_primals()
    assert len(primals) > 150, f"only {len(primals)} NumPy rules registered"
    covered = {id(obj) for entry in ZOO for obj in _called_primals(entry.fn)}
    missing = sorted(registry.lookup(p).name for p in primals if id(p) not in covered)
    assert not missing, f"NumPy rules without a zoo entry in numpy_zoo.py: {missing}"


def test_zoo_is_large_and_has_several_shapes():
    assert len(ZOO) >= 150
    multi = [e for e in ZOO if len(e.cases) >= 2]
    assert len(multi) >= 100, f"only {len(multi)} entries with two or more shape cases"


def test_compositions_of_the_issue_are_in_the_zoo():
    for name in ("relu", "leaky_relu", "sigmoid", "softplus", "gelu", "softmax", "log_softmax",
                 "logsumexp", "mse", "binary_cross_entropy", "categorical_cross_entropy",
                 "logistic_regression", "hinge_loss", "mlp_loss", "rnn_loss", "batch_norm_loss"):
        assert by_name(name).fn.__module__ == "numpy_models", name


# --- kink conventions (docs/conventions.md) -----------------------------------------------------


def k_abs(x):
    return np.sum(np.abs(x))


def k_sign(x):
    return np.sum(np.sign(x) * x)


def k_maximum(x, y):
    return np.sum(np.maximum(x, y))


def k_minimum(x, y):
    return np.sum(np.minimum(x, y))


def k_relu(x):
    return np.sum(np.maximum(x, 0.0))


def k_clip(x, lo, hi):
    return np.sum(np.clip(x, lo, hi))


def k_sqrt(x):
    return np.sum(np.sqrt(x))


def k_max(x):
    return np.max(x)


def k_max_axis(x):
    return np.sum(np.max(x, axis=1))


def k_norm(x):
    return np.linalg.norm(x)


def k_hypot(x, y):
    return np.sum(np.hypot(x, y))


def k_where_sqrt(x):
    return np.sum(np.where(x > 0, np.sqrt(x), 0.0))


def k_where_sqrt_safe(x):
    positive = x > 0
    return np.sum(np.where(positive, np.sqrt(np.where(positive, x, 1.0)), 0.0))


KINKS = [
    # (function, wrt, arguments, expected gradients)
    (k_abs, 0, (np.array([0.0, -0.0, 2.0, -2.0]),), (np.array([0.0, 0.0, 1.0, -1.0]),)),
    (k_sign, 0, (np.array([0.0, 3.0, -3.0]),), (np.array([0.0, 1.0, -1.0]),)),
    (k_maximum, (0, 1), (np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.0, 5.0])),
     (np.array([0.5, 1.0, 0.0]), np.array([0.5, 0.0, 1.0]))),
    (k_minimum, (0, 1), (np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.0, 5.0])),
     (np.array([0.5, 0.0, 1.0]), np.array([0.5, 1.0, 0.0]))),
    (k_relu, 0, (np.array([-1.0, 0.0, 1.0]),), (np.array([0.0, 0.5, 1.0]),)),
    (k_clip, (0, 1, 2), (np.array([-2.0, -1.0, 0.0, 1.0, 2.0]), -1.0, 1.0),
     (np.array([0.0, 1.0, 1.0, 1.0, 0.0]), 1.0, 1.0)),
    (k_sqrt, 0, (np.array([0.0, 4.0]),), (np.array([np.inf, 0.25]),)),
    (k_max, 0, (np.array([1.0, 3.0, 3.0, 2.0]),), (np.array([0.0, 0.5, 0.5, 0.0]),)),
    (k_max_axis, 0, (np.array([[1.0, 1.0, 1.0], [0.0, 2.0, 1.0]]),),
     (np.array([[1 / 3, 1 / 3, 1 / 3], [0.0, 1.0, 0.0]]),)),
    (k_norm, 0, (np.zeros(3),), (np.zeros(3),)),
    (k_hypot, (0, 1), (np.array([0.0, 3.0]), np.array([0.0, -4.0])),
     (np.array([0.0, 0.6]), np.array([0.0, -0.8]))),
    (k_where_sqrt_safe, 0, (np.array([0.0, 4.0, -1.0]),), (np.array([0.0, 0.25, 0.0]),)),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("fn, wrt, args, expected", KINKS, ids=[k[0].__name__ for k in KINKS])
def test_kink_convention(fn, wrt, args, expected, mode):
    dfn = adjoint.grad(fn, wrt=wrt, jit=(mode == "jit"))
    with np.errstate(divide="ignore"):  # the derivative of sqrt at 0 is inf
        got = dfn(*copy_args(args))
    got = got if isinstance(wrt, tuple) else (got,)
    for g, e in zip(got, expected):
        np.testing.assert_array_equal(g, e, err_msg=f"{fn.__name__} [{mode}]")


def test_where_sqrt_pitfall_gives_nan():
    """np.where(c, sqrt(x), 0) differentiates both branches: 0 * inf = nan where x == 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        g = adjoint.grad(k_where_sqrt)(np.array([0.0, 4.0]))
    assert np.isnan(g[0]) and g[1] == 0.25


# --- refusals ------------------------------------------------------------------------------------


def r_qr(a):
    q, r = np.linalg.qr(a)
    return np.sum(r)


def r_fft(x):
    return np.sum(np.abs(np.fft.fft(x)))


def r_percentile(x):
    return np.percentile(x, 50.0)


def r_pad_edge(x):
    return np.sum(np.pad(x, 1, mode="edge") ** 2)


def r_norm_spectral(x):
    return np.linalg.norm(x, 2)


def r_sum_where(x):
    return np.sum(x, where=x > 0)


@pytest.mark.parametrize("fn, name, args", [
    (r_qr, "np.linalg.qr", (np.eye(3),)),
    (r_fft, "np.fft.fft", (np.ones(4),)),
    (r_percentile, "np.percentile", (np.arange(4.0),)),
], ids=lambda v: getattr(v, "__name__", None))
def test_unsupported_numpy_function_is_refused_with_its_line(fn, name, args):
    with pytest.raises(AdjointError) as info:
        adjoint.grad(fn)(*args)
    err = info.value
    assert name in str(err)
    body = inspect.getsource(fn).splitlines()
    line = next(k for k, text in enumerate(body) if k and name.split(".")[-1] + "(" in text)
    assert err.lineno == inspect.getsourcelines(fn)[1] + line
    assert err.filename == __file__


@pytest.mark.parametrize("fn, words, args", [
    (r_pad_edge, "mode='edge'", (np.ones(3),)),
    (r_norm_spectral, "ord=2", (np.ones((2, 2)),)),
    (r_sum_where, "where", (np.ones(3),)),
], ids=lambda v: getattr(v, "__name__", None))
def test_unsupported_option_of_a_supported_function_is_refused(fn, words, args):
    with pytest.raises(AdjointError) as info:
        adjoint.grad(fn)(*args)
    assert words in str(info.value)
