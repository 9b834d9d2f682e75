"""Every zoo function through ``grad`` and ``value_and_grad``, interpreted and under ``jit=True``.

Takes the entries of :mod:`zoo`. Checks, at the entry's test points (``harness.zoo_points``:
three random in-domain points, each from its own seeded stream, plus the entry's explicit
points):

- every arm of every ``if``/``elif``/``else`` and conditional expression of every zoo function
  runs at some test point (or is declared ``unreachable`` with a reason);
- gradients agree with central finite differences of the user's function (float64), with the
  default ``optimize=True`` and (in Python mode) with ``optimize=False``;
- each gradient has exactly its argument's type, shape and dtype (a float for float/int
  arguments, a float64 ndarray of the same shape for arrays) and shares no memory with any
  argument;
- ``value_and_grad`` returns ``f(*args)`` as a float and the same gradients as ``grad``, each
  with its argument's type, shape and dtype;
- for array arguments, the VJP inner-product identity <g, v> = d/dt f(x + t v) on a random
  direction;
- ``jit=True`` gives the Python-mode numbers to ~1e-10;
- a transform never mutates the user's function, its globals, its closure or its arguments, and
  generates the same text twice (in this process and in a process with another hash seed).

CI time: a gradient function is built once per (transform, entry, mode) and reused for every
point (``harness.build``), because each Numba compilation costs 0.1-1 s.
"""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest
from harness import build, rng, uncovered_arms, zoo_points
from zoo import ZOO

import adjoint

MODES = ("python", "jit")

# Central differences with h ~ cbrt(eps) are accurate to ~1e-10 relative on these functions;
# the tolerances leave room for conditioning while still catching any wrong rule.
FD_RTOL = 1e-6
FD_ATOL = 1e-6  # times max(1, |f(x)|)
JIT_RTOL = 1e-10


def _entry_params(entries=ZOO, modes=MODES):
    return [pytest.param(entry, mode, id=f"{entry.name}-{mode}")
            for entry in entries for mode in modes]






def source_of(fn):
    """The generated source of a transformed function, through the public accessors."""
    text = adjoint.source(fn)
    assert text == fn.source
    return text


def wrt_positions(fn, wrt):
    names = list(inspect.signature(fn).parameters)
    items = wrt if isinstance(wrt, tuple) else (wrt,)
    return [names.index(w) if isinstance(w, str) else w for w in items]


def as_tuple(result, wrt, label):
    if isinstance(wrt, tuple):
        assert isinstance(result, tuple), f"{label}: wrt={wrt!r} must give a tuple, got {result!r}"
        assert len(result) == len(wrt), f"{label}: {len(wrt)} gradients expected, got {result!r}"
        return result
    return (result,)


def copy_args(args):
    return tuple(a.copy() if isinstance(a, np.ndarray) else a for a in args)


def assert_args_unchanged(args, before, label):
    for k, (now, then) in enumerate(zip(args, before)):
        if isinstance(then, np.ndarray):
            assert np.array_equal(now, then), f"{label}: argument {k} was mutated"
        else:
            assert now == then and type(now) is type(then), f"{label}: argument {k} changed"


def assert_like_argument(grad, arg, args, label):
    """The gradient has the argument's type and shape, and is owned by the caller."""
    if isinstance(arg, np.ndarray):
        assert type(grad) is np.ndarray, f"{label}: array argument, got {type(grad)}"
        assert grad.shape == arg.shape, f"{label}: shape {grad.shape} != {arg.shape}"
        assert grad.dtype == np.float64 == arg.dtype, f"{label}: dtype {grad.dtype}"
        for k, other in enumerate(args):
            if isinstance(other, np.ndarray):
                assert not np.shares_memory(grad, other), (
                    f"{label}: gradient shares memory with argument {k}")
    else:
        assert type(grad) is float, (
            f"{label}: {type(arg).__name__} argument needs a float gradient, got {type(grad)}")


def perturbed(args, pos, index, delta):
    new = list(copy_args(args))
    if isinstance(new[pos], np.ndarray):
        new[pos][index] += delta
    else:
        new[pos] = float(new[pos]) + delta
    return new


def central_difference(fn, args, pos, index=None):
    x0 = args[pos] if index is None else args[pos][index]
    h = 6e-6 * max(1.0, abs(float(x0)))
    return (fn(*perturbed(args, pos, index, h)) - fn(*perturbed(args, pos, index, -h))) / (2 * h)


def numeric_partial(fn, args, pos):
    x = args[pos]
    if isinstance(x, np.ndarray):
        out = np.zeros(x.shape)
        for index in np.ndindex(x.shape):
            out[index] = central_difference(fn, args, pos, index)
        return out
    return central_difference(fn, args, pos)


# ---------------------------------------------------------------------------------------------


def test_every_branch_arm_runs():
    """At the test points, every arm of every ``if`` and conditional expression of every zoo
    function (and of the zoo helpers it calls) runs, except the declared unreachable ones."""
    problems = uncovered_arms(ZOO, _points)
    assert not problems, "add points= to these entries:\n" + "\n".join(problems)


