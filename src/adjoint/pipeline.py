"""The pipeline: the one place where the order of the stages lives.

    source ─parse─▶ gast ─check─▶ ─control─▶ ─anf─▶ ─inline─▶ ─views─▶ ─activity─▶ ─ssa─▶ ─tbr─▶
           ─reverse─▶ ─simplify─▶ ─emit─▶ Python source ─compile─▶ function

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
from .analysis.shapes import Shapes
from .analysis.syntax import check_syntax
from .analysis.tbr import PlanTape
from .bindings import stale
from .codegen import compile_function, emit, relocate
from .context import RULE_GLOBALS, Context
from .errors import AdjointError, NonScalarOutputError, NoRuleError, WrtError
from .naming import Namer
from .source import SOURCES, parse_callable
from .transforms.anf import ToANF
from .transforms.control import NormalizeControl
from .transforms.inline import InlineCalls
from .transforms.reverse import ReverseAD
from .transforms.simplify import Simplify
from .transforms.ssa import RenameNeeded
from .transforms.views import SeparateViews


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
    scalar_output: bool = False  # the output is provably a scalar for these argument kinds
    kinds: tuple | None = None  # the argument kinds this code is specialised to
    filename: str = ""  # the name the generated code is compiled (and linecache'd) under
    linemap: dict = field(default_factory=dict)  # generated line -> (user file, user line)
    return_line: tuple = (None, None)  # the user's return statement: (file, line)
    def_line: tuple = (None, None)  # the user's def statement: (file, line)
    bindings: tuple = ()  # the user's globals the code reads (adjoint.bindings.Binding)
    active_params: frozenset = frozenset()  # parameters that carry derivatives

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
    locals_ = _local_names(fdef)
    NormalizeControl(namer, info)(fdef)
    locals_ = _local_names(fdef)
    ToANF(namer, info, locals_)(fdef)
    return fdef, _local_names(fdef)


def _normalize_callee(fdef, info):
    namer = Namer(_local_names(fdef) | set(RULE_GLOBALS) | {"d"})
    return normalize(fdef, info, namer)


def front(fn, kinds=None):
    """Parse, normalize and inline ``fn``: (ctx, fdef, local names, user names). ``fn`` may be
    a transformed function: its generated code is what gets transformed (higher order)."""
    from .api import Transformed
    if isinstance(fn, Transformed):
        fn = fn.derive_for_kinds(kinds).function
    fdef, info = parse_callable(fn)
    ctx = Context(info, _local_names(fdef))
    _rename_apart(fdef, ctx.namer)
    user_names = _local_names(fdef)
    fdef, locals_ = normalize(fdef, info, ctx.namer)
    ctx.collect_globals(fdef.body, locals_, info)
    inliner = InlineCalls(ctx, _normalize_callee)
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


STAGES = ("parse", "control", "anf", "inline", "views", "ssa")


def stages(fn, wrt=0):
    """[(stage name, source after that stage)] for the normalization stages, in order — what
    the CLI's ``show --stage`` prints. The last entry is the code reverse mode starts from."""
    import copy as _copy
    fdef, info = parse_callable(fn)
    check_syntax(fdef, info)
    out = [("parse", g.unparse(fdef))]
    ctx = Context(info, _local_names(fdef))
    _rename_apart(fdef, ctx.namer)
    NormalizeControl(ctx.namer, info)(fdef)
    out.append(("control", g.unparse(fdef)))
    ToANF(ctx.namer, info, _local_names(fdef))(fdef)
    out.append(("anf", g.unparse(fdef)))
    locals_ = _local_names(fdef)
    ctx.collect_globals(fdef.body, locals_, info)
    fdef.body = InlineCalls(ctx, _normalize_callee)(fdef.body, info, set(locals_))
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


def resolve_wrt(fdef, wrt, info):
    params = [a.id for a in fdef.args.args]
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
def derive(fn, wrt=0, *, value=False, optimize=True, kinds=None, mode="grad"):
    """Reverse mode. ``mode`` is

    * ``"grad"``: ``(*params, dout=1.0) -> grads`` for a single output (``value=True``: returns
      ``(out, grads)``);
    * ``"vjp"``: ``(*params, dout) -> grads`` for any output; ``dout`` is the cotangent, a
      tuple of cotangents for a function returning a tuple;
    * ``"primal"``: ``(*params) -> out``, the normalized primal (what jit mode runs for values).
    """
    ctx, fdef, locals_, user_names = front(fn, kinds)
    params = [a.id for a in fdef.args.args]
    kinds = _complete_kinds(kinds, fdef)
    wrt_names, single = resolve_wrt(fdef, wrt, ctx.info) if mode != "primal" else ([], True)
    ret = fdef.body[-1]
    outputs = len(ret.value.elts) if isinstance(ret.value, g.Tuple) else 1
    if outputs != 1 and mode == "grad":
        raise ctx.info.error(NonScalarOutputError,
                             f"{fdef.name} returns {outputs} values; grad needs one scalar "
                             "output", ret, "use adjoint.vjp(f) for tuple or array outputs")
    seed = ctx.namer.fresh("dout")

    # analyze: activity, the values the backward sweep reads, SSA for those, tape plans
    body = fdef.body[:-1]
    out_names = [a.id for a in _outputs(ret) if isinstance(a, g.Name)]
    active, _ = activity(body, wrt_names, out_names, ctx, locals_)
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
    seeds = [(atom.id, g.subscript(g.name(seed), g.const(k)) if is_tuple else g.name(seed))
             for k, atom in enumerate(_outputs(ret))
             if isinstance(atom, g.Name) and atom.id in active]
    backward = rev.backward(body, seeds) if mode != "primal" else []
    for stmt in backward:
        stmt.adjoint_sweep = "backward"
    forward = rev.forward(body)

    # assemble the function
    gfn, value_name = _assemble(ctx, fdef, ret, rev, forward, backward, wrt_names, single,
                                mode, value, seed, mutated)
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
                   wrt=wrt_names, single=single, outputs=outputs,
                   namespace=ctx.namespace, tape_names=list(rev.tapes),
                   array_tapes=[t for p in plans.values() for t in p.arrays],
                   scalar_output=scalar_output, kinds=kinds, filename=filename,
                   linemap=linemap,
                   return_line=(ctx.info.filename, ret.lineno + ctx.info.line_offset),
                   **extra)


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
    for p in wrt_names:
        if p in rev.defined:
            d = g.name(ctx.namer.adjoint(p))
            results.append(d if rev.defined[p] else g.call("fresh", d))
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
    body = copies + prologue + forward + backward + [final]
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


__all__ = ["derive", "front", "normalize", "stages", "STAGES", "Derived"]
