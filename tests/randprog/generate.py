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

from .expressions import SCALAR, Expressions, Scope


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


class _Gen(Expressions):
    """Statements and functions, on top of the expressions."""

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
        scope = Scope({p: s for p, s in params})
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
