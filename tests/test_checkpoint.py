"""Checkpointing: ``grad(f, checkpoint=None | "auto" | s)`` and the revolve schedule.

Takes the schedule of :mod:`adjoint.runtime.revolve` and the transform of
:mod:`adjoint.transforms.checkpoint`. Checks that the schedule reverses every step in order with
at most ``s`` snapshots and exactly the binomial optimum of recomputed steps (against a
brute-force dynamic programme written here), in Python and compiled by Numba; that checkpointed
gradients equal plain ones to rounding and central differences, for several ``s`` (1, ``s >=
n``, "auto"), trip counts 0, 1, 2 and large, nested loops, arrays as state, in both modes and
under ``vmap``; that the generated code never holds more than ``s`` snapshots; and that invalid
values of the option are refused with a located error.
"""

from __future__ import annotations

import functools
import math
import pickle
import sys

import numba
import numpy as np
import pytest

import adjoint
import adjoint.runtime_numba  # noqa: F401  (registers the schedule's Numba implementation)
from adjoint import OptionError
from adjoint.runtime import revolve as R

# --- the schedule -----------------------------------------------------------------------------


@functools.lru_cache(maxsize=None)
def fewest_steps(steps, slots):
    """The fewest untaped forward steps reversing ``steps`` steps with ``slots`` snapshots, the
    state at hand being the first: try every first split (brute force)."""
    if steps <= 1:
        return 0
    if slots == 1:  # restore the start and advance to each step in turn
        return steps * (steps - 1) // 2
    return min(m + fewest_steps(steps - m, slots - 1) + fewest_steps(m, slots)
               for m in range(1, steps))


def follow(n, s):
    """Follow the schedule for (n, s) on symbolic states (a state is its step): checks every
    action's consistency; returns (untaped steps run, the most snapshots held)."""
    schedule = R.revolve_start(n, s)
    state, snapshots, reversed_, recorded, steps, peak = 0, [], [], None, 0, 0
    while True:
        action, step = R.revolve_next(schedule), R.revolve_step(schedule)
        until = R.revolve_until(schedule)
        if action == R.Revolve.ADVANCE:
            assert state == step < until
            steps += until - step
            state = until
        elif action == R.Revolve.STORE:
            assert state == step
            snapshots.append(state)
            peak = max(peak, len(snapshots))
        elif action == R.Revolve.RESTORE:
            assert snapshots[-1] == step
            state = step
        elif action == R.Revolve.FREE:
            assert snapshots.pop() == step and step >= until
        elif action == R.Revolve.RECORD:
            assert state == step and recorded is None
            recorded, state = step, step + 1
        elif action == R.Revolve.REVERSE:
            assert recorded == step
            reversed_.append(step)
            recorded, state = None, None  # a backward iteration leaves the state undefined
        else:
            assert action == R.Revolve.DONE
            break
    assert reversed_ == list(range(n - 1, -1, -1))
    assert not snapshots
    assert R.revolve_advances(schedule) == steps and R.revolve_peak(schedule) == peak
    return steps, peak


@pytest.mark.parametrize("s", range(1, 7))
def test_the_schedule_reverses_every_step_with_the_fewest_recomputations(s):
    for n in range(0, 41):
        steps, peak = follow(n, s)
        assert peak <= s
        assert steps == fewest_steps(n, min(s, max(n, 1))), (n, s)


def test_the_schedule_meets_the_closed_form_and_the_first_sweep_goes_to_the_last_step():
    for n, s in [(1000, 1), (1000, 3), (5000, 10), (4096, 12), (100, 200)]:
        r = 1
        while math.comb(s + r, s) < n:
            r += 1
        steps, peak = follow(n, s)
        assert steps == r * n - math.comb(s + r, s + 1)
        assert peak == min(s, n - 1)  # the last step is taped, never stored
    schedule = R.revolve_start(10, 3)
    actions = []
    while (action := R.revolve_next(schedule)) != R.Revolve.RECORD:
        actions.append(action)
    assert R.revolve_step(schedule) == 9  # the forward sweep ends taping the last step
    assert set(actions) == {R.Revolve.STORE, R.Revolve.ADVANCE}


def test_auto_snapshots_is_the_ceiling_of_log2():
    got = [R.auto_snapshots(n) for n in (0, 1, 2, 3, 4, 5, 1024, 1025, 10 ** 6)]
    assert got == [1, 1, 1, 2, 2, 3, 10, 11, 20]


