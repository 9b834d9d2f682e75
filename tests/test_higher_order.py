"""Reverse over reverse through every runtime helper that generated adjoints call.

Takes :data:`adjoint.runtime.__all__`, the rule registry and the NumPy zoo. Checks:

- every runtime helper has a reverse and a forward rule, or a rule saying its result carries no
  derivative, or is differentiated through its own source (``registry.by_source``), or is
  listed in :data:`NO_RULES` with the reason it needs none, or in
  :data:`NOT_YET` (a strict xfail: the day it gets rules, the list must shrink);
- for every helper with a reverse rule, one NumPy zoo entry whose generated gradient calls it is
  differentiated again in reverse mode (``vjp(grad(f))``), and the pullback satisfies
  ⟨pullback(w), u⟩ = ⟨w, (grad f(x + h u) - grad f(x - h u)) / 2h⟩ for random w and u — the
  Hessian-vector identity, against central differences of the gradient;
- a few of them agree with ``hessian`` (forward over reverse) and run under ``jit=True``;
- what cannot be differentiated again (the nuclear norm's gradient) is refused with a located
  error.

CI time: one shape case and one point per helper, in Python mode (transforms are built once per
entry); the jit checks compile three small gradients.
"""

from __future__ import annotations

import inspect
import warnings

import numpy as np
import pytest
from numpy_zoo import ZOO, by_name

import adjoint
from adjoint import runtime
from adjoint.errors import AdjointError
from adjoint.rules import registry

# Helpers that need no rule: what the transforms never emit into code that is differentiated.
NO_RULES = {
    "tape_alloc": "the tape of a compiled loop: generated source records values in lists "
                  "(append/pop), which the reverse transform differentiates as stacks",
    "tape_store": "as tape_alloc",
    "tape_load": "as tape_alloc",
    "Revolve": "the actions of the checkpointing schedule: integer constants, not a function",
}

# Helpers still without a reverse rule: differentiating their code again is refused with a
# located error that names the helper (see test_a_helper_without_rules_is_refused).
NOT_YET = {
}


def _modes(rule):
    reverse = rule.vjp is not None or rule.partials is not None
    forward = rule.jvp is not None or rule.partials is not None
    return reverse, forward


@pytest.mark.parametrize("name", runtime.__all__)
def test_every_runtime_helper_has_rules(name):
    rule = registry.lookup(getattr(runtime, name))
    if registry.is_by_source(getattr(runtime, name)):
        assert rule is None and name not in NOT_YET, f"{name}: a rule and its source"
        return  # differentiated through its source (checked below like the others)
    if name in NO_RULES:
        assert rule is None, f"{name} has a rule now: take it off NO_RULES"
        return
    if name in NOT_YET:
        pytest.xfail(f"{name}: no reverse rule yet ({NOT_YET[name]})")
    assert rule is not None, f"runtime helper {name} has no rule: grad(grad(f)) stops at it"
    if rule.nondiff:
        return
    reverse, forward = _modes(rule)
    assert reverse, f"runtime helper {name} has no reverse-mode rule"
    assert forward, f"runtime helper {name} has no forward-mode rule"


def test_the_lists_name_helpers():
    assert set(NO_RULES) | set(NOT_YET) <= set(runtime.__all__)
    assert not set(NO_RULES) & set(NOT_YET)


# --- reverse over reverse, against central differences of the gradient ----------------------


def _positions(entry):
    names = list(inspect.signature(entry.fn).parameters)
    wrt = entry.wrt if isinstance(entry.wrt, tuple) else (entry.wrt,)
    return tuple(names.index(w) if isinstance(w, str) else w for w in wrt)


def _scalar_entries():
    """Zoo entries with a scalar output at their last (most general) shape case."""
    found = []
    for entry in ZOO:
        args = entry.cases[-1][1](np.random.default_rng(0))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if np.ndim(entry.fn(*args)) == 0:
                found.append(entry)
    return found


