"""Hoist invariants: a number computed the same way in every iteration of a loop is computed once,
before the loop (a pass of the optimizer, :mod:`.simplify`).

Takes a function body, the names that may be rewritten, how often each name is assigned, and
the shape analysis. Guarantees the same values: a top-level statement ``t = e`` of a loop body
moves before the loop when ``t`` is a rewritable name assigned nowhere else, ``e`` is
arithmetic (``+``, ``-``, ``*``, unary minus) on numbers (scalar shape tokens; so it cannot
raise, even when the loop runs no iteration), and every name ``e`` reads is a parameter or is
bound before the loop in the loop's own block and not assigned in the loop. The seed of a
backward sweep is the usual case:

    for k in range(n - 1, -1, -1):         dt_10 = dout * dt
        dt_10 = dout * dt                  for k in range(n - 1, -1, -1):
        du = du + dt_10 * (2 * u)              du = du + dt_10 * (2 * u)
"""

from __future__ import annotations

from .. import grammar as g

_OPS = (g.Add, g.Sub, g.Mult)


class HoistInvariants:
    """One walk over a function body; ``changed`` says whether a statement moved."""

    def __init__(self, rewritable, defs, shapes, params):
        self.rewritable = rewritable
        self.defs = defs
        self.shapes = shapes
        self.params = set(params)
        self.changed = False

    def __call__(self, stmts):
        out = []
        bound = set(self.params)  # names certainly bound at this point of the block
        last_loop = max((k for k, s in enumerate(stmts) if isinstance(s, (g.For, g.While))),
                        default=-1)  # after it, what is bound no longer matters
        for k, stmt in enumerate(stmts):
            if isinstance(stmt, (g.For, g.While)):
                self._block(stmt.body)
                out += self._hoisted(stmt, bound)
            elif isinstance(stmt, g.If):
                self._block(stmt.body)
                self._block(stmt.orelse)
            out.append(stmt)
            if k < last_loop and not isinstance(stmt, (g.If, g.For, g.While)):
                bound |= g.assigned_names([stmt])
        return out

    def _block(self, stmts):
        stmts[:] = self(stmts)

    def _hoisted(self, loop, bound):
        assigned = g.assigned_names([loop])
        moved = []
        for stmt in list(loop.body):
            if self._invariant(stmt, assigned, bound):
                loop.body.remove(stmt)
                moved.append(stmt)
                assigned.discard(stmt.targets[0].id)
                bound = bound | {stmt.targets[0].id}
        if moved:
            loop.body = loop.body or [g.Pass()]
            self.changed = True
        return moved

    def _invariant(self, stmt, assigned, bound):
        if not (isinstance(stmt, g.Assign) and len(stmt.targets) == 1 and
                isinstance(stmt.targets[0], g.Name)):
            return False
        name = stmt.targets[0].id
        if name not in self.rewritable or self.defs.get(name) != 1:
            return False
        return self._arithmetic(stmt.value, assigned, bound)

    def _arithmetic(self, node, assigned, bound):
        if isinstance(node, g.Name):
            return node.id not in assigned and node.id in bound and \
                self.shapes.name(node.id) == self.shapes.SCALAR
        if isinstance(node, g.Constant):
            return not isinstance(node.value, bool) and isinstance(node.value, (int, float))
        if isinstance(node, g.BinOp):
            return isinstance(node.op, _OPS) and \
                self._arithmetic(node.left, assigned, bound) and \
                self._arithmetic(node.right, assigned, bound)
        if isinstance(node, g.UnaryOp):
            return isinstance(node.op, g.USub) and self._arithmetic(node.operand, assigned,
                                                                     bound)
        return False
