"""Forward mode's pipeline: the stages of :mod:`adjoint.pipeline`, with ForwardAD in the middle.

    source ─front (parse, check, control, anf, inline, views)─▶ ─activity─▶ ─forward─▶ ─simplify─▶
           ─emit─▶ Python source ─compile─▶ function

Forward mode needs no SSA renaming and no tape: each tangent is computed beside its primal
statement, in program order, so the function's own normalized ANF is transformed directly.
"""

from __future__ import annotations

from . import grammar as g
from .analysis.activity import activity, resolve
from .analysis.defuse import int_names, mutated_names
from .analysis.effects import check_effects
from .analysis.shapes import Shapes
from .codegen import compile_function, emit
from .pipeline import Derived, _wrt, front, plain_kinds, runtime_fields, user_located
from .template import ZERO_NAME
from .transforms.forward import ForwardAD
from .transforms.simplify import Simplify
from .transforms.zero_tangent import ZERO_OF


@user_located
def derive_jvp(fn, wrt=0, *, optimize=True, kinds=None):
    """Forward mode: generate, compile and describe the jvp of ``fn``.

    ``wrt`` is an int (position), a str (parameter name) or a tuple of them, as for ``grad``.
    ``kinds`` optionally gives, per parameter of ``fn``, what the code may assume of the
    argument: ``"scalar"``, an array's ``ndim`` (int), or None; it only makes the optimized code
    shorter (shapes proven equal drop their ``unbroadcast``) and is recorded on the result.

    Returns a :class:`adjoint.pipeline.Derived` whose ``function`` has the calling convention

        derived.function(*args, *tangents) -> (value, tangent)

    — every parameter of ``fn``, positionally, followed by one tangent per ``wrt`` parameter,
    in ``derived.wrt``'s order, each of its parameter's shape (a float for a float or int
    argument). ``fn``'s defaults are kept; when it has some, each tangent defaults to the unit
    seed ``1.0`` (as reverse mode's ``dout=1.0``) only because Python needs a default after a
    defaulted parameter: a caller omitting defaulted arguments must pass the tangents after the
    defaults filled in (``function.__defaults__`` lists them, tangents' last). ``value`` is
    ``fn(*args)``; ``tangent`` is the directional derivative Σ_k ∂fn/∂wrt_k · tangent_k, of the
    output's shape, always a float or a float array owned by the caller. A function returning
    a k-tuple gives
    ``((v_0, ..., v_{k-1}), (t_0, ..., t_{k-1}))`` and ``derived.outputs == k``. Outputs that do
    not depend on the ``wrt`` arguments have zero tangents. An int argument named in ``wrt`` is
    differentiated as the float it stands for. ``derived.params`` lists ``fn``'s parameters (not
    the tangents); ``derived.single`` says whether ``wrt`` named one parameter;
    ``derived.scalar_output`` whether the output is provably a scalar for ``kinds``. The same
    source compiles with ``numba.njit`` (:func:`adjoint.jit.njit_derived`).
    """
    ctx, fdef, locals_, user_names = front(fn, kinds, wrt)
    kinds = plain_kinds(kinds)
    info = ctx.info
    kinds = ctx.kinds
    params = [a.id for a in fdef.args.args]
    wrt_user, single, wrt_names, _ = _wrt(fdef, wrt, ctx)
    ret = fdef.body[-1]
    outputs = len(ret.value.elts) if isinstance(ret.value, g.Tuple) else 1
    out_atoms = ret.value.elts if isinstance(ret.value, g.Tuple) else [ret.value]
    out_names = [a.id for a in out_atoms if isinstance(a, g.Name)]
    body = fdef.body[:-1]
    active, _ = activity(body, wrt_names, out_names, ctx, locals_)
    check_effects(body, wrt_names, ctx, locals_)
    name = ctx.namer.fresh("jvp_" + fdef.name)
    ints = int_names(body, ctx, locals_)
    forward = ForwardAD(ctx, active=active, local_names=locals_, mutated=mutated_names(body),
                        int_names=ints)
    jfn = forward(fdef, wrt_names, name)
    tangent_of = {t: p for p, t in ctx.namer._tangent.items()}
    scalar_output = False
    if optimize:
        rewritable = (locals_ - user_names) | set(tangent_of)
        rewritable -= set(params) | {ctx.namer.tangent(p) for p in wrt_names}

        def shapes():
            return Shapes(jfn.body, params, tangent_of, None,
                          kinds=dict(zip(params, kinds)) if kinds else None, int_names=ints,
                          resolve=lambda e: resolve(e, ctx))

        Simplify(rewritable, shapes())(jfn)
        final = shapes()
        scalar_output = outputs == 1 and _is_scalar(out_atoms[0], final)
        _drop_needless_fresh(jfn, final)
    source, linemap = emit(jfn, info)
    if ZERO_NAME in source or ZERO_OF in source:  # fold_zero's guarantee; a leak would fail
        raise AssertionError(f"the symbolic zero reached generated code:\n{source}")
    label = f"{name} of {fdef.name}"
    extra = runtime_fields(ctx, active, params)
    function, filename = compile_function(source, name, ctx.namespace, label, linemap=linemap)
    return Derived(source=source, function=function, name=name, params=params,
                   wrt=wrt_names, single=single, outputs=outputs, namespace=ctx.namespace,
                   flattening=ctx.flattening, wrt_params=wrt_user,
                   scalar_output=scalar_output, kinds=kinds, filename=filename,
                   linemap=linemap, return_line=(info.filename, ret.lineno + info.line_offset),
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
