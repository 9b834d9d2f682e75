"""SpecializeInts: a parsed function with some integer parameters fixed to known values.

Takes a parsed ``FunctionDef`` (before normalization) and ``{parameter: int}``; returns the
function without those parameters, every read of them replaced by the value, and the
expressions that became constant folded: arithmetic, comparisons, ``not``/``and``/``or`` and
conditional expressions on constants (an ``if`` on a constant is folded later by
:mod:`.control`). This is how recursion bounded by an int argument is differentiated: each
recursive call is inlined with the argument's value known, so the base case's branch is the only
one left when it is reached.

    def power(x, n):                                   def power(x):      # n = 2
        return 1.0 if n == 0 else x * power(x, n - 1)      return x * power(x, 1)
"""

from __future__ import annotations

from .. import grammar as g


def recursive(fdef):
    """Whether ``fdef``'s body calls a function with its own name."""
    return any(isinstance(n, g.Call) and g.is_name(n.func, fdef.name) for n in g.walk(fdef))


def specialize_ints(fdef, values, keep_parameters=False):
    """Fix the parameters in ``values`` (never assigned in the body) to those values; they
    are removed from the signature unless ``keep_parameters`` (then the body ignores them)."""
    assigned = g.assigned_names(fdef.body) | {  # and the parameters of local functions
        a.id for s in fdef.body for n in g.walk(s) if isinstance(n, (g.FunctionDef, g.Lambda))
        for a in n.args.args}
    values = {p: v for p, v in values.items() if p not in assigned}
    fdef.body = [_Fold(values).visit(s) for s in fdef.body]
    if keep_parameters:
        return fdef
    kept = [(a, d) for a, d in zip(fdef.args.args, [None] * (
        len(fdef.args.args) - len(fdef.args.defaults)) + list(fdef.args.defaults))
        if a.id not in values]
    fdef.args.args = [a for a, _ in kept]
    fdef.args.defaults = [d for _, d in kept if d is not None]
    return fdef


class _Fold(g.NodeTransformer):
    def __init__(self, values):
        self.values = values

    def visit_Name(self, node):
        if isinstance(node.ctx, g.Load) and node.id in self.values:
            return g.copy_location(g.const(self.values[node.id]), node)
        return node

    def visit_BinOp(self, node):
        self.generic_visit(node)
        return self._fold(node, lambda: g.BINOPS[type(node.op)](node.left.value,
                                                                   node.right.value),
                          node.left, node.right)

    def visit_UnaryOp(self, node):
        self.generic_visit(node)
        return self._fold(node, lambda: g.UNARYOPS[type(node.op)](node.operand.value),
                          node.operand)

    def visit_Compare(self, node):
        self.generic_visit(node)
        if len(node.ops) != 1 or type(node.ops[0]) in (g.In, g.NotIn, g.Is, g.IsNot):
            return node
        return self._fold(node, lambda: g.CMPOPS[type(node.ops[0])](
            node.left.value, node.comparators[0].value), node.left, node.comparators[0])

    def visit_BoolOp(self, node):
        self.generic_visit(node)
        first = node.values[0]
        if not isinstance(first, g.Constant):
            return node
        decided = bool(first.value) if isinstance(node.op, g.Or) else not first.value
        if decided or len(node.values) == 1:
            return first
        rest = node.values[1:]
        return rest[0] if len(rest) == 1 else g.copy_location(
            g.BoolOp(op=node.op, values=rest), node)

    def visit_IfExp(self, node):
        self.generic_visit(node)
        if isinstance(node.test, g.Constant):
            return node.body if node.test.value else node.orelse
        return node

    def _fold(self, node, compute, *operands):
        if not all(isinstance(o, g.Constant) and isinstance(o.value, (int, float, bool))
                   for o in operands):
            return node
        try:
            value = compute()
        except (ArithmeticError, TypeError, ValueError):
            return node
        return g.copy_location(g.const(value), node)
