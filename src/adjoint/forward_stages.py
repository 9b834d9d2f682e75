"""Forward mode's stages after the front end: activity, the forward transform, the optimizer,
and emitting the generated function.

Takes the state of one derivation after :data:`adjoint.pipeline.FRONT` (``ctx``, ``fdef``,
``locals_``, ``user_names``) and its options (``wrt``, ``optimize``); each stage function reads
and extends the state, in the order :data:`adjoint.pipeline.FORWARD` gives (this module knows
no order). Forward mode needs no SSA renaming and no tape: each tangent is computed beside its
primal statement, in program order, so the function's own normalized ANF is transformed
directly. The last stage leaves ``state.derived``, whose ``function`` has the calling
convention

    derived.function(*args, *tangents) -> (value, tangent)

— every parameter of ``fn``, positionally, followed by one tangent per ``wrt`` parameter, in
``derived.wrt``'s order, each of its parameter's shape (a float for a float or int argument).
``fn``'s defaults are kept; when it has some, each tangent defaults to the unit seed ``1.0``
(as reverse mode's ``dout=1.0``) only because Python needs a default after a defaulted
parameter: a caller omitting defaulted arguments must pass the tangents after the defaults
filled in (``function.__defaults__`` lists them, tangents' last). ``value`` is ``fn(*args)``;
``tangent`` is the directional derivative Σ_k ∂fn/∂wrt_k · tangent_k, of the output's shape,
always a float or a float array owned by the caller. A function returning a k-tuple gives
``((v_0, ..., v_{k-1}), (t_0, ..., t_{k-1}))`` and ``derived.outputs == k``. Outputs that do
not depend on the ``wrt`` arguments have zero tangents. An int argument named in ``wrt`` is
differentiated as the float it stands for. ``derived.params`` lists ``fn``'s parameters (not
the tangents); ``derived.single`` says whether ``wrt`` named one parameter;
``derived.scalar_output`` whether the output is provably a scalar for the kinds. The same
source compiles with ``numba.njit`` (:func:`adjoint.jit.njit_derived`).

    def f(x):                    def jvp_f(x, x_dot):
        return x * x                 x_dot = as_float(x_dot)
                                     result = x * x
                                     result_dot = x_dot * x + x_dot * x
                                     return (result, result_dot)
"""

from __future__ import annotations

from . import grammar as g
from .analysis.activity import activity as find_active
from .analysis.activity import resolve
from .analysis.defuse import int_names, mutated_names
from .analysis.effects import check_effects
from .analysis.ranks import Ranks
from .analysis.shapes import Shapes
from .codegen import compile_function
from .codegen import emit as emit_source
from .derived import Derived, runtime_fields
from .front import wrt_parameters
from .template import ZERO_NAME
from .transforms.forward import ForwardAD
from .transforms.simplify import Simplify
from .transforms.zero_tangent import ZERO_OF


def activity(state):
    """``wrt`` resolved, the outputs found, the active names found; calls made for their effect
    checked (:mod:`adjoint.analysis.effects`)."""
    ctx, fdef = state.ctx, state.fdef
    state.kinds = ctx.kinds
    state.params = [a.id for a in fdef.args.args]
    state.wrt_user, state.single, state.wrt_names, _ = wrt_parameters(fdef, state.wrt, ctx)
    ret = state.ret = fdef.body[-1]
    state.outputs = len(ret.value.elts) if isinstance(ret.value, g.Tuple) else 1
    state.out_atoms = ret.value.elts if isinstance(ret.value, g.Tuple) else [ret.value]
    out_names = [a.id for a in state.out_atoms if isinstance(a, g.Name)]
    body = state.body = fdef.body[:-1]
    state.active, _ = find_active(body, state.wrt_names, out_names, ctx, state.locals_)
    check_effects(body, state.wrt_names, ctx, state.locals_)


