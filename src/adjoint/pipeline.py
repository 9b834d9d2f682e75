"""The pipeline: the one place where the order of the stages lives.

    source ─parse─▶ gast ─structures─▶ ─check─▶ ─local functions─▶ ─literals─▶ ─comprehensions─▶
           ─control─▶ ─anf─▶ ─inline─▶ ─views─▶ ─activity─▶ ─effects─▶ ─ssa─▶ ─tbr─▶ ─reverse─▶
           [─checkpoint─▶] ─simplify─▶ ─emit─▶ Python source ─compile─▶ function

``derive(fn, wrt, mode=..., value=..., optimize=...)`` runs every stage for one function and
returns a :class:`Derived`: the generated source, the compiled function and what the API needs
to call it. ``stages(fn)`` returns the code after each normalization stage (``STAGES``), for the
CLI's ``show --stage``; the final stages' output is ``derive``'s ``source`` itself.
"""

from __future__ import annotations

import functools
import inspect
from dataclasses import dataclass, field

from . import grammar as g
from .analysis.activity import activity
from .analysis.defuse import int_names, mutated_names, needed_names
from .analysis.effects import check_effects
from .analysis.shapes import Shapes
from .analysis.syntax import check_syntax
from .analysis.tbr import PlanTape
from .bindings import Binding, stale
from .codegen import compile_function, emit, relocate
from .context import RULE_GLOBALS, Context
from .errors import AdjointError, ArgumentError, NonScalarOutputError, NoRuleError, WrtError
from .naming import Namer
from .source import SOURCES, parse_callable
from .transforms.anf import ToANF
from .transforms.checkpoint import CheckpointLoops
from .transforms.comprehensions import DesugarComprehensions
from .transforms.control import NormalizeControl
from .transforms.inline import InlineCalls, value_parameters
from .transforms.literals import SplitLiterals
from .transforms.local_functions import HoistLocalFunctions, local_functions
from .transforms.reverse import ReverseAD
from .transforms.simplify import Simplify
from .transforms.specialize import specialize_ints
from .transforms.ssa import RenameNeeded
from .transforms.structures import SpecializeStructures
from .transforms.tree_expressions import needs_specializing, watched
from .transforms.views import SeparateViews
from .trees import TreeKind


@dataclass
class Derived:
    source: str
    function: object
    name: str
    params: list
    wrt: list  # parameter names, in the order gradients are returned
    single: bool  # wrt was one parameter (return one gradient, not a tuple)
    outputs: int  # 1, or k for a function returning a k-tuple
    namespace: dict = field(default_factory=dict)
    tape_names: list = field(default_factory=list)  # growable (list) tapes
    array_tapes: list = field(default_factory=list)  # preallocated (array) tapes
    snapshot_stores: list = field(default_factory=list)  # checkpointing's lists of states
    scalar_output: bool = False  # the output is provably a scalar for these argument kinds
    kinds: tuple | None = None  # the argument kinds this code is specialised to
    filename: str = ""  # the name the generated code is compiled (and linecache'd) under
    linemap: dict = field(default_factory=dict)  # generated line -> (user file, user line)
    return_line: tuple = (None, None)  # the user's return statement: (file, line)
    def_line: tuple = (None, None)  # the user's def statement: (file, line)
    bindings: tuple = ()  # the user's globals the code reads (adjoint.bindings.Binding)
    active_params: frozenset = frozenset()  # parameters that carry derivatives
    flattening: object = None  # adjoint.trees.Flattening: tree arguments -> these params
    wrt_params: list = field(default_factory=list)  # wrt as the function's own parameters

    def stale(self):
        """Whether a global this code was derived for has been rebound (derive again)."""
        return stale(self.bindings)


def _local_names(fdef):
    names = {a.id for a in fdef.args.args}
    names |= g.assigned_names(fdef.body)
    return names


def normalize(fdef, info, namer):
    """Check, control-normalize and ANF one parsed function: (fdef, local names)."""
    check_syntax(fdef, info)
    desugar(fdef, info, namer)
    NormalizeControl(namer, info)(fdef)
    locals_ = _local_names(fdef)
    ToANF(namer, info, locals_)(fdef)
    return fdef, _local_names(fdef)


def desugar(fdef, info, namer):
    """The front-end desugarings, before control normalization: local functions hoisted
    (inlined later, with the other helpers), tuple/list literals split into names, then
    comprehensions and builtin ``sum`` into loops."""
    HoistLocalFunctions(info)(fdef)
    SplitLiterals(namer, info, [a.id for a in fdef.args.args])(fdef)
    DesugarComprehensions(namer, info, _local_names(fdef))(fdef)


