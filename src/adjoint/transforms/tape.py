"""Recording: the forward sweep and the tapes of reverse mode.

Takes the tape plans of :mod:`adjoint.analysis.tbr` and the SSA'd body; writes the forward
sweep (the primal plus one push per recorded value and iteration) and, for each backward
iteration, the statements that bring back the values that iteration's adjoint code reads —
popped from a tape, or recomputed from values already back. A tape is a preallocated typed array
indexed by the iteration when the loop's trip count is known on entry, the value is a scalar of
known type and it is recorded at most once per iteration; a growable list otherwise (an array
written in place later is pushed as a copy, after the iteration's last write into it: the
backward iteration undoes writes from the state the iteration leaves, :func:`_after_writes`).
Every definition site has its own tape, so pushes and pops pair up whatever the order of
statements; a value no adjoint code reads is neither popped nor pushed (:func:`_prune`).

A mixin of :class:`adjoint.transforms.reverse.ReverseAD`, which generates the backward sweep
first (so it knows what is read) and the forward sweep last.
"""

from __future__ import annotations

from .. import grammar as g
from ..analysis.activity import resolve
from .control import is_exit_check


class Recording:
    def forward(self, stmts, plan=None):
        out = []
        for stmt in stmts:
            if isinstance(stmt, g.Assign):
                target = stmt.targets[0]
                if isinstance(target, g.Subscript):
                    old = self.saves.get(id(stmt))
                    if old is not None:
                        # A copy, not a view: the write below would change a view.
                        read = g.call("fresh", g.subscript(g.name(target.value.id),
                                                           g.clone(target.slice)))
                        out.append(g.copy_location(g.assign(old, read), stmt))
                        if plan is not None and self._records(plan, old, id(stmt)):
                            out.append(self._push(plan, old, id(stmt), stmt))
                    out.append(stmt)
                    continue
                out.append(stmt)
                if plan is not None and self._records(plan, target.id, id(stmt)):
                    out.append(self._push(plan, target.id, id(stmt), stmt))
                if target.id in getattr(self, "forward_zeros", ()):
                    zero = g.assign(self.namer.adjoint(target.id),
                                    g.call("zeros_like", g.name(target.id)))
                    out.append(g.copy_location(zero, stmt))
                flag = getattr(self, "bound_flags", {}).get(target.id)
                if flag is not None:
                    out.append(g.copy_location(g.assign(flag, g.const(True)), stmt))
            elif isinstance(stmt, g.If):
                out.append(g.copy_location(g.if_(stmt.test, self.forward(stmt.body, plan),
                                                 self.forward(stmt.orelse, plan)), stmt))
            elif isinstance(stmt, (g.For, g.While)):
                out.extend(self._forward_loop(stmt, plan))
            elif isinstance(stmt, g.Return):
                continue
            else:
                out.append(stmt)
        if stmts is getattr(self, "_all_stmts", None):
            out = [g.assign(flag, g.const(False)) for flag in
                   sorted(getattr(self, "bound_flags", {}).values())] + out
        return out

    def plan_saves(self, stmts, plan=None):
        """Name the saved copy of every element a subscript write overwrites and the backward
        sweep must restore: of every array whose values a rule reads, active or not (the
        adjoint of ``x * a`` reads ``a`` though nothing is differentiated through ``a``)."""
        for stmt in stmts:
            if isinstance(stmt, g.Assign) and isinstance(stmt.targets[0], g.Subscript):
                base = stmt.targets[0].value.id
                if base in self.needed:
                    old = self.namer.fresh("old")
                    self.saves[id(stmt)] = old
                    if plan is not None:
                        plan.stored.add(old)
            elif isinstance(stmt, g.If):
                self.plan_saves(stmt.body, plan)
                self.plan_saves(stmt.orelse, plan)
            elif isinstance(stmt, (g.For, g.While)):
                self.plan_saves(stmt.body, self.plans[id(stmt)])

    def _forward_loop(self, loop, outer):
        plan = self.plans[id(loop)]
        body = [self._push(plan, c, "entry", loop) for c in plan.carried
                if self._records(plan, c, "entry")]
        pre = []
        if plan.trips:
            pre.append(g.copy_location(g.assign(plan.trips, g.const(0)), loop))
            body.append(g.assign(plan.trips, g.binop(g.name(plan.trips), g.Add, g.const(1))))
        body = _after_writes(body + self.forward(loop.body, plan), self.pushed)
        for tape, dtype in plan.arrays.items():
            pre.append(g.copy_location(g.assign(tape, self._allocation(loop, dtype)), loop))
        if isinstance(loop, g.For):
            new = g.for_(g.clone(loop.target), loop.iter, body)
        else:
            new = g.while_(loop.test, body)
        new.adjoint_loop = id(loop)  # the primal loop, for transforms/checkpoint.py
        out = pre + [g.copy_location(new, loop)]
        if outer is not None:
            for name in outer.after.get(id(loop), []):
                if self._records(outer, name, id(loop)):
                    out.append(self._push(outer, name, id(loop), loop))
        return out

    def _records(self, plan, name, site):
        return (name, site) in plan.tapes

    def _tape(self, plan, name, site):
        """The tape of one definition site of ``name`` (one push per iteration): a
        preallocated array indexed by the iteration when the loop's trip count is known on
        entry, the site runs at most once per iteration and the value is a scalar of known
        type; a growable list otherwise."""
        key = (name, site)
        if key not in plan.tapes:
            tape = self.namer.fresh(f"{name}_tape")
            plan.tapes[key] = tape
            dtype = self.scalar_type(name) if self._preallocatable(plan, site) else None
            if dtype == "float64" and name in self._maybe_int():
                # A scalar parameter may be an int (an index, a bound): a float64 tape would
                # give it back as a float. A carried value exists before the loop, so its
                # tape takes its type when every assignment keeps an int an int; when one
                # surely makes a float (``y = y + 0.5 * y``), a float64 tape holds both.
                dtype = None
                if site == "entry":
                    dtype = ("like", name) if self._keeps_int(name) else \
                        "float64" if self._makes_float(name) else None
            if dtype is not None:
                plan.arrays[tape] = dtype
        return plan.tapes[key]

    def _values_of(self):
        """{name: the values assigned to it}, over the whole function (built once)."""
        if getattr(self, "_values", None) is None:
            self._values = {}
            for stmt in _assigns(self._all_stmts):
                if isinstance(stmt.targets[0], g.Name):
                    self._values.setdefault(stmt.targets[0].id, []).append(stmt.value)
        return self._values

    def _maybe_int(self):
        """Names that may hold a Python or NumPy integer: scalar parameters and integer
        constants, through copies, integer arithmetic and ``int``/``len``/``abs``/``min``/
        ``max``/``round`` (a least fixpoint; array elements are taken as floats)."""
        if getattr(self, "_ints", None) is None:
            ints = set(self.params) | set(self.int_names)
            changed = True
            while changed:
                changed = False
                for name, values in self._values_of().items():
                    if name not in ints and any(self._int_valued(v, ints) for v in values):
                        ints.add(name)
                        changed = True
            self._ints = ints
        return self._ints

    def _keeps_int(self, name):
        """Whether every assignment of ``name`` gives an int when the names it reads that may
        be ints are ints (so a value that starts as an int stays one)."""
        ints = self._maybe_int()
        return all(self._int_valued(v, ints) for v in self._values_of().get(name, ()))

    def _makes_float(self, name, seen=None):
        """Whether some assignment of ``name`` surely gives a float: arithmetic (no call) with
        a true division, a float constant or such a name as an operand, or a copy of one."""
        seen = set() if seen is None else seen
        seen.add(name)

        def floaty(e):
            if isinstance(e, g.Constant):
                return type(e.value) is float
            if isinstance(e, g.Name):
                return e.id not in seen and self._makes_float(e.id, seen)
            if isinstance(e, g.UnaryOp):
                return floaty(e.operand)
            return isinstance(e, g.BinOp) and (
                isinstance(e.op, g.Div) or floaty(e.left) or floaty(e.right))

        return any(floaty(v) for v in self._values_of().get(name, ()))

    def _int_valued(self, e, ints):
        if isinstance(e, g.Constant):
            return isinstance(e.value, int) and not isinstance(e.value, bool)
        if isinstance(e, g.Name):
            return e.id in ints
        if isinstance(e, g.BinOp) and isinstance(e.op, (g.Add, g.Sub, g.Mult, g.FloorDiv,
                                                        g.Mod, g.Pow)):
            return self._int_valued(e.left, ints) and self._int_valued(e.right, ints)
        if isinstance(e, g.UnaryOp) and isinstance(e.op, g.USub):
            return self._int_valued(e.operand, ints)
        if isinstance(e, g.Call):
            found, obj = resolve(e.func, self.ctx)
            if found and obj in (int, len):
                return True
            return found and obj in (abs, min, max, round) and all(
                self._int_valued(a, ints) for a in e.args)
        return False

    def _preallocatable(self, plan, site):
        """A site of a top-level ``for`` over ``range`` (no break) that runs at most once per
        iteration: slot ``i`` is written in iteration ``i`` (if the site's branch runs) and
        read back in backward iteration ``i`` under the same branch conditions."""
        loop = plan.loop
        return (isinstance(loop, g.For) and not plan.trips and plan.counter is not None
                and id(loop) in self.top_loops and plan.counter not in
                g.assigned_names(loop.body) and
                (site == "entry" or _in_iteration(loop.body, site)))

    def _slot(self, plan):
        """The index of the current iteration: ``(i - start) // step``."""
        start, _, step = _range_parts(plan.loop.iter)
        i = g.name(plan.counter)
        if not g.is_const(start, 0):
            i = g.binop(i, g.Sub, start)
        if not g.is_const(step, 1):
            i = g.binop(i, g.FloorDiv, step)
        return i

    def _allocation(self, loop, dtype):
        start, stop, step = _range_parts(loop.iter)
        if g.is_const(start, 0) and g.is_const(step, 1):
            n = g.call("max", stop, g.const(0))
        else:
            n = g.call("range_len", start, stop, step)
        if isinstance(dtype, tuple):
            return g.call("np.full", n, g.name(dtype[1]))  # the value's own type
        kw = [] if dtype == "float64" else [g.keyword("dtype", g.dotted(f"np.{dtype}"))]
        return g.call("np.empty", n, keywords=kw)

    def _push(self, plan, name, site, at):
        tape = self._tape(plan, name, site)
        if tape not in plan.arrays and tape not in self.tapes:
            self.tapes.append(tape)  # a list tape exists only if something is pushed on it
        if tape in plan.arrays:
            stmt = g.assign(g.subscript(g.name(tape), self._slot(plan), store=True),
                            g.name(name))
        else:
            value = g.name(name)
            if name in self._written_later():
                # An array written in place later (through this name or a copy of it): the
                # tape keeps the value it had here, not a reference to the changing object.
                value = g.call("fresh", value)
            stmt = g.expr_stmt(g.call(g.Attribute(value=g.name(tape), attr="append",
                                                  ctx=g.Load()), value))
            self.pushed[id(stmt)] = (stmt, name)
        return g.copy_location(stmt, at)

    def _written_later(self):
        """Names bound to an object some subscript write changes: the mutated names and every
        name a plain copy (``a = b``) connects to one."""
        if getattr(self, "_written", None) is None:
            links = {}
            for stmt in _assigns(self._all_stmts):
                if isinstance(stmt.targets[0], g.Name) and isinstance(stmt.value, g.Name):
                    a, b = stmt.targets[0].id, stmt.value.id
                    links.setdefault(a, set()).add(b)
                    links.setdefault(b, set()).add(a)
            written, todo = set(), list(self.mutated)
            while todo:
                name = todo.pop()
                if name not in written:
                    written.add(name)
                    todo.extend(links.get(name, ()))
            self._written = written
        return self._written

    def _pop(self, plan, name, site):
        tape = self._tape(plan, name, site)
        if tape in plan.arrays:
            value = g.subscript(g.name(tape), self._slot(plan))
        else:
            value = g.call(g.Attribute(value=g.name(tape), attr="pop", ctx=g.Load()))
        stmt = g.assign(name, value)
        stmt.adjoint_tape = (plan, (name, site))
        return stmt

    def _materialize(self, stmts, plan):
        out = []
        for stmt in stmts:
            if isinstance(stmt, g.Assign) and isinstance(stmt.targets[0], g.Name):
                name = stmt.targets[0].id
                if name in plan.recompute:
                    out.append(g.clone(stmt))
                elif name in plan.stored:
                    out.append(g.copy_location(self._pop(plan, name, id(stmt)), stmt))
            elif isinstance(stmt, g.Assign):
                old = self.saves.get(id(stmt))
                if old is not None:
                    out.append(g.copy_location(self._pop(plan, old, id(stmt)), stmt))
            elif isinstance(stmt, g.If):
                then = self._materialize(stmt.body, plan)
                orelse = self._materialize(stmt.orelse, plan)
                if then or orelse:
                    out.append(g.copy_location(g.if_(stmt.test, then or [g.Pass()], orelse),
                                               stmt))
            elif isinstance(stmt, (g.For, g.While)):
                for name in plan.after.get(id(stmt), []):
                    out.append(g.copy_location(self._pop(plan, name, id(stmt)), stmt))
        return out


