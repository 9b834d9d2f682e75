"""Propagate local copies: after ``a = b`` in a block, later reads of ``a`` in that block read
``b`` while neither is written again; after ``t = x[i]``, generated statements read ``t`` for
``x[i]`` while no array element, nor ``t``, ``x`` or ``i``, is written (a pass of the
optimizer, :mod:`.simplify`).

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
        loads = {}  # the text of a subscript read -> the name holding its value here
        for stmt in stmts:
            if isinstance(stmt, (g.If, g.For, g.While)):
                for block in (stmt.body, getattr(stmt, "orelse", [])):
                    self(block)
                copies.clear()
                loads.clear()
                continue
            if not isinstance(stmt, (g.Assign, g.AugAssign, g.Expr, g.Return)):
                copies.clear()
                loads.clear()
                continue
            if copies and stmt.value is not None:
                stmt.value = self._renamed(stmt.value, copies)
            if loads and self._generated(stmt):
                stmt.value = self._reused(stmt.value, loads)
            written = _written(stmt)
            if written:
                copies = {a: b for a, b in copies.items()
                          if a not in written and b not in written}
                loads = {text: (t, reads) for text, (t, reads) in loads.items()
                         if t not in written and not reads & written}
            if isinstance(stmt, g.Expr) or _writes_element(stmt):
                loads.clear()  # an array may have changed
            if isinstance(stmt, g.Assign) and len(stmt.targets) == 1 and \
                    isinstance(stmt.targets[0], g.Name):
                target, value = stmt.targets[0].id, stmt.value
                if isinstance(value, g.Name) and target in self.rewritable and \
                        target != value.id:
                    copies[target] = value.id
                elif _plain_load(value):
                    reads = {n.id for n in g.name_nodes(value)}
                    if target not in reads:
                        loads.setdefault(g.unparse(value), (target, reads))
        return stmts

    def _generated(self, stmt):
        """Whether ``stmt`` is generated code (its target rewritable), not the user's."""
        target = stmt.targets[0] if isinstance(stmt, g.Assign) else \
            stmt.target if isinstance(stmt, g.AugAssign) else None
        if isinstance(target, g.Subscript):
            target = target.value
        return isinstance(target, g.Name) and target.id in self.rewritable

    def _reused(self, expr, loads):
        outer = self

        class Reuse(g.NodeTransformer):
            def visit_Subscript(self, node):
                self.generic_visit(node)
                found = loads.get(g.unparse(node)) if isinstance(node.ctx, g.Load) else None
                if found is None:
                    return node
                outer.changed = True
                return g.name(found[0])

        return Reuse().visit(expr)

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


def _plain_load(node):
    """``a[i]``, ``a[i + 1, j]``: a subscript of a name by names and numbers."""
    if not (isinstance(node, g.Subscript) and isinstance(node.value, g.Name)):
        return False
    for n in g.walk(node.slice):
        if isinstance(n, (g.Call, g.Subscript, g.Attribute, g.Slice, g.Starred)):
            return False
    return True


def _writes_element(stmt):
    """Whether ``stmt`` writes through a subscript (``a[i] = v``, ``a[i] += v``)."""
    targets = stmt.targets if isinstance(stmt, g.Assign) else \
        [stmt.target] if isinstance(stmt, g.AugAssign) else []
    return any(isinstance(n, g.Subscript) for t in targets for n in g.walk(t))
