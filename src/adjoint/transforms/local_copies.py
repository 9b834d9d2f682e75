"""Propagate local copies: after ``a = b`` in a block, later reads of ``a`` in that block read
``b`` while neither is written again (a pass of the optimizer, :mod:`.simplify`).

Takes a block of generated statements and the names that may be rewritten; ``a`` must be one
of them, ``b`` any name. Guarantees the same values: only reads in simple statements of the
same block are renamed, up to the first statement that writes ``a`` or ``b`` (a rebinding, a
subscript or augmented write, or any compound statement, whose effects are not followed).
Copy propagation proper (:mod:`.simplify`) needs single-assignment names; a loop's backward
iteration copies its carried adjoints, which are assigned again at its end:

    dx_2 = dx_1                 dx_2 = dx_1          (dead now: removed by dead-code elimination)
    dx_1 = dx_2                 dx_1 = dx_1          (then removed: a = a)
    dt = -dx_2 * 0.01           dt = -dx_1 * 0.01
    dx_1 = dx_1 + dt * x        dx_1 = dx_1 + dt * x
"""

from __future__ import annotations

from .. import grammar as g


class PropagateLocalCopies:
    """One walk over a function body; ``changed`` says whether a read was renamed."""

    def __init__(self, rewritable):
        self.rewritable = rewritable
        self.changed = False

    def __call__(self, stmts):
        copies = {}  # a -> b: a holds b's value here
        for stmt in stmts:
            if isinstance(stmt, (g.If, g.For, g.While)):
                for block in (stmt.body, getattr(stmt, "orelse", [])):
                    self(block)
                copies.clear()
                continue
            if not isinstance(stmt, (g.Assign, g.AugAssign, g.Expr, g.Return)):
                copies.clear()
                continue
            if copies and stmt.value is not None:
                stmt.value = self._renamed(stmt.value, copies)
            written = _written(stmt)
            if written:
                copies = {a: b for a, b in copies.items()
                          if a not in written and b not in written}
            if isinstance(stmt, g.Assign) and len(stmt.targets) == 1 and \
                    isinstance(stmt.targets[0], g.Name) and isinstance(stmt.value, g.Name) and \
                    stmt.targets[0].id in self.rewritable and \
                    stmt.targets[0].id != stmt.value.id:
                copies[stmt.targets[0].id] = stmt.value.id
        return stmts

    def _renamed(self, expr, copies):
        outer = self

        class Rename(g.NodeTransformer):
            def visit_Name(self, node):
                if isinstance(node.ctx, g.Load) and node.id in copies:
                    outer.changed = True
                    return g.name(copies[node.id])
                return node

        return Rename().visit(expr)


def _written(stmt):
    """Names ``stmt`` rebinds or writes through (``a[i] = v``, ``a += v``)."""
    targets = stmt.targets if isinstance(stmt, g.Assign) else \
        [stmt.target] if isinstance(stmt, g.AugAssign) else []
    out = set()
    for t in targets:
        out |= {n.id for n in g.name_nodes(t)}
    if isinstance(stmt, g.Expr):  # lst.append(v), lst.pop(): the list changes
        out |= {n.id for n in g.name_nodes(stmt.value)}
    return out
