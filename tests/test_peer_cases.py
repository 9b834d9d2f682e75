"""The peer cases (:mod:`peer_functions`) through ``grad``, ``vjp``, ``jvp``, ``hessian`` and
repeated ``grad``, checked against central finite differences in float64.

Takes the cases of :mod:`peer_functions`. Checks, in Python mode unless said otherwise:

- a scalar-output case: ``grad`` agrees with central differences of the function, and each
  gradient has its argument's type and shape; an array- or tuple-output case: the pullback of a
  random cotangent ``u`` agrees with central differences of ``<u, f>``;
- every case, in forward mode: ``jvp`` along a random direction agrees with the central
  difference of the function along it;
- the value ``value_and_grad`` (or ``vjp``) returns is the function's own value;
- array- or tuple-output cases: the VJP inner-product identity ``<pullback(u), v> = <u, J v>``,
  with ``J v`` from a central difference along a random direction ``v``;
- cases marked ``jit``: ``jit=True`` gives the Python-mode numbers to ~1e-10, and agrees with
  central differences;
- cases marked ``hessian``: ``adjoint.hessian`` and ``adjoint.hvp`` (first wrt argument) agree
  with central differences of the gradient;
- cases marked ``third``: ``grad(grad(f))`` and ``grad(grad(grad(f)))`` agree with central
  differences of the order below;
- the gradient leaves arguments alone (when the function itself does) and gives the same numbers
  twice; one built gradient serves arrays of several lengths.

Cases adjoint refuses are listed in :data:`REFUSED` with the error they must raise (and must say
where). Cases it gets wrong are listed in ``_KNOWN`` under a title saying what is wrong (none
today); they run as strict xfails, so a fix
turns them into failures until its entry is removed.

Cost: every transformed function is built once per (transform, case, mode) and reused
(``harness.build``); only the cases marked ``jit`` are compiled.
"""

from __future__ import annotations

import inspect
from pathlib import Path

import numpy as np
import pytest
from harness import build
from peers import PEERS

import adjoint
from adjoint.errors import UnsupportedSyntaxError

SEEDS = (11, 12)
RTOL = 1e-5
ATOL = 1e-6  # times max(1, |f(x)|)
JIT_RTOL = 1e-10

# (test, case) adjoint refuses, with the error class: refusals are allowed, wrong numbers not.
# A "grad" refusal takes the case out of every other test.
REFUSED = {
    # In-place writes whose aliasing the alias analysis cannot follow: refused at the write.
    ("grad", "array_rebound_in_branch_then_written"): UnsupportedSyntaxError,
    ("grad", "array_alias_in_other_branch"): UnsupportedSyntaxError,
    ("grad", "asarray_alias_written"): UnsupportedSyntaxError,
    ("grad", "reshape_view_written"): UnsupportedSyntaxError,
    ("grad", "ravel_then_augmented"): UnsupportedSyntaxError,
    ("grad", "helper_with_array_default"): UnsupportedSyntaxError,  # array default value
}

# Known failures: (finding title, the tests that fail, the cases). Each becomes a strict xfail
# of those (test, case) pairs, so a fix shows up as an XPASS failure until the entry is removed.
# Test keys: grad, value, vjp, jvp, jit, state, hessian, third.
_KNOWN = [
]  # none today
XFAIL = {(test, name): title for title, tests, names in _KNOWN for test in tests for name in names}


def _draw(case, seed):
    return case.args(np.random.default_rng(seed))


def _copy(args):
    return tuple(a.copy() if isinstance(a, np.ndarray) else a for a in args)


def _is_scalar(out):
    return not isinstance(out, (tuple, np.ndarray)) and np.ndim(out) == 0


_REFUSED_GRAD = {name for test, name in REFUSED if test == "grad"}
_SCALAR = {c.name: _is_scalar(c.fn(*_draw(c, SEEDS[0])))
           for c in PEERS if c.name not in _REFUSED_GRAD}


def _params(test, select=lambda case: True):
    params = []
    for case in PEERS:
        if case.name in _REFUSED_GRAD or (test, case.name) in REFUSED or not select(case):
            continue
        reason = XFAIL.get((test, case.name))
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        params.append(pytest.param(case, id=case.name, marks=marks))
    return params


def _positions(case):
    names = list(inspect.signature(case.fn).parameters)
    items = case.wrt if isinstance(case.wrt, tuple) else (case.wrt,)
    return [names.index(w) if isinstance(w, str) else w for w in items]


def _as_tuple(result, wrt):
    return result if isinstance(wrt, tuple) else (result,)


