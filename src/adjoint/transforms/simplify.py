"""Simplify: make generated code short and fast without changing what it computes.

Takes the generated function body and the set of names that may be rewritten (temporaries and
adjoints — never the user's own variables); returns an equivalent body after, to a fixpoint:

* algebra and constant folding: ``g * 1.0 -> g``, ``-1.0 * g -> -g``, ``a ** 1 -> a``,
  ``2 - 1 -> 1``, ``0.0 + g -> g``, and ``unbroadcast(g, x) -> g`` where ``g`` provably has
  ``x``'s shape (see :class:`Shapes`);
* copy propagation: ``a = b`` with both single-assignment names;
* forward substitution: a temporary used once, in a later statement of the same block with no
  write to its operands in between, is substituted into that use;
* dead-code elimination: statements whose results nothing live reads.

User statements of the forward sweep are never rewritten, only removed when dead.

    dt = dout                       dx = dout * (2 * x) + dout * 3
    dt_1 = dt * (2 * x ** 1)
    dx = dt_1 + dt * 3
"""

from __future__ import annotations

import math

from .. import grammar as g
from ..analysis.activity import dotted_name
from ..analysis.shapes import Shapes, all_assigns, popped_list

_SIDE_EFFECT_METHODS = {"append", "pop"}

# Runtime helpers' arguments that are read only for their shape: substituting a computation
# into one of them would recompute it just to learn a shape.
_SHAPE_ONLY = {"unbroadcast": (1,), "broadcast_like": (1,), "unreduce": (1,),
               "reshape_like": (1,), "keep_dims": (1,), "reduced_count": (0,),
               "zeros_like": (0,), "write_adjoint": ()}


def _is_num(node, value=None):
    if not isinstance(node, g.Constant) or isinstance(node.value, bool) or not isinstance(
            node.value, (int, float)):
        return False
    return value is None or node.value == value


class Algebra(g.NodeTransformer):
    """Local rewrites of expressions (bottom-up)."""

    def __init__(self, shapes):
        self.shapes = shapes

    def visit_BinOp(self, node):
        self.generic_visit(node)
        a, b, op = node.left, node.right, node.op
        if _is_num(a) and _is_num(b) and isinstance(op, (g.Add, g.Sub, g.Mult, g.Pow)):
            try:
                value = {g.Add: lambda: a.value + b.value, g.Sub: lambda: a.value - b.value,
                         g.Mult: lambda: a.value * b.value,
                         g.Pow: lambda: a.value ** b.value}[type(op)]()
            except (OverflowError, ZeroDivisionError):
                return node
            if isinstance(value, (int, float)) and math.isfinite(value) and abs(value) < 1e15:
                return g.const(value)
        if isinstance(op, g.Mult):
            if _is_num(b, 1) and isinstance(b.value, float) or _is_num(b, 1) and \
                    self._floaty(a):
                return a
            if _is_num(a, 1) and (isinstance(a.value, float) or self._floaty(b)):
                return b
            if _is_num(b, -1) and self._floaty(a):
                return g.unary(g.USub, a)
            if _is_num(a, -1) and self._floaty(b):
                return g.unary(g.USub, b)
            if isinstance(b, g.UnaryOp) and isinstance(b.op, g.USub):
                return g.unary(g.USub, g.binop(a, g.Mult, b.operand))
        if isinstance(op, g.Pow) and _is_num(b, 1):
            return a
        if isinstance(op, g.Div) and _is_num(b, 1) and isinstance(b.value, float):
            return a
        if isinstance(op, g.Add):
            if isinstance(b, g.UnaryOp) and isinstance(b.op, g.USub):
                return g.binop(a, g.Sub, b.operand)
            if _is_num(a, 0) and isinstance(a.value, float) and self._floaty(b):
                return b
            if _is_num(b, 0) and isinstance(b.value, float) and self._floaty(a):
                return a
        if isinstance(op, g.Sub) and isinstance(b, g.UnaryOp) and isinstance(b.op, g.USub):
            return g.binop(a, g.Add, b.operand)
        return node

    def visit_UnaryOp(self, node):
        self.generic_visit(node)
        if isinstance(node.op, g.USub):
            inner = node.operand
            if isinstance(inner, g.UnaryOp) and isinstance(inner.op, g.USub):
                return inner.operand
            if _is_num(inner):
                return g.const(-inner.value)
        return node

    def visit_Call(self, node):
        self.generic_visit(node)
        if dotted_name(node.func) in ("max", "min") and len(node.args) == 2 and not node.keywords \
                and all(_is_num(a) and isinstance(a.value, int) for a in node.args):
            pick = max if dotted_name(node.func) == "max" else min
            return g.const(pick(node.args[0].value, node.args[1].value))
        if dotted_name(node.func) == "fresh" and len(node.args) == 1 and self.shapes and \
                self.shapes.expr(node.args[0]) == Shapes.SCALAR:
            return node.args[0]  # scalars are immutable: nothing to copy
        if dotted_name(node.func) == "unbroadcast" and len(node.args) == 2 and self.shapes:
            value, like = node.args
            if self.shapes.expr(value) == self.shapes.expr(like):
                return value
        return node

    def _floaty(self, node):
        """Whether dropping ``* 1.0`` keeps the type: adjoint expressions are floats."""
        for n in g.walk(node):
            if isinstance(n, g.Name) and (n.id == self.shapes.seed or
                                          n.id in self.shapes.adjoint_of):
                return True
        return False


