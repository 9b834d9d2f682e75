"""Filling rule templates: placeholders -> atoms, ``d[x]`` -> adjoint or tangent names.

Takes a :class:`adjoint.rules.registry.Rule` and one ANF call (result name, atoms bound to the
rule's parameters); returns plain statements and expressions ready to splice into generated
code. Template temporaries get fresh names from the function's Namer; contributions to
parameters bound to constants or inactive values are dropped here, so they never appear.

Also answers, without filling anything, which parameters' *values* a rule reads for the
contribution to a given argument (:func:`reads_for`) — the input of the to-be-recorded analysis.
"""

from __future__ import annotations

from . import grammar as g
from .errors import UnsupportedSyntaxError


class Bound:
    """A rule's parameters bound to the atoms of one call."""

    def __init__(self, rule, args, keywords, node, info):
        self.rule = rule
        params = rule.params
        values = {}
        if len(args) > len(params):
            raise info.error(UnsupportedSyntaxError,
                             f"{rule.name} takes at most {len(params)} positional arguments "
                             f"in adjoint's rule", node, "check the call's arguments")
        for p, a in zip(params, args):
            values[p] = a
        for kw, value in keywords:
            if kw not in params:
                raise info.error(UnsupportedSyntaxError,
                                 f"adjoint's rule for {rule.name} does not support the keyword "
                                 f"{kw!r}", node,
                                 f"supported parameters: {', '.join(params)}")
            values[kw] = value
        out = values.get("out")
        if out is not None and not g.is_const(out, None):
            raise info.error(UnsupportedSyntaxError,
                             f"{rule.name}: out= (writing into an existing array) is not "
                             "supported", node, "assign the result instead: y = f(x)")
        for p in params:
            if p not in values:
                if p not in rule.defaults:
                    raise info.error(UnsupportedSyntaxError,
                                     f"{rule.name}: missing argument {p!r}", node,
                                     "pass every required argument")
                values[p] = g.clone(rule.defaults[p])
        self.values = values  # param -> atom (Name / Constant / global ref / List of atoms)


def _sub_names(node, mapping):
    """Replace Name loads whose id is in ``mapping`` (by deep copies of the mapped nodes)."""
    new = InlineConstantHelpers().visit(_SubNames(mapping).visit(g.clone(node)))
    # The rule module's line numbers mean nothing in the user's file: the caller gives the
    # copy the location of the statement being differentiated.
    for n in g.all_nodes(new):
        for attr in ("lineno", "end_lineno", "col_offset", "end_col_offset"):
            if hasattr(n, attr):
                setattr(n, attr, None)
    return new


class _SubNames(g.NodeTransformer):
    def __init__(self, mapping):
        self.mapping = mapping

    def visit_Name(self, n):
        if n.id in self.mapping:
            return g.clone(self.mapping[n.id])
        return n

    def visit_Subscript(self, n):
        # d[p] names a placeholder's adjoint or tangent: _replace_d resolves it later.
        if _is_d(n):
            return n
        self.generic_visit(n)
        return n


def _number(node):
    """The value of a numeric constant atom (``2``, ``-0.5``), or None."""
    if isinstance(node, g.UnaryOp) and isinstance(node.op, g.USub):
        value = _number(node.operand)
        return None if value is None else -value
    if isinstance(node, g.Constant) and isinstance(node.value, (int, float)) and \
            not isinstance(node.value, bool):
        return node.value
    return None


class InlineConstantHelpers(g.NodeTransformer):
    """Write a runtime helper called with constant arguments as the plain expression it then
    equals, so that generated code reads as arithmetic and the optimizer can fold it:

    - ``a if flag else b`` with a constant flag is the branch it takes;
    - ``astype_vjp(g, None)`` (no ``dtype=``) is ``g``;
    - the einsum helpers drop the trailing ``None`` of absent operands;
    - ``pow_dx(a, c)`` is ``0.0`` for ``c == 0`` and ``c * a ** (c - 1)`` for a constant
      ``c`` outside ``(0, 1)``, where that expression has no singularity the primal lacks
      (``0.0 ** (c - 1)`` with ``c >= 1`` is finite; with ``c < 0`` the primal ``0.0 ** c``
      already divides by zero). Between 0 and 1 the helper gives ``inf`` at ``a == 0``.
    """

    def visit_IfExp(self, node):
        self.generic_visit(node)
        if isinstance(node.test, g.Constant):  # `a if compute_uv else b`, compute_uv given
            return node.body if node.test.value else node.orelse
        return node

    def visit_Call(self, node):
        self.generic_visit(node)
        if not isinstance(node.func, g.Name) or node.keywords:
            return node
        if node.func.id == "astype_vjp" and len(node.args) == 2 and \
                g.is_const(node.args[1], None):
            return node.args[0]
        if node.func.id in ("einsum_of", "einsum_spec", "einsum_adjoint"):
            while len(node.args) > 2 and g.is_const(node.args[-1], None):
                node.args.pop()  # absent operands default to None
            return node
        if node.func.id == "pow_dx" and len(node.args) == 2:
            c = _number(node.args[1])
            if c is None or 0 < c < 1:
                return node
            if c == 0:
                return g.const(0.0)
            return g.binop(g.const(c), g.Mult, g.binop(node.args[0], g.Pow, g.const(c - 1)))
        return node