def _points(entry):
    return [args for _, args in zoo_points(entry)]


def check_grad(entry, dfn, mode):
    """``dfn`` (a grad of ``entry``) at every test point: finite differences, the argument's
    type, shape and dtype, arguments untouched; under jit, Python mode's numbers too."""
    positions = wrt_positions(entry.fn, entry.wrt)
    for point, args in zoo_points(entry):
        label = f"{entry.name} [{mode}] {point} args={args!r}"
        before = copy_args(args)
        grads = as_tuple(dfn(*args), entry.wrt, label)
        assert_args_unchanged(args, before, label)
        scale = max(1.0, abs(float(entry.fn(*copy_args(args)))))
        for pos, grad in zip(positions, grads):
            assert_like_argument(grad, args[pos], args, f"{label} d/darg{pos}")
            expected = numeric_partial(entry.fn, args, pos)
            np.testing.assert_allclose(grad, expected, rtol=FD_RTOL, atol=FD_ATOL * scale,
                                       err_msg=f"{label}: d/darg{pos} vs finite differences")
        if mode == "jit":
            reference = as_tuple(build(adjoint.grad, entry, "python")(*copy_args(args)),
                                 entry.wrt, label)
            for pos, grad, ref in zip(positions, grads, reference):
                atol = JIT_RTOL * max(1.0, float(np.max(np.abs(ref))))
                np.testing.assert_allclose(grad, ref, rtol=JIT_RTOL, atol=atol,
                                           err_msg=f"{label}: d/darg{pos} jit vs python")


@pytest.mark.parametrize("entry, mode", _entry_params())
def test_grad_matches_finite_differences(entry, mode):
    check_grad(entry, build(adjoint.grad, entry, mode), mode)


@pytest.mark.parametrize("entry", [pytest.param(e, id=e.name) for e in ZOO])
def test_unoptimized_grad_matches_finite_differences(entry):
    """``optimize=False`` (no simplification passes) gives the same, right, numbers."""
    check_grad(entry, build(adjoint.grad, entry, "python", optimize=False), "python")


@pytest.mark.parametrize("entry, mode", _entry_params())
def test_value_and_grad(entry, mode):
    vg = build(adjoint.value_and_grad, entry, mode)
    dfn = build(adjoint.grad, entry, mode)
    rtol = 1e-12 if mode == "python" else JIT_RTOL
    positions = wrt_positions(entry.fn, entry.wrt)
    for point, args in zoo_points(entry):
        label = f"{entry.name} [{mode}] {point} args={args!r}"
        before = copy_args(args)
        result = vg(*args)
        assert isinstance(result, tuple) and len(result) == 2, f"{label}: got {result!r}"
        value, grads = result
        assert_args_unchanged(args, before, label)
        expected = entry.fn(*copy_args(args))
        assert isinstance(value, float), f"{label}: value {value!r} is not a float"
        np.testing.assert_allclose(value, expected, rtol=rtol, atol=1e-300,
                                   err_msg=f"{label}: value_and_grad value vs f(*args)")
        grads = as_tuple(grads, entry.wrt, label)
        alone = as_tuple(dfn(*copy_args(args)), entry.wrt, label)
        for k, (pos, grad, ref) in enumerate(zip(positions, grads, alone)):
            assert_like_argument(grad, args[pos], args, f"{label} gradient {k}")
            atol = rtol * max(1.0, float(np.max(np.abs(ref))))
            np.testing.assert_allclose(grad, ref, rtol=rtol, atol=atol,
                                       err_msg=f"{label}: gradient {k} vs grad()")


def _has_array_wrt(entry):
    args = _points(entry)[0]
    return any(isinstance(args[p], np.ndarray) for p in wrt_positions(entry.fn, entry.wrt))


@pytest.mark.parametrize("entry, mode", _entry_params([e for e in ZOO if _has_array_wrt(e)]))
def test_vjp_inner_product_identity(entry, mode):
    """<g, v> equals the directional derivative of f along v, for all wrt arguments at once."""
    dfn = build(adjoint.grad, entry, mode)
    positions = wrt_positions(entry.fn, entry.wrt)
    for point, args in zoo_points(entry):
        label = f"{entry.name} [{mode}] {point}"
        grads = as_tuple(dfn(*copy_args(args)), entry.wrt, label)
        stream = rng("direction", entry.name, point)
        direction = {p: (stream.standard_normal(np.shape(args[p]))
                         if isinstance(args[p], np.ndarray) else float(stream.standard_normal()))
                     for p in positions}
        inner = sum(float(np.sum(g * direction[p])) for p, g in zip(positions, grads))
        size = max(1.0, max(float(np.max(np.abs(args[p]))) for p in positions))
        t = 6e-6 * size

        def moved(sign, args=args, t=t, direction=direction):
            new = list(copy_args(args))
            for p in positions:
                new[p] = new[p] + sign * t * direction[p]
            return new

        slope = (entry.fn(*moved(1.0)) - entry.fn(*moved(-1.0))) / (2 * t)
        scale = max(1.0, abs(float(entry.fn(*copy_args(args)))))
        assert abs(inner - slope) <= FD_RTOL * abs(slope) + FD_ATOL * scale, (
            f"{label}: <g, v> = {inner!r} but (f(x+tv) - f(x-tv)) / 2t = {slope!r}")