def count_uses(stmts):
    uses = {}
    for stmt in stmts:
        for n in g.walk(stmt):
            if isinstance(n, g.Name) and isinstance(n.ctx, g.Load):
                uses[n.id] = uses.get(n.id, 0) + 1
    return uses


def count_defs(stmts):
    defs = {}
    for stmt in stmts:
        for n in g.walk(stmt):
            if isinstance(n, g.Name) and isinstance(n.ctx, g.Store):
                defs[n.id] = defs.get(n.id, 0) + 1
    return defs


class Simplify:
    def __init__(self, rewritable, shapes=None, protected=()):
        self.rewritable = set(rewritable)
        self.shapes = shapes
        self.protected = set(protected)  # names that must keep existing (results)

    def __call__(self, fdef):
        for _ in range(6):
            before = g.unparse(fdef)
            fdef.body = _merge_ifs(fdef.body)
            fdef.body = self._algebra(fdef.body)
            self._copies(fdef)
            self._substitute(fdef)
            fdef.body = self._dce(fdef.body, fdef)
            if g.unparse(fdef) == before:
                break
        return fdef

    # -- algebra on rewritable statements -----------------------------------------------------
    def _algebra(self, stmts):
        alg = Algebra(self.shapes)
        out = []
        for stmt in stmts:
            if isinstance(stmt, g.Assign) and isinstance(stmt.targets[0], g.Name) and \
                    g.is_name(stmt.value, stmt.targets[0].id):
                continue  # a = a
            if isinstance(stmt, g.Assign) and self._rewritable_stmt(stmt):
                stmt.value = alg.visit(stmt.value)
            elif isinstance(stmt, g.AugAssign):
                stmt.value = alg.visit(stmt.value)
            elif isinstance(stmt, g.Return) and stmt.value is not None:
                stmt.value = alg.visit(stmt.value)  # fresh(d) of a number is d
            elif isinstance(stmt, g.If):
                stmt.body = self._algebra(stmt.body)
                stmt.orelse = self._algebra(stmt.orelse)
            elif isinstance(stmt, (g.For, g.While)):
                stmt.body = self._algebra(stmt.body)
                if isinstance(stmt, g.For):
                    stmt.iter = alg.visit(stmt.iter)
            out.append(stmt)
        return out

    def _rewritable_stmt(self, stmt):
        t = stmt.targets[0]
        if isinstance(t, g.Name):
            return t.id in self.rewritable
        return isinstance(t.value, g.Name) and t.value.id in self.rewritable

    # -- copy propagation -------------------------------------------------------------------
    def _copies(self, fdef):
        everything = [fdef]
        defs = count_defs(everything)
        params = {a.id for a in fdef.args.args}
        renames = {}
        for stmt in all_assigns(fdef.body):
            t, v = stmt.targets[0], stmt.value
            if isinstance(t, g.Name) and isinstance(v, g.Name) and t.id in self.rewritable \
                    and t.id not in self.protected and defs.get(t.id) == 1 and \
                    defs.get(v.id, 0) + (v.id in params) == 1:  # a parameter is a definition
                renames[t.id] = v.id
        if not renames:
            return

        def final(n):
            seen = set()
            while n in renames and n not in seen:
                seen.add(n)
                n = renames[n]
            return n

        for node in g.walk(fdef):
            if isinstance(node, g.Name) and isinstance(node.ctx, g.Load) and node.id in renames:
                node.id = final(node.id)

    # -- forward substitution ------------------------------------------------------------------
    def _substitute(self, fdef):
        uses = count_uses([fdef])
        defs = count_defs([fdef])
        self._subst_block(fdef.body, uses, defs)

    def _subst_block(self, stmts, uses, defs):
        k = 0
        while k < len(stmts):
            stmt = stmts[k]
            if isinstance(stmt, g.If):
                self._subst_block(stmt.body, uses, defs)
                self._subst_block(stmt.orelse, uses, defs)
            elif isinstance(stmt, (g.For, g.While)):
                self._subst_block(stmt.body, uses, defs)
            elif isinstance(stmt, g.Assign) and isinstance(stmt.targets[0], g.Name):
                name = stmt.targets[0].id
                if name in self.rewritable and name not in self.protected and \
                        uses.get(name) == 1 and defs.get(name) == 1 and \
                        self._substitute_into_later(stmts, k, name, stmt.value, stmt):
                    del stmts[k]
                    continue
            k += 1

    def _substitute_into_later(self, stmts, k, name, value, definition):
        reads = {n.id for n in g.walk(value) if isinstance(n, g.Name)}
        if any(popped_list(n) for n in g.walk(value)):
            return False  # pops keep their order
        impure = any(isinstance(n, (g.Call, g.Subscript)) for n in g.walk(value))
        for later in stmts[k + 1:]:
            found = [n for n in g.walk(later) if isinstance(n, g.Name) and n.id == name]
            if found:
                if not isinstance(later, (g.Assign, g.AugAssign, g.Expr)):
                    return False
                if isinstance(later, g.Expr):
                    return False  # keep tape pushes reading a name
                target = later.targets[0] if isinstance(later, g.Assign) else later.target
                if any(g.is_name(n, name) for n in g.walk(target)):
                    return False  # used as an index of a write: keep it readable
                if _in_shape_only_argument(later, name) and not g.is_atom(value):
                    return False
                if g.is_name(later.value, name):
                    # `x = t` becomes the computation of t: it comes from t's line.
                    for attr in ("lineno", "col_offset", "end_lineno", "end_col_offset",
                                 "adjoint_origin"):
                        if hasattr(definition, attr):
                            setattr(later, attr, getattr(definition, attr))
                return self._replace(later, name, value)
            if not isinstance(later, g.Assign):
                return False
            written = {n.id for n in g.walk(later.targets[0]) if isinstance(n, g.Name)}
            if written & reads:
                return False
            if impure and isinstance(later.targets[0], g.Subscript):
                return False
        return False

    def _replace(self, stmt, name, value):
        class Sub(g.NodeTransformer):
            def visit_Name(self, n):
                if n.id == name and isinstance(n.ctx, g.Load):
                    return g.clone(value)
                return n

        if isinstance(stmt, g.Assign):
            stmt.value = Sub().visit(stmt.value)
        else:
            stmt.value = Sub().visit(stmt.value)
        return True

    # -- dead code ---------------------------------------------------------------------------
    def _dce(self, body, fdef):
        """Liveness-based dead-code elimination over structured code (loops to a fixpoint)."""
        body, _ = self._live_block(body, set(self.protected))
        return body

    def _live_block(self, stmts, live):
        out = []
        for stmt in reversed(stmts):
            keep, live = self._live_stmt(stmt, live)
            if keep is not None:
                out.append(keep)
        return out[::-1], live

    def _live_stmt(self, stmt, live):
        """(the statement to keep or None, names live before it)."""
        if isinstance(stmt, g.Return):
            return stmt, live | _loads(stmt)
        if isinstance(stmt, (g.Break, g.Assert)):
            return stmt, live | _loads(stmt)
        if isinstance(stmt, g.Pass):
            return None, live
        if isinstance(stmt, g.Assign):
            t = stmt.targets[0]
            if isinstance(t, g.Name):
                stack = popped_list(stmt.value)
                if t.id not in live and (stack is None or stack not in live):
                    return None, live
                return stmt, (live - {t.id}) | _loads(stmt.value)
            base = t.value.id
            if base not in live:
                return None, live
            return stmt, live | _loads(stmt)
        if isinstance(stmt, g.AugAssign):
            t = stmt.target
            base = t.value.id if isinstance(t, g.Subscript) else t.id
            if base not in live:
                return None, live
            return stmt, live | _loads(stmt) | {base}
        if isinstance(stmt, g.Expr):
            f = stmt.value.func if isinstance(stmt.value, g.Call) else None
            if isinstance(f, g.Attribute) and f.attr in _SIDE_EFFECT_METHODS and \
                    isinstance(f.value, g.Name) and f.value.id not in live:
                return None, live
            return stmt, live | _loads(stmt)
        if isinstance(stmt, g.If):
            body, live_then = self._live_block(stmt.body, set(live))
            orelse, live_else = self._live_block(stmt.orelse, set(live))
            if not body and not orelse:
                return None, live
            stmt.body, stmt.orelse = body or [g.Pass()], orelse
            if _is_pass(stmt.body) and stmt.orelse:
                stmt.test = _negate(stmt.test)
                stmt.body, stmt.orelse = stmt.orelse, []
            return stmt, live_then | live_else | _loads(stmt.test)
        if isinstance(stmt, (g.For, g.While)):
            header = stmt.iter if isinstance(stmt, g.For) else stmt.test
            target = {stmt.target.id} if isinstance(stmt, g.For) else set()
            inner = set()
            for _ in range(50):
                probe = [g.clone(s) for s in stmt.body]
                _, live_in = self._live_block(probe, live | inner | _loads(header))
                live_in = live_in - target
                if live_in <= inner:
                    break
                inner |= live_in
            body, live_in = self._live_block(stmt.body, live | inner | _loads(header))
            if not any(not isinstance(s, (g.Break, g.Pass)) for s in body):
                return None, live
            stmt.body = body
            return stmt, live | (live_in - target) | _loads(header)
        return stmt, live | _loads(stmt)


