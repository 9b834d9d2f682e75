"""NormalizeControl: early ``return``, ``break`` and ``continue`` become structured code.

Takes a syntax-checked function body; returns an equivalent body in which

* the function has exactly one ``return``, the last statement (``return result`` or
  ``return result_0, result_1`` for a function returning tuples);
* ``continue`` no longer occurs;
* ``break`` occurs only in one ``if flag: break`` at the end of its loop's body: a ``break``
  sets the flag and the rest of the iteration is guarded by it, so every statement the backward
  sweep replays for an iteration really ran in it.

Code after a branch that always jumps moves into the other branch; code after a branch that may
jump is guarded by a flag. Before and after::

    for i in range(n):                     for i in range(n):
        if x[i] < 0:                           if x[i] < 0:
            continue                               pass
        s = s + x[i]                           else:
                                                   s = s + x[i]

    def f(x):                              def f(x):
        if x > 0:                              if x > 0:
            return x * 2                           result = x * 2
        return -x                              else:
                                                   result = -x
                                               return result
"""

from __future__ import annotations

from .. import grammar as g
from ..errors import UnsupportedSyntaxError


class NormalizeControl:
    def __init__(self, namer, info):
        self.namer = namer
        self.info = info

    # -- entry point -----------------------------------------------------------------------
    def __call__(self, fdef):
        body = [s for s in fdef.body if not _is_docstring(s)]
        arity = self._return_arity(body)
        self.arity = arity  # None: a single value; k: a k-tuple (also k == 1)
        self.results = ([self.namer.fresh("result")] if arity is None else
                        [self.namer.fresh(f"result_{k}") for k in range(arity)])
        self.returned = None  # flag, created when a return sits inside a loop
        body, _, definite = self._block(body, "return", in_loop=False)
        if not definite and not _returns_somewhere(fdef.body):
            raise self.info.error(UnsupportedSyntaxError, "the function returns nothing", fdef,
                                  "return the value to differentiate")
        if self.returned is not None:
            body.insert(0, g.assign(self.returned, g.const(False)))
        body = self._loops(body)
        out = (g.name(self.results[0]) if self.arity is None
               else g.tuple_([g.name(r) for r in self.results]))
        body.append(g.copy_location(g.return_(out), fdef.body[-1]))
        fdef.body = body
        return fdef

    def _return_arity(self, body):
        arities = set()
        for stmt in body:
            for node in g.walk(stmt):
                if isinstance(node, g.Return):
                    v = node.value
                    arities.add(len(v.elts) if isinstance(v, g.Tuple) else None)
        if len(arities) > 1:
            raise self.info.error(
                UnsupportedSyntaxError, "return statements disagree on returning a tuple",
                body[0], "return the same number of values from every return statement")
        return arities.pop() if arities else None

    # -- jump elimination ------------------------------------------------------------------
    def _block(self, stmts, kind, in_loop):
        """Eliminate jumps of ``kind`` from ``stmts``: (stmts, may_jump, definitely_jumps)."""
        out = []
        for k, stmt in enumerate(stmts):
            rest = stmts[k + 1:]
            if self._is_jump(stmt, kind):
                out.extend(self._action(stmt, kind, in_loop))
                return out, True, True
            if isinstance(stmt, g.If):
                then_jumps = _definitely(stmt.body, kind, self._is_jump)
                else_jumps = _definitely(stmt.orelse, kind, self._is_jump)
                if then_jumps or else_jumps:
                    # Code after a branch that always jumps belongs to the other branch.
                    if then_jumps:
                        stmt.body = self._block(stmt.body, kind, in_loop)[0]
                        stmt.orelse, _, d = self._block(stmt.orelse + rest, kind, in_loop)
                    else:
                        stmt.orelse = self._block(stmt.orelse, kind, in_loop)[0]
                        stmt.body, _, d = self._block(stmt.body + rest, kind, in_loop)
                    stmt.body = stmt.body or [g.Pass()]
                    out.append(stmt)
                    return out, True, (then_jumps and else_jumps) or d
                body, mb, _ = self._block(stmt.body, kind, in_loop)
                orelse, me, _ = self._block(stmt.orelse, kind, in_loop)
                stmt.body, stmt.orelse = body or [g.Pass()], orelse
                out.append(stmt)
                if mb or me:
                    return self._guarded(out, rest, kind, in_loop)
                continue
            if isinstance(stmt, (g.For, g.While)) and kind == "return":
                body, mb, _ = self._block(stmt.body, kind, in_loop=True)
                stmt.body = body or [g.Pass()]
                out.append(stmt)
                if mb:
                    # The loop may have returned: propagate the jump outwards.
                    if in_loop:
                        out.append(g.if_(g.name(self.returned), [g.Break()]))
                        return self._guarded(out, rest, kind, in_loop, flag=self.returned)
                    return self._guarded(out, rest, kind, in_loop, flag=self.returned)
                continue
            out.append(stmt)
        return out, False, False

    def _guarded(self, out, rest, kind, in_loop, flag=None):
        flag = flag or self._flag(kind)
        tail, _, _ = self._block(rest, kind, in_loop)
        if tail:
            out.append(g.if_(g.unary(g.Not, g.name(flag)), tail))
        return out, True, False

    def _is_jump(self, stmt, kind):
        return (kind == "return" and isinstance(stmt, g.Return)
                or kind == "break" and isinstance(stmt, g.Break)
                or kind == "continue" and isinstance(stmt, g.Continue))

    def _flag(self, kind):
        if kind == "return":
            if self.returned is None:
                self.returned = self.namer.fresh("returned")
            return self.returned
        return self._current_flag[kind]

    def _action(self, stmt, kind, in_loop):
        """The statements that replace a jump."""
        if kind == "return":
            value = stmt.value
            values = value.elts if self.arity is not None else [value]
            acts = [g.copy_location(g.assign(r, v), stmt) for r, v in zip(self.results, values)]
            if in_loop:
                acts += [g.assign(self._flag("return"), g.const(True)), g.Break()]
            return acts
        return [g.assign(self._current_flag[kind], g.const(True))]

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
        if not _has_jump(body, kind):
            return body
        self._current_flag = getattr(self, "_current_flag", {})
        saved = self._current_flag.get(kind)
        flag = self.namer.fresh("broke" if kind == "break" else "skipped")
        self._current_flag[kind] = flag
        new, may, _ = self._block(body, kind, in_loop=True)
        self._current_flag[kind] = saved
        init = [g.assign(flag, g.const(False))]
        if kind == "break":
            # The one real exit: every statement of the iteration has run (or been skipped
            # by the flag) before it, so the backward sweep replays exactly what ran.
            return init + new + [exit_check(flag)]
        return init + new