def _normalize_callee(fdef, info):
    namer = Namer(_local_names(fdef) | set(RULE_GLOBALS) | {"d"})
    return normalize(fdef, info, namer)


def plain_kinds(kinds):
    """Kinds without int values: ``("int", 3)`` is a ``"scalar"``."""
    if kinds is None:
        return None
    return tuple("scalar" if _int_value(k) else k for k in kinds)


def _int_value(kind):
    """Whether ``kind`` is an int value ``("int", 3)`` (a tree's kind is a tuple too)."""
    return type(kind) is tuple and len(kind) == 2 and kind[0] == "int"


def front(fn, kinds=None, wrt=()):
    """Parse, normalize and inline ``fn``: (ctx, fdef, local names, user names). ``fn`` may be
    a transformed function: its generated code is what gets transformed (higher order). A kind
    ``("int", value)`` fixes an int parameter of a recursive function to its value, unless it
    is differentiated (named in ``wrt``)."""
    from .api import Transformed
    if isinstance(fn, Transformed):
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
    kinds = plain_kinds(kinds)
    ctx = Context(info, _local_names(fdef))
    ctx.kinds = kinds
    if needs_specializing(fdef, kinds, info):
        ctx.flattening = SpecializeStructures(info, ctx.namer, kinds)(fdef)
        ctx.kinds = kinds = ctx.flattening.kinds
        for k, (container, key, helper) in enumerate(watched(info)):
            ctx.bindings[f"<specialised {k}>"] = Binding(key, container, key, helper, False)
    _rename_apart(fdef, ctx.namer)
    user_names = _local_names(fdef)
    fdef, locals_ = normalize(fdef, info, ctx.namer)
    ctx.collect_globals(fdef.body, locals_, info)
    inliner = InlineCalls(ctx, _normalize_callee, local_functions=local_functions(fdef))
    fdef.body = inliner(fdef.body, info, set(locals_))
    fdef.body = SeparateViews(ctx, _complete_kinds(kinds, fdef))(
        fdef.body, [a.id for a in fdef.args.args], _local_names(fdef))
    return ctx, fdef, _local_names(fdef), user_names


def _rename_apart(fdef, namer):
    """User locals named like a global of generated code (``np``, ``math``, a runtime helper
    such as ``fresh``) get fresh names, so that they cannot shadow it in generated code.
    (Inlined callees' locals are always renamed; parameters keep their names.)"""
    params = {a.id for a in fdef.args.args}
    clashes = sorted((g.assigned_names(fdef.body) - params) & set(RULE_GLOBALS))
    renames = {name: namer.fresh(name) for name in clashes}
    for node in g.walk(fdef):
        if isinstance(node, g.Name) and node.id in renames:
            node.id = renames[node.id]


STAGES = ("parse", "desugar", "control", "anf", "inline", "views", "ssa")  # "structures": trees


def stages(fn, wrt=0):
    """[(stage name, source after that stage)] for the normalization stages, in order — what
    the CLI's ``show --stage`` prints. The last entry is the code reverse mode starts from."""
    import copy as _copy
    fdef, info = parse_callable(fn)
    check_syntax(fdef, info)
    out = [("parse", g.unparse(fdef))]
    ctx = Context(info, _local_names(fdef))
    _rename_apart(fdef, ctx.namer)
    desugar(fdef, info, ctx.namer)
    out.append(("desugar", g.unparse(fdef)))
    NormalizeControl(ctx.namer, info)(fdef)
    out.append(("control", g.unparse(fdef)))
    ToANF(ctx.namer, info, _local_names(fdef))(fdef)
    out.append(("anf", g.unparse(fdef)))
    locals_ = _local_names(fdef)
    ctx.collect_globals(fdef.body, locals_, info)
    fdef.body = InlineCalls(ctx, _normalize_callee, local_functions=local_functions(fdef))(
        fdef.body, info, set(locals_))
    out.append(("inline", g.unparse(fdef)))
    fdef.body = SeparateViews(ctx)(fdef.body, [a.id for a in fdef.args.args],
                                   _local_names(fdef))
    out.append(("views", g.unparse(fdef)))
    locals_ = _local_names(fdef)
    wrt_names, _ = resolve_wrt(fdef, wrt, info)
    ret = fdef.body[-1]
    outs = ret.value.elts if isinstance(ret.value, g.Tuple) else [ret.value]
    body = fdef.body[:-1]
    active, _ = activity(body, wrt_names, [a.id for a in outs if isinstance(a, g.Name)], ctx,
                         locals_)
    needed = needed_names(body, active, ctx, locals_)
    ssa_fdef = _copy.deepcopy(fdef)
    ssa_fdef.body = RenameNeeded(ctx.namer, needed, [a.id for a in fdef.args.args], ctx)(
        ssa_fdef.body)
    out.append(("ssa", g.unparse(ssa_fdef)))
    return out


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


