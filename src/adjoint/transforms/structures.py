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
  or calling a helper that builds a tree, calls a
  :class:`~adjoint.transforms.tree_values.Specialized` callee instead — the callee
  specialised the same way for the structures it receives — which the inliner inlines like any
  helper (it may return a tree);
* a function returning a tree returns the tuple of its leaves (the Flattening's ``out``).

This module holds the statements (parameters, assignments, loops, returns);
:mod:`adjoint.transforms.tree_expressions` the expressions.

Anything else done with a tree — indexing it with a value known only at run time, assigning
into it, passing it to a function that is not the user's, using it in arithmetic — is refused
with a located ``UnsupportedSyntaxError``.

    def loss(params, x):              def loss(params_w, params_b, x):
        w, b = params          ->         w = params_w
        return np.sum(w * x + b)          b = params_b
                                          return np.sum(w * x + b)
"""

from __future__ import annotations

from .. import grammar as g
from .. import trees as T
from ..naming import Namer
from .tree_expressions import ResolveTreeExpressions
from .tree_values import POISON, Constant, STree, _ident


class SpecializeStructures(ResolveTreeExpressions):
    """The pass; its statement half (expressions: :mod:`.tree_expressions`)."""

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
