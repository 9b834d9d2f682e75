"""ReverseControl: the backward sweep of ``if`` and loops, for :class:`ReverseAD`.

A mixin of the reverse transformer (it uses its ``defined`` adjoints, ``plans``, tapes and
``_block``). An ``if`` replays its (recorded or recomputed) condition and merges what each arm
defines, zeroing on the arm that does not; a ``for`` over ``range`` runs backwards over the same
range, and a ``while`` or a loop that may ``break`` over its recorded trip count. A loop body is
generated twice, so that whether an adjoint is owned (safe to update in place) at the start of an
iteration also holds at its end; each backward iteration first gets back the values its plan
records (popped, or recomputed), pruned to those the iteration reads. Before and after::

    for i in range(n):                  for i in range(n - 1, -1, -1):
        s = s * x[i]                        s_1 = s_1_tape[i]
                                            dx[i] += ds * s_1
                                            ds = ds * x[i]
"""

from __future__ import annotations

from .. import grammar as g
from .ssa import _surely_bound, exposed_reads
from .tape import _live_in, _prune, _range_parts


class ReverseControl:
    def _touched(self, stmts):
        """Active names whose adjoints ``stmts``' backward code may define or consume."""
        names = set()
        for stmt in stmts:
            for node in g.walk(stmt):
                if isinstance(node, g.Name) and node.id in self.active:
                    names.add(node.id)
        return names

    def _restores(self, stmts):
        """Whether ``stmts`` hold a subscript write whose overwritten value is restored."""
        return any(id(n) in self.saves for s in stmts for n in g.walk(s))

    def _if(self, stmt):
        if not self._touched(stmt.body + stmt.orelse) and \
                not self._restores(stmt.body + stmt.orelse):
            return []
        before = dict(self.defined)
        then = self._arm(stmt.body)
        after_then = self.defined
        self.defined = dict(before)
        orelse = self._arm(stmt.orelse)
        after_else = self.defined
        merged = {}
        for name in sorted(set(after_then) | set(after_else)):
            for arm, code, after in ((stmt.body, then, after_then),
                                     (stmt.orelse, orelse, after_else)):
                if name not in after:
                    self.defined = after
                    self._arm(arm, lambda n=name, c=code: self._zero(n, c))
            merged[name] = after_then.get(name, True) and after_else.get(name, True)
        self.defined = merged
        if not then and not orelse:
            return []
        return [g.copy_location(g.if_(stmt.test, then or [g.Pass()], orelse), stmt)]

    def _arm(self, stmts, generate=None):
        """``generate()`` (default: the backward code of ``stmts``) where ``stmts`` have run."""
        self.ran.append(surely_binds(stmts))
        try:
            return generate() if generate is not None else self._block(stmts)
        finally:
            self.ran.pop()

    def _loop(self, loop):
        touched = self._touched(loop.body)
        if not touched and not self._restores(loop.body):
            return []
        plan = self.plans[id(loop)]
        local = self._loop_locals(loop)
        visible = sorted(touched - local)
        out = []
        for name in visible:
            if name not in self.defined:
                self._zero(name, out, loop)
        entry = {n: o for n, o in self.defined.items() if n not in local}
        # Generate the body twice: ownership at iteration start must hold at its end too.
        snapshot = self._snapshot()
        self.defined = dict(entry)
        self._body(loop, plan, visible)
        owned_end = {n for n, o in self.defined.items() if o}
        self._restore(snapshot)
        entry = {n: (o and n in owned_end) for n, o in entry.items()}
        self.defined = dict(entry)
        body = self._body(loop, plan, visible)
        self.defined = {n: o for n, o in self.defined.items() if n not in local}
        for name in visible:
            self.defined.setdefault(name, True)
        reverse = self._reverse_header(loop, plan, body)
        reverse.adjoint_loop = id(loop)  # the primal loop, for transforms/checkpoint.py
        out.append(g.copy_location(reverse, loop))
        return out

    def _body(self, loop, plan, visible):
        self.ran.append(surely_binds(loop.body, [loop.target.id] if isinstance(loop, g.For)
                                     else []))
        try:
            backward = self._block(loop.body)
            for name in visible:
                if name not in self.defined:
                    self._zero(name, backward)
        finally:
            self.ran.pop()
        restore = [self._pop(plan, c, "entry") for c in plan.carried]
        restore += self._materialize(loop.body, plan)
        restore = _prune(restore, _live_in(backward), plan)
        return restore + backward or [g.Pass()]

    def _snapshot(self):
        n = self.namer
        return (set(n.taken), dict(n._adjoint), dict(n._tangent), list(self.tapes),
                {k: (dict(p.tapes), dict(p.arrays)) for k, p in self.plans.items()})

    def _restore(self, snap):
        n = self.namer
        n.taken, n._adjoint, n._tangent, self.tapes = snap[0], snap[1], snap[2], snap[3]
        for k, (tapes, arrays) in snap[4].items():
            self.plans[k].tapes, self.plans[k].arrays = tapes, arrays

    def _mentions(self):
        """name -> how many times the function's statements mention it, counted once per
        backward sweep (the primal statements do not change during one)."""
        if self._mention_counts is None:
            counts = {}
            for stmt in self._all_stmts:
                for n in g.name_nodes(stmt):
                    counts[n.id] = counts.get(n.id, 0) + 1
            self._mention_counts = counts
        return self._mention_counts

    def _loop_locals(self, loop):
        """Names only this loop assigns and reads: their adjoints start each backward
        iteration undefined. A name read after the loop is not local (its adjoint flows in)."""
        key = (id(loop), frozenset(self.outputs))
        if key in self._locals_of:  # a loop body is generated more than once
            return self._locals_of[key]
        inside = g.assigned_names([loop])
        # used outside: mentioned by the function more often than by the loop itself
        # (loops have no else branch), in time linear in the loop's size
        within = {}
        for n in g.name_nodes(loop):
            within[n.id] = within.get(n.id, 0) + 1
        mentions = self._mentions()
        outside = {name for name in inside if mentions.get(name, 0) > within.get(name, 0)}
        # read before being assigned in an iteration: carried from the previous one
        carried = exposed_reads(loop.body, {loop.target.id} if isinstance(loop, g.For) else ())
        local = inside - outside - carried[0] - self.params - self.outputs
        self._locals_of[key] = local
        return local

    def _reverse_header(self, loop, plan, body):
        if plan.trips:
            header = g.call("range", g.binop(g.name(plan.trips), g.Sub, g.const(1)),
                            g.const(-1), g.const(-1))
            if isinstance(loop, g.For):
                start, _, step = _range_parts(loop.iter)
                if g.is_const(start, 0) and g.is_const(step, 1):
                    return g.for_(loop.target.id, header, body)  # the counter is the trip
                k = self.namer.fresh("k")
                i = g.binop(start, g.Add, g.binop(g.name(k), g.Mult, step))
                return g.for_(k, header, [g.assign(loop.target.id, i)] + body)
            return g.for_(self.namer.fresh("k"), header, body)
        start, stop, step = _range_parts(loop.iter)
        if g.is_const(step, 1):
            header = g.call("range", g.binop(stop, g.Sub, g.const(1)),
                            g.binop(start, g.Sub, g.const(1)), g.const(-1))
        elif g.is_const(step, -1):
            header = g.call("range", g.binop(stop, g.Add, g.const(1)),
                            g.binop(start, g.Add, g.const(1)))
        else:
            n = g.call("range_len", g.clone(start), g.clone(stop), g.clone(step))
            last = g.binop(g.clone(start), g.Add,
                           g.binop(g.binop(n, g.Sub, g.const(1)), g.Mult, g.clone(step)))
            header = g.call("range", last, g.binop(g.clone(start), g.Sub, g.clone(step)),
                            g.unary(g.USub, g.clone(step)))
        return g.for_(loop.target.id, header, body)


def surely_binds(stmts, header=()):
    """The names that running ``stmts`` to their end surely binds (with ``header``)."""
    bound = set(header)
    _surely_bound(list(stmts), bound, {})
    return bound


def top_loops(stmts):
    """ids of the loops not nested in another loop."""
    out = set()
    for stmt in stmts:
        if isinstance(stmt, (g.For, g.While)):
            out.add(id(stmt))
        elif isinstance(stmt, g.If):
            out |= top_loops(stmt.body + stmt.orelse)
    return out