HIGHER_ORDER_HINT = (
    "to take a second derivative, use adjoint.hessian(f) or adjoint.hvp(f): they are forward "
    "over reverse (adjoint.jvp of adjoint.grad(f)), which does not need this rule")


def user_located(derive_fn):
    """Errors raised while transforming generated code again (higher order) are re-raised at
    the user's line the generated line came from (see :func:`adjoint.codegen.relocate`)."""
    @functools.wraps(derive_fn)
    def derive_located(fn, *args, **kwargs):
        try:
            return derive_fn(fn, *args, **kwargs)
        except AdjointError as err:
            moved = relocate(err)
            if moved is None:
                raise
            if isinstance(moved, NoRuleError):
                moved.hint = HIGHER_ORDER_HINT
            raise moved from err
    return derive_located


@user_located
def derive(fn, wrt=0, *, value=False, optimize=True, kinds=None, mode="grad", aux=False,
           checkpoint=None):
    """Reverse mode. ``mode`` is

    * ``"grad"``: ``(*params, dout=1.0) -> grads`` for a single output (``value=True``: returns
      ``(out, grads)``);
    * ``"vjp"``: ``(*params, dout) -> grads`` for any output; ``dout`` is the cotangent, a
      tuple of cotangents for a function returning a tuple;
    * ``"primal"``: ``(*params) -> out``, the normalized primal (what jit mode runs for values).

    ``aux=True`` (with ``mode="grad", value=True``): the function returns ``(loss, *aux)``
    (after flattening); only ``loss`` is differentiated, the whole output is the value.
    Tree arguments (``kinds`` holding :class:`adjoint.trees.TreeKind`) become one parameter per
    leaf (``Derived.flattening``); ``wrt`` then names the function's own parameters.
    ``checkpoint`` (an int ``s >= 1`` or ``"auto"``): loops of known trip count are reversed
    with binomial checkpointing (:mod:`adjoint.transforms.checkpoint`).
    """
    ctx, fdef, locals_, user_names = front(fn, kinds, wrt if mode != "primal" else ())
    params = [a.id for a in fdef.args.args]
    kinds = _complete_kinds(ctx.kinds, fdef)
    wrt_user, single, wrt_names, single_code = _wrt(fdef, wrt, ctx, mode)
    ret = fdef.body[-1]
    outputs = len(ret.value.elts) if isinstance(ret.value, g.Tuple) else 1
    if aux and outputs < 2:
        raise ctx.info.error(NonScalarOutputError, "with has_aux=True the function must return "
                             "a pair (loss, aux)", ret, "return loss, aux")
    if outputs != 1 and mode == "grad" and not aux:
        raise ctx.info.error(NonScalarOutputError,
                             f"{fdef.name} returns {outputs} values; grad needs one scalar "
                             "output", ret, "use adjoint.vjp(f) for tuple or array outputs")
    seed = ctx.namer.fresh("dout")

    # analyze: activity, the values the backward sweep reads, SSA for those, tape plans
    body = fdef.body[:-1]
    out_names = [a.id for a in _outputs(ret) if isinstance(a, g.Name)]
    active, _ = activity(body, wrt_names, out_names, ctx, locals_)
    check_effects(body, wrt_names, ctx, locals_)
    mutated = mutated_names(body)
    ssa = RenameNeeded(ctx.namer, needed_names(body, active, ctx, locals_), params, ctx)
    *body, ret = ssa(body + [ret])
    mutated |= mutated_names(body)  # the SSA versions of written arrays are written too
    locals_ = locals_ | g.assigned_names(body)
    active = _extend_active(body, active | {v for v, o in ssa.origin.items() if o in active})
    plans = PlanTape(ctx, ssa.needed, mutated, ssa.carried_by_loop, params)(body)
    ints = int_names(body, ctx, locals_)

    # differentiate: the backward sweep first (it decides what is recorded), then the forward
    rev = ReverseAD(ctx, body, active=active, needed=ssa.needed, plans=plans,
                    local_names=locals_, mutated=mutated, int_names=ints, params=params,
                    scalar_type=_scalar_types(body, params, kinds, ints, ctx))
    is_tuple = isinstance(ret.value, g.Tuple)
    seeds = [(atom.id, g.subscript(g.name(seed), g.const(k)) if is_tuple and not aux
              else g.name(seed))
             for k, atom in enumerate(_outputs(ret)[:1] if aux else _outputs(ret))
             if isinstance(atom, g.Name) and atom.id in active]
    backward = rev.backward(body, seeds) if mode != "primal" else []
    for stmt in backward:
        stmt.adjoint_sweep = "backward"
    forward = rev.forward(body)
    stores = []
    if checkpoint is not None and mode != "primal":
        checkpointing = CheckpointLoops(ctx, rev, plans, checkpoint, params)
        forward, backward = checkpointing(forward, backward)
        stores = checkpointing.stores

    # assemble the function
    gfn, value_name = _assemble(ctx, fdef, ret, rev, forward, backward, wrt_names,
                                single_code, mode, value, seed, mutated)
    scalar_output = False
    if optimize:
        shapes = _shapes(ctx, gfn.body, params, kinds, ints, plans, ret, seed, outputs)
        scalar_output = shapes.output_is_scalar
        rewritable = (g.assigned_names(gfn.body) - user_names) | set(
            ctx.namer._adjoint.values())
        rewritable -= set(rev.tapes) | set(params)
        Simplify(rewritable, shapes, {value_name} if value_name else set())(gfn)

    # emit and compile
    source, linemap = emit(gfn, ctx.info, _sections(gfn.body, mode))
    extra = runtime_fields(ctx, active, params)
    function, filename = compile_function(source, gfn.name, ctx.namespace,
                                          f"{gfn.name} of {fdef.name}", linemap=linemap)
    return Derived(source=source, function=function, name=gfn.name, params=params,
                   wrt=wrt_names, single=single, outputs=outputs, flattening=ctx.flattening,
                   wrt_params=wrt_user, namespace=ctx.namespace, tape_names=list(rev.tapes),
                   array_tapes=[t for p in plans.values() for t in p.arrays],
                   snapshot_stores=stores,
                   scalar_output=scalar_output, kinds=kinds, filename=filename,
                   linemap=linemap,
                   return_line=(ctx.info.filename, ret.lineno + ctx.info.line_offset),
                   **extra)


