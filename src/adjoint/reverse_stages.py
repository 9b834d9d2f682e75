"""Reverse mode's stages after the front end: analyses, SSA, tape plans, the reverse transform,
the optimizer, and emitting the generated function.

Takes the state of one derivation after :data:`adjoint.pipeline.FRONT` (``ctx``, ``fdef``,
``locals_``, ``user_names``) and the mode's options (``mode``: ``"grad"``, ``"vjp"`` or
``"primal"``; ``value``, ``aux``, ``optimize``); each stage function reads and extends the
state, in the order :data:`adjoint.pipeline.REVERSE` gives (this module knows no order). The
last stage leaves ``state.derived``, the :class:`adjoint.derived.Derived` code:

* ``"grad"``: ``(*params, dout=1.0) -> grads`` for a single output (``value=True``: returns
  ``(out, grads)``);
* ``"vjp"``: ``(*params, dout) -> grads`` for any output; ``dout`` is the cotangent, a tuple
  of cotangents for a function returning a tuple;
* ``"primal"``: ``(*params) -> out``, the normalized primal (what jit mode runs for values).

``aux=True`` (with ``mode="grad", value=True``): the function returns ``(loss, *aux)`` (after
flattening); only ``loss`` is differentiated, the whole output is the value.

    def f(x):                    def df(x, dout=1.0):
        return x * x                 dx = dout * (2 * x)
                                     return dx
"""

from __future__ import annotations

from . import grammar as g
from .analysis.activity import activity as find_active
from .analysis.activity import iter_assigns, resolve
from .analysis.defuse import int_names, mutated_names, needed_names
from .analysis.effects import check_effects
from .analysis.ranks import Ranks
from .analysis.shapes import Shapes
from .analysis.tbr import PlanTape
from .codegen import compile_function
from .codegen import emit as emit_source
from .derived import Derived, runtime_fields
from .errors import NonScalarOutputError
from .front import complete_kinds, wrt_parameters
from .transforms.checkpoint import CheckpointLoops
from .transforms.reverse import ReverseAD
from .transforms.simplify import Simplify
from .transforms.ssa import RenameNeeded


def activity(state):
    """``wrt`` resolved, the outputs checked and seeded, the active names found; calls made
    for their effect checked (:mod:`adjoint.analysis.effects`)."""
    ctx, fdef, mode = state.ctx, state.fdef, state.mode
    state.params = [a.id for a in fdef.args.args]
    state.kinds = complete_kinds(ctx.kinds, fdef)
    (state.wrt_user, state.single, state.wrt_names,
     state.single_code) = wrt_parameters(fdef, state.wrt, ctx, mode)
    ret = state.ret = fdef.body[-1]
    outputs = state.outputs = len(ret.value.elts) if isinstance(ret.value, g.Tuple) else 1
    if state.aux and outputs < 2:
        raise ctx.info.error(NonScalarOutputError, "with has_aux=True the function must return "
                             "a pair (loss, aux)", ret, "return loss, aux")
    if outputs != 1 and mode == "grad" and not state.aux:
        raise ctx.info.error(NonScalarOutputError,
                             f"{fdef.name} returns {outputs} values; grad needs one scalar "
                             "output", ret, "use adjoint.vjp(f) for tuple or array outputs")
    state.seed = ctx.namer.fresh("dout")
    body = state.body = fdef.body[:-1]
    out_names = [a.id for a in _outputs(ret) if isinstance(a, g.Name)]
    state.active, _ = find_active(body, state.wrt_names, out_names, ctx, state.locals_)
    check_effects(body, state.wrt_names, ctx, state.locals_)


def ssa(state):
    """Static single assignment for the names the backward sweep reads."""
    ctx, body, active = state.ctx, state.body, state.active
    mutated = mutated_names(body)
    rename = state.rename = RenameNeeded(
        ctx.namer, needed_names(body, active, ctx, state.locals_), state.params, ctx)
    *body, state.ret = rename(body + [state.ret])
    state.body = body
    state.fdef.body = body + [state.ret]  # (what show --stage ssa prints)
    state.mutated = mutated | mutated_names(body)  # SSA versions of written arrays: written
    state.locals_ = state.locals_ | g.assigned_names(body)
    state.active = _extend_active(body, active | {v for v, o in rename.origin.items()
                                                  if o in active})


def tbr(state):
    """Per loop, how the backward iteration gets back the values it reads (tape plans)."""
    ctx, body = state.ctx, state.body
    state.plans = PlanTape(ctx, state.rename.needed, state.mutated,
                           state.rename.carried_by_loop, state.params)(body)
    state.ints = int_names(body, ctx, state.locals_)


