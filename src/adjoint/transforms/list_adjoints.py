"""Lists built with ``append`` and made into an array: their adjoints in reverse mode.

Takes the ANF body the reverse transformer differentiates and the names bound to empty lists.
A list whose values are differentiated is a *stack* for the reverse transformer: the backward of
``L.append(v)`` pops ``v``'s adjoint from ``L``'s adjoint list, the last one first. A list may
also be made into an array once, by ``t = np.array(L)``, ``np.asarray(L)`` or
``np.stack(L)`` (axis 0), when:

- that statement is at the top level of the function and is the only one that reads ``L``
  besides ``L.append(v)`` and ``len(L)``;
- ``L`` is bound once, to ``[]``, and every ``L.append(v)`` comes before the statement.

Its backward then pushes the adjoint of each element of ``t`` on ``L``'s adjoint list, in
order, before any append's backward runs (they all come earlier in the function), so each pops
its own element's adjoint::

    L = []                              for k in range(len(dt)):      # backward of t
    for i in range(n):                      dL.append(fresh(dt[k]))
        L.append(x[i] * 2.0)            for i in range(n - 1, -1, -1):
    t = np.array(L)                         dx[i] += dL.pop() * 2.0

Any other use of a list of differentiated values stays refused by the reverse transformer.
(Builtin ``sum`` of such a list is ``np.sum(np.array(L), axis=0)``: see
:mod:`.comprehensions`.)
"""

from __future__ import annotations

import numpy as np

from .. import grammar as g

_MAKERS = (np.array, np.asarray, np.stack)


def list_consumers(stmts, lists):
    """``{id(statement): list name}`` for the statements that may make a list into an array
    (see the module docstring)."""
    found = {}
    for lst in lists:
        stores = [n for s in stmts for n in g.walk(s) if isinstance(n, g.Name) and
                  n.id == lst and isinstance(n.ctx, g.Store)]
        if len(stores) != 1:
            continue
        reads = [k for k, s in enumerate(stmts) if _other_reads(s, lst)]
        if len(reads) != 1:
            continue
        k = reads[0]
        consumer = stmts[k]
        if not isinstance(consumer, g.Assign) or not isinstance(consumer.value, g.Call) or \
                _other_reads(consumer.value, lst, top=False) != 1:
            continue
        if any(_appends(s, lst) for s in stmts[k:]):
            continue
        found[id(consumer)] = lst
    return found


def _appends(node, lst):
    return any(isinstance(n, g.Call) and isinstance(n.func, g.Attribute) and
               n.func.attr == "append" and g.is_name(n.func.value, lst) for n in g.walk(node))


def _other_reads(node, lst, top=True):
    """How many reads of ``lst`` in ``node`` are neither ``lst.append(...)`` nor
    ``len(lst)``."""
    skip = set()
    for n in g.walk(node):
        if isinstance(n, g.Attribute) and n.attr == "append" and g.is_name(n.value, lst):
            skip.add(id(n.value))
        if isinstance(n, g.Call) and g.is_name(n.func, "len") and len(n.args) == 1:
            skip.add(id(n.args[0]))
    return sum(1 for n in g.walk(node) if isinstance(n, g.Name) and n.id == lst and
               isinstance(n.ctx, g.Load) and id(n) not in skip)


def made_into_array(op, lst):
    """Whether the call ``op`` makes the list ``lst`` into an array along axis 0 (first
    argument; np.stack without an axis or with axis 0)."""
    if op.rule.primal not in _MAKERS or not op.args or not g.is_name(op.args[0], lst):
        return False
    others = list(op.args[1:]) + [v for k, v in op.keywords if k != "dtype"]
    if op.rule.primal is np.stack:
        axis = dict(op.keywords).get("axis", op.args[1] if len(op.args) > 1 else None)
        return axis is None or g.is_const(axis, 0) and len(others) == 1
    return all(g.is_const(v, None) for v in op.args[1:2]) and len(op.args) <= 2 and not [
        k for k, _ in op.keywords if k != "dtype"]


def push_element_adjoints(namer, dlist, dz, at):
    """``for k in range(len(dz)): dlist.append(fresh(dz[k]))``, located at ``at``."""
    parts, k = namer.fresh("parts"), namer.fresh("k")
    push = g.expr_stmt(g.call(g.Attribute(value=g.name(dlist), attr="append", ctx=g.Load()),
                              g.call("fresh", g.subscript(g.name(parts), g.name(k)))))
    loop = g.for_(k, g.call("range", g.call("len", g.name(parts))), [push])
    return [g.copy_location(s, at) for s in (g.assign(parts, dz), loop)]
