"""The runtime helpers, in Python mode and inside ``numba.njit``.

The helpers the compiler core emits are called through both a "python" and a "jit" entry of
:data:`MODES` and checked against NumPy references; the jit entry is a module-level
``numba.njit`` kernel that calls the *same* ``adjoint.runtime`` object, which only works because
importing :mod:`adjoint.runtime_numba` registered its overload. Kernels are shared by all tests,
so each argument-type signature compiles once per process: Numba compile time dominates here.

The NumPy rules' helpers (checked against NumPy by the NumPy rule tests) are checked here for
agreement between the two modes, and every name in ``adjoint.runtime.__all__`` must have both a
Numba overload and a case in this file.
"""
from __future__ import annotations

import itertools

import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numba.core.registry import cpu_target

import adjoint.runtime_numba  # noqa: F401  (registers the Numba overloads)
from adjoint import runtime as rt

# --- kernels ------------------------------------------------------------------------------


@numba.njit
def _value_helpers(x):
    # zeros_like, fresh and as_float take the same argument types: one kernel compiles for all
    # three (Numba compile time dominates this file).
    return rt.zeros_like(x), rt.fresh(x), rt.as_float(x)


@numba.njit
def _unbroadcast(g, like):
    return rt.unbroadcast(g, like)


@numba.njit
def _add_at(a, index, value):
    return rt.add_at(a, index, value)


@numba.njit
def _range_len(start, stop, step):
    return rt.range_len(start, stop, step)


@numba.njit
def _tape_alloc(n, like):
    return rt.tape_alloc(n, like)


@numba.njit
def _tape_store(tape, k, value):
    return rt.tape_store(tape, k, value)


@numba.njit
def _tape_load(tape, k):
    return rt.tape_load(tape, k)


@numba.njit
def _check_scalar(out):
    return rt.check_scalar(out)


JIT = {
    "zeros_like": lambda x: _value_helpers(x)[0],
    "fresh": lambda x: _value_helpers(x)[1],
    "as_float": lambda x: _value_helpers(x)[2],
    "unbroadcast": _unbroadcast,
    "add_at": _add_at,
    "range_len": _range_len,
    "tape_alloc": _tape_alloc,
    "tape_store": _tape_store,
    "tape_load": _tape_load,
    "check_scalar": _check_scalar,
}
MODES = {
    "python": {name: getattr(rt, name) for name in rt.__all__},
    "jit": JIT,
}


@pytest.fixture(params=sorted(MODES))
def helpers(request):
    """The helpers of one mode, by name."""
    return MODES[request.param]


def test_every_helper_has_a_numba_overload():
    # A plain function Numba knows nothing about cannot be typed; one with an overload resolves
    # to a Function type. This covers the helpers whose kernels live in other test files.
    typing_context = cpu_target.typing_context
    typing_context.refresh()
    missing = []
    for name in rt.__all__:
        try:
            typing_context.resolve_value_type(getattr(rt, name))
        except ValueError:  # what Numba raises for an untyped global
            missing.append(name)
    assert not missing, f"no Numba implementation for: {', '.join(missing)}"
    assert set(JIT) <= set(rt.__all__)


# --- zeros_like, fresh, as_float -----------------------------------------------------------

SCALARS = [2.5, 3, True, np.float64(-1.5), np.int64(7)]
ARRAYS = [np.array(2.5), np.arange(3), np.arange(6.0).reshape(2, 3)]


@pytest.mark.parametrize("x", SCALARS, ids=repr)
def test_zeros_like_scalar(helpers, x):
    z = helpers["zeros_like"](x)
    assert type(z) is float and z == 0.0


@pytest.mark.parametrize("x", ARRAYS, ids=lambda a: f"shape{a.shape}")
def test_zeros_like_array(helpers, x):
    z = helpers["zeros_like"](x)
    assert z.dtype == np.float64 and z.shape == x.shape and not z.any()


@pytest.mark.parametrize("x", SCALARS, ids=repr)
def test_fresh_scalar(helpers, x):
    assert helpers["fresh"](x) == x


@pytest.mark.parametrize("x", ARRAYS, ids=lambda a: f"shape{a.shape}")
def test_fresh_array_is_a_copy(helpers, x):
    y = helpers["fresh"](x)
    assert y is not x and y.dtype == x.dtype
    np.testing.assert_array_equal(y, x)
    y[...] = 42
    assert not (x == 42).any()


@pytest.mark.parametrize("x", SCALARS, ids=repr)
def test_as_float_scalar(helpers, x):
    y = helpers["as_float"](x)
    assert type(y) is float and y == float(x)


@pytest.mark.parametrize("x", ARRAYS + [np.array([True, False])],
                         ids=lambda a: f"{a.dtype}{a.shape}")
