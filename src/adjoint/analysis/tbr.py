"""To-be-recorded analysis: what each loop's backward iteration must get back, and how.

Takes the SSA'd ANF body, the set of *needed* names (values the backward sweep reads) and the
names of mutated arrays. Returns a :class:`LoopPlan` per loop (keyed by ``id(loop)``) that says,
for the values of one iteration the backward sweep reads:

* ``carried``: loop versions whose value at the *start* of the iteration is read — pushed on
  entry to each iteration, popped at the start of the backward iteration;
* ``recompute``: cheap values (arithmetic, comparisons, subscripts) of operands nobody writes
  in place that are loop-invariant, loop counters, carried, or themselves recomputed —
  replayed at the start of the backward iteration, never stored;
* ``stored``: every other needed value defined in the iteration — pushed right after it is
  computed, popped in the backward iteration (under the same branch conditions);
* ``after``: values a nested loop leaves behind (its trip count, its final state) that this
  loop's backward iteration reads — pushed after the nested loop;
* ``invariant``: values computed from values that never change (``np.sin(x)`` in a loop over
  ``i``): every iteration computes the same value, so the variable still holds it in the
  backward sweep — neither stored nor recomputed;
* ``trips``: the name of the trip counter for ``while`` loops and loops that may ``break``.

At the top level nothing is recorded: with SSA, every needed value survives until the backward
sweep reads it. Only what the backward sweep reads *and* the forward sweep overwrites is stored.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass, field

from .. import grammar as g
from .activity import resolve

_CHEAP_BUILTINS = tuple(getattr(builtins, n) for n in ("abs", "min", "max", "float", "int",
                                                       "len", "bool"))


@dataclass
class LoopPlan:
    loop: object
    counter: str | None = None  # the for-loop variable (recomputed, never stored)
    trips: str | None = None
    carried: list = field(default_factory=list)
    recompute: set = field(default_factory=set)
    stored: set = field(default_factory=set)
    invariant: set = field(default_factory=set)  # same value in every iteration: kept as is
    after: dict = field(default_factory=dict)  # id(nested loop) -> [names]
    tapes: dict = field(default_factory=dict)  # (name, site) -> tape variable
    arrays: dict = field(default_factory=dict)  # preallocated tape variable -> dtype name


def count_defs(stmts, counts=None):
    counts = {} if counts is None else counts
    for stmt in stmts:
        if isinstance(stmt, g.Assign) and isinstance(stmt.targets[0], g.Name):
            counts[stmt.targets[0].id] = counts.get(stmt.targets[0].id, 0) + 1
        elif isinstance(stmt, g.If):
            count_defs(stmt.body, counts)
            count_defs(stmt.orelse, counts)
        elif isinstance(stmt, (g.For, g.While)):
            if isinstance(stmt, g.For):
                counts[stmt.target.id] = counts.get(stmt.target.id, 0) + 1
            count_defs(stmt.body, counts)
    return counts


def names_read(stmts):
    return {n.id for s in stmts for n in g.walk(s)
            if isinstance(n, g.Name) and isinstance(n.ctx, g.Load)}


def has_break(stmts):
    for stmt in stmts:
        if isinstance(stmt, g.Break):
            return True
        if isinstance(stmt, g.If) and (has_break(stmt.body) or has_break(stmt.orelse)):
            return True
    return False


class PlanTape:
    def __init__(self, ctx, needed, mutated, carried_by_loop, params):
        self.ctx = ctx
        self.needed = needed
        self.mutated = mutated
        self.carried_by_loop = carried_by_loop
        self.params = set(params)

    def __call__(self, body):
        self.counts = count_defs(body)
        self.in_loop = set()
        for stmt in body:
            self._loop_assigned(stmt, False)
        self.plans = {}
        self._block(body, counters=())
        return self.plans

    def _loop_assigned(self, stmt, inside):
        if isinstance(stmt, (g.For, g.While)):
            for s in stmt.body:
                self._loop_assigned(s, True)
            if isinstance(stmt, g.For):
                self.in_loop.add(stmt.target.id)
        elif isinstance(stmt, g.If):
            for s in stmt.body + stmt.orelse:
                self._loop_assigned(s, inside)
        elif isinstance(stmt, g.Assign) and isinstance(stmt.targets[0], g.Name) and inside:
            self.in_loop.add(stmt.targets[0].id)

    def _block(self, stmts, counters):
        for stmt in stmts:
            if isinstance(stmt, g.If):
                self._block(stmt.body, counters)
                self._block(stmt.orelse, counters)
            elif isinstance(stmt, (g.For, g.While)):
                self._plan(stmt, counters)

    def _stable(self, name):
        """A name whose value never changes once set (a parameter or a single top-level
        definition), so the backward sweep can read it at any time."""
        if name in self.mutated:
            return False
        if name in self.params:
            return self.counts.get(name, 0) == 0
        return self.counts.get(name, 0) == 1 and name not in self.in_loop

    def _plan(self, loop, counters):
        plan = LoopPlan(loop)
        self.plans[id(loop)] = plan
        assigned = g.assigned_names(loop.body)
        if isinstance(loop, g.For):
            plan.counter = loop.target.id
            if plan.counter not in assigned:
                counters = counters + (plan.counter,)
        if isinstance(loop, g.While) or has_break(loop.body):
            plan.trips = self.ctx.namer.fresh("trips")
        read_inside = names_read(loop.body)
        plan.carried = [c for c in self.carried_by_loop.get(id(loop), [])
                        if c in self.needed and c in read_inside]
        self._block(loop.body, counters)  # nested loops first: their trip counters
        available = set(plan.carried) | set(counters)
        self._level(loop.body, plan, available, top=True)

    def _level(self, stmts, plan, available, top):
        if top:
            self._top_defs = {}
        for k, stmt in enumerate(stmts):
            if isinstance(stmt, g.Assign) and isinstance(stmt.targets[0], g.Name):
                name = stmt.targets[0].id
                if top and self.counts.get(name) == 1:
                    self._top_defs[name] = (k, stmt)
                if name not in self.needed or name in plan.carried or name == plan.counter:
                    continue
                if top and self._invariant(name, stmt.value):
                    # Computed from values that never change: every iteration computes the
                    # same value, which is still in the variable when the backward sweep runs.
                    plan.invariant.add(name)
                    continue
                if top and self._recomputable(name, plan, available, set(), k + 1):
                    continue
                if not top and self.counts.get(name) == 1 and name not in self.mutated and \
                        self._cheap(stmt.value, available):
                    # Replayed under the same condition in the backward iteration.
                    plan.recompute.add(name)
                    available.add(name)
                    continue
                plan.stored.add(name)
            elif isinstance(stmt, g.If):
                # Values a branch defines are available only inside that branch.
                self._level(stmt.body, plan, set(available), top=False)
                self._level(stmt.orelse, plan, set(available), top=False)
            elif isinstance(stmt, (g.For, g.While)):
                inner = self.plans.get(id(stmt))
                rest_reads = names_read(stmts[k + 1:]) | self._reads_outside(plan.loop, stmt)
                left = sorted(n for n in g.assigned_names(stmt.body)
                              if n in self.needed and n in rest_reads)
                if isinstance(stmt, g.For) and stmt.target.id in self.needed and \
                        stmt.target.id in rest_reads:
                    left.append(stmt.target.id)
                if inner.trips:
                    left.append(inner.trips)
                plan.after[id(stmt)] = left
                plan.stored.update(left)

    def _reads_outside(self, outer, inner):
        reads = set()
        for s in outer.body:
            if s is inner:
                continue
            reads |= names_read([s]) if not _contains(s, inner) else set()
        return reads

    def _invariant(self, name, value):
        """A single definition whose operands are all stable and whose operation is pure."""
        if self.counts.get(name) != 1 or name in self.mutated:
            return False
        if isinstance(value, g.Call):
            found, obj = resolve(value.func, self.ctx)
            from ..rules import registry
            if not found or registry.lookup(obj) is None:
                return False  # not a known (pure) function: a pop, a user object, ...
        elif not isinstance(value, (g.BinOp, g.UnaryOp, g.Compare, g.Subscript, g.Attribute)):
            return False
        operands = {n.id for n in g.walk(value) if isinstance(n, g.Name) and
                    isinstance(n.ctx, g.Load) and (n.id in self.counts or n.id in self.params)}
        return bool(operands) and all(self._stable(n) for n in operands)

    def _recomputable(self, name, plan, available, visiting, before):
        """Mark ``name`` (and, transitively, its cheap operands defined earlier at the top of
        this loop body) as recomputed, if that is possible. ``before``: the index in the body
        of the statement that reads it, plus one for its own definition — a definition at
        ``before`` or later is the *next* value: the read gets the one the previous iteration
        left, which only a carried version holds."""
        entry = self._top_defs.get(name)
        if entry is not None and entry[0] >= before and name not in plan.carried:
            return False
        if name in available:
            return True
        if entry is None or name in visiting or name in self.mutated:
            return False
        k, stmt = entry
        visiting.add(name)
        ok = self._cheap(stmt.value, available,
                         lambda n: self._recomputable(n, plan, available, visiting, k))
        if ok:
            plan.recompute.add(name)
            available.add(name)
        return ok

    def _cheap(self, value, available, pull=lambda n: False):
        operands = [n.id for n in g.walk(value) if isinstance(n, g.Name) and
                    isinstance(n.ctx, g.Load)]
        if isinstance(value, g.Call):
            found, obj = resolve(value.func, self.ctx)
            if not found or not any(obj is b for b in _CHEAP_BUILTINS):
                return False
            operands = [n.id for a in value.args for n in g.walk(a) if isinstance(n, g.Name)]
        elif isinstance(value, g.BinOp) and isinstance(value.op, g.MatMult):
            return False
        elif not isinstance(value, (g.Name, g.Constant, g.BinOp, g.UnaryOp, g.Compare,
                                    g.Subscript)):
            return False
        for name in operands:
            found, _ = (False, None) if name in self.counts or name in self.params \
                else self.ctx.lookup(name)
            if found:
                continue  # a global
            if name in self.mutated:
                return False  # an array written in place: read again later, it may differ
            if name in available or self._stable(name) or pull(name):
                continue
            return False
        return True


def _contains(stmt, inner):
    return any(n is inner for n in g.walk(stmt))
