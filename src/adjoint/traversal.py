"""Walking, scanning and copying syntax trees, fast (used through :mod:`adjoint.grammar`, which
re-exports every name here).

Takes gast trees; guarantees the results of the standard library's generic tools, several
times faster because the fields of each node class that may hold nodes are looked up once:
``walk`` visits nodes in ``ast.walk``'s order, ``NodeTransformer`` transforms as
``ast.NodeTransformer`` does, ``clone`` copies as ``copy.deepcopy`` does, and ``name_nodes``,
``nodes_of`` and ``all_nodes`` list what a walk would find, in another order. Only the two
atom classes (``Name``, ``Constant``) are named here, to skip what cannot hold a node; building
and testing nodes by class stays in :mod:`adjoint.grammar`.

    [n.id for n in name_nodes(grammar.from_source("y = x * x"))]   ->   y, x, x in some order
"""

from __future__ import annotations

import ast
import copy

import gast
from gast import Constant, Name


def walk(node):
    """Every node of ``node``'s tree, ``node`` first, in the breadth-first order of
    ``ast.walk`` (children are listed before their parent is yielded), several times faster:
    the fields of each node class that may hold nodes are looked up once."""
    todo = [node]
    k = 0
    while k < len(todo):
        n = todo[k]
        k += 1
        cls = n.__class__
        fields = _CHILD_FIELDS.get(cls)
        if fields is None:
            fields = _CHILD_FIELDS[cls] = _child_fields(cls)
        for field in fields:
            value = getattr(n, field, None)
            if isinstance(value, ast.AST):
                todo.append(value)
            elif isinstance(value, list):
                for v in value:
                    if isinstance(v, ast.AST):
                        todo.append(v)
        yield n


class NodeTransformer(gast.NodeTransformer):
    """``ast.NodeTransformer`` with the same semantics, a few times faster where little
    changes: a list field is rebuilt only from its first replaced element, the method for each
    node class is looked up once per transformer class, and contexts (``Load``, ``Store``),
    which have no fields, are not visited (a ``visit_Load`` would not be called)."""

    def visit(self, node):
        key = (self.__class__, node.__class__)
        method = _VISIT_METHODS.get(key)
        if method is None:
            method = getattr(self.__class__, "visit_" + node.__class__.__name__,
                             self.__class__.generic_visit)
            if method is ast.NodeVisitor.visit_Constant:
                method = self.__class__.generic_visit  # (it looks for visit_Num & co. first)
            if method is NodeTransformer.generic_visit and not any(
                    f != "ctx" for f in _child_fields(node.__class__)):
                method = _unchanged  # nothing to visit inside
            _VISIT_METHODS[key] = method
        return method(self, node)

    def generic_visit(self, node):
        cls = node.__class__
        fields = _CHILD_FIELDS.get(cls)
        if fields is None:
            fields = _CHILD_FIELDS[cls] = _child_fields(cls)
        for field in fields:
            if field == "ctx":
                continue
            old = getattr(node, field, None)
            if isinstance(old, list):
                new_values = None  # stays None while every element is kept as it is
                for k, value in enumerate(old):
                    if isinstance(value, ast.AST):
                        new = self.visit(value)
                        if new is value and new_values is None:
                            continue
                        if new_values is None:
                            new_values = old[:k]
                        if new is None:
                            continue
                        if not isinstance(new, ast.AST):
                            new_values.extend(new)
                            continue
                        value = new
                    if new_values is not None:
                        new_values.append(value)
                if new_values is not None:
                    old[:] = new_values
            elif isinstance(old, ast.AST):
                new = self.visit(old)
                if new is None:
                    delattr(node, field)
                elif new is not old:
                    setattr(node, field, new)
        return node


_VISIT_METHODS = {}  # (transformer class, node class) -> the method visiting that node class


def _unchanged(transformer, node):
    return node


