"""SplitLiterals: a name bound to a tuple or list literal becomes one name per element.

Takes a checked function (before :mod:`.comprehensions` and :mod:`.control`); returns it with
every *splittable* name replaced by names of its elements, so that no tuple or list of
differentiated values exists at run time. A name is splittable when each assignment to it binds
a tuple or list literal of one length ``n`` (no starred items; not only constants, such as a
``shape = (3, 4)``, which stay as they are), and each read of it is

* an index by an integer constant (``p[0]``, ``p[-1]``),
* the right-hand side of an unpacking into ``n`` targets (``a, b = p``) or of a plain copy
  (``q = p``: ``q`` is then split too),
* ``len(p)`` (the constant ``n``),
* a positional argument of a call (``np.array(p)``, ``sum(p)``), an element of another
  literal, the iterable of a ``for`` loop or of a comprehension (then unrolled), or the value
  returned: the literal of its element names is used instead.

    p = (x * y, x - y)            p_0, p_1 = x * y, x - y
    return p[0] + 2 * p[1]        return p_0 + 2 * p_1

Other names holding tuples or lists are left as they are (the later passes refuse lists of
differentiated values where they are used).
"""

from __future__ import annotations

import builtins

from .. import grammar as g


class SplitLiterals:
    def __init__(self, namer, info, params):
        self.namer = namer
        self.info = info
        self.params = set(params)

    def __call__(self, fdef):
        for _ in range(20):  # q = p makes q splittable on the next round
            parents = _parents(fdef)
            self.paired = _paired(fdef)
            found = self._splittable(fdef, parents)
            if not found:
                break
            self._split(fdef, parents, found)
        return fdef

    def _splittable(self, fdef, parents):
        uses = {}
        for node in g.walk(fdef):
            if isinstance(node, g.Name) and node.id not in self.params:
                uses.setdefault(node.id, []).append(node)
        found = {}
        for name, nodes in uses.items():
            length, kind = None, None
            ok = True
            for node in nodes:
                parent = parents.get(id(node))
                if isinstance(node.ctx, g.Store):
                    value = self.paired.get(id(node))
                    if not (isinstance(value, (g.Tuple, g.List)) and not any(
                                isinstance(e, g.Starred) for e in value.elts)) or (
                            length is not None and len(value.elts) != length):
                        ok = False
                        break
                    length, kind = len(value.elts), kind or type(value)
                elif not self._readable(node, parent, parents):
                    ok = False
                    break
            if ok and length is not None and all(
                    self._in_range(n, parents.get(id(n)), length) for n in nodes) and any(
                    not _constant(self.paired[id(n)]) for n in nodes
                    if isinstance(n.ctx, g.Store)):
                found[name] = (length, kind)
        return found

    def _readable(self, node, parent, parents):
        if isinstance(parent, g.Subscript) and parent.value is node:
            return _constant_index(parent.slice) is not None and isinstance(
                parent.ctx, g.Load)
        if isinstance(parent, g.Assign) and parent.value is node:
            target = parent.targets[0]
            return len(parent.targets) == 1 and (isinstance(target, g.Name) or (
                isinstance(target, (g.Tuple, g.List)) and not any(
                    isinstance(e, g.Starred) for e in target.elts)))
        if isinstance(parent, g.Call) and node in parent.args:
            return True
        if isinstance(parent, (g.Tuple, g.List)) and isinstance(parent.ctx, g.Load):
            return True  # an element of another literal
        if getattr(parent, "iter", None) is node:
            return True  # a loop or comprehension over it: unrolled by DesugarComprehensions
        return isinstance(parent, g.Return)

    def _in_range(self, node, parent, length):
        if isinstance(parent, g.Subscript) and parent.value is node:
            k = _constant_index(parent.slice)
            return -length <= k < length
        if isinstance(parent, g.Assign) and parent.value is node and isinstance(
                parent.targets[0], (g.Tuple, g.List)):
            return len(parent.targets[0].elts) == length
        return True

    def _split(self, fdef, parents, found):
        names = {n: [self.namer.fresh(f"{n}_{k}") for k in range(length)]
                 for n, (length, _) in sorted(found.items())}
        for node in list(g.walk(fdef)):
            if not isinstance(node, g.Name) or node.id not in found:
                continue
            parent = parents[id(node)]
            parts = names[node.id]
            kind = found[node.id][1]
            if isinstance(node.ctx, g.Store):
                _replace(parents, node, g.tuple_([g.name(p, store=True) for p in parts],
                                                 store=True))
            elif isinstance(parent, g.Subscript):
                k = _constant_index(parent.slice)
                _replace(parents, parent, g.name(parts[k]))
            elif isinstance(parent, g.Call) and self._is_len(parent):
                _replace(parents, parent, g.const(len(parts)))
            else:
                literal = kind(elts=[g.name(p) for p in parts], ctx=g.Load())
                _replace(parents, node, literal)

    def _is_len(self, call):
        func = call.func
        return isinstance(func, g.Name) and func.id == "len" and len(call.args) == 1 and \
            self.info.lookup("len")[1] is builtins.len


def _constant(expr):
    """A literal made of constants only (``shape = (3, 4)``): left as it is."""
    if isinstance(expr, (g.Tuple, g.List)):
        return all(_constant(e) for e in expr.elts)
    return isinstance(expr, g.Constant)


def _constant_index(index):
    if isinstance(index, g.Constant) and type(index.value) is int:
        return index.value
    if isinstance(index, g.UnaryOp) and isinstance(index.op, g.USub) and isinstance(
            index.operand, g.Constant) and type(index.operand.value) is int:
        return -index.operand.value
    return None


def _paired(tree):
    """id(target Name) -> the value expression it is bound to, for names in single-target
    assignments whose targets and values pair up (``a, (b, c) = x, (y, z)``)."""
    paired = {}

    def pair(target, value):
        if isinstance(target, g.Name):
            paired[id(target)] = value
        elif isinstance(target, (g.Tuple, g.List)) and isinstance(value, (g.Tuple, g.List)) \
                and len(target.elts) == len(value.elts):
            for t, v in zip(target.elts, value.elts):
                pair(t, v)

    for stmt in g.all_nodes(tree):
        if isinstance(stmt, g.Assign) and len(stmt.targets) == 1:
            pair(stmt.targets[0], stmt.value)
    return paired


def _parents(tree):
    parents = {}
    for node in g.all_nodes(tree):
        for field in node._fields:
            value = getattr(node, field, None)
            for child in value if isinstance(value, list) else [value]:
                if hasattr(child, "_fields"):
                    parents[id(child)] = node
    return parents


def _replace(parents, old, new):
    """Put ``new`` where ``old`` is in its parent."""
    parent = parents[id(old)]
    g.copy_location(new, old)
    for field in parent._fields:
        value = getattr(parent, field, None)
        if value is old:
            setattr(parent, field, new)
            return
        if isinstance(value, list):
            for k, v in enumerate(value):
                if v is old:
                    value[k] = new
                    return
