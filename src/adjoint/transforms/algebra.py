"""Algebra: local rewrites of one expression, bottom-up (a stage of :mod:`.simplify`).

Takes an expression of the generated code, the :class:`~adjoint.analysis.shapes.Shapes` of the
function (or None) and the shape twins :class:`.simplify.Simplify` found; returns an expression
that computes the same values (up to the rounding of a reordered product), never reading a name
the original does not read except through ``x.shape``. See :mod:`.simplify`'s docstring for the
list of rewrites.
"""

from __future__ import annotations

import math

from .. import grammar as g
from ..analysis.activity import dotted_name
from ..analysis.shapes import Shapes

# Runtime helpers' arguments that are read only for their shape: substituting a computation
# into one of them would recompute it just to learn a shape.
SHAPE_ONLY = {"unbroadcast": (1,), "sum_to": (1,), "broadcast_like": (1,), "unreduce": (1,),
               "reshape_like": (1,), "keep_dims": (1,), "reduced_count": (0,),
               "zeros_like": (0,), "write_adjoint": ()}


def _is_num(node, value=None):
    if not isinstance(node, g.Constant) or isinstance(node.value, bool) or not isinstance(
            node.value, (int, float)):
        return False
    return value is None or node.value == value


class Algebra(g.NodeTransformer):
    """Local rewrites of expressions (bottom-up)."""

    def __init__(self, shapes, twins=None, products=None, spreads=None):
        self.shapes = shapes
        self.twins = twins or {}  # name -> an earlier name of the same shape (shape_twins)
        self.products = products or {}  # name -> (op, a, b): it is a * b or a @ b
        self.spreads = spreads or {}  # name -> (s, t): it is unreduce(s, t, None)
        self.changed = False  # whether any rewrite fired (for the optimizer's fixpoint)

    def _track(self, node, new):
        if new is not node:
            self.changed = True
        return new

    def visit_BinOp(self, node):
        return self._track(node, self._binop(node))

    def visit_UnaryOp(self, node):
        return self._track(node, self._unaryop(node))

    def visit_Call(self, node):
        return self._track(node, self._call(node))

    def _binop(self, node):
        self.generic_visit(node)
        a, b, op = node.left, node.right, node.op
        if _is_num(a) and _is_num(b) and isinstance(op, (g.Add, g.Sub, g.Mult, g.Pow)):
            try:
                value = {g.Add: lambda: a.value + b.value, g.Sub: lambda: a.value - b.value,
                         g.Mult: lambda: a.value * b.value,
                         g.Pow: lambda: a.value ** b.value}[type(op)]()
            except (OverflowError, ZeroDivisionError):
                return node
            if isinstance(value, (int, float)) and math.isfinite(value) and abs(value) < 1e15:
                return g.const(value)
        if isinstance(op, g.Div) and self.shapes:
            spread = self._spread(a, b, g.Div)  # unreduce(g, x, None) / e -> g / e
            if spread is not None:
                return spread
        if isinstance(op, g.Mult) and self.shapes:
            spread = self._spread(a, b)
            if spread is None:
                spread = self._spread(b, a)
            if spread is not None:
                return spread
            spread = self._outer_last(a, b) or self._outer_last(b, a)
            if spread is not None:
                return spread
        if isinstance(op, g.Mult):
            if _is_num(b, 1) and isinstance(b.value, float) or _is_num(b, 1) and \
                    self._floaty(a):
                return a
            for x, y in ((a, b), (b, a)):  # x * (1.0 / y) -> x / y: one operation, not two
                if isinstance(y, g.BinOp) and isinstance(y.op, g.Div) and \
                        _is_num(y.left, 1) and isinstance(y.left.value, float):
                    return g.binop(x, g.Div, y.right)
            if _is_num(a, 1) and (isinstance(a.value, float) or self._floaty(b)):
                return b
            if _is_num(b, -1) and self._floaty(a):
                return g.unary(g.USub, a)
            if _is_num(a, -1) and self._floaty(b):
                return g.unary(g.USub, b)
            if isinstance(b, g.UnaryOp) and isinstance(b.op, g.USub):
                return g.unary(g.USub, g.binop(a, g.Mult, b.operand))
        if isinstance(op, g.Pow) and _is_num(b, 1):
            return a
        if isinstance(op, g.Div) and _is_num(b, 1) and isinstance(b.value, float):
            return a
        if isinstance(op, g.Add):
            if isinstance(b, g.UnaryOp) and isinstance(b.op, g.USub):
                return g.binop(a, g.Sub, b.operand)
            if isinstance(b, g.BinOp) and isinstance(b.op, g.Mult) and \
                    isinstance(b.left, g.UnaryOp) and isinstance(b.left.op, g.USub):
                return g.binop(a, g.Sub, g.binop(b.left.operand, g.Mult, b.right))
            if _is_num(a, 0) and isinstance(a.value, float) and self._floaty(b):
                return b
            if _is_num(b, 0) and isinstance(b.value, float) and self._floaty(a):
                return a
        if isinstance(op, g.Sub) and isinstance(b, g.UnaryOp) and isinstance(b.op, g.USub):
            return g.binop(a, g.Add, b.operand)
        if isinstance(op, g.Sub) and isinstance(b, g.BinOp) and isinstance(b.op, g.Mult) and \
                isinstance(b.left, g.UnaryOp) and isinstance(b.left.op, g.USub):
            return g.binop(a, g.Add, g.binop(b.left.operand, g.Mult, b.right))
        if isinstance(op, g.Sub) and _is_num(a, 0) and isinstance(a.value, float) and \
                self._floaty(b):
            return g.unary(g.USub, b)
        return node

    def _unaryop(self, node):
        self.generic_visit(node)
        if isinstance(node.op, g.USub):
            inner = node.operand
            if isinstance(inner, g.UnaryOp) and isinstance(inner.op, g.USub):
                return inner.operand
            if _is_num(inner):
                return g.const(-inner.value)
        return node

    def _call(self, node):
        self.generic_visit(node)
        func = dotted_name(node.func)
        if func in ("max", "min") and len(node.args) == 2 and not node.keywords \
                and all(_is_num(a) and isinstance(a.value, int) for a in node.args):
            pick = max if func == "max" else min
            return g.const(pick(node.args[0].value, node.args[1].value))
        if func == "fresh" and len(node.args) == 1 and self.shapes and \
                self.shapes.expr(node.args[0]) == Shapes.SCALAR:
            return node.args[0]  # scalars are immutable: nothing to copy
        if func == "fresh" and len(node.args) == 1 and \
                isinstance(node.args[0], (g.BinOp, g.UnaryOp)):
            return node.args[0]  # arithmetic makes a new array: nothing else holds it
        if func in _PRODUCT_ADJOINTS and len(node.args) == 3 and \
                not node.keywords and self.shapes:
            plain = _product_adjoint(func, *node.args,
                                     *(self.shapes.rank(a) for a in node.args[1:]))
            if plain is not None:
                return plain
        if func == "unbroadcast" and len(node.args) == 2 and self.shapes:
            value, like = node.args
            spread = self._product_operand(value, like)
            if spread is not None:
                return spread
            if self.shapes.expr(value) == self.shapes.expr(like):
                return value
            if isinstance(value, g.UnaryOp) and isinstance(value.op, g.USub):
                node.args[0] = value.operand  # linear: negate the (smaller) sum instead
                return g.unary(g.USub, node)
        if func == "keep_dims":
            kept = self._kept_dims(node)
            if kept is not None:
                return kept
        for k in SHAPE_ONLY.get(func, ()):
            arg = node.args[k] if k < len(node.args) else None
            if isinstance(arg, g.Name) and arg.id in self.twins:
                node.args[k] = g.name(self.twins[arg.id])  # only its shape is read
                self.changed = True
            elif isinstance(arg, g.Name) and func == "unbroadcast" and \
                    self.products.get(arg.id, ("",))[0] == "@":
                _, a, b = self.products[arg.id]  # a matrix product's shape, from its operands'
                node.args[k] = g.tuple_([g.subscript(_attr(g.name(a), "shape"), g.const(0)),
                                         g.subscript(_attr(g.name(b), "shape"), g.const(1))])
                self.changed = True
        return node

    def _product_operand(self, value, like):
        """``unbroadcast(unreduce(s, t, None) * e, w)`` -> ``sum_to(s * e, w)`` for a number
        ``s`` and ``t = e * w`` (the adjoint of ``w`` in ``np.sum(e * w)``): the same numbers,
        without ``t``, kept only for its shape, nor an array of ``s`` in its shape."""
        if not (isinstance(value, g.BinOp) and isinstance(value.op, g.Mult) and
                isinstance(like, g.Name)):
            return None
        for spread, e in ((value.left, value.right), (value.right, value.left)):
            if isinstance(spread, g.Name) and spread.id in self.spreads:
                seed, total = self.spreads[spread.id]  # a name bound to unreduce(s, t, None)
                seed = g.clone(seed)
            elif isinstance(spread, g.Call) and dotted_name(spread.func) == "unreduce" and \
                    len(spread.args) == 3 and not spread.keywords and \
                    g.is_const(spread.args[2], None) and isinstance(spread.args[1], g.Name):
                seed, total = spread.args[0], spread.args[1].id
            else:
                continue
            product = self.products.get(total)
            if isinstance(e, g.Name) and self.shapes.expr(seed) == Shapes.SCALAR and \
                    product is not None and product[0] == "*" and \
                    {product[1], product[2]} == {e.id, like.id} and \
                    (e.id != like.id or product[1] == product[2]):
                return g.call("sum_to", g.binop(seed, g.Mult, e), like)
        return None

    def _outer_last(self, a, b):
        """``np.outer(u, v) * e`` -> ``e * v * u[:, None]`` for vectors ``u`` and ``v``: the
        same products (in another order) and the same broadcast shape, but the full-size array
        is made once and then updated in place by NumPy (an outer product first would be a
        second array of that size)."""
        if not (isinstance(a, g.Call) and dotted_name(a.func) == "np.outer" and
                len(a.args) == 2 and not a.keywords and
                all(self.shapes.rank(x) == 1 for x in a.args)):
            return None
        u, v = a.args
        column = g.subscript(u, g.tuple_([g.Slice(lower=None, upper=None, step=None),
                                          g.const(None)]))
        return g.binop(g.binop(b, g.Mult, v), g.Mult, column)

    def _kept_dims(self, node):
        """``keep_dims(r, x, k)`` -> ``r[:, None]`` (None at axis ``k``) where ``r`` has one
        dimension fewer than ``x``: a reduction over one axis, without keepdims."""
        if len(node.args) != 3 or node.keywords or not self.shapes:
            return None
        r, x, axis = node.args
        n = self.shapes.rank(x)
        if n is None or not _is_num(axis) or not isinstance(axis.value, int) or \
                not -n <= axis.value < n or self.shapes.rank(r) != n - 1:
            return None
        parts = [g.Slice(lower=None, upper=None, step=None) for _ in range(n - 1)]
        parts.insert(axis.value % n, g.const(None))
        return g.subscript(r, g.tuple_(parts))

    def _spread(self, a, b, op=g.Mult):
        """``unreduce(g, x, None) * e`` -> ``g * e`` and ``unreduce(g, x, None) / n * e`` ->
        ``g / n * e`` for a number ``g``, and ``unreduce(g, x, axis) * e`` ->
        ``keep_dims(g, x, axis) * e`` (and ``/ n``), for an ``e`` of ``x``'s shape:
        broadcasting ``g`` against ``e`` gives what spreading it over ``x``'s shape first would
        (a mean's adjoint reads ``dout / n * ...``), without the array in between. With ``op``
        ``Div``: ``unreduce(g, x, None) / e -> g / e``."""
        left, divisor = (a.left, a.right) if isinstance(a, g.BinOp) and \
            isinstance(a.op, g.Div) else (a, None)
        if not (isinstance(left, g.Call) and dotted_name(left.func) == "unreduce" and
                len(left.args) == 3 and not left.keywords):
            return None
        seed, like, axis = left.args
        if self.shapes.expr(b) != self.shapes.expr(like):
            return None
        if not g.is_const(axis, None):
            kept = g.call("keep_dims", seed, like, axis)
            if divisor is not None:  # a mean's: divided while it is small
                kept = g.binop(kept, g.Div, divisor)
            return g.binop(kept, op, b)
        if self.shapes.expr(seed) != Shapes.SCALAR:
            return None
        scaled = seed if divisor is None else g.binop(seed, g.Div, divisor)
        return g.binop(scaled, op, b)

    def _floaty(self, node):
        """Whether dropping ``* 1.0`` keeps the type: adjoint expressions are floats."""
        for n in g.walk(node):
            if isinstance(n, g.Name) and (n.id == self.shapes.seed or
                                          n.id in self.shapes.adjoint_of):
                return True
        return False


_PRODUCT_ADJOINTS = ("matmul_vjp_a", "matmul_vjp_b", "dot_vjp_a", "dot_vjp_b")


def _attr(value, attr):
    return g.Attribute(value=value, attr=attr, ctx=g.Load())


def _product_adjoint(helper, d, a, b, rank_a, rank_b):
    """The textbook adjoint of ``a`` (helper ``*_vjp_a``) or ``b`` (``*_vjp_b``) in ``a @ b``
    or ``np.dot(a, b)`` with vectors or matrices ``a`` and ``b`` (where the two agree), given
    the adjoint ``d`` of the product; None for other ranks."""
    if rank_a not in (1, 2) or rank_b not in (1, 2):
        return None
    if helper.endswith("_a"):
        if rank_b == 2:
            return g.binop(d, g.MatMult, _attr(b, "T")) if rank_a == 2 else \
                g.binop(b, g.MatMult, d)
        return g.call("np.outer", d, b) if rank_a == 2 else g.binop(d, g.Mult, b)
    if rank_a == 2:
        return g.binop(_attr(a, "T"), g.MatMult, d)
    return g.call("np.outer", a, d) if rank_b == 2 else g.binop(d, g.Mult, a)
