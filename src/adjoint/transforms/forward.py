"""ForwardAD: forward mode — a tangent statement beside each primal statement.

Takes a normalized, inlined ANF function (what the stages of :data:`adjoint.pipeline.FRONT`
leave), its *active* names (they depend on a ``wrt`` parameter and reach the output) and the
names it writes through subscripts; returns the function ``(*params, *tangents) -> (value,
tangent)``: the primal statements in their order, each followed (or, where it overwrites an
operand its tangent reads, preceded) by the statement computing the tangent of what it assigns.
A tuple output gives ``((v0, v1, ...), (t0, t1, ...))``.

The transformer keeps, per program point, which active names currently hold a tangent
variable; any other name has the *symbolic zero* tangent, so no code is generated for it. Rule
templates receive it as ``__zero_of__(atom)``, which :mod:`adjoint.transforms.zero_tangent`
folds away before a statement is emitted. Tangents are materialized with ``zeros_like(primal)``
only where the code needs a variable: before a subscript write into an array that has none
yet, in the branch of an ``if`` that assigns none (when the other branch does), and before a
loop for every name the loop's body gives a tangent and whose primal exists before the loop —
so each tangent has one type on every path, as Numba requires. Loop bodies are generated to a
fixpoint: a name whose tangent the body defines is a tangent variable from the top of the body.

Rules come from the one registry: elementwise rules give ``dz = Σ dp * ∂z/∂p`` (broadcast to
``z``'s shape by ``unbroadcast`` where an operand without a tangent may be larger), other rules
their ``@jvp`` template, filled by :func:`adjoint.template.fill_jvp`. Subscript reads give
``t_dot = x_dot[i]``, writes ``out_dot[i] = v_dot``; a list used as a stack (the tapes of
generated code, transformed again for ``jvp(grad(f))``) gets a tangent stack, pushed and popped
beside it. The caller's arrays are never written: parameters the function writes into are
copied first, an array written in place whose tangent could share memory with another's gets a
copy (``fresh``), and the returned tangent is the caller's own.

    def f(x, y):                        def jvp_f(x, y, x_dot, y_dot):
        s = 0.0                             x_dot = as_float(x_dot)
        for i in range(3):                  y_dot = as_float(y_dot)
            s = s * x + y                   s = 0.0
        return s                            s_dot = zeros_like(s)
                                            for i in range(3):
                                                t = s * x
                                                t_dot = s_dot * x + x_dot * s
                                                s = t + y
                                                s_dot = t_dot * 1.0 + y_dot * 1.0
                                            result = s
                                            result_dot = s_dot
                                            return (result, fresh(result_dot))

(the normalized function on the left is shown as the user wrote it; the optimizer then removes
the copies and the ``* 1.0``, and, for float arguments, the ``fresh``).
"""

from __future__ import annotations

from .. import grammar as g
from ..analysis.activity import classify, iter_assigns, op_inputs
from ..analysis.syntax import is_list_append
from ..errors import NoRuleError, UnsupportedSyntaxError
from ..template import Bound, fill_jvp
from .zero_tangent import fold_zero, may_alias, zero_like, zero_of

# The placeholder a rule's result is bound to while its tangent code is built: the code is
# placed after the primal statement (where it means the new value) or before it.
_RESULT = "__result__"


