"""Aliases: which names may share memory with an array that is written in place, and what each
write must do so that the program can be read with *value* semantics (an analysis; it never
changes the tree).

Takes an ANF body after inlining (user helpers are plain assignments by then), the local names,
the parameters, their kinds and the integer names. Python arrays are references: ``v = x``,
``v = x[1:3]``, ``v = x.T``, ``v = x.reshape(...)`` make ``v`` share ``x``'s memory, so a later
``x[0] = ...`` is seen through ``v`` and ``v[0] = ...`` through ``x``. Every later pass (activity,
SSA, tape planning, the adjoint rules, dead-code elimination) reasons about *names holding
values*. This analysis finds, per write, the names that may see it, and answers with a
:class:`ViewPlan`:

* ``copies`` — view bindings ``b = <view of a>`` in a group of names that is written somewhere:
  they become copies (``b = fresh(view)``), so no two names share memory any more;
* ``syncs`` — per write ``a[J] = v`` (by ``id``), the statements that restore what Python's
  sharing would have done, for every other name of the group *live* after the write: the
  write-back of ``a`` into the array it is a view of (``p[I] = a``), then a re-derivation of
  each live view (``b = fresh(p[I])``). A sync is only planned when the view's binding is the
  unique one reaching the write and its operands still hold the same values there;
* anything else the analysis cannot follow (a view made by ``reshape`` or ``ravel`` that may be a
  copy or not, a binding in another branch or iteration, a write into a module-level array, a
  view whose base is rebound) raises a located ``UnsupportedSyntaxError`` naming the other name.

It also answers the questions :class:`adjoint.transforms.views.SeparateViews` asks before
planning: which assignment of a name reaches a statement (``binding_at``), the number of
dimensions a name has there (``ndim_before``, from :class:`.ranks.Ranks`), and whether a call
writes into its argument (``check_calls``: ``x.sort()``, ``np.copyto``, ``ufunc.at`` are
refused). The method follows pythran's alias and argument-effect analyses in spirit: bindings
are classified once, groups of names that may share memory are a flow-insensitive union, and the
per-write questions are answered flow-sensitively (liveness, reaching bindings).

    row = W[0]                 t = W[0]; row = fresh(t)      (copies)
    row[1] = t                 row[1] = t; W[0] = row        (syncs: write back)
    s = np.sum(W)              s = np.sum(W)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .. import grammar as g
from ..errors import UnsupportedSyntaxError
from .activity import dotted_name, resolve
from .overlap import ValueOverlap
from .ranks import Ranks, index_parts, is_special

# Functions and methods whose result may share memory with their array argument. Whether
# reshape/ravel give a view depends on the memory layout, so a write through them cannot be
# followed: they are "opaque" views.
_VIEW_FUNCS = {id(f) for f in (
    np.reshape, np.ravel, np.transpose, np.swapaxes, np.moveaxis, np.squeeze, np.expand_dims,
    np.atleast_1d, np.atleast_2d, np.atleast_3d, np.asarray, np.asanyarray, np.broadcast_to,
    np.diagonal, np.flip, np.fliplr, np.flipud, np.rot90, np.real, np.imag, np.split,
    np.array_split, np.hsplit, np.vsplit, np.broadcast_arrays, np.ascontiguousarray,
    np.asfortranarray)}
_VIEW_METHODS = {"reshape", "ravel", "transpose", "squeeze", "swapaxes", "view", "diagonal",
                 "pop", "real", "imag"}
_VALUE_ATTRS = {"shape", "size", "ndim", "dtype", "itemsize", "nbytes"}
_RUNTIME_VIEWS = {"unbroadcast", "sum_to", "broadcast_like", "as_float", "reshape_like",
                  "keep_dims", "unreduce", "reshape_order", "permute", "unpermute", "unstack",
                  "flip_axis", "mT", "take_part"}
# Calls that write into an argument, and what to write instead.
_NEW_ARRAY = "compute a new array instead, or write elements with {x}[i] = v"
_MUTATING_METHODS = {
    "sort": "use np.sort({x}), which returns a sorted copy",
    "fill": "write {x}[:] = value",
    "put": "write {x}[indices] = values",
    "partition": "use np.partition({x}, k), which returns a copy",
    "resize": "use np.resize({x}, shape), which returns a new array",
    "itemset": "write {x}[index] = value",
    "setfield": _NEW_ARRAY,
    "byteswap": _NEW_ARRAY,
}
_MUTATING_FUNCS = {id(np.copyto): "write dst[:] = src", id(np.put): "write a[indices] = values",
                   id(np.place): "use np.where(mask, values, a)",
                   id(np.putmask): "use np.where(mask, values, a)",
                   id(np.fill_diagonal): "write a[i, i] = value in a loop",
                   id(np.put_along_axis): _NEW_ARRAY.format(x="a"),
                   id(np.random.shuffle): _NEW_ARRAY.format(x="a")}
@dataclass
class Binding:
    """How ``target = value`` relates ``target`` to other names' memory."""
    kind: str  # "identity" | "index" | "T" | "opaque" | "global" | "fresh" | "scalar"
    base: str | None = None  # the name viewed (identity, index, T, global)
    others: tuple = ()  # every local name whose memory the result may share (opaque)
    maybe_scalar: bool = False  # an index binding that may give a scalar (not a view)