def _wrt(fdef, wrt, ctx, mode="grad"):
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


def runtime_fields(ctx, active, params):
    """The Derived fields the API needs at call time (globals to read, active parameters,
    where the def is); records in the namespace where each global came from, so that code
    derived from this code again reads the user's namespace too."""
    ctx.namespace[SOURCES] = {n: (b.container, b.key) for n, b in ctx.bindings.items()}
    info = ctx.info
    return {"bindings": tuple(ctx.bindings.values()),
            "active_params": frozenset(p for p in params if p in active),
            "def_line": (info.filename, info.line_offset + 1)}


def _outputs(ret):
    return list(ret.value.elts) if isinstance(ret.value, g.Tuple) else [ret.value]


def _complete_kinds(kinds, fdef):
    """Kinds for every parameter: those left at their defaults have their default's kind."""
    params = fdef.args.args
    if kinds is None or len(kinds) >= len(params):
        return kinds
    defaults = [None] * (len(params) - len(fdef.args.defaults)) + fdef.args.defaults
    return tuple(kinds) + tuple(
        "scalar" if isinstance(d, g.Constant) and isinstance(d.value, (int, float)) else None
        for d in defaults[len(kinds):])


def _assemble(ctx, fdef, ret, rev, forward, backward, wrt_names, single, mode, value, seed,
              mutated):
    """The generated FunctionDef (and the name holding the primal value, if returned)."""
    params = [a.id for a in fdef.args.args]
    results = []
    entry_zeros = []  # zeros of parameters the body rebinds, taken from their values on entry
    rebound = g.assigned_names(forward)
    for p in wrt_names:
        if p in rev.defined:
            d = g.name(ctx.namer.adjoint(p))
            results.append(d if rev.defined[p] else g.call("fresh", d))
        elif p in rebound:
            zero = ctx.namer.fresh(ctx.namer.adjoint(p) + "_entry")
            entry_zeros.append(g.assign(zero, g.call("zeros_like", g.name(p))))
            results.append(g.name(zero))
        else:
            results.append(g.call("zeros_like", g.name(p)))
    prologue = [g.assign(t, g.List(elts=[], ctx=g.Load()))
                for t in rev.tapes + rev.adjoint_lists]
    # The user's arrays are never mutated: parameters the function writes into are copied.
    copies = [g.assign(p, g.call(g.Attribute(value=g.name(p), attr="copy", ctx=g.Load())))
              for p in sorted(set(params) & mutated)]
    grads = (results[0] if single else g.tuple_(results)) if results else None
    value_name = None
    if value or mode == "primal":
        value_name = ctx.namer.fresh("value")
        keep = g.call("fresh", g.clone(ret.value)) if mutated and mode != "primal" else \
            g.clone(ret.value)
        forward = forward + [g.assign(value_name, keep)]
    if mode == "primal":
        final = g.return_(g.name(value_name))
    elif value:
        final = g.return_(g.tuple_([g.name(value_name), grads]))
    else:
        final = g.return_(grads)
    prefix = {"primal": "primal_", "vjp": "vjp_"}.get(mode, "value_and_grad_" if value else "d")
    name = ctx.namer.fresh(prefix + fdef.name)
    defaults = [g.clone(d) for d in fdef.args.defaults]
    fparams = params
    if mode == "grad" or (mode == "vjp" and defaults):
        # the seed defaults to 1.0 (a parameter after defaults needs one too)
        fparams, defaults = params + [seed], defaults + [g.const(1.0)]
    elif mode == "vjp":
        fparams = params + [seed]
    body = copies + prologue + entry_zeros + forward + backward + [final]
    return g.function(name, fparams, body, defaults=defaults), value_name


