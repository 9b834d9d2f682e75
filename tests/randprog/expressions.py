"""Expressions for the random-program generator: typed by shape, defined by construction.

Takes a random source, the vector length ``n`` and the names in scope; guarantees expressions
of a requested shape (``()``, ``(k,)`` with ``k <= n``, or ``(n, n)``) that read only names in
scope, index only in bounds, and give ``log``, ``sqrt``, division and ``exp`` safe arguments.
:class:`Expressions` is the base of the statement generator in :mod:`randprog.generate`.
"""

from __future__ import annotations

SCALAR = ()


class Scope:
    """Names visible at one point: float and array names with their shapes, and integers (loop
    counters, never rebound) with their largest value. A block works on a ``child`` copy, so
    the names it binds are forgotten after it: they may be unbound on another path."""

    def __init__(self, env=None, ints=None):
        self.env = dict(env or {})
        self.ints = dict(ints or {})

    def child(self):
        return Scope(self.env, self.ints)

    def of_shape(self, shape):
        return [name for name, s in self.env.items() if s == shape]


class Expressions:
    """Random expressions over a :class:`Scope`; ``helpers`` lists the helper functions
    defined so far as (name, parameter shapes, result shape)."""

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
                              f"np.sum({m}, axis=0)[{self.index(scope, n)}]", f"np.max({m})",
                              f"np.linalg.det(3.0 * np.eye({n}) + 0.2 * {m})",
                              f"np.linalg.norm({m} + 2.0)"])
        k = self.rng.randrange(2, n + 1) if self.chance(0.3) else n
        v = self.vector(scope, k, d)
        form = self.rng.randrange(12)
        if form == 10:
            return self.pick([f"np.std({v} + np.linspace(0.0, 1.0, {k}))",
                              f"np.inner({v}, {self.vector(scope, k, d)})",
                              f"np.vdot({v}, {self.vector(scope, k, d)})",
                              f"np.cumsum({v})[-1]", f"np.min(np.abs({v}))"])
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
        form = self.rng.randrange(20)
        if form <= 2:
            op = self.pick(["+", "-", "*"])
            return f"({self.vector(scope, k, d)} {op} {self.vector(scope, k, d)})"
        if form >= 16:
            return self.vector_numpy(scope, k, d)
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

    def vector_numpy(self, scope, k, d):
        """Less common NumPy functions and shape operations giving a length-``k`` vector."""
        n = self.n
        a, b = self.vector(scope, k, d), self.vector(scope, k, d)
        mats = scope.of_shape((n, n))
        options = [f"np.sinh(np.tanh({a}))", f"np.cosh(np.tanh({a}))", f"np.expm1(np.tanh({a}))",
                   f"np.exp2(np.tanh({a}))", f"np.cbrt(2.0 + np.cos({a}))", f"np.hypot({a}, {b})",
                   f"np.arctan2({a}, 2.0 + np.cos({b}))", f"np.logaddexp({a}, {b})",
                   f"np.reciprocal(2.0 + np.cos({a}))", f"np.arcsinh({a})",
                   f"np.power(2.0 + np.cos({a}), {b})", f"np.fmax({a}, {b})",
                   f"np.cumprod(np.tanh({a}))", f"np.stack([{a}, {b}])[1]",
                   f"np.repeat(({a})[0:1], {k})", f"np.tile(({a})[-1:], {k})"]
        if k < n:
            options.append(f"np.diff({self.vector(scope, k + 1, d)})")
            options.append(f"np.concatenate([({a})[:1], ({b})[1:]])")
        if k == n and mats:
            m = self.matrix(scope, d)
            options += [f"np.mean({m}, axis=1)", f"np.max({m}, axis=0)", f"np.sum({m}, axis=1)",
                        f"np.linalg.solve(3.0 * np.eye({n}) + 0.2 * {m}, {a})",
                        f"np.diag({m}).copy()"]  # np.diag of a matrix is a read-only view
        return self.pick(options)

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
        form = self.rng.randrange(8)
        if form == 0:
            op = self.pick(["+", "-", "*"])
            return f"({self.matrix(scope, d)} {op} {self.matrix(scope, d)})"
        if form >= 6:
            m = self.matrix(scope, d)
            return self.pick([f"np.linalg.inv(3.0 * np.eye({n}) + 0.2 * {m})", f"np.tril({m})",
                              f"np.triu({m})", f"np.diag({self.vector(scope, n, d)})",
                              f"np.transpose({m})", f"np.sin({m})", f"np.maximum({m}, 0.1)",
                              f"(np.sum({m}) * np.eye({n}))", f"np.cumsum({m}, axis=0)"])
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
