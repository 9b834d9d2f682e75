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

Plain aliases ``b = a`` whose two names keep their objects are listed in ``renames`` instead: the
transform substitutes ``a`` for ``b`` and the alias disappears at no cost.

    v = x                      (renamed: v -> x)
    v[0] = t                   x[0] = t

    row = W[0]                 t = W[0]; row = fresh(t)
    row[1] = t                 row[1] = t; W[0] = row
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .. import grammar as g
from ..errors import UnsupportedSyntaxError
from .activity import resolve

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
_VIEW_ATTRS = {"real", "imag", "flat"}
_VALUE_ATTRS = {"shape", "size", "ndim", "dtype", "itemsize", "nbytes"}
_ALLOCATORS = {id(f) for f in (np.zeros, np.ones, np.empty, np.full)}
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
# What the number of dimensions of a result is, where the analysis needs to know whether
# ``a[i]`` is a number or a view.
_SAME_NDIM = {id(f) for f in (np.zeros_like, np.ones_like, np.empty_like, np.full_like,
                              np.copy, np.array, np.asarray)}
_VECTORS = {id(f) for f in (np.arange, np.linspace)}
# adjoint.runtime helpers (met again in generated code taken to a higher order) whose result
# has the shape of one argument: its position
_RUNTIME_LIKE = {"fresh": 0, "zeros_like": 0, "as_float": 0, "add_at": 0, "unbroadcast": 1,
                 "broadcast_like": 1, "unreduce": 1, "centered": 0, "matmul_vjp_a": 1,
                 "matmul_vjp_b": 2, "dot_vjp_a": 1, "dot_vjp_b": 2, "inner_vjp_a": 1,
                 "inner_vjp_b": 2, "tensordot_vjp_a": 1, "tensordot_vjp_b": 2}
_PRODUCTS = {id(f) for f in (np.dot, np.matmul)}
_REDUCTIONS = {id(f) for f in (np.sum, np.mean, np.prod, np.max, np.min, np.std, np.var,
                               np.amax, np.amin)}


_CYCLE = object()  # a definition that depends on the name itself


def _matmul_ndim(a, b):
    if a is None or b is None or a is _CYCLE or b is _CYCLE or a == 0 or b == 0:
        return None
    return a + b - 2


@dataclass
class Binding:
    """How ``target = value`` relates ``target`` to other names' memory."""
    kind: str  # "identity" | "index" | "T" | "opaque" | "global" | "fresh" | "scalar"
    base: str | None = None  # the name viewed (identity, index, T, global)
    others: tuple = ()  # every local name whose memory the result may share (opaque)
    maybe_scalar: bool = False  # an index binding that may give a scalar (not a view)


@dataclass
class ViewPlan:
    renames: dict = field(default_factory=dict)  # alias -> name (plain aliases to substitute)
    copies: set = field(default_factory=set)  # ids of view bindings that become copies
    syncs: dict = field(default_factory=dict)  # id(write) -> [("writeback" | "rederive", B)]
    written: bool = False  # whether any array is written in place at all


def _special(part):
    """``...`` or ``None`` (np.newaxis) in an index."""
    return isinstance(part, g.Constant) and (part.value is Ellipsis or part.value is None)


def _index_parts(index):
    return index.elts if isinstance(index, g.Tuple) else [index]


