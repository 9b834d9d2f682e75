"""NormalizeControl: early ``return``, ``break`` and ``continue`` become structured code.

Takes a syntax-checked function body; returns an equivalent body in which

* the function has exactly one ``return``, the last statement (``return result`` or
  ``return result_0, result_1`` for a function returning tuples);
* ``continue`` no longer occurs;
* ``break`` occurs only in one ``if flag: break`` at the end of its loop's body: a ``break``
  sets the flag and the rest of the iteration is guarded by it, so every statement the backward
  sweep replays for an iteration really ran in it;
* with several ``return`` statements, ``result`` is only ever assigned a name or a constant
  (``t = x * 2; result = t``): no derivative rule reads it, so it keeps one version.

An ``if`` whose test is a constant (a literal, or a module-level number, boolean, string or
None such as ``if DEBUG:``) is first replaced by the branch it takes, as Numba does when it
compiles; reading a name that only the dropped branch binds is refused.

A jump is eliminated from the innermost block outwards. Code after a branch that always jumps
moves into the other branch; code after a branch that may jump is guarded by a flag, which the
jump sets (a flag is set only where some guard reads it). A ``return`` inside a loop assigns the
result, sets the ``returned`` flag and breaks; after the loop, ``if returned: break`` leaves an
enclosing loop and ``if not returned: ...`` guards the rest of the function. Before and after::

    for i in range(n):                     for i in range(n):
        if x[i] < 0:                           if x[i] < 0:
            continue                               pass
        s = s + x[i]                           else:
                                                   s = s + x[i]

    def f(a, b):                           def f(a, b):
        if b > 0:                              returned = False
            if b < 1:                          if b > 0:
                return b                           if b < 1:
        return a                                       result = b
                                                       returned = True
                                               if not returned:
                                                   result = a
                                               return result
"""

from __future__ import annotations

from .. import grammar as g
from ..errors import UnsupportedSyntaxError


