"""ResolveTreeExpressions: what the structures pass makes of expressions that involve trees.

Takes expressions of a function being specialised by
:class:`adjoint.transforms.structures.SpecializeStructures` (a mixin of it: ``self.env`` maps
names to the trees they hold). ``ev(node)`` returns an :class:`STree` when ``node`` denotes a
tree whose structure is known — a tree parameter, a constant subscript, slice or field of one, a
display holding trees, a NamedTuple or dataclass construction, the result of a helper that
returns a tree — and otherwise the expression rewritten, with every tree read resolved to the
expression of its leaf. A call passing trees to a user function (or a method of a tree object)
becomes a call of a :class:`Specialized` callee, that function specialised the same way for the
structures it receives, which the inliner inlines. A tree anywhere else is refused with a located
``UnsupportedSyntaxError``.

    params["W"] @ x          ->   params_W @ x
    len(params["layers"])    ->   2
    dense(layer, h)          ->   dense_1(params_layers_0_W, params_layers_0_b, h)
"""

from __future__ import annotations

import dataclasses
import inspect
import types

from .. import grammar as g
from .. import trees as T
from ..errors import AdjointError, UnsupportedSyntaxError
from ..naming import Namer
from .tree_values import POISON, Constant, Specialized, STree

HINT = ("use the tree as Python allows for a fixed structure: unpack it, index it with a "
        "constant (or the variable of a loop over range(len(tree))), read a field, iterate over "
        "it in a for loop, take len(), or pass it to your own helper function")


