"""Seeded random programs in adjoint's supported subset, as Python source text.

Takes a seed; guarantees a :class:`Program`: the text of a module (``import math``, ``import
numpy as np``, zero to two helper functions, then ``f``) and the description of ``f``'s
parameters, so that a point can be drawn for it (:func:`draw_args`). Following Csmith, the
generator writes only programs whose meaning is defined wherever it is evaluated:

- every name is bound before it is read on every path (a name first bound inside a branch or a
  loop body is forgotten after it);
- every index is in bounds (integers carry their largest value; an index into a length-``k``
  axis is a constant below ``k``, or a loop counter whose largest value is below ``k``);
- every loop is bounded (``for`` over a constant or ``len`` range, over an array, ``enumerate``
  or ``zip``; ``while`` runs on a counter incremented first thing in its body);
- ``log``, ``sqrt`` and division only see arguments bounded away from their singularities
  (``log(1 + e*e)``, ``/ (1.5 + cos(e))``), and ``exp`` only bounded arguments.

Values can still grow through loops, and a branch condition or a kink (``abs``, ``max``) can sit
at the drawn point; the evaluator (:mod:`randprog.check`) rejects such points, so the generator
need not be perfect there. Shapes: scalars ``()``, vectors ``(k,)`` with ``k <= n`` and square
matrices ``(n, n)``; all arrays are float64.

The features covered: arithmetic, ``math.*``, NumPy elementwise functions and reductions,
``@``, ``if``/``elif``/``else`` with early returns, ``for`` over ``range``/array/``enumerate``/
``zip``, ``while``, ``break``/``continue``/``return`` in loops, element and slice reads and
writes, augmented assignment (in place on arrays), aliases (``u = v``) and views (``u = v[1:]``,
``u = m[i]``, ``u = m.T``) written through, scalar copies and swaps, tuple assignment, calls of
helpers (which may write into their array argument), writes into ``f``'s own arguments,
conditional expressions, ``and``/``or``/``not``, chained comparisons, ``min``/``max``/``abs``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np

SCALAR = ()


@dataclass
class Program:
    """A generated module: ``source`` defines ``f(*params)``; ``wrt`` names the differentiated
    parameters; ``shapes`` gives each parameter's shape (``()`` for a float)."""

    seed: int
    source: str
    params: tuple
    shapes: tuple
    wrt: tuple


def draw_args(shapes, rng):
    """A point for parameters of these shapes: floats in [-1.5, 1.5], arrays with N(0, 0.8)."""
    args = []
    for shape in shapes:
        if shape == SCALAR:
            args.append(round(rng.uniform(-1.5, 1.5), 6))
        else:
            args.append(np.round(np.asarray(rng.normal(0.0, 0.8, size=shape)), 6))
    return tuple(args)


class _Scope:
    """Names visible at one point: float and array names with their shapes, and integers (loop
    counters, never rebound) with their largest value. A block works on a ``child`` copy, so
    the names it binds are forgotten after it: they may be unbound on another path."""

    def __init__(self, env=None, ints=None):
        self.env = dict(env or {})
        self.ints = dict(ints or {})

    def child(self):
        return _Scope(self.env, self.ints)

    def of_shape(self, shape):
        return [name for name, s in self.env.items() if s == shape]


