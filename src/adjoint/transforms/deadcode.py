"""Dead-code elimination for generated code: liveness over structured control flow.

Takes a function body and the names that must stay (results); returns the statements to keep
and whether anything changed. A statement is dead when nothing live reads what it writes: an
assignment to a dead name, a write into a dead array, a push onto (or a pop from) a dead list;
an ``if`` whose branches both lose every statement (a call the user made for its side
effect, ``print(...)``, is never dead: see :func:`is_effect`), a loop whose body keeps nothing but
``break``/``pass``. Kept ``if``s whose then-branch empties are turned around
(``if not c: <else-branch>``). Nothing else is rewritten. Part of the optimizer
(``simplify.py``).

Cost: linear in the body's size per analysis pass. A loop's body is analysed with what is live
after the loop plus what the body itself makes live across iterations (its *carried* set),
which grows to a fixpoint. All loops grow together: each pass over the whole body extends every
loop's carried set once, and passes repeat until none grows — the least fixpoint, which solving
each loop on its own inside every iteration of its enclosing loop also gives, at a cost
exponential in the nesting depth. One last pass then removes what is dead.

    t = x * 2                       s = x + 1
    s = x + 1             ->        return s
    return s
"""

from __future__ import annotations

from .. import grammar as g
from ..analysis.shapes import popped_list

_SIDE_EFFECT_METHODS = {"append", "pop"}


def is_effect(stmt):
    """A call the user made for its side effect (``print(...)``, ``log(x)``): ANF binds its
    result to a fresh name nobody reads and marks the assignment; it runs once, in order."""
    return getattr(stmt, "adjoint_effect", False)


class DeadCode:
    def __init__(self, protected=()):
        self.protected = set(protected)  # names live at the end (results)
        self.changed = False
        self._carried = {}  # id(loop) -> (loop, names its body carries across iterations)
        self._load_sets = {}  # id(node) -> (node, names it loads)
        self._grew = False

    def __call__(self, body):
        """(the statements of ``body`` to keep, whether anything was removed or rewritten)."""
        if any(isinstance(n, (g.For, g.While)) for n in g.statements(body)):
            self._grew = True
            while self._grew:
                self._grew = False
                self._live_block(body, set(self.protected), mutate=False)
        kept = self._live_block(body, set(self.protected), mutate=True)
        return kept, self.changed

    def _live_block(self, stmts, live, mutate):
        """The statements of ``stmts`` to keep, given the names ``live`` after them; ``live``
        becomes (in place) the names live before them. Only with ``mutate`` are compound
        statements rewritten (their bodies pruned)."""
        kept = []
        for stmt in reversed(stmts):
            if self._live_stmt(stmt, live, mutate):
                kept.append(stmt)
            elif mutate:
                self.changed = True
        kept.reverse()
        return kept

    def _live_stmt(self, stmt, live, mutate):
        """Whether to keep ``stmt``; updates ``live`` (names live after it) to the names live
        before it. A statement dropped leaves ``live`` as it was."""
        if isinstance(stmt, (g.Return, g.Break, g.Assert)):
            live |= self._loads(stmt)
            return True
        if isinstance(stmt, g.Pass):
            return False
        if isinstance(stmt, g.Assign):
            t = stmt.targets[0]
            if isinstance(t, g.Name):
                stack = popped_list(stmt.value)
                if t.id not in live and (stack is None or stack not in live) and \
                        not is_effect(stmt):
                    return False
                live.discard(t.id)
                live |= self._loads(stmt.value)
                return True
            if t.value.id not in live:
                return False
            live |= self._loads(stmt)
            return True
        if isinstance(stmt, g.AugAssign):
            t = stmt.target
            base = t.value.id if isinstance(t, g.Subscript) else t.id
            if base not in live:
                return False
            live |= self._loads(stmt)
            live.add(base)
            return True
        if isinstance(stmt, g.Expr):
            f = stmt.value.func if isinstance(stmt.value, g.Call) else None
            if isinstance(f, g.Attribute) and f.attr in _SIDE_EFFECT_METHODS and \
                    isinstance(f.value, g.Name) and f.value.id not in live:
                return False
            live |= self._loads(stmt)
            return True
        if isinstance(stmt, g.If):
            return self._live_if(stmt, live, mutate)
        if isinstance(stmt, (g.For, g.While)):
            return self._live_loop(stmt, live, mutate)
        live |= self._loads(stmt)
        return True

    def _live_if(self, stmt, live, mutate):
        live_else = set(live)
        body = self._live_block(stmt.body, live, mutate)
        orelse = self._live_block(stmt.orelse, live_else, mutate)
        if not body and not orelse:
            return False  # every statement of both branches was dropped: live is unchanged
        test_loads = self._loads(stmt.test)
        if mutate:
            stmt.body, stmt.orelse = body or [g.Pass()], orelse
            if _is_pass(stmt.body) and stmt.orelse:
                stmt.test = _negate(stmt.test)
                stmt.body, stmt.orelse = stmt.orelse, []
                self.changed = True
        live |= live_else
        live |= test_loads
        return True

    def _live_loop(self, stmt, live, mutate):
        header = self._loads(stmt.iter if isinstance(stmt, g.For) else stmt.test)
        carried = self._carried.setdefault(id(stmt), (stmt, set()))[1]
        live_in = live | carried | header
        body = self._live_block(stmt.body, live_in, mutate)
        if isinstance(stmt, g.For):
            live_in.discard(stmt.target.id)
        if not mutate and not live_in <= carried:
            carried |= live_in
            self._grew = True
        if not any(not isinstance(s, (g.Break, g.Pass)) for s in body):
            return False
        if mutate:
            stmt.body = body
        live |= live_in
        live |= header
        return True

    def _loads(self, node):
        """The names ``node`` loads (cached: statements keep their loads during a run)."""
        entry = self._load_sets.get(id(node))
        if entry is None:
            entry = self._load_sets[id(node)] = (node, _loads(node))
        return entry[1]


def _loads(node):
    return {n.id for n in g.name_nodes(node) if isinstance(n.ctx, g.Load)}


def _is_pass(body):
    return all(isinstance(s, g.Pass) for s in body)


def _negate(test):
    if isinstance(test, g.UnaryOp) and isinstance(test.op, g.Not):
        return test.operand
    return g.unary(g.Not, test)