def test_as_float_array(helpers, x):
    y = helpers["as_float"](x)
    assert y.dtype == np.float64 and y.shape == x.shape
    np.testing.assert_array_equal(y, x.astype(np.float64))


# --- unbroadcast ---------------------------------------------------------------------------


def reference_unbroadcast(g, like):
    """Sum ``g`` to ``like``'s shape element by element (the adjoint of ``np.broadcast_to``)."""
    if not isinstance(like, np.ndarray):
        return float(np.sum(g))
    g = np.asarray(g, dtype=np.float64)
    if g.ndim < like.ndim:
        return np.broadcast_to(g, like.shape).copy()
    out = np.zeros(like.shape)
    lead = g.ndim - like.ndim
    for index in np.ndindex(*g.shape):
        target = tuple(0 if n == 1 else i for i, n in zip(index[lead:], like.shape))
        out[target] += g[index]
    return out


def check_unbroadcast(unbroadcast, g, like):
    got = unbroadcast(g, like)
    want = reference_unbroadcast(g, like)
    if isinstance(like, np.ndarray):
        assert isinstance(got, np.ndarray)
        assert got.shape == like.shape and got.dtype == np.float64
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    else:
        assert type(got) is float
        assert got == pytest.approx(want, rel=1e-12, abs=1e-12)


def _grid(*shape):
    """A float array whose entries differ, so a wrong summation axis shows."""
    return np.arange(1.0, 1.0 + np.prod(shape, dtype=int)).reshape(shape) ** 1.5


UNBROADCAST_CASES = {
    "scalars": (2.5, 1.0),
    "0-d to scalar": (np.array(4.0), 1.0),
    "1-D to scalar": (_grid(4), 1.0),
    "2-D to scalar": (_grid(2, 3), 1.0),
    "0-d same": (np.array(4.0), np.array(1.0)),
    "1-D same": (_grid(4), np.ones(4)),
    "2-D same": (_grid(3, 4), np.ones((3, 4))),
    "(3,4) to (3,1)": (_grid(3, 4), np.ones((3, 1))),
    "(3,4) to int (1,4)": (_grid(3, 4), np.ones((1, 4), dtype=np.int64)),
    "(3,4) to (1,1)": (_grid(3, 4), np.ones((1, 1))),
    "(3,4) to (4,)": (_grid(3, 4), np.ones(4)),
    "(3,4) to (1,)": (_grid(3, 4), np.ones(1)),
    "(3,4) to 0-d": (_grid(3, 4), np.array(1.0)),
    "(2,3,4) to (3,1)": (_grid(2, 3, 4), np.ones((3, 1))),
    "scalar to (2,3)": (2.5, np.ones((2, 3))),
    "scalar to 0-d": (2.5, np.array(1.0)),
    "(3,) to (2,3)": (_grid(3), np.ones((2, 3))),
    "strided (3,4) to (3,1)": (_grid(3, 8)[:, ::2], np.ones((3, 1))),
    "int (3,4) to (3,1)": (np.arange(12).reshape(3, 4), np.ones((3, 1))),
    "int same": (np.arange(12).reshape(3, 4), np.ones((3, 4))),
    "empty (0,4) to (1,4)": (np.ones((0, 4)), np.ones((1, 4))),
}


@pytest.mark.parametrize("case", sorted(UNBROADCAST_CASES))
def test_unbroadcast(helpers, case):
    g, like = UNBROADCAST_CASES[case]
    check_unbroadcast(helpers["unbroadcast"], g, like)


@pytest.mark.parametrize("case", sorted(name for name, (g, like) in UNBROADCAST_CASES.items()
                                         if isinstance(like, np.ndarray) and like.ndim))
def test_unbroadcast_to_a_shape_is_unbroadcast_to_an_array_of_it(helpers, case):
    """The optimizer passes a matrix product's shape, not the product (kept only for it)."""
    g, like = UNBROADCAST_CASES[case]
    got = helpers["unbroadcast"](g, like.shape)
    assert isinstance(got, np.ndarray) and got.shape == like.shape and got.dtype == np.float64
    np.testing.assert_allclose(got, reference_unbroadcast(g, like), rtol=1e-12, atol=1e-12)


def test_unbroadcast_same_shape_float64_is_free(helpers):
    g = _grid(3, 4)
    assert helpers["unbroadcast"](g, np.ones((3, 4))) is g


@pytest.mark.parametrize("shapes", [((3, 4), (3, 5)), ((2, 6), (3, 4)), ((3, 4), (12,))],
                         ids=str)
