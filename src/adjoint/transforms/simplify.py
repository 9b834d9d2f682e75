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

_SIDE_EFFECT_METHODS = {"append", "pop"}


def _is_num(node, value=None):
    if not isinstance(node, g.Constant) or isinstance(node.value, bool) or not isinstance(
            node.value, (int, float)):
        return False
    return value is None or node.value == value


_FULL_REDUCTIONS = {"np.sum", "np.mean", "np.prod", "np.max", "np.min", "np.amax", "np.amin",
                    "np.var", "np.std", "np.linalg.norm", "np.trace", "np.vdot"}


class Shapes:
    """Flow-insensitive shape tokens: equal tokens mean provably equal shapes.

    A token is ``"scalar"``, or ``("name", n)`` for "the shape of parameter/variable n", or a
    fresh ``("unknown", k)``. Scalars combine with anything; equal tokens combine to
    themselves; anything else is unknown. Adjoints share their variable's token, and ``dout``
    shares the output's token.
    """

    SCALAR = "scalar"
    SCALAR_FUNCS = ("math.",)

    def __init__(self, body, params, adjoint_of, output, kinds=None, int_names=(),
                 resolve=None, seed="dout", tapes=()):
        self.adjoint_of = adjoint_of  # d-name -> primal name
        self.tokens = {p: ("name", p) for p in params}
        self.ndim = {}  # token -> number of dimensions, where known
        self.int_names = set(int_names)
        self.resolve = resolve
        for p, kind in (kinds or {}).items():
            if kind == "scalar":
                self.tokens[p] = self.SCALAR
            elif isinstance(kind, int):
                self.ndim[("name", p)] = kind
        defs = {}
        self.stacks = {}  # list name -> values appended to it (a popped value is one of them)
        for stmt in _all_assigns(body):
            if isinstance(stmt.targets[0], g.Name):
                defs.setdefault(stmt.targets[0].id, []).append(stmt.value)
        for node in g.walk(g.module(list(body))):
            if isinstance(node, g.Expr) and isinstance(node.value, g.Call) and isinstance(
                    node.value.func, g.Attribute) and node.value.func.attr == "append" and \
                    isinstance(node.value.func.value, g.Name):
                self.stacks.setdefault(node.value.func.value.id, []).append(node.value.args[0])
        self.tape_stores = {}  # preallocated tape -> values stored into it
        for name in tapes:
            self.tape_stores[name] = []
        for stmt in _all_assigns(body):
            t = stmt.targets[0]
            if isinstance(t, g.Subscript) and isinstance(t.value, g.Name) and \
                    t.value.id in self.tape_stores:
                self.tape_stores[t.value.id].append(stmt.value)
        self.defs = defs
        self.seed = seed
        if output is not None:
            self.tokens[seed] = ("of", output)
        for name in defs:
            if name not in params:
                self.tokens[name] = self.BOTTOM
        # Optimistic fixpoint: names start at BOTTOM (no information yet) and only rise.
        for _ in range(50):
            changed = False
            for name, values in defs.items():
                if name in params:
                    continue
                toks = {self.expr(v) for v in values} - {self.BOTTOM}
                new = (toks.pop() if len(toks) == 1 else ("unknown", name)) if toks \
                    else self.BOTTOM
                if new != self.tokens[name]:
                    self.tokens[name] = new
                    changed = True
            if not changed:
                break

    BOTTOM = "bottom"

    def _fresh(self, key=None):
        return ("unknown", key)

    def name(self, n):
        if n in self.adjoint_of:
            n = self.adjoint_of[n]
        tok = self.tokens.get(n)
        if tok is None:
            tok = ("name", n)
        if isinstance(tok, tuple) and tok[0] == "of":
            return self.name(tok[1])
        return tok

    def expr(self, e):
        tok = self._expr(e)
        if isinstance(tok, tuple) and tok[0] == "unknown" and tok[1] is None:
            return ("unknown", id(e))
        return tok

    def _expr(self, e):
        if isinstance(e, g.Constant):
            return self.SCALAR if isinstance(e.value, (int, float, bool)) else self._fresh()
        if isinstance(e, g.Name):
            return self.name(e.id)
        if isinstance(e, g.BinOp) and not isinstance(e.op, g.MatMult):
            return self.join(self.expr(e.left), self.expr(e.right))
        if isinstance(e, g.UnaryOp):
            return self.expr(e.operand)
        if isinstance(e, g.Call):
            stack = _popped_list(e)
            if stack is not None:
                toks = {self.expr(v) for v in self.stacks.get(stack, [])} - {self.BOTTOM}
                return toks.pop() if len(toks) == 1 else (self._fresh() if toks else
                                                          self.BOTTOM)
            func = dotted_name(e.func)
            if func.startswith("math.") or func in ("float", "abs", "min", "max", "len",
                                                    "int", "range_len", "safe_log"):
                if func in ("abs", "min", "max"):
                    toks = [self.expr(a) for a in e.args]
                    out = toks[0]
                    for t in toks[1:]:
                        out = self.join(out, t)
                    return out
                if func == "safe_log":
                    return self.expr(e.args[0])
                return self.SCALAR
            if func == "unbroadcast":
                return self.expr(e.args[1])
            if func in ("zeros_like", "fresh") and e.args:
                return self.expr(e.args[0])
            return self._call(e)
        if isinstance(e, g.Subscript) and isinstance(e.value, g.Name) and \
                e.value.id in self.tape_stores:
            toks = {self.expr(v) for v in self.tape_stores[e.value.id]} - {self.BOTTOM}
            return toks.pop() if len(toks) == 1 else (self._fresh() if toks else self.BOTTOM)
        if isinstance(e, g.Subscript):
            base = self.expr(e.value)
            ndim = self.ndim.get(base)
            parts = e.slice.elts if isinstance(e.slice, g.Tuple) else [e.slice]
            if ndim is not None and len(parts) == ndim and all(self._is_int(p) for p in parts):
                return self.SCALAR
        return self._fresh()

    def _is_int(self, node):
        if isinstance(node, g.Constant):
            return isinstance(node.value, int) and not isinstance(node.value, bool)
        return isinstance(node, g.Name) and node.id in self.int_names

    def _call(self, e):
        """Shapes of calls with rules: elementwise rules keep their arguments' shape, full
        reductions give scalars."""
        if self.resolve is None:
            return self._fresh()
        from ..rules import registry
        found, obj = self.resolve(e.func)
        rule = registry.lookup(obj) if found else None
        if rule is None:
            return self._fresh()
        if rule.name.endswith("stop_gradient") and len(e.args) == 1:
            return self.expr(e.args[0])
        if rule.partials is not None and not e.keywords:
            toks = [self.expr(a) for a in e.args]
            if not toks:
                return self._fresh()
            out = toks[0]
            for t in toks[1:]:
                out = self.join(out, t)
            return out
        if rule.name in _FULL_REDUCTIONS and len(e.args) == 1 and not e.keywords:
            return self.SCALAR
        return self._fresh()

    def join(self, a, b):
        if a == self.BOTTOM or b == self.BOTTOM:
            return self.BOTTOM
        if a == self.SCALAR:
            return b
        if b == self.SCALAR:
            return a
        if a == b:
            return a
        return self._fresh()


