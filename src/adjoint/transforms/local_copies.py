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
        copies = _Copies()  # a -> b: a holds b's value here
        loads = _Loads()  # the text of a subscript read -> the name holding its value here
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
            if copies.source and stmt.value is not None:
                rename = _Rename(copies.source)
                stmt.value = rename.visit(stmt.value)
                self.changed |= rename.changed
            if loads.found and self._generated(stmt):
                reuse = _Reuse(loads.found)
                stmt.value = reuse.visit(stmt.value)
                self.changed |= reuse.changed
            written = _written(stmt)
            if written:
                copies.kill(written)
                loads.kill(written)
            if isinstance(stmt, g.Expr) or _writes_element(stmt):
                loads.clear()  # an array may have changed
            if isinstance(stmt, g.Assign) and len(stmt.targets) == 1 and \
                    isinstance(stmt.targets[0], g.Name):
                target, value = stmt.targets[0].id, stmt.value
                if isinstance(value, g.Name) and target in self.rewritable and \
                        target != value.id:
                    copies.add(target, value.id)
                elif _plain_load(value):
                    reads = {n.id for n in g.name_nodes(value)}
                    if target not in reads:
                        loads.add(g.unparse(value), target, reads)
        return stmts

    def _generated(self, stmt):
        """Whether ``stmt`` is generated code (its target rewritable), not the user's."""
        target = stmt.targets[0] if isinstance(stmt, g.Assign) else \
            stmt.target if isinstance(stmt, g.AugAssign) else None
        if isinstance(target, g.Subscript):
            target = target.value
        return isinstance(target, g.Name) and target.id in self.rewritable


class _Copies:
    """The copies ``a = b`` in force, indexed by both names, so that a write forgets the ones
    it ends in time proportional to their number (not to all copies in force)."""

    def __init__(self):
        self.source = {}  # a -> b
        self.copied_to = {}  # b -> {a: source[a] == b}

    def add(self, a, b):
        self.source[a] = b
        self.copied_to.setdefault(b, set()).add(a)

    def kill(self, written):
        """Forget the copies whose either name is in ``written``."""
        for w in written:
            b = self.source.pop(w, None)
            if b is not None:
                self.copied_to[b].discard(w)
            for a in self.copied_to.pop(w, ()):
                self.source.pop(a, None)

    def clear(self):
        self.source.clear()
        self.copied_to.clear()


class _Loads:
    """The subscript reads in force (text -> (the name holding the value, the names the read
    mentions)), indexed by every name involved, for the same reason as :class:`_Copies`."""

    def __init__(self):
        self.found = {}  # text -> (t, reads)
        self.texts = {}  # name -> texts of entries that involve it

    def add(self, text, target, reads):
        if text in self.found:
            return  # the earlier name still holds the value
        self.found[text] = (target, reads)
        for name in {target} | reads:
            self.texts.setdefault(name, set()).add(text)

    def kill(self, written):
        """Forget the reads that involve a name in ``written``."""
        for w in written:
            for text in self.texts.pop(w, ()):
                entry = self.found.pop(text, None)
                if entry is not None:
                    for name in {entry[0]} | entry[1]:
                        if name != w:
                            self.texts[name].discard(text)

    def clear(self):
        self.found.clear()
        self.texts.clear()


class _Reuse(g.NodeTransformer):
    """Reads ``x[i]`` that a name holds become that name."""

    def __init__(self, found):
        self.found = found
        self.changed = False

    def visit_Subscript(self, node):
        self.generic_visit(node)
        entry = self.found.get(g.unparse(node)) if isinstance(node.ctx, g.Load) else None
        if entry is None:
            return node
        self.changed = True
        return g.name(entry[0])


class _Rename(g.NodeTransformer):
    """Reads of ``a`` become reads of ``b`` for each copy ``a = b`` in force."""

    def __init__(self, source):
        self.source = source
        self.changed = False

    def visit_Name(self, node):
        if isinstance(node.ctx, g.Load) and node.id in self.source:
            self.changed = True
            return g.name(self.source[node.id])
        return node


def _written(stmt):
    """Names ``stmt`` rebinds or writes through (``a[i] = v``, ``a += v``)."""
    if isinstance(stmt, g.Assign) and len(stmt.targets) == 1 and \
            isinstance(stmt.targets[0], g.Name):
        return {stmt.targets[0].id}
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
    if isinstance(stmt, g.Assign) and len(stmt.targets) == 1 and \
            isinstance(stmt.targets[0], g.Name):
        return False
    targets = stmt.targets if isinstance(stmt, g.Assign) else \
        [stmt.target] if isinstance(stmt, g.AugAssign) else []
    return any(isinstance(n, g.Subscript) for t in targets for n in g.walk(t))
