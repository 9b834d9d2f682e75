"""RenameNeeded: static single assignment for the values the backward sweep reads.

Takes an ANF body and the set ``needed`` of names whose values some derivative rule, branch
condition, loop bound or index reads in the backward sweep. Returns a body in which no such value
is overwritten before the backward sweep has read it:

* in straight-line code, a second assignment to a needed name gets a new version (``x_1``);
* after an ``if``, a needed name assigned in a branch gets one merged version, assigned at the
  end of both branches;
* a needed name assigned in a loop and defined before it gets a loop version: copied in before
  the loop, redefined by versions inside the body, and copied back at the body's end, so the
  value at the start of each iteration is one name the loop's tape can record.

A copy between two versions of an array that is written in place (``a[i] = v``) copies the array
(``a_1 = fresh(a)``): two versions never share memory, so a write through one leaves the value
the backward sweep reads through the other.

Names nobody reads in the backward sweep are left alone, so ``s = s + x[i]`` stays as written.
Reads are rewritten to the version that reaches them.
"""

from __future__ import annotations

from .. import grammar as g
from ..errors import UnsupportedSyntaxError
from .control import is_exit_check


class RenameNeeded:
    def __init__(self, namer, needed, params, ctx=None):
        self.namer = namer
        self.ctx = ctx  # for located errors
        self.needed = set(needed)
        self.params = set(params)
        self.carried_by_loop = {}  # id(loop) -> loop versions of names carried through it
        self.origin = {}  # version -> the user variable it is a version of

    def __call__(self, body):
        # Arrays written in place (``a[i] = v``): a copy between two of their versions must be a
        # copy of the array, not a second name for it, or the write would change both.
        self.written = {t.value.id for s in body for n in g.walk(s) if isinstance(n, g.Assign)
                        for t in n.targets if isinstance(t, g.Subscript) and
                        isinstance(t.value, g.Name)}
        env = {p: p for p in self.params if p in self.needed}
        self.bound_before = {}  # id(loop) -> names surely bound when it starts
        _surely_bound(body, set(self.params), self.bound_before)
        body = self._block(body, env)
        return body

    # -- helpers ---------------------------------------------------------------------------
    def _read(self, node, env):
        """Rewrite Name loads of needed names in ``node`` (in place) through ``env``."""
        for n in g.walk(node):
            if isinstance(n, g.Name) and isinstance(n.ctx, g.Load) and n.id in env:
                n.id = env[n.id]

    def _define(self, name, env):
        """The name a new definition of user variable ``name`` writes to."""
        if name not in self.needed:
            return name
        if name in env:
            new = self._version(name)
        else:
            new = name
        env[name] = new
        return new

    def _copy(self, version, source):
        """``version = source`` between two versions of one variable; ``fresh(source)`` for
        an array written in place, so that a write through one does not change the other (the
        backward sweep reads the value from before the write)."""
        value = g.name(source)
        if self.origin.get(source, source) in self.written:
            value = g.call("fresh", value)
        return g.assign(version, value)

    def _version(self, name):
        new = self.namer.version(name)
        self.needed.add(new)
        self.origin[new] = self.origin.get(name, name)
        return new

    # -- statements ------------------------------------------------------------------------
    def _block(self, stmts, env):
        out = []
        for stmt in stmts:
            out.extend(self._stmt(stmt, env))
        return out

    def _stmt(self, stmt, env):
        if isinstance(stmt, g.Assign):
            self._read(stmt.value, env)
            target = stmt.targets[0]
            if isinstance(target, g.Name):
                target.id = self._define(target.id, env)
            else:
                self._read(target, env)  # base and index of a subscript write are reads
            return [stmt]
        if isinstance(stmt, g.If):
            self._read(stmt.test, env)
            env_then, env_else = dict(env), dict(env)
            body = self._block(stmt.body, env_then)
            orelse = self._block(stmt.orelse, env_else)
            for name in sorted(set(env_then) | set(env_else)):
                a, b = env_then.get(name), env_else.get(name)
                if a == b:
                    env[name] = a
                elif a is None or b is None:
                    env[name] = a or b  # defined on one path only (user code's business)
                else:
                    merged = self._version(name)
                    body.append(self._copy(merged, a))
                    orelse.append(self._copy(merged, b))
                    env[name] = merged
            stmt.body, stmt.orelse = body or [g.Pass()], orelse
            return [stmt]
        if isinstance(stmt, (g.For, g.While)):
            return self._loop(stmt, env)
        self._read(stmt, env)
        return [stmt]

    def _loop(self, stmt, env):
        pre = []
        if isinstance(stmt, g.For):
            self._read(stmt.iter, env)
        else:
            self._read(stmt.test, env)
        assigned = g.assigned_names(stmt.body)
        if isinstance(stmt, g.For):
            assigned.add(stmt.target.id)
        carried = sorted(n for n in assigned if n in env)
        if isinstance(stmt, g.For) and stmt.target.id not in self.bound_before[id(stmt)]:
            # The header binds the counter before the body reads it; its value from before
            # the loop (which may be unbound, after a loop that ran zero times) is not copied.
            carried = [n for n in carried if n != stmt.target.id]
        self._check_carried(stmt, assigned, env)
        body_env = dict(env)
        self.carried_by_loop[id(stmt)] = []
        for name in carried:
            loop_name = self._version(name)
            self.carried_by_loop[id(stmt)].append(loop_name)
            pre.append(self._copy(loop_name, env[name]))
            body_env[name] = loop_name
        if isinstance(stmt, g.For):
            name = stmt.target.id
            if name in self.needed:
                stmt.target.id = body_env.get(name, name)
                body_env[name] = stmt.target.id
            # the header defines the counter: reads in the body see it directly
        entry = dict(body_env)
        body = self._block(stmt.body, body_env)
        copies = [self._copy(entry[name], body_env[name]) for name in carried
                  if body_env[name] != entry[name]]
        exits = [k for k, s in enumerate(body) if is_exit_check(s)]
        at = exits[0] if exits else len(body)
        body[at:at] = copies
        if isinstance(stmt, g.While):
            self._read(stmt.test, entry)
        stmt.body = body
        for name in assigned:
            if name in entry and name in carried:
                env[name] = entry[name]
            elif name in body_env and name in self.needed:
                env[name] = body_env[name]
        return pre + [stmt]

    def _check_carried(self, loop, assigned, env):
        """A needed value read in an iteration before that iteration assigns it comes from the
        previous iteration, so it must be carried — which needs a value before the loop."""
        header = {loop.target.id} if isinstance(loop, g.For) else set()
        # A value a nested loop leaves behind is recorded after it (tbr's ``after``), even
        # when the nested loop ran zero times: count it as assigned there.
        exposed = exposed_reads(loop.body, header, loops_assign=True)[0]
        if isinstance(loop, g.While):
            exposed |= _loads(loop.test)
        for name in sorted((exposed & assigned & self.needed) - set(env)):
            read = next(n for s in loop.body for n in g.walk(s) if isinstance(n, g.Name) and
                        n.id == name and isinstance(n.ctx, g.Load))
            raise self.ctx.error(
                UnsupportedSyntaxError, f"{name} is read in the loop before the iteration "
                "assigns it, so it holds the previous iteration's value, but it has no value "
                "before the loop", read, f"assign {name} before the loop")