class ForwardAD:
    """The forward-mode transformer of one normalized function (see the module docstring)."""

    def __init__(self, ctx, *, active, local_names, mutated, int_names=()):
        self.ctx = ctx
        self.namer = ctx.namer
        self.active = set(active)
        self.locals = set(local_names)
        self.mutated = set(mutated)  # arrays written through subscripts
        self.ints = set(int_names)  # names that certainly hold ints (scalars: never broadcast)
        self.has = set()  # active names whose tangent variable holds their tangent here
        self.defined = set()  # primal names assigned on every path to here
        self.depth = 0  # how many branches and loops enclose the current statement

    # ============================================================================ entry point
    def __call__(self, fdef, wrt, name):
        """The jvp function of ``fdef`` (its tangent parameters follow its own), named
        ``name``; ``wrt`` lists parameter names."""
        params = [a.id for a in fdef.args.args]
        self.defined = set(params)
        tangents = [self.namer.tangent(p) for p in wrt]
        prologue = []
        written = _written_params(fdef.body, params, self.mutated)
        for p in params:
            if p in written:  # the caller's array must not change: write into a copy
                prologue.append(g.assign(p, g.call(g.Attribute(value=g.name(p), attr="copy",
                                                               ctx=g.Load()))))
        for p, t in zip(wrt, tangents):
            # An int argument stands for a float: its tangent is a float (array) too.
            value = g.call("as_float", g.name(t))
            if p in written:
                value = g.call("fresh", value)
            prologue.append(g.assign(t, value))
            if p in self.active:
                self.has.add(p)
        body = self._block(fdef.body)
        defaults = [g.clone(d) for d in fdef.args.defaults]
        if defaults:  # parameters after defaulted ones need defaults: the unit seed, as dout
            defaults += [g.const(1.0) for _ in tangents]
        new = g.function(name, params + tangents, prologue + body, defaults=defaults)
        return g.copy_location(new, fdef)

    # ============================================================================ statements
    def _block(self, stmts):
        out = []
        for stmt in stmts:
            out.extend(self._stmt(stmt))
        return out

    def _stmt(self, stmt):
        if isinstance(stmt, g.Assign):
            target = stmt.targets[0]
            if isinstance(target, g.Name):
                return self._assign(stmt, target.id)
            return self._write(stmt, target)
        if isinstance(stmt, g.If):
            return self._if(stmt)
        if isinstance(stmt, (g.For, g.While)):
            return self._loop(stmt)
        if isinstance(stmt, g.Return):
            return [self._return(stmt)]
        if is_list_append(stmt):
            return self._append(stmt)
        return [stmt]

    def tangent_of(self, atom):
        """The tangent expression of an atom, or None for the symbolic zero."""
        if isinstance(atom, g.Name) and atom.id in self.has:
            return g.name(self.namer.tangent(atom.id))
        if isinstance(atom, (g.List, g.Tuple)):  # a nested list: np.array([[x, y], ...])
            elts = [self.tangent_of(e) for e in atom.elts]
            if all(e is None for e in elts):
                return None
            return type(atom)(elts=[e if e is not None else zero_like(a)
                                    for e, a in zip(elts, atom.elts)], ctx=g.Load())
        return None

    def _tangent_or_zero(self, atom):
        """What rule templates receive: the tangent, or the zero of this atom."""
        if isinstance(atom, (g.List, g.Tuple)):
            return type(atom)(elts=[self._tangent_or_zero(e) for e in atom.elts], ctx=g.Load())
        t = self.tangent_of(atom)
        return t if t is not None else zero_of(atom)

    def _zero(self, name, at):
        stmt = g.assign(self.namer.tangent(name), g.call("zeros_like", g.name(name)))
        return g.copy_location(stmt, at)

    # -- z = op(atoms) -----------------------------------------------------------------------
    def _assign(self, stmt, z):
        if z not in self.active:
            self.defined.add(z)
            return [stmt]
        value = stmt.value
        self.defined.add(z)
        if isinstance(value, g.List) and not value.elts:  # a stack (a tape of generated code)
            self.has.add(z)  # its tangent stack exists from the start: pushes and pops pair
            return [stmt, g.copy_location(g.assign(self.namer.tangent(z), g.List(
                elts=[], ctx=g.Load())), stmt)]
        op = classify(value, self.ctx, self.locals)
        code = self._tangent_code(stmt, op)  # (prelude, expr) with _RESULT for z, or None
        if code is None:
            return [stmt] + self._set_zero(z, stmt)
        prelude, expr = code
        if z in self.mutated and op.kind not in ("copy", "subscript") and may_alias(expr):
            # `y = x * 1.0` makes a new array but its tangent may simplify to `x_dot`: the
            # writes into y's tangent must not change x's.
            expr = g.call("fresh", expr)
        tangent = prelude + [g.assign(self.namer.tangent(z), expr)]
        reads = {n for s in tangent for n in g.names_in(s, g.Load)}
        before, after = [], [stmt]
        if z not in reads:  # the tangent reads no operand that this statement overwrites
            after += [_substitute(s, {_RESULT: g.name(z)}) for s in tangent]
        elif _RESULT not in reads:  # it reads the old value only: compute it first
            before = tangent
        else:  # both the old value and the new: keep the old one
            prev = self.namer.fresh(f"{z}_prev")
            before = [g.copy_location(g.assign(prev, g.name(z)), stmt)]
            after += [_substitute(s, {z: g.name(prev), _RESULT: g.name(z)}) for s in tangent]
        self.has.add(z)
        return [g.copy_location(s, stmt) for s in before + after]

    def _set_zero(self, z, at):
        """``z`` now has a zero tangent."""
        if z not in self.has:
            return []
        if self.depth == 0:  # straight-line code: later reads see the symbolic zero
            self.has.discard(z)
            return []
        return [self._zero(z, at)]  # inside a branch or loop the variable must stay typed

    def _tangent_code(self, stmt, op):
        value = stmt.value
        if op.kind == "copy":
            t = self.tangent_of(value)
            return None if t is None else ([], t)
        if op.kind == "subscript":
            t = self.tangent_of(value.value)
            return None if t is None else ([], g.subscript(t, g.clone(value.slice)))
        if op.kind == "pop":  # v = stack.pop(): v's tangent is on the tangent stack
            t = self.tangent_of(value.func.value)
            return None if t is None else ([], g.call(g.Attribute(value=t, attr="pop",
                                                                  ctx=g.Load())))
        if op.kind == "pack":
            elts = [self.tangent_of(e) for e in value.elts]
            if all(e is None for e in elts):
                return None
            elts = [e if e is not None else zero_like(a) for e, a in zip(elts, value.elts)]
            return [], type(value)(elts=elts, ctx=g.Load())
        if op.kind == "rule" and op.rule.custom is not None and op.rule.jvp is None:
            return self._custom_code(stmt, op)
        if op.kind == "rule" and not op.rule.nondiff:
            return self._rule_code(stmt, op)
        if op.kind == "unknown" and set(op_inputs(op, self.locals)) & self.has:
            raise self._no_rule(op, stmt)
        return None  # constants, non-differentiable operations, inputs without tangents

    def _rule_code(self, stmt, op):
        bound = Bound(op.rule, op.args, op.keywords, stmt, self.ctx)
        if all(self.tangent_of(a) is None for a in bound.values.values()):
            return None
        filled = fill_jvp(bound, _RESULT, self._tangent_or_zero, self.namer)
        if filled == "missing":
            raise self.ctx.error(NoRuleError, f"{op.rule.name} has no forward-mode rule", stmt,
                                 "use adjoint.grad or adjoint.vjp (reverse mode) for it, or "
                                 "write the function with operations that have rules")
        prelude, expr = filled
        tangents = set(self.namer._tangent.values())
        zeros, kept = set(), []
        for s in prelude:
            folded = fold_zero(s.value, tangents, zeros)
            if folded is None:
                zeros |= set(g.names_in(s.targets[0], g.Store))
                continue
            s.value = folded
            kept.append(s)
        expr = fold_zero(expr, tangents, zeros)
        if expr is None:
            return None
        if op.rule.broadcast and op.rule.partials is not None and not all(
                self.tangent_of(a) is not None for a in bound.values.values()
                if isinstance(a, g.Name) and a.id not in self.ints):
            # Only operands with tangents shape the sum of terms: an operand without one (a
            # local or a global array) may broadcast z to a larger shape. The optimizer drops
            # this where it proves the shapes equal.
            expr = g.call("unbroadcast", expr, g.name(_RESULT))
        return kept, expr

    def _custom_code(self, stmt, op):
        """A ``custom_vjp``'s tangent, J t: a call of the function its module derives from the
        user's reverse rule (the gradient in g of Σ ⟨bwd(*inputs, out, g)_k, t_k⟩, which is
        linear in g), taking zeros for g."""
        bound = Bound(op.rule, op.args, op.keywords, stmt, self.ctx)
        inputs = [bound.values[p] for p in op.rule.params]
        tangents = [self.tangent_of(a) for a in inputs]
        moving = tuple(k for k, t in enumerate(tangents) if t is not None)
        if not moving:
            return None
        fn = op.rule.custom_tangent(moving)
        fname = self.ctx.bind_global(f"{getattr(op.rule.custom, '__name__', 'rule')}_tangent",
                                     fn)
        return [], g.call(g.name(fname), *[g.clone(a) for a in inputs], g.name(_RESULT),
                          g.call("zeros_like", g.name(_RESULT)),
                          *[g.clone(tangents[k]) for k in moving])

    def _no_rule(self, op, stmt):
        if op.kind == "pack":
            return self.ctx.error(UnsupportedSyntaxError, "building a list or tuple of "
                                  "differentiated values is not supported here", stmt,
                                  "use np.array([...]) or np.stack")
        what = op.label or getattr(op.obj, "__name__", "this call")
        return self.ctx.error(NoRuleError, f"adjoint has no derivative rule for {what}", stmt,
                              "give it a derivative with adjoint.custom_vjp, or wrap it in "
                              "adjoint.stop_gradient(...) if its derivative should be zero")

    # -- base[index] = value ---------------------------------------------------------------
    def _write(self, stmt, target):
        base = target.value.id
        if base not in self.active:
            return [stmt]
        t = self.tangent_of(stmt.value)
        if t is None and base not in self.has:
            return [stmt]  # a zero written into a zero tangent
        out = []
        if base not in self.has:  # an inactive array receives a tangent: it starts at zero
            out.append(self._zero(base, stmt))
            self.has.add(base)
        write = g.assign(g.subscript(g.name(self.namer.tangent(base)), g.clone(target.slice),
                                     store=True), t if t is not None else g.const(0.0))
        return out + [stmt, g.copy_location(write, stmt)]

    def _append(self, stmt):
        """``stack.append(v)`` also pushes v's tangent (a zero when it has none)."""
        stack, value = stmt.value.func.value, stmt.value.args[0]
        t = self.tangent_of(stack)
        if t is None:
            return [stmt]
        push = g.call(g.Attribute(value=t, attr="append", ctx=g.Load()),
                      self.tangent_of(value) or zero_like(value))
        return [stmt, g.copy_location(g.expr_stmt(push), stmt)]

    # -- control flow ------------------------------------------------------------------------
    def _if(self, stmt):
        has, defined = set(self.has), set(self.defined)
        self.depth += 1
        then = self._block(stmt.body)
        has_then, defined_then = self.has, self.defined
        self.has, self.defined = set(has), set(defined)
        orelse = self._block(stmt.orelse)
        has_else, defined_else = self.has, self.defined
        self.depth -= 1
        # A tangent defined in one branch only is zero after the other (when its primal
        # exists there): one type on both paths.
        for name in sorted(has_then - has_else):
            if name in defined_else:
                orelse = _append(orelse, self._zero(name, stmt))
        for name in sorted(has_else - has_then):
            if name in defined_then:
                then = _append(then, self._zero(name, stmt))
        self.has = has_then | has_else
        self.defined = defined_then & defined_else
        return [g.copy_location(g.if_(stmt.test, then or [g.Pass()], orelse), stmt)]

    def _loop(self, loop):
        before, defined = set(self.has), set(self.defined)
        entry = set(before)
        self.depth += 1
        while True:  # the names holding a tangent at the top of an iteration, to a fixpoint
            snapshot = self._snapshot()
            self.has, self.defined = set(entry), set(defined)
            body = self._block(loop.body)
            if self.has <= entry:
                break
            entry |= self.has
            self._restore(snapshot)
        self.depth -= 1
        self.defined = defined  # the body may run no time
        pre = [self._zero(n, loop) for n in sorted(entry - before) if n in defined]
        if isinstance(loop, g.For):
            new = g.for_(g.clone(loop.target), loop.iter, body)
        else:
            new = g.while_(loop.test, body)
        return pre + [g.copy_location(new, loop)]

    def _snapshot(self):
        n = self.namer
        return set(n.taken), dict(n._adjoint), dict(n._tangent)

    def _restore(self, snapshot):
        n = self.namer
        n.taken, n._adjoint, n._tangent = snapshot

    # -- return ----------------------------------------------------------------------------
    def _return(self, stmt):
        value = stmt.value
        atoms = list(value.elts) if isinstance(value, g.Tuple) else [value]
        tangents = []
        for atom in atoms:
            t = self.tangent_of(atom)
            # fresh: the result is the caller's own array, never a view of a tangent input
            tangents.append(g.call("fresh", t) if t is not None else
                            zero_like(atom))
        out = g.tuple_(tangents) if isinstance(value, g.Tuple) else tangents[0]
        return g.copy_location(g.return_(g.tuple_([g.clone(value), out])), stmt)


def _written_params(body, params, mutated):
    """Parameters whose array the body writes into, directly or through an alias (a copy
    ``y = x`` or a view ``y = x[1:]``)."""
    alias = {p: {p} for p in params}
    changed = True
    while changed:
        changed = False
        for stmt in iter_assigns(body):
            t, v = stmt.targets[0], stmt.value
            base = v.value if isinstance(v, g.Subscript) else v
            if isinstance(t, g.Name) and isinstance(base, g.Name):
                for names in alias.values():
                    if base.id in names and t.id not in names:
                        names.add(t.id)
                        changed = True
    return {p for p, names in alias.items() if names & set(mutated)}


def _append(stmts, stmt):
    """``stmts`` + [stmt], placed before a trailing ``break``."""
    if stmts and isinstance(stmts[-1], g.Break):
        return stmts[:-1] + [stmt, stmts[-1]]
    return stmts + [stmt]


def _substitute(node, mapping):
    class Sub(g.NodeTransformer):
        def visit_Name(self, n):
            if n.id in mapping and isinstance(n.ctx, g.Load):
                return g.clone(mapping[n.id])
            return n

    return Sub().visit(node)