def _all_assigns(stmts):
    for stmt in stmts:
        if isinstance(stmt, g.Assign):
            yield stmt
        elif isinstance(stmt, g.If):
            yield from _all_assigns(stmt.body)
            yield from _all_assigns(stmt.orelse)
        elif isinstance(stmt, (g.For, g.While)):
            yield from _all_assigns(stmt.body)


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
        for stmt in _all_assigns(fdef.body):
            t, v = stmt.targets[0], stmt.value
            if isinstance(t, g.Name) and isinstance(v, g.Name) and t.id in self.rewritable \
                    and t.id not in self.protected and defs.get(t.id) == 1 and (
                    defs.get(v.id, 0) == 1 or (v.id in params and defs.get(v.id, 0) == 0)):
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
        if any(_popped_list(n) for n in g.walk(value)):
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
                stack = _popped_list(stmt.value)
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


def _popped_list(node):
    """The list ``node`` pops from (``lst.pop()``), or None."""
    if isinstance(node, g.Call) and isinstance(node.func, g.Attribute) and \
            node.func.attr == "pop" and isinstance(node.func.value, g.Name):
        return node.func.value.id
    return None


def _loads(node):
    return {n.id for n in g.walk(node) if isinstance(n, g.Name) and isinstance(n.ctx, g.Load)}


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
