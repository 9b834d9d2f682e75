"""``vmap`` against Python loops and finite differences: in_axes/out_axes (int, None, tuples,
trees), every transform, and the Numba ``prange`` path of ``jit=True`` transforms (one compile
shared by the tests that use it)."""

import numpy as np
import pytest
import scale_functions as sf

import adjoint

RNG = np.random.default_rng(7)
W1, B1, W2 = RNG.normal(size=(5, 3)), RNG.normal(size=5), RNG.normal(size=5)
XS, YS = RNG.normal(size=(9, 3)), RNG.normal(size=9)
NET_AXES = (None, None, None, 0, 0)


def loop(fn, n, example):
    return [fn(*example(i)) for i in range(n)]


def test_function_in_axes_int_none_and_out_axes():
    xs = RNG.normal(size=(4, 6))
    got = adjoint.vmap(lambda x, a: a * np.sin(x), in_axes=(1, None), out_axes=1)(xs, 2.0)
    assert got.shape == (4, 6)
    assert np.array_equal(got, 2.0 * np.sin(xs))
    assert np.array_equal(adjoint.vmap(np.sum)(xs), xs.sum(axis=1))
    assert np.array_equal(adjoint.vmap(np.sum, in_axes=-1)(xs), xs.sum(axis=0))


def test_grad_matches_loop_and_finite_differences():
    xs = np.linspace(-1.0, 1.5, 7)
    g = adjoint.grad(sf.cubic, wrt=(0, 1))
    dx, da = adjoint.vmap(g, in_axes=(0, None))(xs, 1.3)
    assert dx.shape == da.shape == (7,)
    want = loop(g, 7, lambda i: (xs[i], 1.3))
    assert np.array_equal(dx, [w[0] for w in want]) and np.array_equal(da, [w[1] for w in want])
    h = 1e-6
    fd = (sf.cubic(xs + h, 1.3) - sf.cubic(xs - h, 1.3)) / (2 * h)
    assert np.allclose(dx, fd, rtol=1e-7, atol=1e-9)


def test_value_and_grad_per_example_network_python_mode():
    vg = adjoint.value_and_grad(sf.net_loss, wrt=(0, 2))
    values, (d1, d2) = adjoint.vmap(vg, in_axes=NET_AXES)(W1, B1, W2, XS, YS)
    assert values.shape == (9,) and d1.shape == (9, 5, 3) and d2.shape == (9, 5)
    for i in range(9):
        v, (e1, e2) = vg(W1, B1, W2, XS[i], YS[i])
        assert values[i] == v and np.array_equal(d1[i], e1) and np.array_equal(d2[i], e2)


def test_jvp_and_vjp_results():
    xs = RNG.normal(size=(5, 4))
    f = sf.squash
    values, tangents = adjoint.vmap(adjoint.jvp(f))(xs, np.ones_like(xs))
    assert np.array_equal(values, 2.0 * np.tanh(xs))
    assert np.allclose(tangents, 2.0 / np.cosh(xs) ** 2, rtol=1e-13)
    values, pullback = adjoint.vmap(adjoint.vjp(f))(xs)
    cts = RNG.normal(size=xs.shape)
    got = pullback(cts)
    assert got.shape == xs.shape
    assert np.allclose(got, cts * 2.0 / np.cosh(xs) ** 2, rtol=1e-13)


def test_trees_in_and_out():
    def f(pair, scale):
        a, b = pair
        return {"sum": scale["k"] * (a + b), "parts": (a, b * 2.0)}
    a, b = RNG.normal(size=(3, 2)), RNG.normal(size=(2, 3))
    out = adjoint.vmap(f, in_axes=((0, 1), {"k": None}),
                       out_axes={"sum": 0, "parts": (1, 0)})((a, b), {"k": 3.0})
    assert np.array_equal(out["sum"], 3.0 * (a + b.T))
    assert np.array_equal(out["parts"][0], a.T) and np.array_equal(out["parts"][1], 2.0 * b.T)


def test_nested_vmap_is_a_double_loop():
    xs = RNG.normal(size=(3, 4))
    g = adjoint.grad(sf.cubic)
    got = adjoint.vmap(adjoint.vmap(g, in_axes=(0, None)), in_axes=(0, None))(xs, 0.5)
    assert np.array_equal(got, [[g(x, 0.5) for x in row] for row in xs])