def _is_docstring(stmt):
    return isinstance(stmt, g.Expr) and isinstance(stmt.value, g.Constant)


def _definitely(stmts, kind, is_jump):
    """Whether every path through ``stmts`` ends in a jump of ``kind``."""
    for stmt in stmts:
        if is_jump(stmt, kind):
            return True
        if isinstance(stmt, g.If) and _definitely(stmt.body, kind, is_jump) and _definitely(
                stmt.orelse, kind, is_jump):
            return True
    return False


def _returns_somewhere(stmts):
    return any(isinstance(n, g.Return) for s in stmts for n in g.walk(s))


def _has_jump(stmts, kind):
    """Whether ``stmts`` contain a jump of ``kind`` that belongs to the enclosing loop."""
    cls = g.Break if kind == "break" else g.Continue
    for stmt in stmts:
        if isinstance(stmt, cls):
            return True
        if isinstance(stmt, g.If) and (_has_jump(stmt.body, kind) or _has_jump(stmt.orelse, kind)):
            return True
    return False


def exit_check(flag):
    """``if flag: break`` — the loop's single exit after break elimination."""
    return g.if_(g.name(flag), [g.Break()])


def is_exit_check(stmt):
    return isinstance(stmt, g.If) and len(stmt.body) == 1 and isinstance(
        stmt.body[0], g.Break) and not stmt.orelse
