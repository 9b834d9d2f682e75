"""Trees: nested containers of numbers and arrays, flattened to leaves and rebuilt.

A *tree* is a leaf or a container of trees. Containers are tuples, lists, dicts (str or int
keys), NamedTuples and dataclass instances; a plain object is a container too where a transform
is asked to treat it as one (a method's ``self``: see :func:`flatten`'s ``objects``). Leaves are

* **numbers and arrays** — ``float``, ``int``, ``complex``, NumPy numbers and numeric
  ``ndarray``s: what derivatives flow through, returned by :func:`flatten` in a fixed order
  (containers in order, dicts in insertion order, dataclasses in field order);
* **constants** — everything else (``str``, ``None``, ``bool``, functions, other objects): part
  of the structure, never differentiated. Literal constants (str, None, bool, the ints of a
  plain object's attributes, which are configuration such as sizes, and tuples of them) compare
  by value, other objects by identity.

:func:`flatten` returns the numeric leaves and a hashable *definition* of everything else, so
that two trees with equal definitions can share code derived for one of them; the definition is
what a transform's specialisation key holds. :func:`rebuild` makes a tree of the same structure
from new leaves (a gradient: constants become ``None``, or are kept for plain objects);
:func:`tree_map` and :func:`tree_leaves` are the public utilities.

    >>> leaves, tdef = flatten({"w": np.ones(2), "name": "layer", "b": 0.5})
    >>> len(leaves), tdef.keys
    (2, ('w', 'name', 'b'))
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import types
from typing import NamedTuple

import numpy as np

__all__ = ["Node", "Leaf", "Const", "flatten", "rebuild", "unflatten", "tree_map",
           "tree_leaves", "is_tree", "is_leaf", "LEAF"]


class Leaf:
    """A numeric leaf's place in a definition: the one instance ``LEAF`` (compared by
    identity, hashed by C code: definitions are hashed on every call of a transform)."""

    __slots__ = ()

    def __repr__(self):
        return "*"

    def __reduce__(self):
        return "LEAF"


LEAF = Leaf()


def _literal(value):
    """None, str, bool, int, float, or a tuple of them: compared by value."""
    if type(value) is tuple:
        return all(_literal(v) for v in value)
    return value is None or type(value) in (str, bool, int, float)


class Const:
    """A constant leaf: compared by value for literals (str, None, bool, int, float, tuples of
    them), by identity for other objects."""

    __slots__ = ("value", "literal")

    def __init__(self, value):
        self.value = value
        self.literal = _literal(value)

    def __eq__(self, other):
        if type(other) is not Const or self.literal != other.literal:
            return False
        if self.literal:
            return type(self.value) is type(other.value) and self.value == other.value
        return self.value is other.value

    def __hash__(self):
        return hash((type(self.value), self.value)) if self.literal else id(self.value)

    def __repr__(self):
        return repr(self.value) if self.literal else f"<{type(self.value).__name__}>"


class Node(NamedTuple):
    """A container's place in a definition: its kind ("tuple", "list", "dict", "namedtuple",
    "dataclass", "object"), its class, the keys of its children (dict keys, field or attribute
    names; None for tuples and lists), and the children's definitions. (A NamedTuple: built
    and hashed on every call of a transform with trees, so cheap to make and to hash.)"""

    kind: str
    cls: type
    keys: tuple | None
    children: tuple

    def __repr__(self):
        if self.keys is None:
            inner = ", ".join(map(repr, self.children))
            return f"[{inner}]" if self.kind == "list" else f"({inner})"
        inner = ", ".join(f"{k}={c!r}" for k, c in zip(self.keys, self.children))
        return f"{self.cls.__name__}({inner})"

    def key_names(self):
        """The children's keys; positions for tuples and lists."""
        return self.keys if self.keys is not None else tuple(range(len(self.children)))

    def child(self, key):
        """The definition of child ``key`` (a key, field name or position)."""
        keys = self.key_names()
        return self.children[keys.index(key)]


_NUMBER_TYPES = (float, int, complex, np.number)


def is_leaf(x):
    """A number or a numeric array (what derivatives flow through)."""
    if isinstance(x, np.ndarray):
        return x.dtype.kind in "biufc"
    return isinstance(x, _NUMBER_TYPES) and not isinstance(x, (bool, np.bool_))


def _is_namedtuple(x):
    return isinstance(x, tuple) and hasattr(type(x), "_fields") and hasattr(type(x), "_make")


def _is_dataclass(x):
    return dataclasses.is_dataclass(x) and not isinstance(x, type)


def is_tree(x):
    """Whether ``x`` is a container the transforms flatten (not a plain object)."""
    return type(x) in (tuple, list, dict) or _is_namedtuple(x) or _is_dataclass(x)