def _gradient_sources():
    """entry name -> the source of its generated gradient."""
    out = {}
    for entry in _scalar_entries():
        try:
            out[entry.name] = adjoint.grad(entry.fn, wrt=entry.wrt).source
        except AdjointError:
            continue
    return out


SOURCES = _gradient_sources()


def _entry_calling(helper):
    """The first zoo entry whose generated gradient calls ``helper`` and no helper of
    :data:`NOT_YET` (None if there is none)."""
    for name, source in SOURCES.items():
        if f"{helper}(" in source and not any(f"{h}(" in source for h in NOT_YET):
            return name
    return None


# The shape case to differentiate twice (default: the last, the most general); np.linalg.solve
# of a stack of matrices with a 1-D right-hand side is differentiated once only (refused).
CASE = {"solve_": 1}


REVERSE = [name for name in runtime.__all__ if name not in NO_RULES and name not in NOT_YET
           and (registry.is_by_source(getattr(runtime, name)) or
                registry.lookup(getattr(runtime, name)) is not None
                and _modes(registry.lookup(getattr(runtime, name)))[0])]
COVERED = {h: _entry_calling(h) for h in REVERSE}
EXERCISED = sorted({e for e in COVERED.values() if e is not None})


def test_most_helpers_with_rules_are_met_in_a_generated_gradient():
    """The zoo reaches the helpers through ordinary programs; those it cannot reach (the
    adjoints of adjoints, met only at higher orders) are checked through their partners."""
    reached = {h for h, e in COVERED.items() if e is not None}
    assert len(reached) >= 40, sorted(set(COVERED) - reached)


def hessian_vector_identity(entry, jit=False, seed=3):
    """⟨vjp(grad f)(w), u⟩ against ⟨w, D(grad f)[u]⟩ by central differences."""
    rng = np.random.default_rng(seed)
    args = entry.cases[CASE.get(entry.name, -1)][1](np.random.default_rng(5))
    pos = _positions(entry)
    gradient = adjoint.grad(entry.fn, wrt=entry.wrt)
    again = adjoint.vjp(adjoint.grad(entry.fn, wrt=entry.wrt, jit=jit), wrt=entry.wrt, jit=jit)
    value, pullback = again(*args)
    values = value if isinstance(entry.wrt, tuple) else (value,)
    w = tuple(rng.normal(size=np.shape(v)) if np.ndim(v) else float(rng.normal()) for v in values)
    back = pullback(w if isinstance(entry.wrt, tuple) else w[0])
    back = back if isinstance(entry.wrt, tuple) else (back,)
    u = [rng.normal(size=np.shape(args[p])) if np.ndim(args[p]) else float(rng.normal())
         for p in pos]
    lhs = sum(float(np.sum(b * d)) for b, d in zip(back, u))
    h = 1e-5

    def at(sign):
        moved = list(args)
        for p, d in zip(pos, u):
            moved[p] = args[p] + sign * h * d
        g = gradient(*moved)
        return g if isinstance(entry.wrt, tuple) else (g,)

    plus, minus = at(1.0), at(-1.0)
    rhs = sum(float(np.sum(ww * (a - b))) / (2 * h) for ww, a, b in zip(w, plus, minus))
    return lhs, rhs