class _Gen:
    def __init__(self, rng, n, exclude=frozenset()):
        self.exclude = exclude
        self.rng = rng
        self.n = n
        self.count = 0
        self.helpers = []  # (name, param shapes, result shape)
        self.lines = []

    # --- small utilities ---------------------------------------------------------------------

    def chance(self, p):
        return self.rng.random() < p

    def pick(self, seq):
        return seq[self.rng.randrange(len(seq))]

    def fresh(self, prefix):
        self.count += 1
        return f"{prefix}{self.count}"

    def const(self):
        return self.pick(["0.5", "1.5", "2.0", "0.25", "-0.75", "3.0", "0.1", "-1.25"])

    def emit(self, indent, text):
        self.lines.append("    " * indent + text)

    # --- integers and indices ----------------------------------------------------------------

    def index(self, scope, dim):
        """An integer expression in [0, dim)."""
        ints = [name for name, top in scope.ints.items() if top < dim]
        r = self.rng.random()
        if ints and r < 0.55:
            i = self.pick(ints)
            top = scope.ints[i]
            form = self.rng.randrange(4)
            if form == 0:
                return f"{dim - 1} - {i}" if top < dim else i
            if form == 1 and dim > 1:
                return f"({i} + 1) % {dim}"
            return i
        if r < 0.65 and dim == self.n:
            vecs = scope.of_shape((self.n,))
            if vecs:
                return f"int(np.argmax({self.pick(vecs)}))"
        if r < 0.72:
            return str(-self.rng.randrange(1, dim + 1))  # negative index
        return str(self.rng.randrange(dim))

    # --- expressions -------------------------------------------------------------------------

    def scalar(self, scope, depth):
        rng = self.rng
        names = scope.of_shape(SCALAR)
        if depth <= 0 or self.chance(0.25):
            r = rng.random()
            if names and r < 0.55:
                return self.pick(names)
            arrays = [(k, s) for k, s in scope.env.items() if s != SCALAR]
            if arrays and r < 0.85:
                name, shape = self.pick(arrays)
                return f"{name}[{', '.join(self.index(scope, d) for d in shape)}]"
            return self.const()
        d = depth - 1
        form = rng.randrange(20)
        if form <= 3:
            op = self.pick(["+", "-", "*", "*", "+"])
            return f"({self.scalar(scope, d)} {op} {self.scalar(scope, d)})"
        if form == 4:
            return f"({self.scalar(scope, d)} / (1.5 + math.cos({self.scalar(scope, d)})))"
        if form == 5:
            fn = self.pick(["math.sin", "math.cos", "math.tanh", "np.sin", "np.tanh", "math.atan"])
            return f"{fn}({self.scalar(scope, d)})"
        if form == 6:
            a = self.scalar(scope, d)
            return self.pick([f"math.log(1.0 + {a} * {a})", f"math.sqrt(1.0 + {a} ** 2)",
                              f"math.exp(math.sin({a}))", f"np.log1p({a} ** 2)",
                              f"math.exp(-({a}) ** 2)"])
        if form == 7:
            return f"({self.scalar(scope, d)}) ** {self.pick(['2', '3', '2.0'])}"
        if form == 8:
            fn = self.pick(["abs", "max", "min"])
            if fn == "abs":
                return f"abs({self.scalar(scope, d)})"
            return f"{fn}({self.scalar(scope, d)}, {self.scalar(scope, d)})"
        if form == 9:
            return (f"({self.scalar(scope, d)} if {self.cond(scope, d)} "
                    f"else {self.scalar(scope, d)})")
        if form in (10, 11, 12, 13):
            return self.reduction(scope, d)
        if form == 14:
            helpers = [h for h in self.helpers if h[2] == SCALAR]
            if helpers:
                return self.call(scope, self.pick(helpers), d)
        if form == 15:
            return f"-{self.scalar(scope, d)}"
        if form == 16:
            return f"float({self.scalar(scope, d)})"
        if form == 17:
            return f"(0.5 * {self.scalar(scope, d)} + {self.const()})"
        return self.scalar(scope, 0)

    def reduction(self, scope, d):
        n = self.n
        r = self.rng.random()
        if r < 0.15 and scope.of_shape((n, n)):
            m = self.matrix(scope, d)
            return self.pick([f"np.sum({m})", f"np.trace({m})", f"np.mean({m})",
                              f"np.sum({m}, axis=0)[{self.index(scope, n)}]"])
        k = self.rng.randrange(2, n + 1) if self.chance(0.3) else n
        v = self.vector(scope, k, d)
        form = self.rng.randrange(10)
        if form == 0:
            return f"np.sum({v})"
        if form == 1:
            return f"np.mean({v})"
        if form == 2:
            return self.pick([f"np.max({v})", f"np.min({v})", f"({v}).sum()", f"({v}).max()"])
        if form == 3:
            return f"np.dot({v}, {self.vector(scope, k, d)})"
        if form == 4:
            return f"({v} @ {self.vector(scope, k, d)})"
        if form == 5:
            return f"np.prod(np.tanh({v}))"
        if form == 6:
            return f"np.linalg.norm(1.0 + {v} ** 2)"
        if form == 7:
            return f"np.var({v})"
        return f"np.sum({v} * {v})"

    def vector_atom(self, scope, k):
        n = self.n
        options = [name for name in scope.of_shape((k,))]
        full = scope.of_shape((n,))
        mats = scope.of_shape((n, n))
        if full and k < n:
            w = self.pick(full)
            start = self.rng.randrange(n - k + 1)
            options.append(f"{w}[{start}:{start + k}]")
        if full and k == n:
            options.append(f"{self.pick(full)}[::-1]")
        if mats and k == n:
            m = self.pick(mats)
            i = self.index(scope, n)
            options.append(self.pick([f"{m}[{i}]", f"{m}[:, {i}]", f"{m}[{i}, :]"]))
        if not options or self.chance(0.1):
            names = scope.of_shape(SCALAR)
            c = self.pick(names) if names else self.const()
            return self.pick([f"({c} * np.ones({k}))", f"np.full({k}, {c})",
                              f"(np.linspace(0.0, 1.0, {k}) * {c})"])
        return self.pick(options)

    def vector(self, scope, k, depth):
        if depth <= 0 or self.chance(0.3):
            return self.vector_atom(scope, k)
        d = depth - 1
        n = self.n
        form = self.rng.randrange(18)
        if form <= 2:
            op = self.pick(["+", "-", "*"])
            return f"({self.vector(scope, k, d)} {op} {self.vector(scope, k, d)})"
        if form <= 4:
            op = self.pick(["+", "-", "*"])
            a, b = self.vector(scope, k, d), self.scalar(scope, d)
            return f"({a} {op} {b})" if self.chance(0.5) else f"({b} {op} {a})"
        if form == 5:
            fn = self.pick(["np.sin", "np.cos", "np.tanh", "np.arctan", "np.square"])
            return f"{fn}({self.vector(scope, k, d)})"
        if form == 6:
            a = self.vector(scope, k, d)
            return self.pick([f"np.log(1.0 + {a} * {a})", f"np.sqrt(1.0 + {a} ** 2)",
                              f"np.exp(np.sin({a}))", f"np.abs({a})", f"({a}) ** 2"])
        if form == 7:
            a, b = self.vector(scope, k, d), self.vector(scope, k, d)
            return self.pick([f"np.maximum({a}, {b})", f"np.minimum({a}, {b})",
                              f"np.where({a} > {b}, {a}, {b})",
                              f"np.maximum({a}, {self.scalar(scope, d)})"])
        if form == 8:
            return f"np.clip({self.vector(scope, k, d)}, -0.8, 0.9)"
        if form == 9:
            fn = self.pick(["np.cumsum", "np.flip", "np.sort"])
            return f"{fn}({self.vector(scope, k, d)})"
        if form == 10:
            return f"np.roll({self.vector(scope, k, d)}, 1)"
        if form == 11 and k == n and scope.of_shape((n, n)):
            m, v = self.matrix(scope, d), self.vector(scope, n, d)
            return f"({m} @ {v})" if self.chance(0.6) else f"({v} @ {m})"
        if form == 12:
            return f"({self.vector(scope, k, d)} / (1.5 + np.cos({self.vector(scope, k, d)})))"
        if form == 13 and k == n:
            helpers = [h for h in self.helpers if h[2] == (n,)]
            if helpers:
                return self.call(scope, self.pick(helpers), d)
        if form == 14:
            return f"({self.vector(scope, k, d)} if {self.cond(scope, d)} " \
                   f"else {self.vector(scope, k, d)})"
        if form == 15:
            return f"({self.vector(scope, k, d)}).copy()"
        return self.vector_atom(scope, k)

    def matrix(self, scope, depth):
        n = self.n
        mats = scope.of_shape((n, n))
        if depth <= 0 or self.chance(0.35):
            if mats and self.chance(0.8):
                m = self.pick(mats)
                return self.pick([m, m, f"{m}.T"])
            a, b = self.vector(scope, n, 0), self.vector(scope, n, 0)
            return f"np.outer({a}, {b})"
        d = depth - 1
        form = self.rng.randrange(6)
        if form == 0:
            op = self.pick(["+", "-", "*"])
            return f"({self.matrix(scope, d)} {op} {self.matrix(scope, d)})"
        if form == 1:
            return f"({self.matrix(scope, d)} * {self.scalar(scope, d)})"
        if form == 2:
            return f"np.tanh({self.matrix(scope, d)})"
        if form == 3:
            return f"({self.matrix(scope, d)} @ {self.matrix(scope, d)})"
        if form == 4:
            return f"({self.matrix(scope, d)} + {self.vector(scope, n, d)})"  # broadcast
        return f"np.outer({self.vector(scope, n, d)}, {self.vector(scope, n, d)})"

    def expr(self, scope, shape, depth):
        if shape == SCALAR:
            return self.scalar(scope, depth)
        if len(shape) == 1:
            return self.vector(scope, shape[0], depth)
        return self.matrix(scope, depth)

    def cond(self, scope, depth):
        d = max(depth - 1, 0)
        form = self.rng.randrange(10)
        if form <= 3:
            op = self.pick([">", "<", ">=", "<="])
            return f"{self.scalar(scope, d)} {op} {self.scalar(scope, d)}"
        if form == 4:
            return f"{self.scalar(scope, d)} > {self.const()}"
        if form == 5 and scope.ints:
            i = self.pick(list(scope.ints))
            return self.pick([f"{i} % 2 == 0", f"{i} < {self.rng.randrange(1, 4)}",
                              f"{i} == {self.rng.randrange(0, 3)}"])
        if form == 6:
            return f"({self.cond(scope, d)} and {self.cond(scope, d)})"
        if form == 7:
            return f"({self.cond(scope, d)} or {self.cond(scope, d)})"
        if form == 8:
            return f"not {self.cond(scope, d)}"
        return f"-0.5 < {self.scalar(scope, d)} < 0.75"

    def call(self, scope, helper, d):
        name, shapes, _ = helper
        args = [self.arg_for(scope, shape, d) for shape in shapes]
        return f"{name}({', '.join(args)})"

    def arg_for(self, scope, shape, d):
        if shape != SCALAR and "alias" not in self.exclude:
            names = scope.of_shape(shape)
            if names and self.chance(0.8):
                return self.pick(names)  # the helper may write into it
        return self.expr(scope, shape, d)

    # --- statements --------------------------------------------------------------------------

    def block(self, scope, indent, budget, loop, ret):
        """Emit statements; ``loop`` says break/continue are allowed, ``ret`` is the shape the
        enclosing function returns. Returns after at least one statement."""
        emitted = 0
        while emitted == 0 or (budget > 0 and self.chance(0.8)):
            cost = self.statement(scope, indent, budget, loop, ret)
            budget -= cost
            emitted += 1
        return emitted

    def statement(self, scope, indent, budget, loop, ret):
        """Emit one statement (a compound one may hold many); return its cost. While budget and
        depth allow, a third are compound (``if`` 40%, ``for`` 45%, ``while`` 15%); otherwise
        one draw picks a jump (in a loop), a scalar assignment, a tuple assignment or swap, a
        scalar copy, a new or rebound array, an alias or view, an in-place array update, an
        element write or a slice write."""
        rng = self.rng
        n = self.n
        if budget >= 3 and indent < 4 and self.chance(0.33):
            r = rng.random()
            if r < 0.4:
                return self.if_stmt(scope, indent, budget, loop, ret)
            if r < 0.85:
                return self.for_stmt(scope, indent, budget, ret)
            return self.while_stmt(scope, indent, budget, ret)
        r = rng.random()
        if loop and r < 0.2:
            jump = self.pick(["break", "continue", "return"])
            if jump == "return" and "loopreturn" in self.exclude:
                jump = "break"
            if jump == "return":
                jump = f"return {self.expr(scope, ret, 2)}"
            self.emit(indent, f"if {self.cond(scope, 2)}:")
            self.emit(indent + 1, jump)
            return 1
        arrays = [(k, s) for k, s in scope.env.items() if s != SCALAR]
        scalars = scope.of_shape(SCALAR)
        writes = "inplace" not in self.exclude
        if r < 0.48 or not arrays or (not writes and r >= 0.66):
            # a new scalar, or a scalar rebound
            if scalars and self.chance(0.4):
                target = self.pick(scalars)
                if self.chance(0.5):
                    op = self.pick(["+=", "-=", "*="])
                    value = self.scalar(scope, 2) if op != "*=" else \
                        self.pick([f"math.cos({self.scalar(scope, 2)})", "0.5",
                                   f"math.tanh({self.scalar(scope, 2)})"])
                    self.emit(indent, f"{target} {op} {value}")
                    return 1
            else:
                target = self.fresh("s")
            self.emit(indent, f"{target} = {self.scalar(scope, 3)}")
            scope.env[target] = SCALAR
            return 1
        if r < 0.54 and len(scalars) >= 2 and "tuple" not in self.exclude:
            a, b = rng.sample(scalars, 2)
            if self.chance(0.5):
                self.emit(indent, f"{a}, {b} = {b}, {a}")
            else:
                self.emit(indent, f"{a}, {b} = {self.scalar(scope, 2)}, {self.scalar(scope, 2)}")
            return 1
        if r < 0.58 and scalars:
            target = self.fresh("c")
            self.emit(indent, f"{target} = {self.pick(scalars)}")
            scope.env[target] = SCALAR
            return 1
        name, shape = self.pick(arrays)
        if r < 0.66:
            # a new array, or an array rebound to a new value
            if self.chance(0.6):
                target, shape = self.fresh("v"), self.pick([(n,), (n,), (n, n), (n - 1,)])
            else:
                target = name
            self.emit(indent, f"{target} = {self.expr(scope, shape, 3)}")
            scope.env[target] = shape
            return 1
        if r < 0.73 and "alias" not in self.exclude:
            # an alias or a view: later writes go through to the original array
            target = self.fresh("u")
            if len(shape) == 2:
                i = self.index(scope, n)
                view, vshape = self.pick([(f"{name}[{i}]", (n,)), (f"{name}[:, {i}]", (n,)),
                                          (f"{name}.T", shape), (name, shape)])
            else:
                k = shape[0]
                view, vshape = self.pick([(name, shape), (f"{name}[1:]", (k - 1,)),
                                          (f"{name}[:-1]", (k - 1,)), (f"{name}[::-1]", shape)])
                if vshape[0] < 2:
                    view, vshape = name, shape
            self.emit(indent, f"{target} = {view}")
            scope.env[target] = vshape
            return 1
        if r < 0.73:
            target = self.fresh("v")
            self.emit(indent, f"{target} = ({self.expr(scope, shape, 2)}).copy()")
            scope.env[target] = shape
            return 1
        if r < 0.80:
            # in-place augmented assignment of a whole array
            op = self.pick(["+=", "-=", "*="])
            value = self.expr(scope, shape if self.chance(0.6) else SCALAR, 2)
            if op == "*=":
                value = f"np.tanh({value})" if self.chance(0.5) else "0.5"
            self.emit(indent, f"{name} {op} {value}")
            return 1
        if r < 0.92:
            # an element write
            idx = ", ".join(self.index(scope, d) for d in shape)
            op = self.pick(["=", "=", "+=", "-=", "*="])
            value = self.scalar(scope, 2)
            if op == "*=":
                value = f"math.cos({value})"
            self.emit(indent, f"{name}[{idx}] {op} {value}")
            return 1
        # a slice write
        if len(shape) == 2:
            i = self.index(scope, n)
            target = self.pick([f"{name}[{i}]", f"{name}[:, {i}]"])
            vshape = (n,)
        else:
            k = shape[0]
            lo = rng.randrange(k)
            hi = rng.randrange(lo + 1, k + 1)
            target, vshape = f"{name}[{lo}:{hi}]", (hi - lo,)
        op = self.pick(["=", "+=", "*="])
        value = self.vector(scope, vshape[0], 2)
        if op == "*=":
            value = f"np.cos({value})"
        self.emit(indent, f"{target} {op} {value}")
        return 1

    def if_stmt(self, scope, indent, budget, loop, ret):
        self.emit(indent, f"if {self.cond(scope, 2)}:")
        inner = budget // 2
        self.branch(scope, indent, inner, loop, ret)
        cost = 1 + inner
        while self.chance(0.3):
            self.emit(indent, f"elif {self.cond(scope, 2)}:")
            self.branch(scope, indent, inner // 2, loop, ret)
            cost += inner // 2
        if self.chance(0.5):
            self.emit(indent, "else:")
            self.branch(scope, indent, inner // 2, loop, ret)
            cost += inner // 2
        return cost

    def branch(self, scope, indent, budget, loop, ret):
        inner = scope.child()
        self.block(inner, indent + 1, budget, loop, ret)
        if self.chance(0.25) and "return" not in self.exclude:
            self.emit(indent + 1, f"return {self.expr(inner, ret, 2)}")

    def for_stmt(self, scope, indent, budget, ret):
        n = self.n
        inner = scope.child()
        arrays = [(k, s) for k, s in scope.env.items() if s != SCALAR and len(s) == 1]
        mats = scope.of_shape((n, n))
        form = self.rng.randrange(7)
        i = self.fresh("i")
        if form <= 2 or not arrays:
            k = self.rng.randrange(1, n + 1)
            header, top = self.pick([(f"range({k})", k - 1), (f"range({k} - 1, -1, -1)", k - 1),
                                     (f"range(1, {k + 1})", k)])
            if arrays and self.chance(0.4):
                name, shape = self.pick(arrays)
                header, top = f"range(len({name}))", shape[0] - 1
            self.emit(indent, f"for {i} in {header}:")
            inner.ints[i] = top
        elif form == 3:
            name, shape = self.pick(arrays)
            el = self.fresh("e")
            self.emit(indent, f"for {el} in {name}:")
            inner.env[el] = SCALAR
        elif form == 4:
            name, shape = self.pick(arrays)
            el = self.fresh("e")
            self.emit(indent, f"for {i}, {el} in enumerate({name}):")
            inner.ints[i] = shape[0] - 1
            inner.env[el] = SCALAR
        elif form == 5:
            name, shape = self.pick(arrays)
            other = self.pick([a for a, s in arrays if s == shape])
            p, q = self.fresh("p"), self.fresh("q")
            self.emit(indent, f"for {p}, {q} in zip({name}, {other}):")
            inner.env[p] = inner.env[q] = SCALAR
        else:
            if mats and "alias" not in self.exclude:
                row = self.fresh("r")
                self.emit(indent, f"for {row} in {self.pick(mats)}:")
                inner.env[row] = (n,)  # a view: writes go into the matrix
            else:
                self.emit(indent, f"for {i} in range({n}):")
                inner.ints[i] = n - 1
        inner_budget = budget // 2
        self.block(inner, indent + 1, inner_budget, True, ret)
        return 1 + inner_budget

    def while_stmt(self, scope, indent, budget, ret):
        k = self.fresh("k")
        top = self.rng.randrange(1, self.n + 1)
        self.emit(indent, f"{k} = 0")
        cond = f"{k} < {top}"
        if self.chance(0.4):
            cond = f"{cond} and {self.cond(scope, 1)}"
        self.emit(indent, f"while {cond}:")
        self.emit(indent + 1, f"{k} += 1")
        inner = scope.child()
        inner.ints[k] = top
        inner_budget = budget // 2
        self.block(inner, indent + 1, inner_budget, True, ret)
        return 2 + inner_budget

    # --- functions ---------------------------------------------------------------------------

    def function(self, name, params, budget, ret):
        scope = _Scope({p: s for p, s in params})
        self.emit(0, f"def {name}({', '.join(p for p, _ in params)}):")
        self.block(scope, 1, budget, False, ret)
        self.emit(1, f"return {self.final(scope, ret)}")
        self.emit(0, "")
        self.emit(0, "")

    def final(self, scope, ret):
        """The last return: an expression that reads most live names, so that most of the
        computation reaches the output."""
        if ret != SCALAR:
            return self.expr(scope, ret, 2)
        terms = [self.scalar(scope, 2)]
        for name, shape in scope.env.items():
            if self.chance(0.6):
                if shape == SCALAR:
                    terms.append(name)
                else:
                    terms.append(self.pick([f"np.sum({name})", f"np.sum(np.sin({name}))",
                                            f"np.sum({name} ** 2)"]))
        return " + ".join(terms)


FEATURES = ("alias", "inplace", "tuple", "return", "loopreturn")


def generate(seed, exclude=frozenset()):
    """The program for ``seed`` (deterministic: the same seed gives the same text).

    ``exclude`` switches feature groups off, to look for bugs hidden behind known ones:
    ``alias`` (aliases, views, rows of a matrix as loop targets, arrays passed to helpers by
    name), ``inplace`` (every write into an array), ``tuple`` (tuple assignment and swaps),
    ``return`` (early returns from branches), ``loopreturn`` (``return`` inside loops)."""
    unknown = set(exclude) - set(FEATURES)
    if unknown:
        raise ValueError(f"unknown features {sorted(unknown)}; known: {FEATURES}")
    rng = random.Random(seed)
    n = rng.choice([3, 4])
    gen = _Gen(rng, n, frozenset(exclude))
    gen.emit(0, "import math")
    gen.emit(0, "")
    gen.emit(0, "import numpy as np")
    gen.emit(0, "")
    gen.emit(0, "")
    for h in range(rng.choice([0, 0, 1, 1, 2])):
        name = f"h{h}"
        shapes = [(n,), SCALAR] if rng.random() < 0.7 else [(n,), (n,)]
        ret = SCALAR if rng.random() < 0.7 else (n,)
        params = [(f"a{j}", s) for j, s in enumerate(shapes)]
        gen.function(name, params, rng.randrange(2, 6), ret)
        gen.helpers.append((name, shapes, ret))
    shapes = []
    for _ in range(rng.randrange(1, 3)):
        shapes.append(SCALAR)
    for _ in range(rng.randrange(1, 3)):
        shapes.append((n,))
    if rng.random() < 0.35:
        shapes.append((n, n))
    rng.shuffle(shapes)
    names = {SCALAR: "xyz", (n,): "abc", (n, n): "MPQ"}
    used = {key: 0 for key in names}
    params = []
    for s in shapes:
        params.append((names[s][used[s]], s))
        used[s] += 1
    gen.function("f", params, rng.randrange(4, 14), SCALAR)
    all_names = [p for p, _ in params]
    if rng.random() < 0.6:
        wrt = tuple(all_names)
    else:
        wrt = tuple(p for p in all_names if rng.random() < 0.6) or (all_names[0],)
    return Program(seed=seed, source="\n".join(gen.lines).rstrip() + "\n",
                   params=tuple(all_names), shapes=tuple(s for _, s in params), wrt=wrt)
