"""ReverseAD: the forward sweep and the backward sweep of reverse mode.

Takes the SSA'd ANF function, its active names, needed names and tape plans; returns the body of
the adjoint function: the forward sweep (the primal, recording what the plans say), the seed
``d[out] = dout``, and the backward sweep — every active statement replaced by its rule's
contributions, in reverse order. The transformer alone decides how a contribution lands: the
first one *defines* ``dx``, later ones accumulate ``dx = dx + ...`` (never in place, so adjoints
never alias), and a statement *consumes* the adjoint of what it assigns, so a variable's earlier
value starts from zero. Before a branch or loop, adjoints it may touch are given a zero of the
right type (``zeros_like``) so generated code stays type-stable for Numba; the zero of an array
some runs never bind is bound by the forward sweep after its one assignment (``_late_bound``),
or, for one assigned in a loop or several times, taken under a flag the forward sweep sets once it
binds the name (``bound_flags``).

Control flow: ``if`` replays its (recorded or recomputed) condition; ``for`` over ``range`` runs
backwards over the same range; ``while`` and loops that ``break`` run their recorded trip count.
Subscript writes into an array the backward sweep reads (active or not) save the elements they
overwrite and restore them after their adjoint.
"""

from __future__ import annotations

from .. import grammar as g
from ..analysis.activity import atom_names, classify, dotted_name
from ..analysis.aliases import may_return_view
from ..errors import NoRuleError, UnsupportedSyntaxError
from ..template import Bound, fill_vjp
from .reverse_control import ReverseControl, top_loops
from .reverse_data import ReverseData, tuple_results
from .ssa import _surely_bound
from .tape import Recording


