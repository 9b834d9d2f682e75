"""Shapes: which expressions provably have the same shape (an analysis; it never changes the
tree).

Takes a function body, the parameters' kinds (scalar, or an array's ndim, when the code is
specialised to argument kinds) and the adjoint-to-variable map; answers ``expr(e)`` with a
*shape token*. Equal tokens mean provably equal shapes; the optimizer drops ``unbroadcast(g, x)``
and ``fresh(s)`` where tokens prove them no-ops, and the tape planner types preallocated tapes
from scalar tokens.
"""

from __future__ import annotations

from .. import grammar as g
from .activity import dotted_name


def all_assigns(stmts):
    """Every Assign in ``stmts``, nested ones included."""
    return (s for s in g.statements(stmts) if isinstance(s, g.Assign))


def popped_list(node):
    """The list ``node`` pops from (``lst.pop()``), or None."""
    if isinstance(node, g.Call) and isinstance(node.func, g.Attribute) and \
            node.func.attr == "pop" and isinstance(node.func.value, g.Name):
        return node.func.value.id
    return None


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
                 resolve=None, seed="dout", tapes=(), ranks=None):
        self.adjoint_of = adjoint_of  # d-name -> primal name
        self.ranks = ranks  # a Ranks of the same body, or None: see rank()
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
        for stmt in all_assigns(body):
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
        for stmt in all_assigns(body):
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
    SHAPE_TUPLE = "shape tuple"  # x.shape: indexing it with an int gives a scalar

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
            stack = popped_list(e)
            if stack is not None:
                toks = {self.expr(v) for v in self.stacks.get(stack, [])} - {self.BOTTOM}
                return toks.pop() if len(toks) == 1 else (self._fresh() if toks else
                                                          self.BOTTOM)
            func = dotted_name(e.func)
            if func.startswith("math.") or func in ("float", "abs", "min", "max", "len",
                                                    "int", "range_len", "safe_log",
                                                    "reduced_count", "ddof_count"):
                if func in ("abs", "min", "max"):
                    toks = [self.expr(a) for a in e.args]
                    out = toks[0]
                    for t in toks[1:]:
                        out = self.join(out, t)
                    return out
                if func == "safe_log":
                    return self.expr(e.args[0])
                return self.SCALAR
            if func in ("unbroadcast", "sum_to"):
                return self.expr(e.args[1])
            if func == "unreduce" and len(e.args) == 3:  # unreduce(g, a, axis): a's shape
                return self.expr(e.args[1])
            if func in ("extreme_weights", "prod_weights") and e.args:  # (a, ...): a's shape
                return self.expr(e.args[0])
            if func in ("zeros_like", "fresh") and e.args:
                return self.expr(e.args[0])
            return self._call(e)
        if isinstance(e, g.Attribute) and e.attr in ("size", "ndim"):
            return self.SCALAR  # x.size, x.ndim: ints
        if isinstance(e, g.Attribute) and e.attr == "shape":
            return self.SHAPE_TUPLE
        if isinstance(e, g.Subscript) and self._is_int(e.slice) and \
                self.expr(e.value) == self.SHAPE_TUPLE:
            return self.SCALAR  # x.shape[k]: an int
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

    def rank(self, e):
        """The number of dimensions of ``e``'s value (0 for a number), where known; else None.

        From the parameters' kinds and, given ``ranks`` (:class:`~.ranks.Ranks` over the same
        body, built from the same kinds), every name's definitions."""
        tok = self.expr(e)
        if tok == self.SCALAR:
            return 0
        known = self.ndim.get(tok)
        if known is not None:
            return known
        if isinstance(e, g.BinOp) and not isinstance(e.op, g.MatMult):
            sides = (self.rank(e.left), self.rank(e.right))  # broadcasting: the larger
            return None if None in sides else max(sides)
        if isinstance(e, g.UnaryOp):
            return self.rank(e.operand)
        if self.ranks is not None:
            return self.ranks.ndim(e.id) if isinstance(e, g.Name) else self.ranks.of(e)
        return None

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