def _float_leaf(x):
    if isinstance(x, np.ndarray):
        return x.dtype.kind in "fc"
    return isinstance(x, (float, complex, np.floating, np.complexfloating))


_NOT_OBJECTS = (type, types.ModuleType, types.FunctionType, types.BuiltinFunctionType,
                types.MethodType, functools.partial)


def plain_object(x):
    """An instance of a user class (a model, a layer — callable ones too), flattened by its
    attributes in ``objects`` mode; not a function, class or module."""
    return hasattr(x, "__dict__") and not isinstance(x, _NOT_OBJECTS) and not is_leaf(x)


def differentiated_attribute(x, path=()):
    """Whether an attribute of a plain object is part of its tree: a float, a float array, or
    a container or object holding one (ints, int arrays, strings, methods ... are constants).
    ``path``: the ids of the objects being flattened (a cycle back to one is a constant)."""
    if _float_leaf(x):
        return True
    if type(x) is dict:
        return any(differentiated_attribute(v, path) for v in x.values())
    if type(x) in (tuple, list) or _is_namedtuple(x):
        return any(differentiated_attribute(v, path) for v in x)
    if _is_dataclass(x):
        return any(differentiated_attribute(getattr(x, f.name), path)
                   for f in dataclasses.fields(x))
    if plain_object(x) and id(x) not in path:
        return any(differentiated_attribute(v, path + (id(x),)) for v in vars(x).values())
    return False


def _children(x, objects):
    """(kind, keys, children) of a container, or None for a leaf or constant."""
    t = type(x)
    if t is tuple or t is list:
        return t.__name__, None, list(x)
    if t is dict:
        for k in x:
            if type(k) not in (str, int):
                raise TypeError(f"dict keys in a tree must be str or int, not {k!r}")
        return "dict", tuple(x), list(x.values())
    if _is_namedtuple(x):
        return "namedtuple", tuple(t._fields), list(x)
    if _is_dataclass(x):
        names = tuple(f.name for f in dataclasses.fields(x))
        return "dataclass", names, [getattr(x, n) for n in names]
    if objects and plain_object(x):
        attrs = vars(x)
        return "object", tuple(attrs), list(attrs.values())
    return None


def flatten(x, objects=False, leaves=None, path=()):
    """(numeric leaves in order, definition). ``objects=True`` makes a plain object — and the
    plain objects inside it, such as the layers of a model — a container of its attributes:
    those :func:`differentiated_attribute` selects are trees, the others constants."""
    if leaves is None:
        leaves = []
    if is_leaf(x):
        leaves.append(x)
        return leaves, LEAF
    parts = _children(x, objects)
    if parts is None or (parts[0] == "object" and id(x) in path):
        return leaves, Const(x)
    kind, keys, values = parts
    if kind == "object":
        inner = path + (id(x),)
        defs = tuple(flatten(v, True, leaves, inner)[1] if differentiated_attribute(v, inner)
                     else Const(v) for v in values)
    else:
        defs = tuple(flatten(v, objects, leaves, path)[1] for v in values)
    return leaves, Node(kind, type(x), keys, defs)


def tree_leaves(tree):
    """The numbers and arrays of ``tree``, in order (constants such as strings left out)."""
    return flatten(tree)[0]


def _rebuild(x, make_leaf, make_const, objects, path=()):
    """``x`` rebuilt, deciding as :func:`flatten` does."""
    if is_leaf(x):
        return make_leaf(x)
    parts = _children(x, objects)
    if parts is None or (parts[0] == "object" and id(x) in path):
        return make_const(x)
    kind, keys, values = parts
    if kind != "object":
        new = [_rebuild(v, make_leaf, make_const, objects, path) for v in values]
        return _rebuild_level(x, kind, keys, new)
    out = copy.copy(x)  # a plain object: its other attributes are kept
    inner = path + (id(x),)
    for k, v in zip(keys, values):
        if differentiated_attribute(v, inner):
            object.__setattr__(out, k, _rebuild(v, make_leaf, make_const, True, inner))
    return out


def rebuild(template, leaves, objects=False, constants=None):
    """A tree shaped like ``template`` whose numeric leaves are ``leaves`` (an iterable, in
    :func:`flatten`'s order). Constants become ``constants(value)`` (None by default); a plain
    object (``objects=True``) is copied with ``copy.copy`` and keeps its other attributes."""
    it = iter(leaves)
    return _rebuild(template, lambda _: next(it),
                    constants if constants is not None else (lambda _: None), objects)