@pytest.mark.parametrize("name", EXERCISED)
def test_reverse_over_reverse_matches_differences_of_the_gradient(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        lhs, rhs = hessian_vector_identity(by_name(name))
    assert lhs == pytest.approx(rhs, rel=1e-5, abs=1e-6 * max(1.0, abs(rhs))), (
        f"{name}: <H w, u> = {lhs} by reverse over reverse, {rhs} by differences")


def _matmul_tanh(a, b):
    return np.sum(np.tanh(a @ b) ** 2)


def _solve_det(a, b):
    x = np.linalg.solve(a, b)
    return np.sum(x * x) + np.linalg.det(a) ** 2


def _slogdet_both(a, b):
    sign, logdet = np.linalg.slogdet(a)
    return logdet * np.sum(b * b) + sign


@pytest.mark.parametrize("fn", [_matmul_tanh, _solve_det, _slogdet_both])
def test_reverse_over_reverse_equals_the_hessian(fn):
    rng = np.random.default_rng(7)
    a = rng.normal(size=(3, 3)) * 0.3 + 2.0 * np.eye(3)
    b = rng.normal(size=(3, 2))
    hess = adjoint.hessian(fn)(a, b)
    _, pullback = adjoint.vjp(adjoint.grad(fn))(a, b)
    for k in range(a.size):
        e = np.zeros(a.size)
        e[k] = 1.0
        column = pullback(e.reshape(a.shape))
        np.testing.assert_allclose(column, hess.reshape(a.size, *a.shape)[k], rtol=1e-9,
                                   atol=1e-9)


@pytest.mark.parametrize("name", ["matmul_operator", "cumsum_flat", "repeat_flat"])
def test_reverse_over_reverse_under_jit(name):
    entry = by_name(name)
    lhs, rhs = hessian_vector_identity(entry, jit=True)
    assert lhs == pytest.approx(rhs, rel=1e-5, abs=1e-6 * max(1.0, abs(rhs)))


def _nuclear_norm(a):
    return np.linalg.norm(a, ord="nuc") ** 2


def test_a_derivative_adjoint_cannot_take_again_is_refused_where_it_is():
    """The nuclear norm's gradient (U Vᵀ of its SVD) is differentiated once only: its second
    derivative is a located error, never a wrong number."""
    second = adjoint.vjp(adjoint.grad(_nuclear_norm))
    _, pullback = second(np.array([[2.0, 0.3], [0.1, 1.0]]))
    with pytest.raises(AdjointError, match="once only") as info:
        pullback(np.ones((2, 2)))
    assert info.value.filename.endswith("test_higher_order.py")


_PROD_AT = np.array([1.5, 0.0, -2.0, 0.5, 1.2])  # a zero: no division
_PROD_ALONG = np.array([0.3, -0.8, 0.6, 1.1, -0.4])


def _prod_along(t):
    y = _PROD_AT + t * _PROD_ALONG
    return np.prod(y) + np.sum(np.prod(np.reshape(y[:4], (2, 2)), axis=0) ** 2)


def test_third_derivative_of_prod_through_the_source_of_its_helpers():
    """np.prod's second-derivative helper (prod_weights_vjp) is differentiated through its own
    source: grad∘grad∘grad against differences of grad∘grad, at points with a zero factor."""
    second = adjoint.grad(adjoint.grad(_prod_along))
    third = adjoint.grad(second)
    h = 1e-6
    for t in (0.0, 0.4):
        expected = (second(t + h) - second(t - h)) / (2 * h)
        assert third(t) == pytest.approx(expected, rel=1e-6, abs=1e-8)


# --- helpers met only in code differentiated twice: their rules, directly ---------------------
# Each function below calls one helper the way second-order code does, weighted by a fixed
# random array; its gradient (the helper's reverse rule) and its jvp (the forward rule) are
# checked against central differences.

_R = np.random.default_rng(11)
A3 = _R.normal(size=(3, 3)) * 0.3 + 2.0 * np.eye(3)
X23 = _R.normal(size=(2, 3))
W23 = _R.normal(size=(2, 3))
W3 = _R.normal(size=3)
W5 = _R.normal(size=5)
W33 = _R.normal(size=(3, 3))
W32 = _R.normal(size=(3, 2))
DISTINCT = np.array([0.3, -1.2, 2.5, 0.9, -0.4])
COND = [np.array([True, False, False]), np.array([False, True, False])]
CHOICES = [np.ones(3), np.ones(3)]


def h_arange_jvp_start(t):
    return np.sum(runtime.arange_jvp_start(t, W5, 3.0) * W5)


def h_broadcast_like(g):
    return np.sum(runtime.broadcast_like(g, X23) * W23)


def h_check_scalar(out):
    return runtime.check_scalar(out) * 3.0


def h_cholesky_jvp(t, z):
    return np.sum(runtime.cholesky_jvp(t, z, False) * W33)


def h_eigh_jvp(t, w, v):
    dw, dv = runtime.eigh_jvp(t, A3, w, v, "L")
    return np.sum(dw * W3) + np.sum(dv * W33)


def h_gaps(v):
    return np.sum(runtime.gaps(v) * W33)


def h_column_stack_join(p, q):
    return np.sum(runtime.column_stack_join((p, q), (W3, W32)) * np.ones((3, 3)) * W33)


def h_svd_jvp(t, a):
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    du, ds, dvh = runtime.svd_jvp(t, a, u, s, vh, False, False)
    return np.sum(du * W32) + np.sum(ds * W3[:2]) + np.sum(dvh * W33[:2, :2])


def h_svd_values_jvp(t, a):
    return np.sum(runtime.svd_values_jvp(t, a, False) * W3[:2])


def h_cumprod_jvp(t, a, z):
    return np.sum(runtime.cumprod_jvp(t, a, z, None) * W5)


def h_cumsum_axis(x):
    return np.sum(runtime.cumsum_axis(x, 1) * W23)


def h_det_jvp(t, a, z):
    return runtime.det_jvp(t, a, z) * 2.0


def h_diff_axis(x):
    return np.sum(runtime.diff_axis(x, 1, 1) * W23[:, :2])


def h_gradient_of(f):
    return np.sum(runtime.gradient_of(f, 0.5, None, None, None, None, 1) * W5)


def h_hstack_join(p, q):
    return np.sum(runtime.hstack_join((p, q), (W3, W3[:2])) * W5)


def h_index_concat_jvp(p, q):
    return np.sum(runtime.index_concat_jvp((p, q), np.r_, (W3, W3[:2])) * W5)


def h_join_like(p, q):
    return np.sum(runtime.join_like((p, q), (W3, W3[:2]), 0) * W5)


def h_keep_dims(r):
    return np.sum(runtime.keep_dims(r, X23, 0) * W3)


def h_linspace_jvp(t):
    return np.sum(runtime.linspace_jvp(t, W5, 0) * W5)


def h_logdet_jvp(t, a):
    return runtime.logdet_jvp(t, a) ** 2


def h_pad_part(y):
    return np.sum(runtime.pad_part(y, W5, None, False) * W5)


def h_partition_jvp(t):
    return np.sum(runtime.partition_jvp(t, DISTINCT, np.partition(DISTINCT, 2), -1) * W5)


def h_place_at(y):
    return np.sum(runtime.place_at(y, W5, np.array([1, 3, 1])) * W5)


def h_prod_weights_vjp(g, a):
    return np.sum(runtime.prod_weights_vjp(g, a, 1) * W23)


def h_reduce_sum(x):
    return np.sum(runtime.reduce_sum(x, 0, True) * W3)


def h_repeat_axis(x):
    return np.sum(runtime.repeat_axis(x, 2, 1) ** 2)


def h_roll_axis(x):
    return np.sum(runtime.roll_axis(x, 1, 1) * W23)


def h_select_join(p, q):
    return np.sum(runtime.select_join((p, q), COND, CHOICES, W3) * W3)


def h_solve_jvp_a(t, a, x):
    return np.sum(runtime.solve_jvp_a(t, a, W32, x) * W32)


def h_sort_jvp(t):
    return np.sum(runtime.sort_jvp(t, DISTINCT, -1) * W5)


def h_stack_like(p, q):
    return np.sum(runtime.stack_like((p, q), X23, 0) * W23)


def h_trace_axes(x):
    return runtime.trace_axes(x, 0, 0, 1) ** 2


def h_vstack_join(p, q):
    return np.sum(runtime.vstack_join((p, q), (W3, X23)) * np.ones((3, 3)) * W33)


def _r(*shape):
    return np.random.default_rng(sum(shape) + len(shape)).normal(size=shape)


DIRECT = {
    "arange_jvp_start": (h_arange_jvp_start, (0.7,)),
    "broadcast_like": (h_broadcast_like, (_r(3),)),
    "check_scalar": (h_check_scalar, (0.4,)),
    "cholesky_jvp": (h_cholesky_jvp, (_r(3, 3), np.linalg.cholesky(A3 @ A3.T))),
    "column_stack_join": (h_column_stack_join, (_r(3), _r(3, 2))),
    "eigh_jvp": (h_eigh_jvp, (_r(3, 3), *np.linalg.eigh(A3 + A3.T))),
    "gaps": (h_gaps, (DISTINCT[:3],)),
    "svd_jvp": (h_svd_jvp, (_r(3, 2), _r(3, 2) + np.array([[2.0, 0.0], [0.0, 1.0], [0.0, 0.0]]))),
    "svd_values_jvp": (h_svd_values_jvp, (_r(3, 2), _r(3, 2) + np.array([[2.0, 0.0], [0.0, 1.0],
                                                                          [0.0, 0.0]]))),
    "cumprod_jvp": (h_cumprod_jvp, (_r(5), DISTINCT, np.cumprod(DISTINCT))),
    "cumsum_axis": (h_cumsum_axis, (_r(2, 3),)),
    "det_jvp": (h_det_jvp, (_r(3, 3), A3, 1.3)),
    "diff_axis": (h_diff_axis, (_r(2, 3),)),
    "gradient_of": (h_gradient_of, (_r(5),)),
    "hstack_join": (h_hstack_join, (_r(3), _r(2))),
    "index_concat_jvp": (h_index_concat_jvp, (_r(3), _r(2))),
    "join_like": (h_join_like, (_r(3), _r(2))),
    "keep_dims": (h_keep_dims, (_r(3),)),
    "linspace_jvp": (h_linspace_jvp, (0.3,)),
    "logdet_jvp": (h_logdet_jvp, (_r(3, 3), A3)),
    "pad_part": (h_pad_part, (_r(2),)),
    "partition_jvp": (h_partition_jvp, (_r(5),)),
    "place_at": (h_place_at, (_r(3),)),
    "prod_weights_vjp": (h_prod_weights_vjp, (_r(2, 3), np.array([[0.5, 0.0, 2.0],
                                                                  [1.5, -1.0, 3.0]]))),
    "reduce_sum": (h_reduce_sum, (_r(2, 3),)),
    "repeat_axis": (h_repeat_axis, (_r(2, 3),)),
    "roll_axis": (h_roll_axis, (_r(2, 3),)),
    "select_join": (h_select_join, (_r(3), _r(3))),
    "solve_jvp_a": (h_solve_jvp_a, (_r(3, 3), A3, _r(3, 2))),
    "sort_jvp": (h_sort_jvp, (_r(5),)),
    "stack_like": (h_stack_like, (_r(3), _r(3))),
    "trace_axes": (h_trace_axes, (_r(3, 3),)),
    "vstack_join": (h_vstack_join, (_r(3), _r(2, 3))),
}


def test_every_helper_with_rules_is_checked():
    """Each helper with a reverse rule is met in a zoo gradient or checked directly below."""
    unchecked = {h for h, e in COVERED.items() if e is None} - set(DIRECT)
    assert not unchecked, sorted(unchecked)


@pytest.mark.parametrize("name", sorted(DIRECT))
def test_helper_rules_match_differences(name):
    fn, args = DIRECT[name]
    wrt = tuple(range(len(args)))
    adjoint.check_grad(fn, *args, wrt=wrt)
    rng = np.random.default_rng(2)
    v = [rng.normal(size=np.shape(a)) if np.ndim(a) else float(rng.normal()) for a in args]
    _, tangent = adjoint.jvp(fn, wrt=wrt)(*args, *v)
    h = 1e-6
    plus = [a + h * d for a, d in zip(args, v)]
    minus = [a - h * d for a, d in zip(args, v)]
    expected = (fn(*plus) - fn(*minus)) / (2 * h)
    assert tangent == pytest.approx(expected, rel=1e-6, abs=1e-8)
