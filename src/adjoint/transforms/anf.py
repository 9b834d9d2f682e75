"""ToANF: A-normal form. Every statement does one operation on atoms.

Takes a control-normalized function (see :mod:`.control`); returns it with every statement in
this core grammar (an *atom* is a name, a constant, or a reference to a global such as
``math.pi``)::

    name = atom | op(atom, ...) | atom[index] | atom.attr | f(atom, ..., k=atom)
    atom[index] = atom                       # subscript write (index parts are atoms/slices)
    if atom: ... else: ...
    for name in range(atom, atom, atom): ...
    while atom: ...                          # the test is recomputed at the end of the body
    break | pass | assert atom[, atom] | return atom(s)
    effect = f(atom, ...)                    # a call made for its side effect (print(...)):
                                             # marked ``adjoint_effect``, never dead

Desugared on the way: augmented assignment, tuple unpacking, conditional expressions,
``and``/``or`` (short-circuit kept, as ``if``), chained comparisons, ``for`` over arrays,
``enumerate`` and ``zip``. Temporaries are fresh names from the function's Namer (``t``,
``t_1`` ...); every new statement keeps the location of the user's statement it came from.

    y = a * b + math.sin(c)        t = a * b
                                   t_1 = math.sin(c)
                                   y = t + t_1
"""

from __future__ import annotations

import builtins

from .. import grammar as g
from ..analysis.syntax import is_helper_call, is_list_append
from ..errors import UnsupportedSyntaxError