class Aliases:
    def __init__(self, body, ctx, local_names, params, kinds=None, int_names=()):
        self.body = body
        self.ctx = ctx
        self.locals = set(local_names)
        self.params = list(params)
        self.kinds = dict(zip(params, kinds)) if kinds else {}
        self.ints = set(int_names)
        self.parent = {}  # id(stmt) -> (block, index, owner statement or None)
        self._index(body, None)
        self.defs = {}  # name -> [assignments binding it]
        for stmt in self._statements(body):
            if isinstance(stmt, g.Assign) and isinstance(stmt.targets[0], g.Name):
                self.defs.setdefault(stmt.targets[0].id, []).append(stmt)

    # -- the tree ----------------------------------------------------------------------------
    def _index(self, block, owner):
        for k, stmt in enumerate(block):
            self.parent[id(stmt)] = (block, k, owner)
            if isinstance(stmt, g.If):
                self._index(stmt.body, stmt)
                self._index(stmt.orelse, stmt)
            elif isinstance(stmt, (g.For, g.While)):
                self._index(stmt.body, stmt)

    def _statements(self, block):
        for stmt in block:
            yield stmt
            if isinstance(stmt, g.If):
                yield from self._statements(stmt.body)
                yield from self._statements(stmt.orelse)
            elif isinstance(stmt, (g.For, g.While)):
                yield from self._statements(stmt.body)

    def check_calls(self):
        """Refuse calls that write into an array argument (``x.sort()``, ``np.copyto(x, v)``,
        ``np.add.at(x, i, v)``): no rule describes what they overwrite."""
        for stmt in self._statements(self.body):
            if not isinstance(stmt, g.Assign) or not isinstance(stmt.value, g.Call):
                continue
            call = stmt.value
            func = call.func
            if isinstance(func, g.Attribute) and isinstance(func.value, g.Name) and \
                    func.value.id in self.locals and func.attr in _MUTATING_METHODS:
                x = func.value.id
                raise self._refuse(stmt, f"{x}.{func.attr}() changes {x} in place",
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
                raise self._refuse(stmt, f"{what}(...) changes its first argument in place",
                                   hint)

    def writes(self):
        return [s for s in self._statements(self.body) if isinstance(s, g.Assign)
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
            scalar = self._scalar_index(base, value.slice)
            if scalar is True:
                return Binding("scalar")
            if not self._basic(value.slice):
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
        args = [a for a in list(call.args) + [k.value for k in call.keywords]]
        names = tuple(n for a in args for n in g.names_in(a) if n in self.locals)
        func = call.func
        if isinstance(func, g.Attribute) and isinstance(func.value, g.Name) and \
                func.value.id in self.locals:
            if func.attr in _VIEW_METHODS:
                return Binding("opaque", func.value.id, (func.value.id,) + names)
            return Binding("fresh")  # x.copy(), x.sum(), x.astype(...): new arrays
        found, obj = resolve(func, self.ctx)
        if not found:
            return Binding("opaque", None, names) if names else Binding("fresh")
        from ..rules import registry
        if id(obj) in _VIEW_FUNCS:
            return Binding("opaque", None, names) if names else Binding("fresh")
        rule = registry.lookup(obj)
        if rule is not None and not (rule.nondiff and names):
            return Binding("fresh")
        if rule is not None and rule.name.endswith("stop_gradient"):
            return Binding("opaque", None, names)
        if rule is not None or id(obj) in _ALLOCATORS:
            return Binding("fresh")
        if getattr(obj, "__module__", "") == "adjoint.runtime" and obj.__name__ == "fresh":
            return Binding("fresh")
        return Binding("opaque", None, names) if names else Binding("fresh")

    def _is_array_global(self, name):
        found, obj = self.ctx.lookup(name)
        return found and isinstance(obj, np.ndarray)

    def _basic(self, index):
        for p in _index_parts(index):
            if isinstance(p, g.Name) and p.id not in self.ints:
                return False
            if isinstance(p, (g.List, g.Tuple)):
                return False
        return True

    def _scalar_index(self, base, index):
        """True if ``base[index]`` is certainly a scalar, False if certainly an array, None if
        the dimensions of ``base`` are not known."""
        parts = _index_parts(index)
        if any(isinstance(p, g.Slice) or _special(p)
               for p in parts):
            return False
        ndim = self.ndim(base)
        if ndim is None:
            return None
        return len(parts) >= ndim

    def ndim(self, name):
        """The number of dimensions of ``name`` on every path, or None if not known."""
        dim = self._ndim(name, ())
        return None if dim is _CYCLE else dim

    def ndim_before(self, name, stmt):
        """The number of dimensions of the value ``name`` holds when ``stmt`` runs."""
        b = self.binding_at(name, stmt)
        if b is self.ROOT:
            return self._kind_ndim(name)
        dim = self._ndim_of(b.value, ()) if b is not None else None
        return self.ndim(name) if dim is None or dim is _CYCLE else dim

    def _global_ndim(self, name):
        found, obj = self.ctx.lookup(name)
        if found and isinstance(obj, (int, float, np.number)):
            return 0
        return obj.ndim if found and isinstance(obj, np.ndarray) else None

    def _kind_ndim(self, name):
        kind = self.kinds.get(name)
        return 0 if kind == "scalar" else kind if isinstance(kind, int) else None

    def _ndim(self, name, seen):
        if name in seen:
            return _CYCLE  # x = x + 1: the other definitions decide
        dims = {self._ndim_of(stmt.value, seen + (name,)) for stmt in self.defs.get(name, [])}
        if name in self.params:
            dims.add(self._kind_ndim(name))
        dims.discard(_CYCLE)
        if not dims:
            return _CYCLE if seen else None
        return dims.pop() if len(dims) == 1 else None

    def _join(self, dims):
        dims = [d for d in dims if d is not _CYCLE]
        if not dims:
            return _CYCLE
        return None if None in dims else max(dims)

    def _ndim_of(self, value, seen):
        if isinstance(value, g.Name):
            return self._ndim(value.id, seen) if value.id in self.locals else \
                self._global_ndim(value.id)
        if isinstance(value, g.Attribute) and value.attr == "T" and isinstance(
                value.value, g.Name):
            return self._ndim(value.value.id, seen)
        if isinstance(value, g.Subscript) and isinstance(value.value, g.Name):
            parts = _index_parts(value.slice)
            if not self._basic(value.slice) or any(_special(p) for p in parts):
                return None
            base = self._ndim(value.value.id, seen) if value.value.id in self.locals else \
                self._global_ndim(value.value.id)
            if base is None or base is _CYCLE:
                return base
            return base - sum(not isinstance(p, g.Slice) for p in parts)
        if isinstance(value, g.Constant):
            return 0 if isinstance(value.value, (int, float, bool)) else None
        if isinstance(value, g.BinOp) and isinstance(value.op, g.MatMult):
            return _matmul_ndim(self._ndim_of(value.left, seen),
                                self._ndim_of(value.right, seen))
        if isinstance(value, (g.BinOp, g.UnaryOp)):
            operands = [value.left, value.right] if isinstance(value, g.BinOp) else \
                [value.operand]
            return self._join([self._ndim_of(o, seen) for o in operands])
        if isinstance(value, g.Call) and isinstance(value.func, g.Attribute) and \
                value.func.attr == "copy" and isinstance(value.func.value, g.Name) and \
                not value.args:
            return self._ndim_of(value.func.value, seen)
        if isinstance(value, g.Call) and value.args:
            found, obj = resolve(value.func, self.ctx)
            if found and getattr(obj, "__module__", None) == "math":
                return 0
            if found and isinstance(obj, np.ufunc) and not value.keywords:
                return self._join([self._ndim_of(o, seen) for o in value.args])
            if found and id(obj) in _ALLOCATORS:
                shape = value.args[0]
                if isinstance(shape, (g.Tuple, g.List)):
                    return len(shape.elts)
                if g.is_const(shape) or isinstance(shape, g.Name) and shape.id in self.ints:
                    return 1
            if found and id(obj) in _SAME_NDIM:
                return self._ndim_of(value.args[0], seen)
            like = _RUNTIME_LIKE.get(getattr(obj, "__name__", None)) if getattr(
                obj, "__module__", None) == "adjoint.runtime" else None
            if like is not None and len(value.args) > like:
                return self._ndim_of(value.args[like], seen)
            if found and id(obj) in _VECTORS:
                return 1
            if found and id(obj) in _PRODUCTS and len(value.args) == 2:
                return _matmul_ndim(*[self._ndim_of(a, seen) for a in value.args])
            if found and id(obj) in _REDUCTIONS and len(value.args) == 1 and not \
                    value.keywords:
                return 0
        return None

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
        for stmt in self._statements(self.body):
            if isinstance(stmt, g.Expr) and isinstance(stmt.value, g.Call):
                func = stmt.value.func  # lst.append(a): the list holds a
                if isinstance(func, g.Attribute) and isinstance(func.value, g.Name):
                    for n in g.names_in(stmt.value):
                        if n in self.locals:
                            parent[find(n)] = find(func.value.id)
        return find

    def _shared(self, b):
        if b.kind in ("identity", "index", "T"):
            return [b.base]
        if b.kind == "opaque":
            return list(b.others)
        return []

    # -- liveness (names read later, in program order or by a later iteration) ---------------
    def live_after_writes(self):
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
            if isinstance(target, g.Name):
                return (live - {target.id}) | set(g.names_in(stmt.value, g.Load))
            self._live[id(stmt)] = set(live)
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
    def _path(self, stmt):
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
        for block, k, owner in self._path(stmt):
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
        """Whether the names ``binding`` reads hold the same values at ``stmt``."""
        reads = set(g.names_in(binding.value, g.Load)) & self.locals
        if not reads:
            return True
        return all(self.binding_at(n, stmt) is self.binding_at(n, binding) for n in reads)

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

    # -- the plan ------------------------------------------------------------------------------
    def plan(self):
        plan = ViewPlan()
        writes = self.writes()
        plan.written = bool(writes)
        if not writes:
            return plan
        find = self.groups()
        written_roots = {find(w.targets[0].value.id) for w in writes}
        for name, stmts in self.defs.items():
            if find(name) not in written_roots:
                continue
            for stmt in stmts:
                if self.binding(stmt).kind in ("identity", "index", "T", "opaque"):
                    plan.copies.add(id(stmt))
        live = self.live_after_writes()
        members = {}
        for name in set(self.defs) | set(self.params):
            members.setdefault(find(name), set()).add(name)
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
            raise self._refuse(w, f"this writes into the module-level array {base}",
                               f"write into a copy: v = {base}.copy()")
        if not observers:
            return []
        if up is None:
            raise self._refuse(w, f"{a} may share memory with {observers[0]}, which is read "
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
                raise self._refuse(w, f"{obs} may share memory with {a} and is read after "
                                   "this write, but adjoint cannot follow how it was made",
                                   f"make {obs} a copy (.copy()) or read {a} instead")
            if chain[-1][0] != ancestors[-1]:
                continue  # a view of another array
            names = [n for n, _, _ in chain]
            j = next(i for i, n in enumerate(names) if n in ancestors)
            top = max(top, ancestors.index(names[j]))
            for n, b, kind in reversed(chain[:j]):
                if kind.kind == "index" and kind.maybe_scalar:
                    raise self._refuse(w, f"cannot tell whether {n} (line {self._line(b)}) "
                                       f"is a view of {kind.base} that sees this write or a "
                                       "number", f"make {n} a copy where it is taken "
                                       f"(.copy()) if it keeps its values, or index "
                                       f"{kind.base} again after the write")
                if all(b is not r for r in rederive):
                    rederive.append(b)
        return [("writeback", up[k][1]) for k in range(top)] + \
            [("rederive", b) for b in rederive]

    def _line(self, node):
        info = getattr(node, "adjoint_origin", None) or self.ctx.info
        return getattr(node, "lineno", 0) + info.line_offset

    def _refuse(self, node, message, hint):
        return self.ctx.error(UnsupportedSyntaxError, f"in-place write: {message}", node, hint)
