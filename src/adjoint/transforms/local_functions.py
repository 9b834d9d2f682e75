"""HoistLocalFunctions: ``def``s and ``name = lambda ...`` inside the function become helpers.

Takes a checked function (before :mod:`.literals`); returns it without the local function
definitions, and records them on the function (``adjoint_local_functions``: name ->
:class:`LocalFunction`) for :mod:`.inline`, which inlines their calls like any helper's. A local
function reads the enclosing function's variables when it is called (a closure): those it reads
become extra parameters, passed by keyword at each call, which is the same thing.

    def f(x):                                 def f(x):
        a = 2.0                                   a = 2.0
        def scaled(v):              ->            return scaled(x, a=a)
            return a * v                      # scaled(v, a): a helper, inlined later
        return scaled(x)

A local function must be defined at the top level of the body (not in a branch or loop), once,
and only called (not returned, stored or passed on); it may call the local functions defined
before it. Anything else is refused with a located ``UnsupportedSyntaxError``.
"""

from __future__ import annotations

import builtins
import inspect

from .. import grammar as g
from ..errors import UnsupportedSyntaxError

_NOT_CONSTANT = object()  # the default of a parameter whose default is not a literal


class LocalFunction:
    """A function defined inside the differentiated function: its tree and where it is."""

    def __init__(self, fdef, info):
        self.fdef = fdef
        self.info = info
        self.__name__ = fdef.name
        args = fdef.args
        defaults = [None] * (len(args.args) - len(args.defaults)) + list(args.defaults)
        self.__signature__ = inspect.Signature([
            inspect.Parameter(a.id, inspect.Parameter.POSITIONAL_OR_KEYWORD,
                              default=inspect.Parameter.empty if d is None else
                              d.value if isinstance(d, g.Constant) else _NOT_CONSTANT)
            for a, d in zip(args.args, defaults)])

    def parse(self):
        """A fresh copy of the definition, as ``source.parse_function`` gives: (fdef, info)."""
        return g.clone(self.fdef), self.info

    def __call__(self, *args, **kwargs):  # only its signature is used
        raise TypeError(f"the local function {self.__name__} is inlined, not called")


class HoistLocalFunctions:
    def __init__(self, info, local_functions=None):
        self.info = info
        self.outer = dict(local_functions or {})  # those of enclosing functions

    def __call__(self, fdef):
        defs = {}
        body = []
        for stmt in fdef.body:
            found = _definition(stmt)
            if found is None:
                body.append(stmt)
                continue
            name, inner = found
            if name in defs:
                raise self._refuse(stmt, f"{name} is defined twice")
            if hasattr(builtins, name):
                raise self._refuse(stmt, f"a local function named {name} hides the builtin")
            defs[name] = inner
        nested = [n for s in body for n in g.walk(s) if isinstance(n, (g.FunctionDef, g.Lambda))]
        nested += [n for d in defs.values() for s in d.body for n in g.walk(s)
                   if isinstance(n, (g.FunctionDef, g.Lambda))]
        if nested:
            raise self._refuse(nested[0], "a def or lambda inside a branch, a loop or another "
                               "local function, or a lambda not assigned to a name, cannot be "
                               "differentiated")
        if not defs:
            return fdef
        for name in defs:
            for stmt in body:
                if name in g.assigned_names([stmt]):
                    raise self._refuse(stmt, f"{name} names a local function and is assigned")
        outer_locals = {a.id for a in fdef.args.args} | g.assigned_names(body)
        free = {name: sorted(_free_names(inner) & outer_locals) for name, inner in defs.items()}
        changed = True
        while changed:  # a local function calling another needs what that one reads too
            changed = False
            for name, inner in defs.items():
                for callee in _called(inner, defs):
                    extra = set(free[callee]) - set(free[name])
                    if extra and callee != name:
                        free[name] = sorted(set(free[name]) | extra)
                        changed = True
        for name, inner in defs.items():
            taken = {a.id for a in inner.args.args}
            extra = g.function(name, [v for v in free[name] if v not in taken],
                               []).args.args  # parameter nodes
            inner.args.args += extra
            if inner.args.defaults:  # keep defaults aligned (the calls pass these by keyword)
                inner.args.defaults += [g.const(None) for _ in extra]
        for stmt in body + [s for d in defs.values() for s in d.body]:
            self._pass_free(stmt, defs, free)
        fdef.body = body
        local = dict(self.outer)
        local.update({name: LocalFunction(inner, self.info) for name, inner in defs.items()})
        fdef.adjoint_local_functions = local
        return fdef

    def _pass_free(self, stmt, defs, free):
        for node in g.walk(stmt):
            if isinstance(node, g.Call) and isinstance(node.func, g.Name) and \
                    node.func.id in defs:
                node.keywords += [g.keyword(v, g.name(v)) for v in free[node.func.id]]
            elif isinstance(node, g.Name) and node.id in defs and isinstance(node.ctx, g.Load) \
                    and not _is_callee(node, stmt):
                raise self._refuse(node, f"the local function {node.id} can only be called")

    def _refuse(self, node, message):
        return self.info.error(UnsupportedSyntaxError, message, node,
                               "define the function at module level (or once, at the top of "
                               "the function, and only call it)")


def local_functions(fdef):
    """The local functions :class:`HoistLocalFunctions` found in ``fdef``: name -> LocalFunction."""
    return getattr(fdef, "adjoint_local_functions", None) or {}


def _definition(stmt):
    """(name, FunctionDef) for ``def name`` or ``name = lambda ...``, else None."""
    if isinstance(stmt, g.FunctionDef):
        if stmt.decorator_list:
            return None
        return stmt.name, stmt
    if isinstance(stmt, g.Assign) and len(stmt.targets) == 1 and isinstance(
            stmt.targets[0], g.Name) and isinstance(stmt.value, g.Lambda):
        lam = stmt.value
        ret = g.copy_location(g.return_(lam.body), stmt)
        inner = g.copy_location(g.function(stmt.targets[0].id, [], [ret]), stmt)
        inner.args = lam.args
        return stmt.targets[0].id, inner
    return None


def _free_names(inner):
    own = {a.id for a in inner.args.args} | g.assigned_names(inner.body)
    return {n.id for s in inner.body for n in g.walk(s)
            if isinstance(n, g.Name) and isinstance(n.ctx, g.Load)} - own


def _called(inner, defs):
    return {n.func.id for s in inner.body for n in g.walk(s)
            if isinstance(n, g.Call) and isinstance(n.func, g.Name) and n.func.id in defs}


def _is_callee(name_node, stmt):
    return any(isinstance(n, g.Call) and n.func is name_node for n in g.walk(stmt))