def _in_iteration(stmts, site):
    """Whether the statement with id ``site`` is in ``stmts`` or their branches (not in a
    nested loop)."""
    for stmt in stmts:
        if id(stmt) == site:
            return True
        if isinstance(stmt, g.If) and _in_iteration(stmt.body + stmt.orelse, site):
            return True
    return False


def _assigns(stmts):
    for stmt in stmts:
        if isinstance(stmt, g.Assign):
            yield stmt
        elif isinstance(stmt, g.If):
            yield from _assigns(stmt.body + stmt.orelse)
        elif isinstance(stmt, (g.For, g.While)):
            yield from _assigns(stmt.body)


def _live_in(stmts):
    """Names read before being written by ``stmts`` (loops and branches approximated by
    their reads: a superset, which only keeps more)."""
    live = set()
    for stmt in reversed(stmts):
        if isinstance(stmt, g.Assign) and isinstance(stmt.targets[0], g.Name):
            live.discard(stmt.targets[0].id)
            live |= _reads([stmt.value])
        else:
            live |= _reads([stmt])
    return live


def _reads(stmts):
    return {n.id for s in stmts for n in g.walk(s)
            if isinstance(n, g.Name) and isinstance(n.ctx, g.Load)}


def _prune(restore, live, plan):
    """Drop restoring statements whose value nothing reads before it is redefined; a dropped
    pop also stops its definition site from being recorded in the forward sweep."""
    kept = []
    live = set(live)
    for stmt in reversed(restore):
        if isinstance(stmt, g.Pass):
            continue
        if isinstance(stmt, g.If):
            body = _prune(stmt.body, live, plan)
            orelse = _prune(stmt.orelse, live, plan)
            if not body and not orelse:
                continue
            stmt.body, stmt.orelse = body or [g.Pass()], orelse
            live |= _reads(body + orelse) | _reads([stmt.test])
            kept.append(stmt)
            continue
        name = stmt.targets[0].id
        tape = getattr(stmt, "adjoint_tape", None)
        if name in live:
            live.discard(name)
            live |= _reads([stmt.value])
            kept.append(stmt)
        elif tape is not None:
            tape_plan, key = tape
            var = tape_plan.tapes.pop(key, None)
            tape_plan.arrays.pop(var, None)
    return kept[::-1]