def _is_d(node):
    return (isinstance(node, g.Subscript) and g.is_name(node.value, "d")
            and isinstance(node.slice, g.Name))


def _replace_d(node, dnames, zero):
    """Replace ``d[p]`` by ``dnames[p]``, or by ``zero`` (a node) when p has no derivative."""
    return _ReplaceD(dnames, zero).visit(node)


class _ReplaceD(g.NodeTransformer):
    def __init__(self, dnames, zero):
        self.dnames = dnames
        self.zero = zero

    def visit_Subscript(self, n):
        if _is_d(n):
            target = self.dnames.get(n.slice.id)
            return g.clone(target) if target is not None else g.clone(self.zero)
        self.generic_visit(n)
        index = n.slice
        if isinstance(n.value, g.Tuple) and isinstance(index, g.Constant) and \
                type(index.value) is int and -len(n.value.elts) <= index.value < len(
                    n.value.elts):
            return n.value.elts[index.value]  # (da, db)[1]: a tuple adjoint's element
        return n


def _template_temps(stmts, params):
    temps = []
    for stmt in stmts:
        if isinstance(stmt, g.Assign):
            for t in g.names_in(stmt.targets[0], g.Store):
                if t not in params and t not in temps:
                    temps.append(t)
    return temps


def _elementwise_parts(rule):
    """(shared statements, [partial expression per parameter])."""
    body = rule.partials
    ret = body[-1]
    assert isinstance(ret, g.Return), rule.name
    value = ret.value
    partials = list(value.elts) if isinstance(value, g.Tuple) else [value]
    assert len(partials) == len(rule.params), rule.name
    return body[:-1], partials


def _deps(expr_names, shared):
    """Names read by expressions, following template temporaries through ``shared``."""
    reads = set(expr_names)
    for stmt in reversed(shared):
        targets = set(g.names_in(stmt.targets[0], g.Store))
        if targets & reads:
            reads |= set(g.names_in(stmt.value, g.Load))
    return reads


def reads_for(rule, param):
    """Placeholders whose values the reverse contribution to ``param`` reads."""
    placeholders = set(rule.params) | {rule.result}
    if rule.partials is not None:
        shared, partials = _elementwise_parts(rule)
        k = rule.params.index(param)
        names = _deps(g.names_in(partials[k], g.Load), shared)
        return names & placeholders
    reads = set()
    stmts = rule.vjp or []
    for k, stmt in enumerate(stmts):
        if isinstance(stmt, g.Assign) and _is_d(stmt.targets[0]) and \
                stmt.targets[0].slice.id == param:
            reads |= _deps(g.names_in(stmt.value, g.Load), stmts[:k])
    # d[z] itself is not a value read
    return {r for r in reads if r in placeholders}


class Filled:
    """The reverse rule of one call, filled: prelude statements and per-argument
    contributions ``(atom bound to the parameter, contribution expression)``."""

    def __init__(self, prelude, contributions):
        self.prelude = prelude
        self.contributions = contributions


