"""Propagate loop zeros: an adjoint that is ``0.0`` at the start of every iteration is read as
``0.0`` there (a pass of the optimizer, :mod:`.simplify`).

Takes a block of generated statements and the names that may be rewritten (adjoints and
temporaries). Guarantees the same values: in a loop without ``break`` or ``continue``, a
rewritable name that holds ``0.0`` on entry (its last assignment before the loop, in the same
block, is ``name = 0.0``) and that the body sets to ``0.0`` last (no write after that top-level
``name = 0.0``) holds ``0.0`` at the start of every iteration; its reads in the body before the
body first writes it become ``0.0``. The backward sweep of a loop consumes the adjoint of each
name the loop assigns that way, so the first contribution of the next iteration reads a known
zero; the algebra then drops it and dead-code elimination drops the zeroing:

    dstep = 0.0                            dstep = 0.0
    for k in range(trips - 1, -1, -1):     for k in range(trips - 1, -1, -1):
        dstep = dstep - dx                     dstep = 0.0 - dx      (then: dstep = -dx)
        ...                                    ...
        dstep = 0.0                            dstep = 0.0
"""

from __future__ import annotations

from .. import grammar as g


def _is_zero(node):
    return isinstance(node, g.Constant) and type(node.value) is float and node.value == 0.0


class PropagateLoopZeros:
    """One walk over a function body; ``changed`` says whether a read was replaced."""

    def __init__(self, rewritable):
        self.rewritable = rewritable
        self.changed = False

    def __call__(self, stmts):
        zeros = set()  # rewritable names holding 0.0 at this point of the block
        for stmt in stmts:
            if isinstance(stmt, (g.For, g.While)):
                self(stmt.body)
                if zeros and not any(isinstance(n, (g.Break, g.Continue))
                                     for n in g.walk(stmt)):
                    carried = _zeroed_last(stmt.body) & zeros
                    if carried:
                        self._replace_reads(stmt.body, carried)
                    zeros = (zeros - g.assigned_names([stmt])) | carried
                elif zeros:
                    zeros -= g.assigned_names([stmt])
            elif isinstance(stmt, g.If):
                self(stmt.body)
                self(stmt.orelse)
                if zeros:
                    zeros -= g.assigned_names([stmt])
            else:
                if zeros:
                    zeros -= g.assigned_names([stmt])
                if isinstance(stmt, g.Assign) and len(stmt.targets) == 1 and \
                        isinstance(stmt.targets[0], g.Name) and _is_zero(stmt.value) and \
                        stmt.targets[0].id in self.rewritable:
                    zeros.add(stmt.targets[0].id)
        return stmts

    def _replace_reads(self, body, names):
        """Reads of ``names`` in ``body`` before their first write become ``0.0``."""
        live = set(names)
        for stmt in body:
            if not live:
                return
            if isinstance(stmt, (g.Assign, g.AugAssign, g.Expr)):
                stmt.value = self._zeroed(stmt.value, live)
                if isinstance(stmt, g.AugAssign) and isinstance(stmt.target, g.Name):
                    live.discard(stmt.target.id)  # `x += e` reads x: keep it as it is
                live -= g.assigned_names([stmt])
            else:  # a compound statement: its reads are not followed
                live -= {n.id for n in g.name_nodes(stmt)}

    def _zeroed(self, expr, live):
        zero = _Zero(live)
        expr = zero.visit(expr)
        self.changed |= zero.changed
        return expr


class _Zero(g.NodeTransformer):
    """Reads of the names ``live`` become ``0.0``."""

    def __init__(self, live):
        self.live = live
        self.changed = False

    def visit_Name(self, node):
        if node.id in self.live and isinstance(node.ctx, g.Load):
            self.changed = True
            return g.const(0.0)
        return node


def _zeroed_last(body):
    """The names whose last write in ``body`` is a top-level ``name = 0.0``."""
    out = set()
    written = set()
    for stmt in reversed(body):
        if isinstance(stmt, g.Assign) and len(stmt.targets) == 1 and \
                isinstance(stmt.targets[0], g.Name) and _is_zero(stmt.value) and \
                stmt.targets[0].id not in written:
            out.add(stmt.targets[0].id)
        written |= g.assigned_names([stmt])
    return out
