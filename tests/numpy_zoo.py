"""A zoo of NumPy array programs, written the way users write them, for the NumPy rule tests.

Takes nothing; defines functions. Each public function here is registered with :func:`zoo`,
which records, in :data:`ZOO`, an :class:`Entry` with:

- ``fn``: the function itself (the decorator returns it unchanged);
- ``cases``: ``(label, rng -> args)`` pairs, one per argument *shape* configuration (a Python
  float, a 0-d array, 1-D and 2-D arrays, broadcasting pairs such as ``(2, 3)`` with ``(3,)`` or
  ``(2, 1)`` with ``(1, 3)``); each draws a random argument tuple *inside the function's
  domain*: positive for ``log``/``sqrt``, inside (-1, 1) for ``arcsin``, away from 0 for ``/``,
  ``abs`` and ``sign``, away from ties for ``maximum``/``max``/``sort``, away from integers for
  ``floor`` and ``mod``, away from the bounds for ``clip``;
- ``wrt``: what the tests differentiate with respect to;
- ``points``: explicit ``(case label, args)`` pairs tested besides the random draws, where the
  draws would miss an arm of a branch (every arm of every ``if`` and conditional expression must
  run at some test point: ``test_every_branch_arm_runs``);
- ``unreachable``: ``{(condition, arm): reason}`` for an arm no valid test point can take.

Most functions return a scalar: an elementwise function's result is weighted by a random array
``w`` (a random cotangent), and a reduction's or shape function's result ``y`` is scalarized as
``np.sum(y * y)``, whose cotangent ``2 y`` differs from element to element, so an adjoint sent
to the wrong element cannot pass. The activations (``relu`` ... ``log_softmax``, from
``examples/numpy_models.py``) return arrays and are checked through ``adjoint.vjp``.

Adding a NumPy rule: add one small function here that calls it; the coverage test reads the
zoo's source to find which NumPy functions, methods and attributes it calls.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

import numpy as np

_EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "numpy_models.py"
_spec = importlib.util.spec_from_file_location("numpy_models", _EXAMPLE)
models = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(models)


@dataclass(frozen=True)
class Entry:
    """One zoo function and how to test it."""

    name: str
    fn: object
    cases: tuple  # ((label, rng -> args), ...)
    wrt: object = 0
    points: tuple = ()  # ((case label, args), ...) tested besides the random draws
    unreachable: tuple = ()  # ((condition, arm, reason), ...)

    def __repr__(self):
        return f"<numpy zoo {self.name}>"


ZOO: list[Entry] = []


def zoo(cases, *, wrt=0, name=None, points=(), unreachable=None):
    """Register the decorated function (or ``fn`` of another module, via :func:`add`)."""
    if callable(cases):
        cases = (("", cases),)
    unreachable = tuple((text, arm, why) for (text, arm), why in (unreachable or {}).items())

    def register(fn):
        entry = Entry(name or fn.__name__, fn, tuple(cases), wrt, points=tuple(points),
                      unreachable=unreachable)
        if any(e.name == entry.name for e in ZOO):
            raise ValueError(f"duplicate numpy zoo entry {entry.name!r}")
        ZOO.append(entry)
        return fn

    return register


def by_name(name):
    """The zoo entry called ``name``."""
    for entry in ZOO:
        if entry.name == name:
            return entry
    raise KeyError(name)


# ---------------------------------------------------------------------------------------------
# Argument generators. A *shape* is a tuple, or "0d" for a 0-d array; shape () gives a Python
# float. Every generator takes (rng, shape) and returns a value of that shape.


def _shaped(values, shape):
    if shape == "0d":
        return np.array(float(values.reshape(-1)[0]))
    if shape == ():
        return float(values.reshape(-1)[0])
    return values


def _size(shape):
    return () if shape == "0d" else shape


def uniform(lo, hi):
    """Values uniformly in [lo, hi)."""
    return lambda rng, shape: _shaped(rng.uniform(lo, hi, size=_size(shape) or 1), shape)


def signed(lo=0.3, hi=2.0):
    """Values of random sign with magnitudes in [lo, hi): away from 0."""
    def gen(rng, shape):
        n = _size(shape) or 1
        return _shaped(rng.choice([-1.0, 1.0], size=n) * rng.uniform(lo, hi, size=n), shape)
    return gen


def off_integer(lo=-3, hi=3):
    """Values whose fractional part is in [0.2, 0.8]: away from the jumps of floor and round."""
    def gen(rng, shape):
        n = _size(shape) or 1
        return _shaped(rng.integers(lo, hi, size=n) + rng.uniform(0.2, 0.8, size=n), shape)
    return gen


def distinct(lo=-2.0, hi=2.0, gap=0.15):
    """Values at least ``gap`` apart from each other: away from ties of max, min and sort."""
    def gen(rng, shape):
        n = int(np.prod(_size(shape) or 1))
        grid = np.linspace(lo, hi, max(n, 2) * 2)
        values = rng.permutation(grid)[:n] + rng.uniform(0, gap / 4, size=n)
        return _shaped(values.reshape(_size(shape) or 1), shape)
    return gen


POS = uniform(0.5, 2.0)
REAL = uniform(-2.0, 2.0)
UNIT = uniform(-0.9, 0.9)
AWAY0 = signed()


def weights(rng, shape):
    """A random cotangent of the given shape (a float for shape ())."""
    return _shaped(rng.normal(size=_size(shape) or 1), shape)


def _broadcast(*shapes):
    return np.broadcast_shapes(*[_size(s) for s in shapes])


UNARY_SHAPES = ((), "0d", (5,), (2, 3))
PAIR_SHAPES = (((), ()), ((), (4,)), ((2, 3), (3,)), ((2, 1), (1, 3)), ((3,), (2, 3)),
               ((2, 3), (2, 3)), ("0d", (3,)))


def _label(*shapes):
    return " & ".join("0d" if s == "0d" else str(s) for s in shapes)


def unary(gen, shapes=UNARY_SHAPES):
    """Cases ``(x, w)`` for an elementwise function of one argument, weighted by ``w``."""
    def case(shape):
        return lambda rng: (gen(rng, shape), weights(rng, _size(shape) or ()))
    return tuple((_label(s), case(s)) for s in shapes)


def binary(gen_x, gen_y, shapes=PAIR_SHAPES, apart=0.0):
    """Cases ``(x, y, w)`` for an elementwise function of two broadcast arguments.

    With ``apart > 0`` the broadcast x and y differ everywhere by at least that much (away from
    the ties of maximum and minimum).
    """
    def case(sx, sy):
        def draw(rng):
            while True:
                x, y = gen_x(rng, sx), gen_y(rng, sy)
                if apart == 0.0 or np.min(np.abs(np.subtract(x, y))) >= apart:
                    break
            return x, y, weights(rng, _broadcast(sx, sy))
        return draw
    return tuple((_label(sx, sy), case(sx, sy)) for sx, sy in shapes)


def arrays(*specs):
    """One case drawing one array per ``(generator, shape)`` spec."""
    return lambda rng: tuple(gen(rng, shape) for gen, shape in specs)


def each_shape(gen, shapes, *extra):
    """Cases drawing ``gen`` at each of ``shapes`` (plus fixed ``extra`` arguments)."""
    def case(shape):
        return lambda rng: (gen(rng, shape),) + extra
    return tuple((_label(s), case(s)) for s in shapes)


def spd(rng, n=3):
    """A symmetric positive definite matrix, well conditioned."""
    m = rng.normal(size=(n, n))
    return m @ m.T + n * np.eye(n)


def well_conditioned(rng, shape):
    """A square matrix (or stack of them) near a multiple of the identity: safely invertible."""
    n = shape[-1]
    return rng.normal(size=shape) * 0.5 + 2.0 * np.eye(n)


# =============================================================================================
# Elementwise functions of one argument, weighted by w.


@zoo(unary(REAL))
def sin_(x, w):
    return np.sum(np.sin(x) * w)


@zoo(unary(REAL))
def cos_(x, w):
    return np.sum(np.cos(x) * w)


@zoo(unary(uniform(-1.2, 1.2)))
def tan_(x, w):
    return np.sum(np.tan(x) * w)


@zoo(unary(UNIT))
def arcsin_(x, w):
    return np.sum(np.arcsin(x) * w)


@zoo(unary(UNIT))
def arccos_(x, w):
    return np.sum(np.arccos(x) * w)


@zoo(unary(REAL))
def arctan_(x, w):
    return np.sum(np.arctan(x) * w)


@zoo(unary(REAL))
def sinh_(x, w):
    return np.sum(np.sinh(x) * w)


@zoo(unary(REAL))
def cosh_(x, w):
    return np.sum(np.cosh(x) * w)


@zoo(unary(REAL))
def tanh_(x, w):
    return np.sum(np.tanh(x) * w)


@zoo(unary(REAL))
def arcsinh_(x, w):
    return np.sum(np.arcsinh(x) * w)


@zoo(unary(uniform(1.2, 3.0)))
def arccosh_(x, w):
    return np.sum(np.arccosh(x) * w)


@zoo(unary(UNIT))
def arctanh_(x, w):
    return np.sum(np.arctanh(x) * w)


@zoo(unary(REAL))
def exp_(x, w):
    return np.sum(np.exp(x) * w)


@zoo(unary(REAL))
def exp2_(x, w):
    return np.sum(np.exp2(x) * w)


@zoo(unary(REAL))
def expm1_(x, w):
    return np.sum(np.expm1(x) * w)


@zoo(unary(POS))
def log_(x, w):
    return np.sum(np.log(x) * w)


@zoo(unary(POS))
def log2_(x, w):
    return np.sum(np.log2(x) * w)


@zoo(unary(POS))
def log10_(x, w):
    return np.sum(np.log10(x) * w)


@zoo(unary(uniform(-0.5, 2.0)))
def log1p_(x, w):
    return np.sum(np.log1p(x) * w)


@zoo(unary(POS))
def sqrt_(x, w):
    return np.sum(np.sqrt(x) * w)


@zoo(unary(AWAY0))
def cbrt_(x, w):
    return np.sum(np.cbrt(x) * w)


@zoo(unary(REAL))
def square_(x, w):
    return np.sum(np.square(x) * w)


@zoo(unary(AWAY0))
def reciprocal_(x, w):
    return np.sum(np.reciprocal(x) * w)


@zoo(unary(AWAY0))
def abs_(x, w):
    return np.sum(np.abs(x) * w)


@zoo(unary(AWAY0))
def absolute_(x, w):
    return np.sum(np.absolute(x) * w)


@zoo(unary(AWAY0))
def fabs_(x, w):
    return np.sum(np.fabs(x) * w)


@zoo(unary(REAL))
def negative_(x, w):
    return np.sum(np.negative(x) * w)


@zoo(unary(REAL))
def positive_(x, w):
    return np.sum(np.positive(x) * w)


@zoo(unary(REAL))
def deg2rad_(x, w):
    return np.sum(np.deg2rad(x) * w)


@zoo(unary(REAL))
def radians_(x, w):
    return np.sum(np.radians(x) * w)


@zoo(unary(REAL))
def rad2deg_(x, w):
    return np.sum(np.rad2deg(x) * w)


@zoo(unary(REAL))
def degrees_(x, w):
    return np.sum(np.degrees(x) * w)


@zoo(unary(REAL))
def unary_minus(x, w):
    return np.sum(-x * w)


# --- zero-derivative functions: the result is a constant plus x, so the gradient is w --------


@zoo(unary(AWAY0))
def sign_(x, w):
    return np.sum((x + np.sign(x)) * w)


@zoo(unary(off_integer()))
def floor_(x, w):
    return np.sum((x * np.floor(x)) * w)


@zoo(unary(off_integer()))
def ceil_(x, w):
    return np.sum((x * np.ceil(x)) * w)


@zoo(unary(off_integer()))
def round_(x, w):
    return np.sum((x + np.round(x)) * w)


@zoo(unary(off_integer()))
def around_(x, w):
    return np.sum((x + np.around(x)) * w)


@zoo(unary(off_integer()))
def rint_(x, w):
    return np.sum((x - np.rint(x)) * w)


@zoo(unary(off_integer()))
def trunc_(x, w):
    return np.sum((x * np.trunc(x)) * w)


@zoo(unary(off_integer()))
def fix_(x, w):
    return np.sum((x * np.fix(x)) * w)


@zoo(unary(AWAY0))
def heaviside_(x, w):
    return np.sum(x * np.heaviside(x, 0.5) * w)


@zoo(binary(off_integer(), uniform(0.7, 1.5), shapes=(((), ()), ((3,), ()), ((2, 3), (3,)))))
def floor_divide_(x, y, w):
    return np.sum((x + np.floor_divide(x, y)) * w)


# =============================================================================================
# Elementwise functions of two broadcast arguments, weighted by w; differentiated in both.


@zoo(binary(REAL, REAL), wrt=(0, 1))
def add_(x, y, w):
    return np.sum(np.add(x, y) * w)


@zoo(binary(REAL, REAL), wrt=(0, 1))
def subtract_(x, y, w):
    return np.sum(np.subtract(x, y) * w)


@zoo(binary(REAL, REAL), wrt=(0, 1))
def multiply_(x, y, w):
    return np.sum(np.multiply(x, y) * w)


@zoo(binary(REAL, AWAY0), wrt=(0, 1))
def divide_(x, y, w):
    return np.sum(np.divide(x, y) * w)


@zoo(binary(REAL, AWAY0), wrt=(0, 1))
def true_divide_(x, y, w):
    return np.sum(np.true_divide(x, y) * w)


@zoo(binary(POS, uniform(-1.5, 2.5)), wrt=(0, 1))
def power_(x, y, w):
    return np.sum(np.power(x, y) * w)


@zoo(binary(POS, uniform(-1.5, 2.5)), wrt=(0, 1))
def float_power_(x, y, w):
    return np.sum(np.float_power(x, y) * w)


@zoo(unary(REAL))
def power_int_exponent(x, w):
    # A negative base with a constant integer exponent: the exponent's partial is not needed.
    return np.sum(np.power(x, 3) * w)


@zoo(binary(AWAY0, AWAY0), wrt=(0, 1))
def arctan2_(x, y, w):
    return np.sum(np.arctan2(x, y) * w)


@zoo(binary(AWAY0, AWAY0), wrt=(0, 1))
def hypot_(x, y, w):
    return np.sum(np.hypot(x, y) * w)


@zoo(binary(REAL, REAL), wrt=(0, 1))
def logaddexp_(x, y, w):
    return np.sum(np.logaddexp(x, y) * w)


@zoo(binary(REAL, REAL), wrt=(0, 1))
def logaddexp2_(x, y, w):
    return np.sum(np.logaddexp2(x, y) * w)


@zoo(binary(REAL, REAL, apart=0.2), wrt=(0, 1))
def maximum_(x, y, w):
    return np.sum(np.maximum(x, y) * w)


@zoo(binary(REAL, REAL, apart=0.2), wrt=(0, 1))
def minimum_(x, y, w):
    return np.sum(np.minimum(x, y) * w)


@zoo(binary(REAL, REAL, apart=0.2), wrt=(0, 1))
def fmax_(x, y, w):
    return np.sum(np.fmax(x, y) * w)


@zoo(binary(REAL, REAL, apart=0.2), wrt=(0, 1))
def fmin_(x, y, w):
    return np.sum(np.fmin(x, y) * w)


def _mod_cases():
    """x / y away from integers, so mod and fmod are smooth; x has the broadcast shape."""
    def case(sx, sy):
        def draw(rng):
            y = uniform(0.7, 1.5)(rng, sy)
            q = off_integer(-2, 3)(rng, sx)
            return np.multiply(q, y) if sx != () else float(q * y), y, weights(rng, _size(sx))
        return draw
    shapes = (((), ()), ((3,), ()), ((2, 3), (3,)), ((2, 3), (2, 3)))
    return tuple((_label(sx, sy), case(sx, sy)) for sx, sy in shapes)


@zoo(_mod_cases(), wrt=(0, 1))
def mod_(x, y, w):
    return np.sum(np.mod(x, y) * w)


@zoo(_mod_cases(), wrt=(0, 1))
def remainder_(x, y, w):
    return np.sum(np.remainder(x, y) * w)


@zoo(_mod_cases(), wrt=(0, 1))
def fmod_(x, y, w):
    return np.sum(np.fmod(x, y) * w)


# --- operators on arrays: broadcasting is the operator rules' job, checked here on arrays ----


@zoo(binary(REAL, REAL), wrt=(0, 1))
def op_add(x, y, w):
    return np.sum((x + y) * w)


@zoo(binary(REAL, REAL), wrt=(0, 1))
def op_sub(x, y, w):
    return np.sum((x - y) * w)


@zoo(binary(REAL, REAL), wrt=(0, 1))
def op_mul(x, y, w):
    return np.sum(x * y * w)


@zoo(binary(REAL, AWAY0), wrt=(0, 1))
def op_div(x, y, w):
    return np.sum(x / y * w)


@zoo(binary(POS, uniform(-1.0, 2.0)), wrt=(0, 1))
def op_pow(x, y, w):
    return np.sum(x**y * w)


@zoo(unary(REAL))
def scalar_and_array_mix(x, w):
    y = 2.0 * x + 1.0
    z = 3.0 / (y * y + 1.0) - x
    return np.sum(z * w)


# --- clip and where -------------------------------------------------------------------------


def _clip_cases():
    def case(shape):
        def draw(rng):
            while True:
                x = REAL(rng, shape)
                lo, hi = float(rng.uniform(-1.0, -0.2)), float(rng.uniform(0.2, 1.0))
                gap = np.minimum(np.abs(np.subtract(x, lo)), np.abs(np.subtract(x, hi)))
                if np.min(gap) > 0.1:
                    return x, lo, hi, weights(rng, _size(shape))
        return draw
    return tuple((_label(s), case(s)) for s in UNARY_SHAPES)


@zoo(_clip_cases(), wrt=(0, 1, 2))
def clip_(x, lo, hi, w):
    return np.sum(np.clip(x, lo, hi) * w)


@zoo(_clip_cases())
def clip_upper_only(x, lo, hi, w):
    return np.sum(np.clip(x, None, hi) * w)


@zoo(_clip_cases()[2:], wrt=(0, 1, 2))
def clip_method(x, lo, hi, w):
    return np.sum(x.clip(lo, hi) * w)


@zoo(binary(AWAY0, REAL), wrt=(0, 1))
def where_(x, y, w):
    return np.sum(np.where(x > 0, x, y) * w)


@zoo(unary(AWAY0))
def where_scalar_branch(x, w):
    return np.sum(np.where(x > 0, x * x, 0.0) * w)


@zoo(unary(POS))
def where_safe_sqrt(x, w):
    # The safe idiom of docs/conventions.md: keep sqrt's argument in its domain on both sides.
    c = x > 1.0
    safe = np.where(c, x, 1.0)
    return np.sum(np.where(c, np.sqrt(safe), 0.0) * w)


# =============================================================================================
# Reductions; a result y is scalarized as sum(y * y).

SHAPES_1D_2D_3D = ((5,), (3, 4), (2, 3, 4))


@zoo(each_shape(REAL, UNARY_SHAPES[:1] + SHAPES_1D_2D_3D))
def sum_all(x):
    y = np.sum(x)
    return y * y


@zoo(each_shape(REAL, SHAPES_1D_2D_3D))
def sum_axis0(x):
    y = np.sum(x, axis=0)
    return np.sum(y * y)


@zoo(each_shape(REAL, SHAPES_1D_2D_3D))
def sum_last_keepdims(x):
    y = np.sum(x, axis=-1, keepdims=True)
    return np.sum(y * y * x)


@zoo(each_shape(REAL, ((3, 4), (2, 3, 4))))
def sum_axis_tuple(x):
    y = np.sum(x, axis=(0, -1))
    return np.sum(y * y)


@zoo(each_shape(REAL, ((3, 4), (2, 3, 4))))
def sum_method_axis(x):
    y = x.sum(axis=1)
    return np.sum(y * y)


@zoo(each_shape(REAL, UNARY_SHAPES[:1] + SHAPES_1D_2D_3D))
def mean_all(x):
    y = np.mean(x * x)
    return y * y


@zoo(each_shape(REAL, ((3, 4), (2, 3, 4))))
def mean_axis1(x):
    y = np.mean(x, axis=1)
    return np.sum(y * y)


@zoo(each_shape(REAL, ((3, 4), (2, 3, 4))))
def mean_tuple_keepdims(x):
    y = np.mean(x, axis=(0, 1), keepdims=True)
    return np.sum((x - y) ** 2)


@zoo(each_shape(REAL, SHAPES_1D_2D_3D))
def mean_method(x):
    return x.mean() * np.sum(x)


@zoo(each_shape(AWAY0, SHAPES_1D_2D_3D))
def prod_all(x):
    return np.prod(x)


@zoo(each_shape(AWAY0, ((3, 4), (2, 3, 4))))
def prod_axis0(x):
    y = np.prod(x, axis=0)
    return np.sum(y * y)


@zoo(each_shape(AWAY0, ((5,), (3, 4))))
def prod_method(x):
    return x.prod() + np.sum(x)


@zoo(arrays((REAL, (4,))))
def prod_with_a_zero(x):
    y = x * np.array([1.0, 0.0, 1.0, 1.0])
    return np.prod(y + np.array([0.0, 0.0, 1.0, 0.0]))


@zoo(each_shape(distinct(), SHAPES_1D_2D_3D))
def max_all(x):
    return np.max(x) * np.sum(x)


@zoo(each_shape(distinct(), ((3, 4), (2, 3, 4))))
def max_axis(x):
    y = np.max(x, axis=1)
    return np.sum(y * y)


@zoo(each_shape(distinct(), ((3, 4), (2, 3, 4))))
def max_axis_keepdims(x):
    return np.sum(np.exp(x - np.max(x, axis=-1, keepdims=True)))


@zoo(each_shape(distinct(), SHAPES_1D_2D_3D))
def min_all(x):
    return np.min(x) * np.sum(x)


@zoo(each_shape(distinct(), ((3, 4), (2, 3, 4))))
def min_axis(x):
    y = np.min(x, axis=0)
    return np.sum(y * y)


@zoo(each_shape(distinct(), ((3, 4), (2, 3, 4))))
def amax_tuple(x):
    y = np.amax(x, axis=(0, 1))
    return np.sum(y * y)


@zoo(each_shape(distinct(), ((3, 4), (2, 3, 4))))
def amin_axis(x):
    y = np.amin(x, axis=-1)
    return np.sum(y * y)


@zoo(each_shape(distinct(), SHAPES_1D_2D_3D))
def max_method(x):
    return x.max() - x.min() + np.sum(x * x)


@zoo(each_shape(distinct(), ((3, 4), (2, 3, 4))))
def min_method_axis(x):
    y = x.min(axis=1)
    return np.sum(y * y)


@zoo(each_shape(REAL, SHAPES_1D_2D_3D))
def var_all(x):
    return np.var(x)


@zoo(each_shape(REAL, ((3, 4), (2, 3, 4))))
def var_axis_ddof(x):
    y = np.var(x, axis=0, ddof=1)
    return np.sum(y * y)


@zoo(each_shape(REAL, ((3, 4), (2, 3, 4))))
def var_method_keepdims(x):
    y = x.var(axis=-1, keepdims=True)
    return np.sum(y * x)


@zoo(each_shape(REAL, SHAPES_1D_2D_3D))
def std_all(x):
    return np.std(x)


@zoo(each_shape(REAL, ((3, 4), (2, 3, 4))))
def std_axis_keepdims(x):
    y = np.std(x, axis=1, keepdims=True, ddof=1)
    return np.sum(x / y)


@zoo(each_shape(REAL, ((5,), (3, 4))))
def std_method(x):
    return x.std() * 3.0


@zoo(each_shape(REAL, ((5,), (2, 3, 4))))
def norm_default(x):
    return np.linalg.norm(x)


@zoo(each_shape(AWAY0, ((5,),)))
def norm_ord1(x):
    return np.linalg.norm(x, 1)


@zoo(each_shape(distinct(0.2, 2.0), ((5,),)))
def norm_inf(x):
    return np.linalg.norm(x, np.inf)


@zoo(each_shape(REAL, ((3, 4),)))
def norm_fro(x):
    return np.linalg.norm(x, "fro")


@zoo(each_shape(REAL, ((3, 4), (2, 3, 4))))
def norm_axis(x):
    y = np.linalg.norm(x, axis=-1)
    return np.sum(y * y * y)


@zoo(each_shape(REAL, ((5,), (3, 4))))
def cumsum_flat(x):
    y = np.cumsum(x)
    return np.sum(y * y)


@zoo(each_shape(REAL, ((3, 4), (2, 3, 4))))
def cumsum_axis1(x):
    y = np.cumsum(x, axis=1)
    return np.sum(y * y)


@zoo(each_shape(REAL, ((5,), (3, 4))))
def cumsum_method(x):
    y = x.cumsum()
    return np.sum(y * y)


@zoo(each_shape(AWAY0, ((5,), (3, 4))))
def cumprod_flat(x):
    y = np.cumprod(x)
    return np.sum(y * y)


@zoo(each_shape(AWAY0, ((3, 4), (2, 3, 4))))
def cumprod_axis(x):
    y = np.cumprod(x, axis=-1)
    return np.sum(y * y)


@zoo(arrays((REAL, (5,))))
def cumprod_with_a_zero(x):
    y = np.cumprod(x * np.array([1.0, 1.0, 0.0, 1.0, 1.0]))
    return np.sum(y * y)


@zoo(each_shape(REAL, ((5,), (3, 4))))
def diff_last(x):
    y = np.diff(x)
    return np.sum(y * y)


@zoo(each_shape(REAL, ((4, 3), (5, 2, 3))))
def diff_twice_axis0(x):
    y = np.diff(x, n=2, axis=0)
    return np.sum(y * y * y)


@zoo(each_shape(distinct(), ((5,), (3, 4))))
def sort_last(x):
    y = np.sort(x)
    return np.sum(y * np.arange(y.shape[-1]))


@zoo(each_shape(distinct(), ((3, 4),)))
def sort_axis0(x):
    y = np.sort(x, axis=0)
    return np.sum(y * y * np.arange(3.0).reshape(3, 1))


# --- index-valued reductions: no derivative of their own, but they select what is ----------


@zoo(each_shape(distinct(), ((5,), (3, 4))))
def argmax_select(x):
    flat = np.ravel(x)
    return flat[np.argmax(flat)] * 2.0 + np.sum(x)


@zoo(each_shape(distinct(), ((5,),)))
def argmin_select(x):
    return x[np.argmin(x)] ** 2


@zoo(each_shape(distinct(), ((5,),)))
def argsort_gather(x):
    order = np.argsort(x)
    return np.sum(x[order] * np.arange(5.0))


@zoo(each_shape(distinct(), ((3, 4),)))
def argmax_method_axis(x):
    k = x.argmax(axis=1)
    return np.sum(x[np.arange(3), k] ** 2) + np.sum(x)


# --- predicates: boolean or index results that select or branch, with no derivative --------


@zoo(each_shape(signed(0.2, 2.0), ((6,), (2, 3))))
def comparison_masks(x):
    inner = np.logical_and(np.greater(x, -1.0), np.less(x, 1.0))
    outer = np.logical_or(np.greater_equal(x, 1.5), np.less_equal(x, -1.5))
    odd = np.logical_xor(inner, np.equal(x, 0.0))
    none = np.logical_not(np.not_equal(x, x))
    return (np.sum(np.where(inner, x * x, 0.0)) + np.sum(np.where(outer, x, 0.0))
            + np.sum(np.where(odd, x, 0.0)) + np.sum(np.where(none, x, 0.0)))


@zoo(each_shape(AWAY0, ((6,), (2, 3))))
def finiteness_masks(x):
    y = np.where(np.isfinite(x), x, 0.0) + np.where(np.isnan(x), 0.0, x)
    z = np.where(np.isinf(x), 0.0, y)
    return np.sum(z * z) + np.sum(np.where(np.signbit(x), -x, x))


@zoo(each_shape(AWAY0, ((6,), (2, 3))),
     points=[("(6,)", (np.array([12.0, -11.0, 0.7, -0.5, 1.3, -1.8]),))])
def any_all_branches(x):
    total = np.sum(x * x)
    if np.any(x > 10.0):
        total = total * 2.0
    if np.all(x > -10.0):
        total = total + np.sum(x)
    return total * np.count_nonzero(x > 0)


@zoo(each_shape(AWAY0, ((6,),)))
def nonzero_gathers(x):
    a = x[np.nonzero(x > 0)]
    b = x[np.flatnonzero(x < 0)]
    c = x[np.where(x > 0.5)[0]]
    return np.sum(a * a) + np.sum(b * b * b) + np.sum(c)


@zoo(each_shape(distinct(), ((6,),)))
def searchsorted_select(x):
    grid = np.array([-1.0, 0.0, 1.0])
    k = np.searchsorted(grid, 0.5)
    return x[k] * np.sum(x)


@zoo(each_shape(REAL, ((4,),)), points=[("(4,)", (np.array([100.0, 100.0002, 99.9995, 100.0]),))],
     unreachable={("np.array_equal(x, x)", False): "x equals itself unless it holds a NaN"})
def closeness_tests(x):
    y = np.where(np.isclose(x, 100.0), 0.0, x)
    if np.allclose(x, 100.0):
        y = y * 0.0
    if np.array_equal(x, x):
        y = y * 3.0
    return np.sum(y * y)


# =============================================================================================
# Linear algebra.


def _pairs(*shape_pairs, gen=REAL):
    def case(sa, sb):
        return lambda rng: (gen(rng, sa), gen(rng, sb))
    return tuple((_label(sa, sb), case(sa, sb)) for sa, sb in shape_pairs)


@zoo(_pairs(((3, 4), (4, 2)), ((4,), (4, 2)), ((3, 4), (4,)), ((4,), (4,)),
            ((2, 3, 4), (4, 2)), ((2, 3, 4), (1, 4, 2))), wrt=(0, 1))
def matmul_(a, b):
    y = np.matmul(a, b)
    return np.sum(y * y)


@zoo(_pairs(((3, 4), (4, 2)), ((4,), (4, 2)), ((3, 4), (4,)), ((4,), (4,))), wrt=(0, 1))
def matmul_operator(a, b):
    y = a @ b
    return np.sum(y * y)


@zoo(_pairs(((3, 4), (4, 2)), ((4,), (4, 2)), ((3, 4), (4,)), ((4,), (4,)), ((), (3,)),
            ((2, 3, 4), (4, 2))), wrt=(0, 1))
def dot_(a, b):
    y = np.dot(a, b)
    return np.sum(y * y)


@zoo(_pairs(((3, 4), (4, 2)), ((3, 4), (4,))), wrt=(0, 1))
def dot_method(a, b):
    y = a.dot(b)
    return np.sum(y * y)


@zoo(_pairs(((4,), (4,)), ((3, 4), (2, 4)), ((2, 3, 4), (4,))), wrt=(0, 1))
def inner_(a, b):
    y = np.inner(a, b)
    return np.sum(y * y)


@zoo(_pairs(((3,), (4,)), ((2, 2), (3,))), wrt=(0, 1))
def outer_(a, b):
    y = np.outer(a, b)
    return np.sum(y * y)


@zoo(_pairs(((4,), (4,)), ((2, 3), (3, 2))), wrt=(0, 1))
def vdot_(a, b):
    return np.vdot(a, b) ** 2


@zoo(_pairs(((2, 3, 4), (3, 4, 2)), ((3, 4), (3, 4))), wrt=(0, 1))
def tensordot_default(a, b):
    y = np.tensordot(a, b)
    return np.sum(y * y)


@zoo(_pairs(((2, 3, 4), (4, 2, 5))), wrt=(0, 1))
def tensordot_pairs(a, b):
    y = np.tensordot(a, b, axes=([2, 0], [0, 1]))
    return np.sum(y * y)


@zoo(_pairs(((3, 4), (4, 2))), wrt=(0, 1))
def einsum_matmul(a, b):
    y = np.einsum("ij,jk->ik", a, b)
    return np.sum(y * y)


@zoo(each_shape(REAL, ((3, 3),)))
def einsum_trace_and_diagonal(a):
    d = np.einsum("ii->i", a)
    return np.einsum("ii->", a) ** 2 + np.sum(d * d)


@zoo(_pairs(((2, 3, 4), (2, 4, 5))), wrt=(0, 1))
def einsum_batched(a, b):
    y = np.einsum("bij,bjk->bik", a, b)
    return np.sum(y * y)


@zoo(arrays((REAL, (2, 3)), (REAL, (3, 4)), (REAL, (4,))), wrt=(0, 1, 2))
def einsum_three_operands(a, b, c):
    y = np.einsum("ij,jk,k->i", a, b, c)
    return np.sum(y * y)


@zoo(_pairs(((3, 4), (3, 4))), wrt=(0, 1))
def einsum_implicit_rowdot(a, b):
    y = np.einsum("ij,ij", a, b)
    return y * y


@zoo(each_shape(REAL, ((3, 3), (3, 4))))
def trace_(a):
    return np.trace(a) ** 2 + np.trace(a, 1)


@zoo(each_shape(REAL, ((3, 4),)))
def trace_method(a):
    return a.trace() ** 3


@zoo(each_shape(REAL, ((3, 4), (3, 4, 2))))
def diagonal_(a):
    y = np.diagonal(a, 1)
    return np.sum(y * y)


@zoo(each_shape(REAL, ((4,), (3, 4))))
def diag_(a):
    y = np.diag(a)
    return np.sum(y * y * y)


@zoo(each_shape(REAL, ((3, 4),)))
def tril_triu(a):
    return np.sum(np.tril(a) ** 2) + np.sum(np.triu(a, 1) ** 3)


def _solve_cases():
    return (("(3, 3) & (3,)", lambda rng: (well_conditioned(rng, (3, 3)), REAL(rng, (3,)))),
            ("(3, 3) & (3, 2)", lambda rng: (well_conditioned(rng, (3, 3)), REAL(rng, (3, 2)))),
            ("(2, 3, 3) & (3,)", lambda rng: (well_conditioned(rng, (2, 3, 3)),
                                              REAL(rng, (3,)))))


@zoo(_solve_cases(), wrt=(0, 1))
def solve_(a, b):
    x = np.linalg.solve(a, b)
    return np.sum(x * x)


@zoo((("(3, 3)", lambda rng: (well_conditioned(rng, (3, 3)),)),
      ("(2, 3, 3)", lambda rng: (well_conditioned(rng, (2, 3, 3)),))))
def inv_(a):
    y = np.linalg.inv(a)
    return np.sum(y * y)


@zoo((("(3, 3)", lambda rng: (well_conditioned(rng, (3, 3)),)),
      ("(2, 3, 3)", lambda rng: (well_conditioned(rng, (2, 3, 3)),))))
def det_(a):
    y = np.linalg.det(a)
    return np.sum(y * y)


@zoo((("(3, 3)", lambda rng: (well_conditioned(rng, (3, 3)),)),))
def slogdet_(a):
    sign, logdet = np.linalg.slogdet(a)
    return logdet * 2.0


@zoo((("(3, 3)", lambda rng: (spd(rng),)),))
def cholesky_(a):
    L = np.linalg.cholesky(a)
    return np.sum(L * L * L)


@zoo((("(3, 3)", lambda rng: (spd(rng),)),))
def cholesky_symmetrized(a):
    L = np.linalg.cholesky(0.5 * (a + a.T))
    return np.sum(np.log(np.diag(L)))


# =============================================================================================
# Shape functions; a result y is scalarized so that each element's cotangent is distinct.


@zoo(each_shape(REAL, ((6,), (2, 3))))
def reshape_minus_one(x):
    y = np.reshape(x, (3, -1))
    return np.sum(y * y * y)


@zoo(each_shape(REAL, ((6,), (2, 3))))
def reshape_method_varargs(x):
    y = x.reshape(3, 2)
    return np.sum(y[0] * y[2])


@zoo(each_shape(REAL, ((6,), (2, 3))))
def reshape_method_tuple(x):
    y = x.reshape((2, 3))
    return np.sum(y[:, 0] * y[:, 2]) + np.sum(y)


@zoo(each_shape(REAL, ((2, 3),)))
def reshape_fortran_order(x):
    y = np.reshape(x, (3, 2), order="F")
    return np.sum(y[0] * y[1] * y[2])


@zoo(each_shape(REAL, ((2, 3), (2, 3, 2))))
def ravel_(x):
    y = np.ravel(x)
    return np.sum(y[1:] * y[:-1])


@zoo(each_shape(REAL, ((2, 3),)))
def ravel_method(x):
    y = x.ravel()
    return np.sum(y[1:] * y[:-1])


@zoo(each_shape(REAL, ((2, 3),)))
def flatten_method(x):
    y = x.flatten()
    return np.sum(y[1:] * y[:-1])


@zoo(each_shape(REAL, ((2, 3), (2, 3, 4))))
def transpose_(x):
    y = np.transpose(x)
    return np.sum(y[0] * y[-1])


@zoo(each_shape(REAL, ((2, 3, 4),)))
def transpose_axes(x):
    y = np.transpose(x, (1, 2, 0))
    return np.sum(y[0] * y[-1])


@zoo(each_shape(REAL, ((2, 3, 4),)))
def transpose_method_varargs(x):
    y = x.transpose(2, 0, 1)
    return np.sum(y[0] * y[-1])


@zoo(each_shape(REAL, ((2, 3),)))
def T_attribute(x):
    y = x.T
    return np.sum(y[0] * y[-1])


@zoo(each_shape(REAL, ((2, 3), (4, 2, 3))))
def mT_attribute(x):
    y = x.mT
    return np.sum(y[..., 0, :] * y[..., -1, :])


@zoo(each_shape(REAL, ((2, 3, 4),)))
def swapaxes_(x):
    y = np.swapaxes(x, 0, 2)
    return np.sum(y[0] * y[-1])


@zoo(each_shape(REAL, ((2, 3, 4),)))
def swapaxes_method(x):
    y = x.swapaxes(1, 2)
    return np.sum(y[0] * y[-1])


@zoo(each_shape(REAL, ((2, 3, 4),)))
def moveaxis_(x):
    y = np.moveaxis(x, 0, -1)
    return np.sum(y[0] * y[-1])


@zoo(each_shape(REAL, ((3,), (2, 3))))
def expand_dims_(x):
    return np.sum(np.expand_dims(x, 0) ** 3) + np.sum(np.expand_dims(x, -1) ** 2)


@zoo(each_shape(REAL, ((1, 3), (2, 1, 3))))
def squeeze_(x):
    y = np.squeeze(x)
    return np.sum(y[..., 0] * y[..., -1])


@zoo(each_shape(REAL, ((1, 3),)))
def squeeze_method_axis(x):
    y = x.squeeze(axis=0)
    return np.sum(y[0] * y[-1])


@zoo(each_shape(REAL, ((3,), (2, 3))))
def newaxis_indexing(x):
    y = x[None, :] if x.ndim == 1 else x[:, np.newaxis, :]
    z = y * x[..., None]
    return np.sum(z * z)


@zoo(each_shape(REAL, ((3,), (1, 3))))
def broadcast_to_(x):
    y = np.broadcast_to(x, (2, 3))
    return np.sum(y * y * np.arange(6.0).reshape(2, 3))


@zoo(arrays((REAL, (2, 3)), (REAL, (4, 3))), wrt=(0, 1))
def concatenate_axis0(a, b):
    y = np.concatenate((a, b))
    return np.sum(y[1:] * y[:-1])


@zoo(arrays((REAL, (2, 3)), (REAL, (2, 2))), wrt=(0, 1))
def concatenate_axis1(a, b):
    y = np.concatenate([a, b, a], axis=1)
    return np.sum(y[:, 1:] * y[:, :-1])


@zoo(arrays((REAL, (2, 3)), (REAL, (4,))), wrt=(0, 1))
def concatenate_flat(a, b):
    y = np.concatenate((a, b), axis=None)
    return np.sum(y[1:] * y[:-1])


@zoo(arrays((REAL, (3,)), (REAL, (2,))), wrt=(0, 1))
def r_(a, b):
    y = np.r_[a, 0:2, b, 1.5, a[0]]
    return np.sum(y[1:] * y[:-1])


@zoo(arrays((REAL, (2, 3)), (REAL, (4, 3))), wrt=(0, 1))
def r_matrices(a, b):
    y = np.r_[a, b]
    return np.sum(y[1:] * y[:-1])


@zoo(arrays((REAL, (3,)), (REAL, (3, 2))), wrt=(0, 1))
def c_(a, b):
    y = np.c_[a, b, 0:3]
    return np.sum(y[:, 1:] * y[:, :-1])


@zoo(arrays((REAL, (2, 3)), (REAL, (2, 3))), wrt=(0, 1))
def stack_(a, b):
    y = np.stack((a, b))
    return np.sum(y[0] * y[1] * y[0])


@zoo(arrays((REAL, (3,)), (REAL, (3,))), wrt=(0, 1))
def stack_axis1(a, b):
    y = np.stack([a, b, a * b], axis=1)
    return np.sum(y[:, 0] * y[:, 2] + y[:, 1])


@zoo(arrays((REAL, (2, 3)), (REAL, (2, 2))), wrt=(0, 1))
def hstack_(a, b):
    y = np.hstack((a, b))
    return np.sum(y[:, 1:] * y[:, :-1])


@zoo(arrays((REAL, (3,)), (REAL, (2,))), wrt=(0, 1))
def hstack_1d(a, b):
    y = np.hstack((a, b))
    return np.sum(y[1:] * y[:-1])


@zoo(arrays((REAL, (2, 3)), (REAL, (3,))), wrt=(0, 1))
def vstack_(a, b):
    y = np.vstack((a, b))
    return np.sum(y[1:] * y[:-1])


@zoo(each_shape(REAL, ((6,), (6, 2))))
def split_sections(x):
    a, b, c = np.split(x, 3)
    return np.sum(a * b * c)


@zoo(each_shape(REAL, ((2, 5),)))
def split_indices_axis1(x):
    parts = np.split(x, [1, 3], axis=1)
    return np.sum(parts[0] * parts[0]) + np.sum(parts[1] * parts[2])


@zoo(each_shape(REAL, ((5,),)))
def array_split_(x):
    a, b = np.array_split(x, 2)
    return np.sum(a * a) * np.sum(b)


@zoo(each_shape(REAL, ((3,), (2, 3))))
def tile_(x):
    y = np.tile(x, (2, 2))
    return np.sum(y * y * np.arange(y.size).reshape(y.shape))


@zoo(each_shape(REAL, ((3,), (2, 3))))
def repeat_flat(x):
    y = np.repeat(x, 2)
    return np.sum(y * np.arange(y.size) * y)


@zoo(each_shape(REAL, ((2, 3),)))
def repeat_axis_counts(x):
    y = np.repeat(x, [1, 3, 2], axis=1)
    return np.sum(y * y * np.arange(6.0))


@zoo(each_shape(REAL, ((2, 3),)))
def repeat_method(x):
    y = x.repeat(2, axis=0)
    return np.sum(y * y * np.arange(4.0).reshape(4, 1))


@zoo(each_shape(REAL, ((5,), (2, 3))))
def flip_(x):
    y = np.flip(x)
    return np.sum(y * np.arange(y.size).reshape(y.shape))


@zoo(each_shape(REAL, ((2, 3),)))
def flip_axis(x):
    y = np.flip(x, axis=1)
    return np.sum(y * y * np.arange(3.0))


@zoo(each_shape(REAL, ((2, 3),)))
def fliplr_flipud(x):
    return np.sum(np.fliplr(x) * np.flipud(x) * np.arange(3.0))


@zoo(each_shape(REAL, ((5,), (2, 3))))
def roll_(x):
    y = np.roll(x, 2)
    return np.sum(y * np.arange(y.size).reshape(y.shape))


@zoo(each_shape(REAL, ((2, 3),)))
def roll_axes(x):
    y = np.roll(x, (1, -1), axis=(0, 1))
    return np.sum(y * y * np.arange(6.0).reshape(2, 3))


@zoo(each_shape(REAL, ((3,), (2, 3))))
def pad_constant(x):
    y = np.pad(x, 1)
    return np.sum(y * y * np.arange(y.size).reshape(y.shape))


@zoo((("(2, 3)", lambda rng: (REAL(rng, (2, 3)), 0.7)),), wrt=(0, 1))
def pad_constant_value(x, c):
    y = np.pad(x, ((0, 1), (2, 0)), constant_values=c)
    return np.sum(y * y * np.arange(y.size).reshape(y.shape))


@zoo(each_shape(REAL, ((), (3,))))
def atleast_2d_(x):
    y = np.atleast_2d(x)
    return np.sum(y * y * y)


@zoo(each_shape(REAL, ((),)))
def atleast_1d_(x):
    y = np.atleast_1d(x) * np.atleast_3d(x)
    return np.sum(y * y)


# =============================================================================================
# Indexing reads and writes (the compiler's subscript rules, on arrays).


@zoo(each_shape(REAL, ((8,),)))
def slice_steps_negative(x):
    return np.sum(x[::2] * x[1::2]) + np.sum(x[-3:] ** 2) + np.sum(x[::-1] * x)


@zoo(each_shape(REAL, ((3, 4), (2, 3, 4))))
def slice_ellipsis(x):
    return np.sum(x[..., 1:] * x[..., :-1]) + np.sum(x[..., 0] ** 3)


@zoo(each_shape(REAL, ((5,),)))
def int_array_read_repeated(x):
    idx = np.array([0, 2, 2, 4])
    return np.sum(x[idx] ** 2)


@zoo(each_shape(REAL, ((3, 4),)))
def int_array_read_2d(x):
    rows = np.array([0, 2, 2])
    cols = np.array([1, 3, 1])
    return np.sum(x[rows, cols] ** 3)


@zoo(each_shape(AWAY0, ((6,), (2, 3))))
def bool_mask_read(x):
    return np.sum(x[x > 0] ** 2)


@zoo(each_shape(AWAY0, ((6,), (2, 3))))
def mask_write(x):
    out = x * 1.0
    out[x < 0] = 0.0
    return np.sum(out * out * x)


@zoo(each_shape(REAL, ((3, 4),)))
def column_write(x):
    out = np.zeros((3, 4))
    out[:, 1] = x[:, 0] * 2.0
    out[:, 2] = x[:, 3] ** 2
    return np.sum(out * out) + np.sum(x[:, 1])


@zoo(each_shape(REAL, ((5,),)))
def scatter_add_repeated(x):
    out = np.zeros(3)
    idx = np.array([0, 1, 1, 2, 1])
    out[idx] += x
    return np.sum(out * out)


@zoo(each_shape(REAL, ((3, 3),)))
def row_overwrite(x):
    y = x * 1.0
    y[1] = y[0] * y[2]
    return np.sum(y * y)


@zoo(each_shape(REAL, ((4,),)))
def elementwise_loop_write(x):
    out = np.empty(4)
    for i in range(4):
        out[i] = x[i] * x[(i + 1) % 4]
    return np.sum(out)


# =============================================================================================
# Creation inside the function.


@zoo(each_shape(REAL, ((3,),)))
def zeros_ones_empty(x):
    a = np.zeros(3) + x
    b = np.ones((2, 3)) * x
    c = np.empty(3)
    c[:] = x * x
    return np.sum(a * b) + np.sum(c)


@zoo(each_shape(REAL, ((3,), (2, 3))))
def like_constructors(x):
    a = np.zeros_like(x) + 2.0
    b = np.ones_like(x)
    c = np.empty_like(x)
    c[...] = 3.0
    return np.sum(x * a * b * c * x)


@zoo((("", lambda rng: (0.7, REAL(rng, (3,)))),), wrt=(0, 1))
def full_(v, x):
    return np.sum(np.full(3, v) * x * x)


@zoo((("", lambda rng: (0.7, REAL(rng, (2, 3)))),), wrt=(0, 1))
def full_like_(v, x):
    return np.sum(np.full_like(x, v) * x)


@zoo((("", lambda rng: (0.3, 0.25)),), wrt=(0, 1))
def arange_(start, step):
    y = np.arange(start, 3.0, step)
    return np.sum(y * y)


@zoo((("", lambda rng: (float(rng.uniform(-1, 0)), float(rng.uniform(1, 2)))),), wrt=(0, 1))
def linspace_(a, b):
    y = np.linspace(a, b, 7)
    return np.sum(y * y * y)


@zoo(each_shape(REAL, ((3, 3),)))
def eye_identity(x):
    return np.sum(x * np.eye(3)) + np.sum((x @ np.identity(3)) ** 2)


@zoo((("", lambda rng: (REAL(rng, ()), REAL(rng, ()))),), wrt=(0, 1))
def array_of_scalars(x, y):
    v = np.array([x, y, x * y])
    return np.sum(v * v * np.array([1.0, 2.0, 3.0]))


@zoo((("", lambda rng: (REAL(rng, ()), REAL(rng, ()))),), wrt=(0, 1))
def array_nested(x, y):
    m = np.array([[x, y], [y * y, 1.0]])
    return np.sum(m @ m)


@zoo((("", lambda rng: (REAL(rng, ()), REAL(rng, ()))),), wrt=(0, 1))
def stack_scalars(x, y):
    v = np.stack([x, y, x - y])
    return np.sum(v * v * v)


@zoo(each_shape(REAL, ((3,),)))
def asarray_copy(x):
    y = np.asarray(x) * 2.0
    z = np.copy(y)
    return np.sum(z * y)


@zoo(each_shape(REAL, ((3,),)))
def ascontiguousarray_(x):
    y = np.ascontiguousarray(x[::-1])
    return np.sum(y * x * x)


@zoo(each_shape(REAL, ((3,),)))
def astype_and_copy_methods(x):
    y = x.astype(float)
    z = y.copy()
    return np.sum(y * z * x)


@zoo(each_shape(off_integer(), ((3,),)))
def astype_to_int(x):
    k = x.astype(np.int64)
    return np.sum(x * k)


@zoo(each_shape(REAL, ((1,),)))
def item_method(x):
    return x.item() ** 3


@zoo(each_shape(REAL, ((3,),)))
def astype_function(x):
    y = np.astype(x, np.float64)
    return np.sum(y * y)


# =============================================================================================
# dtype= arguments. A float64 dtype changes nothing; an int dtype truncates (each element, or the
# reduction's accumulator), so the truncated quantity has a zero derivative and only the other
# factors carry one. Points are away from integers (off_integer), where truncation jumps.

_INT_CASES = each_shape(off_integer(1, 3), ((2, 3),))


@zoo(each_shape(REAL, ((2, 3),)))
def sum_asarray_dtype_float64(x):
    y = np.asarray(x, dtype=np.float64)
    return np.sum(x * x, dtype=np.float64) + x.sum(dtype=np.float64) * np.sum(y)


@zoo(each_shape(REAL, ((5,), (2, 3))))
def dtype_python_float(x):
    return np.sum(x, dtype=float) * np.sum(np.array(x, dtype=float) * np.asarray(x, dtype=float))


@zoo(each_shape(REAL, ((5,), (2, 3))))
def mean_var_dtype_float(x):
    return np.mean(x * x, dtype=np.float64) + np.var(x, dtype=np.float64) + np.std(x, dtype=float)


@zoo(_INT_CASES)
def sum_dtype_int(x):
    return np.sum(x, dtype=np.int64) * np.sum(x * x)


@zoo(_INT_CASES)
def sum_method_dtype_int(x):
    return x.sum(dtype=np.int64) * np.sum(x * x)


@zoo(_INT_CASES)
def mean_dtype_int(x):
    return np.mean(x, dtype=np.int64) * np.sum(x * x)


@zoo(each_shape(off_integer(1, 3), ((4,),)))
def prod_dtype_int(x):
    return np.prod(x, dtype=np.int64) * np.sum(x)


@zoo(each_shape(off_integer(1, 3), ((5,),)))
def cumsum_dtype_int(x):
    return np.sum(np.cumsum(x, dtype=np.int64) * x)


@zoo(each_shape(off_integer(1, 3), ((4,),)))
def cumprod_dtype_int(x):
    return np.sum(np.cumprod(x, dtype=np.int64) * x)


@zoo(each_shape(off_integer(-3, 3), ((3, 3),)))
def trace_dtype_int(x):
    return np.trace(x, dtype=np.int64) * np.sum(x * x)


@zoo(_INT_CASES)
def array_dtype_int(x):
    return np.sum(np.array(x, dtype=np.int64) * x)


@zoo(_INT_CASES)
def asarray_dtype_int32(x):
    return np.sum(np.asarray(x, dtype=np.int32) * x)


@zoo(each_shape(off_integer(-3, 3), ((), "0d")))
def full_dtype_int(s):
    return np.sum(np.full(3, s, dtype=np.int64) * s)


@zoo(lambda rng: (off_integer()(rng, (4,)), off_integer()(rng, ())), wrt=(0, 1))
def full_like_dtype_int(x, s):
    return np.sum(np.full_like(x, s, dtype=np.int64) * x) + s * s


def _linspace_int_args(rng):
    a = off_integer()(rng, ())
    return a, a + 3.0 * int(rng.integers(1, 4))  # every point of the grid has a's fraction


@zoo(_linspace_int_args)
def linspace_dtype_int(a, b):
    return np.sum(np.linspace(a, b, 4, dtype=np.int64) * a)


# =============================================================================================
# What other projects' NumPy tests use (autograd's): products, decompositions, shape functions.


@zoo(_pairs(((2, 3), (3, 2)), ((3,), (2, 2))), wrt=(0, 1))
def kron_(a, b):
    y = np.kron(a, b)
    return np.sum(y * y * y)


@zoo(arrays((REAL, (2, 3, 4)), (REAL, (4, 2))), wrt=(0, 1))
def einsum_ellipsis(a, b):
    y = np.einsum("...ij,...jk->...ik", a, b)
    return np.sum(y * y)


@zoo(_pairs(((1, 3), (2, 3))), wrt=(0, 1))
def einsum_ellipsis_implicit(a, b):
    y = np.einsum("...i,...i", a, b)
    return np.sum(y * y * y)


@zoo(each_shape(REAL, ((6,),)))
def gradient_1d(f):
    y = np.gradient(f)
    return np.sum(y * y * y)


@zoo(each_shape(REAL, ((4, 5),)))
def gradient_2d_edge2(f):
    gx, gy = np.gradient(f, 0.5, edge_order=2)
    return np.sum(gx * gy * gx)


@zoo(_pairs(((4, 3), (3,)), ((2, 3), (2, 3))), wrt=(0, 1))
def cross_(a, b):
    y = np.cross(a, b)
    return np.sum(y * y * y)


@zoo(_pairs(((4, 2), (4, 2)), ((4, 2), (4, 3))), wrt=(0, 1))
def cross_planar(a, b):
    y = np.cross(a, b)
    return np.sum(y * y * y)


@zoo(arrays((REAL, (6,)), (REAL, (6,))), wrt=(0, 1))
def select_(x, y):
    z = np.select([x > 0.0, x < -0.5], [x * y, y], default=x)
    return np.sum(z * z * z)


@zoo(arrays((REAL, (2, 2)), (REAL, (3,))), wrt=(0, 1))
def append_(a, b):
    y = np.append(a, b)
    return np.sum(y[1:] * y[:-1])


@zoo(arrays((REAL, (2, 3)), (REAL, (1, 3))), wrt=(0, 1))
def append_axis0(a, b):
    y = np.append(a, b, axis=0)
    return np.sum(y[1:] * y[:-1] * y[1:])


@zoo(each_shape(REAL, ((3, 4),)))
def svd_values(a):
    s = np.linalg.svd(a, compute_uv=False)
    return np.sum(s * s * s)


@zoo(each_shape(REAL, ((4, 3), (3, 4))))
def svd_reduced(a):
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    return np.sum(u[:, 0] ** 3) * s[0] + np.sum(vh * vh * vh)


@zoo(each_shape(REAL, ((3, 3),)))
def svd_square(a):
    u, s, vh = np.linalg.svd(a)
    return np.sum(u ** 3) + np.sum(s ** 3) + np.sum(vh[0] ** 3)


@zoo(each_shape(REAL, ((3, 3),)))
def eigh_(a):
    w, v = np.linalg.eigh(a)
    return np.sum(w ** 3) + np.sum(v[:, 0] ** 3) * w[0]


@zoo(each_shape(REAL, ((3, 3),)))
def eigh_upper(a):
    w, v = np.linalg.eigh(a, UPLO="U")
    return np.sum(w ** 3) + np.sum(v ** 4)


@zoo(each_shape(REAL, ((3, 4), (4, 3))))
def pinv_(a):
    y = np.linalg.pinv(a)
    return np.sum(y * y * y)


@zoo(each_shape(REAL, ((3, 4),)))
def norm_nuclear(a):
    return np.linalg.norm(a, "nuc") ** 2


@zoo(each_shape(REAL, ((4, 3),)))
def vsplit_(x):
    a, b = np.vsplit(x, 2)
    return np.sum(a * b * a)


@zoo(each_shape(REAL, ((3, 4), (5,))))
def hsplit_(x):
    a, b = np.hsplit(x, [1])
    return np.sum(a * a) * np.sum(b)


@zoo(each_shape(REAL, ((2, 2, 4),)))
def dsplit_(x):
    a, b = np.dsplit(x, 2)
    return np.sum(a * b * a)


@zoo(arrays((REAL, (3,)), (REAL, (3, 2))), wrt=(0, 1))
def column_stack_(a, b):
    y = np.column_stack((a, b))
    return np.sum(y[:, 1:] * y[:, :-1] * y[:, 1:])


@zoo(arrays((REAL, (2, 3)), (REAL, (1, 3))), wrt=(0, 1))
def row_stack_(a, b):
    y = np.row_stack((a, b))
    return np.sum(y[1:] * y[:-1] * y[1:])


@zoo(each_shape(distinct(), ((6,), (2, 5))))
def partition_(x):
    y = np.partition(x, 2)  # the order within each part is NumPy's (or Numba's) own choice
    return np.sum(y[..., :2] ** 3) + np.sum(y[..., 2] ** 2) * 3.0 + np.sum(y[..., 3:] ** 4)


@zoo(each_shape(REAL, ((3, 4),)))
def rot90_(m):
    y = np.rot90(m, 3)
    return np.sum(y * y * np.arange(y.shape[1]))


@zoo(each_shape(REAL, ((5,),)),
     points=[("(5,)", (np.array([0.3, np.inf, -np.inf, np.nan, -1.2]),))])
def nan_to_num_(x):
    y = np.nan_to_num(x * 2.0, posinf=5.0, neginf=-5.0)
    return np.sum(y * y * y)


@zoo(unary(REAL), points=[("(5,)", (np.array([0.0, 0.5, -1.0, 1.7, -0.2]), np.ones(5)))])
def sinc_(x, w):
    return np.sum(np.sinc(x) * w)


# =============================================================================================
# Gathers, polynomials and ufunc reductions.


@zoo(each_shape(REAL, ((5,), (3, 4))))
def take_flat(x):
    y = np.take(x, np.array([0, 2, 2, -1]))
    return np.sum(y * y)


@zoo(each_shape(REAL, ((3, 4), (2, 3, 4))))
def take_axis_and_modes(x):
    y = np.take(x, np.array([[0, 2], [2, -1]]), axis=1)
    return np.sum(y * y * y) + np.sum(x.take([1, 7], mode="wrap") ** 2) + np.sum(
        np.take(x, [-3, 9], axis=-1, mode="clip") ** 2)


def _polynomial_at(shape):
    return lambda rng: (REAL(rng, (3,)), REAL(rng, shape))


@zoo(tuple((_label((3,), s), _polynomial_at(s)) for s in ((), (4,), (2, 3))), wrt=(0, 1))
def polyval_(p, x):
    y = np.polyval(p, x)
    return np.sum(y * y)


@zoo(each_shape(REAL, ((5,), (3, 4))))
def add_reduce(x):
    y = np.add.reduce(x)
    return np.sum(y * y) + np.sum(np.add.reduce(x, axis=None) * x)


@zoo(each_shape(AWAY0, ((5,), (3, 4))))
def multiply_reduce(x):
    y = np.multiply.reduce(x, -1, keepdims=True)
    return np.sum(y * y)


@zoo(each_shape(distinct(), ((5,), (3, 4))))
def extreme_reduce(x):
    return np.sum(np.maximum.reduce(x) ** 2) + np.sum(np.minimum.reduce(x, axis=None) * x)


@zoo(each_shape(REAL, ((5,), (3, 4))))
def logaddexp_reduce(x):
    y = np.logaddexp.reduce(x) + np.logaddexp2.reduce(x * 0.5, axis=None)
    return np.sum(y * y)


# =============================================================================================
# Compositions users write (the functions of examples/numpy_models.py, tested as written).

_ACTIVATION_SHAPES = ((5,), (2, 3))


def _activation_cases(gen=REAL):
    return each_shape(gen, _ACTIVATION_SHAPES)


zoo(_activation_cases(AWAY0), name="relu")(models.relu)
zoo(_activation_cases(AWAY0), name="leaky_relu")(models.leaky_relu)
zoo(_activation_cases(), name="sigmoid")(models.sigmoid)
zoo(_activation_cases(), name="softplus")(models.softplus)
zoo(_activation_cases(), name="gelu")(models.gelu)
zoo(_activation_cases(distinct()), name="softmax")(models.softmax)
zoo(_activation_cases(distinct()), name="log_softmax")(models.log_softmax)
zoo(each_shape(distinct(), ((6,),)), name="logsumexp")(models.logsumexp)


def _sample(name):
    args, wrt = models.SAMPLES[name]
    return (("sample", lambda rng: tuple(a.copy() if isinstance(a, np.ndarray) else a
                                         for a in args)),), wrt


for _name in ("mse", "binary_cross_entropy", "categorical_cross_entropy", "logistic_regression",
              "hinge_loss", "mlp_loss", "softmax_cross_entropy", "rnn_loss", "batch_norm_loss"):
    _cases, _wrt = _sample(_name)
    zoo(_cases, wrt=_wrt, name=_name)(getattr(models, _name))

