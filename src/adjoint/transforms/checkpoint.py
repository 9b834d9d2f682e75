"""CheckpointLoops: reverse long loops with binomial checkpointing (revolve) instead of a tape.

Takes the forward and backward sweeps :class:`~adjoint.transforms.reverse.ReverseAD` generated,
its tape plans, and ``checkpoint``: a number of snapshots ``s >= 1`` or ``"auto"`` (``ceil(log2
n)`` for a loop of ``n`` iterations, at least 1). Every *eligible* loop — a ``for`` over
``range`` not nested in another loop, without ``break`` or ``return`` (its trip count is known
on entry), that records something on a tape, whose carried state is bound on entry and holds
no list — is rewritten to follow the schedule of :mod:`adjoint.runtime.revolve`:

* the forward sweep runs the iterations without taping, keeping snapshots of the loop's
  *state* (the names an iteration reads before it writes them and that the loop, or code
  after it, changes) at the iterations the schedule picks, and runs the last iteration taping
  it, which leaves the state the code after the loop reads;
* the backward sweep, for each iteration from the last to the first, restores the nearest
  snapshot, advances without taping to that iteration (taking new snapshots on the way, as
  the schedule says), runs it once taping it, and runs its backward code.

Guarantees: the same statements compute every value as without checkpointing, so gradients
are equal to rounding (to the bit, in practice); at most ``s`` snapshots of the state are held
at once, and the tape holds one iteration; the number of iterations recomputed is revolve's
binomial optimum for ``s`` snapshots. The loop's own preallocated tapes become one value each
(``y_tape[i] = y`` becomes ``y_tape = y``); list tapes (of arrays, of nested loops) are pushed
and popped within one iteration. Other loops (``while``, ``break``, nested in a loop, or whose
state is not bound before them) stay taped.

    y_tape = np.full(max(n, 0), y)          i_schedule = revolve_start(n, 4)
    for i in range(n):                      y_snapshots = []
        y_tape[i] = y                       y_tape = y
        y = y + h * math.sin(y)             while True:
    ...                                         action = revolve_next(i_schedule)
    for i in range(n - 1, -1, -1):              step = revolve_step(i_schedule)
        y = y_tape[i]                           if action == Revolve.ADVANCE:
        dy = dy + dy * h * math.cos(y)              for i in range(step, revolve_until(i_schedule)):
                                                        y = y + h * math.sin(y)
                                                if action == Revolve.STORE:
                                                    y_snapshots.append(y)
                                                if action == Revolve.RECORD:
                                                    y_tape = y
                                                    y = y + h * math.sin(y)
                                                    break
                                                if action == Revolve.DONE:
                                                    break
                                            ...
                                            while True:   (the backward sweep's: ADVANCE,
                                                ...        STORE, RESTORE, FREE, RECORD, and
                                                           REVERSE, the backward iteration)

Each copy of the iteration gets its own names for the values that live within one iteration
(``t``, ``t_5``), so that they stay single-assignment and the optimizer folds them.
"""

from __future__ import annotations

from .. import grammar as g
from .reverse_control import surely_binds
from .ssa import exposed_reads
from .tape import _range_parts

# Methods that change the object they are called on: a name they are called on is written.
_MUTATING_METHODS = frozenset({"append", "pop", "extend", "insert", "remove", "clear", "sort",
                               "reverse", "fill", "resize", "put", "itemset", "setflags"})