class ReverseAD(ReverseControl, ReverseData, Recording):
    def __init__(self, ctx, body, *, active, needed, plans, local_names, mutated, int_names,
                 params, scalar_type):
        self.ctx = ctx
        self.namer = ctx.namer
        self.active = active
        self.needed = needed
        self.plans = plans
        self.locals = local_names
        self.mutated = mutated
        self.int_names = int_names
        self.tapes = []  # every tape variable, created empty at the top
        self.saves = {}  # id(subscript write) -> name holding the overwritten value
        self.pushed = {}  # id(push onto a list tape) -> (the push, the name it records)
        self.adjoint_lists = []  # adjoints of active lists (tapes of differentiated code)
        self.lists = set()  # names bound to lists (`lst = []`)
        self.params = set(params)
        self.outputs = set()  # the names the function returns (set by backward)
        self._all_stmts = body
        self._locals_of = {}  # (id(loop), outputs) -> its local names (see _loop_locals)
        self._mention_counts = None  # name -> mentions in body, per backward sweep
        self.top_loops = top_loops(body)  # ids of loops not nested in another loop
        self.scalar_type = scalar_type  # name -> "float64" | "int64" | "bool_" | None
        self.late_bound = _late_bound(body, params)
        self.forward_zeros = set()  # names whose zero adjoint the forward sweep binds
        self.maybe_unbound = _maybe_unbound(body, params)
        self.bound_flags = {}  # name -> the flag the forward sweep sets once it binds name
        self.ran = []  # per enclosing arm or loop body: the names it surely binds
        self.plan_saves(body)

    # ======================================================================= backward sweep
    def backward(self, stmts, seeds):
        """The backward sweep of ``stmts``, seeded with ``[(output name, cotangent expr)]``."""
        self._mention_counts = None
        self.lists = {n.targets[0].id for s in stmts for n in g.walk(s)
                      if isinstance(n, g.Assign) and isinstance(n.targets[0], g.Name)
                      and isinstance(n.value, g.List) and not n.value.elts}
        self.defined = {}  # name -> whether its adjoint is owned (safe to update in place)
        self.tuples = tuple_results(stmts, self.ctx)  # name -> length of a tuple result
        self.elements = {}  # element key -> (tuple name, index)
        out = []
        self.outputs = {name for name, _ in seeds}  # read by the return: never loop-local
        for name, expr in seeds:
            self._accumulate(name, expr, out, None)
            if name in self.defined and isinstance(expr, g.Subscript):
                self.defined[name] = False  # an element of the caller's cotangent tuple
        out += self._block(stmts)
        return out

    def _d(self, name):
        return self.namer.adjoint(name)

    def _block(self, stmts):
        out = []
        for stmt in reversed(stmts):
            out.extend(self._stmt(stmt))
        return out

    def _stmt(self, stmt):
        if isinstance(stmt, g.Expr) and isinstance(stmt.value, g.Call):
            return self._append(stmt)
        if isinstance(stmt, g.Assign):
            target = stmt.targets[0]
            if isinstance(target, g.Name):
                return self._assign(stmt, target.id)
            return self._write(stmt, target)
        if isinstance(stmt, g.If):
            return self._if(stmt)
        if isinstance(stmt, (g.For, g.While)):
            return self._loop(stmt)
        return []

    # -- contributions ---------------------------------------------------------------------
    def _accumulate(self, name, expr, out, at):
        d = self._d(name)
        if name in self.defined:
            stmt = g.assign(d, g.binop(g.name(d), g.Add, expr))
            self.defined[name] = True
        else:
            stmt = g.assign(d, expr)
            self.defined[name] = not _may_alias(expr)
        out.append(g.copy_location(stmt, at) if at is not None else stmt)

    def _zero(self, name, out, at=None):
        if name in self.elements:
            t, k = self.elements[name]
            zero = g.call("zeros_like", g.subscript(g.name(t), g.const(k)))
            stmt = g.assign(self._d(name), zero)
            out.append(g.copy_location(stmt, at) if at is not None else stmt)
            self.defined[name] = True
            return
        if name in self.lists:
            self._dlist(name)  # a list's adjoint is a list, created empty up front
            self.defined[name] = True
            return
        # A scalar's zero is 0.0 without reading it: it may be unbound on this path (a name
        # assigned in one branch only), and then its adjoint is never read.
        if not self.scalar_type(name) and name in self.late_bound:
            # An array that some runs never bind: its zero is bound by the forward sweep right
            # after its one assignment (see _late_bound). A run that never binds it never
            # reads its adjoint; nothing else has written the adjoint yet, so it is still zero.
            self.forward_zeros.add(name)
            self.defined[name] = True
            return
        zero = g.const(0.0) if self.scalar_type(name) else g.call("zeros_like", g.name(name))
        stmt = g.assign(self._d(name), zero)
        if not self.scalar_type(name) and name in self.maybe_unbound and \
                not any(name in ran for ran in self.ran):
            # A name some runs never bind (assigned in a loop, or on some paths only): those
            # runs never read its adjoint, but zeros_like(name) would fail there. (Where the
            # backward sweep is, the whole forward sweep has run: a name bound by an arm or a
            # loop body whose backward code runs here is bound.)
            stmt = g.if_(g.name(self._bound_flag(name)), [stmt], [])
        out.append(g.copy_location(stmt, at) if at is not None else stmt)
        self.defined[name] = True

    def _bound_flag(self, name):
        flag = self.bound_flags.get(name)
        if flag is None:
            flag = self.bound_flags[name] = self.namer.fresh(f"{name}_bound")
        self.namer.reserve(flag)  # a loop body generated again starts from a snapshot
        return flag

    def _own(self, name, out, at):
        if name not in self.defined:
            self._zero(name, out, at)
        elif not self.defined[name]:
            out.append(g.copy_location(g.assign(self._d(name),
                                                g.call("fresh", g.name(self._d(name)))), at))
            self.defined[name] = True

    def _is_active(self, atom):
        return isinstance(atom, g.Name) and atom.id in self.active

    def _assign(self, stmt, z):
        value = stmt.value
        if z in self.active and z not in self.defined and isinstance(value, g.Call) and \
                isinstance(value.func, g.Attribute) and value.func.attr == "pop" and \
                isinstance(value.func.value, g.Name) and value.func.value.id in self.active:
            self._zero(z, [], stmt)
            self.defined.pop(z)
            zero = g.call("zeros_like", g.name(z))
            return [self._list_call(value.func.value.id, "append", zero, stmt)]
        dz = g.name(self._d(z))
        if z in self.tuples and z in self.active:
            dz = self._tuple_adjoint(z)
            if dz is None:
                return []
            self.defined[z] = False
        if z not in self.active or z not in self.defined:
            return []
        op = classify(value, self.ctx, self.locals)
        out = []
        contributions = []
        if op.kind == "copy":
            contributions = [(value, dz)]
        elif op.kind == "subscript" and value.value.id in self.lists:
            raise self.ctx.error(
                UnsupportedSyntaxError, "indexing a list of differentiated values is not "
                "supported (lists are supported as stacks: append and pop)", stmt,
                "collect the values in an array (np.zeros(n), then out[i] = value)")
        elif op.kind == "subscript" and value.value.id in self.tuples:
            k = value.slice.value
            contributions = [(g.name(self._element(value.value.id, k)), dz)]
        elif op.kind == "subscript":
            base = value.value.id
            if base in self.active:
                self._own(base, out, stmt)
                out.append(self._index_add(base, value.slice, dz, stmt))
        elif op.kind == "pop":
            lst = value.func.value.id
            if lst in self.active:
                out.append(self._list_call(lst, "append", dz, stmt))
        elif op.kind == "rule" and any(self._is_active(a) and a.id in self.lists
                                       for a in op.args):
            raise self.ctx.error(
                UnsupportedSyntaxError, "a list of differentiated values cannot be passed to "
                f"{op.rule.name} (lists are supported as stacks: append and pop)", stmt,
                "collect the values in an array (out = np.zeros(n), then out[i] = value)")
        elif op.kind == "rule" and op.rule.custom is not None:
            contributions = self._custom(stmt, z, op, dz, out)
        elif op.kind == "rule" and not op.rule.nondiff:
            if op.rule.vjp is None and op.rule.partials is None:
                raise self.ctx.error(NoRuleError, f"{op.rule.name} has no reverse-mode rule",
                                     stmt, "use another function, or define one with "
                                     "adjoint.custom_vjp")
            bound = Bound(op.rule, op.args, op.keywords, stmt, self.ctx)
            filled = fill_vjp(bound, z, dz, self._is_active, self.namer)
            out.extend(g.copy_location(s, stmt) for s in filled.prelude)
            for atom, expr in filled.contributions:
                contributions += self._distribute(atom, expr, out, stmt)
            contributions = _merge_twins(contributions)
        elif op.kind in ("unknown", "pack"):
            if set(atom_names(value, self.locals)) & self.active or op.kind == "unknown":
                raise self._no_rule(op, stmt)
        # Contributions to other names read dz; then dz is consumed (the earlier value of z
        # has an adjoint of its own), then contributions to z itself (e.g. s = s * s).
        to_self = [e for a, e in contributions if a.id == z]
        for atom, expr in contributions:
            if atom.id != z:
                self._accumulate(atom.id, expr, out, stmt)
        self.defined.pop(z, None)
        if to_self:
            total = to_self[0]
            for e in to_self[1:]:
                total = g.binop(total, g.Add, e)
            self._accumulate(z, total, out, stmt)
        return out

    def _custom(self, stmt, z, op, dz, out):
        """Inline the user's ``bwd(*inputs, out, g)`` here; its results are contributions."""
        from .inline import InlineCalls
        bound = Bound(op.rule, op.args, op.keywords, stmt, self.ctx)
        inputs = [bound.values[p] for p in op.rule.params]
        fname = self.ctx.bind_global(op.rule.custom.__name__, op.rule.custom)
        parts = self.namer.fresh("parts")
        call = g.copy_location(g.assign(parts, g.call(g.name(fname), *[
            g.clone(a) for a in inputs], g.name(z), g.clone(dz))), stmt)
        inliner = InlineCalls(self.ctx, self.ctx.normalize_callee)
        out.extend(inliner([call], self.ctx, set(self.locals)))
        names = inliner.tuples.get(parts, [parts])
        if len(names) != len(inputs):
            raise self.ctx.error(
                UnsupportedSyntaxError,
                f"the rule {op.rule.custom.__name__} returns {len(names)} cotangent(s) for "
                f"{len(inputs)} input(s)", stmt, "return one cotangent per input, in order")
        return [(atom, g.name(n)) for atom, n in zip(inputs, names) if self._is_active(atom)]

    def _distribute(self, atom, expr, out, stmt):
        """Contributions of ``expr`` to ``atom``; for a (nested) list of atoms such as
        ``np.array([[x, y], [z, 1.0]])``'s argument, element ``[i][j]`` of ``expr`` goes to the
        atom at that position."""
        if not isinstance(atom, (g.List, g.Tuple)):
            return [(atom, expr)] if self._is_active(atom) else []
        parts = self.namer.fresh("parts")
        out.append(g.copy_location(g.assign(parts, expr), stmt))
        found = []
        for k, e in enumerate(atom.elts):
            found += self._distribute(e, g.subscript(g.name(parts), g.const(k)), out, stmt)
        return found

    def _no_rule(self, op, stmt):
        what = op.label or getattr(op.obj, "__name__", "this call")
        hint = (f"register a rule for it with adjoint.defvjp({what}, bwd) (a library function) "
                "or decorate your own function with adjoint.custom_vjp; wrap it in "
                "adjoint.stop_gradient(...) if its derivative should be zero")
        if op.kind == "pack":
            return self.ctx.error(UnsupportedSyntaxError,
                                  "building a list or tuple of differentiated values is not "
                                  "supported here", stmt, "use np.array([...]) or np.stack")
        if (getattr(op.obj, "__module__", "") or "").startswith("adjoint."):
            hint = ("this helper of adjoint's generated code has no rule of its own yet, so "
                    "this derivative cannot be taken to a higher order; use jacobian with "
                    "mode='forward' or finite differences of the gradient for now")
        return self.ctx.error(NoRuleError, f"adjoint has no derivative rule for {what}", stmt,
                              hint)