class ToANF:
    def __init__(self, namer, info, local_names):
        self.namer = namer
        self.info = info
        self.locals = set(local_names)

    def __call__(self, fdef):
        fdef.body = self._block(fdef.body)
        return fdef

    # -- statements ------------------------------------------------------------------------
    def _block(self, stmts):
        out = []
        for stmt in stmts:
            self._out = []
            self._stmt(stmt)
            for new in self._out:
                g.copy_location(new, stmt)
            out.extend(self._out)
        return out

    def _emit(self, stmt):
        self._out.append(stmt)

    def _stmt(self, stmt):
        if isinstance(stmt, g.Assign):
            if len(stmt.targets) != 1:
                value = self._atom(stmt.value)
                for target in stmt.targets:  # each statement its own node (see AugAssign)
                    self._assign(target, g.clone(value), stmt)
                return
            self._assign(stmt.targets[0], stmt.value, stmt)
        elif isinstance(stmt, g.AugAssign):
            target = stmt.target
            if isinstance(target, g.Subscript):
                base = self._atom(target.value)
                index = self._index(target.slice)
                old = self._bind(g.subscript(base, index))
                new = self._bind(g.binop(old, type(stmt.op), self._atom(stmt.value)))
                # clones: a later pass renaming one statement's names must not rename the other's
                self._emit(g.assign(g.subscript(g.clone(base), g.clone(index), store=True), new))
            else:
                value = g.binop(g.name(target.id), type(stmt.op), stmt.value)
                self._assign(g.name(target.id, store=True), value, stmt)
                # For an array, ``x += v`` writes into x's memory (other names of it see the
                # change); SeparateViews decides whether that matters.
                self._out[-1].adjoint_inplace = True
        elif isinstance(stmt, g.If):
            test = self._atom(stmt.test)
            self._emit(g.if_(test, self._sub(stmt.body), self._sub(stmt.orelse)))
        elif isinstance(stmt, g.For):
            self._for(stmt)
        elif isinstance(stmt, g.While):
            pre = self._capture(lambda: self._atom(stmt.test))
            test_stmts, test = pre
            for s in test_stmts:
                self._emit(s)
            cond = self.namer.fresh("cond")
            self._emit(g.assign(cond, test))
            again_stmts, again = self._capture(lambda: self._atom(g.clone(stmt.test)))
            body = self._sub(stmt.body) + again_stmts + [g.assign(cond, again)]
            self._emit(g.while_(g.name(cond), body))
        elif isinstance(stmt, g.Return):
            value = stmt.value
            if isinstance(value, g.Tuple):
                self._emit(g.return_(g.tuple_([self._atom(e) for e in value.elts])))
            else:
                self._emit(g.return_(self._atom(value)))
        elif isinstance(stmt, (g.Break, g.Pass)):
            self._emit(stmt)
        elif isinstance(stmt, g.Assert):
            test = self._atom(stmt.test)
            msg = None if stmt.msg is None else self._atom(stmt.msg)
            self._emit(g.Assert(test=test, msg=msg))
        elif isinstance(stmt, g.Expr) and isinstance(stmt.value, g.Constant):
            pass  # docstring or bare constant
        elif isinstance(stmt, g.Expr) and is_helper_call(stmt, self.info):
            self._bind(self._expr(stmt.value))  # inlined later; the result is dropped
        elif isinstance(stmt, g.Expr) and is_list_append(stmt) and \
                stmt.value.func.value.id in self.locals:
            call = stmt.value
            self._emit(g.expr_stmt(g.call(g.clone(call.func), self._atom(call.args[0]))))
        elif isinstance(stmt, g.Expr) and isinstance(stmt.value, g.Call):
            # print(...), log(x): kept for its side effect (never dead), in order
            effect = g.assign(self.namer.fresh("effect"), self._expr(stmt.value))
            effect.adjoint_effect = True
            self._emit(effect)
        else:
            raise self.info.error(UnsupportedSyntaxError,
                                  f"{type(stmt).__name__} statements are not supported", stmt,
                                  "rewrite it with assignments, if, for and while")

    def _sub(self, stmts):
        saved = self._out
        body = self._block(stmts)
        self._out = saved
        return body

    def _capture(self, fn):
        saved = self._out
        self._out = []
        result = fn()
        out, self._out = self._out, saved
        return out, result

    def _assign(self, target, value, stmt):
        if isinstance(target, g.Name):
            self._emit(g.assign(target.id, self._expr(value)))
            if _is_call_to(value, "print", self):  # generated code transformed again
                self._out[-1].adjoint_effect = True
        elif isinstance(target, g.Subscript):
            # Python evaluates the right-hand side before the target's array and index (in
            # a[np.argmax(b)] = h(b), the index sees b as h left it).
            value = self._atom(value)
            base = self._atom(target.value)
            index = self._index(target.slice)
            self._emit(g.assign(g.subscript(base, index, store=True), value))
        elif isinstance(target, (g.Tuple, g.List)):
            if isinstance(value, (g.Tuple, g.List)) and len(value.elts) == len(target.elts):
                pairs = _pair_leaves(target, value)
                # Evaluate every right-hand side before binding anything (a, b = b, a).
                parts = [self._atom(v) for _, v in pairs]
                parts = [self._bind(p) if isinstance(p, g.Name) else p for p in parts]
                for (sub, _), part in zip(pairs, parts):
                    self._assign(sub, part, stmt)
                return
            else:
                whole = self._atom(value)
                parts = [self._bind(g.subscript(g.clone(whole), g.const(k)))
                         for k in range(len(target.elts))]
            for sub, part in zip(target.elts, parts):
                self._assign(sub, part, stmt)
        else:
            raise self.info.error(UnsupportedSyntaxError, "unsupported assignment target",
                                  target, "assign to names, tuples of names or array elements")

    def _for(self, stmt):
        it = stmt.iter
        target = stmt.target
        if _is_call_to(it, "range", self):
            if not isinstance(target, g.Name):
                raise self.info.error(UnsupportedSyntaxError, "range() yields one number",
                                      target, "use a single loop variable")
            # Bounds are read once, before the loop binds its counter; the backward sweep reads
            # them again, so a bound the loop rebinds (``range(i, n)`` over ``i``) is copied.
            rebound = g.assigned_names(stmt.body) | {target.id}
            args = [self._atom(a) for a in it.args]
            args = [self._bind(a) if isinstance(a, g.Name) and a.id in rebound else a
                    for a in args]
            if len(args) == 3 and g.is_const(args[2]) and args[2].value == 0:
                raise self.info.error(UnsupportedSyntaxError, "range() step must not be zero",
                                      it, "use a nonzero step")
            self._emit(g.for_(target.id, g.call("range", *args), self._sub(stmt.body)))
            return
        if _is_call_to(it, "enumerate", self) and isinstance(target, g.Tuple) and len(
                target.elts) == 2 and len(it.args) == 1:
            seq = self._atom(it.args[0])
            counter = target.elts[0]
            items = [(target.elts[1], seq)]
        elif _is_call_to(it, "zip", self) and isinstance(target, g.Tuple) and len(
                target.elts) == len(it.args):
            seqs = [self._atom(a) for a in it.args]
            counter = None
            items = list(zip(target.elts, seqs))
        else:
            counter = None
            items = [(target, self._atom(it))]
        # Python iterates the object the sequence named on entry, even if the body (or the loop
        # target) rebinds the name: keep that object under a name of its own.
        rebound = g.assigned_names(stmt.body) | g.assigned_names([stmt.target])
        items = [(tgt, self._bind(g.name(seq.id), "seq") if isinstance(seq, g.Name) and
                  seq.id in rebound else seq) for tgt, seq in items]
        lengths = [self._bind(g.call("len", seq)) for _, seq in items]
        n = lengths[0]
        for other in lengths[1:]:
            n = self._bind(g.call("min", n, other))
        index = counter.id if isinstance(counter, g.Name) else self.namer.fresh("k")
        head_out = []
        saved = self._out
        self._out = head_out
        for tgt, seq in items:
            self._assign(tgt, g.subscript(g.clone(seq), g.name(index)), stmt)
        self._out = saved
        body = head_out + self._sub(stmt.body)
        self._emit(g.for_(index, g.call("range", n), body))

    # -- expressions -----------------------------------------------------------------------
    def _bind(self, expr, base="t"):
        name = self.namer.fresh(base)
        self._emit(g.assign(name, expr))
        return g.name(name)

    def _is_global_ref(self, expr):
        if isinstance(expr, g.Name):
            return expr.id not in self.locals
        if isinstance(expr, g.Attribute):
            return self._is_global_ref(expr.value)
        return False

    def _atom(self, expr):
        """An atom for ``expr``, emitting statements that compute it."""
        if isinstance(expr, g.JoinedStr):
            return self._expr(expr)  # kept whole: print and assert only read it
        if isinstance(expr, g.UnaryOp) and isinstance(expr.op, g.USub) and isinstance(
                expr.operand, g.Constant) and isinstance(expr.operand.value, (int, float)):
            return g.const(-expr.operand.value)  # -1 is a constant, not an operation
        if isinstance(expr, (g.Name, g.Constant)) or self._is_global_ref(expr):
            return g.clone(expr) if not isinstance(expr, g.Name) else g.name(expr.id)
        return self._bind(self._expr(expr))

    def _expr(self, expr):
        """``expr`` as one operation on atoms (statements emitted for its operands)."""
        if isinstance(expr, (g.Name, g.Constant)) or self._is_global_ref(expr):
            return self._atom(expr)
        if isinstance(expr, g.BinOp):
            return g.binop(self._atom(expr.left), type(expr.op), self._atom(expr.right))
        if isinstance(expr, g.UnaryOp):
            operand = self._atom(expr.operand)
            if isinstance(expr.op, g.UAdd):
                return operand
            if isinstance(expr.op, g.USub) and isinstance(operand, g.Constant) and isinstance(
                    operand.value, (int, float)) and not isinstance(operand.value, bool):
                return g.const(-operand.value)
            return g.unary(type(expr.op), operand)
        if isinstance(expr, g.Compare):
            return self._compare(expr)
        if isinstance(expr, g.BoolOp):
            return g.name(self._boolop(expr).id)
        if isinstance(expr, g.IfExp):
            result = self.namer.fresh("t")
            test = self._atom(expr.test)
            body = self._capture(lambda: self._expr(expr.body))
            orelse = self._capture(lambda: self._expr(expr.orelse))
            self._emit(g.if_(test, body[0] + [g.assign(result, body[1])],
                             orelse[0] + [g.assign(result, orelse[1])]))
            return g.name(result)
        if isinstance(expr, g.Call):
            return self._call(expr)
        if isinstance(expr, g.Subscript):
            return g.subscript(self._atom(expr.value), self._index(expr.slice))
        if isinstance(expr, g.Attribute):
            return g.Attribute(value=self._atom(expr.value), attr=expr.attr, ctx=g.Load())
        if isinstance(expr, (g.Tuple, g.List)):
            cls = type(expr)
            return cls(elts=[self._atom(e) for e in expr.elts], ctx=g.Load())
        if isinstance(expr, g.JoinedStr):  # an f-string printed or in an assert message
            for part in expr.values:
                if hasattr(part, "conversion"):  # a formatted value: its value becomes an atom
                    part.value = self._atom(part.value)
            return expr
        raise self.info.error(UnsupportedSyntaxError,
                              f"{type(expr).__name__} expressions are not supported", expr,
                              "rewrite it with arithmetic, calls and subscripts")

    def _compare(self, expr):
        left = self._atom(expr.left)
        if len(expr.ops) == 1:
            return g.compare(left, type(expr.ops[0]), self._atom(expr.comparators[0]))
        # a < b < c  ->  t = a < b; if t: t = b < c   (b evaluated once, short-circuit kept)
        result = self.namer.fresh("t")
        right = self._atom(expr.comparators[0])
        self._emit(g.assign(result, g.compare(left, type(expr.ops[0]), right)))
        rest = g.Compare(left=right, ops=expr.ops[1:], comparators=expr.comparators[1:])
        inner = self._capture(lambda: self._expr(rest))
        self._emit(g.if_(g.name(result), inner[0] + [g.assign(result, inner[1])]))
        return g.name(result)

    def _boolop(self, expr):
        result = self.namer.fresh("t")
        first = self._expr(expr.values[0])
        self._emit(g.assign(result, first))
        rest = expr.values[1:]
        if not rest:
            return g.name(result)
        tail = (g.BoolOp(op=expr.op, values=rest) if len(rest) > 1 else rest[0])
        inner = self._capture(lambda: self._expr(tail))
        then = inner[0] + [g.assign(result, inner[1])]
        if isinstance(expr.op, g.And):
            self._emit(g.if_(g.name(result), then))
        else:
            self._emit(g.if_(g.name(result), [g.Pass()], then))
        return g.name(result)

    def _call(self, expr):
        func = expr.func
        if isinstance(func, g.Attribute) and not self._is_global_ref(func):
            func = g.Attribute(value=self._atom(func.value), attr=func.attr, ctx=g.Load())
        elif not self._is_global_ref(func):
            raise self.info.error(UnsupportedSyntaxError,
                                  "calling a computed function is not supported", expr,
                                  "call functions by their name")
        else:
            func = g.clone(func)
        args = [self._arg(a) for a in expr.args]
        if len(args) > 2 and not expr.keywords and any(
                _is_call_to(expr, f, self) for f in ("min", "max")):
            # min(a, b, c) -> min(min(a, b), c): the rule is binary
            acc = args[0]
            for a in args[1:-1]:
                acc = self._bind(g.call(g.clone(func), acc, a))
            args = [acc, args[-1]]
        keywords = []
        for kw in expr.keywords:
            if kw.arg is None:
                raise self.info.error(UnsupportedSyntaxError, "**kwargs in calls is not "
                                      "supported", expr, "pass keywords explicitly")
            keywords.append(g.keyword(kw.arg, self._arg(kw.value)))
        return g.call(func, *args, keywords=keywords)

    def _arg(self, expr):
        if isinstance(expr, (g.Tuple, g.List)):
            # Shapes, axes and np.array([...]) keep their literal structure.
            return type(expr)(elts=[self._arg(e) for e in expr.elts], ctx=g.Load())
        return self._atom(expr)

    def _index(self, index):
        if isinstance(index, g.Constant) and index.value is Ellipsis:
            # x[...] is x[:] for arrays of one dimension or more, and Numba reads only the latter
            return g.Slice(lower=None, upper=None, step=None)
        return self._index_part(index)

    def _index_part(self, index):
        if isinstance(index, g.Tuple):
            return g.tuple_([self._index_part(e) for e in index.elts])
        if isinstance(index, g.Slice):
            part = [None if p is None else self._atom(p)
                    for p in (index.lower, index.upper, index.step)]
            return g.Slice(lower=part[0], upper=part[1], step=part[2])
        return self._atom(index)


def _pair_leaves(target, value):
    """[(target leaf, value expression)] for a tuple target matched by a tuple literal."""
    if isinstance(target, (g.Tuple, g.List)) and isinstance(value, (g.Tuple, g.List)) and \
            len(target.elts) == len(value.elts):
        return [p for t, v in zip(target.elts, value.elts) for p in _pair_leaves(t, v)]
    return [(target, value)]


def _is_call_to(expr, name, anf):
    return (isinstance(expr, g.Call) and isinstance(expr.func, g.Name)
            and expr.func.id == name and name not in anf.locals
            and anf.info.lookup(name)[1] is getattr(builtins, name))