class CheckpointLoops:
    def __init__(self, ctx, rev, plans, checkpoint, params):
        self.namer = ctx.namer
        self.rev = rev
        self.plans = plans
        self.checkpoint = checkpoint
        self.params = set(params)
        self.stores = []  # the snapshot stores made (lists of states), for Derived

    def __call__(self, forward, backward):
        for plan in self.plans.values():
            if self._candidate(plan):
                self._checkpoint(plan, forward, backward)
        return forward, backward

    # -- which loops -------------------------------------------------------------------------
    def _candidate(self, plan):
        loop = plan.loop
        return (isinstance(loop, g.For) and not plan.trips and plan.counter is not None
                and id(loop) in self.rev.top_loops and not loop.orelse
                and isinstance(loop.iter, g.Call) and g.is_name(loop.iter.func, "range"))

    def _checkpoint(self, plan, forward, backward):
        key = id(plan.loop)
        fwd_at = _find(forward, key)
        bwd_at = _find(backward, key)
        if fwd_at is None or bwd_at is None:
            return  # no backward code: nothing to reverse
        fwd_block, fwd_index, before = fwd_at
        bwd_block, bwd_index, _ = bwd_at
        fwd_loop, bwd_loop = fwd_block[fwd_index], bwd_block[bwd_index]
        recording = self._recording(plan)
        plain = _without(fwd_loop.body, recording)
        if _count(plain) == _count(fwd_loop.body):
            return  # the loop records nothing: its reversal costs no memory
        counter = plan.counter
        written = (_writes(plain) | _writes(bwd_loop.body)
                   | _writes_after(forward, fwd_loop) | _writes_before(backward, bwd_loop))
        state = sorted((exposed_reads(plain, {counter})[0] & written) - {counter})
        bound = surely_binds(before) | self.params
        range_names = {n.id for n in g.walk(plan.loop.iter) if isinstance(n, g.Name)}
        lists = self.rev.lists
        if (not set(state) <= bound or range_names & written
                or any(name in lists or name in _method_mutated(plain) for name in state)):
            return
        self._rewrite(plan, state, forward, backward, fwd_at, bwd_at)

    def _recording(self, plan):
        """The tapes the loop's forward iterations write: its own (array tapes become one
        value) and every list tape (of nested loops, of arrays)."""
        return set(plan.arrays) | set(self.rev.tapes)

    # -- the rewrite ---------------------------------------------------------------------------
    def _rewrite(self, plan, state, forward, backward, fwd_at, bwd_at):
        loop = plan.loop
        (fwd_block, fwd_index, _), (bwd_block, bwd_index, _) = fwd_at, bwd_at
        fwd_loop, bwd_loop = fwd_block[fwd_index], bwd_block[bwd_index]
        slots = set(plan.arrays)
        taped = _one_slot(fwd_loop.body, slots)  # one iteration, its tapes one value each
        backward_body = _one_slot(bwd_loop.body, slots)
        plain = _without(fwd_loop.body, self._recording(plan))
        zeros = {self.namer.adjoint(n) for n in self.rev.forward_zeros}
        start, stop, stride = _range_parts(loop.iter)
        n = self.namer
        prefix = plan.counter.strip("_") + "_" if plan.counter.strip("_") else ""
        schedule = n.fresh(f"{prefix}schedule")
        action, step = n.fresh("action"), n.fresh("step")
        stores = {name: n.fresh(f"{name}_snapshots") for name in state}
        self.stores += list(stores.values())
        self.counter = plan.counter
        self.start, self.stride = start, stride

        setup = []
        if g.is_const(start, 0) and g.is_const(stride, 1):
            trips = stop
        else:
            trips = g.name(n.fresh(f"{prefix}trips"))
            setup.append(g.assign(trips.id, g.call("range_len", g.clone(start), g.clone(stop),
                                                   g.clone(stride))))
        if self.checkpoint == "auto":
            snapshots = g.call("auto_snapshots", g.clone(trips))
        else:
            snapshots = g.const(self.checkpoint)
        setup.append(g.assign(schedule, g.call("revolve_start", trips, snapshots)))
        setup += [g.assign(store, g.List(elts=[], ctx=g.Load())) for store in stores.values()]
        setup += [g.assign(tape, _initial(dtype)) for tape, dtype in sorted(
            plan.arrays.items())]
        # drop the allocations of the loop's preallocated tapes (one value each now)
        fwd_block[:] = [s for s in fwd_block if not (
            isinstance(s, g.Assign) and g.is_name(s.targets[0]) and s.targets[0].id in slots)]
        fwd_index = fwd_block.index(fwd_loop)

        def advance(body):
            until = g.call("revolve_until", g.name(schedule))
            return [self._run(g.call("range", g.name(step), until), body)]

        def one(body):
            return [self._at(step)] + body

        copies = [g.clone(plain), g.clone(taped), _without(g.clone(plain), set(), zeros),
                  _without(g.clone(taped), set(), zeros), backward_body]
        outside = _mentioned(forward, skip=fwd_loop) | _mentioned(backward, skip=bwd_loop)
        self._rename_apart(copies, outside | set(state) | set(slots) | {plan.counter})
        first = [  # the forward sweep: snapshots on the way, the last iteration taped
            ("ADVANCE", advance(copies[0])),
            ("STORE", self._stores(stores)),
            ("RECORD", one(copies[1]) + [g.Break()]),
        ]
        rest = [  # the backward sweep: every iteration, from the last one, taped and reversed
            ("ADVANCE", advance(copies[2])),
            ("STORE", self._stores(stores)),
            ("RESTORE", self._restores(stores)),
            ("FREE", [g.expr_stmt(g.call(g.Attribute(value=g.name(s), attr="pop",
                                                     ctx=g.Load()))) for s in stores.values()]
             or [g.Pass()]),
            ("RECORD", one(copies[3])),
            ("REVERSE", one(copies[4])),
        ]
        forward_code = setup + [self._schedule(schedule, action, step, first)]
        backward_code = self._schedule(schedule, action, step, rest)
        for stmt in forward_code + [backward_code]:
            _locate(stmt, loop)  # the schedule's own statements inside: no user line
        sweep = getattr(bwd_loop, "adjoint_sweep", None)
        if sweep is not None:
            backward_code.adjoint_sweep = sweep
        fwd_block[fwd_index:fwd_index + 1] = forward_code
        bwd_block[bwd_index] = backward_code
        for tape in slots:
            plan.arrays.pop(tape)

    def _rename_apart(self, copies, kept):
        """Give each copy of the iteration its own names for the values that live within one
        iteration (bound before being read in every copy, read nowhere else, not in
        ``kept``), so that they stay single-assignment names the optimizer can fold."""
        counter = {self.counter}
        exposed = set().union(*(exposed_reads(c, counter)[0] for c in copies))
        local = set().union(*(g.assigned_names(c) for c in copies)) - exposed - kept
        for copy in copies[1:]:
            renames = {name: self.namer.fresh(name) for name in sorted(
                local & _mentioned(copy))}
            for stmt in copy:
                for node in g.walk(stmt):
                    if isinstance(node, g.Name) and node.id in renames:
                        node.id = renames[node.id]

    def _schedule(self, schedule, action, step, branches):
        """``while True:`` asking the schedule for the next action and running it (one ``if``
        per kind of action: at most one runs)."""
        body = [g.assign(action, g.call("revolve_next", g.name(schedule))),
                g.assign(step, g.call("revolve_step", g.name(schedule)))]
        for kind, code in branches + [("DONE", [g.Break()])]:
            test = g.compare(g.name(action), g.Eq, g.dotted(f"Revolve.{kind}"))
            body.append(g.if_(test, code))
        return g.while_(g.const(True), body)

    def _counter_value(self, k):
        """The loop counter's value in iteration ``k`` (a name)."""
        if g.is_const(self.start, 0) and g.is_const(self.stride, 1):
            return g.name(k)
        value = g.name(k) if g.is_const(self.stride, 1) else \
            g.binop(g.name(k), g.Mult, g.clone(self.stride))
        if not g.is_const(self.start, 0):
            value = g.binop(g.clone(self.start), g.Add, value)
        return value

    def _at(self, step):
        return g.assign(self.counter, self._counter_value(step))

    def _run(self, steps, body):
        """A loop running ``body`` for the iterations in ``steps`` (a range of indices)."""
        if g.is_const(self.start, 0) and g.is_const(self.stride, 1):
            return g.for_(self.counter, steps, body)
        k = self.namer.fresh("k")
        return g.for_(k, steps, [g.assign(self.counter, self._counter_value(k))] + body)

    def _stores(self, stores):
        out = []
        for name, store in stores.items():
            value = g.name(name) if self.rev.scalar_type(name) else g.call("fresh", g.name(name))
            push = g.call(g.Attribute(value=g.name(store), attr="append", ctx=g.Load()), value)
            out.append(g.expr_stmt(push))
        return out or [g.Pass()]

    def _restores(self, stores):
        out = []
        for name, store in stores.items():
            last = g.subscript(g.name(store), g.const(-1))
            out.append(g.assign(name, last if self.rev.scalar_type(name)
                                else g.call("fresh", last)))
        return out or [g.Pass()]