def _may_alias(expr):
    """Whether ``expr`` may be, once simplified, another array or a view of one rather than a
    new array: a name, a subscript, an attribute, a call that may return a view of its argument
    (``flip_axis``, ``np.reshape``, ... :func:`may_return_view`), possibly under
    ``unbroadcast(e, x)``, ``e * 1.0``, ``e / 1.0``, ``e + 0.0`` or ``e ** 1``, which the
    optimizer removes. Such an adjoint is not owned: it is copied before
    an in-place update."""
    while True:
        if isinstance(expr, (g.Name, g.Subscript, g.Attribute)):
            return True  # an attribute: x.T, x.real are views
        if isinstance(expr, g.Call) and isinstance(expr.func, g.Name) and \
                expr.func.id == "unbroadcast" and expr.args:
            expr = expr.args[0]
        elif isinstance(expr, g.Call):
            return may_return_view(expr)  # flip_axis(d, None), np.reshape(d, s), ...
        elif isinstance(expr, g.BinOp) and isinstance(expr.op, (g.Mult, g.Div, g.Add, g.Sub,
                                                                 g.Pow)):
            unit = 0 if isinstance(expr.op, (g.Add, g.Sub)) else 1
            if _is_number(expr.right, unit):
                expr = expr.left
            elif _is_number(expr.left, unit) and isinstance(expr.op, (g.Mult, g.Add)):
                expr = expr.right
            else:
                return False
        elif isinstance(expr, g.UnaryOp) and isinstance(expr.op, g.USub) and isinstance(
                expr.operand, g.UnaryOp) and isinstance(expr.operand.op, g.USub):
            expr = expr.operand.operand
        else:
            return False


