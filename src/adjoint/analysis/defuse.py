"""Def-use facts about an ANF body that the reverse transformer needs.

* :func:`needed_names` — the names whose *values* the backward sweep reads: operands that active
  rules read (found from the rule templates themselves), indices of active subscripts, branch
  conditions and loop bounds around active code.
* :func:`mutated_names` — arrays written through subscripts.
* :func:`int_names` — names that certainly hold integers (loop counters, ``len``, ``.shape``
  entries, integer arithmetic on those): their subscripts are basic indexing.
"""

from __future__ import annotations

import builtins

from .. import grammar as g
from ..template import Bound, reads_for
from .activity import atom_names, classify, resolve


def _slice_names(index):
    return [n.id for n in g.walk(index) if isinstance(n, g.Name)]


def _touches(stmts, active):
    return any(isinstance(n, g.Name) and n.id in active for s in stmts for n in g.walk(s))


def _writes(stmts, needed):
    """Whether ``stmts`` write into an array whose values the backward sweep reads: its
    backward code restores the overwritten elements, under the same conditions and loops."""
    return any(isinstance(n, g.Assign) and isinstance(n.targets[0], g.Subscript)
               and n.targets[0].value.id in needed for s in stmts for n in g.walk(s))


def needed_names(body, active, ctx, local_names):
    needed = set()
    size = -1
    while len(needed) != size:  # a least fixpoint: a restoring write makes its branch needed
        size = len(needed)
        _visit_needed(body, active, ctx, local_names, needed)
    return needed


def _visit_needed(body, active, ctx, local_names, needed):
    def visit(stmts):
        for stmt in stmts:
            if isinstance(stmt, g.Assign):
                target = stmt.targets[0]
                if isinstance(target, g.Name):
                    if target.id not in active:
                        continue
                    op = classify(stmt.value, ctx, local_names)
                    if op.kind == "subscript":
                        needed.update(n for n in _slice_names(stmt.value.slice)
                                      if n in local_names)
                        if stmt.value.value.id == target.id:
                            # a = a[1:]: the adjoint of the old a has the old a's shape
                            needed.add(target.id)
                    elif op.kind == "rule" and op.rule.custom is not None:
                        needed.add(target.id)
                        for _, atom in list(zip(op.rule.params, op.args)) + op.keywords:
                            needed.update(atom_names(atom, local_names))
                    elif op.kind == "rule" and not op.rule.nondiff and (
                            op.rule.vjp is not None or op.rule.partials is not None):
                        bound = Bound(op.rule, op.args, op.keywords, stmt, ctx)
                        for param, atom in bound.values.items():
                            if not set(atom_names(atom, local_names)) & active:
                                continue
                            for r in reads_for(op.rule, param):
                                if r == op.rule.result:
                                    needed.add(target.id)
                                else:
                                    needed.update(atom_names(bound.values[r], local_names))
                elif target.value.id in active or target.value.id in needed:
                    # the backward sweep restores the overwritten elements at this index
                    needed.update(n for n in _slice_names(target.slice) if n in local_names)
            elif isinstance(stmt, g.If):
                if _touches(stmt.body + stmt.orelse, active) or \
                        _writes(stmt.body + stmt.orelse, needed):
                    needed.update(atom_names(stmt.test, local_names))
                visit(stmt.body)
                visit(stmt.orelse)
            elif isinstance(stmt, g.For):
                if _touches(stmt.body, active) or _writes(stmt.body, needed):
                    needed.update(n for a in stmt.iter.args for n in atom_names(a, local_names))
                    needed.add(stmt.target.id)
                visit(stmt.body)
            elif isinstance(stmt, g.While):
                visit(stmt.body)

    visit(body)


def mutated_names(body):
    out = set()
    for stmt in body:
        for n in g.walk(stmt):
            if isinstance(n, g.Assign) and isinstance(n.targets[0], g.Subscript):
                out.add(n.targets[0].value.id)
    return out


_INT_FUNCS = ("len", "int", "range_len")


def int_names(body, ctx, local_names):
    """Names that hold integers on every path (a conservative fixpoint)."""
    defs = {}
    loops = set()
    for stmt in body:
        for n in g.walk(stmt):
            if isinstance(n, g.Assign) and isinstance(n.targets[0], g.Name):
                defs.setdefault(n.targets[0].id, []).append(n.value)
            elif isinstance(n, g.For) and isinstance(n.iter, g.Call):
                loops.add(n.target.id)
    ints = set(loops)
    shapes = {name for name, values in defs.items()
              if all(isinstance(v, g.Attribute) and v.attr == "shape" for v in values)}

    def is_int(e):
        if isinstance(e, g.Constant):
            return isinstance(e.value, int) and not isinstance(e.value, bool)
        if isinstance(e, g.Name):
            return e.id in ints
        if isinstance(e, g.BinOp) and isinstance(e.op, (g.Add, g.Sub, g.Mult, g.FloorDiv,
                                                        g.Mod)):
            return is_int(e.left) and is_int(e.right)
        if isinstance(e, g.UnaryOp) and isinstance(e.op, g.USub):
            return is_int(e.operand)
        if isinstance(e, g.Subscript) and (
                isinstance(e.value, g.Attribute) and e.value.attr == "shape"
                or isinstance(e.value, g.Name) and e.value.id in shapes):
            return True
        if isinstance(e, g.Call):
            found, obj = resolve(e.func, ctx)
            return found and any(obj is getattr(builtins, f, None) for f in _INT_FUNCS)
        return False

    changed = True
    while changed:
        changed = False
        for name, values in defs.items():
            if name not in ints and name not in loops and all(is_int(v) for v in values):
                ints.add(name)
                changed = True
    for name in list(ints):
        if name in loops and name in defs and not all(is_int(v) for v in defs[name]):
            ints.discard(name)
    return ints