def _range_parts(call):
    args = list(call.args)
    if len(args) == 1:
        return g.const(0), g.clone(args[0]), g.const(1)
    if len(args) == 2:
        return g.clone(args[0]), g.clone(args[1]), g.const(1)
    return g.clone(args[0]), g.clone(args[1]), g.clone(args[2])


def _last_write(block, start, name):
    """The index of the last statement of ``block[start:]`` that writes into ``name`` before
    a rebinding of it or an exit check, or None."""
    last = None
    for j in range(start, len(block)):
        later = block[j]
        if is_exit_check(later) or name in g.assigned_names([later]):
            break
        if any(isinstance(n, g.Assign) and isinstance(n.targets[0], g.Subscript)
               and n.targets[0].value.id == name for n in g.walk(later)):
            last = j
    return last


def _lift_pushes(out, branch, pushed):
    """Move a push in an arm of ``branch`` (an ``if`` of ``out``) of an array that statements
    after the ``if`` write into to just after the last such write, under the arm's condition:
    ``if c: t = a * x; push(t)`` then ``t[0] = v`` becomes ``if c: t = a * x``, ``t[0] = v``,
    ``if c: push(t)``."""
    test = branch.test
    if not isinstance(test, g.Name):
        return
    for arm, negate in ((branch.body, False), (branch.orelse, True)):
        for stmt in list(arm):
            stmt_name = pushed.get(id(stmt))
            if stmt_name is None or stmt_name[0] is not stmt:
                continue
            name = stmt_name[1]
            rest = arm[next(i for i, s in enumerate(arm) if s is stmt) + 1:]
            if name in g.assigned_names(rest):
                continue
            k = next(i for i, s in enumerate(out) if s is branch)
            last = _last_write(out, k + 1, name)
            if last is None or test.id in g.assigned_names(out[k:last + 1]):
                continue
            arm.remove(stmt)
            cond = g.unary(g.Not, g.name(test.id)) if negate else g.name(test.id)
            out.insert(last + 1, g.copy_location(g.if_(cond, [stmt], []), stmt))
        if not arm and not negate:
            arm.append(g.Pass())


