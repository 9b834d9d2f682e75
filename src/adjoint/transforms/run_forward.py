"""Run loops forward: a backward loop whose iterations do not depend on one another runs over
its range in increasing order (a pass of the optimizer, :mod:`.simplify`, run once at the end).

Takes a function body and the names that may be rewritten. A loop of the function body over
``range(hi - 1, lo - 1, -1)`` (how the backward sweep replays ``for i in range(lo, hi)``) is
*independent* when each iteration only

* reads values it computes itself, or that the loop never assigns (its counter aside);
* adds to rewritable accumulators that nothing else in the loop reads: ``s = s + e``,
  ``s = s - e``, ``a[j] += e`` — additions commute;
* and neither pushes nor pops a tape, nor has an expression statement (a call for its
  effect), nor contains another loop.

Such a loop gives the same result, up to the order of floating-point additions, in either
direction; run forward, it walks memory as the primal did, and LLVM vectorizes the scalar
recurrences of accumulations like ``dx[i + 1] += ...; dx[i] += ...`` that a decreasing loop
keeps it from (the Rosenbrock gradient: about 2x). The accumulations into arrays go last in
the body, in the primal's order (the reverse of the backward sweep's), so that the value an
iteration adds to ``dx[i + 1]`` is still in a register when the next one adds to it; adjacent
accumulations into one element (``a[j] += e1; a[j] += e2``, from two reads of ``x[j]``) become
one, in every loop of the function body:

    for i in range(n - 1, -1, -1):          for i in range(n):
        t = x[i + 1] - x[i] ** 2                t = x[i + 1] - x[i] ** 2
        dx[i] += -dout * (2 * t)                dt = dout * 200.0 * t
        dt = dout * 200.0 * t                   dx[i + 1] += dt
        dx[i + 1] += dt                         dx[i] += -dout * (2 * t) - 2.0 * x[i]
        dx[i] += -2.0 * x[i]

Guarantees: only loops the conditions prove independent change, and the names a loop leaves
behind that code after it reads (its counter included) are never locals of such a loop.
"""

from __future__ import annotations

from .. import grammar as g
from ..analysis.activity import dotted_name


class _ReadAfter:
    """The names read after statement ``k``, as a set to test membership in (linear time over
    a block, where building the set per loop was quadratic)."""

    def __init__(self, last_read, k):
        self.last_read, self.k = last_read, k

    def __contains__(self, name):
        return self.last_read.get(name, -1) > self.k


class RunLoopsForward:
    def __init__(self, rewritable):
        self.rewritable = rewritable
        self.changed = False

    def __call__(self, stmts):
        last_read = None  # name -> the last statement of ``stmts`` that reads it
        for k, stmt in enumerate(stmts):
            if not isinstance(stmt, g.For):
                continue
            stmt.body = self._merged(stmt.body)
            bounds = _reversed_range(stmt.iter)
            if bounds is None:
                continue
            if last_read is None:
                last_read = {n.id: j for j, s in enumerate(stmts) for n in g.name_nodes(s)
                             if isinstance(n.ctx, g.Load)}
            after = _ReadAfter(last_read, k)
            if stmt.target.id in after or not self._independent(stmt, after):
                continue
            lo, hi = bounds
            stmt.iter = g.call("range", hi) if lo is None else g.call("range", lo, hi)
            stmt.body = self._merged(_accumulations_last(stmt.body))
            self.changed = True
        return stmts

    def _merged(self, body):
        """Adjacent ``a[j] += e1; a[j] += e2`` (same target, neither value reading ``a``)
        become ``a[j] += e1 + e2``: one load and store of ``a[j]`` instead of two."""
        out = []
        for stmt in body:
            prev = out[-1] if out else None
            if isinstance(stmt, g.AugAssign) and isinstance(prev, g.AugAssign) and \
                    isinstance(stmt.op, g.Add) and isinstance(prev.op, g.Add) and \
                    isinstance(stmt.target, g.Subscript) and \
                    isinstance(stmt.target.value, g.Name) and \
                    g.unparse(stmt.target) == g.unparse(prev.target) and \
                    not any(g.is_name(n, stmt.target.value.id)
                            for n in g.walk(g.module([g.expr_stmt(prev.value),
                                                      g.expr_stmt(stmt.value)]))):
                value = stmt.value
                if isinstance(value, g.UnaryOp) and isinstance(value.op, g.USub):
                    prev.value = g.binop(prev.value, g.Sub, value.operand)
                else:
                    prev.value = g.binop(prev.value, g.Add, value)
                self.changed = True
                continue
            out.append(stmt)
        return out

    def _independent(self, loop, after):
        body = loop.body
        for node in g.walk(g.module(list(body))):
            if isinstance(node, (g.For, g.While, g.Break, g.Continue, g.Return, g.Expr)):
                return False  # an expression statement is there for an effect (tape_store)
            if isinstance(node, g.Call) and isinstance(node.func, g.Attribute) and \
                    not dotted_name(node.func).startswith(("np.", "math.")):
                return False  # tape pushes and pops, methods that may change an object
        exposed = _exposed(body, {loop.target.id})
        accumulators = self._accumulators(body, exposed)
        if not accumulators:
            return False  # none, or a name accumulated and assigned (a user's loop has none)
        reads = {}
        for stmt in body:
            for n in g.name_nodes(stmt):
                if isinstance(n.ctx, g.Load):
                    reads[n.id] = reads.get(n.id, 0) + 1
        for name, count in accumulators.items():
            if reads.get(name, 0) != count:  # read only by its own accumulations
                return False
        assigned = g.assigned_names(body)
        for name in assigned - set(accumulators):
            if name in exposed or name in after:
                return False  # carried from an iteration to the next, or read afterwards
        return True

    def _accumulators(self, body, exposed):
        """{name: how many accumulations read it} of the accumulations in ``body`` (of names
        an iteration reads before assigning), or None if some name is both accumulated and
        assigned another way."""
        acc = {}
        other = set()
        for stmt in g.statements(body):
            if isinstance(stmt, g.AugAssign) and isinstance(stmt.target, g.Name) and \
                    stmt.target.id not in exposed:
                other.add(stmt.target.id)  # a local updated in place
                continue
            if isinstance(stmt, g.AugAssign):
                t = stmt.target
                base = t.value if isinstance(t, g.Subscript) else t
                if isinstance(stmt.op, (g.Add, g.Sub)) and isinstance(base, g.Name) and \
                        base.id in self.rewritable and \
                        not any(g.is_name(n, base.id) for n in g.walk(stmt.value)) and \
                        not (isinstance(t, g.Subscript) and
                             any(g.is_name(n, base.id) for n in g.walk(t.slice))):
                    acc[base.id] = acc.get(base.id, 0) + 1
                    continue
                return None
            if isinstance(stmt, g.Assign):
                t = stmt.targets[0]
                if isinstance(t, g.Subscript):
                    return None  # a[j] = v: the order of writes matters
                v = stmt.value
                if isinstance(t, g.Name) and t.id in exposed and isinstance(v, g.BinOp) and \
                        isinstance(v.op, (g.Add, g.Sub)) and g.is_name(v.left, t.id) and \
                        t.id in self.rewritable and \
                        not any(g.is_name(n, t.id) for n in g.walk(v.right)):
                    acc[t.id] = acc.get(t.id, 0) + 1
                    continue
                other |= g.assigned_names([stmt])
        if other & set(acc):
            return None
        return acc  # `a[j] += e` reads `a` once (its target), `s = s + e` reads `s` once


