"""Write once: an adjoint array that a loop fills element by element is allocated empty and
written, not zeroed and added to (a pass of the optimizer, :mod:`.simplify`, run at the end).

Takes a function body, the names that may be rewritten and the shape analysis. Guarantees the
same values: ``d = zeros_like(x)`` followed (with no statement mentioning ``d`` in between) by
``for i in range(n)`` whose body mentions ``d`` once, in a top-level ``d[i] += e`` (``e`` not
reading ``d``), where ``x`` is a 1-D parameter never rebound and ``n`` is ``x.shape[0]`` (or a
name assigned only that), writes every element of ``d`` exactly once — so the zeros are never
read, and the backward sweep of an elementwise loop allocates and stores as a hand-written one
does:

    dp = zeros_like(p)                 dp = np.empty(p.shape)
    for i in range(n):                 for i in range(n):
        ...                                ...
        dp[i] += dr                        dp[i] = dr
"""

from __future__ import annotations

from .. import grammar as g
from ..analysis.activity import dotted_name


class WriteOnce:
    def __init__(self, rewritable, shapes, params):
        self.rewritable = rewritable
        self.shapes = shapes
        self.params = set(params)
        self.changed = False

    def __call__(self, stmts):
        defs = {}  # name -> the statements binding it (a loop binds its target)
        for stmt in g.statements(stmts):
            if isinstance(stmt, g.For):
                names = g.assigned_names([g.assign(stmt.target, g.const(0))])
            elif isinstance(stmt, (g.If, g.While)):
                names = ()
            else:
                names = g.assigned_names([stmt])
            for name in names:
                defs.setdefault(name, []).append(stmt)
        for k, stmt in enumerate(stmts):
            if not isinstance(stmt, g.For):
                continue
            found = self._zeroed_before(stmts, k)
            if found is None:
                continue
            j, d, x = found
            if self._fills(stmt, d, x, defs):
                stmts[j].value = g.call(g.dotted("np.empty"), g.Attribute(
                    value=g.name(x), attr="shape", ctx=g.Load()))
                for s in stmt.body:
                    if isinstance(s, g.AugAssign) and isinstance(s.target, g.Subscript) and \
                            g.is_name(s.target.value, d):
                        index = stmt.body.index(s)
                        stmt.body[index] = g.copy_location(g.assign(s.target, s.value), s)
                self.changed = True
        return stmts

    def _zeroed_before(self, stmts, k):
        """(position, d, x) of a ``d = zeros_like(x)`` before statement ``k`` with no mention of
        ``d`` in between, for a rewritable ``d`` and a 1-D parameter ``x``; else None."""
        mentioned = set()
        for j in range(k - 1, -1, -1):
            s = stmts[j]
            if isinstance(s, g.Assign) and len(s.targets) == 1 and \
                    isinstance(s.targets[0], g.Name) and isinstance(s.value, g.Call) and \
                    dotted_name(s.value.func) == "zeros_like" and len(s.value.args) == 1 and \
                    isinstance(s.value.args[0], g.Name):
                d, x = s.targets[0].id, s.value.args[0].id
                if d not in mentioned and d in self.rewritable and x in self.params and \
                        self.shapes.ndim.get(("name", x)) == 1:
                    return j, d, x
            mentioned |= {n.id for n in g.name_nodes(s)}
            if isinstance(s, (g.If, g.For, g.While)):
                return None
        return None

    def _fills(self, loop, d, x, defs):
        it = loop.iter
        if not (isinstance(it, g.Call) and dotted_name(it.func) == "range" and
                len(it.args) == 1 and not it.keywords and self._is_length(it.args[0], x, defs)):
            return False
        i = loop.target.id
        if x in defs or i in g.assigned_names(loop.body):
            return False  # x rebound, or the counter changed in the body
        uses = [s for s in g.statements(loop.body) if any(
            g.is_name(n, d) for n in g.name_nodes(s))]
        if len(uses) != 1 or uses[0] not in loop.body:
            return False  # d mentioned in a nested statement, or more than once
        s = uses[0]
        return isinstance(s, g.AugAssign) and isinstance(s.op, g.Add) and \
            isinstance(s.target, g.Subscript) and g.is_name(s.target.value, d) and \
            g.is_name(s.target.slice, i) and \
            not any(g.is_name(n, d) for n in g.name_nodes(s.value)) and \
            not any(isinstance(n, (g.Break, g.Continue, g.Return))
                    for n in g.walk(g.module(list(loop.body))))

    def _is_length(self, node, x, defs):
        """Whether ``node`` is ``x.shape[0]``, or a name assigned only that."""
        if isinstance(node, g.Name):
            assigns = defs.get(node.id, [])
            return len(assigns) == 1 and isinstance(assigns[0], g.Assign) and \
                len(assigns[0].targets) == 1 and g.is_name(assigns[0].targets[0], node.id) \
                and self._is_length(assigns[0].value, x, {})
        return isinstance(node, g.Subscript) and g.is_const(node.slice, 0) and \
            isinstance(node.value, g.Attribute) and node.value.attr == "shape" and \
            g.is_name(node.value.value, x)