@numba.njit
def _compiled_schedule(n, s):
    schedule = adjoint.runtime.revolve_start(n, s)
    out = []
    while True:
        action = adjoint.runtime.revolve_next(schedule)
        out.append((action, adjoint.runtime.revolve_step(schedule),
                    adjoint.runtime.revolve_until(schedule)))
        if action == adjoint.runtime.Revolve.DONE:
            return out


def test_numba_follows_the_same_schedule():
    for n, s in [(0, 2), (1, 1), (17, 1), (33, 3), (60, "auto")]:
        s = R.auto_snapshots(n) if s == "auto" else s
        schedule, expected = R.revolve_start(n, s), []
        while True:
            expected.append((int(R.revolve_next(schedule)), int(R.revolve_step(schedule)),
                             int(R.revolve_until(schedule))))
            if expected[-1][0] == R.Revolve.DONE:
                break
        assert _compiled_schedule(n, s) == expected


# --- gradients ----------------------------------------------------------------------------------


def euler(k, y0, n):
    """Euler steps of y' = -k y + sin(y)."""
    y = y0
    h = 0.05
    for i in range(n):
        y = y + h * (-k * y + math.sin(y))
    return y * y


def euler_vector(k, y0, n):
    """Arrays as state, and a nested loop in each step."""
    y = y0.copy()
    h = 0.05
    for i in range(n):
        y = y + h * (-k * y + np.sin(y))
        for j in range(2):
            y = y * 0.99 + 0.01 * np.tanh(y)
    return np.sum(y * y)


def branching(x, n):
    y = x
    s = 0.0
    for i in range(n):
        if y > 0.3:
            y = y * math.cos(y) + 0.1 * i
        else:
            y = y + 0.2 * math.sin(y * i)
        s = s + y * y
    return s


def strided(x, n):
    y = x
    for i in range(3, n, 2):
        y = math.sin(y) * i * 0.1 + y
    return y


def inner_while(x, n):
    y = x
    for i in range(n):
        j = 0
        while j < i % 3:
            y = y * 0.9 + math.tanh(y)
            j = j + 1
    return y


def written_in_place(x, n):
    """The state is an array the loop writes into."""
    a = np.zeros(n + 1)
    a[0] = x
    for i in range(n):
        a[i + 1] = a[i] * 0.9 + math.sin(a[i])
    return np.sum(a ** 2)


def two_loops_and_a_later_rebinding(x, n):
    c = 0.5
    y = x
    for i in range(n):
        y = y * c + math.sin(y)
    c = 2.0
    z = y
    for i in range(n):
        z = z * math.cos(z) + y
    return z * c


def carried_pair(x, n):
    a = x
    b = 1.0
    for i in range(n):
        a, b = b, a + math.sin(b)
    return a * b


def in_a_branch(x, n):
    y = x
    if x > 0.0:
        for i in range(n):
            y = math.sin(y) + 0.9 * y
    return y * y


def recurrent(W, x, n):
    h = x
    for i in range(n):
        h = np.tanh(W @ h)
    return np.sum(h)


def breaks(x, n):
    y = x
    for i in range(n):
        y = math.sin(y) + y
        if y > 100.0:
            break
    return y


W = np.array([[0.5, 0.2, -0.1], [0.1, 0.4, 0.3], [-0.2, 0.1, 0.6]])
CASES = {
    "euler": (euler, (0.7, 1.3, 30)),
    "euler_vector": (euler_vector, (0.7, np.array([0.2, -0.5, 1.1]), 12)),
    "branching": (branching, (0.4, 9)),
    "strided": (strided, (0.2, 16)),
    "inner_while": (inner_while, (0.3, 8)),
    "written_in_place": (written_in_place, (0.3, 7)),
    "two_loops": (two_loops_and_a_later_rebinding, (0.3, 6)),
    "carried_pair": (carried_pair, (0.3, 6)),
    "in_a_branch": (in_a_branch, (0.3, 7)),
    "in_a_branch_not_taken": (in_a_branch, (-0.3, 7)),
    "recurrent": (recurrent, (W, np.array([0.3, -0.2, 0.5]), 6)),
}


def central_differences(f, args, position, eps=1e-6):
    x = np.asarray(args[position], dtype=float)
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        plus, minus = x.copy(), x.copy()
        plus[index] += eps
        minus[index] -= eps
        as_arg = (lambda v: v) if np.ndim(args[position]) else float
        up = f(*args[:position], as_arg(plus), *args[position + 1:])
        down = f(*args[:position], as_arg(minus), *args[position + 1:])
        grad[index] = (up - down) / (2 * eps)
    return grad