def _locate(stmt, loop):
    """Give ``stmt`` alone (not its children) the location of ``loop``."""
    for attr in ("lineno", "col_offset", "end_lineno", "end_col_offset", "adjoint_origin"):
        if hasattr(loop, attr):
            setattr(stmt, attr, getattr(loop, attr))


def _find(stmts, key, before=()):
    """(block, index, statements run before it) of the loop tagged ``key`` in ``stmts`` or
    their branches, or None."""
    for k, stmt in enumerate(stmts):
        if isinstance(stmt, g.For) and getattr(stmt, "adjoint_loop", None) == key:
            return stmts, k, list(before) + stmts[:k]
        if isinstance(stmt, g.If):
            for arm in (stmt.body, stmt.orelse):
                found = _find(arm, key, list(before) + stmts[:k])
                if found is not None:
                    return found
    return None


def _is_recording(stmt, tapes):
    """Whether ``stmt`` writes onto one of ``tapes`` (a push, or a store into a slot)."""
    if isinstance(stmt, g.Expr) and isinstance(stmt.value, g.Call):
        func = stmt.value.func
        return (isinstance(func, g.Attribute) and func.attr == "append"
                and g.is_name(func.value) and func.value.id in tapes)
    if isinstance(stmt, g.Assign):
        target = stmt.targets[0]
        return (isinstance(target, g.Subscript) and g.is_name(target.value)
                and target.value.id in tapes)
    return False


