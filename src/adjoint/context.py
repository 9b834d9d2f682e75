"""What every stage of one transformation shares: the root function's source, the Namer, and
the namespace the generated code will run in.

The namespace maps every global name the generated code uses to its object. Functions inlined
from other modules bring their own globals; a name that would clash is given a fresh alias, so
each reference keeps meaning what it meant in the user's own module. Every name bound from a
user's namespace is also recorded as a :class:`adjoint.bindings.Binding` (``bindings``), so that
calls read globals afresh (see :mod:`adjoint.bindings`).
"""

from __future__ import annotations

import math

import numpy as np

from . import grammar as g
from . import runtime
from .bindings import binding
from .naming import Namer

RULE_GLOBALS = {"np": np, "math": math, **{n: getattr(runtime, n) for n in runtime.__all__}}


class Context:
    def __init__(self, info, local_names=()):
        self.info = info
        self.namespace = dict(RULE_GLOBALS)
        self.namer = Namer(set(local_names) | set(RULE_GLOBALS) | {"d"})
        self.bindings = {}  # generated name -> Binding to the user's namespace
        self.flattening = None  # how tree parameters became leaves (transforms/structures.py)
        self.kinds = None  # the kinds of the generated parameters
        # (fdef, info) -> (normalized fdef, its local names), for inlined callees: given by
        # the pipeline (adjoint.pipeline.normalize_callee), which sits above the passes
        self.normalize_callee = None

    def lookup(self, name):
        if name in self.namespace:
            return True, self.namespace[name]
        return self.info.lookup(name)

    def bind_global(self, name, obj):
        """Bind ``name`` -> ``obj`` in the generated namespace; returns the name to use."""
        if name in self.namespace and self.namespace[name] is not obj:
            alias = self.namer.fresh(name)
            self.namespace[alias] = obj
            return alias
        self.namespace[name] = obj
        self.namer.reserve(name)
        return name

    def error(self, cls, message, node, hint=None):
        info = getattr(node, "adjoint_origin", None) or self.info
        return info.error(cls, message, node, hint)

    def collect_globals(self, stmts, local_names, info):
        """Bind the root names of global references in ``stmts`` (resolved through ``info``),
        renaming them where they clash; rewrites the tree in place."""
        renames = {}
        for stmt in stmts:
            for node in g.walk(stmt):
                if isinstance(node, g.Name) and node.id not in local_names and \
                        isinstance(node.ctx, g.Load):
                    if node.id in renames:
                        node.id = renames[node.id]
                        continue
                    found, obj = info.lookup(node.id)
                    if not found:
                        continue
                    new = self.bind_global(node.id, obj)
                    renames[node.id] = new
                    if new not in self.bindings and RULE_GLOBALS.get(new) is not obj:
                        b = binding(new, info.where(node.id), obj)
                        if b is not None:
                            self.bindings[new] = b
                    node.id = new