def test_unbroadcast_refuses_shapes_that_do_not_broadcast(helpers, shapes):
    g_shape, like_shape = shapes
    with pytest.raises(ValueError, match="cannot unbroadcast"):
        helpers["unbroadcast"](np.ones(g_shape), np.ones(like_shape))


@st.composite
def broadcast_pairs(draw):
    """(g, like): ``like`` a scalar or an array, ``g`` an array ``like`` broadcasts to."""
    if draw(st.booleans()):
        like = None
        g_shape = tuple(draw(st.lists(st.integers(1, 3), max_size=3)))
    else:
        like_shape = tuple(draw(st.lists(st.integers(0, 3), max_size=2)))
        lead = tuple(draw(st.lists(st.integers(1, 3), max_size=1)))
        g_shape = lead + tuple(draw(st.integers(0, 3)) if n == 1 else n for n in like_shape)
        like = np.ones(like_shape)
    g = draw(st.integers(0, 2**32 - 1).map(
        lambda seed: np.random.default_rng(seed).standard_normal(g_shape)))
    return g, (2.0 if like is None else like)


@settings(max_examples=60, deadline=None)
@given(pair=broadcast_pairs(), mode=st.sampled_from(sorted(MODES)))
def test_unbroadcast_agrees_with_elementwise_sum(pair, mode):
    g, like = pair
    check_unbroadcast(MODES[mode]["unbroadcast"], g, like)


# --- add_at --------------------------------------------------------------------------------


def reference_add_at(a, index, value):
    """NumPy's unbuffered ``a[index] += value`` on a copy of ``a``."""
    a = a.copy()
    np.add.at(a, index, value)
    return a


ADD_AT_CASES = {
    "int": (np.zeros(4), 2, 1.5),
    "negative int": (np.zeros(4), -1, 1.5),
    "int row of 2-D": (np.zeros((3, 4)), 1, _grid(4)),
    "slice": (np.zeros(5), slice(1, 4, 1), _grid(3)),
    "strided slice": (np.zeros(6), slice(None, None, 2), _grid(3)),
    "tuple int,slice": (np.zeros((3, 4)), (1, slice(None)), _grid(4)),
    "tuple slice,int": (np.zeros((3, 4)), (slice(None), 2), _grid(3)),
    "tuple ints": (np.zeros((3, 4)), (2, 3), 1.5),
    "mask": (np.zeros(4), np.array([True, False, True, False]), _grid(2)),
    "repeats, scalar": (np.zeros(4), np.array([0, 0, 3, 0]), 1.5),
    "repeats, values": (np.zeros(4), np.array([0, 0, 3, 0]), _grid(4)),
    "repeats, 0-d value": (np.zeros(4), np.array([1, 1]), np.array(2.0)),
    "repeats on rows": (np.zeros((3, 4)), np.array([2, 0, 2]), _grid(3, 4)),
    "repeats, one row": (np.zeros((3, 4)), np.array([2, 0, 2]), _grid(1, 4)),
    "repeats, row broadcast": (np.zeros((3, 4)), np.array([2, 0, 2]), _grid(4)),
    "repeats, negative": (np.zeros(4), np.array([-1, 3]), _grid(2)),
    "tuple slice,repeats": (np.zeros((3, 4)), (slice(None), np.array([0, 0, 3])), _grid(3, 3)),
    "tuple int,repeats": (np.zeros((3, 4)), (1, np.array([0, 0, 3])), _grid(3)),
    "tuple repeats, scalar": (np.zeros((3, 4)), (slice(None), np.array([1, 1])), 0.5),
    "accumulates onto nonzero": (_grid(4), np.array([1, 1]), _grid(2)),
}


@pytest.mark.parametrize("case", sorted(ADD_AT_CASES))
def test_add_at(helpers, case):
    a, index, value = ADD_AT_CASES[case]
    a = a.copy()
    want = reference_add_at(a, index, value)
    got = helpers["add_at"](a, index, value)
    np.testing.assert_allclose(got, want, rtol=1e-14)
    np.testing.assert_allclose(a, want, rtol=1e-14)  # in place


def test_add_at_accumulates_repeated_indices(helpers):
    # Written out by hand, so the check does not rest on np.add.at alone.
    got = helpers["add_at"](np.zeros(3), np.array([2, 0, 2, 2]), np.array([1.0, 2.0, 3.0, 4.0]))
    np.testing.assert_array_equal(got, [2.0, 0.0, 8.0])
    got = helpers["add_at"](np.zeros((2, 3)), (slice(None), np.array([1, 1])), np.ones((2, 2)))
    np.testing.assert_array_equal(got, [[0.0, 2.0, 0.0], [0.0, 2.0, 0.0]])


# --- range_len -----------------------------------------------------------------------------