def _shapes(ctx, body, params, kinds, ints, plans, ret, seed, outputs):
    from .analysis.activity import resolve
    single_out = ret.value.id if outputs == 1 and isinstance(ret.value, g.Name) else None
    adjoint_of = {v: k for k, v in ctx.namer._adjoint.items()}
    shapes = Shapes(body, params, adjoint_of, single_out, seed=seed,
                    tapes=[t for p in plans.values() for t in p.arrays],
                    kinds=dict(zip(params, kinds)) if kinds else None, int_names=ints,
                    resolve=lambda e: resolve(e, ctx))
    shapes.output_is_scalar = single_out is not None and shapes.name(single_out) == "scalar"
    return shapes


def _sections(body, mode):
    """Section comments: where the forward and the backward sweep start."""
    sections = {}
    first_bwd = next((s for s in body if getattr(s, "adjoint_sweep", None)), None)
    first = body[0] if body else None
    if first is not None and first is not first_bwd and not isinstance(first, g.Return) \
            and mode != "primal":
        sections[id(first)] = "forward sweep"
    if first_bwd is not None:
        sections[id(first_bwd)] = "backward sweep"
    return sections


def _scalar_types(body, params, kinds, ints, ctx):
    """name -> NumPy dtype name of a value known to be a scalar, for typed tapes."""
    if not kinds:
        return lambda name: None
    from .analysis.activity import iter_assigns, resolve
    shapes = Shapes(body, params, {}, None, kinds=dict(zip(params, kinds)), int_names=ints,
                    resolve=lambda e: resolve(e, ctx))
    defs = {}
    for stmt in iter_assigns(body):
        if isinstance(stmt.targets[0], g.Name):
            defs.setdefault(stmt.targets[0].id, []).append(stmt.value)

    def boolean(v):
        return isinstance(v, g.Compare) or (isinstance(v, g.UnaryOp) and isinstance(
            v.op, g.Not)) or (isinstance(v, g.Constant) and isinstance(v.value, bool))

    def scalar_type(name):
        if shapes.name(name) != Shapes.SCALAR:
            return None
        values = defs.get(name, [])
        if values and all(boolean(v) for v in values):
            return "bool_"
        if name in ints:
            return "int64"
        if any(boolean(v) for v in values):
            return None
        return "float64"

    return scalar_type


def _extend_active(body, active):
    """SSA versions and loop copies of active names are active too."""
    active = set(active)
    changed = True
    while changed:
        changed = False
        for stmt in body:
            for n in g.walk(stmt):
                if isinstance(n, g.Assign) and isinstance(n.targets[0], g.Name) and \
                        isinstance(n.value, g.Name) and n.value.id in active and \
                        n.targets[0].id not in active:
                    active.add(n.targets[0].id)
                    changed = True
    return active


def signature_of(fn):
    try:
        return inspect.signature(fn)
    except (TypeError, ValueError):
        return None


__all__ = ["derive", "front", "normalize", "stages", "STAGES", "Derived", "value_parameters"]
