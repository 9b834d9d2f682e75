"""The optimizer's loop rewrites keep gradients right, in Python mode and under jit=True:
backward loops whose iterations are independent run forward (and those with a carried adjoint
do not), adjoints zeroed at every iteration are read as zero, loop-invariant seeds are hoisted,
the adjoint a loop carries is scaled by one factor per iteration,
``x * x`` contributes once, an adjoint a loop fills element by element is allocated empty;
and the per-call fast path tells argument types, ndims and dtypes apart and binds
arguments as Python does."""

import numpy as np
import pytest

import adjoint


def chained(x):
    s = 0.0
    for i in range(x.shape[0] - 1):
        s += 3.0 * (x[i + 1] - x[i] * x[i]) ** 2 + (1.0 - x[i]) ** 2
    return s


def branchy(p, t, delta):
    total = 0.0
    for i in range(1, p.shape[0]):
        r = p[i] - t[i - 1]
        if abs(r) <= delta:
            total += 0.5 * r * r
        else:
            total += delta * (abs(r) - 0.5 * delta)
    return total


def carried(x):
    p = 1.0
    for i in range(x.shape[0]):
        p = p * x[i] + 0.5
    return p


def euler(a, n):
    dt = 0.1
    u = 1.0
    loss = 0.0
    for _ in range(n):
        u = u + dt * (a * u - u * u)
        loss += dt * (u * u + a * u)
    return loss


def damped_sqrt(a):
    x = 1.0
    step = 1.0
    while abs(step) > 1e-12:
        step = 0.1 * (x * x - a)
        x = x - step
    return x


def elementwise(x, c):
    n = x.shape[0]
    s = 0.0
    for i in range(n):
        s += c * x[i] ** 3 - x[i]
    return s


def sometimes(x):
    s = 0.0
    for i in range(x.shape[0]):
        if x[i] > 0.0:
            s += x[i] ** 2
    return s


def _central(f, args, k, h=1e-6):
    x = args[k]
    if not isinstance(x, np.ndarray):
        lo, hi = list(args), list(args)
        lo[k], hi[k] = x - h, x + h
        return (f(*hi) - f(*lo)) / (2 * h)
    out = np.zeros_like(x)
    for j in range(x.size):
        lo, hi = x.copy(), x.copy()
        lo.flat[j] -= h
        hi.flat[j] += h
        a, b = list(args), list(args)
        a[k], b[k] = lo, hi
        out.flat[j] = (f(*b) - f(*a)) / (2 * h)
    return out


RNG = np.random.default_rng(3)
CASES = [
    (chained, (RNG.uniform(-1.2, 1.2, 7),), 0),
    (branchy, (RNG.normal(size=6), RNG.normal(size=6), 0.8), 0),
    (carried, (RNG.uniform(0.5, 1.5, 5),), 0),
    (euler, (0.7, 12), 0),
    (damped_sqrt, (2.0,), 0),
    (elementwise, (RNG.normal(size=5), 0.3), 0),
    (sometimes, (RNG.normal(size=6),), 0),
]


@pytest.mark.parametrize("jit", [False, True], ids=["python", "jit"])
@pytest.mark.parametrize("f, args, k", CASES, ids=[c[0].__name__ for c in CASES])
def test_loop_rewrites_keep_gradients(f, args, k, jit):
    got = adjoint.grad(f, wrt=k, jit=jit)(*args)
    np.testing.assert_allclose(got, _central(f, args, k), rtol=1e-6, atol=1e-8)


def _backward(code):
    return code[code.index("# backward sweep"):]


def test_independent_backward_loops_run_forward_and_carried_ones_do_not():
    x = np.ones(4)
    assert ", -1, -1)" not in _backward(adjoint.source(adjoint.grad(chained), x))
    code = _backward(adjoint.source(adjoint.grad(branchy), x, x, 1.0))
    assert "-1, -1)" not in code and "for i in range(1, " in code
    assert ", -1, -1)" in _backward(adjoint.source(adjoint.grad(carried), x))


def test_loop_invariant_seed_is_hoisted_and_squares_contribute_once():
    code = _backward(adjoint.source(adjoint.grad(euler), 0.7, 12))
    loop = code.index("\n    for ")
    assert "dout * dt" in code[:loop] and "dout * dt" not in code[loop:]
    assert "(2 * u" in code[loop:]


def test_adjoint_zeroed_every_iteration_is_not_carried():
    code = _backward(adjoint.source(adjoint.grad(damped_sqrt), 2.0))
    assert "dstep = 0.0" not in code and "dstep" not in code
    assert "(2 * x" in code


def test_carried_adjoint_waits_for_one_multiplication_per_iteration():
    code = _backward(adjoint.source(adjoint.grad(damped_sqrt), 2.0))
    assert "dx_1 = dx_1 * (1.0 - 0.1 * (2 * x_1))" in code  # not dx_1 + (-dx_1 * 0.1) * ...
    assert "da = da + dx_1 * 0.1" in code