def test_range_len(helpers):
    range_len = helpers["range_len"]
    for start, stop, step in itertools.product(range(-6, 7), range(-6, 7), range(-4, 5)):
        if step:
            assert range_len(start, stop, step) == len(range(start, stop, step)), (
                start, stop, step)


# --- the tape ------------------------------------------------------------------------------

TAPE_LIKES = {
    "float": (2.5, (), np.float64),
    "int": (3, (), np.int64),
    "bool": (True, (), np.bool_),
    "numpy float": (np.float64(1.5), (), np.float64),
    "1-D": (np.ones(4), (4,), np.float64),
    "2-D int32": (np.ones((2, 3), np.int32), (2, 3), np.int32),
}


@pytest.mark.parametrize("case", sorted(TAPE_LIKES))
def test_tape_alloc(helpers, case):
    like, slot, dtype = TAPE_LIKES[case]
    tape = helpers["tape_alloc"](5, like)
    assert tape.shape == (5,) + slot and tape.dtype == dtype


@pytest.mark.parametrize("values", [
    [1.5, -2.0, 3.25],
    [4, -5, 6],
    [True, False, True],
], ids=["float", "int", "bool"])
def test_tape_round_trip_scalars(helpers, values):
    tape = helpers["tape_alloc"](len(values), values[0])
    for k, v in enumerate(values):
        assert helpers["tape_store"](tape, k, v) is None
    for k in reversed(range(len(values))):
        got = helpers["tape_load"](tape, k)
        assert got == values[k] and type(got) is type(values[k])


@pytest.mark.parametrize("shape", [(3,), (2, 3)], ids=str)
def test_tape_round_trip_arrays(helpers, shape):
    x = _grid(*shape)
    tape = helpers["tape_alloc"](3, x)
    for k in range(3):
        helpers["tape_store"](tape, k, x)
        x *= 2.0  # in-place writes after the store must not reach the tape
    for k in reversed(range(3)):
        got = helpers["tape_load"](tape, k)
        np.testing.assert_array_equal(got, _grid(*shape) * 2.0**k)
        got[...] = -1.0  # nor writes to what was loaded
        np.testing.assert_array_equal(helpers["tape_load"](tape, k), _grid(*shape) * 2.0**k)


def test_tape_stores_a_0d_array_as_its_scalar(helpers):
    tape = helpers["tape_alloc"](2, np.array(1.0))
    helpers["tape_store"](tape, 1, np.array(2.5))
    assert helpers["tape_load"](tape, 1) == 2.5


def test_tape_store_refuses_a_value_of_another_shape(helpers):
    tape = helpers["tape_alloc"](2, np.ones(3))
    with pytest.raises(ValueError, match="cannot record a value"):
        helpers["tape_store"](tape, 0, np.ones(1))


@numba.njit
def _loop_through_tape(x, n):
    # What generated code does: record a loop-carried array, then replay it backwards.
    tape = rt.tape_alloc(n, x)
    for i in range(n):
        rt.tape_store(tape, i, x)
        x = x * 2.0 + i
    total = rt.zeros_like(x)
    for i in range(n - 1, -1, -1):
        total = total + rt.tape_load(tape, i)
    return total


def test_tape_in_a_jitted_loop():
    x = _grid(3)
    want = np.zeros(3)
    for i in range(4):
        want = want + x
        x = x * 2.0 + i
    np.testing.assert_allclose(_loop_through_tape(_grid(3), 4), want)
    np.testing.assert_allclose(_loop_through_tape.py_func(_grid(3), 4), want)


# --- check_scalar --------------------------------------------------------------------------


@pytest.mark.parametrize("out", SCALARS, ids=repr)
def test_check_scalar_number(helpers, out):
    assert helpers["check_scalar"](out) == out


def test_check_scalar_0d_array_is_a_float(helpers):
    got = helpers["check_scalar"](np.array(2.5))
    assert type(got) is float and got == 2.5


@pytest.mark.parametrize("out", [np.ones(3), np.ones((2, 3))], ids=lambda a: str(a.shape))
def test_check_scalar_refuses_an_array(helpers, out):
    message = f"the output is not a scalar (shape {out.shape})"
    with pytest.raises(ValueError) as err:
        helpers["check_scalar"](out)
    assert str(err.value) == message


def test_check_scalar_refuses_a_tuple(helpers):
    with pytest.raises(ValueError, match=r"not a scalar \(got tuple\)"):
        helpers["check_scalar"]((1.0, 2.0))