def name_nodes(node):
    """The Name nodes of ``node``'s tree (``node`` included), in no particular order: what
    ``[n for n in walk(node) if isinstance(n, Name)]`` gives, a few times faster."""
    out = []
    stack = [node]
    pop, push, extend = stack.pop, stack.append, stack.extend
    fields_of = _NAME_FIELDS
    while stack:
        n = pop()
        cls = n.__class__
        if cls is Name:
            out.append(n)
            annotation = getattr(n, "annotation", None)
            if annotation is not None:  # a parameter's annotation
                push(annotation)
            continue
        fields = fields_of.get(cls)
        if fields is None:
            fields = fields_of[cls] = _name_fields(cls)
        for field in fields:
            value = getattr(n, field, None)
            if value is None:
                continue
            if type(value) is list:
                extend(value)  # strings and None in a list have no fields: skipped when popped
            else:
                push(value)
    return out


def nodes_of(node, classes):
    """The nodes of ``node``'s tree (``node`` included) whose class is one of ``classes``, in
    no particular order: what ``[n for n in walk(node) if type(n) in classes]`` gives (for
    classes other than the contexts ``Load``/``Store``, which are not visited), a few times
    faster."""
    out = []
    stack = [node]
    pop, push, extend = stack.pop, stack.append, stack.extend
    fields_of = _NAME_FIELDS
    while stack:
        n = pop()
        cls = n.__class__
        if cls in classes:
            out.append(n)
        fields = fields_of.get(cls)
        if fields is None:
            fields = fields_of[cls] = _name_fields(cls)
        for field in fields:
            value = getattr(n, field, None)
            if value is None:
                continue
            if type(value) is list:
                extend(value)
            else:
                push(value)
    return out


def _child_fields(cls):
    """The fields of the node class ``cls`` that may hold a node (contexts included)."""
    if cls is Constant:
        return ()  # its value is a Python constant
    return tuple(f for f in getattr(cls, "_fields", ()) if f not in _LEAF_FIELDS - {"ctx"})


def _name_fields(cls):
    """The fields of ``cls`` that may hold a Name (none, for what is not a node class)."""
    if cls is Constant or not isinstance(cls, type) or not issubclass(cls, ast.AST):
        return ()
    return tuple(f for f in cls._fields if f not in _LEAF_FIELDS)


_LEAF_FIELDS = {"ctx", "id", "attr", "type_comment", "kind"}  # never hold a Name
_NAME_FIELDS = {}  # node class -> the fields that may hold a Name
_CHILD_FIELDS = {}  # node class -> the fields that may hold a node (walk)


def clone(node):
    """A deep copy of ``node``, exactly as ``copy.deepcopy`` makes it (a sub-node reached
    twice is copied once; attributes that are not nodes are deep-copied too), several times
    faster on syntax trees."""
    return _clone(node, {})


_ATOMIC = {str, int, float, complex, bool, bytes, type(None), type(Ellipsis)}


def _clone(x, memo):
    if type(x) in _ATOMIC:
        return x
    y = memo.get(id(x))
    if y is not None:
        return y
    if isinstance(x, ast.AST):
        y = memo[id(x)] = x.__class__.__new__(x.__class__)
        fields = y.__dict__
        for key, value in x.__dict__.items():
            fields[key] = _clone(value, memo)
        return y
    if type(x) is list:
        y = memo[id(x)] = []
        for value in x:
            y.append(_clone(value, memo))
        return y
    return copy.deepcopy(x, memo)


def all_nodes(node):
    """Every node of ``node``'s tree (``node`` included), as ``walk`` visits them but in
    another order, and a few times faster."""
    out = [node]
    stack = [node]
    while stack:
        n = stack.pop()
        for field in n._fields:
            value = getattr(n, field, None)
            if isinstance(value, ast.AST):
                out.append(value)
                stack.append(value)
            elif isinstance(value, list):
                children = [v for v in value if isinstance(v, ast.AST)]
                out += children
                stack += children
    return out