def test_adjoint_filled_once_by_a_loop_is_allocated_empty():
    x = np.ones(3)
    code = _backward(adjoint.source(adjoint.grad(elementwise), x, 0.3))
    assert "dx = np.empty(x.shape)" in code and "dx[i] = " in code
    code = _backward(adjoint.source(adjoint.grad(sometimes), x))  # written on some trips only
    assert "zeros_like(x)" in code and "np.empty" not in code


def square_sum(x):
    return np.sum(x * x)


def test_fast_path_tells_types_ndims_and_dtypes_apart():
    df = adjoint.grad(square_sum)
    cases = [np.arange(3.0), np.arange(3, dtype=np.float32), np.ones((2, 2)), 1.5, 2,
             np.arange(3.0)]
    for _ in range(2):  # the second round goes through the fast path
        for x in cases:
            g = df(x)
            assert np.shape(g) == np.shape(x)
            np.testing.assert_allclose(g, 2 * np.asarray(x, dtype=float), rtol=1e-6)
            if isinstance(x, np.ndarray):
                assert g.dtype == (x.dtype if x.dtype.kind == "f" else np.float64)
            else:
                assert type(g) is float


def scaled(x, type=2.0, n=3):  # parameters named like what the fast path's entry uses
    return np.sum(x * x) * type * n


def test_fast_path_binds_arguments_as_python_does():
    df = adjoint.grad(scaled, jit=True)
    assert df(1.5) == 18.0  # prepares the call: later ones take the fast path
    assert df(1.5) == 18.0 and df(x=1.5) == 18.0 and df(1.5, n=3) == 18.0
    assert df(1.5, 1.0) == 9.0 and df(1.5, type=1.0, n=1) == 3.0
    assert df(2, 1.0, 1) == 4.0 and type(df(2)) is float  # an int: another Numba signature
    np.testing.assert_allclose(df(np.array([1.0, 2.0])), [12.0, 24.0])
    assert df(1.5) == 18.0 and df(np.float32(1.5)) == np.float32(18.0)
    with pytest.raises(TypeError, match="takes from 1 to 3 positional arguments"):
        df(1.0, 2.0, 3, 4)
    with pytest.raises(TypeError, match="unexpected keyword argument 'dout'"):
        df(1.5, dout=2.0)
    with pytest.raises(TypeError, match="missing 1 required positional argument"):
        df(type=1.0)


def layer_mean(W, b, X):
    return np.mean(np.tanh(X @ W + b) ** 2)


@pytest.mark.parametrize("jit", [False, True], ids=["python", "jit"])
def test_known_kinds_give_textbook_adjoints(jit):
    W, b, X = RNG.normal(size=(3, 2)), RNG.normal(size=2), RNG.normal(size=(4, 3))
    d = adjoint.grad(layer_mean, wrt=(0, 1), jit=jit)
    for got, k in zip(d(W, b, X), (0, 1)):
        np.testing.assert_allclose(got, _central(layer_mean, (W, b, X), k), rtol=1e-6,
                                   atol=1e-9)
    code = adjoint.source(d, W, b, X)
    assert "dout / reduced_count(" in code and "unreduce" not in code  # a mean's adjoint
    assert "X.T @ " in code  # a matmul of known matrices
    assert "** 2\n" not in code  # the square was computed only for its shape: gone


def log_sum_exp_rows(z):
    z = z - np.max(z)
    return np.sum(np.log(np.sum(np.exp(z), axis=1))) - np.sum(z * z)


@pytest.mark.parametrize("jit", [False, True], ids=["python", "jit"])
def test_reduction_adjoints_broadcast_instead_of_filling_arrays(jit):
    z = RNG.normal(size=(4, 3))
    d = adjoint.grad(log_sum_exp_rows, jit=jit)
    np.testing.assert_allclose(d(z), _central(log_sum_exp_rows, (z,), 0), rtol=1e-6, atol=1e-8)
    code = adjoint.source(d, z)
    assert "unreduce(" not in code  # a row sum's adjoint broadcasts: g[:, None] * t
    assert "[:, None] * " in code and "- unbroadcast(" in code  # the max's: a sum, negated once


def rebound_parameter(a, b, x):
    a = b  # noqa: F841  (the gradient is taken at the argument, then a is rebound)
    return x


@pytest.mark.parametrize("jit", [False, True])
def test_a_rebound_parameter_is_not_a_shape_twin_of_its_own_adjoint(jit):
    """Fuzz seed 100683: zeros_like(a) read a name that the statement itself binds."""
    a, b = np.array([1.1, -0.7, -1.1]), np.array([0.6, 0.7, 0.8])
    value, (da,) = adjoint.value_and_grad(rebound_parameter, wrt=("a",), jit=jit)(a, b, -0.17)
    assert value == -0.17 and np.array_equal(da, np.zeros(3))