@dataclass
class ViewPlan:
    copies: set = field(default_factory=set)  # ids of view bindings that become copies
    syncs: dict = field(default_factory=dict)  # id(write) -> [("writeback" | "rederive", B)]


class Aliases(ValueOverlap):
    def __init__(self, body, ctx, local_names, params, kinds=None, int_names=()):
        self.body = body
        self.ctx = ctx
        self.locals = set(local_names)
        self.params = list(params)
        self.parent = {}  # id(stmt) -> (block, index, owner statement or None)
        self._index(body, None)
        self.defs = {}  # name -> [assignments binding it]
        for stmt in self.statements(body):
            if isinstance(stmt, g.Assign) and isinstance(stmt.targets[0], g.Name):
                self.defs.setdefault(stmt.targets[0].id, []).append(stmt)
        self.ranks = Ranks(self.defs, ctx, local_names, params, kinds, int_names)

    # -- the tree ----------------------------------------------------------------------------
    def _index(self, block, owner):
        for k, stmt in enumerate(block):
            self.parent[id(stmt)] = (block, k, owner)
            if isinstance(stmt, g.If):
                self._index(stmt.body, stmt)
                self._index(stmt.orelse, stmt)
            elif isinstance(stmt, (g.For, g.While)):
                self._index(stmt.body, stmt)

    def statements(self, block):
        return g.statements(block)

    def check_calls(self):
        """Refuse calls that write into an array argument (``x.sort()``, ``np.copyto(x, v)``,
        ``np.add.at(x, i, v)``): no rule describes what they overwrite."""
        for stmt in self.statements(self.body):
            if not isinstance(stmt, g.Assign) or not isinstance(stmt.value, g.Call):
                continue
            call = stmt.value
            func = call.func
            if isinstance(func, g.Attribute) and isinstance(func.value, g.Name) and \
                    func.value.id in self.locals and func.attr in _MUTATING_METHODS:
                x = func.value.id
                raise self.refuse(stmt, f"{x}.{func.attr}() changes {x} in place",
                                   _MUTATING_METHODS[func.attr].format(x=x))
            found, obj = resolve(func, self.ctx)
            if not found:
                continue
            ufunc_at = getattr(obj, "__name__", None) == "at" and isinstance(
                getattr(obj, "__self__", None), np.ufunc)
            hint = _MUTATING_FUNCS.get(id(obj)) or (
                "accumulate with subscript writes in a loop: x[i] = x[i] + v" if ufunc_at
                else None)
            if hint is not None:
                what = f"{obj.__self__.__name__}.at" if ufunc_at else obj.__name__
                raise self.refuse(stmt, f"{what}(...) changes its first argument in place",
                                   hint)

    def writes(self):
        return [s for s in self.statements(self.body) if isinstance(s, g.Assign)
                and isinstance(s.targets[0], g.Subscript)]

    # -- what a binding makes ----------------------------------------------------------------
    def binding(self, stmt):
        value = stmt.value
        if isinstance(value, g.Name):
            if value.id in self.locals:
                return Binding("identity", value.id)
            return Binding("global", value.id) if self._is_array_global(value.id) else \
                Binding("fresh")
        if isinstance(value, g.Subscript) and isinstance(value.value, g.Name):
            base = value.value.id
            if base not in self.locals:
                return Binding("global", base) if self._is_array_global(base) else \
                    Binding("fresh")
            if any(self._is_list(p) for p in index_parts(value.slice)):
                return Binding("fresh")  # x[[1, 0]]: advanced indexing copies
            scalar = self._scalar_index(base, value.slice, stmt)
            if scalar is True:
                return Binding("scalar")
            if not self.ranks.basic(value.slice):
                return Binding("opaque", base, (base,))  # maybe fancy (a copy), maybe a view
            return Binding("index", base, maybe_scalar=scalar is None)
        if isinstance(value, g.Attribute) and isinstance(value.value, g.Name) and \
                value.value.id in self.locals:
            if value.attr == "T":
                return Binding("T", value.value.id)
            if value.attr in _VALUE_ATTRS:
                return Binding("fresh")
            return Binding("opaque", value.value.id, (value.value.id,))
        if isinstance(value, (g.List, g.Tuple)):
            names = tuple(n for n in g.names_in(value) if n in self.locals)
            return Binding("opaque", None, names) if names else Binding("fresh")
        if isinstance(value, g.Call):
            return self._call_binding(value)
        return Binding("fresh")

    def _call_binding(self, call):
        args = list(call.args) + [k.value for k in call.keywords]
        names = tuple(n for a in args for n in g.names_in(a) if n in self.locals)
        opaque = Binding("opaque", None, names) if names else Binding("fresh")
        func = call.func
        if isinstance(func, g.Attribute) and isinstance(func.value, g.Name) and \
                func.value.id in self.locals:
            if func.attr in _VIEW_METHODS:
                return Binding("opaque", func.value.id, (func.value.id,) + names)
            return Binding("fresh")  # x.copy(), x.sum(), x.astype(...): new arrays
        found, obj = resolve(func, self.ctx)
        if not found or id(obj) in _VIEW_FUNCS:
            return opaque
        if getattr(obj, "__module__", None) == "adjoint.runtime":
            # helpers of generated code: some return their first argument or a view of it (the
            # others only give a shape or an axis)
            if obj.__name__ not in _RUNTIME_VIEWS or not call.args:
                return Binding("fresh")
            first = tuple(n for n in g.names_in(call.args[0]) if n in self.locals)
            return Binding("opaque", None, first) if first else Binding("fresh")
        from ..rules import registry
        rule = registry.lookup(obj)
        if rule is None or rule.name.endswith("stop_gradient"):
            return opaque  # an unknown function may return its argument
        return Binding("fresh")

    def _is_list(self, part):
        """Whether an index part is a list (``[1, 0]``, or a name only ever bound to one)."""
        if isinstance(part, g.Name) and part.id in self.defs:
            return all(isinstance(d.value, g.List) for d in self.defs[part.id])
        return isinstance(part, g.List)

    def _is_array_global(self, name):
        found, obj = self.ctx.lookup(name)
        return found and isinstance(obj, np.ndarray)

    def _scalar_index(self, base, index, stmt):
        """True if ``base[index]`` (read by ``stmt``) is certainly a scalar, False if certainly
        an array, None if the dimensions ``base`` has there are not known."""
        parts = index_parts(index)
        if any(isinstance(p, g.Slice) or is_special(p) for p in parts):
            return False
        ndim = self.ndim_before(base, stmt)  # where it is read: a may be rebound later
        return None if ndim is None else len(parts) >= ndim

    def ndim_before(self, name, stmt):
        """The number of dimensions of the value ``name`` holds when ``stmt`` runs."""
        b = self.binding_at(name, stmt)
        if b is self.ROOT:
            return self.ranks.param(name)
        dim = self.ranks.of(b.value) if b is not None else None
        return self.ranks.ndim(name) if dim is None else dim

    # -- groups of names that may share memory (flow-insensitive) ------------------------------
    def groups(self):
        parent = {}

        def find(n):
            parent.setdefault(n, n)
            while parent[n] != n:
                parent[n] = parent[parent[n]]
                n = parent[n]
            return n

        for name, stmts in self.defs.items():
            for stmt in stmts:
                b = self.binding(stmt)
                for other in self._shared(b):
                    parent[find(name)] = find(other)
        for stmt in self.statements(self.body):
            if isinstance(stmt, g.Expr) and isinstance(stmt.value, g.Call):
                func = stmt.value.func  # lst.append(a): the list holds a
                if isinstance(func, g.Attribute) and isinstance(func.value, g.Name):
                    for n in g.names_in(stmt.value):
                        if n in self.locals:
                            parent[find(n)] = find(func.value.id)
        return find

    def members(self, find):
        """group -> the names in it"""
        out = {}
        for name in set(self.defs) | set(self.params):
            out.setdefault(find(name), set()).add(name)
        return out

    def _shared(self, b):
        if b.kind in ("identity", "index", "T"):
            return [b.base]
        if b.kind == "opaque":
            return list(b.others)
        return []

    # -- liveness (names read later, in program order or by a later iteration) ---------------
    def live_after(self):
        """id(assignment) -> the names read after it (later, or by a later iteration)."""
        self._live = {}
        self._live_block(self.body, set())
        return self._live

    def _live_block(self, block, live):
        live = set(live)
        for stmt in reversed(block):
            live = self._live_stmt(stmt, live)
        return live

    def _live_stmt(self, stmt, live):
        if isinstance(stmt, g.Assign):
            target = stmt.targets[0]
            self._live[id(stmt)] = set(live)
            if isinstance(target, g.Name):
                return (live - {target.id}) | set(g.names_in(stmt.value, g.Load))
            return live | set(g.names_in(stmt, g.Load)) | {target.value.id}
        if isinstance(stmt, g.If):
            return set(g.names_in(stmt.test, g.Load)) | self._live_block(stmt.body, live) | \
                self._live_block(stmt.orelse, live)
        if isinstance(stmt, (g.For, g.While)):
            head = set(live)
            if isinstance(stmt, g.While):
                head |= set(g.names_in(stmt.test, g.Load))
            for _ in range(100):
                inner = self._live_block(stmt.body, head)
                if isinstance(stmt, g.For):
                    inner = inner - {stmt.target.id}
                new = head | inner
                if new == head:
                    break
                head = new
            if isinstance(stmt, g.For):
                return head | set(g.names_in(stmt.iter, g.Load))
            return head
        return live | set(g.names_in(stmt, g.Load))

    # -- the binding of a name that reaches a statement --------------------------------------
    def path(self, stmt):
        """[(block, index, owner)] from the statement's own block out to the function body."""
        out = []
        node = stmt
        while True:
            block, k, owner = self.parent[id(node)]
            out.append((block, k, owner))
            if owner is None:
                return out
            node = owner

    ROOT = "root"  # the name is not assigned on any path to the statement (a parameter)

    def binding_at(self, name, stmt):
        """The one assignment of ``name`` that reaches ``stmt`` (ROOT if none does), or None
        when several may (branches, earlier iterations)."""
        for block, k, owner in self.path(stmt):
            for prev in reversed(block[:k]):
                if isinstance(prev, g.Assign) and isinstance(prev.targets[0], g.Name) and \
                        prev.targets[0].id == name:
                    return prev
                if name in g.assigned_names([prev]):
                    return None
            if isinstance(owner, (g.For, g.While)) and name in g.assigned_names([owner]):
                return None
        return self.ROOT

    def stable(self, binding, stmt):
        """Whether the names ``binding`` reads hold the same values at ``stmt`` (``binding``
        being the assignment :meth:`binding_at` found for ``stmt``)."""
        reads = set(g.names_in(binding.value, g.Load)) & self.locals
        return not reads & self._assigned_between(binding, stmt)

    def _assigned_between(self, first, last):
        """Names that statements running after ``first`` and before ``last`` may assign
        (``first`` precedes ``last`` in a block on ``last``'s path)."""
        names = set()
        for block, k, owner in self.path(last):
            if any(s is first for s in block[:k]):
                start = next(i for i, s in enumerate(block) if s is first)
                return names | g.assigned_names(block[start + 1:k])
            names |= g.assigned_names(block if isinstance(owner, (g.For, g.While))
                                      else block[:k])
            if isinstance(owner, g.For):
                names.add(owner.target.id)
        return names

    def lineage(self, name, stmt):
        """[(name, binding)] from ``name`` up to the array it views, at ``stmt``; the last
        entry's binding is ROOT or not a view. None where a link cannot be followed."""
        out = []
        seen = set()
        while name not in seen:
            seen.add(name)
            b = self.binding_at(name, stmt)
            if b is None:
                return None
            if b is self.ROOT:
                out.append((name, b, None))
                return out
            kind = self.binding(b)
            out.append((name, b, kind))
            if kind.kind in ("identity", "index", "T"):
                if not self.stable(b, stmt):
                    return None
                name = kind.base
                continue
            if kind.kind in ("opaque",):
                return None
            return out  # global, fresh, scalar: the end of the chain
        return None

    def sharers(self, a, stmt, names):
        """The names among ``names`` that share the memory ``a`` holds when ``stmt`` runs,
        or None when that cannot be told."""
        up = self.lineage(a, stmt)
        if up is None:
            return None
        out = []
        for name in names:
            chain = self.lineage(name, stmt)
            if chain is None:
                return None
            if chain[-1][0] == up[-1][0]:
                out.append(name)
        return out

    # -- the plan ------------------------------------------------------------------------------
    def plan(self):
        plan = ViewPlan()
        writes = self.writes()
        if not writes:
            return plan
        find = self.groups()
        written_roots = {find(w.targets[0].value.id) for w in writes}
        for name, stmts in self.defs.items():
            if find(name) not in written_roots:
                continue
            for stmt in stmts:
                if self.binding(stmt).kind in ("identity", "index", "T", "opaque") and \
                        not isinstance(stmt.value, (g.List, g.Tuple)):
                    plan.copies.add(id(stmt))
        for w in writes:
            self._check_value(w, find)
        live = self.live_after()
        members = self.members(find)
        for w in writes:
            a = w.targets[0].value.id
            observers = sorted((live[id(w)] & members.get(find(a), set())) - {a})
            plan.syncs[id(w)] = self._syncs(w, a, observers)
        return plan

    def _syncs(self, w, a, observers):
        up = self.lineage(a, w)
        if up is not None and (up[-1][0] not in self.locals or up[-1][2] is not None and
                               up[-1][2].kind == "global"):
            base = up[-1][2].base if up[-1][2] is not None else up[-1][0]
            raise self.refuse(w, f"this writes into the module-level array {base}",
                               f"write into a copy: v = {base}.copy()")
        if not observers:
            return []
        if up is None:
            raise self.refuse(w, f"{a} may share memory with {observers[0]}, which is read "
                               f"later, and adjoint cannot tell how ({a} is bound in several "
                               "places, its base is rebound, or it comes from reshape, ravel "
                               "or a list)", f"write into an explicit copy ({a} = "
                               f"{observers[0]}.copy()) or through {observers[0]} itself")
        ancestors = [n for n, _, _ in up]
        top = 0  # write a back into this many of its ancestors
        rederive = []  # view bindings to evaluate again, parents first
        for obs in observers:
            chain = self.lineage(obs, w)
            if chain is None:
                raise self.refuse(w, f"{obs} may share memory with {a} and is read after "
                                   "this write, but adjoint cannot follow how it was made",
                                   f"make {obs} a copy (.copy()) or read {a} instead")
            if chain[-1][0] != ancestors[-1]:
                continue  # a view of another array
            names = [n for n, _, _ in chain]
            j = next(i for i, n in enumerate(names) if n in ancestors)
            top = max(top, ancestors.index(names[j]))
            for n, b, kind in chain[:j]:
                # obs holds the value of n (through plain aliases and .T): if n = base[i]
                # may be a number, that number was read before this write
                if kind.kind == "index" and kind.maybe_scalar:
                    raise self.refuse(w, f"cannot tell whether {n} (line {self._line(b)}) "
                                       f"is a view of {kind.base} that sees this write or a "
                                       "number", f"make {n} a copy where it is taken "
                                       f"(.copy()) if it keeps its values, or index "
                                       f"{kind.base} again after the write")
                if kind.kind not in ("identity", "T"):
                    break
            for _, b, _ in reversed(chain[:j]):
                if all(b is not r for r in rederive):
                    rederive.append(b)
        return [("writeback", up[k][1]) for k in range(top)] + \
            [("rederive", b) for b in rederive]

    def _line(self, node):
        info = getattr(node, "adjoint_origin", None) or self.ctx.info
        return getattr(node, "lineno", 0) + info.line_offset

    def refuse(self, node, message, hint):
        return self.ctx.error(UnsupportedSyntaxError, f"in-place write: {message}", node, hint)


def may_return_view(call):
    """Whether the result of ``call`` (a node of generated code, whose names are not resolved:
    ``np.flip(d)``, ``flip_axis(d, 0)``, ``d.reshape(...)``) may share memory with one of its
    arguments, so that writing into the result in place would write into the argument too."""
    name = dotted_name(call.func)
    if name is None:
        return True
    if name in _RUNTIME_VIEWS:
        return True
    head, _, attr = name.rpartition(".")
    if head in ("np", "numpy", "np.linalg"):
        return id(getattr(np, attr, None)) in _VIEW_FUNCS
    return bool(head) and attr in _VIEW_METHODS
