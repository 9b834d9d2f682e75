"""Binomial checkpointing (Griewank and Walther's *revolve*): the schedule a checkpointed loop's
reversal follows, one action at a time.

Takes the trip count ``n`` of a loop and a number ``s >= 1`` of snapshots (the state on entry
is the first); guarantees a schedule that reverses the ``n`` steps in order ``n - 1, ..., 0``
holding at most ``s`` snapshots of the loop's state at once, and running the fewest untaped
forward steps any such schedule can (the binomial optimum: with ``r`` the least integer such
that ``C(s + r, s) >= n``, ``r * n - C(s + r, s + 1)`` steps; ``r`` is the number of times a
step runs at most, its taped run aside). The schedule is computed as it is followed, from
``O(s)`` integers: its length is ``O(r * n)``, far more than the state it replaces.

Generated code asks :func:`revolve_next` for the next action until it says ``DONE``; the
snapshots are a stack (a list), of which only the last one is ever restored::

    schedule = revolve_start(n, 4)
    snapshots = []
    while True:
        action = revolve_next(schedule)
        step = revolve_step(schedule)
        if action == Revolve.ADVANCE:      # run steps step .. revolve_until(schedule) - 1
        elif action == Revolve.STORE:      # snapshots.append(the state), the state of step
        elif action == Revolve.RESTORE:    # the state = snapshots[-1], the state of step
        elif action == Revolve.FREE:       # snapshots.pop(): steps from step on are reversed
        elif action == Revolve.RECORD:     # run step ``step`` taping it
        elif action == Revolve.REVERSE:    # run the backward of step ``step``
        else:                              # DONE
            break

The forward sweep follows it up to the first ``RECORD`` (of step ``n - 1``, whose state
the sweep then leaves behind); the backward sweep continues it from the ``REVERSE`` of that
step. Every ``REVERSE`` is followed by a ``RESTORE`` (a step's backward leaves the state
undefined) or by the end. Plain integer code on a NumPy ``int64`` array, so it runs interpreted
and, through :mod:`adjoint.runtime_numba.revolve`, compiled by Numba. :func:`revolve_advances`
and :func:`revolve_peak` read what a schedule has done so far (for tests and benchmarks).
"""

from __future__ import annotations

import enum

import numpy as np


class Revolve(enum.IntEnum):
    """The actions of a revolve schedule (see the module docstring)."""

    ADVANCE = 1
    STORE = 2
    RESTORE = 3
    FREE = 4
    RECORD = 5
    REVERSE = 6
    DONE = 7


# Plain ints for the helpers themselves (Numba freezes module-level ints as constants).
_ADVANCE, _STORE, _RESTORE, _FREE, _RECORD, _REVERSE, _DONE = 1, 2, 3, 4, 5, 6, 7

# The fields of a schedule's state array, then the step held in each snapshot slot.
_TRIPS, _SLOTS, _CURRENT, _UNDONE, _TOP, _PENDING, _ADVANCES, _PEAK, _STEP, _UNTIL = range(10)
_FIELDS = 10


def auto_snapshots(trips):
    """The number of snapshots ``checkpoint="auto"`` uses for ``trips`` steps: ``ceil(log2
    trips)``, at least 1."""
    s = 0
    while (1 << s) < trips:
        s += 1
    return s if s > 1 else 1


def revolve_start(trips, snapshots):
    """A schedule reversing ``trips`` steps with at most ``snapshots`` (``>= 1``) snapshots."""
    n = trips if trips > 0 else 0
    slots = snapshots if snapshots < n else n
    state = np.zeros(_FIELDS + slots, np.int64)
    state[_TRIPS] = n
    state[_SLOTS] = slots
    state[_CURRENT] = 0  # the state on entry is the state of step 0
    state[_UNDONE] = n  # steps below this are still to be reversed
    state[_TOP] = -1  # the last slot in use
    state[_PENDING] = -1  # a step recorded, its backward not yet run
    return state


def revolve_advances(state):
    """How many untaped forward steps the schedule has asked for so far."""
    return state[_ADVANCES]


def revolve_peak(state):
    """The most snapshots the schedule has held at once so far."""
    return state[_PEAK]


def revolve_step(state):
    """The step of the last action (the first step of an ``ADVANCE``)."""
    return state[_STEP]


def revolve_until(state):
    """The end of the last action's steps (``ADVANCE`` runs ``step .. until - 1``)."""
    return state[_UNTIL]


def _act(state, action, step, until):
    state[_STEP] = step
    state[_UNTIL] = until
    return action


def revolve_next(state):
    """The next action (see the module docstring); :func:`revolve_step` and
    :func:`revolve_until` give its steps."""
    pending = state[_PENDING]
    if pending >= 0:
        state[_PENDING] = -1
        state[_UNDONE] = pending
        state[_CURRENT] = -1  # a step's backward leaves the state undefined
        return _act(state, _REVERSE, pending, pending + 1)
    undone = state[_UNDONE]
    top = state[_TOP]
    if top >= 0 and state[_FIELDS + top] >= undone:  # its steps are reversed: free it
        state[_TOP] = top - 1
        return _act(state, _FREE, state[_FIELDS + top], undone)
    if undone <= 0:
        return _act(state, _DONE, 0, 0)
    current = state[_CURRENT]
    if top < 0:  # first action: the state on entry is the first snapshot
        state[_TOP] = 0
        state[_FIELDS] = 0
        state[_PEAK] = 1
        return _act(state, _STORE, 0, 0)
    base = state[_FIELDS + top]
    if current < 0:
        state[_CURRENT] = base
        return _act(state, _RESTORE, base, base)
    if current == undone - 1:
        state[_PENDING] = current
        state[_CURRENT] = undone
        return _act(state, _RECORD, current, undone)
    if current > base:  # advanced to a split point: keep its state
        top += 1
        state[_TOP] = top
        state[_FIELDS + top] = current
        if top + 1 > state[_PEAK]:
            state[_PEAK] = top + 1
        return _act(state, _STORE, current, current)
    split = base + revolve_split(undone - base, state[_SLOTS] - top)
    state[_CURRENT] = split
    state[_ADVANCES] += split - base
    return _act(state, _ADVANCE, base, split)


def revolve_split(steps, slots):
    """Where to take the next snapshot, as a number of steps ``1 <= m < steps`` from the state
    at hand, to reverse ``steps`` steps with ``slots`` snapshots (the one at hand included) in
    the fewest forward steps: the first ``m`` steps are then reversed with ``slots`` snapshots
    and ``r - 1`` repetitions, the others with ``slots - 1`` and ``r``, where ``r`` is the least
    integer with ``C(slots + r, slots) >= steps``."""
    if slots <= 1:
        return steps - 1
    c = slots if slots < steps else steps
    # beta(c, r) = C(c + r, c): the most steps c snapshots reverse with r repetitions
    r = 1
    before = 1  # beta(c, r - 1)
    older = 0  # beta(c, r - 2)
    beta = c + 1  # beta(c, r)
    while beta < steps:
        r += 1
        older = before
        before = beta
        beta = beta * (c + r) // r
    fewer = beta * c // (c + r)  # beta(c - 1, r)
    low = steps - fewer
    if older > low:
        low = older
    if low < 1:
        low = 1
    return low