# --- the NumPy rules' helpers --------------------------------------------------------------
#
# Each case runs the helper in Python and inside an njit kernel and compares the two (the
# Python helpers are tested against NumPy through the NumPy rules' own tests). As in generated
# code, ints, bools, strings, None and tuples of ints reach the kernel as constants (literals
# for Numba), arrays and floats as arguments. One or two cases per form Numba can compile:
# every case is a compile of its own.

_rng = np.random.default_rng(0)


def _r(*shape):
    return _rng.standard_normal(shape)


_A23, _A234, _A3, _A0 = _r(2, 3), _r(2, 3, 4), _r(3), np.array(1.5)
_SQUARE = _r(3, 3) + 3.0 * np.eye(3)
_SQUARE = 0.5 * (_SQUARE + _SQUARE.T)
_DISTINCT = np.array([0.3, -1.2, 2.5, 0.9, -0.4])
_M = _r(3, 3) + 3 * np.eye(3)
_LOWER = np.linalg.cholesky(_M @ _M.T)
_TIES = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.5]])
_WITH_ZEROS = np.array([[1.0, 0.0, 2.0], [0.0, 0.0, 3.0]])

NUMPY_CASES = {
    # write_adjoint is emitted by the reverse transform for subscript writes.
    "write_adjoint": [(_r(4), 2), (_r(4), np.array([0, 2, 0, -4])), (_r(3, 4), (1, slice(1, 3))),
                      (_r(3, 4), np.array([2, 2])),
                      (_r(3, 4), (slice(None), np.array([0, 3, 0]))),
                      (_r(3, 4), (1, np.array([2, 2, 1])))],
    "broadcast_like": [(2.0, _A23), (_r(2, 1), _A23), (_A23, 2.0), (2.0, _A0)],
    # sum_to is unbroadcast that also spreads g's axes of size 1 (checked against it below)
    "sum_to": [(_A23, _A23), (_r(2, 1), _A23), (_A23, _r(2, 1)), (_r(2, 1), _r(1, 3)),
               (_A234, _r(3, 1)), (_r(3), _A23), (_A23, 2.0), (2.0, _A23), (2.0, 3.0)],
    "keep_dims": [(2.0, _A23, None), (_r(3), _A23, 0), (_r(2), _A23, -1), (_r(3), _A234, (0, 2)),
                  (2.0, 3.0, None)],
    "unreduce": [(2.0, _A23, None), (_r(2), _A23, 1), (2.0, 3.0, None), (2.0, _A0, None)],
    "reduce_sum": [(_A23, None, False), (_A23, 1, False), (_A23, 0, True), (_A3, 0, False),
                   (_A234, (0, 2), False), (2.0, None, False)],
    "reduced_count": [(_A23, None), (_A23, -1), (_A234, (0, 2)), (2.0, None)],
    "ddof_count": [(_A23, None, 0), (_A23, 1, 1), (_A23, 0, 2), (2.0, None, 1)],
    "nonzero_reciprocal": [(np.array([2.0, 0.0, -4.0]),), (0.0,), (-4.0,)],
    "centered": [(_A23, None), (_A23, 0), (2.0, None)],
    "extreme_weights": [(_TIES, 3.0, None), (_TIES, np.array([2.0, 3.0, 3.0]), 0)],
    "prod_weights": [(_WITH_ZEROS, None), (_WITH_ZEROS, 1), (2.0, None)],
    "norm_weights": [(_A3, np.linalg.norm(_A3), None, None), (_A3, 1.0, 1, None),
                     (_TIES[0], 3.0, np.inf, None), (_A3, np.linalg.norm(_A3, 3), 3, None),
                     (_A23, np.linalg.norm(_A23), "fro", None), (np.zeros(3), 0.0, None, None)],
    "cumsum_axis": [(_A23, None), (_A23, 1)],
    "cumsum_vjp": [(_r(6), _A23, None), (_r(2, 3), _A23, 0)],
    "cumprod_vjp": [(_r(6), _WITH_ZEROS, None), (_r(2, 3), _WITH_ZEROS, 1)],
    "cumprod_jvp": [(_r(2, 3), _A23, np.cumprod(_A23), None),
                    (_r(2, 3), _A23, np.cumprod(_A23, 0), 0)],
    "diff_axis": [(_A23, 1, -1), (_A234, 2, 0)],
    "diff_vjp": [(_r(2, 2), _A23, 1, -1), (_r(1, 3, 4), _A234, 1, 0),
                 (np.zeros((2, 0)), _r(2, 1), 1, -1), (np.zeros(0), _r(2), 3, 0)],
    "mT": [(_A23,), (_A234,)],
    "matmul_vjp_a": [(_r(2, 4), _A23, _r(3, 4)), (_r(4), _A3, _r(3, 4)), (_r(2), _A23, _A3),
                     (2.0, _A3, _A3)],
    "matmul_vjp_b": [(_r(2, 4), _A23, _r(3, 4)), (_r(4), _A3, _r(3, 4)), (_r(2), _A23, _A3),
                     (2.0, _A3, _A3)],
    "dot_vjp_a": [(_r(2, 4), _A23, _r(3, 4)), (_r(3), 2.0, _A3), (_r(3), _A3, 2.0)],
    "dot_vjp_b": [(_r(2), _A23, _A3), (_r(3), 2.0, _A3), (_r(3), _A3, 2.0)],
    "inner_vjp_a": [(_r(2, 4), _A23, _r(4, 3)), (_r(4), _A3, _r(4, 3)), (2.0, _A3, _A3)],
    "inner_vjp_b": [(_r(2, 4), _A23, _r(4, 3)), (_r(2), _A23, _A3), (2.0, _A3, _A3)],
    "trace_vjp": [(2.0, _M, 0, 0, 1), (2.0, _r(3, 4), -1, 0, 1)],
    "diagonal_vjp": [(_r(2), _r(3, 4), -1, 0, 1), (_r(2), _r(3, 4), 1, 1, 0)],
    "diag_vjp": [(_r(4, 4), _A3, 1), (_r(2), _M, -1)],
    "solve_vjp_b": [(_A3, _M, _A3), (_r(3, 2), _M, _r(3, 2))],
    "solve_vjp_a": [(_A3, _M, _A3, _r(3)), (_r(3, 2), _M, _r(3, 2), _r(3, 2))],
    "solve_jvp_a": [(_r(3, 3), _M, _A3, _A3), (_r(3, 3), _M, _r(3, 2), _r(3, 2))],
    "det_vjp": [(2.0, _M, np.linalg.det(_M))],
    "det_jvp": [(_r(3, 3), _M, np.linalg.det(_M))],
    "logdet_vjp": [(2.0, _M)],
    "logdet_jvp": [(_r(3, 3), _M)],
    "cholesky_vjp": [(_r(3, 3), _LOWER, False), (_r(3, 3), _LOWER.T.copy(), True)],
    "cholesky_jvp": [(_r(3, 3), _LOWER, False), (_r(3, 3), _LOWER.T.copy(), True)],
    "reshape_like": [(_r(6), _A23), (_r(1), 2.0), (2.0, _A0)],
    "reshape_order": [(_r(6), _A23, "C"), (_r(6), _A23, "F"),
                      (_r(6), np.asfortranarray(_A23), "A")],
    "method_axes": [(), (1, 0), ((2, 0, 1),)],
    "permute": [(_A234, None), (_A234, (2, 0, 1))],
    "unpermute": [(_r(4, 3, 2), None), (_r(4, 2, 3), (-1, 0, 1))],
    "split_like": [(_r(5), (_r(2), _A3), 0), (_r(2, 5), (_r(2, 2), _A23), 1),
                   (_r(3), (1.0, _r(2)), None)],
    "unstack": [(_A23, 1), (_A234, -1)],
    "hstack_vjp": [(_r(5), (_r(2), _A3)), (_r(2, 5), (_r(2, 2), _A23)), (_r(3), (1.0, _r(2)))],
    "vstack_vjp": [(_r(3, 2), (_r(2), _r(2, 2))), (_r(2, 1), (1.0, 2.0))],
    "tile_vjp": [(_r(2, 6), _A3, (2, 2)), (_r(4, 3), _A23, (2, 1)), (_r(4), 2.0, 4)],
    "repeat_vjp": [(_r(6), _A3, 2, None), (_r(3, 3), _A23, np.array([1, 2]), 0)],
    "roll_axis": [(_A23, 1, None), (_A23, -1, 0), (_A23, (1, 2), (0, 1))],
    "trace_axes": [(_r(3, 3), 0, 0, 1), (_r(3, 4), 1, 1, 0)],
    "repeat_axis": [(_A3, 2, None), (_A23, 3, None)],
    "roll_vjp": [(_A23, 1, None), (_A23, 1, 1)],
    "flip_axis": [(_A23, None), (_A234, -1), (_A23, (0, 1))],
    "astype_vjp": [(_A3, np.float32), (_A3, "int32")],
    "arange_vjp_start": [(_A3, None), (_A3, 5.0)],
    "arange_vjp_step": [(_A3,)],
    "arange_jvp_start": [(2.0, _A3, None), (2.0, _A3, 5.0)],
    "linspace_basis": [(5, True, False, np.linspace(0, 1, 5), 0),
                       (4, False, False, np.linspace(0, 1, 4), 0)],
    "linspace_vjp": [(_r(5), 2.0, np.linspace(0, 1, 5), 0)],
    "linspace_jvp": [(2.0, np.linspace(0, 1, 5), 0)],
    "sort_vjp": [(_r(5), np.array([1.0, 0.0, 1.0, 0.0, 2.0]), -1), (_A23, _r(2, 3), 0),
                 (_r(6), _A23, None)],
    "sort_jvp": [(_r(5), _r(5), -1), (_A23, _r(2, 3), None)],
    "safe_log": [(np.array([-1.0, 0.0, 2.0]),), (2.0,), (-1.0,)],
    "pow_dx": [(np.array([0.0, 2.0, 3.0]), 0.5), (np.array([0.0, 2.0]), 0.0), (0.0, 0.5),
               (0.0, 0.0), (2.0, 3.0), (0.0, np.array([0.0, 1.0, 2.0, 0.5])),
               (np.array([[0.0], [2.0]]), np.array([0.0, 1.5]))],
    "clip_inside": [(_A3, 0.0, 1.0), (_A3, None, 1.0), (_A3, None, None), (0.5, _A3, 1.0)],
    "clip_below": [(_A3, 0.0, 1.0), (_A3, None, 1.0), (_A3, 0.0, None), (_A3, 1.0, -1.0)],
    "clip_above": [(_A3, 0.0, 1.0), (0.5, None, None), (_A3, None, 0.5), (_A3, 1.0, -1.0)],
    # The helpers of kron, cross, svd, eigh, partition, np.append, column_stack and sinc,
    # and the join helpers met at higher orders, run their Python code in object mode: one
    # case each shows the types line up.
    "kron_vjp_a": [(_r(4, 6), _r(2, 3), _r(2, 2))],
    "kron_vjp_b": [(_r(4, 6), _r(2, 3), _r(2, 2))],
    "cross_vjp_a": [(_r(4, 3), _r(4, 3), _r(3), -1, -1, -1, None)],
    "cross_vjp_b": [(_r(4, 3), _r(4, 3), _r(3), -1, -1, -1, None)],
    "svd_vjp": [((_r(3, 3), _r(3), _r(3, 3)), _SQUARE, *np.linalg.svd(_SQUARE), True, False)],
    "svd_jvp": [(_r(3, 3), _SQUARE, *np.linalg.svd(_SQUARE), True, False)],
    "svd_values_vjp": [(_r(3), _SQUARE, False)],
    "svd_values_jvp": [(_r(3, 3), _SQUARE, False)],
    "eigh_vjp": [((_r(3), _r(3, 3)), _SQUARE, *np.linalg.eigh(_SQUARE), "L")],
    "eigh_jvp": [(_r(3, 3), _SQUARE, *np.linalg.eigh(_SQUARE), "L")],
    "partition_vjp": [(_r(5), _DISTINCT, np.partition(_DISTINCT, 2), -1)],
    "partition_jvp": [(_r(5), _DISTINCT, np.partition(_DISTINCT, 2), -1)],
    "column_stack_vjp": [(_r(3, 3), (_A3, _r(3, 2)))],
    "take_part": [(_r(6), _A3, None, False)],
    "gaps": [(np.array([0.3, -1.2, 2.5, 0.9]),)],
    "take_vjp": [(_r(4), _r(2, 3), np.array([0, 5, 5, -1]), None, "raise"),
                 (_r(2), _r(5), np.array([7, -9]), None, "wrap"),
                 (_r(2), _r(5), np.array([7, -9]), None, "clip")],
    "pad_part": [(_A3, _r(6), None, True)],
    "place_at": [(_A3, _r(5), np.array([1, 3, 1]))],
    "join_like": [((_A3, _r(2)), (_A3, _r(2)), 0)],
    "stack_like": [((_A3, _A3), _A23, 0)],
    "hstack_join": [((_A3, _r(2)), (_A3, _r(2)))],
    "vstack_join": [((_A3, _A23), (_A3, _A23))],
    "column_stack_join": [((_A3, _r(3, 2)), (_A3, _r(3, 2)))],
    "rot90_axes": [(_A23, 1, (0, 1)), (_A23, -3, (1, 0))],
    "solve_rhs": [(_A3, _SQUARE)],
    "prod_weights_vjp": [(_A23, np.array([[0.5, 0.0, 2.0], [1.5, -1.0, 3.0]]), 1)],
    "norm_power": [(None, _A3, None), (3, _A3, None), (np.inf, _A23, 1), ("fro", _A23, None)],
    "sinc_deriv": [(np.array([0.0, 0.3, -1.5]), 1), (0.7, 2)],
}
# Helpers whose NumPy primal Numba cannot compile: they refuse at compile time.
REFUSED = {
    "tensordot_vjp_a": (_r(2, 2), _r(2, 3), _r(3, 2), 1),
    "tensordot_vjp_b": (_r(2, 2), _r(2, 3), _r(3, 2), 1),
    "einsum_of": (None, "ij,jk->ik", _r(2, 3), _r(3, 2)),
    "einsum_spec": ("ij,jk->ik", _r(2, 3), _r(3, 2)),
    "einsum_adjoint": (None, 1, "ij,jk->ik", _r(2, 3), _r(3, 2)),
    # np.r_ itself has no Numba type; the primal np.r_[...] is refused before these are reached
    "index_concat_vjp": (_r(6), None, (_A3, _A3)),
    "index_concat_jvp": ((_A3, _A3), None, (_A3, _A3)),
    "unpad": (_r(5), _A3, 1, "constant"),
    "pad_border": (_A3, 1),
    "gradient_vjp": (_r(5), _r(5), None, None, None, None, None, 1),
    "gradient_of": (_r(5), None, None, None, None, None, 1),
    "gradient_spacing": (_r(5),),
    "select_vjp": (_A3, (_A3 > 0, _A3 < -1), (_A3, _A3)),
    "select_default_vjp": (_A3, (_A3 > 0, _A3 < -1), _A3),
    "select_join": ((_A3, _A3), (_A3 > 0, _A3 < -1), (_A3, _A3), _A3),
}


