"""Tree values while code is specialised to the structure of its tree arguments.

Takes nothing; defines what :class:`adjoint.transforms.structures.SpecializeStructures` and
:class:`adjoint.transforms.tree_expressions.ResolveTreeExpressions` know of a value that holds a
tree: an :class:`STree` (a tree whose structure is known: its :class:`adjoint.trees.Node` and its
children, expressions for leaves and :class:`Constant`\\ s for constant leaves), ``POISON`` (a
name that holds a tree on some paths only, refused where it is read), and a
:class:`Specialized` callee (a user function specialised for the structures one call passes
it, which the inliner inlines). Guarantees: ``STree.child`` refuses a key or index the
structure does not have with a located error; ``STree.leaves`` gives the leaves' expressions in
the order :func:`adjoint.trees.flatten` gives leaves.

    a dict parameter params with leaves W, b   ->   an STree of kind "dict", keys ("W", "b"),
                                                    items [params_W, params_b] (Name nodes)
"""

from __future__ import annotations

import dataclasses
import inspect
import re

from .. import grammar as g
from .. import trees as T


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