def _reversed_range(node):
    """(lo, hi) of ``range(hi - 1, lo - 1, -1)`` (lo None for 0), or None."""
    if not (isinstance(node, g.Call) and dotted_name(node.func) == "range" and
            len(node.args) == 3 and not node.keywords and g.is_const(node.args[2], -1)):
        return None
    first, last = node.args[0], node.args[1]
    hi = _plus_one(first)
    if g.is_const(last, -1):
        return None, hi
    return _plus_one(last), hi


def _plus_one(node):
    if isinstance(node, g.BinOp) and isinstance(node.op, g.Sub) and g.is_const(node.right, 1):
        return node.left
    if isinstance(node, g.Constant) and type(node.value) is int:
        return g.const(node.value + 1)
    return g.binop(node, g.Add, g.const(1))


def _exposed(body, bound):
    """Names ``body`` may read before assigning them in one pass (straight-line order;
    a name is assigned after an ``if`` only if both arms assign it)."""
    exposed = set()
    _scan(body, set(bound), exposed)
    return exposed


def _scan(stmts, bound, exposed):
    for stmt in stmts:
        if isinstance(stmt, g.If):
            exposed |= {n.id for n in g.name_nodes(stmt.test)} - bound
            left, right = set(bound), set(bound)
            _scan(stmt.body, left, exposed)
            _scan(stmt.orelse, right, exposed)
            bound |= left & right
            continue
        value = stmt.value if isinstance(stmt, (g.Assign, g.AugAssign, g.Expr)) else stmt
        reads = {n.id for n in g.name_nodes(value) if isinstance(n.ctx, g.Load)}
        if isinstance(stmt, (g.Assign, g.AugAssign)):
            targets = stmt.targets if isinstance(stmt, g.Assign) else [stmt.target]
            for t in targets:
                reads |= {n.id for n in g.name_nodes(t) if isinstance(n.ctx, g.Load)}
            if isinstance(stmt, g.AugAssign) and isinstance(stmt.target, g.Name):
                reads.add(stmt.target.id)
        exposed |= reads - bound
        bound |= g.assigned_names([stmt])


def _accumulations_last(body):
    """``a[j] += e`` statements of ``body``'s top level moved to its end, in reverse order,
    where no later statement assigns a name they read."""
    moved = []
    kept = []
    for k in range(len(body) - 1, -1, -1):
        stmt = body[k]
        if isinstance(stmt, g.AugAssign) and isinstance(stmt.target, g.Subscript):
            reads = {n.id for n in g.name_nodes(stmt)}
            if not reads & g.assigned_names(body[k + 1:]):
                moved.append(stmt)
                continue
        kept.append(stmt)
    kept.reverse()
    return kept + moved
