"""Ranks: the number of dimensions of the values names hold, where it can be known (an
analysis; it never changes the tree).

Takes an ANF body, the local names, the parameters and their kinds (``"scalar"`` or an array's
ndim), the integer names and the context (to resolve calls and module-level values). Answers
``ndim(name)`` — the number of dimensions on every path, or None — and ``of(expr)`` for one
right-hand side. The alias analysis asks it whether ``a[i]`` is a number (a copy) or a row (a
view of ``a``), and whether ``x += v`` updates an array in place or rebinds a number.

    x: kind 2                  ndim(x) = 2
    row = x[0]                 ndim(row) = 1
    s = row[1] * 2.0           ndim(s) = 0
    y = np.zeros((3, 4))       ndim(y) = 2
"""

from __future__ import annotations

import numpy as np

from .. import grammar as g
from .activity import resolve

_ALLOCATORS = {id(f) for f in (np.zeros, np.ones, np.empty, np.full)}
_SAME_NDIM = {id(f) for f in (np.zeros_like, np.ones_like, np.empty_like, np.full_like,
                              np.copy, np.array, np.asarray)}
# ... called without keywords (np.sort(x, axis=None) is flat)
_SAME_NDIM_PLAIN = {id(f) for f in (np.roll, np.sort, np.flip, np.round, np.transpose,
                                    np.diff)}
_FLAT = {id(f) for f in (np.cumsum, np.cumprod)}  # without an axis
_MATRICES = {id(f) for f in (np.outer, np.eye)}
_VECTORS = {id(f) for f in (np.arange, np.linspace)}
_PRODUCTS = {id(f) for f in (np.dot, np.matmul)}
_REDUCTIONS = {id(f) for f in (np.sum, np.mean, np.prod, np.max, np.min, np.std, np.var,
                               np.amax, np.amin, np.trace, np.linalg.norm, np.linalg.det,
                               np.vdot, np.argmax, np.argmin)}
# ... over one axis: np.sum(x, axis=k) has one dimension fewer than x (as many with keepdims)
_AXIS_REDUCTIONS = {id(f) for f in (np.sum, np.mean, np.prod, np.max, np.min, np.std, np.var,
                                    np.amax, np.amin, np.argmax, np.argmin)}
_NUMBERS = {id(f) for f in (float, int, len, bool, round)}
# adjoint.runtime helpers (met again in generated code taken to a higher order) whose result
# has the shape of one argument: its position
_RUNTIME_LIKE = {"fresh": 0, "zeros_like": 0, "as_float": 0, "add_at": 0, "unbroadcast": 1,
                 "sum_to": 1, "broadcast_like": 1, "unreduce": 1, "centered": 0, "matmul_vjp_a": 1,
                 "matmul_vjp_b": 2, "dot_vjp_a": 1, "dot_vjp_b": 2, "inner_vjp_a": 1,
                 "inner_vjp_b": 2, "tensordot_vjp_a": 1, "tensordot_vjp_b": 2}
# adjoint.runtime helpers that return a number (trip counts of generated loops)
_RUNTIME_NUMBERS = {"range_len", "reduced_count"}
_BOTTOM = object()  # no information yet (the fixpoint starts there)


def _known(dim):
    return None if dim is _BOTTOM else dim


def index_parts(index):
    return index.elts if isinstance(index, g.Tuple) else [index]


def is_special(part):
    """``...`` or ``None`` (np.newaxis) in an index."""
    return isinstance(part, g.Constant) and (part.value is Ellipsis or part.value is None)


def _counters(defs, params):
    """Names every assignment of which gives an integer from integer constants and such names
    (``k = 0``, ``k = k + 1``): the greatest such set, which also takes in counters the
    conservative ``int_names`` leaves out. Parameters are left out (the caller gives them)."""
    def is_int(e, ints):
        if isinstance(e, g.Constant):
            return type(e.value) is int
        if isinstance(e, g.Name):
            return e.id in ints
        if isinstance(e, g.BinOp) and isinstance(e.op, (g.Add, g.Sub, g.Mult, g.FloorDiv,
                                                        g.Mod)):
            return is_int(e.left, ints) and is_int(e.right, ints)
        return isinstance(e, g.UnaryOp) and isinstance(e.op, g.USub) and is_int(e.operand,
                                                                                ints)

    ints = {name for name in defs if name not in params}
    changed = True
    while changed:
        changed = False
        for name in sorted(ints):
            if not all(is_int(stmt.value, ints) for stmt in defs[name]):
                ints.discard(name)
                changed = True
    return ints