def _cotangent(out, rng):
    """A random cotangent shaped like ``out`` (floats for scalars, tuples for tuples)."""
    if isinstance(out, tuple):
        return tuple(_cotangent(o, rng) for o in out)
    if isinstance(out, np.ndarray):
        return rng.standard_normal(out.shape)
    return float(rng.standard_normal())


def _inner(out, cotangent):
    if isinstance(out, tuple):
        return sum(_inner(o, c) for o, c in zip(out, cotangent))
    return float(np.sum(np.asarray(out, dtype=float) * cotangent))


def _objective(case, args, seed):
    """(scalar function of the arguments, cotangent or None): ``f`` itself for a scalar case,
    ``<u, f>`` with a random cotangent ``u`` otherwise."""
    if _SCALAR[case.name]:
        return case.fn, None
    cot = _cotangent(case.fn(*_copy(args)), np.random.default_rng(seed + 1000))
    return (lambda *a: _inner(case.fn(*a), cot)), cot


def _central(fn, args, pos):
    """Central differences of the scalar ``fn`` in argument ``pos`` (float64, every element)."""
    x = args[pos]

    def at(value):
        new = list(_copy(args))
        new[pos] = value
        return float(fn(*new))

    if isinstance(x, np.ndarray):
        base = x.astype(float)
        out = np.zeros(base.shape)
        for index in np.ndindex(base.shape):
            h = 6e-6 * max(1.0, abs(base[index]))
            up, down = base.copy(), base.copy()
            up[index] += h
            down[index] -= h
            out[index] = (at(up) - at(down)) / (2 * h)
        return out
    h = 6e-6 * max(1.0, abs(float(x)))
    return (at(float(x) + h) - at(float(x) - h)) / (2 * h)


def _gradients(case, args, mode, seed):
    """adjoint's gradients of ``_objective(case, args, seed)``, one per wrt argument."""
    _, cot = _objective(case, args, seed)
    if cot is None:
        result = build(adjoint.grad, case, mode)(*_copy(args))
    else:
        _, pullback = build(adjoint.vjp, case, mode)(*_copy(args))
        result = pullback(cot)
    return _as_tuple(result, case.wrt)


def _assert_like_argument(grad, arg, label):
    if isinstance(arg, np.ndarray):
        assert isinstance(grad, np.ndarray), f"{label}: array argument, got {type(grad)}"
        assert grad.shape == arg.shape, f"{label}: shape {grad.shape} != {arg.shape}"
    else:
        assert isinstance(grad, float), f"{label}: float argument, got {type(grad)}"


def _assert_matches_differences(case, args, grads, seed, label):
    objective, _ = _objective(case, args, seed)
    scale = max(1.0, abs(float(objective(*_copy(args)))))
    for pos, grad in zip(_positions(case), grads):
        _assert_like_argument(grad, args[pos], f"{label} d/darg{pos}")
        np.testing.assert_allclose(grad, _central(objective, args, pos), rtol=RTOL,
                                   atol=ATOL * scale,
                                   err_msg=f"{label}: d/darg{pos} vs central differences")


# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", _params("grad"))
def test_gradient_matches_finite_differences(case):
    for seed in SEEDS:
        args = _draw(case, seed)
        grads = _gradients(case, args, "python", seed)
        _assert_matches_differences(case, args, grads, seed, f"{case.name} seed={seed}")


def _assert_same_value(got, expected, label):
    if isinstance(expected, tuple):
        assert isinstance(got, tuple) and len(got) == len(expected), f"{label}: got {got!r}"
        for g, e in zip(got, expected):
            _assert_same_value(g, e, label)
        return
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-300, err_msg=label)


@pytest.mark.parametrize("case", _params("value"))
def test_transformed_value_is_the_functions_value(case):
    """The value value_and_grad (scalar outputs) or vjp (others) returns is f(*args): the
    forward sweep computes what the user's code computes."""
    args = _draw(case, SEEDS[0])
    expected = case.fn(*_copy(args))
    if _SCALAR[case.name]:
        got, _ = build(adjoint.value_and_grad, case, "python")(*_copy(args))
    else:
        got, _ = build(adjoint.vjp, case, "python")(*_copy(args))
    _assert_same_value(got, expected, f"{case.name}: value vs f(*args)")


