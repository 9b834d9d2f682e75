"""SeparateViews: after it, no two names share memory where an array is written in place.

Takes the inlined ANF body and the argument kinds; applies the plan of
:class:`adjoint.analysis.aliases.Aliases` (which refuses, with a located error, what it cannot
follow). Afterwards every name holds a value of its own, as every later pass assumes:

* plain aliases of a written array (``v = x``, a helper's parameter bound to the caller's array)
  are substituted away when both names keep their objects;
* other views of a written array (``t = x[1:3]``, ``row = W[i]``, ``y = x.T``) become copies,
  ``row = fresh(t)`` after ``t = W[i]``;
* after a write through one name, the other names that Python's sharing would have changed
  and that are read later get their new values explicitly: the write is copied back into the
  array it was a view of (``W[i] = row``), and views read later are taken again.

    row = W[0]             t = W[0]
    row[1] = v      ->     row = fresh(t)
    s = np.sum(W)          row[1] = v
                           W[0] = row
                           s = np.sum(W)

Bodies that write no array in place are returned unchanged.
"""

from __future__ import annotations

from .. import grammar as g
from ..analysis.aliases import Aliases
from ..analysis.defuse import int_names


class SeparateViews:
    def __init__(self, ctx, kinds=None):
        self.ctx = ctx
        self.kinds = kinds

    def __call__(self, body, params, local_names):
        aliases = self._analyze(body, params, local_names)
        aliases.check_calls()
        # One at a time, in program order: once x += v writes in place, x keeps its object,
        # and that decides the next update of x.
        while (update := self._next_inplace_update(aliases)) is not None:
            t = self.ctx.namer.fresh("t")
            self.inplace = {id(update): (update, t)}
            body = self._apply_inplace(body)
            local_names = set(local_names) | {t}
            aliases = self._analyze(body, params, local_names)
        if not aliases.writes():
            return body
        renames = self._renames(aliases)
        if renames or self._self_assignments(aliases):
            body = self._rename(body, renames)
            aliases = self._analyze(body, params, local_names)
        self.plan = aliases.plan()
        return self._apply(body)

    def _analyze(self, body, params, local_names):
        ints = int_names(body, self.ctx, local_names)
        kinds = tuple(self.kinds)[:len(params)] if self.kinds else None
        return Aliases(body, self.ctx, local_names, params[:len(kinds)] if kinds else params,
                       kinds, ints)

    # -- augmented assignment of an array: an in-place write ---------------------------------------
    def _next_inplace_update(self, aliases):
        """The first ``x = x + v`` from ``x += v`` where another name of ``x``'s memory is read
        later: for an array it is ``t = x + v; x[:] = t``, which the plan then follows like
        any write."""
        find = aliases.groups()
        members = aliases.members(find)
        live = aliases.live_after()
        for stmt in aliases.statements(aliases.body):
            if not getattr(stmt, "adjoint_inplace", False):
                continue
            x = stmt.targets[0].id
            others = sorted((live[id(stmt)] & members.get(find(x), set())) - {x})
            if not others or aliases.sharers(x, stmt, others) == []:
                continue  # nothing read later shares x's memory: rebinding is the same
            ndim = aliases.ndim_before(x, stmt)
            if ndim == 0 or ndim is None and self.kinds is None:
                continue  # a number (or generic code, printed before any call): x = x <op> v
            if ndim is None:
                raise aliases.refuse(
                    stmt, f"cannot tell whether {x} is an array (then {others[0]}, which "
                    "may share its memory, sees this update) or a number",
                    f"write {x} = {x} <op> value for a new value, or {x}[:] = ... to update "
                    "the array in place")
            return stmt
        return None

    def _apply_inplace(self, body):
        out = []
        for stmt in body:
            if id(stmt) in self.inplace:
                _, t = self.inplace[id(stmt)]
                x = stmt.targets[0].id
                whole = g.Slice(lower=None, upper=None, step=None)
                out.append(g.copy_location(g.assign(t, stmt.value), stmt))
                out.append(g.copy_location(g.assign(g.subscript(g.name(x), whole, store=True),
                                                    g.name(t)), stmt))
                continue
            if isinstance(stmt, g.If):
                stmt.body = self._apply_inplace(stmt.body)
                stmt.orelse = self._apply_inplace(stmt.orelse)
            elif isinstance(stmt, (g.For, g.While)):
                stmt.body = self._apply_inplace(stmt.body)
            out.append(stmt)
        return out

    # -- plain aliases --------------------------------------------------------------------------
    def _renames(self, aliases):
        """{b: a} for ``b = a`` where ``b`` is bound nowhere else and ``a`` is not rebound
        after it: the two names denote one object wherever ``b`` is defined."""
        find = aliases.groups()
        written = {find(w.targets[0].value.id) for w in aliases.writes()}
        loop_targets = {s.target.id for s in aliases.statements(aliases.body)
                        if isinstance(s, g.For)}
        out = {}
        for b, stmts in aliases.defs.items():
            if len(stmts) != 1 or b in aliases.params or b in loop_targets or \
                    find(b) not in written:
                continue
            stmt = stmts[0]
            kind = aliases.binding(stmt)
            if kind.kind != "identity" or not self._fixed_after(aliases, kind.base, stmt):
                continue
            out[b] = kind.base
        # b -> a -> x chains resolve to the end (a cycle b = a, a = b renames nothing)
        resolved = {}
        for b in out:
            seen, name = {b}, out[b]
            while name in out and name not in seen:
                seen.add(name)
                name = out[name]
            if name not in seen:
                resolved[b] = name
        return resolved

    @staticmethod
    def _self_assignments(aliases):
        return any(isinstance(s, g.Assign) and isinstance(s.targets[0], g.Name) and
                   g.is_name(s.value, s.targets[0].id) for s in aliases.statements(aliases.body))

    @staticmethod
    def _fixed_after(aliases, name, stmt):
        """Whether ``name`` is assigned nowhere that runs after ``stmt``."""
        for block, k, owner in aliases.path(stmt):
            if name in g.assigned_names(block[k + 1:]):
                return False
            if isinstance(owner, (g.For, g.While)) and name in g.assigned_names([owner]):
                return False
        return True

    def _rename(self, body, renames):
        """``body`` with the plain aliases substituted and their bindings (and ``x = x``, which
        does nothing) dropped."""
        out = []
        for stmt in body:
            if isinstance(stmt, g.Assign) and isinstance(stmt.targets[0], g.Name) and (
                    stmt.targets[0].id in renames or g.is_name(stmt.value,
                                                               stmt.targets[0].id)):
                continue
            if isinstance(stmt, g.If):
                stmt.body = self._rename(stmt.body, renames)
                stmt.orelse = self._rename(stmt.orelse, renames)
                headers = [stmt.test]
            elif isinstance(stmt, (g.For, g.While)):
                stmt.body = self._rename(stmt.body, renames)
                headers = [stmt.iter] if isinstance(stmt, g.For) else [stmt.test]
            else:
                headers = [stmt]
            for header in headers:
                for node in g.walk(header):
                    if isinstance(node, g.Name) and node.id in renames:
                        node.id = renames[node.id]
            out.append(stmt)
        return out

    # -- copies and synchronizations -------------------------------------------------------------
    def _apply(self, body):
        out = []
        for stmt in body:
            if id(stmt) in self.plan.copies:
                out.extend(self._copy(stmt.targets[0].id, stmt.value, stmt))
                continue
            if isinstance(stmt, g.If):
                stmt.body = self._apply(stmt.body)
                stmt.orelse = self._apply(stmt.orelse)
            elif isinstance(stmt, (g.For, g.While)):
                stmt.body = self._apply(stmt.body)
            elif isinstance(stmt, g.Assign) and isinstance(stmt.targets[0], g.Subscript) and \
                    g.is_name(stmt.value, stmt.targets[0].value.id):
                # a[0:3] = a: the value is read whole before the elements change
                t = self.ctx.namer.fresh("t")
                out.append(g.copy_location(g.assign(t, g.call("fresh", g.clone(stmt.value))),
                                           stmt))
                stmt.value = g.name(t)
            out.append(stmt)
            for kind, binding in self.plan.syncs.get(id(stmt), []):
                out.extend(self._sync(kind, binding, stmt))
        return out

    def _copy(self, target, value, at):
        """``target = fresh(value)`` in ANF."""
        t = self.ctx.namer.fresh("t")
        return [g.copy_location(g.assign(t, g.clone(value)), at),
                g.copy_location(g.assign(target, g.call("fresh", g.name(t))), at)]

    def _sync(self, kind, binding, at):
        name = binding.targets[0].id
        value = binding.value
        if kind == "rederive":
            return self._copy(name, value, at)
        # write ``name`` back into the array it is a view of (a write, not a rebinding: the
        # base keeps its one definition)
        whole = g.Slice(lower=None, upper=None, step=None)
        if isinstance(value, g.Subscript):
            return [self._write(value.value.id, g.clone(value.slice), g.name(name), at)]
        if isinstance(value, g.Attribute):  # name = base.T: base[:] = name.T
            t = self.ctx.namer.fresh("t")
            transposed = g.Attribute(value=g.name(name), attr="T", ctx=g.Load())
            return [g.copy_location(g.assign(t, transposed), at),
                    self._write(value.value.id, whole, g.name(t), at)]
        return [self._write(value.id, whole, g.name(name), at)]  # name = base

    @staticmethod
    def _write(base, index, value, at):
        return g.copy_location(g.assign(g.subscript(g.name(base), index, store=True), value), at)