class ResolveTreeExpressions:
    """The expression half of the structures pass (a mixin of SpecializeStructures)."""

    def error(self, message, node, hint=HINT):
        return self.info.error(UnsupportedSyntaxError, message, node, hint)

    def _constant(self, value, base="const"):
        """A constant leaf: written into the code (None, str, bool, int, float), or read from
        a fresh global bound to it."""
        if value is None or type(value) in (str, bool, int, float):
            return Constant(value, g.const(value))
        name = self.bind_global(base, value)
        self.stable.add(name)
        return Constant(value, g.name(name))

    def bind_global(self, base, value):
        """A fresh name, free in the function and its namespace, bound to ``value`` for the
        code (a constant of the specialisation)."""
        name = self.namer.fresh(base)
        while self.info.lookup(name)[0]:
            name = self.namer.fresh(base)
        self.info.constants[name] = value
        self.info.closure[name] = value
        return name

    @staticmethod
    def item_value(item):
        """An STree's child as a value: an STree, or a copy of its expression (a node is
        never shared between two places of the tree)."""
        if isinstance(item, STree):
            return item
        return g.clone(item.expr if isinstance(item, Constant) else item)

    def static(self, node):
        """The Python value of an expression known while specialising (ints, strings), or a
        sentinel when it is not."""
        if isinstance(node, g.Constant):
            return node.value
        if isinstance(node, g.Name):
            c = self.env.get(node.id)
            return c.value if isinstance(c, Constant) else _UNKNOWN
        if isinstance(node, g.UnaryOp):
            v = self.static(node.operand)
            op = g.UNARYOPS.get(type(node.op))
            return op(v) if v is not _UNKNOWN and isinstance(v, int) else _UNKNOWN
        if isinstance(node, g.BinOp):
            a, b = self.static(node.left), self.static(node.right)
            op = g.BINOPS.get(type(node.op))
            if isinstance(a, int) and isinstance(b, int) and op is not None:
                try:
                    return op(a, b)
                except (ZeroDivisionError, ValueError):
                    return _UNKNOWN
            return _UNKNOWN
        if isinstance(node, g.Call) and isinstance(node.func, g.Name) and len(node.args) == 1:
            found, fn = self.info.lookup(node.func.id) if node.func.id not in self.env else \
                (False, None)
            if found and fn is len:
                v = self.ev(node.args[0])
                if isinstance(v, STree):
                    return len(v.items)
        return _UNKNOWN

    def plain(self, node, what="used"):
        """``node`` rewritten; it must not be a tree."""
        value = self.ev(node)
        if isinstance(value, STree):
            raise self.error(f"{value.describe()} cannot be {what} here", node)
        return value

    def ev(self, node, literal=False):
        """``node`` rewritten: an STree when it denotes a tree, else an expression."""
        if isinstance(node, g.Name):
            if isinstance(node.ctx, g.Load):
                v = self.env.get(node.id)
                if v is POISON:
                    raise self.error(f"{node.id!r} holds a tree on some paths only (or one "
                                     "that changes from one iteration to the next)", node,
                                     "bind the tree to the name on every path, outside loops")
                if isinstance(v, STree):
                    return v
            return node
        if isinstance(node, g.Attribute):
            base = self.ev(node.value)
            if isinstance(base, STree):
                return self.attribute(base, node)
            node.value = base
            return node
        if isinstance(node, g.Subscript):
            base = self.ev(node.value)
            if isinstance(base, STree):
                return self.subscript(base, node)
            node.value = base
            node.slice = self.plain(node.slice)
            return node
        if isinstance(node, g.Call):
            return self.call(node)
        if isinstance(node, (g.Tuple, g.List)) and isinstance(node.ctx, g.Load):
            elts = [self.ev(e, literal=literal) for e in node.elts]
            if any(isinstance(e, STree) for e in elts) or (
                    literal and isinstance(node, g.Tuple) and
                    any(isinstance(e, (g.Tuple, g.List, g.Dict)) for e in node.elts)):
                kind = "tuple" if isinstance(node, g.Tuple) else "list"
                items = [e if isinstance(e, STree) else self.literal_tree(e) for e in elts]
                return STree(T.Node(kind, tuple if kind == "tuple" else list, None,
                                    (None,) * len(items)), items)
            node.elts = elts
            return node
        if isinstance(node, g.Dict):
            keys = []
            for k in node.keys:
                if k is None or not isinstance(k, g.Constant) or type(k.value) not in (str, int):
                    raise self.error("a dict display needs constant str or int keys", node,
                                     "write the keys as literals")
                keys.append(k.value)
            items = [self.literal_tree(self.ev(v, literal=True)) for v in node.values]
            return STree(T.Node("dict", dict, tuple(keys), (None,) * len(items)), items)
        for field in node._fields:
            value = getattr(node, field, None)
            if g.is_node(value):
                setattr(node, field, self.plain(value))
            elif isinstance(value, list):
                setattr(node, field, [self.plain(v) if g.is_node(v) else v for v in value])
        return node

    def literal_tree(self, e):
        """A child of a display: tuple and list displays inside it are trees too."""
        if isinstance(e, (g.Tuple, g.List)) and isinstance(e.ctx, g.Load):
            kind = "tuple" if isinstance(e, g.Tuple) else "list"
            items = [self.literal_tree(x) for x in e.elts]
            return STree(T.Node(kind, tuple if kind == "tuple" else list, None,
                                (None,) * len(items)), items)
        if isinstance(e, g.Constant) and (e.value is None or isinstance(e.value, str)):
            return Constant(e.value, e)
        return e

    def attribute(self, base, node):
        kind = base.tdef.kind
        if kind in ("dataclass", "namedtuple", "object") and node.attr in base.tdef.keys:
            return self.item_value(base.child(node.attr, node, self.error))
        if kind in ("dataclass", "object"):
            value = inspect.getattr_static(base.tdef.cls, node.attr, _UNKNOWN)
            if value is not _UNKNOWN and not callable(value) and not isinstance(
                    value, (property, staticmethod, classmethod)):
                return self.item_value(self._constant(value, node.attr))  # a class attribute
        raise self.error(f"{base.describe()} has no field {node.attr!r}", node,
                         f"its fields are {', '.join(map(str, base.tdef.key_names()))}"
                         if base.tdef.keys else HINT)

    def subscript(self, base, node):
        index = node.slice
        if isinstance(index, g.Slice):
            bounds = [None if b is None else self.static(b)
                      for b in (index.lower, index.upper, index.step)]
            if any(b is _UNKNOWN for b in bounds) or base.tdef.kind not in ("tuple", "list"):
                raise self.error(f"{base.describe()} can be sliced only with constant bounds",
                                 node)
            items = base.items[slice(*bounds)]
            return STree(T.Node(base.tdef.kind, base.tdef.cls, None, (None,) * len(items)),
                         items)
        key = self.static(index)
        if key is _UNKNOWN:
            raise self.error(f"{base.describe()} is indexed with a value known only at run "
                             "time", node, "index it with a constant, or loop over "
                             "range(len(tree)) (unrolled), or over the tree itself")
        if base.tdef.kind in ("dataclass", "object"):
            raise self.error(f"{base.describe()} cannot be indexed", node,
                             "read its fields as attributes")
        return self.item_value(base.child(key, node, self.error))

    def call(self, node):
        func = node.func
        if isinstance(func, g.Attribute):
            base = self.ev(func.value)
            if isinstance(base, STree):
                if func.attr not in (base.tdef.keys or ()):
                    return self.method_call(base, node)
                func = node.func = self.attribute(base, func)  # a field called
                if isinstance(func, STree):
                    return self.method_call(func, node, "__call__")
            else:
                func.value = base
        else:
            callee = self.ev(func)
            if isinstance(callee, STree):  # a model object called like a function
                return self.method_call(callee, node, "__call__")
        args = [self.ev(a) for a in node.args]
        keywords = [(k.arg, self.ev(k.value)) for k in node.keywords]
        trees = any(isinstance(a, STree) for a in args) or any(
            isinstance(v, STree) for _, v in keywords)
        found, fn = _resolve(func, self.info)
        if found and fn is len and len(args) == 1 and isinstance(args[0], STree):
            return g.copy_location(g.const(len(args[0].items)), node)
        if found and _is_tree_leaves(fn) and len(args) == 1 and isinstance(args[0], STree):
            leaves, _ = args[0].leaves()
            return STree(T.Node("list", list, None, (None,) * len(leaves)), leaves)
        if found and isinstance(fn, type) and (dataclasses.is_dataclass(fn) or (
                issubclass(fn, tuple) and hasattr(fn, "_fields"))):
            return self.construct(fn, args, keywords, node)
        if found and _user_function(fn) and not isinstance(fn, Specialized) and (
                trees or _builds_trees(fn, self.stack)):
            return self.specialized_call(fn, args, dict(keywords), node)
        if trees:
            what = getattr(fn, "__name__", "this function") if found else "this function"
            raise self.error(f"a tree is passed to {what}, which is not a Python function of "
                             "yours that adjoint can specialise", node,
                             "pass its leaves (e.g. params['w']) instead, or wrap the call "
                             "in a helper of your own")
        node.args = args
        for k, (_, v) in zip(node.keywords, keywords):
            k.value = v
        return node

    def method_call(self, base, node, name=None):
        name = name or node.func.attr
        cls = base.tdef.cls
        if base.tdef.kind in ("dataclass", "object") and name not in base.tdef.keys:
            static = inspect.getattr_static(cls, name, None)
            fn = getattr(cls, name, None)
            args = [self.ev(a) for a in node.args]
            keywords = {k.arg: self.ev(k.value) for k in node.keywords}
            if isinstance(static, staticmethod) and _user_function(fn):
                return self.specialized_call(fn, args, keywords, node)
            if isinstance(static, types.FunctionType) and _user_function(fn):
                return self.specialized_call(fn, [base] + args, keywords, node)
        raise self.error(f"method {name!r} of {base.describe()} cannot be called", node,
                         "call methods of your own objects (plain functions defined in the "
                         "class); for a dict, loop over .items(), .keys() or .values()")

    def construct(self, cls, args, keywords, node):
        try:
            bound = inspect.signature(cls).bind(*args, **dict(keywords))
        except TypeError as exc:
            raise self.error(f"bad call to {cls.__name__}: {exc}", node, None) from None
        if dataclasses.is_dataclass(cls):
            names = tuple(f.name for f in dataclasses.fields(cls))
            if any(not f.init for f in dataclasses.fields(cls)):
                raise self.error(f"{cls.__name__} has fields outside __init__", node,
                                 "return a dataclass whose fields are all __init__ parameters")
            kind = "dataclass"
        else:
            names, kind = tuple(cls._fields), "namedtuple"
        bound.apply_defaults()
        items = []
        for n in names:
            v = bound.arguments[n]
            if not g.is_node(v) and not isinstance(v, STree):
                v = g.const(v) if v is None or type(v) in (int, float, str, bool) else None
                if v is None:
                    raise self.error(f"the default of {cls.__name__}.{n} is not a constant",
                                     node, "pass it explicitly")
            items.append(self.literal_tree(v) if not isinstance(v, STree) else v)
        return STree(T.Node(kind, cls, names, (None,) * len(items)), items)

    def specialized_call(self, fn, args, keywords, node):
        if fn in self.stack or len(self.stack) > 20:
            raise self.error(f"recursive call to {fn.__name__} with a tree cannot be "
                             "differentiated", node, "rewrite the recursion as a loop")
        sig = inspect.signature(fn)
        try:
            bound = sig.bind(*args, **keywords)
        except TypeError as exc:
            raise self.error(f"bad call to {fn.__name__}: {exc}", node, None) from None
        from ..source import parse_function
        fdef, info = parse_function(fn)
        for n in g.walk(fdef):
            if g.is_stmt(n):
                n.adjoint_origin = info
        kinds, flat_args = [], []
        for pname, param in sig.parameters.items():
            if pname in bound.arguments:
                v = bound.arguments[pname]
            elif param.default is not inspect.Parameter.empty and (
                    param.default is None or type(param.default) in (int, float, str, bool)):
                v = g.const(param.default)
            else:
                raise self.error(f"{fn.__name__}: the default of {pname!r} is not a constant",
                                 node, "pass the argument explicitly")
            if isinstance(v, STree):
                leaves, tdef = v.leaves()
                kinds.append(T.TreeKind(tdef, (), False))
                flat_args += leaves
            else:
                kinds.append(None)
                flat_args.append(self.item_value(v) if isinstance(v, Constant) else v)
        namer = Namer(_local_names(fdef))
        inner = type(self)(info, namer, tuple(kinds), self.stack + (fn,))
        fdef.args.defaults = []
        flat = inner(fdef)
        watch = [w for v in info.constants.values() if isinstance(v, Specialized)
                 for w in v.watch]
        where = self.info.where(node.func.id) if isinstance(node.func, g.Name) else None
        if where is not None:
            watch.append((*where, fn))
        spec = Specialized(fn, fdef, info, flat.out, watch)
        name = self.bind_global(fn.__name__, spec)
        call = g.copy_location(g.call(g.name(name), *flat_args), node)
        if flat.out is None:
            return call
        n_leaves = len(_leaf_positions(flat.out))
        result = self.namer.fresh(f"{fn.__name__}_out")
        self.pending.append(g.copy_location(g.assign(result, call), node))
        leaves = [g.name(result)] if n_leaves == 1 else [
            g.subscript(g.name(result), g.const(k)) for k in range(n_leaves)]
        return self.rebuild(flat.out, iter(leaves))

    def rebuild(self, tdef, leaves):
        items = []
        for child in tdef.children:
            if isinstance(child, T.Node):
                items.append(self.rebuild(child, leaves))
            elif child == T.LEAF:
                items.append(next(leaves))
            else:
                items.append(self._constant(child.value))
        return STree(T.Node(tdef.kind, tdef.cls, tdef.keys, (None,) * len(items)), items)