class NormalizeControl:
    def __init__(self, namer, info):
        self.namer = namer
        self.info = info
        self.flags = {}  # kind -> the flag of the jump being eliminated (created on first use)

    # -- entry point -----------------------------------------------------------------------
    def __call__(self, fdef):
        self.locals = {a.id for a in fdef.args.args} | g.assigned_names(fdef.body)
        body = self._resolve_constant_tests([s for s in fdef.body if not _is_docstring(s)])
        self._check_still_bound(body, fdef)
        arity = self._return_arity(body)
        self.arity = arity  # None: a single value; k: a k-tuple (also k == 1)
        self.results = ([self.namer.fresh("result")] if arity is None else
                        [self.namer.fresh(f"result_{k}") for k in range(arity)])
        if not _jumps_in(fdef.body, "return", loops=True):
            raise self.info.error(UnsupportedSyntaxError, "the function returns nothing", fdef,
                                  "return the value to differentiate")
        self.several = sum(isinstance(n, g.Return) for s in body for n in g.walk(s)) > 1
        body, _, _ = self._block(body, "return", cont=False)
        if "return" in self.flags:
            body.insert(0, g.assign(self.flags["return"], g.const(False)))
        body = self._loops(body)
        assert not any(isinstance(n, (g.Return, g.Continue)) for s in body for n in g.walk(s)), \
            "NormalizeControl left a jump behind"
        out = (g.name(self.results[0]) if self.arity is None
               else g.tuple_([g.name(r) for r in self.results]))
        body.append(g.copy_location(g.return_(out), fdef.body[-1]))
        fdef.body = body
        return fdef

    # -- branches on constants ----------------------------------------------------------------
    def _resolve_constant_tests(self, stmts):
        """Replace each ``if`` whose test is a constant — literals and module-level numbers,
        booleans and strings, as ``if DEBUG:`` — by the branch it takes, as Numba does when it
        compiles: the code then records and replays exactly what runs, in both modes."""
        out = []
        for stmt in stmts:
            if isinstance(stmt, g.If):
                known, value = self._constant(stmt.test)
                if known:
                    out.extend(self._resolve_constant_tests(stmt.body if value else stmt.orelse))
                    continue
                stmt.body = self._resolve_constant_tests(stmt.body) or [g.Pass()]
                stmt.orelse = self._resolve_constant_tests(stmt.orelse)
            elif isinstance(stmt, (g.For, g.While)):
                stmt.body = self._resolve_constant_tests(stmt.body) or [g.Pass()]
            out.append(stmt)
        return out

    def _check_still_bound(self, body, fdef):
        """A name bound only in a branch that never runs must not be read: it would now
        name a global."""
        lost = self.locals - {a.id for a in fdef.args.args} - g.assigned_names(body)
        for node in (n for s in body for n in g.walk(s)):
            if isinstance(node, g.Name) and node.id in lost:
                raise self.info.error(
                    UnsupportedSyntaxError, f"{node.id} is assigned only in a branch whose "
                    "condition is a constant that skips it", node,
                    f"assign {node.id} on every path, or change the constant")

    def _constant(self, expr):
        """(True, value) for an expression of constants, else (False, None)."""
        if isinstance(expr, g.Constant):
            return _plain(expr.value)
        if isinstance(expr, g.Name) and expr.id not in self.locals:
            found, value = self.info.lookup(expr.id)
            return _plain(value) if found else (False, None)
        if isinstance(expr, g.UnaryOp) and isinstance(expr.op, g.Not):
            known, value = self._constant(expr.operand)
            return (True, not value) if known else (False, None)
        if isinstance(expr, g.BoolOp):
            values = [self._constant(v) for v in expr.values]
            if not all(known for known, _ in values):
                return False, None
            pick = all if isinstance(expr.op, g.And) else any
            return True, pick(bool(v) for _, v in values)
        if isinstance(expr, g.Compare) and len(expr.ops) == 1 and not isinstance(
                expr.ops[0], (g.In, g.NotIn)):
            (k1, a), (k2, b) = self._constant(expr.left), self._constant(expr.comparators[0])
            if k1 and k2:
                try:
                    return True, bool(g.CMPOPS[type(expr.ops[0])](a, b))
                except TypeError:
                    return False, None
        return False, None

    def _return_arity(self, body):
        arities = set()
        for stmt in body:
            for node in g.walk(stmt):
                if isinstance(node, g.Return):
                    v = node.value
                    if v is None:
                        raise self.info.error(
                            UnsupportedSyntaxError, "a return without a value", node,
                            "return the value to differentiate on every path")
                    arities.add(len(v.elts) if isinstance(v, g.Tuple) else None)
        if len(arities) > 1:
            raise self.info.error(
                UnsupportedSyntaxError, "return statements disagree on returning a tuple",
                body[0], "return the same number of values from every return statement")
        return arities.pop() if arities else None

    # -- jump elimination ------------------------------------------------------------------
    def _block(self, stmts, kind, cont):
        """Eliminate jumps of ``kind`` from ``stmts``: (stmts, may_jump, always_jumps).

        ``cont``: whether code after ``stmts`` is guarded by the flag of ``kind``, so that a
        jump in ``stmts`` must set it."""
        out = []
        for k, stmt in enumerate(stmts):
            rest = stmts[k + 1:]
            if _is_jump(stmt, kind):
                out.extend(self._action(stmt, kind, set_flag=cont))
                return out, True, True  # what follows a jump never runs
            if isinstance(stmt, g.If) and _jumps_in([stmt], kind, loops=(kind == "return")):
                then_always = _always(stmt.body, kind)
                else_always = _always(stmt.orelse, kind)
                if then_always or else_always:
                    # Code after a branch that always jumps belongs to the other branch.
                    if then_always:
                        stmt.body = self._block(stmt.body, kind, cont)[0]
                        stmt.orelse, _, always = self._block(stmt.orelse + rest, kind, cont)
                    else:
                        stmt.orelse = self._block(stmt.orelse, kind, cont)[0]
                        stmt.body, _, always = self._block(stmt.body + rest, kind, cont)
                    stmt.body = stmt.body or [g.Pass()]
                    out.append(stmt)
                    return out, True, always
                # A branch that may jump: the rest runs only if it did not.
                tail = self._block(rest, kind, cont)[0]
                flagged = cont or bool(tail)
                stmt.body = self._block(stmt.body, kind, flagged)[0] or [g.Pass()]
                stmt.orelse = self._block(stmt.orelse, kind, flagged)[0]
                out.append(stmt)
                return out + self._guard(kind, tail), True, False
            if isinstance(stmt, (g.For, g.While)) and kind == "return" and _jumps_in(
                    stmt.body, "return", loops=True):
                tail = self._block(rest, kind, cont)[0]
                stmt.body = self._loop_returns(stmt.body, set_flag=cont or bool(tail))
                out.append(stmt)
                return out + self._guard(kind, tail), True, False
            out.append(stmt)
        return out, False, False

    def _guard(self, kind, tail):
        """``if not flag: tail`` (nothing for an empty tail)."""
        if not tail:
            return []
        return [g.if_(g.unary(g.Not, g.name(self._flag(kind))), tail)]

    def _loop_returns(self, stmts, set_flag):
        """A loop body's ``return v``s become ``result = v; returned = True; break`` (the
        flag set when ``set_flag``, or when a nested loop must leave this one); after a nested
        loop that may return, ``if returned: break``. The ``break`` passes finish the job."""
        out = []
        for stmt in stmts:
            if isinstance(stmt, g.Return):
                out.extend(self._action(stmt, "return", set_flag))
                out.append(g.copy_location(g.Break(), stmt))
                return out
            if isinstance(stmt, g.If):
                stmt.body = self._loop_returns(stmt.body, set_flag) or [g.Pass()]
                stmt.orelse = self._loop_returns(stmt.orelse, set_flag)
            elif isinstance(stmt, (g.For, g.While)) and _jumps_in(stmt.body, "return",
                                                                  loops=True):
                stmt.body = self._loop_returns(stmt.body, set_flag=True)
                out.append(stmt)
                stmt = g.copy_location(exit_check(self._flag("return")), stmt)
            out.append(stmt)
        return out

    def _flag(self, kind):
        if kind not in self.flags:
            base = {"return": "returned", "break": "broke", "continue": "skipped"}[kind]
            self.flags[kind] = self.namer.fresh(base)
        return self.flags[kind]

    def _action(self, stmt, kind, set_flag):
        """The statements that replace a jump (without the ``break`` of a loop's return)."""
        acts = []
        if kind == "return":
            value = stmt.value
            values = value.elts if self.arity is not None else [value]
            for r, v in zip(self.results, values):
                if self.several and not isinstance(v, (g.Name, g.Constant)):
                    # ``result`` only ever copies: no derivative rule reads it, so it keeps
                    # one version, which holds the returned value when the backward sweep runs.
                    t = self.namer.fresh("t")
                    acts.append(g.copy_location(g.assign(t, v), stmt))
                    v = g.name(t)
                acts.append(g.copy_location(g.assign(r, v), stmt))
        if set_flag:
            acts.append(g.copy_location(g.assign(self._flag(kind), g.const(True)), stmt))
        return acts

    # -- loops -----------------------------------------------------------------------------
    def _loops(self, stmts):
        """Eliminate ``continue`` and mid-body ``break`` in every loop, innermost first."""
        out = []
        for stmt in stmts:
            if isinstance(stmt, g.If):
                stmt.body = self._loops(stmt.body) or [g.Pass()]
                stmt.orelse = self._loops(stmt.orelse)
            elif isinstance(stmt, (g.For, g.While)):
                body = self._loops(stmt.body)
                body = self._loop_kind(body, "continue")
                body = self._loop_kind(body, "break")
                stmt.body = body or [g.Pass()]
            out.append(stmt)
        return out

    def _loop_kind(self, body, kind):
        if not _jumps_in(body, kind, loops=False):
            return body
        saved = self.flags.pop(kind, None)
        # A break always sets its flag: the exit check at the end of the body reads it.
        new, _, _ = self._block(body, kind, cont=(kind == "break"))
        flag = self.flags.pop(kind, None)
        if saved is not None:
            self.flags[kind] = saved
        if flag is None:
            return new  # every continue moved the rest of the body into the other branch
        init = [g.assign(flag, g.const(False))]
        if kind == "break":
            # The one real exit: every statement of the iteration has run (or been skipped
            # by the flag) before it, so the backward sweep replays exactly what ran.
            return init + new + [exit_check(flag)]
        return init + new