# ---------------------------------------------------------------------------------------------


def _clone(fn):
    """A new function object with the same code, globals, defaults and closure as ``fn``."""
    copy = types.FunctionType(fn.__code__, fn.__globals__, fn.__name__, fn.__defaults__,
                              fn.__closure__)
    copy.__kwdefaults__ = fn.__kwdefaults__
    copy.__qualname__ = fn.__qualname__
    return copy


def _snapshot(fn):
    """What a transform must not change: the function, its globals and its closure."""
    def freeze(value):
        return value.copy() if isinstance(value, np.ndarray) else value

    return {
        "code": fn.__code__,
        "defaults": fn.__defaults__,
        "kwdefaults": fn.__kwdefaults__,
        "dict": dict(vars(fn)),
        "globals": {k: (v, freeze(v)) for k, v in fn.__globals__.items()},
        "closure": [(c.cell_contents, freeze(c.cell_contents)) for c in fn.__closure__ or ()],
    }


def _assert_same(before, after, label):
    assert after["code"] is before["code"], f"{label}: __code__ replaced"
    assert after["defaults"] == before["defaults"], f"{label}: defaults changed"
    assert after["kwdefaults"] == before["kwdefaults"], f"{label}: kwdefaults changed"
    assert after["dict"] == before["dict"], f"{label}: attributes added to the user's function"
    assert set(after["globals"]) == set(before["globals"]), (
        f"{label}: globals added/removed: "
        f"{set(after['globals']) ^ set(before['globals'])}")
    for name, (obj, frozen) in before["globals"].items():
        now = after["globals"][name][0]
        assert now is obj, f"{label}: global {name!r} rebound"
        if isinstance(frozen, np.ndarray):
            assert np.array_equal(now, frozen), f"{label}: global array {name!r} mutated"
    for (obj, frozen), (now, _) in zip(before["closure"], after["closure"]):
        assert now is obj, f"{label}: closure cell rebound"
        if isinstance(frozen, np.ndarray):
            assert np.array_equal(now, frozen), f"{label}: closure array mutated"


@pytest.mark.parametrize("entry", [pytest.param(e, id=e.name) for e in ZOO])
def test_transform_leaves_user_code_alone_and_is_deterministic(entry):
    """A fresh function object forces generation here; its text equals the cached entry's."""
    fn = _clone(entry.fn)
    before = _snapshot(fn)
    args = _points(entry)[0]
    saved = copy_args(args)
    dfn = adjoint.grad(fn, wrt=entry.wrt)
    vg = adjoint.value_and_grad(fn, wrt=entry.wrt)
    dfn(*args)
    vg(*args)
    _assert_same(before, _snapshot(fn), entry.name)
    assert_args_unchanged(args, saved, entry.name)
    assert vars(entry.fn) == {}, f"{entry.name}: attributes added to the user's function"
    text = source_of(dfn)
    assert isinstance(text, str) and text.strip(), f"{entry.name}: empty source"
    # ``.source`` shows the specialisation of the last call, so call both at the same point.
    cached = build(adjoint.grad, entry, "python")
    cached(*copy_args(args))
    assert text == source_of(cached), f"{entry.name}: generating twice gave different text"


_DUMP_SOURCES = """
import json, sys
sys.path[:0] = sys.argv[1:3]
import adjoint, harness, zoo

def specialised_source(entry):
    dfn = adjoint.grad(entry.fn, wrt=entry.wrt)
    dfn(*harness.zoo_points(entry)[0][1])
    return adjoint.source(dfn)

json.dump({e.name: specialised_source(e) for e in zoo.ZOO}, sys.stdout)
"""


def _specialised_source(entry):
    """The source ``grad`` shows after a call at the entry's first point."""
    dfn = build(adjoint.grad, entry, "python")
    dfn(*_points(entry)[0])
    return source_of(dfn)


def test_generated_text_does_not_depend_on_hash_seed():
    """Set/dict iteration order must not leak into generated code (names, statement order)."""
    tests = Path(__file__).resolve().parent
    src = tests.parent / "src"
    env = dict(os.environ, PYTHONHASHSEED="12345")
    proc = subprocess.run([sys.executable, "-c", _DUMP_SOURCES, str(src), str(tests)],
                          capture_output=True, text=True, env=env, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    other = json.loads(proc.stdout)
    here = {e.name: _specialised_source(e) for e in ZOO}
    differing = sorted(name for name in here if here[name] != other.get(name))
    assert not differing, f"generated text depends on the hash seed for: {differing}"