def _loads(node):
    return {n.id for n in g.walk(node) if isinstance(n, g.Name) and isinstance(n.ctx, g.Load)}


def _in_shape_only_argument(stmt, name):
    """Whether ``name`` is read in ``stmt`` as an argument a helper needs only the shape of."""
    for node in g.walk(stmt):
        if isinstance(node, g.Call):
            positions = _SHAPE_ONLY.get(dotted_name(node.func), ())
            for k in positions:
                if k < len(node.args) and any(g.is_name(n, name) for n in g.walk(node.args[k])):
                    return True
    return False


def _merge_ifs(stmts):
    """``if c: A`` directly followed by ``if c: B else: C`` becomes ``if c: A; B else: C``
    when ``A`` does not rebind ``c`` (the backward sweep restores, then differentiates, under
    the same condition)."""
    out = []
    for stmt in stmts:
        if isinstance(stmt, g.If):
            stmt.body = _merge_ifs(stmt.body)
            stmt.orelse = _merge_ifs(stmt.orelse)
        elif isinstance(stmt, (g.For, g.While)):
            stmt.body = _merge_ifs(stmt.body)
        prev = out[-1] if out else None
        if isinstance(stmt, g.If) and isinstance(prev, g.If) and isinstance(stmt.test, g.Name) \
                and g.is_name(prev.test, stmt.test.id) and \
                stmt.test.id not in g.assigned_names(prev.body + prev.orelse):
            prev.body = [s for s in prev.body if not isinstance(s, g.Pass)] + stmt.body
            prev.orelse = prev.orelse + stmt.orelse
            prev.body = prev.body or [g.Pass()]
            continue
        out.append(stmt)
    return out


