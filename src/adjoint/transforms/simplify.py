"""Simplify: make generated code short and fast without changing what it computes.

Takes the generated function body and the set of names that may be rewritten (temporaries and
adjoints — never the user's own variables); returns an equivalent body after, to a fixpoint:

* algebra and constant folding (``algebra.py``): ``g * 1.0 -> g``, ``-1.0 * g -> -g``,
  ``a ** 1 -> a``, ``2 - 1 -> 1``, ``0.0 + g -> g``, ``0.0 - g -> -g``, ``g * (1.0 / x) -> g / x``,
  ``a - -g * c -> a + g * c``, and ``unbroadcast(g, x) -> g`` where ``g`` provably has ``x``'s
  shape (see :class:`Shapes`); where the ranks of the operands are known, the adjoints of a
  product of vectors and matrices (``matmul_vjp_a``/``dot_vjp_a`` and ``_b``) read as
  ``g @ b.T``, ``a.T @ g``, ``np.outer(g, b)``, ``b @ g`` or ``g * b``, and
  ``np.outer(u, v) * e -> e * v * u[:, None]`` (one full-size array, not two);
  ``unreduce(g, x, None) / n * e -> g / n * e`` (and ``/ e``) for a number ``g`` and ``e`` of
  ``x``'s shape (``keep_dims(g, x, axis) * e`` for a reduction over ``axis``),
  ``keep_dims(r, x, 1) -> r[:, None]`` for a reduction ``r`` without keepdims,
  ``unbroadcast(-g, x) -> -unbroadcast(g, x)``;
  a helper argument read only for its shape reads an earlier name of that shape, and
  ``unbroadcast(g, t)`` for a matrix product ``t = a @ b`` reads ``(a.shape[0], b.shape[1])``,
  and ``unbroadcast(unreduce(s, t, None) * e, w)`` for ``t = e * w`` (the adjoint of ``w`` in
  ``np.sum(e * w)``) reads ``sum_to(s * e, w)`` (so ``t`` need not be kept for the backward
  sweep);
* loop zeros: an adjoint zeroed at the end of every iteration and before the loop is read as
  ``0.0`` at the start of the body (``loop_zeros.py``);
* copy propagation: ``a = b`` with both single-assignment names, and within a block while
  neither is written again (``local_copies.py``);
* forward substitution: a temporary used once, in a later statement of the same block with no
  write to its operands in between, is substituted into that use;
* loop-invariant arithmetic on numbers moves before its loop (``hoist.py``);
* an adjoint's chain ``a + (a * c) * e`` reads ``a * (1.0 + c * e)`` (``factor_chains.py``);
* last, backward loops whose iterations are independent run forward (``run_forward.py``), and
  an adjoint array such a loop fills element by element is allocated empty (``write_once.py``);
* dead-code elimination: statements whose results nothing live reads (``deadcode.py``).

User statements of the forward sweep are never rewritten, only removed when dead.

    dt = dout                       dx = dout * (2 * x) + dout * 3
    dt_1 = dt * (2 * x ** 1)
    dx = dt_1 + dt * 3
"""

from __future__ import annotations

from .. import grammar as g
from ..analysis.activity import dotted_name
from ..analysis.shapes import all_assigns, popped_list
from .algebra import SHAPE_ONLY, Algebra
from .blocks import Block
from .deadcode import DeadCode
from .factor_chains import FactorChains
from .hoist import HoistInvariants
from .local_copies import PropagateLocalCopies
from .loop_zeros import PropagateLoopZeros
from .run_forward import RunLoopsForward
from .write_once import WriteOnce


def count_uses(stmts):
    uses = {}
    for stmt in stmts:
        for n in g.name_nodes(stmt):
            if isinstance(n.ctx, g.Load):
                uses[n.id] = uses.get(n.id, 0) + 1
    return uses


def _counts(fdef):
    """(how often each name is bound, how often it is read for its value — reads that are
    arguments a helper needs only the shape of do not count), in one walk over ``fdef``."""
    defs, uses = {}, {}
    for n in g.nodes_of(fdef, _NAME_OR_CALL):
        if n.__class__ is g.Call:
            for k in SHAPE_ONLY.get(dotted_name(n.func), ()):
                if k < len(n.args) and isinstance(n.args[k], g.Name):
                    uses[n.args[k].id] = uses.get(n.args[k].id, 0) - 1
        elif isinstance(n.ctx, g.Load):
            uses[n.id] = uses.get(n.id, 0) + 1
        elif isinstance(n.ctx, g.Store):
            defs[n.id] = defs.get(n.id, 0) + 1
    return defs, uses


