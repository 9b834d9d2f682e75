"""The optimizer's array rewrites, for arguments of known kinds, keep gradients right in Python
mode and under jit=True: products of vectors and matrices read as their textbook adjoints
(``g @ b.T``, ``np.outer``, ``b @ g``, ``g * b``), an outer product multiplied by another
array becomes one broadcast product, a row reduction's adjoint is spread by ``[:, None]``, and
a matrix product read only for its shape is not kept alive for the backward sweep."""

import re

import numpy as np
import pytest

import adjoint
import adjoint.jit

RNG = np.random.default_rng(11)
SHAPES = {1: (3,), 2: (4, 3)}  # a's shape by rank; b's is chosen to match


def _operands(rank_a, rank_b):
    a = RNG.normal(size=SHAPES[rank_a])
    b = RNG.normal(size=(3,) if rank_b == 1 else (3, 2))
    return a, b


def _central(f, args, k, h=1e-6):
    x = args[k]
    out = np.zeros_like(x)
    for j in range(x.size):
        lo, hi = x.copy(), x.copy()
        lo.flat[j] -= h
        hi.flat[j] += h
        out.flat[j] = (f(*args[:k], hi, *args[k + 1:]) - f(*args[:k], lo, *args[k + 1:])) / (
            2 * h)
    return out


def _check(f, args, wrt, jit):
    d = adjoint.grad(f, wrt=wrt, jit=jit)
    got = d(*args)
    got = got if isinstance(got, tuple) else (got,)
    for value, k in zip(got, wrt):
        np.testing.assert_allclose(value, _central(f, args, k), rtol=1e-6, atol=1e-8)
    return adjoint.source(d, *args)


def sin_matmul(a, b):
    return np.sum(np.sin(a @ b))


def sin_dot(a, b):
    return np.sum(np.sin(np.dot(a, b)))


@pytest.mark.parametrize("jit", [False, True], ids=["python", "jit"])
@pytest.mark.parametrize("f", [sin_matmul, sin_dot], ids=["matmul", "dot"])
@pytest.mark.parametrize("ranks", [(1, 1), (1, 2), (2, 1), (2, 2)], ids=str)
def test_products_of_known_ranks_read_as_textbook_adjoints(ranks, f, jit):
    code = _check(f, _operands(*ranks), (0, 1), jit)
    assert "_vjp_" not in code  # no helper deciding at run time what the ranks are


def hidden_to_output(W, b, w, X):
    h = np.tanh(X @ W + b)
    return np.sum((h @ w) ** 2)


def scaled_rows(a, v, X):
    A = X * np.exp(a)
    return np.sum(np.sin(A @ v))


@pytest.mark.parametrize("jit", [False, True], ids=["python", "jit"])
def test_an_outer_product_times_an_array_is_one_broadcast_product(jit):
    W, b, w, X = (RNG.normal(size=(3, 5)), RNG.normal(size=5), RNG.normal(size=5),
                  RNG.normal(size=(6, 3)))
    code = _check(hidden_to_output, (W, b, w, X), (0, 1, 2), jit)
    assert "np.outer" not in code and "[:, None]" in code
    # X @ W was read only for its shape: its operands give it, and the user's line runs as is
    assert "np.tanh(X @ W + b)" in code and "(X.shape[0], W.shape[1])" in code
    a, v = RNG.normal(size=4), RNG.normal(size=4)
    code = _check(scaled_rows, (a, v, RNG.normal(size=(3, 4))), (0, 1), jit)
    assert "np.outer" not in code


def lse_axis0(x):
    return np.sum(np.log(np.sum(np.exp(x), axis=0)))


def lse_axis1(x):
    return np.sum(np.log(np.sum(np.exp(x), axis=1)))


def lse_last(x):
    return np.sum(np.log(np.sum(np.exp(x), axis=-1)))


def mean_square_rows(x):
    return np.sum(np.mean(x * x, axis=1) ** 2)


@pytest.mark.parametrize("jit", [False, True], ids=["python", "jit"])
@pytest.mark.parametrize("f", [lse_axis0, lse_axis1, lse_last, mean_square_rows],
                         ids=lambda f: f.__name__)
@pytest.mark.parametrize("shape", [(4, 3), (2, 3, 4)], ids=str)
def test_a_reduction_over_one_axis_spreads_its_adjoint_by_indexing(shape, f, jit):
    x = RNG.normal(size=shape)
    code = _check(f, (x,), (0,), jit)
    assert "keep_dims(" not in code and re.search(r"\[[:, ]*None[:, ]*\]", code)


