"""SpecializeStructures: tree parameters become one parameter per leaf, resolved statically.

Takes a parsed ``FunctionDef`` (before any check), its SourceInfo, the Namer, and per parameter
either a :class:`adjoint.trees.TreeKind` (the structure of a tree argument: containers, keys,
lengths, constant leaves) or a plain kind. Returns a :class:`adjoint.trees.Flattening` and
rewrites the function so that no tree reaches later stages:

* each tree parameter is replaced by one parameter per number or array leaf (hygienic names
  from its path: ``params["W"]`` -> ``params_W``); constant leaves (str, None, bool; other
  objects through a fresh global name) are written into the code;
* uses of trees are resolved for the known structure: ``w, b = params``, ``params["w"]``,
  ``params[0]``, ``params[1:]``, ``p.w``, ``len(layers)``, ``for W, b in layers:`` (unrolled;
  also over ``zip``, ``enumerate``, ``reversed``, ``d.items()/keys()/values()``,
  ``adjoint.tree_leaves(t)``, and ``range(n)`` with a constant ``n`` when the body indexes a tree
  with the loop variable), tuple, list and dict displays holding trees, NamedTuple and dataclass
  constructions;
* a call passing a tree to a user function, or a method of a tree object (``self.forward(x)``),
  calls a :class:`Specialized` callee instead — the callee specialised the same way for the
  structures it receives — which the inliner inlines like any helper (it may return a tree);
* a function returning a tree returns the tuple of its leaves (the Flattening's ``out``).

Anything else done with a tree — indexing it with a value known only at run time, assigning
into it, passing it to a function that is not the user's, using it in arithmetic — is refused
with a located ``UnsupportedSyntaxError``.

    def loss(params, x):              def loss(params_w, params_b, x):
        w, b = params          ->         w = params_w
        return np.sum(w * x + b)          b = params_b
                                          return np.sum(w * x + b)
"""

from __future__ import annotations

import dataclasses
import inspect
import re
import types

from .. import grammar as g
from .. import trees as T
from ..errors import AdjointError, UnsupportedSyntaxError
from ..naming import Namer

HINT = ("use the tree as Python allows for a fixed structure: unpack it, index it with a "
        "constant (or the variable of a loop over range(len(tree))), read a field, iterate over "
        "it in a for loop, take len(), or pass it to your own helper function")


class STree:
    """A tree whose structure is known while the code is specialised: ``tdef`` is its Node;
    ``items`` its children (STrees, or expressions for leaves and constants)."""

    def __init__(self, tdef, items):
        self.tdef = tdef
        self.items = list(items)

    def child(self, key, node, error):
        keys = self.tdef.key_names()
        if self.tdef.kind in ("tuple", "list", "namedtuple") and isinstance(key, int) and \
                not isinstance(key, bool):
            if not -len(keys) <= key < len(keys):
                raise error(f"index {key} is out of range for a {self.tdef.kind} of "
                            f"{len(keys)}", node, None)
            return self.items[key]
        if key not in keys or self.tdef.kind in ("tuple", "list"):
            raise error(f"{self.describe()} has no {'key' if self.tdef.kind == 'dict' else 'item'}"
                        f" {key!r}", node, f"its keys are {', '.join(map(repr, keys))}")
        return self.items[keys.index(key)]

    def describe(self):
        kind = self.tdef.kind
        if kind in ("dataclass", "namedtuple", "object"):
            return f"the {self.tdef.cls.__name__} object"
        return f"the {kind} of {len(self.items)}"

    def leaves(self):
        """The expressions of the number/array leaves, in order, and the definition with
        constants for the others."""
        out = []

        def walk(st):
            defs = []
            for item in st.items:
                if isinstance(item, STree):
                    defs.append(walk(item))
                elif isinstance(item, Constant):
                    defs.append(T.Const(item.value))
                else:
                    out.append(g.clone(item))
                    defs.append(T.LEAF)
            return T.Node(st.tdef.kind, st.tdef.cls, st.tdef.keys, tuple(defs))

        return out, walk(self)


class Constant:
    """A constant leaf of an STree: its value and the expression that reads it."""

    def __init__(self, value, expr):
        self.value = value
        self.expr = expr


POISON = object()  # a name that holds a tree on some paths only