@pytest.mark.parametrize("args, in_axes, message", [
    ((np.ones(3), np.ones(4)), 0, "different sizes"),
    ((np.ones(3), 1.0), (0,), "in_axes has 1 entries"),
    ((np.ones(3),), 1, "cannot map over axis 1"),
    ((1.0,), None, "maps no argument"),
    ((np.ones((0, 2)),), 0, "size 0"),
])
def test_errors(args, in_axes, message):
    with pytest.raises(ValueError, match=message):
        adjoint.vmap(lambda *a: 0.0, in_axes=in_axes)(*args)


def test_out_axes_none_requires_the_same_value():
    xs = np.arange(3.0)
    assert adjoint.vmap(lambda x: (x, 1.0), out_axes=(0, None))(xs)[1] == 1.0
    with pytest.raises(ValueError, match="differs"):
        adjoint.vmap(lambda x: x, out_axes=None)(xs)
    with pytest.raises(TypeError, match="in_axes"):
        adjoint.vmap(np.sin, in_axes="x")


# -- jit=True: the prange path (one gradient and one prange loop compiled) --------------------

JIT_VG = adjoint.value_and_grad(sf.poly, wrt=(0, 1), jit=True)
PX, PC = np.linspace(-0.5, 1.0, 11), RNG.normal(size=(11, 4))


def test_jit_prange_equals_the_python_loop_and_finite_differences():
    vm = adjoint.vmap(JIT_VG)
    values, (dx, dc) = vm(PX, PC)
    assert vm.last_run == "prange" and values.shape == dx.shape == (11,) and dc.shape == (11, 4)
    for i in range(11):
        v, (ex, ec) = JIT_VG(PX[i], PC[i])
        assert np.allclose([values[i], dx[i]], [v, ex], rtol=1e-12) and \
            np.allclose(dc[i], ec, rtol=1e-12)
    python = adjoint.value_and_grad(sf.poly, wrt=(0, 1))
    pv, (px, pc) = adjoint.vmap(python)(PX, PC)
    assert np.allclose(values, pv, rtol=1e-13) and np.allclose(dx, px, rtol=1e-13)
    assert np.allclose(dc, pc, rtol=1e-13)
    h = 1e-6
    fd = [(sf.poly(x + h, c) - sf.poly(x - h, c)) / (2 * h) for x, c in zip(PX, PC)]
    assert np.allclose(dx, fd, rtol=1e-7, atol=1e-9)


def test_jit_prange_axes_and_data_global_read_at_call_time(monkeypatch):
    vm = adjoint.vmap(JIT_VG, in_axes=(0, 1), out_axes=(0, (0, 1)))
    values, (dx, dc) = vm(PX, PC.T.copy())
    assert vm.last_run == "prange" and dc.shape == (4, 11)
    assert np.array_equal(dc[:, 4], JIT_VG(PX[4], PC[4])[1][1])
    monkeypatch.setattr(sf, "SCALE", 2.0)
    doubled, _ = vm(PX, PC.T.copy())
    assert vm.last_run == "prange" and np.allclose(doubled, 4.0 * values, rtol=1e-14)


def test_jit_keyword_arguments_fall_back_to_a_loop():
    vm = adjoint.vmap(JIT_VG)
    looped, (dx, dc) = vm(PX, c=PC)  # mapped over axis 0 too, by the Python loop
    assert vm.last_run == "loop" and np.array_equal(looped, vm(PX, PC)[0])
    assert np.array_equal(dc[3], JIT_VG(PX[3], PC[3])[1][1])


def test_jit_jvp_prange_and_an_error_in_one_example_is_raised():
    jvp = adjoint.jvp(sf.reciprocal_sum, jit=True)
    vm = adjoint.vmap(jvp, in_axes=(0, None, 0))
    xs, ts = np.array([1.0, 2.0, 4.0, 0.5]), np.array([1.0, -1.0, 0.5, 2.0])
    values, tangents = vm(xs, 3, ts)
    assert vm.last_run == "prange"
    assert np.array_equal(values, [jvp(x, 3, t)[0] for x, t in zip(xs, ts)])
    assert np.allclose(tangents, -3.0 * ts / xs ** 2, rtol=1e-14)
    # Numba drops exceptions raised inside prange: vmap must still raise, never return garbage
    with pytest.raises(ZeroDivisionError):
        vm(np.array([1.0, 2.0, 0.0, 3.0]), 3, ts)