def weighted(w, e):
    return np.sum(e * np.sin(w)) - 0.5 * np.sum(np.cos(w) * e) / w.shape[0]


@pytest.mark.parametrize("jit", [False, True], ids=["python", "jit"])
@pytest.mark.parametrize("shapes", [((4, 3), (4, 3)), ((4, 3), (4, 1)), ((4, 3), (3,)),
                                    ((4, 1), (4, 3)), ((3,), (4, 3)), ((4, 3), (2, 4, 3)),
                                    ((1, 3), (4, 1))], ids=str)
def test_the_adjoint_of_a_weighted_sum_needs_no_product_nor_spread_seed(shapes, jit):
    """``np.sum(e * w)``'s adjoint for ``w`` reads ``sum_to(s * e, w)`` whichever operand
    broadcasts against the other (sum where ``w`` is smaller, spread where ``e`` is)."""
    w, e = RNG.normal(size=shapes[0]), RNG.normal(size=shapes[1])
    code = _check(weighted, (w, e), (0, 1), jit)
    assert code.count("sum_to(") == 4 and "unreduce(" not in code  # both operands, twice


def softmax_rows(W, X, Y):
    z = X @ W
    z = z - np.max(z)
    return np.sum(np.log(np.sum(np.exp(z), axis=1))) - np.sum(Y * z)


def _fused_call(d):
    """The jit callable of ``d``'s one specialisation, its fused kernels' Numba dispatchers."""
    call = d._entries[next(iter(d._entries))][0]
    call = getattr(call, "target", call)
    return [disp for k, disp in zip(call.plan.kernels, call.dispatchers) if k.fused]


@pytest.fixture
def fuse_small_arrays(monkeypatch):
    """Fused kernels compile for arrays of any size (by default only from 8192 elements)."""
    monkeypatch.setattr(adjoint.jit, "FUSE_MIN_SIZE", 1)


@pytest.mark.parametrize("case", ["layer", "softmax"])
def test_fused_kernels_give_numpys_numbers(case, fuse_small_arrays):
    if case == "layer":
        f, args, wrt = hidden_to_output, (RNG.normal(size=(3, 5)), RNG.normal(size=5),
                                          RNG.normal(size=5), RNG.normal(size=(6, 3))), (0, 1, 2)
    else:
        Y = np.eye(4)[RNG.integers(0, 4, size=6)]
        f, args, wrt = softmax_rows, (RNG.normal(size=(3, 4)), RNG.normal(size=(6, 3)), Y), (0,)
    d = adjoint.grad(f, wrt=wrt, jit=True)
    want = adjoint.grad(f, wrt=wrt)(*args)
    for _ in range(2):  # the first call runs NumPy and compiles; the second, the kernels
        got = d(*args)
        for a, b in zip(got if isinstance(got, tuple) else (got,),
                        want if isinstance(want, tuple) else (want,)):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    dispatchers = _fused_call(d)
    assert dispatchers and all(len(disp.signatures) == 1 for disp in dispatchers)
    # argument types the kernels were not compiled for run in NumPy, compiling nothing more
    small = tuple(a.astype(np.float32) for a in args)
    got = d(*small)
    want = adjoint.grad(f, wrt=wrt)(*small)
    for a, b in zip(got if isinstance(got, tuple) else (got,),
                    want if isinstance(want, tuple) else (want,)):
        np.testing.assert_allclose(a, b, rtol=1e-5)
    assert all(len(disp.signatures) == 1 for disp in dispatchers)


def square_less(x, k):
    m = k * k - k
    return np.sum(x * m)


def test_integers_numba_would_widen_keep_numpys_arithmetic(fuse_small_arrays):
    """int32 arithmetic wraps in NumPy and widens in Numba: such a kernel is left to NumPy."""
    x, k = RNG.normal(size=6), np.full(6, 50_000, dtype=np.int32)  # k * k wraps in int32
    d = adjoint.grad(square_less, wrt=(0,), jit=True)
    for _ in range(2):
        np.testing.assert_array_equal(d(x, k), adjoint.grad(square_less, wrt=(0,))(x, k))
    dispatchers = _fused_call(d)
    assert len(dispatchers) == 1 and not dispatchers[0].signatures
    wide = k.astype(np.int64)  # a new specialisation: int64 arithmetic is Numba's too
    d = adjoint.grad(square_less, wrt=(0,), jit=True)
    for _ in range(2):
        np.testing.assert_array_equal(d(x, wide), adjoint.grad(square_less, wrt=(0,))(x, wide))
    assert len(_fused_call(d)[0].signatures) == 1