class Ranks:
    """An optimistic fixpoint over the definitions, like :class:`.shapes.Shapes`: every name
    starts unknown-yet (BOTTOM) and rises to a number of dimensions, or to None when its
    definitions disagree or one cannot be told."""

    def __init__(self, defs, ctx, local_names, params, kinds=None, int_names=()):
        self.defs = defs  # name -> [assignments binding it]
        self.ctx = ctx
        self.locals = set(local_names)
        self.params = list(params)
        self.kinds = dict(zip(params, kinds)) if kinds else {}
        self.ints = set(int_names) | _counters(defs, self.params)
        self.rank = {name: _BOTTOM for name in defs}
        for _ in range(50):
            changed = False
            for name, stmts in defs.items():
                dims = {self._of(stmt.value) for stmt in stmts}
                if name in self.params:
                    dims.add(self.param(name))
                dims.discard(_BOTTOM)
                new = _BOTTOM if not dims else dims.pop() if len(dims) == 1 else None
                if new != self.rank[name]:
                    self.rank[name] = new
                    changed = True
            if not changed:
                break

    @classmethod
    def of_body(cls, body, ctx, params, kinds, int_names=()):
        """The ranks of every name a whole function body binds (generated code included). A
        name some ``x op= v`` rebinds is left unknown: a number may become an array there."""
        defs = {}
        for stmt in g.statements(body):
            if isinstance(stmt, g.Assign) and isinstance(stmt.targets[0], g.Name):
                defs.setdefault(stmt.targets[0].id, []).append(stmt)
            elif isinstance(stmt, g.AugAssign) and isinstance(stmt.target, g.Name):
                defs.setdefault(stmt.target.id, []).append(g.assign(stmt.target.id,
                                                                    g.const(None)))
        return cls(defs, ctx, g.assigned_names(body) | set(params), params, kinds, int_names)

    def ndim(self, name):
        """The number of dimensions of ``name`` on every path, or None if not known."""
        return _known(self._ndim(name))

    def of(self, value):
        """The number of dimensions of the right-hand side ``value``, or None."""
        return _known(self._of(value))

    def param(self, name):
        kind = self.kinds.get(name)
        return 0 if kind == "scalar" else kind if isinstance(kind, int) else None

    def basic(self, index):
        """Whether ``index`` is certainly basic indexing (no integer arrays, no lists)."""
        for p in index_parts(index):
            if isinstance(p, g.Name) and p.id not in self.ints:
                return False
            if isinstance(p, (g.List, g.Tuple)):
                return False
        return True

    def _ndim(self, name):
        if name not in self.locals:
            return self._global(name)
        if name in self.rank:
            return self.rank[name]
        if name in self.params:
            return self.param(name)
        return 0 if name in self.ints else None  # a loop counter

    def _global(self, name):
        found, obj = self.ctx.lookup(name)
        if found and isinstance(obj, (int, float, np.number)):
            return 0
        return obj.ndim if found and isinstance(obj, np.ndarray) else None

    @staticmethod
    def _join(dims):
        """Broadcasting: the largest."""
        if _BOTTOM in dims:
            return _BOTTOM
        return None if None in dims else max(dims)

    @staticmethod
    def _matmul(a, b):
        if a is _BOTTOM or b is _BOTTOM:
            return _BOTTOM
        if a is None or b is None or a == 0 or b == 0:
            return None
        return a + b - 2

    def _of(self, value):
        if isinstance(value, g.Name):
            return self._ndim(value.id)
        if isinstance(value, g.Constant):
            return 0 if isinstance(value.value, (int, float, bool)) else None
        if isinstance(value, g.Attribute) and value.attr == "T" and isinstance(
                value.value, g.Name):
            return self._ndim(value.value.id)
        if isinstance(value, g.Subscript) and isinstance(value.value, g.Name):
            parts = index_parts(value.slice)
            if not self.basic(value.slice) or any(is_special(p) for p in parts):
                return None
            base = self._ndim(value.value.id)
            if base is None or base is _BOTTOM:
                return base
            return base - sum(not isinstance(p, g.Slice) for p in parts)
        if isinstance(value, g.BinOp) and isinstance(value.op, g.MatMult):
            return self._matmul(self._of(value.left), self._of(value.right))
        if isinstance(value, g.BinOp):
            return self._join([self._of(value.left), self._of(value.right)])
        if isinstance(value, g.UnaryOp) and isinstance(value.op, g.Not):
            return 0  # `not v` is one bool (an array of several elements would not run)
        if isinstance(value, g.UnaryOp):
            return self._of(value.operand)
        if isinstance(value, g.Compare):
            return self._join([self._of(value.left)] + [self._of(c) for c in
                                                          value.comparators])
        if isinstance(value, g.Call):
            return self._call(value)
        return None

    def _reduced(self, call):
        """The rank of a reduction over one constant axis (``axis=k`` or the second argument),
        with or without a constant ``keepdims``; None for anything else."""
        options = {k.arg: k.value for k in call.keywords}
        axis = call.args[1] if len(call.args) == 2 else options.pop("axis", None)
        keep = options.pop("keepdims", g.const(False))
        options.pop("ddof", None)
        if len(call.args) > 2 or options or not g.is_const(keep) or \
                not isinstance(keep.value, bool) or not (
                    g.is_const(axis) and type(axis.value) is int):
            return None
        base = self._of(call.args[0])
        if base is _BOTTOM or base is None:
            return base
        if not -base <= axis.value < base:
            return None
        return base if keep.value else base - 1

    def _call(self, call):
        func, args = call.func, call.args
        if isinstance(func, g.Attribute) and func.attr == "copy" and isinstance(
                func.value, g.Name) and not args:
            return self._ndim(func.value.id)
        if not args:
            return None
        found, obj = resolve(func, self.ctx)
        if not found:
            return None
        if getattr(obj, "__module__", None) == "math":
            return 0
        if isinstance(obj, np.ufunc) and not call.keywords:
            return self._join([self._of(a) for a in args])
        if id(obj) in _ALLOCATORS:
            shape = args[0]
            if isinstance(shape, (g.Tuple, g.List)):
                return len(shape.elts)
            if g.is_const(shape) or isinstance(shape, g.Name) and (
                    shape.id in self.ints or self._ndim(shape.id) == 0):
                return 1  # a shape given as one number (a float would not run at all)
            return None
        if id(obj) in _SAME_NDIM or id(obj) in _SAME_NDIM_PLAIN and not call.keywords:
            return self._of(args[0])
        if getattr(obj, "__module__", None) == "adjoint.runtime":
            if getattr(obj, "__name__", None) in _RUNTIME_NUMBERS:
                return 0
            like = _RUNTIME_LIKE.get(getattr(obj, "__name__", None))
            return self._of(args[like]) if like is not None and len(args) > like \
                else None
        if id(obj) in _VECTORS:
            return 1
        if id(obj) in _MATRICES:
            return 2
        if id(obj) in _FLAT and len(args) == 1 and not call.keywords:
            return 1
        if (obj is np.where or obj is np.clip) and len(args) == 3 and not call.keywords:
            return self._join([self._of(a) for a in args])
        if id(obj) in _PRODUCTS and len(args) == 2:
            return self._matmul(self._of(args[0]), self._of(args[1]))
        if id(obj) in _REDUCTIONS and len(args) == 1 and not call.keywords:
            return 0
        if id(obj) in _AXIS_REDUCTIONS:
            return self._reduced(call)
        if id(obj) in _NUMBERS:
            return 0
        if obj is abs or obj is min or obj is max:
            return self._join([self._of(a) for a in args])
        from ..rules import registry
        rule = registry.lookup(obj)
        if rule is not None and rule.partials is not None and not call.keywords:
            return self._join([self._of(a) for a in args])  # elementwise, broadcasting
        return None
