"""ReverseData: the backward sweep of data structures, for :class:`ReverseAD`.

A mixin of the reverse transformer (it uses its ``defined`` adjoints, ``active`` names, the
namer and ``_accumulate``/``_own``). Takes the statements of the SSA'd ANF body that build or
write data; guarantees their adjoint statements:

* a call returning a tuple (``a, b = np.linalg.slogdet(m)``) read only as ``t[constant]``
  (:func:`tuple_results`): each element has an adjoint of its own, and the tuple's adjoint is
  built from them, zeros where an element has none;
* lists used as stacks (the tapes of generated code differentiated again): ``lst.append(v)``
  pops the adjoint of ``v`` from the adjoint list of ``lst``;
* a subscript read accumulates ``dx[i] += g`` for a basic index and ``add_at`` (which adds
  repeated indices) for one that may hold integer arrays; a subscript write ``x[i] = v``
  reads ``dx[i]`` into ``dv``, zeroes ``dx[i]`` and restores the overwritten element when it
  was saved.

    x[i] = v        ->      dv = unbroadcast(fresh(dx[i]), v)     (a first contribution to v)
                            dx[i] = 0.0
"""

from __future__ import annotations

from .. import grammar as g


class ReverseData:
    # -- calls returning tuples (a, b = np.linalg.slogdet(m)) ---------------------------------
    def _element(self, t, k):
        """The key under which element ``k`` of tuple result ``t`` has its own adjoint."""
        key = f"{t}__{k}"
        self.elements[key] = (t, k)
        return key

    def _tuple_adjoint(self, t):
        """``(dt_0, zeros_like(t[1]), ...)``: the adjoint of a tuple result, or None if no
        element has one. Consumes the element adjoints."""
        keys = [self._element(t, k) for k in range(self.tuples[t])]
        if not any(k in self.defined for k in keys):
            return None
        parts = [g.name(self._d(k)) if k in self.defined else
                 g.call("zeros_like", g.subscript(g.name(t), g.const(i)))
                 for i, k in enumerate(keys)]
        for k in keys:
            self.defined.pop(k, None)
        return g.tuple_(parts)

    # -- lists used as stacks (the tapes of generated code being differentiated again) -----
    def _dlist(self, lst):
        d = self._d(lst)
        if d not in self.adjoint_lists:
            self.adjoint_lists.append(d)
        return d

    def _list_call(self, lst, method, arg, at):
        args = [arg] if arg is not None else []
        call = g.call(g.Attribute(value=g.name(self._dlist(lst)), attr=method, ctx=g.Load()),
                      *args)
        return g.copy_location(g.expr_stmt(call) if method == "append" else call, at)

    def _append(self, stmt):
        """``lst.append(v)``: its adjoint pops the adjoint of ``v`` from ``lst``'s adjoint."""
        call = stmt.value
        lst = call.func.value.id
        if lst not in self.active:
            return []
        value = call.args[0]
        popped = self._list_call(lst, "pop", None, stmt)
        out = []
        if self._is_active(value):
            self._accumulate(value.id, popped, out, stmt)
        else:
            out.append(g.copy_location(g.expr_stmt(popped), stmt))
        return out

    # -- subscripts ---------------------------------------------------------------------------
    def _basic(self, index):
        """Whether ``index`` is certainly basic indexing (ints, slices, constants)."""
        parts = index.elts if isinstance(index, g.Tuple) else [index]
        return all(not isinstance(p, g.Name) or p.id in self.int_names for p in parts)

    def _index_add(self, base, index, value, at):
        """``d[index] += value``, or ``add_at`` when the index may hold integer arrays
        (repeated indices must accumulate, which ``+=`` on fancy indices does not do)."""
        d = g.name(self._d(base))
        if self._basic(index):
            stmt = g.AugAssign(target=g.subscript(d, g.clone(index), store=True), op=g.Add(),
                               value=value)
        else:
            stmt = g.assign(g.clone(d), g.call("add_at", g.clone(d), _index_value(index),
                                               value))
        return g.copy_location(stmt, at)

    def _write(self, stmt, target):
        base = target.value.id
        out = []
        if base in self.active and base in self.defined:
            read = g.subscript(g.name(self._d(base)), g.clone(target.slice))
            if self._is_active(stmt.value):
                # A copy: an integer index of a 2-D array is a row (a view) that the zeroing
                # below would wipe. The optimizer drops fresh() where the element is a scalar.
                # An index that may hold an integer array credits repeated elements once.
                copy = g.call("fresh", read) if self._basic(target.slice) else g.call(
                    "write_adjoint", g.name(self._d(base)), _index_value(target.slice))
                # The value may have been broadcast into the elements (x[1:3] = b with b a
                # number, a row into a 2-D block): sum back to its shape.
                copy = g.call("unbroadcast", copy, g.name(stmt.value.id))
                self._accumulate(stmt.value.id, copy, out, stmt)
            self._own(base, out, stmt)
            zero = g.assign(g.subscript(g.name(self._d(base)), g.clone(target.slice),
                                        store=True), g.const(0.0))
            out.append(g.copy_location(zero, stmt))
        old = self.saves.get(id(stmt))
        if old is not None:
            restore = g.assign(g.subscript(g.name(base), g.clone(target.slice), store=True),
                               g.name(old))
            out.append(g.copy_location(restore, stmt))
        return out


def tuple_results(stmts, ctx):
    """Names bound once, to a call of a rule declared ``returns_tuple``, and read only as
    ``t[constant]``: their elements get adjoints of their own. Maps each to its number of
    elements."""
    from ..analysis.activity import resolve
    from ..rules import registry
    defs, indices, loads, subscripted = {}, {}, {}, {}
    for stmt in stmts:
        for node in g.walk(stmt):
            if isinstance(node, g.Assign) and isinstance(node.targets[0], g.Name):
                name = node.targets[0].id
                tuple_call = False
                if isinstance(node.value, g.Call):
                    found, obj = resolve(node.value.func, ctx)
                    rule = registry.lookup(obj) if found else None
                    tuple_call = rule is not None and rule.tuple_result
                defs[name] = defs.get(name, 0) + (1 if tuple_call else 2)
            elif isinstance(node, g.Name) and isinstance(node.ctx, g.Load):
                loads[node.id] = loads.get(node.id, 0) + 1
            elif isinstance(node, g.Subscript) and isinstance(node.value, g.Name) and \
                    g.is_const(node.slice) and isinstance(node.slice.value, int) and \
                    not isinstance(node.slice.value, bool) and node.slice.value >= 0:
                name = node.value.id
                subscripted[name] = subscripted.get(name, 0) + 1
                indices.setdefault(name, set()).add(node.slice.value)
    return {name: max(idx) + 1 for name, idx in indices.items()
            if defs.get(name) == 1 and loads.get(name) == subscripted.get(name)}


def _index_value(index):
    """An index as a value (a call argument): slices become ``slice(a, b, c)``."""
    if isinstance(index, g.Tuple):
        return g.tuple_([_index_value(p) for p in index.elts])
    if isinstance(index, g.Slice):
        return g.call("slice", *[g.clone(p) if p is not None else g.const(None)
                                 for p in (index.lower, index.upper, index.step)])
    return g.clone(index)
