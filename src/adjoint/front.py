"""The front end's stages: a function's source to normalized, inlined ANF without views.

Takes the state of one derivation (:class:`adjoint.pipeline.State`: the function, ``wrt`` and
the argument kinds); each stage function below reads and extends it, in the order
:data:`adjoint.pipeline.FRONT` gives (this module knows no order). After the last stage the
state holds ``ctx`` (the :class:`~adjoint.context.Context`), ``fdef`` (the function in A-normal
form, calls to the user's functions inlined, views separated), ``locals_`` (its local names)
and ``user_names`` (the user's own local names, which the optimizer never rewrites).
``normalize_callee`` runs the desugar, control and anf stages on an inlined callee, as the
pipeline passes them.

    def f(x):                       def f(x):
        return math.sin(x * x)          t = x * x
                                        result = math.sin(t)
                                        return result
"""

from __future__ import annotations

import inspect

from . import grammar as g
from .analysis.syntax import check_syntax
from .bindings import Binding
from .context import RULE_GLOBALS, Context
from .errors import ArgumentError, WrtError
from .source import CodeSource, parse_callable
from .transforms.anf import ToANF
from .transforms.comprehensions import DesugarComprehensions
from .transforms.control import NormalizeControl
from .transforms.inline import InlineCalls
from .transforms.literals import SplitLiterals
from .transforms.local_functions import HoistLocalFunctions, local_functions
from .transforms.specialize import specialize_ints
from .transforms.structures import SpecializeStructures
from .transforms.tree_expressions import needs_specializing, watched
from .transforms.views import SeparateViews
from .trees import TreeKind


def local_names(fdef):
    names = {a.id for a in fdef.args.args}
    names |= g.assigned_names(fdef.body)
    return names


# -- the stages ---------------------------------------------------------------------------------
def parse(state):
    """``fn``'s tree and source info, and the context; ``fn`` may be a transformed function:
    its generated code is what gets transformed (higher order). A kind ``("int", value)``
    fixes an int parameter of a recursive function to its value, unless it is differentiated
    (named in ``wrt``)."""
    fn, kinds, wrt = state.fn, state.kinds, state.front_wrt
    if isinstance(fn, CodeSource):
        if kinds and any(isinstance(k, TreeKind) for k in kinds):
            code = getattr(inspect.unwrap(getattr(fn.f, "__func__", fn.f)), "__code__", None)
            raise ArgumentError(
                "a transform of a transformed function (grad of grad, hessian, hvp) cannot "
                "take trees (tuples, lists, dicts, dataclasses, objects)",
                filename=getattr(code, "co_filename", None),
                lineno=getattr(code, "co_firstlineno", None),
                hint="pass the arrays and floats of the tree as separate parameters")
        fn = fn.derive_for_kinds(kinds).function
    fdef, info = parse_callable(fn)
    differentiated = set(resolve_wrt(fdef, wrt, info)[0]) if wrt != () else set()
    values = {a.id: k[1] for a, k in zip(fdef.args.args, kinds or ())
              if _int_value(k) and a.id not in differentiated}
    if values:
        specialize_ints(fdef, values, keep_parameters=True)
    ctx = Context(info, local_names(fdef))
    ctx.kinds = plain_kinds(kinds)
    ctx.normalize_callee = state.normalize_callee
    state.fdef, state.info, state.ctx, state.namer = fdef, info, ctx, ctx.namer


def structures(state):
    """Tree arguments become one parameter per leaf, every use of a tree resolved statically
    (only when an argument is a tree or the function builds one); then user locals named like
    a global of generated code are renamed apart, and the user's names recorded."""
    ctx, fdef, info = state.ctx, state.fdef, state.info
    kinds = ctx.kinds
    if needs_specializing(fdef, kinds, info):
        ctx.flattening = SpecializeStructures(info, ctx.namer, kinds)(fdef)
        ctx.kinds = ctx.flattening.kinds
        for k, (container, key, helper) in enumerate(watched(info)):
            ctx.bindings[f"<specialised {k}>"] = Binding(key, container, key, helper, False)
    rename_apart(fdef, ctx.namer)
    state.user_names = local_names(fdef)


def desugar(state):
    """The subset is checked first; then local functions are hoisted (inlined later, with the
    other helpers), tuple/list literals split into names, then comprehensions and builtin
    ``sum`` turned into loops."""
    fdef, info, namer = state.fdef, state.info, state.namer
    check_syntax(fdef, info)
    HoistLocalFunctions(info)(fdef)
    SplitLiterals(namer, info, [a.id for a in fdef.args.args])(fdef)
    DesugarComprehensions(namer, info, local_names(fdef))(fdef)


def control(state):
    """One return, at the end; no continue (:mod:`adjoint.transforms.control`)."""
    NormalizeControl(state.namer, state.info)(state.fdef)