def reverse(state):
    """The backward sweep first (it decides what is recorded), then the forward sweep."""
    ctx, body, params, ret = state.ctx, state.body, state.params, state.ret
    rev = state.rev = ReverseAD(
        ctx, body, active=state.active, needed=state.rename.needed, plans=state.plans,
        local_names=state.locals_, mutated=state.mutated, int_names=state.ints, params=params,
        scalar_type=_scalar_types(body, params, state.kinds, state.ints, ctx))
    is_tuple = isinstance(ret.value, g.Tuple)
    seed = state.seed
    seeds = [(atom.id, g.subscript(g.name(seed), g.const(k)) if is_tuple and not state.aux
              else g.name(seed))
             for k, atom in enumerate(_outputs(ret)[:1] if state.aux else _outputs(ret))
             if isinstance(atom, g.Name) and atom.id in state.active]
    backward = rev.backward(body, seeds) if state.mode != "primal" else []
    for stmt in backward:
        stmt.adjoint_sweep = "backward"
    state.forward, state.backward = rev.forward(body), backward


def checkpoint(state):
    """With the checkpoint option, loops of known trip count reversed by binomial
    checkpointing (:mod:`adjoint.transforms.checkpoint`) instead of a tape of every
    iteration."""
    state.stores = []
    if state.checkpoint is None or state.mode == "primal":
        return
    checkpointing = CheckpointLoops(state.ctx, state.rev, state.plans, state.checkpoint,
                                    state.params)
    state.forward, state.backward = checkpointing(state.forward, state.backward)
    state.stores = checkpointing.stores


def assemble(state):
    """The generated function around the two sweeps."""
    state.gfn, state.value_name = _assemble(
        state.ctx, state.fdef, state.ret, state.rev, state.forward, state.backward,
        state.wrt_names, state.single_code, state.mode, state.value, state.seed, state.mutated)


def simplify(state):
    """The optimizer, with the shapes the argument kinds prove (``optimize=True`` only)."""
    state.scalar_output = False
    if not state.optimize:
        return
    ctx, gfn, params = state.ctx, state.gfn, state.params
    shapes = _shapes(ctx, gfn.body, params, state.kinds, state.ints, state.plans, state.ret,
                     state.seed, state.outputs)
    state.scalar_output = shapes.output_is_scalar
    rewritable = (g.assigned_names(gfn.body) - state.user_names) | set(
        ctx.namer._adjoint.values())
    rewritable -= set(state.rev.tapes) | set(params)
    Simplify(rewritable, shapes, {state.value_name} if state.value_name else set())(gfn)


def emit(state):
    """The source text, compiled; ``state.derived`` is the result."""
    ctx, gfn, fdef, rev, params = state.ctx, state.gfn, state.fdef, state.rev, state.params
    source, linemap = emit_source(gfn, ctx.info, _sections(gfn.body, state.mode))
    extra = runtime_fields(ctx, state.active, params)
    function, filename = compile_function(source, gfn.name, ctx.namespace,
                                          f"{gfn.name} of {fdef.name}", linemap=linemap)
    state.derived = Derived(
        source=source, function=function, name=gfn.name, params=params,
        wrt=state.wrt_names, single=state.single, outputs=state.outputs,
        flattening=ctx.flattening, wrt_params=state.wrt_user, namespace=ctx.namespace,
        tape_names=list(rev.tapes),
        array_tapes=[t for p in state.plans.values() for t in p.arrays],
        snapshot_stores=state.stores,
        scalar_output=state.scalar_output, kinds=state.kinds, filename=filename,
        linemap=linemap,
        return_line=(ctx.info.filename, state.ret.lineno + ctx.info.line_offset), **extra)


# -- helpers ------------------------------------------------------------------------------------
def _outputs(ret):
    return list(ret.value.elts) if isinstance(ret.value, g.Tuple) else [ret.value]


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
    single_out = ret.value.id if outputs == 1 and isinstance(ret.value, g.Name) else None
    adjoint_of = {v: k for k, v in ctx.namer._adjoint.items()}
    shapes = Shapes(body, params, adjoint_of, single_out, seed=seed,
                    tapes=[t for p in plans.values() for t in p.arrays],
                    kinds=dict(zip(params, kinds)) if kinds else None, int_names=ints,
                    resolve=lambda e: resolve(e, ctx),
                    ranks=Ranks.of_body(body, ctx, params, kinds, ints) if kinds else None)
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
