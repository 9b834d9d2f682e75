"""The symbolic zero tangent: folding it out of filled rule templates.

Forward mode hands a rule template the tangent of every argument; an argument without one gets
its *symbolic zero*, ``__zero_of__(atom)`` (``__zero__`` where the template itself names a zero).
:func:`fold_zero` removes those zeros algebraically, so generated code never computes with a
zero it does not need and never names a placeholder:

    np.dot(__zero_of__(a), b) + np.dot(a, t_dot)      ->   np.dot(a, t_dot)
    reduce_sum(__zero_of__(x) * w, axis, keepdims)    ->   None  (the tangent is zero)
    add_at(fresh(__zero_of__(y)), i, t_dot)           ->   add_at(fresh(zeros_like(y)), i, t_dot)

:func:`may_alias` says whether a tangent expression may evaluate to an existing array (so an
array written in place needs its own copy).
"""

from __future__ import annotations

from .. import grammar as g
from ..template import ZERO_NAME


def zero_like(atom):
    """A zero tangent value for ``atom``: ``0.0`` for a constant, else ``zeros_like(atom)``."""
    if isinstance(atom, g.Constant):
        return g.const(0.0)
    return g.call("zeros_like", g.clone(atom))


# The zero tangent of one operand, ``__zero_of__(atom)``, as rule templates receive it: it folds
# away like ``__zero__`` and, where a zero must exist as a value, becomes ``zeros_like(atom)``.
ZERO_OF = "__zero_of__"


def zero_of(atom):
    return g.call(ZERO_OF, g.clone(atom))


def fold_zero(expr, tangent_names, zero_names=()):
    """``expr`` with the symbolic zero tangents removed, or None when it is zero.

    Sound for the way tangents occur in rule templates — linearly: a product with a zero factor
    is zero, zero plus or minus ``t`` is ``±t``, a subscript, attribute or method of zero is
    zero, and a call whose tangent arguments are all zero is zero (every helper a ``@jvp``
    template applies to tangents is linear in them). A zero that must exist as a value — an
    argument of a call that also takes a nonzero tangent, as ``add_at(fresh(da), i, dv)`` with
    ``da`` zero — is materialized: ``zeros_like(atom)`` (``0.0`` for a bare ``__zero__``).
    """
    zero_names = set(zero_names) | {ZERO_NAME}

    def is_zero(node):
        return (isinstance(node, g.Name) and node.id in zero_names) or (
            isinstance(node, g.Call) and g.is_name(node.func, ZERO_OF))

    def has_tangent(node):
        return any(n in tangent_names for n in g.names_in(node, g.Load))

    def fold(node):
        if is_zero(node):
            return None
        original = g.clone(node)
        if isinstance(node, g.BinOp):
            left, right = fold(node.left), fold(node.right)
            if left is not None and right is not None:
                node.left, node.right = left, right
                return node
            if isinstance(node.op, (g.Mult, g.MatMult)) or (
                    isinstance(node.op, g.Div) and left is None) or (
                    isinstance(node.op, (g.Add, g.Sub)) and left is None and right is None):
                return None
            if isinstance(node.op, g.Add):
                return left if left is not None else right
            if isinstance(node.op, g.Sub):
                return left if left is not None else g.unary(g.USub, right)
            return materialize(original)
        if isinstance(node, g.UnaryOp) and isinstance(node.op, (g.USub, g.UAdd)):
            operand = fold(node.operand)
            if operand is None:
                return None
            node.operand = operand
            return node
        if isinstance(node, (g.Subscript, g.Attribute)):  # zero[i], zero.T
            base = fold(node.value)
            if base is None:
                return None
            node.value = base
            return node
        if isinstance(node, g.Call):
            if isinstance(node.func, g.Attribute):  # a method of zero: zero.copy()
                node.func = fold(node.func)
                if node.func is None:
                    return None
            args = [fold(a) for a in node.args]
            kws = [fold(k.value) for k in node.keywords]
            if all(a is not None for a in args + kws):
                node.args = args
                for k, v in zip(node.keywords, kws):
                    k.value = v
                return node
            if not any(has_tangent(a) for a in args + kws if a is not None):
                return None
            node.args = [a if a is not None else materialize(o)
                         for a, o in zip(args, original.args)]
            for k, v, o in zip(node.keywords, kws, original.keywords):
                k.value = v if v is not None else materialize(o.value)
            return node
        if isinstance(node, (g.Tuple, g.List)):
            elts = [fold(e) for e in node.elts]
            if all(e is None for e in elts) and elts:
                return None
            node.elts = [e if e is not None else materialize(o)
                         for e, o in zip(elts, original.elts)]
            return node
        return materialize(original)

    def materialize(node):
        class Sub(g.NodeTransformer):
            def visit_Call(self, n):
                if g.is_name(n.func, ZERO_OF):
                    return zero_like(n.args[0])
                self.generic_visit(n)
                return n

            def visit_Name(self, n):
                return g.const(0.0) if n.id in zero_names else n

        return Sub().visit(node)

    return fold(expr)


def may_alias(expr):
    """Whether ``expr`` may evaluate to an existing array rather than a new one: arithmetic
    allocates, unless it is an identity (``t * 1.0``, ``t + 0.0``) the optimizer removes."""
    while True:
        if isinstance(expr, g.BinOp):
            left, right = expr.left, expr.right
            op = type(expr.op)
            if op in (g.Mult, g.Add) and _is_identity(left, op):
                expr = right
                continue
            if op in (g.Mult, g.Div, g.Add, g.Sub, g.Pow) and _is_identity(right, op):
                expr = left
                continue
            return False
        if isinstance(expr, g.UnaryOp):
            if isinstance(expr.op, g.UAdd):
                expr = expr.operand
                continue
            return False
        return True


def _is_identity(node, op):
    if not isinstance(node, g.Constant) or isinstance(node.value, bool) or \
            not isinstance(node.value, (int, float)):
        return False
    return node.value == (0 if op in (g.Add, g.Sub) else 1)