def _is_constant(value):
    return value is None or isinstance(value, (bool, int, str, type)) or (
        isinstance(value, tuple) and all(isinstance(k, int) for k in value))


def _kernel(fn, args):
    """An njit kernel calling ``fn`` with the constant ``args`` written into its body, as
    generated code writes them, and the others as parameters; and those other arguments."""
    params, call, scope = [], [], {"fn": fn}
    for i, value in enumerate(args):
        if _is_constant(value):
            scope[f"c{i}"] = value
            call.append(f"c{i}")
        else:
            params.append(f"a{i}")
            call.append(f"a{i}")
    source = f"def kernel({', '.join(params)}):\n    return fn({', '.join(call)})\n"
    exec(source, scope)  # noqa: S102  (built above from parameter names)
    return numba.njit(scope["kernel"]), [v for v in args if not _is_constant(v)]


def assert_same_result(expected, got):
    """Equal to rounding, and the same kind: tuple, None, array of a shape, or scalar."""
    if isinstance(expected, tuple):
        assert isinstance(got, tuple) and len(got) == len(expected)
        for e, g in zip(expected, got):
            assert_same_result(e, g)
    elif expected is None:
        assert got is None
    elif isinstance(expected, np.ndarray) and expected.ndim:
        assert isinstance(got, np.ndarray) and got.shape == expected.shape
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)
    else:
        assert np.ndim(got) == 0
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)