def exposed_reads(stmts, defined=(), loops_assign=False):
    """(names ``stmts`` may read before assigning them, names they surely assign), given the
    names ``defined`` before them. A loop may run zero times: it surely assigns nothing, unless
    ``loops_assign`` (then it counts as assigning what its body assigns)."""
    exposed, defined = set(), set(defined)
    for stmt in stmts:
        if isinstance(stmt, g.Assign):
            exposed |= _loads(stmt) - defined
            if isinstance(stmt.targets[0], g.Name):
                defined.add(stmt.targets[0].id)
        elif isinstance(stmt, g.If):
            exposed |= _loads(stmt.test) - defined
            e1, d1 = exposed_reads(stmt.body, defined)
            e2, d2 = exposed_reads(stmt.orelse, defined)
            exposed |= e1 | e2
            defined |= d1 & d2
        elif isinstance(stmt, (g.For, g.While)):
            header = {stmt.target.id} if isinstance(stmt, g.For) else set()
            exposed |= _loads(stmt.iter if isinstance(stmt, g.For) else stmt.test) - defined
            exposed |= exposed_reads(stmt.body, defined | header, loops_assign)[0]
            if loops_assign:
                defined |= g.assigned_names([stmt])
        else:
            exposed |= _loads(stmt) - defined
    return exposed, defined


def _surely_bound(stmts, bound, out):
    """Record in ``out`` (id(loop) -> names) what is surely bound when each loop starts."""
    for stmt in stmts:
        if isinstance(stmt, g.Assign) and isinstance(stmt.targets[0], g.Name):
            bound.add(stmt.targets[0].id)
        elif isinstance(stmt, g.If):
            then, orelse = set(bound), set(bound)
            _surely_bound(stmt.body, then, out)
            _surely_bound(stmt.orelse, orelse, out)
            bound |= then & orelse
        elif isinstance(stmt, (g.For, g.While)):
            out[id(stmt)] = set(bound)
            header = {stmt.target.id} if isinstance(stmt, g.For) else set()
            _surely_bound(stmt.body, bound | header, out)


def _loads(node):
    return {n.id for n in g.walk(node) if isinstance(n, g.Name) and isinstance(n.ctx, g.Load)}