def _is_number(node, value):
    return isinstance(node, g.Constant) and not isinstance(node.value, bool) and \
        isinstance(node.value, (int, float)) and node.value == value


def _maybe_unbound(body, params):
    """Names assigned somewhere that may still be unbound when the forward sweep ends."""
    bound = set(params)
    _surely_bound(body, bound, {})
    return g.assigned_names(body) - bound


def surely_binds(stmts, header=()):
    """The names that running ``stmts`` to their end surely binds (with ``header``)."""
    bound = set(header)
    _surely_bound(list(stmts), bound, {})
    return bound


def _late_bound(body, params):
    """Names that may still be unbound when the forward sweep ends, assigned by exactly one
    statement outside every loop. ``zeros_like(name)`` in the backward sweep would fail on a run
    that never binds one; a run that does bind it keeps it bound for the whole backward sweep.
    One assignment outside loops means the backward sweep writes the adjoint only through
    contributions of reads that follow that assignment, and consumes it only there: where a
    zero is needed, the adjoint has not been written yet on any path."""
    bound = set(params)
    _surely_bound(body, bound, {})
    counts, in_loops = {}, set()

    def visit(stmts, looped):
        for stmt in stmts:
            if isinstance(stmt, g.Assign) and isinstance(stmt.targets[0], g.Name):
                name = stmt.targets[0].id
                counts[name] = counts.get(name, 0) + 1
                if looped:
                    in_loops.add(name)
            elif isinstance(stmt, g.If):
                visit(stmt.body, looped)
                visit(stmt.orelse, looped)
            elif isinstance(stmt, (g.For, g.While)):
                in_loops.update(g.assigned_names([stmt]))
                visit(stmt.body, True)

    visit(body, False)
    return {n for n, k in counts.items() if k == 1 and n not in in_loops and n not in bound}



def _merge_twins(contributions):
    """Two equal contributions to one name (``x * x``: ``dz * x`` from each operand) become
    one, doubled on the operand side: ``dz * (2 * x)``, one product less on the adjoint's
    dependency chain (doubling is exact, so the value is the same)."""
    if len({atom.id for atom, _ in contributions}) == len(contributions):
        return list(contributions)  # one contribution per name: nothing to compare
    out = []
    seen = {}
    for atom, expr in contributions:
        key = (atom.id, g.unparse(expr))
        if key in seen:
            k = seen.pop(key)
            out[k] = (atom, _doubled(expr))
            continue
        seen[key] = len(out)
        out.append((atom, expr))
    return out


def _doubled(expr):
    if isinstance(expr, g.Call) and dotted_name(expr.func) == "unbroadcast" and \
            len(expr.args) == 2:
        return g.call("unbroadcast", _doubled(expr.args[0]), expr.args[1])
    if isinstance(expr, g.BinOp) and isinstance(expr.op, g.Mult):
        return g.binop(expr.left, g.Mult, g.binop(g.const(2), g.Mult, expr.right))
    return g.binop(g.const(2), g.Mult, expr)