@pytest.mark.parametrize("case", _params("vjp", lambda c: not _SCALAR[c.name]))
def test_vjp_inner_product_identity(case):
    """<pullback(u), v> = <u, J v>, for all wrt arguments moved together along v."""
    seed = SEEDS[0]
    args = _draw(case, seed)
    out, pullback = build(adjoint.vjp, case, "python")(*_copy(args))
    rng = np.random.default_rng(seed + 2000)
    cot = _cotangent(out, rng)
    grads = _as_tuple(pullback(cot), case.wrt)
    positions = _positions(case)
    direction = {p: _cotangent(np.asarray(args[p], dtype=float)
                               if isinstance(args[p], np.ndarray) else float(args[p]), rng)
                 for p in positions}
    t = 6e-6 * max(1.0, max(float(np.max(np.abs(args[p]))) for p in positions))

    def moved(sign):
        new = list(_copy(args))
        for p in positions:
            new[p] = new[p] + sign * t * direction[p]
        return case.fn(*new)

    slope = (_inner(moved(1.0), cot) - _inner(moved(-1.0), cot)) / (2 * t)
    inner = sum(float(np.sum(g * direction[p])) for p, g in zip(positions, grads))
    scale = max(1.0, abs(_inner(case.fn(*_copy(args)), cot)))
    assert abs(inner - slope) <= RTOL * abs(slope) + ATOL * scale, (
        f"{case.name}: <pullback(u), v> = {inner!r} but <u, J v> = {slope!r}")


def _flat(out):
    if isinstance(out, tuple):
        return np.concatenate([_flat(o) for o in out]) if out else np.zeros(0)
    return np.ravel(np.asarray(out, dtype=float))


@pytest.mark.parametrize("case", _params("jvp"))
def test_jvp_matches_finite_differences(case):
    """Forward mode: the tangent of the output along a random direction of the wrt arguments
    equals the central difference of the function along that direction."""
    args = _draw(case, SEEDS[0])
    positions = _positions(case)
    rng = np.random.default_rng(SEEDS[0] + 3000)
    tangents = [_cotangent(np.asarray(args[p], dtype=float)
                           if isinstance(args[p], np.ndarray) else float(args[p]), rng)
                for p in positions]
    _, tangent_out = build(adjoint.jvp, case, "python")(*_copy(args), *tangents)
    sizes = [float(np.max(np.abs(args[p]), initial=0.0)) for p in positions]
    t = 6e-6 * max(1.0, *sizes)

    def moved(sign):
        new = list(_copy(args))
        for p, d in zip(positions, tangents):
            new[p] = new[p] + sign * t * d
        return _flat(case.fn(*new))

    expected = (moved(1.0) - moved(-1.0)) / (2 * t)
    scale = max(1.0, float(np.max(np.abs(_flat(case.fn(*_copy(args)))), initial=0.0)))
    np.testing.assert_allclose(_flat(tangent_out), expected, rtol=RTOL, atol=ATOL * scale,
                               err_msg=f"{case.name}: jvp vs central differences")


@pytest.mark.parametrize("case", _params("jit", lambda c: c.jit))
def test_jit_matches_python_and_finite_differences(case):
    seed = SEEDS[0]
    args = _draw(case, seed)
    compiled = _gradients(case, args, "jit", seed)
    _assert_matches_differences(case, args, compiled, seed, f"{case.name} [jit]")
    for k, (got, ref) in enumerate(zip(compiled, _gradients(case, args, "python", seed))):
        atol = JIT_RTOL * max(1.0, float(np.max(np.abs(ref))))
        np.testing.assert_allclose(got, ref, rtol=JIT_RTOL, atol=atol,
                                   err_msg=f"{case.name}: gradient {k} jit vs Python")


@pytest.mark.parametrize("case", _params("hessian", lambda c: c.hessian))
def test_hessian_matches_finite_differences_of_gradient(case):
    """hessian (forward over the generated gradient) with respect to the first wrt argument,
    against central differences of grad; and hvp along a random direction against the same
    matrix."""
    pos = _positions(case)[0]  # the first wrt argument
    args = _draw(case, SEEDS[0])
    n = int(np.size(args[pos]))
    dfn = adjoint.grad(case.fn, wrt=pos)
    # Column k of the Hessian: the central difference of the gradient along element k.
    expected = np.stack([np.ravel(_central_vector(dfn, args, pos, k)) for k in range(n)],
                        axis=1)
    hess = np.reshape(adjoint.hessian(case.fn, wrt=pos)(*_copy(args)), (n, n))
    atol = ATOL * max(1.0, float(np.abs(expected).max()))
    np.testing.assert_allclose(hess, expected, rtol=RTOL, atol=atol,
                               err_msg=f"{case.name}: hessian vs differences of grad")
    direction = np.random.default_rng(SEEDS[0] + 4000).standard_normal(n)
    v = direction.reshape(np.shape(args[pos])) if n > 1 or np.ndim(args[pos]) else (
        float(direction[0]))
    product = adjoint.hvp(case.fn, wrt=pos)(*_copy(args), v)
    np.testing.assert_allclose(np.ravel(product), expected @ direction, rtol=RTOL, atol=atol,
                               err_msg=f"{case.name}: hvp vs differences of grad")