_UNKNOWN = object()


def _leaf_positions(tdef):
    out = []
    for child in tdef.children:
        if isinstance(child, T.Node):
            out += _leaf_positions(child)
        elif child == T.LEAF:
            out.append(child)
    return out


def _local_names(fdef):
    return {a.id for a in fdef.args.args} | g.assigned_names(fdef.body)


def _resolve(func, info):
    from ..analysis.activity import resolve
    return resolve(func, info)


def _user_function(fn):
    from .inline import is_user_function
    return is_user_function(fn)


def _is_tree_leaves(fn):
    return fn is T.tree_leaves


def watched(info):
    """(container, key, function) of every user function specialised for the root function
    whose SourceInfo is ``info``: where its name lives, to notice it being rebound."""
    return [w for v in list(info.constants.values()) if isinstance(v, Specialized)
            for w in v.watch]


def needs_specializing(fdef, kinds, info=None, stack=()):
    """Whether the function takes trees (``kinds``), builds one (a dict display, a return of
    nested tuple and list displays), or calls a helper of the user's that does (resolved
    through ``info``)."""
    if kinds and any(isinstance(k, T.TreeKind) for k in kinds):
        return True
    for node in g.walk(fdef):
        if isinstance(node, g.Dict):
            return True
        if isinstance(node, g.Return) and isinstance(node.value, g.Tuple) and any(
                isinstance(e, (g.Tuple, g.List, g.Dict)) for e in node.value.elts):
            return True
        if info is not None and isinstance(node, g.Call):
            found, fn = _resolve(node.func, info)
            if found and _user_function(fn) and not isinstance(fn, Specialized) and \
                    _builds_trees(fn, stack):
                return True
    return False


def _builds_trees(fn, stack=()):
    """Whether the user function ``fn`` (or a helper it calls) builds a tree: it is then
    specialised at each call, so that what it returns is known to the caller."""
    from .inline import _is_library
    if fn in stack or len(stack) > 20 or _is_library(fn):
        return False  # a library function builds no tree of the user's
    from ..source import parse_function
    try:
        fdef, info = parse_function(fn)
    except AdjointError:
        return False  # refused where it is inlined, with its own message
    return needs_specializing(fdef, None, info, stack + (fn,))