def anf(state):
    """A-normal form (:mod:`adjoint.transforms.anf`)."""
    fdef = state.fdef
    ToANF(state.namer, state.info, local_names(fdef))(fdef)
    state.locals_ = local_names(fdef)


def inline(state):
    """Globals bound in the generated namespace; calls of the user's functions inlined."""
    ctx, fdef, locals_ = state.ctx, state.fdef, state.locals_
    ctx.collect_globals(fdef.body, locals_, state.info)
    inliner = InlineCalls(ctx, ctx.normalize_callee, local_functions=local_functions(fdef))
    fdef.body = inliner(fdef.body, state.info, set(locals_))


def views(state):
    """Views of arrays written in place become copies (:mod:`adjoint.transforms.views`)."""
    ctx, fdef = state.ctx, state.fdef
    fdef.body = SeparateViews(ctx, complete_kinds(ctx.kinds, fdef))(
        fdef.body, [a.id for a in fdef.args.args], local_names(fdef))
    state.locals_ = local_names(fdef)


# -- helpers the stages and the modes share ---------------------------------------------------
def plain_kinds(kinds):
    """Kinds without int values: ``("int", 3)`` is a ``"scalar"``."""
    if kinds is None:
        return None
    return tuple("scalar" if _int_value(k) else k for k in kinds)


def _int_value(kind):
    """Whether ``kind`` is an int value ``("int", 3)`` (a tree's kind is a tuple too)."""
    return type(kind) is tuple and len(kind) == 2 and kind[0] == "int"


def rename_apart(fdef, namer):
    """User locals named like a global of generated code (``np``, ``math``, a runtime helper
    such as ``fresh``) get fresh names, so that they cannot shadow it in generated code.
    (Inlined callees' locals are always renamed; parameters keep their names.)"""
    params = {a.id for a in fdef.args.args}
    clashes = sorted((g.assigned_names(fdef.body) - params) & set(RULE_GLOBALS))
    renames = {name: namer.fresh(name) for name in clashes}
    for node in g.walk(fdef):
        if isinstance(node, g.Name) and node.id in renames:
            node.id = renames[node.id]


def complete_kinds(kinds, fdef):
    """Kinds for every parameter: those left at their defaults have their default's kind."""
    params = fdef.args.args
    if kinds is None or len(kinds) >= len(params):
        return kinds
    defaults = [None] * (len(params) - len(fdef.args.defaults)) + fdef.args.defaults
    return tuple(kinds) + tuple(
        "scalar" if isinstance(d, g.Constant) and isinstance(d.value, (int, float)) else None
        for d in defaults[len(kinds):])


def resolve_wrt(fdef, wrt, info, params=None):
    """(wrt as parameter names, whether one was named). ``params``: the function's own
    parameters, when tree parameters have been replaced by leaves in ``fdef``."""
    params = [a.id for a in fdef.args.args] if params is None else params
    single = not isinstance(wrt, (tuple, list))
    items = [wrt] if single else list(wrt)
    if not items:
        raise WrtError("wrt is empty", filename=info.filename, lineno=info.line_offset + 1,
                       hint=f"name at least one parameter: {', '.join(params)}")
    names = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, (int, str)):
            raise WrtError(f"wrt must be an int, a str or a tuple of them, not {item!r}",
                           filename=info.filename, lineno=info.line_offset + 1,
                           hint=f"parameters: {', '.join(params)}")
        if isinstance(item, int):
            if not -len(params) <= item < len(params):
                raise WrtError(f"wrt={item} is out of range: {fdef.name} has {len(params)} "
                               "parameter(s)", filename=info.filename,
                               lineno=info.line_offset + 1,
                               hint=f"use 0..{len(params) - 1} or a name among "
                                    f"{', '.join(params)}")
            names.append(params[item])
        else:
            if item not in params:
                raise WrtError(f"{fdef.name} has no parameter named {item!r}",
                               filename=info.filename, lineno=info.line_offset + 1,
                               hint=f"parameters: {', '.join(params)}")
            names.append(item)
    if len(set(names)) != len(names):
        raise WrtError("wrt names a parameter twice", filename=info.filename,
                       lineno=info.line_offset + 1, hint="list each parameter once")
    return names, single


def wrt_parameters(fdef, wrt, ctx, mode="grad"):
    """(wrt as the function's parameters, one was named, wrt as generated parameters, the
    generated code returns one gradient rather than a tuple)."""
    if mode == "primal":
        return [], True, [], True
    flat = ctx.flattening
    if flat is None:
        names, single = resolve_wrt(fdef, wrt, ctx.info)
        return names, single, names, single
    names, single = resolve_wrt(fdef, wrt, ctx.info, params=flat.params)
    expanded = flat.expand(names)
    return names, single, expanded, single and names[0] not in flat.trees