def _without(stmts, tapes, targets=frozenset()):
    """``stmts`` without the writes onto ``tapes`` and the assignments to ``targets``
    (a new list of statements; compound statements are rebuilt, simple ones shared)."""
    out = []
    for stmt in stmts:
        if _is_recording(stmt, tapes):
            continue
        if isinstance(stmt, g.Assign) and g.is_name(stmt.targets[0]) and \
                stmt.targets[0].id in targets:
            continue
        if isinstance(stmt, g.If):
            new = g.if_(stmt.test, _without(stmt.body, tapes, targets) or [g.Pass()],
                        _without(stmt.orelse, tapes, targets))
            stmt = g.copy_location(new, stmt)
        elif isinstance(stmt, g.For):
            new = g.for_(stmt.target, stmt.iter, _without(stmt.body, tapes, targets)
                         or [g.Pass()])
            stmt = g.copy_location(new, stmt)
        elif isinstance(stmt, g.While):
            new = g.while_(stmt.test, _without(stmt.body, tapes, targets) or [g.Pass()])
            stmt = g.copy_location(new, stmt)
        out.append(stmt)
    return out


def _one_slot(stmts, tapes):
    """A copy of ``stmts`` with every slot ``tape[k]`` of ``tapes`` read and written as
    ``tape``."""
    one = _OneSlot(tapes)
    return [one.visit(stmt) for stmt in g.clone(stmts)]


class _OneSlot(g.NodeTransformer):
    def __init__(self, tapes):
        self.tapes = tapes

    def visit_Subscript(self, node):
        if g.is_name(node.value) and node.value.id in self.tapes:
            return g.copy_location(g.name(node.value.id, store=isinstance(node.ctx, g.Store)),
                                   node)
        return self.generic_visit(node)


def _initial(dtype):
    """A value of the tape's type, before its first iteration is recorded."""
    if isinstance(dtype, tuple):  # ("like", name): the carried value's own type
        return g.name(dtype[1])
    return g.const({"int64": 0, "bool_": False}.get(dtype, 0.0))


def _count(stmts):
    return sum(1 for _ in g.statements(stmts))


def _method_mutated(stmts):
    """Names a method that changes its object is called on (``lst.append(v)``)."""
    out = set()
    for stmt in stmts:
        for node in g.walk(stmt):
            if isinstance(node, g.Call) and isinstance(node.func, g.Attribute) and \
                    node.func.attr in _MUTATING_METHODS and g.is_name(node.func.value):
                out.add(node.func.value.id)
    return out


def _mentioned(stmts, skip=None):
    """The names ``stmts`` mention, outside the statement ``skip``."""
    out = set()
    todo = list(stmts)
    while todo:
        node = todo.pop()
        if node is skip:
            continue
        if isinstance(node, g.Name):
            out.add(node.id)
        else:
            todo.extend(g.iter_child_nodes(node))
    return out


def _written(stmt):
    """The names a simple statement (or a loop header) binds or writes into."""
    if isinstance(stmt, g.For):
        return g.assigned_names([g.assign(stmt.target, g.const(0))])
    if isinstance(stmt, (g.If, g.While)):
        return set()
    out = g.assigned_names([stmt])
    for node in g.walk(stmt):
        if isinstance(node, g.Subscript) and isinstance(node.ctx, g.Store):
            base = node.value
            while isinstance(base, g.Subscript):
                base = base.value
            if g.is_name(base):
                out.add(base.id)
    return out | _method_mutated([stmt])


def _writes(stmts):
    out = set()
    for stmt in g.statements(stmts):
        out |= _written(stmt)
    return out


def _writes_after(stmts, loop):
    """The names written by the statements of ``stmts`` that run after ``loop``."""
    inside = {id(s) for s in g.statements([loop])}
    out, seen = set(), False
    for stmt in g.statements(stmts):
        if stmt is loop:
            seen = True
        elif seen and id(stmt) not in inside:
            out |= _written(stmt)
    return out


def _writes_before(stmts, loop):
    """The names written by the statements of ``stmts`` that run before ``loop``."""
    out = set()
    for stmt in g.statements(stmts):
        if stmt is loop:
            break
        out |= _written(stmt)
    return out