def _central_vector(fn, args, pos, k):
    """Central difference of the (array-valued) ``fn`` along element ``k`` of argument ``pos``."""
    x = args[pos]
    h = 6e-6 * max(1.0, abs(float(np.ravel(x)[k])))

    def at(step):
        new = list(_copy(args))
        if isinstance(x, np.ndarray):
            moved = x.astype(float)
            moved.flat[k] += step
            new[pos] = moved
        else:
            new[pos] = float(x) + step
        return np.asarray(fn(*new), dtype=float)

    return (at(h) - at(-h)) / (2 * h)


@pytest.mark.parametrize("case", _params("third", lambda c: c.third))
def test_second_and_third_derivatives(case):
    """grad(grad(f)) and grad(grad(grad(f))) against central differences of the order below."""
    first = adjoint.grad(case.fn, wrt=case.wrt)
    second = adjoint.grad(first, wrt=case.wrt)
    third = adjoint.grad(second, wrt=case.wrt)
    for seed in SEEDS:
        args = _draw(case, seed)
        for order, lower, upper in ((2, first, second), (3, second, third)):
            scale = max(1.0, abs(float(lower(*args))))
            np.testing.assert_allclose(
                upper(*args), _central(lower, args, case.wrt), rtol=RTOL, atol=ATOL * scale,
                err_msg=f"{case.name} seed={seed}: derivative of order {order}")


def _run(test, case, args):
    if test == "jvp":
        tangents = [np.ones(np.shape(args[p])) if isinstance(args[p], np.ndarray) else 1.0
                    for p in _positions(case)]
        return adjoint.jvp(case.fn, wrt=case.wrt)(*args, *tangents)
    transform = {"grad": adjoint.grad, "hessian": adjoint.hessian}[test]
    return transform(case.fn, wrt=case.wrt)(*args)


@pytest.mark.parametrize("test, name", [pytest.param(t, n, id=f"{t}-{n}") for t, n in REFUSED])
def test_refused_cases_say_where(test, name):
    case = next(c for c in PEERS if c.name == name)
    with pytest.raises(REFUSED[test, name]) as info:
        _run(test, case, _draw(case, SEEDS[0]))
    assert info.value.lineno is not None and info.value.hint, info.value


def test_the_refusals_are_listed_in_the_docs():
    """docs/supported.md names every peer case adjoint refuses (and tools/peer_rates.py prints
    the pass rates)."""
    page = (Path(__file__).resolve().parent.parent / "docs" / "supported.md").read_text()
    section = page.split("### Cases of other projects' test suites that adjoint refuses")[1]
    missing = sorted(name for _, name in REFUSED if f"`{name}`" not in section.split("\n## ")[0])
    assert not missing, f"refused peer cases missing from docs/supported.md: {missing}"


def _mutates_arguments(case, args):
    before = _copy(args)
    case.fn(*args)
    return any(isinstance(b, np.ndarray) and not np.array_equal(a, b)
               for a, b in zip(args, before))


@pytest.mark.parametrize("case", _params("state"))
def test_gradient_leaves_arguments_alone_and_repeats(case):
    """gradcheck's hygiene: no argument written (unless the function writes it), and the same
    numbers from a second call (no state kept between calls)."""
    args = _draw(case, SEEDS[0])
    if _mutates_arguments(case, _copy(args)):
        return
    before = _copy(args)
    first = _gradients(case, args, "python", SEEDS[0])
    for k, (now, then) in enumerate(zip(args, before)):
        if isinstance(then, np.ndarray):
            assert np.array_equal(now, then), f"{case.name}: argument {k} written"
    again = _gradients(case, args, "python", SEEDS[0])
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b, err_msg=f"{case.name}: a second call differs")


def _sizes_case(name):
    return next(c for c in PEERS if c.name == name)


@pytest.mark.parametrize("mode", ["python", "jit"])
@pytest.mark.parametrize("name", ["kahan_sum", "welford_variance", "online_logsumexp"])
def test_one_gradient_for_several_lengths(name, mode):
    """Generated code is specialised to ndim, not length: one built gradient serves every n
    (tapes sized by the trip count included)."""
    case = _sizes_case(name)
    dfn = build(adjoint.grad, case, mode)
    for n in (3, 11, 2, 7):
        x = np.random.default_rng(n).standard_normal(n)
        np.testing.assert_allclose(dfn(x), _central(case.fn, (x,), 0), rtol=RTOL, atol=ATOL,
                                   err_msg=f"{name} [{mode}] n={n}")