# The checkpointing schedule: tests/test_checkpoint.py follows whole schedules in both modes.
SCHEDULE = {"revolve_start", "revolve_next", "revolve_step", "revolve_until", "auto_snapshots",
            "Revolve"}


def test_numpy_cases_cover_every_other_helper():
    covered = set(NUMPY_CASES) | set(REFUSED) | set(JIT) | SCHEDULE
    assert covered == set(rt.__all__), sorted(set(rt.__all__) ^ covered)


@pytest.mark.filterwarnings("ignore::numba.NumbaPerformanceWarning")
@pytest.mark.parametrize("name, args", [
    pytest.param(name, args, id=f"{name}-{i}")
    for name, cases in NUMPY_CASES.items() for i, args in enumerate(cases)])
def test_numpy_helper_jit_matches_python(name, args):
    fn = getattr(rt, name)
    kernel, runtime_args = _kernel(fn, args)
    assert_same_result(fn(*args), kernel(*runtime_args))


@pytest.mark.parametrize("args", NUMPY_CASES["sum_to"], ids=str)
def test_sum_to_is_unbroadcast_of_the_product_shape(args):
    """sum_to(g, like) brings g to like's shape as the adjoint of ``like`` in an elementwise
    product with something of g's shape does: g spread over the product's shape, then summed
    back to like's."""
    g, like = args
    full = np.broadcast_shapes(np.shape(g), np.shape(like))
    want = rt.unbroadcast(np.ascontiguousarray(np.broadcast_to(g, full)), like)
    got = rt.sum_to(g, like)
    assert np.shape(got) == np.shape(like)
    np.testing.assert_allclose(got, want, rtol=1e-12)


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_numpy_helper_refused_under_jit(name):
    kernel, runtime_args = _kernel(getattr(rt, name), REFUSED[name])
    with pytest.raises(numba.core.errors.TypingError, match="Numba cannot compile"):
        kernel(*runtime_args)