@pytest.mark.parametrize("name", sorted(CASES))
def test_checkpointed_gradients_equal_plain_ones_and_differences(name):
    f, args = CASES[name]
    plain = adjoint.grad(f)(*args)
    np.testing.assert_allclose(plain, central_differences(f, args, 0), rtol=1e-6, atol=1e-8)
    for s in (1, 3, "auto", 10 ** 6):
        checkpointed = adjoint.grad(f, checkpoint=s)
        np.testing.assert_allclose(checkpointed(*args), plain, rtol=1e-13, atol=1e-14)
        assert "revolve_start" in checkpointed.source, "the loop was not checkpointed"


@pytest.mark.parametrize("n", [0, 1, 2, 3, 257])
def test_trip_counts(n):
    for s in (1, 2, "auto"):
        got = adjoint.grad(euler, wrt=(0, 1), checkpoint=s)(0.7, 1.3, n)
        np.testing.assert_allclose(got, adjoint.grad(euler, wrt=(0, 1))(0.7, 1.3, n),
                                   rtol=1e-13, atol=1e-15)


def test_a_loop_that_may_break_stays_taped_and_right():
    checkpointed = adjoint.grad(breaks, checkpoint=2)
    assert checkpointed(0.3, 6) == adjoint.grad(breaks)(0.3, 6)
    assert "revolve" not in checkpointed.source


def test_value_and_grad_and_vjp_take_the_option():
    value, grads = adjoint.value_and_grad(euler, wrt=(0, 1), checkpoint=2)(0.7, 1.3, 20)
    assert value == euler(0.7, 1.3, 20)
    np.testing.assert_allclose(grads, adjoint.grad(euler, wrt=(0, 1))(0.7, 1.3, 20), rtol=1e-13)
    value, pullback = adjoint.vjp(euler, checkpoint="auto")(0.7, 1.3, 20)
    assert value == euler(0.7, 1.3, 20)
    np.testing.assert_allclose(pullback(3.0), 3.0 * adjoint.grad(euler)(0.7, 1.3, 20),
                               rtol=1e-13)


def _most_snapshots(transform, args):
    """The most states the generated code's snapshot stores hold at once (Python mode)."""
    derived = transform.derive(*args)
    code = derived.function.__code__
    stores = derived.snapshot_stores
    assert stores
    most = [0]

    def trace(frame, event, arg):
        if frame.f_code is not code:
            return None
        held = [len(frame.f_locals.get(name) or ()) for name in stores]
        most[0] = max([most[0]] + held)
        return trace

    previous = sys.gettrace()
    sys.settrace(trace)
    try:
        derived.function(*args)
    finally:
        sys.settrace(previous)
    return most[0]


def test_the_generated_code_holds_at_most_s_snapshots():
    for s, n in [(1, 40), (3, 40), (4, 3), ("auto", 64)]:
        most = _most_snapshots(adjoint.grad(euler_vector, checkpoint=s),
                               (0.7, np.array([0.2, -0.5]), n))
        assert 1 <= most <= min(R.auto_snapshots(n) if s == "auto" else s, n)


def test_the_tape_holds_one_iteration_and_the_snapshots_s_states():
    args = (0.7, np.array([0.2, -0.5]), 200)
    plain = adjoint.grad(euler_vector).tape_bytes(*args)
    assert plain >= 200 * 16  # the state of every step
    checkpointed = adjoint.grad(euler_vector, checkpoint=4).tape_bytes(*args)
    assert checkpointed <= (4 + 3) * 16  # 4 snapshots, one step's tape


# --- jit=True and vmap ---------------------------------------------------------------------------

JIT_EULER = adjoint.grad(euler, wrt=(0, 1), jit=True, checkpoint="auto")
JIT_VECTOR = adjoint.grad(euler_vector, jit=True, checkpoint="auto")