def _after_writes(body, pushed):
    """Move each push in a loop body's top-level ``body`` of an array that later statements
    of the same iteration write into (``t[0] = 5.0`` after ``t = x * a``) to just after the
    last such write, stopping before a rebinding of the name or an exit check. The backward
    iteration starts from the tape's value and undoes the writes one by one, restoring what
    they overwrote, so the tape must hold the array as the iteration leaves it. The arms of an
    ``if`` are treated the same way, first (a nested loop's body already is)."""
    out = list(body)
    for stmt in out:
        if isinstance(stmt, g.If):
            stmt.body = _after_writes(stmt.body, pushed)
            stmt.orelse = _after_writes(stmt.orelse, pushed)
    for stmt in list(out):
        if isinstance(stmt, g.If):
            _lift_pushes(out, stmt, pushed)
    body = list(out)
    for stmt in body:
        stmt_name = pushed.get(id(stmt))
        if stmt_name is None or stmt_name[0] is not stmt:
            continue
        name = stmt_name[1]
        k = next(i for i, s in enumerate(out) if s is stmt)
        last = None
        for j in range(k + 1, len(out)):
            later = out[j]
            if is_exit_check(later) or name in g.assigned_names([later]):
                break
            if any(isinstance(n, g.Assign) and isinstance(n.targets[0], g.Subscript)
                   and n.targets[0].value.id == name for n in g.walk(later)):
                last = j
        if last is not None:
            out.insert(last, out.pop(k))  # after out[last], once out[k] is gone
    return out