@dataclasses.dataclass(eq=False)
class Specialized:
    """A user function specialised for the structures of the arguments of one call: what the
    inliner inlines in place of ``fn`` (its parameters are ``fdef``'s)."""

    fn: object
    fdef: object
    info: object
    out: object  # the definition of what it returns, or None
    # where the user's name of each function specialised (this one, and those it calls with
    # trees) lives: (container, key, function), so that rebinding it derives the code again
    watch: list = dataclasses.field(default_factory=list)

    def parse(self):
        return g.clone(self.fdef), self.info

    def __repr__(self):
        return f"<{self.fn.__qualname__} specialised for its tree arguments>"

    @property
    def __name__(self):
        return self.fn.__name__

    @property
    def signature(self):
        P = inspect.Parameter
        return inspect.Signature([P(a.id, P.POSITIONAL_OR_KEYWORD) for a in self.fdef.args.args])


def _ident(key):
    text = re.sub(r"\W", "_", str(key)).strip("_")
    return text or "k"


class SpecializeStructures:
    def __init__(self, info, namer, kinds, stack=()):
        self.info = info
        self.namer = namer
        self.kinds = kinds
        self.stack = tuple(stack)
        self.env = {}
        self.out = None
        self.plain_return = False
        self.pending = []
        self.stable = set()  # names this pass made: parameters, constants (never rebound)

    def error(self, message, node, hint=HINT):
        return self.info.error(UnsupportedSyntaxError, message, node, hint)

    # -- entry ---------------------------------------------------------------------------------
    def __call__(self, fdef):
        for node in g.walk(fdef):  # globals too: a leaf's name must not shadow one
            if isinstance(node, g.Name):
                self.namer.reserve(node.id)
        params = [a.id for a in fdef.args.args]
        kinds = list(self.kinds or ()) + [None] * (len(params) - len(self.kinds or ()))
        new_args, new_defaults, flat_kinds = [], [], []
        defaults = [None] * (len(params) - len(fdef.args.defaults)) + list(fdef.args.defaults)
        trees, leaves = {}, {}
        for arg, kind, default in zip(fdef.args.args, kinds, defaults):
            if isinstance(kind, T.TreeKind):
                names = []
                self.env[arg.id] = self._param_tree(arg.id, kind.tdef, names)
                new_args += [g.copy_location(g.name(n, store=True), arg) for n in names]
                flat_kinds += list(kind.leaf_kinds) if kind.leaf_kinds else [None] * len(names)
                trees[arg.id], leaves[arg.id] = kind, names
            else:
                new_args.append(arg)
                flat_kinds.append(kind)
                if default is not None:
                    new_defaults.append(default)
        fdef.args.args = new_args
        # callers pass every argument (defaults filled in by the API): with a tree parameter
        # in the middle, the defaults of the others would not line up
        fdef.args.defaults = [] if trees else new_defaults
        fdef.body = self.block(fdef.body)
        return T.Flattening(params=params, trees=trees, leaves=leaves, out=self.out,
                            kinds=tuple(flat_kinds))

    def _param_tree(self, base, tdef, names):
        items = []
        for key, child in zip(tdef.key_names(), tdef.children):
            path = f"{base}_{_ident(key)}"
            if isinstance(child, T.Node):
                items.append(self._param_tree(path, child, names))
            elif child == T.LEAF:
                names.append(self.namer.fresh(path))
                self.stable.add(names[-1])
                items.append(g.name(names[-1]))
            else:
                items.append(self._constant(child.value, path))
        return STree(tdef, items)

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

    # -- statements ----------------------------------------------------------------------------
    def block(self, stmts):
        out = []
        for stmt in stmts:
            new = self.stmt(stmt)
            out.extend(self.pending)
            self.pending = []
            out.extend(new)
        return out

    def stmt(self, stmt):
        if isinstance(stmt, g.Assign):
            value = self.ev(stmt.value, literal=True)
            if not isinstance(value, STree):  # one statement, as written (``a = b = f(x)``)
                for target in stmt.targets:
                    self.bind_plain(target)
                stmt.value = value
                if len(stmt.targets) == 1 and isinstance(stmt.targets[0], g.Name) and \
                        isinstance(value, g.Constant) and type(value.value) in (int, str):
                    self.env[stmt.targets[0].id] = Constant(value.value, value)
                return [stmt]
            out = []
            for target in stmt.targets:
                out += self.bind(target, value, stmt)
            return out
        if isinstance(stmt, g.AugAssign):
            target = stmt.target
            if isinstance(target, g.Name):
                if isinstance(self.env.get(target.id), STree):
                    raise self.error(f"{target.id!r} holds a tree: augmented assignment to a "
                                     "tree is not supported", stmt)
                self.env.pop(target.id, None)
            else:
                self.bind_plain(target)
            stmt.value = self.plain(stmt.value)
            return [stmt]
        if isinstance(stmt, g.For):
            return self.for_(stmt)
        if isinstance(stmt, g.While):
            stmt.test = self.plain(stmt.test)
            if self.pending:
                raise self.error("a helper returning a tree cannot be called in a while "
                                 "condition", stmt, "call it before the loop and at the end of "
                                 "its body")
            stmt.body = self.loop_body(stmt.body)
            return [stmt]
        if isinstance(stmt, g.If):
            stmt.test = self.plain(stmt.test)
            before = dict(self.env)
            stmt.body = self.block(stmt.body)
            after_body, self.env = self.env, dict(before)
            stmt.orelse = self.block(stmt.orelse)
            self.env = self.merge(after_body, self.env)
            return [stmt]
        if isinstance(stmt, g.Return):
            return [self.return_(stmt)]
        for field in stmt._fields:
            value = getattr(stmt, field, None)
            if g.is_node(value) and not g.is_stmt(value):
                setattr(stmt, field, self.plain(value))
            elif isinstance(value, list) and value and g.is_stmt(value[0]):
                setattr(stmt, field, self.block(value))
            elif isinstance(value, list):
                setattr(stmt, field, [self.plain(v) if g.is_node(v) else v for v in value])
        return [stmt]

    def merge(self, a, b):
        out = {}
        for name in set(a) | set(b):
            x, y = a.get(name), b.get(name)
            if x is y:
                out[name] = x
            elif isinstance(x, STree) or isinstance(y, STree) or POISON in (x, y):
                out[name] = POISON
        return out

    def loop_body(self, body, targets=()):
        """A loop body run any number of times: a name bound to a tree in it holds the tree
        of the last iteration (or the one before the loop) — known only if they agree."""
        assigned = g.assigned_names(body) | set(targets)
        saved = dict(self.env)
        probe = SpecializeStructures(self.info, Namer(set(self.namer.taken)), self.kinds,
                                     self.stack)
        probe.env = dict(self.env)
        for name in assigned:
            if not isinstance(probe.env.get(name), STree):
                probe.env.pop(name, None)
        probe.block([g.clone(s) for s in body])
        for name in assigned:
            if isinstance(probe.env.get(name), STree) or isinstance(saved.get(name), STree):
                self.env[name] = POISON
            else:
                self.env.pop(name, None)
        body = self.block(body)
        for name in assigned:
            if isinstance(self.env.get(name), STree):
                self.env[name] = POISON
            elif self.env.get(name) is not POISON:
                self.env.pop(name, None)
        return body

    def bind(self, target, value, stmt):
        """Statements binding ``target`` to ``value`` (an STree or an expression)."""
        if isinstance(target, g.Name):
            if isinstance(value, STree):
                self.env[target.id] = self.materialize(value, target.id, stmt)
                return []
            self.env.pop(target.id, None)
            if isinstance(value, g.Constant) and type(value.value) in (int, str):
                self.env[target.id] = Constant(value.value, value)  # a loop index, unrolled
            return [g.copy_location(g.assign(g.name(target.id, store=True), value), stmt)]
        if isinstance(target, (g.Tuple, g.List)):
            if isinstance(value, STree):
                if any(isinstance(e, g.Starred) for e in target.elts):
                    raise self.error("starred unpacking of a tree is not supported", target)
                if value.tdef.kind not in ("tuple", "list", "namedtuple") or \
                        len(value.items) != len(target.elts):
                    raise self.error(f"cannot unpack {value.describe()} into "
                                     f"{len(target.elts)} names", stmt)
                out = []
                for elt, item in zip(target.elts, value.items):
                    out += self.bind(elt, self.item_value(item), stmt)
                return out
            self.bind_plain(target)
            return [g.copy_location(g.assign(target, value), stmt)]
        if isinstance(value, STree):
            raise self.error("a tree can only be assigned to a name or unpacked", stmt)
        self.bind_plain(target)
        return [g.copy_location(g.assign(target, value), stmt)]

    def bind_plain(self, target):
        """A target that receives a run-time value: its names forget what they held; a
        subscript or attribute target must not write into a tree."""
        if isinstance(target, g.Name):
            self.env.pop(target.id, None)
        elif isinstance(target, (g.Tuple, g.List)):
            for elt in target.elts:
                self.bind_plain(elt.value if isinstance(elt, g.Starred) else elt)
        elif isinstance(target, (g.Subscript, g.Attribute)):
            target.value = self.plain(target.value, what="assigned into")
            if isinstance(target, g.Subscript):
                target.slice = self.plain(target.slice)

    @staticmethod
    def item_value(item):
        """An STree's child as a value: an STree, or a copy of its expression (a node is
        never shared between two places of the tree)."""
        if isinstance(item, STree):
            return item
        return g.clone(item.expr if isinstance(item, Constant) else item)

    def materialize(self, st, base, stmt):
        """``st`` with every leaf expression that is not a parameter, a constant or a fresh
        name of this pass computed once, into a fresh name (later rebinding of the names it
        reads must not change the tree)."""
        items = []
        for key, item in zip(st.tdef.key_names(), st.items):
            if isinstance(item, STree):
                items.append(self.materialize(item, f"{base}_{_ident(key)}", stmt))
            elif isinstance(item, (Constant, g.Constant)) or (isinstance(item, g.Name) and
                                                              item.id in self.stable):
                items.append(item)
            else:
                name = self.namer.fresh(f"{base}_{_ident(key)}")
                self.pending.append(g.copy_location(g.assign(name, item), stmt))
                items.append(g.name(name))
        if all(x is y for x, y in zip(items, st.items)):
            return st
        return STree(st.tdef, items)

    # -- for loops -----------------------------------------------------------------------------
    def for_(self, stmt):
        elements = self.static_iteration(stmt)  # None: stmt.iter is rewritten, not unrolled
        if elements is None:
            targets = {n.id for n in g.walk(stmt.target) if isinstance(n, g.Name)}
            for name in targets:  # the loop binds them to run-time values
                self.env.pop(name, None)
            stmt.body = self.loop_body(stmt.body, targets)
            return [stmt]
        if stmt.orelse:
            raise self.error("for/else over a tree is not supported", stmt,
                             "use a flag variable set before break instead of else")
        for node in _same_loop_nodes(stmt.body):
            if isinstance(node, (g.Break, g.Continue)):
                raise self.error("break and continue are not supported in a loop over a tree "
                                 "(it is unrolled)", node, "use an if around the loop's body")
        out = []
        for element in elements:
            out += self.pending
            self.pending = []
            out += self.bind(g.clone(stmt.target), element, stmt)
            out += self.pending
            self.pending = []
            out += self.block([g.clone(s) for s in stmt.body])
        return out

    def static_iteration(self, stmt):
        """The elements a for loop visits when they are known statically (the loop is then
        unrolled), or None for a loop that runs as written (``stmt.iter`` is then rewritten)."""
        it = stmt.iter
        unroll_range = self._is_call_of(it, range) and self._indexes_tree(stmt)
        if not unroll_range and not any(
                isinstance(n, g.Name) and (isinstance(self.env.get(n.id), STree) or
                                           self.env.get(n.id) is POISON) for n in g.walk(it)):
            stmt.iter = self.plain(it)
            return None
        return self.elements(it, stmt)

    def _is_call_of(self, node, fn):
        if not (isinstance(node, g.Call) and isinstance(node.func, g.Name)) or \
                node.func.id in self.env:
            return False
        found, obj = self.info.lookup(node.func.id)
        return found and obj is fn

    def elements(self, it, stmt):
        """The elements of a statically known iterable: a tree, ``range`` with constant
        bounds, and ``zip``, ``enumerate``, ``reversed``, ``.items()/.keys()/.values()`` of
        them."""
        if isinstance(it, g.Call) and not it.keywords:
            if self._is_call_of(it, range):
                bounds = [self.static(a) for a in it.args]
                if not (all(isinstance(b, int) for b in bounds) and 1 <= len(bounds) <= 3):
                    raise self.error("a loop indexing a tree needs constant range bounds", it,
                                     "loop over range(len(tree)), or over the tree itself")
                return [g.const(k) for k in range(*bounds)]
            if self._is_call_of(it, zip):
                seqs = [self.elements(a, stmt) for a in it.args]
                return [STree(T.Node("tuple", tuple, None, (None,) * len(row)), row)
                        for row in zip(*seqs)]
            if self._is_call_of(it, enumerate) and 1 <= len(it.args) <= 2:
                start = self.static(it.args[1]) if len(it.args) > 1 else 0
                if not isinstance(start, int):
                    raise self.error("enumerate over a tree needs a constant start", it)
                return [STree(T.Node("tuple", tuple, None, (None, None)), [g.const(start + k), e])
                        for k, e in enumerate(self.elements(it.args[0], stmt))]
            if self._is_call_of(it, reversed) and len(it.args) == 1:
                return list(reversed(self.elements(it.args[0], stmt)))
            if isinstance(it.func, g.Attribute) and not it.args and \
                    it.func.attr in ("items", "keys", "values"):
                base = self.ev(it.func.value)
                if isinstance(base, STree):
                    if base.tdef.kind != "dict":
                        raise self.error(f"{base.describe()} has no method {it.func.attr}", it)
                    keys = [g.const(k) for k in base.tdef.keys]
                    values = [self.item_value(v) for v in base.items]
                    if it.func.attr == "keys":
                        return keys
                    if it.func.attr == "values":
                        return values
                    return [STree(T.Node("tuple", tuple, None, (None, None)), [k, v])
                            for k, v in zip(keys, values)]
        return self.sequence(self.ev(it), it)

    def sequence(self, value, node):
        if not isinstance(value, STree):
            raise self.error("a loop over a tree can zip or enumerate only trees and constant "
                             "ranges", node, "zip trees with trees; index arrays inside the "
                             "loop")
        if value.tdef.kind == "dict":
            return [g.const(k) for k in value.tdef.keys]
        if value.tdef.kind in ("dataclass", "object"):
            raise self.error(f"{value.describe()} cannot be iterated over", node,
                             "iterate over one of its fields")
        return [self.item_value(v) for v in value.items]

    def _indexes_tree(self, stmt):
        """Whether a loop's body subscripts a tree with the loop variable."""
        if not isinstance(stmt.target, g.Name):
            return False
        var = stmt.target.id
        for node in g.walk(g.module(stmt.body)):
            if isinstance(node, g.Subscript) and any(
                    g.is_name(n, var) for n in g.walk(node.slice)):
                root = node.value
                while isinstance(root, (g.Subscript, g.Attribute)):
                    root = root.value
                if isinstance(root, g.Name) and isinstance(self.env.get(root.id), STree):
                    return True
        return False

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

    # -- return --------------------------------------------------------------------------------
    def return_(self, stmt):
        if stmt.value is None:
            return stmt
        value = self.ev(stmt.value, literal=True)
        if not isinstance(value, STree):
            if self.out is not None:
                raise self.error("this return gives a value, another return a tree", stmt,
                                 "return the same structure on every path")
            self.plain_return = True
            stmt.value = value
            return stmt
        leaves, tdef = value.leaves()
        if self.plain_return or (self.out is not None and self.out != tdef):
            raise self.error("the returns of this function give different structures", stmt,
                             "return the same structure on every path")
        if not leaves:
            raise self.error("the function returns a tree without numbers or arrays", stmt,
                             "return at least one number or array")
        self.out = tdef
        stmt.value = leaves[0] if len(leaves) == 1 else g.tuple_(leaves)
        return stmt

    # -- expressions ---------------------------------------------------------------------------
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
        inner = SpecializeStructures(info, namer, tuple(kinds), self.stack + (fn,))
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


def _same_loop_nodes(body):
    """The nodes of a loop body that belong to this loop (not to loops nested in it)."""
    stack = list(body)
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, (g.For, g.While)):
            continue
        for field in node._fields:
            value = getattr(node, field, None)
            if isinstance(value, list):
                stack += [v for v in value if g.is_node(v)]
            elif g.is_node(value):
                stack.append(value)


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
    if fn in stack or len(stack) > 20:
        return False
    from ..source import parse_function
    try:
        fdef, info = parse_function(fn)
    except AdjointError:
        return False  # refused where it is inlined, with its own message
    return needs_specializing(fdef, None, info, stack + (fn,))