def _plain(value):
    """A value Numba freezes as a compile-time constant: (True, value), else (False, None)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return True, value
    return False, None


def _is_docstring(stmt):
    return isinstance(stmt, g.Expr) and isinstance(stmt.value, g.Constant)


def _is_jump(stmt, kind):
    return isinstance(stmt, {"return": g.Return, "break": g.Break, "continue": g.Continue}[kind])


def _always(stmts, kind):
    """Whether every path through ``stmts`` ends in a jump of ``kind`` (loops may run zero
    times, so a jump inside one does not count)."""
    for stmt in stmts:
        if _is_jump(stmt, kind):
            return True
        if isinstance(stmt, g.If) and _always(stmt.body, kind) and _always(stmt.orelse, kind):
            return True
    return False


def _jumps_in(stmts, kind, loops):
    """Whether ``stmts`` contain a jump of ``kind``; inside nested loops only if ``loops``
    (a ``break`` or ``continue`` there belongs to the nested loop)."""
    for stmt in stmts:
        if _is_jump(stmt, kind):
            return True
        if isinstance(stmt, g.If) and (_jumps_in(stmt.body, kind, loops) or
                                       _jumps_in(stmt.orelse, kind, loops)):
            return True
        if loops and isinstance(stmt, (g.For, g.While)) and _jumps_in(stmt.body, kind, loops):
            return True
    return False


def exit_check(flag):
    """``if flag: break`` — the loop's single exit after break elimination."""
    return g.if_(g.name(flag), [g.Break()])


def is_exit_check(stmt):
    return isinstance(stmt, g.If) and len(stmt.body) == 1 and isinstance(
        stmt.body[0], g.Break) and not stmt.orelse