@pytest.mark.parametrize("n", [0, 1, 2, 5, 300])
def test_jit_equals_python_mode(n):
    # "auto" picks the number of snapshots at run time: one compile serves every n
    np.testing.assert_allclose(JIT_EULER(0.7, 1.3, n), adjoint.grad(euler, wrt=(0, 1))(
        0.7, 1.3, n), rtol=1e-12, atol=1e-15)
    y0 = np.array([0.2, -0.5, 1.1])
    np.testing.assert_allclose(JIT_VECTOR(0.7, y0, n), adjoint.grad(euler_vector)(0.7, y0, n),
                               rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("jit", [False, True])
def test_vmap_of_a_checkpointed_gradient(jit):
    ks = np.linspace(0.1, 1.0, 5)
    mapped = adjoint.vmap(adjoint.grad(euler, checkpoint="auto", jit=jit), in_axes=(0, None, None))
    expected = [adjoint.grad(euler)(k, 1.3, 40) for k in ks]
    np.testing.assert_allclose(mapped(ks, 1.3, 40), expected, rtol=1e-12)
    assert mapped.last_run == ("prange" if jit else "loop")


def test_pickled_transforms_keep_the_option():
    again = pickle.loads(pickle.dumps(adjoint.grad(euler, checkpoint=3)))
    assert again.checkpoint == 3
    assert "revolve_start(n, 3)" in adjoint.source(again, 0.7, 1.3, 10)


# --- the option ---------------------------------------------------------------------------


@pytest.mark.parametrize("value", [0, -2, "fast", "Auto", 2.5, True, [3]])
def test_invalid_values_are_refused_naming_the_option(value):
    with pytest.raises(OptionError) as info:
        adjoint.grad(euler, checkpoint=value)
    err = info.value
    assert "checkpoint=" in err.message and "checkpoint" in err.hint
    assert err.filename == __file__ and err.lineno == euler.__code__.co_firstlineno
    with pytest.raises(OptionError):
        adjoint.value_and_grad(checkpoint=value)


def test_the_generated_code_reads_as_a_schedule():
    code = adjoint.source(adjoint.grad(euler, checkpoint=4), 0.7, 1.3, 10)
    for text in ("i_schedule = revolve_start(n, 4)", "y_1_snapshots.append(y_1)",
                 "action = revolve_next(i_schedule)", "if action == Revolve.RECORD:",
                 "if action == Revolve.REVERSE:", "y_1 = y_1_snapshots[-1]"):
        assert text in code, text
    assert "np.full" not in code  # no tape of every iteration


def test_second_derivatives_checkpoint_the_outer_transform_only():
    second = adjoint.grad(adjoint.grad(euler), checkpoint=2)
    assert second(0.7, 1.3, 6) == pytest.approx(adjoint.grad(adjoint.grad(euler))(0.7, 1.3, 6),
                                                 rel=1e-13)
    assert "revolve_start" in adjoint.source(second, 0.7, 1.3, 6)
    with pytest.raises(OptionError, match="cannot be differentiated again") as info:
        adjoint.grad(adjoint.grad(euler, checkpoint=2))(0.7, 1.3, 6)
    assert info.value.lineno == euler.__code__.co_firstlineno


def test_adjoint_show_prints_the_checkpointed_code(capsys):
    from adjoint import cli
    status = cli.main(["show", f"{__file__}:euler", "--checkpoint", "auto", "--args",
                       "0.7, 1.3, 10"])
    assert status == 0
    assert "revolve_start(n, auto_snapshots(n))" in capsys.readouterr().out
    assert cli.main(["show", f"{__file__}:euler", "--checkpoint", "0"]) == 2
    assert "checkpoint=0 is not a valid value" in capsys.readouterr().err


DEULER = adjoint.grad(euler, checkpoint=2)


def penalty(k, y0, n):
    """A gradient penalty: differentiates the checkpointed gradient's computation."""
    g = DEULER(k, y0, n)
    return g * g


def test_a_checkpointed_gradient_called_inside_a_differentiated_function():
    plain = adjoint.grad(penalty)(0.7, 1.3, 6)
    assert plain == pytest.approx(central_differences(penalty, (0.7, 1.3, 6), 0)[()], rel=1e-6)
    # the inlined gradient's loops push and pop a list (its tape): they stay taped
    assert adjoint.grad(penalty, checkpoint=3)(0.7, 1.3, 6) == pytest.approx(plain, rel=1e-13)


def tree_loss(params, x, n):
    w, b = params["layer"]
    y = x
    for i in range(n):
        y = np.tanh(w * y + b)
    return np.sum(y) * params["scale"], np.sum(y)


def test_trees_and_has_aux():
    params = {"layer": (np.array([0.5, 0.3]), 0.1), "scale": 2.0}
    (value, aux), grads = adjoint.value_and_grad(tree_loss, has_aux=True, checkpoint="auto")(
        params, np.ones(2), 7)
    (value0, aux0), grads0 = adjoint.value_and_grad(tree_loss, has_aux=True)(
        params, np.ones(2), 7)
    assert (value, aux) == (value0, aux0)
    np.testing.assert_allclose(grads["layer"][0], grads0["layer"][0], rtol=1e-13)
    assert grads["layer"][1] == pytest.approx(grads0["layer"][1], rel=1e-13)
    assert grads["scale"] == pytest.approx(grads0["scale"], rel=1e-13)
    assert "revolve_start" in adjoint.value_and_grad(tree_loss, has_aux=True, checkpoint=2).derive(
        params, np.ones(2), 7).source
