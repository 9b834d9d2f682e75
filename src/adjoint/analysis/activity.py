"""Classify ANF operations and find the active variables.

``classify`` says what one ANF right-hand side is (a copy, a call with a rule, a subscript, a
non-differentiable operation, an unknown call) by resolving the called object through the user's
namespace — so ``np.sin`` and ``numpy.sin`` are the same rule.

``Activity`` (an analysis: it never changes the tree) returns the set of *active* names: those
that depend on a ``wrt`` input through differentiable operations (*varied*) and reach the output
through differentiable operations (*useful*). Only active names get adjoint code. The analysis
is flow-insensitive (per name), which over-approximates and is therefore safe.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .. import grammar as g
from ..rules import registry

NONDIFF_ATTRIBUTES = frozenset({"shape", "ndim", "size", "dtype", "itemsize", "nbytes"})


@dataclass
class Op:
    kind: str  # copy | const | rule | subscript | nondiff | unknown | pack
    rule: object = None
    args: list = field(default_factory=list)  # atoms, in order (rule parameters)
    keywords: list = field(default_factory=list)  # (name, atom)
    obj: object = None  # the resolved callee, for messages
    label: str = ""  # how to name the operation in messages

    @property
    def differentiable(self):
        return self.kind in ("copy", "subscript", "pop") or (self.kind == "rule" and
                                                             not self.rule.nondiff)


def resolve(expr, info):
    """The object a global reference (``np.sin``, ``math.pi``, ``helper``) denotes, or
    (False, None)."""
    if isinstance(expr, g.Name):
        return info.lookup(expr.id)
    if isinstance(expr, g.Attribute):
        found, base = resolve(expr.value, info)
        if found and hasattr(base, expr.attr):
            return True, getattr(base, expr.attr)
    return False, None


def dotted_name(expr):
    if isinstance(expr, g.Name):
        return expr.id
    if isinstance(expr, g.Attribute):
        return f"{dotted_name(expr.value)}.{expr.attr}"
    return "<expression>"


def classify(value, info, local_names):
    """What the ANF right-hand side ``value`` computes."""
    if isinstance(value, g.Name):
        return Op("copy", args=[value]) if value.id in local_names else Op("const")
    if isinstance(value, (g.Constant,)):
        return Op("const")
    if isinstance(value, (g.BinOp, g.UnaryOp)):
        primal = g.primal_of(value)
        args = [value.left, value.right] if isinstance(value, g.BinOp) else [value.operand]
        rule = registry.lookup(primal)
        return Op("rule", rule=rule, args=args, obj=primal,
                  label=type(value.op).__name__) if rule else Op("unknown", args=args)
    if isinstance(value, g.Compare):
        return Op("nondiff", args=[value.left] + list(value.comparators))
    if isinstance(value, g.Subscript):
        if isinstance(value.value, g.Name) and value.value.id in local_names:
            return Op("subscript", args=[value.value])
        return _global_subscript(value, info, local_names)
    if isinstance(value, g.Attribute):
        if isinstance(value.value, g.Name) and value.value.id in local_names:
            if value.attr in NONDIFF_ATTRIBUTES:
                return Op("nondiff", args=[value.value])
            primal = registry.lookup_attribute(value.attr)
            rule = registry.lookup(primal) if primal is not None else None
            if rule is None:
                return Op("unknown", args=[value.value], label=f".{value.attr}")
            return Op("rule", rule=rule, args=[value.value], obj=primal,
                      label=f".{value.attr}")
        return Op("const")
    if isinstance(value, (g.Tuple, g.List)):
        return Op("pack", args=list(value.elts))
    if isinstance(value, g.Call):
        keywords = [(k.arg, k.value) for k in value.keywords]
        func = value.func
        if isinstance(func, g.Attribute) and isinstance(func.value, g.Name) and \
                func.value.id in local_names and func.attr == "pop" and not value.args:
            return Op("pop", args=[func.value])
        if isinstance(func, g.Attribute) and isinstance(func.value, g.Name) and \
                func.value.id in local_names:
            primal = registry.lookup_method(func.attr)
            rule = registry.lookup(primal) if primal is not None else None
            args = [func.value] + list(value.args)
            if rule is None:
                return Op("unknown", args=args, keywords=keywords, label=f".{func.attr}()")
            return Op("rule", rule=rule, args=args, keywords=keywords, obj=primal,
                      label=f".{func.attr}()")
        found, obj = resolve(func, info)
        label = dotted_name(func)
        rule = registry.lookup(obj) if found else None
        if rule is None:
            return Op("unknown", args=list(value.args), keywords=keywords, obj=obj,
                      label=label)
        return Op("rule", rule=rule, args=list(value.args), keywords=keywords, obj=obj,
                  label=label)
    return Op("unknown", label=type(value).__name__)


def _global_subscript(value, info, local_names):
    """``obj[items]`` for a global ``obj``: a rule keyed by ``obj`` (``np.r_[x, 0:3]``
    concatenates its items) takes the items as one tuple, slices with constant bounds written
    as ``slice(...)`` calls (a slice bound held in a local variable has no rule); otherwise the
    items are the inputs of an operation without a rule, so an active item is refused rather
    than silently given no derivative."""
    items = value.slice.elts if isinstance(value.slice, g.Tuple) else [value.slice]
    found, obj = resolve(value.value, info)
    rule = registry.lookup(obj) if found else None
    label = f"{dotted_name(value.value)}[...]"
    atoms, names = [], []
    for item in items:
        if isinstance(item, g.Slice):
            bounds = [item.lower, item.upper, item.step]
            computed = [b for b in bounds
                        if isinstance(b, g.Name) and b.id in local_names]
            names += computed
            if computed and rule is not None:
                rule, label = None, f"{label} with a slice bound computed at run time"
            item = g.call("slice", *[g.const(None) if b is None else b for b in bounds])
        elif isinstance(item, g.Name):
            names.append(item)
        atoms.append(item)
    if rule is None:
        return Op("unknown", args=names, obj=obj, label=label)
    return Op("rule", rule=rule, args=[g.tuple_(atoms)], obj=obj, label=label)


def atom_names(atom, local_names):
    """Local names an atom (or list/tuple of atoms) refers to."""
    if isinstance(atom, g.Name):
        return [atom.id] if atom.id in local_names else []
    if isinstance(atom, (g.List, g.Tuple)):
        return [n for e in atom.elts for n in atom_names(e, local_names)]
    return []


def op_inputs(op, local_names):
    names = []
    for a in op.args:
        names += atom_names(a, local_names)
    for _, a in op.keywords:
        names += atom_names(a, local_names)
    return names


def iter_assigns(stmts):
    """Every Assign in ``stmts``, at any depth, in program order; ``lst.append(v)`` counts as
    an assignment into ``lst``."""
    for stmt in stmts:
        if isinstance(stmt, g.Assign):
            yield stmt
        elif isinstance(stmt, g.Expr) and isinstance(stmt.value, g.Call):
            call = stmt.value
            yield g.assign(g.subscript(g.clone(call.func.value), g.const(-1), store=True),
                           call.args[0])
        elif isinstance(stmt, g.If):
            yield from iter_assigns(stmt.body)
            yield from iter_assigns(stmt.orelse)
        elif isinstance(stmt, (g.For, g.While)):
            yield from iter_assigns(stmt.body)


def activity(body, wrt, outputs, info, local_names):
    """The set of active names of an ANF ``body``."""
    assigns = list(iter_assigns(body))
    ops = {}
    reads = []  # (target or written array, the names it is computed from, differentiably)
    for stmt in assigns:
        target = stmt.targets[0]
        if isinstance(target, g.Name):
            op = ops[id(stmt)] = classify(stmt.value, info, local_names)
            diff = op.kind not in ("nondiff", "const") and (op.kind != "rule" or
                                                             not op.rule.nondiff)
            reads.append((target.id, set(op_inputs(op, local_names)) if diff else set()))
        else:
            reads.append((target.value.id, set(atom_names(stmt.value, local_names))))
    # Both closures are fixpoints; sweeping in the direction values flow (forward for
    # "varied", backward for "useful") reaches them in one pass for straight-line code.
    varied = set(wrt)
    changed = True
    while changed:
        changed = False
        for name, inputs in reads:
            if name not in varied and inputs & varied:
                varied.add(name)
                changed = True
    useful = set(outputs)
    changed = True
    while changed:
        changed = False
        for name, inputs in reversed(reads):
            if name in useful and not inputs <= useful:
                useful |= inputs
                changed = True
    return varied & useful, ops