def _is_pass(body):
    return all(isinstance(s, g.Pass) for s in body)


def _negate(test):
    if isinstance(test, g.UnaryOp) and isinstance(test.op, g.Not):
        return test.operand
    return g.unary(g.Not, test)


def _reads_of(stmt):
    """The part of a simple statement whose names it reads."""
    if isinstance(stmt, g.Assign):
        t = stmt.targets[0]
        if isinstance(t, g.Name):
            return stmt.value
        return g.tuple_([stmt.value, t.value, t.slice])
    if isinstance(stmt, g.AugAssign):
        t = stmt.target
        parts = [stmt.value] + ([t.value, t.slice] if isinstance(t, g.Subscript) else [t])
        return g.tuple_([p if not isinstance(p, g.Slice) else g.tuple_(
            [x for x in (p.lower, p.upper, p.step) if x is not None]) for p in parts])
    return stmt


def _iter_simple(stmts):
    for stmt in stmts:
        if isinstance(stmt, g.If):
            yield from _iter_simple(stmt.body)
            yield from _iter_simple(stmt.orelse)
        elif isinstance(stmt, (g.For, g.While)):
            yield from _iter_simple(stmt.body)
        else:
            yield stmt


def _iter_compound(stmts):
    for stmt in stmts:
        if isinstance(stmt, g.If):
            yield stmt
            yield from _iter_compound(stmt.body)
            yield from _iter_compound(stmt.orelse)
        elif isinstance(stmt, (g.For, g.While)):
            yield stmt
            yield from _iter_compound(stmt.body)