def fill_vjp(bound, result, dz, active, namer):
    """Fill ``bound.rule``'s reverse template for ``result = call``; ``dz`` is the adjoint
    expression of the result; ``active(atom)`` says which bound atoms get contributions."""
    rule = bound.rule
    values = dict(bound.values)
    values[rule.result] = g.name(result)
    targets = {p: v for p, v in bound.values.items() if _wants(v, active)}
    arrays = _list_arrays(rule, targets, values, namer)
    if rule.partials is not None:
        shared, partials = _elementwise_parts(rule)
        rename = {t: g.name(namer.fresh(t)) for t in _template_temps(shared, rule.params)}
        mapping = {**values, **rename}
        needed = _deps(set().union(*[g.names_in(partials[rule.params.index(p)], g.Load)
                                     for p in targets]) if targets else set(), shared)
        prelude = arrays + [_sub_names(s, mapping) for s in shared
                            if set(g.names_in(s.targets[0], g.Store)) & needed]
        contributions = []
        for p, atom in targets.items():
            partial = _sub_names(partials[rule.params.index(p)], mapping)
            expr = g.binop(g.clone(dz), g.Mult, partial)
            if rule.broadcast:
                expr = g.call("unbroadcast", expr, g.clone(values[p]))
            contributions.append((atom, expr))
        return Filled(prelude, contributions)
    stmts = rule.vjp or []
    rename = {t: g.name(namer.fresh(t)) for t in _template_temps(stmts, rule.params)
              if not t == "d"}
    mapping = {**values, **rename}
    prelude, contributions = arrays, []
    for stmt in stmts:
        if isinstance(stmt, g.Assign) and _is_d(stmt.targets[0]):
            p = stmt.targets[0].slice.id
            if p not in targets:
                continue
            expr = _replace_d(_sub_names(stmt.value, mapping), {rule.result: dz}, g.const(0.0))
            contributions.append((targets[p], expr))
        else:
            new = _replace_d(_sub_names(stmt, mapping), {rule.result: dz}, g.const(0.0))
            prelude.append(new)
    return Filled(prelude, contributions)


def _list_arrays(rule, chosen, values, namer):
    """Statements ``t = np.array([x, y])`` for the list literals in ``chosen`` (param -> atom)
    passed to parameters that take an array (``np.mean([x, y])``), as NumPy converts them;
    ``values`` then binds each such parameter to its array's name."""
    out = []
    for p, atom in chosen.items():
        if isinstance(atom, (g.List, g.Tuple)) and p not in rule.sequences:
            name = namer.fresh("t")
            out.append(g.assign(name, g.call(g.dotted("np.array"), g.clone(atom))))
            values[p] = g.name(name)
    return out


def _wants(atom, active):
    if isinstance(atom, (g.List, g.Tuple)):
        return any(_wants(e, active) for e in atom.elts)
    return active(atom)


def fill_jvp(bound, result, tangent_of, namer):
    """Fill the forward rule: (prelude statements, tangent expression of the result) or None
    when no argument carries a tangent. ``tangent_of(atom)`` gives a tangent expression or
    None for atoms without one."""
    rule = bound.rule
    values = dict(bound.values)
    values[rule.result] = g.name(result)
    dnames, converted = {}, set()
    for p, atom in bound.values.items():
        if isinstance(atom, (g.List, g.Tuple)):
            elts = [tangent_of(e) for e in atom.elts]
            if any(e is not None for e in elts):
                dnames[p] = type(atom)(
                    elts=[e if e is not None else g.call("zeros_like", g.clone(a))
                          for e, a in zip(elts, atom.elts)], ctx=g.Load())
                if p not in rule.sequences and any(_carries(e) for e in elts):
                    # np.mean([x, y]): NumPy converts the list; so does the tangent code
                    dnames[p] = g.call(g.dotted("np.array"), dnames[p])
                    converted.add(p)
        else:
            t = tangent_of(atom)
            if t is not None:
                dnames[p] = t
    if not dnames:
        return None
    arrays = _list_arrays(rule, {p: values[p] for p in converted}, values, namer)
    if rule.partials is not None:
        shared, partials = _elementwise_parts(rule)
        rename = {t: g.name(namer.fresh(t)) for t in _template_temps(shared, rule.params)}
        mapping = {**values, **rename}
        prelude = arrays + [_sub_names(s, mapping) for s in shared]
        terms = [g.binop(g.clone(dnames[p]), g.Mult,
                         _sub_names(partials[rule.params.index(p)], mapping))
                 for p in rule.params if p in dnames]
        total = terms[0]
        for term in terms[1:]:
            total = g.binop(total, g.Add, term)
        return prelude, total
    if rule.jvp is None:
        return "missing"
    stmts = rule.jvp
    rename = {t: g.name(namer.fresh(t)) for t in _template_temps(stmts, rule.params)}
    mapping = {**values, **rename}
    prelude, out = arrays, None
    for stmt in stmts:
        if isinstance(stmt, g.Assign) and _is_d(stmt.targets[0]) and \
                stmt.targets[0].slice.id == rule.result:
            out = _replace_d(_sub_names(stmt.value, mapping), dnames, _ZERO)
        else:
            prelude.append(_replace_d(_sub_names(stmt, mapping), dnames, _ZERO))
    return prelude, out


def _carries(tangent):
    """Whether a tangent expression from ``tangent_of`` is a tangent variable (not a zero)."""
    return isinstance(tangent, g.Name) and tangent.id != ZERO_NAME


# The symbolic zero tangent: the optimizer folds expressions containing it.
ZERO_NAME = "__zero__"
_ZERO = g.name(ZERO_NAME)