_NAME_OR_CALL = frozenset((g.Name, g.Call))


def _has_loop(stmts):
    return any(isinstance(s, (g.For, g.While)) for s in g.statements(stmts))


class Simplify:
    """The optimizer: rounds of the rewrites above until a round changes nothing (at most
    ``ROUNDS``). Every sub-pass reports whether it changed the tree, and every round takes
    time linear in the function's size: no pass clones a subtree to probe it, rescans a
    block once per statement, or re-solves a loop inside each iteration of an enclosing one."""

    ROUNDS = 6

    def __init__(self, rewritable, shapes=None, protected=()):
        self.rewritable = set(rewritable)
        self.shapes = shapes
        self.protected = set(protected)  # names that must keep existing (results)
        self.changed = False  # whether the current round changed the tree
        self.twins = {}
        self.products, self.spreads = {}, {}

    def __call__(self, fdef):
        for _ in range(self.ROUNDS):
            self.changed = False
            defs, value_uses = _counts(fdef)
            self.twins = self._shape_twins(fdef, defs, value_uses) if self.shapes else {}
            self.products, self.spreads = self._products(fdef, defs) if self.shapes \
                else ({}, {})
            fdef.body = self._merge_ifs(fdef.body)
            zeros = PropagateLoopZeros(self.rewritable - self.protected)
            zeros(fdef.body)
            copies = PropagateLocalCopies(self.rewritable - self.protected)
            copies(fdef.body)
            self.changed |= zeros.changed or copies.changed
            # The passes so far rewrite reads only; the algebra removes `a = a` (and counts it
            # out of defs): defs stay exact through copy propagation and substitution, which
            # change reads and remove only the definition of a name defined once.
            fdef.body = self._algebra(fdef.body, defs=defs)
            self._copies(fdef, defs)
            self._substitute(fdef, defs)
            if self.shapes is not None and _has_loop(fdef.body):
                hoist = HoistInvariants(self.rewritable - self.protected, defs, self.shapes,
                                        [a.id for a in fdef.args.args])
                fdef.body = hoist(fdef.body)
                factor = FactorChains(self.rewritable - self.protected, self.shapes)
                factor(fdef.body)
                self.changed |= hoist.changed or factor.changed
            fdef.body = self._dce(fdef.body)
            if not self.changed:
                break
        RunLoopsForward(self.rewritable)(fdef.body)
        if self.shapes is not None:
            WriteOnce(self.rewritable, self.shapes, [a.id for a in fdef.args.args])(fdef.body)
        return fdef

    # -- merging consecutive ifs --------------------------------------------------------------
    def _merge_ifs(self, stmts):
        """``if c: A`` directly followed by ``if c: B else: C`` becomes ``if c: A; B else: C``
        when ``A`` does not rebind ``c`` (the backward sweep restores, then differentiates,
        under the same condition)."""
        out = []
        bound = None  # the names out[-1] binds, once needed (out[-1] is an If)
        for stmt in stmts:
            if isinstance(stmt, g.If):
                stmt.body = self._merge_ifs(stmt.body)
                stmt.orelse = self._merge_ifs(stmt.orelse)
            elif isinstance(stmt, (g.For, g.While)):
                stmt.body = self._merge_ifs(stmt.body)
            prev = out[-1] if out else None
            if isinstance(stmt, g.If) and isinstance(prev, g.If) and \
                    isinstance(stmt.test, g.Name) and g.is_name(prev.test, stmt.test.id):
                if bound is None:
                    bound = g.assigned_names(prev.body + prev.orelse)
                if stmt.test.id not in bound:
                    prev.body = [s for s in prev.body if not isinstance(s, g.Pass)] + stmt.body
                    prev.orelse = prev.orelse + stmt.orelse
                    prev.body = prev.body or [g.Pass()]
                    bound |= g.assigned_names(stmt.body + stmt.orelse)
                    self.changed = True
                    continue
            out.append(stmt)
            bound = None
        return out

    # -- algebra on rewritable statements -----------------------------------------------------
    def _algebra(self, stmts, alg=None, defs=None):
        """The statements of ``stmts`` rewritten by :class:`Algebra`, without ``a = a`` (each
        one removed is counted out of ``defs``, if given)."""
        top = alg is None
        alg = alg or Algebra(self.shapes, self.twins, self.products, self.spreads)
        out = []
        for stmt in stmts:
            if isinstance(stmt, g.Assign) and isinstance(stmt.targets[0], g.Name) and \
                    g.is_name(stmt.value, stmt.targets[0].id):
                self.changed = True
                if defs is not None:
                    defs[stmt.targets[0].id] -= 1
                continue  # a = a
            if isinstance(stmt, g.Assign) and self._rewritable_stmt(stmt):
                stmt.value = alg.visit(stmt.value)
            elif isinstance(stmt, g.AugAssign):
                stmt.value = alg.visit(stmt.value)
            elif isinstance(stmt, g.Return) and stmt.value is not None:
                stmt.value = alg.visit(stmt.value)  # fresh(d) of a number is d
            elif isinstance(stmt, g.If):
                stmt.body = self._algebra(stmt.body, alg, defs)
                stmt.orelse = self._algebra(stmt.orelse, alg, defs)
            elif isinstance(stmt, (g.For, g.While)):
                stmt.body = self._algebra(stmt.body, alg, defs)
                if isinstance(stmt, g.For):
                    stmt.iter = alg.visit(stmt.iter)
            out.append(stmt)
        if top and alg.changed:
            self.changed = True
        return out

    def _shape_twins(self, fdef, defs, uses):
        """{name: another name of the same shape} for the single-assignment names of the
        function body's top level that are read only for their shape, the other one being a
        parameter never rebound or an earlier such name read for its value: the helpers read
        that one, so a value computed only for its shape (``t_3 = t_2 ** 2`` for
        ``reduced_count(t_3, None)``) dies. ``defs`` and ``uses``: how often each name is
        bound and read for its value (:func:`_counts`)."""
        single = []
        param_names = {p.id for p in fdef.args.args}
        for stmt in fdef.body:
            if isinstance(stmt, g.Assign) and len(stmt.targets) == 1 and \
                    isinstance(stmt.targets[0], g.Name):
                name = stmt.targets[0].id
                # a parameter rebound once is not single-assignment: reads before the
                # rebinding are the argument's
                if defs.get(name) == 1 and name not in param_names and \
                        name not in self.shapes.adjoint_of:
                    single.append(name)
        params = {}
        for p in fdef.args.args:
            if not defs.get(p.id):
                params.setdefault(self.shapes.name(p.id), p.id)
        latest = {}  # token -> the latest name so far that is read for its value
        twins = {}
        for name in single:
            token = self.shapes.name(name)
            if not isinstance(token, tuple) or token[0] not in ("name", "unknown"):
                continue
            if uses.get(name, 0) > 0:
                latest[token] = name
            elif token in params or token in latest:  # read for its shape only
                twins[name] = params.get(token) or latest[token]
        return twins

    def _products(self, fdef, defs):
        """({t: (op, a, b)}, {d: (s, t)}): the names of the body's top level bound once to
        ``a * b``, or to ``a @ b`` of two matrices, where ``a`` and ``b`` are names each bound
        once or parameters never rebound (so their shapes are the same wherever ``t`` is read);
        and those bound once to ``unreduce(s, t, None)``, where ``s`` reads such names only.
        Then ``unbroadcast(g, t)`` may read a matrix product's shape as ``(a.shape[0],
        b.shape[1])``, and ``unbroadcast(unreduce(s, t, None) * a, b)`` may read
        ``sum_to(s * a, b)``: ``t`` need not live until the backward sweep only for its shape
        (``np.tanh(X @ W + b)`` then makes no array more than the user's code does)."""
        params = {p.id for p in fdef.args.args}

        def fixed(e):
            return isinstance(e, g.Name) and defs.get(e.id, 0) == (e.id not in params)

        products, spreads = {}, {}
        for stmt in fdef.body:
            if not (isinstance(stmt, g.Assign) and isinstance(stmt.targets[0], g.Name) and
                    defs.get(stmt.targets[0].id) == 1):
                continue
            name, value = stmt.targets[0].id, stmt.value
            if isinstance(value, g.Call) and dotted_name(value.func) == "unreduce" and \
                    len(value.args) == 3 and not value.keywords and \
                    isinstance(value.args[1], g.Name) and g.is_const(value.args[2], None) and \
                    _plain_number(value.args[0], fixed):
                spreads[name] = (value.args[0], value.args[1].id)
            elif isinstance(value, g.BinOp) and fixed(value.left) and fixed(value.right):
                a, b = value.left, value.right
                if isinstance(value.op, g.MatMult) and self.shapes.rank(a) == 2 and \
                        self.shapes.rank(b) == 2:
                    products[name] = ("@", a.id, b.id)
                elif isinstance(value.op, g.Mult):
                    products[name] = ("*", a.id, b.id)
        return products, spreads

    def _rewritable_stmt(self, stmt):
        t = stmt.targets[0]
        if isinstance(t, g.Name):
            return t.id in self.rewritable
        return isinstance(t.value, g.Name) and t.value.id in self.rewritable

    # -- copy propagation -------------------------------------------------------------------
    def _copies(self, fdef, defs):
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

        for node in g.name_nodes(fdef):
            if isinstance(node.ctx, g.Load) and node.id in renames:
                new = final(node.id)
                if new != node.id:
                    node.id = new
                    self.changed = True

    # -- forward substitution ------------------------------------------------------------------
    def _substitute(self, fdef, defs):
        uses = count_uses([fdef])
        self._subst_block(fdef.body, uses, defs)

    def _subst_block(self, stmts, uses, defs):
        block = Block(stmts)
        kept = []
        for k, stmt in enumerate(block.stmts):
            if isinstance(stmt, g.If):
                self._subst_block(stmt.body, uses, defs)
                self._subst_block(stmt.orelse, uses, defs)
            elif isinstance(stmt, (g.For, g.While)):
                self._subst_block(stmt.body, uses, defs)
            elif isinstance(stmt, g.Assign) and isinstance(stmt.targets[0], g.Name):
                name = stmt.targets[0].id
                if name in self.rewritable and name not in self.protected and \
                        uses.get(name) == 1 and defs.get(name) == 1 and \
                        self._substitute_into_later(block, k, name, stmt.value, stmt):
                    self.changed = True
                    continue
            kept.append(stmt)
        if len(kept) != len(stmts):
            stmts[:] = kept

    def _substitute_into_later(self, block, k, name, value, definition):
        """Substitute ``value`` (statement ``k`` of ``block`` defines ``name`` as it) into the
        first later statement of the block that mentions ``name``, if only assignments that
        write none of ``value``'s names (nor, for a call or subscript, any array) come
        between."""
        reads = {n.id for n in g.name_nodes(value)}
        if any(popped_list(n) for n in g.walk(value)):
            return False  # pops keep their order
        impure = any(isinstance(n, (g.Call, g.Subscript)) for n in g.walk(value))
        use = block.next(block.mentions, name, k)
        if use == len(block.stmts):
            return False
        stop = block.not_assign[k + 1]  # statements other than assignments end the search
        if impure:
            stop = min(stop, block.subscript_write[k + 1])
        for read in reads:
            stop = min(stop, block.next(block.writes, read, k))
        if stop < use:
            return False
        later = block.stmts[use]
        if not isinstance(later, (g.Assign, g.AugAssign)):
            return False  # an Expr keeps tape pushes reading a name
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
        self._replace(later, name, value)
        block.mention(reads, use)
        return True

    def _replace(self, stmt, name, value):
        stmt.value = _Substitute(name, value).visit(stmt.value)

    # -- dead code ---------------------------------------------------------------------------
    def _dce(self, body):
        kept, changed = DeadCode(self.protected)(body)
        self.changed |= changed
        return kept


class _Substitute(g.NodeTransformer):
    """Reads of ``name`` become copies of ``value``."""

    def __init__(self, name, value):
        self.name = name
        self.value = value

    def visit_Name(self, n):
        if n.id == self.name and isinstance(n.ctx, g.Load):
            return g.clone(self.value)
        return n


def _plain_number(expr, fixed):
    """Whether ``expr`` is arithmetic of numbers, ``x.shape[k]`` and names ``fixed`` accepts:
    the same value wherever those names are bound (no call, no element of an array that a
    write could change)."""
    for node in g.walk(expr):
        if isinstance(node, g.Name) and not fixed(node):
            return False
        if isinstance(node, g.Call) or isinstance(node, g.Subscript) and not (
                isinstance(node.value, g.Attribute) and node.value.attr == "shape"):
            return False
    return True


def _in_shape_only_argument(stmt, name):
    """Whether ``name`` is read in ``stmt`` as an argument a helper needs only the shape of."""
    for node in g.walk(stmt):
        if isinstance(node, g.Call):
            positions = SHAPE_ONLY.get(dotted_name(node.func), ())
            for k in positions:
                if k < len(node.args) and any(g.is_name(n, name) for n in g.walk(node.args[k])):
                    return True
    return False