def forward(state):
    """A tangent statement beside each primal statement (:mod:`adjoint.transforms.forward`)."""
    ctx, body = state.ctx, state.body
    state.name = ctx.namer.fresh("jvp_" + state.fdef.name)
    state.ints = int_names(body, ctx, state.locals_)
    transform = ForwardAD(ctx, active=state.active, local_names=state.locals_,
                          mutated=mutated_names(body), int_names=state.ints)
    state.jfn = transform(state.fdef, state.wrt_names, state.name)


def simplify(state):
    """The optimizer, with the shapes the argument kinds prove (``optimize=True`` only)."""
    state.scalar_output = False
    if not state.optimize:
        return
    ctx, jfn, params, kinds = state.ctx, state.jfn, state.params, state.kinds
    tangent_of = {t: p for p, t in ctx.namer._tangent.items()}
    rewritable = (state.locals_ - state.user_names) | set(tangent_of)
    rewritable -= set(params) | {ctx.namer.tangent(p) for p in state.wrt_names}

    def shapes():
        return Shapes(jfn.body, params, tangent_of, None,
                      kinds=dict(zip(params, kinds)) if kinds else None, int_names=state.ints,
                      resolve=lambda e: resolve(e, ctx),
                      ranks=Ranks.of_body(jfn.body, ctx, params, kinds, state.ints)
                      if kinds else None)

    Simplify(rewritable, shapes())(jfn)
    final = shapes()
    state.scalar_output = state.outputs == 1 and _is_scalar(state.out_atoms[0], final)
    _drop_needless_fresh(jfn, final)


def emit(state):
    """The source text, compiled; ``state.derived`` is the result."""
    ctx, jfn, fdef, name = state.ctx, state.jfn, state.fdef, state.name
    info = ctx.info
    source, linemap = emit_source(jfn, info)
    if ZERO_NAME in source or ZERO_OF in source:  # fold_zero's guarantee; a leak would fail
        raise AssertionError(f"the symbolic zero reached generated code:\n{source}")
    label = f"{name} of {fdef.name}"
    extra = runtime_fields(ctx, state.active, state.params)
    function, filename = compile_function(source, name, ctx.namespace, label, linemap=linemap)
    state.derived = Derived(
        source=source, function=function, name=name, params=state.params,
        wrt=state.wrt_names, single=state.single, outputs=state.outputs,
        namespace=ctx.namespace, flattening=ctx.flattening, wrt_params=state.wrt_user,
        scalar_output=state.scalar_output, kinds=state.kinds, filename=filename,
        linemap=linemap, return_line=(info.filename, state.ret.lineno + info.line_offset),
        **extra)


def _is_scalar(atom, shapes):
    if isinstance(atom, g.Constant):
        return True
    return isinstance(atom, g.Name) and shapes.name(atom.id) == Shapes.SCALAR


def _drop_needless_fresh(jfn, shapes):
    """``return (v, fresh(t))`` -> ``return (v, t)`` where ``t`` is a scalar or an array this
    function allocated (every definition is arithmetic or ``zeros_like``): no caller can
    share it."""
    ret = jfn.body[-1]
    if not isinstance(ret, g.Return):
        return
    defs = {}
    for node in g.walk(jfn):
        if isinstance(node, g.Assign) and isinstance(node.targets[0], g.Name):
            defs.setdefault(node.targets[0].id, []).append(node.value)
    params = {a.id for a in jfn.args.args}

    def owned(name):
        if shapes.name(name) == Shapes.SCALAR:
            return True
        values = defs.get(name)
        return bool(values) and name not in params and all(
            isinstance(v, (g.BinOp, g.UnaryOp)) or _is_call(v, "zeros_like") for v in values)

    tangent = ret.value.elts[1]
    parts = tangent.elts if isinstance(tangent, g.Tuple) else [tangent]
    for k, part in enumerate(parts):
        if _is_call(part, "fresh") and (
                isinstance(part.args[0], g.Constant) or
                isinstance(part.args[0], g.Name) and owned(part.args[0].id)):
            parts[k] = part.args[0]
    if not isinstance(tangent, g.Tuple):
        ret.value.elts[1] = parts[0]


def _is_call(node, func):
    return isinstance(node, g.Call) and g.is_name(node.func, func)