def unflatten(tdef, leaves):
    """A new tree of definition ``tdef`` (tuples, lists, dicts, NamedTuples, dataclasses whose
    fields are all ``__init__`` parameters) holding ``leaves``; constants keep their value."""
    it = iter(leaves)

    def build(d):
        if d == LEAF:
            return next(it)
        if isinstance(d, Const):
            return d.value
        values = [build(c) for c in d.children]
        if d.kind in ("tuple", "list"):
            return d.cls(values)
        if d.kind == "dict":
            return dict(zip(d.keys, values))
        if d.kind == "namedtuple":
            return d.cls._make(values)
        return d.cls(**dict(zip(d.keys, values)))

    return build(tdef)


def tree_map(fn, tree, *rest):
    """``fn`` applied to each number or array of ``tree`` (with the matching leaves of the
    trees in ``rest``, which must have the same containers and keys); a tree of the same
    structure and container types. Constants (strings, None ...) of ``tree`` are kept."""
    return _map(fn, tree, rest, "the tree")


def _map(fn, x, rest, where):
    if is_leaf(x):
        return fn(x, *rest)
    parts = _children(x, False)
    if parts is None:
        return x
    kind, keys, values = parts
    rest_values = []
    for o in rest:
        if type(o) is not type(x):
            raise ValueError(f"tree_map: {where} is a {type(o).__name__} in one tree and a "
                             f"{type(x).__name__} in the first")
        _, okeys, ovalues = _children(o, False)
        if okeys != keys or len(ovalues) != len(values):
            raise ValueError(f"tree_map: {where} has other keys or another length in one "
                             "tree than in the first")
        rest_values.append(ovalues)
    mapped = []
    for k, v in enumerate(values):
        label = f"{where}[{keys[k]!r}]" if keys is not None else f"{where}[{k}]"
        mapped.append(_map(fn, v, [ov[k] for ov in rest_values], label))
    return _rebuild_level(x, kind, keys, mapped)


def _rebuild_level(x, kind, keys, new):
    """The container ``x`` with its children replaced by ``new`` (same kind and keys)."""
    if kind in ("tuple", "list"):
        return type(x)(new)
    if kind == "dict":
        return dict(zip(keys, new))
    if kind == "namedtuple":
        return type(x)._make(new)
    fields = {f.name: f for f in dataclasses.fields(x)}
    out = dataclasses.replace(x, **{k: v for k, v in zip(keys, new) if fields[k].init})
    for k, v in zip(keys, new):
        if not fields[k].init:
            object.__setattr__(out, k, v)
    return out


class TreeKind(NamedTuple):
    """What code is specialised to for a tree argument: its definition, the kinds of its
    number/array leaves (as the API computes them for plain arguments), and whether plain
    objects were flattened (a method's ``self``)."""

    tdef: object
    leaf_kinds: tuple
    objects: bool = False


@dataclasses.dataclass
class Flattening:
    """How a function specialised to tree arguments maps to its generated code: ``params``
    are the function's own parameters; ``trees`` maps each tree parameter to its TreeKind and
    ``leaves`` to the generated parameters of its number/array leaves, in order; ``out`` is the
    definition of the tree the function returns (None for a plain value or tuple); ``kinds``
    are the kinds of the generated parameters."""

    params: list
    trees: dict
    leaves: dict
    out: object = None
    kinds: tuple = ()

    def expand(self, names):
        """Generated parameter names standing for the function's parameters ``names``."""
        out = []
        for n in names:
            out += self.leaves[n] if n in self.trees else [n]
        return out

    def flat(self):
        return not self.trees and self.out is None


def leaves_like(tdef, x, where="the tree"):
    """The values of ``x`` at the number/array places of definition ``tdef`` (a cotangent or
    tangent for a tree of that definition); ValueError naming the place where ``x`` has
    another structure. At constant places ``x`` may hold anything (None, typically)."""
    out = []

    def walk(d, v, at):
        if d == LEAF:
            out.append(v)
            return
        if isinstance(d, Const):
            return
        if d.kind == "object":
            if not isinstance(v, d.cls):
                raise ValueError(f"{at} must be a {d.cls.__name__} object, not "
                                 f"{type(v).__name__}")
            for k, c in zip(d.keys, d.children):
                walk(c, getattr(v, k, None), f"{at}.{k}")
            return
        parts = _children(v, False)
        if parts is None or parts[0] != d.kind or (d.kind != "tuple" and d.kind != "list" and
                                                  type(v) is not d.cls):
            raise ValueError(f"{at} must be a {d.cls.__name__}, not {type(v).__name__}")
        _, keys, values = parts
        if keys != d.keys or len(values) != len(d.children):
            raise ValueError(f"{at} has other keys or another length than the value it "
                             f"stands for ({d!r})")
        for k, (c, value) in enumerate(zip(d.children, values)):
            label = f"{at}[{d.keys[k]!r}]" if d.keys is not None else f"{at}[{k}]"
            if d.kind in ("dataclass", "namedtuple"):
                label = f"{at}.{d.keys[k]}"
            walk(c, value, label)

    walk(tdef, x, where)
    return out
