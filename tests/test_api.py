"""The public calling conventions of ``grad`` and ``value_and_grad`` (DESIGN.md §2).

Takes small functions defined here. Guarantees: the three decorator forms, every ``wrt`` form,
``value_and_grad``'s ``(value, gradient)`` shape, ``.source`` / ``adjoint.source()``, the cache
(no re-generation for the same function and options), the kept signature and defaults, and that
returned gradients are fresh arrays a later call never changes.
"""

from __future__ import annotations

import inspect
import math
import sys
import threading

import numpy as np
import pytest

import adjoint

MODES = ("python", "jit")


def transform(kind, fn=None, mode="python", **options):
    """``kind(fn, jit=..., **options)`` (the decorator form when ``fn`` is None)."""
    if fn is None:
        return kind(jit=(mode == "jit"), **options)
    return kind(fn, jit=(mode == "jit"), **options)


def mixed(x, y, z):
    return x * y * y + math.sin(z) * x


def mixed_partials(x, y, z):
    return y * y + math.sin(z), 2.0 * x * y, x * math.cos(z)


X, Y, Z = 1.5, -0.7, 0.4


def test_seed_example():
    @adjoint.grad
    def f(x):
        return x**2 + 3 * x + 1

    assert f(2.0) == 7.0
    assert isinstance(f(2.0), float)


def test_decorator_forms_agree():
    def by_call(x, y, z):
        return x * y * y + math.sin(z) * x

    @adjoint.grad
    def bare(x, y, z):
        return x * y * y + math.sin(z) * x

    @adjoint.grad(wrt=1)
    def with_options(x, y, z):
        return x * y * y + math.sin(z) * x

    dx, dy, _ = mixed_partials(X, Y, Z)
    assert bare(X, Y, Z) == pytest.approx(dx, rel=1e-14)
    assert with_options(X, Y, Z) == pytest.approx(dy, rel=1e-14)
    assert adjoint.grad(by_call, wrt=1)(X, Y, Z) == pytest.approx(dy, rel=1e-14)
    assert adjoint.grad(by_call)(X, Y, Z) == pytest.approx(dx, rel=1e-14)


@pytest.mark.parametrize("wrt, picks", [
    (0, 0), (2, 2), ("y", 1), ("z", 2),
    ((0,), (0,)), (("y",), (1,)), ((0, 2), (0, 2)), (("z", "x"), (2, 0)), ((1, "z", 0), (1, 2, 0)),
])
def test_wrt_forms(wrt, picks):
    expected = mixed_partials(X, Y, Z)
    result = adjoint.grad(mixed, wrt=wrt)(X, Y, Z)
    if isinstance(picks, tuple):
        assert isinstance(result, tuple) and len(result) == len(picks), result
        for got, k in zip(result, picks):
            assert isinstance(got, float)
            assert got == pytest.approx(expected[k], rel=1e-14)
    else:
        assert isinstance(result, float)
        assert result == pytest.approx(expected[picks], rel=1e-14)


def test_int_argument_in_wrt_gives_a_float():
    def scaled(x, n):
        return x * n + n * n

    g = adjoint.grad(scaled, wrt=(0, 1))(2.0, 3)
    assert g == (3.0, 8.0)
    assert all(isinstance(v, float) for v in g)


@pytest.mark.parametrize("mode", MODES)
def test_value_and_grad(mode):
    vg = transform(adjoint.value_and_grad, mixed, mode, wrt=("x", "z"))
    value, (dx, dz) = vg(X, Y, Z)
    ex, _, ez = mixed_partials(X, Y, Z)
    assert value == pytest.approx(mixed(X, Y, Z), rel=1e-14)
    assert (dx, dz) == (pytest.approx(ex, rel=1e-12), pytest.approx(ez, rel=1e-12))

    single = transform(adjoint.value_and_grad, mixed, mode)
    value, dx = single(X, Y, Z)
    assert value == pytest.approx(mixed(X, Y, Z), rel=1e-14)
    assert dx == pytest.approx(ex, rel=1e-12)


def test_value_and_grad_decorator_forms():
    @adjoint.value_and_grad
    def bare(x):
        return x**3

    @adjoint.value_and_grad(wrt="y")
    def with_options(x, y):
        return x * y**2

    assert bare(2.0) == (8.0, 12.0)
    assert with_options(3.0, 2.0) == (12.0, 12.0)


def test_signature_and_defaults_are_kept():
    def with_default(x, k=3.0):
        return k * x * x

    g = adjoint.grad(with_default)
    names = list(inspect.signature(g).parameters)
    assert names[:2] == ["x", "k"], names
    assert g(2.0) == 12.0
    assert g(2.0, 1.0) == 4.0
    assert g(2.0, k=0.5) == 2.0
    assert g(x=2.0, k=0.5) == 2.0


def test_source_property_and_function():
    g = adjoint.grad(mixed, wrt=(0, 1))
    text = g.source
    assert isinstance(text, str) and "def " in text
    assert adjoint.source(g) == text
    compile(text, "<generated>", "exec")  # the printed adjoint is valid Python
    vg = adjoint.value_and_grad(mixed)
    assert adjoint.source(vg) == vg.source and "def " in vg.source


def test_cache_returns_the_same_generated_code():
    def cached(x, y):
        return x * x * y

    g1 = adjoint.grad(cached, wrt=1)
    g2 = adjoint.grad(cached, wrt=1)
    assert g1 is g2 or g1.source is g2.source, "same function and options were generated twice"
    other = adjoint.grad(cached, wrt=0)
    assert other.source != g1.source
    assert (g1(2.0, 3.0), other(2.0, 3.0)) == (4.0, 12.0)


WEIGHTS = np.array([1.0, -2.0, 0.5])


def weighted(x):
    return np.dot(WEIGHTS, x)


def total_square(x):
    return np.sum(x * x)


@pytest.mark.parametrize("mode", MODES)
def test_gradients_are_fresh_arrays(mode):
    g = transform(adjoint.grad, weighted, mode)
    x = np.array([0.1, 0.2, 0.3])
    first = g(x)
    np.testing.assert_array_equal(first, WEIGHTS)
    assert not np.shares_memory(first, WEIGHTS), "the gradient is the user's global array"
    assert not np.shares_memory(first, x)
    first[:] = 0.0
    np.testing.assert_array_equal(WEIGHTS, [1.0, -2.0, 0.5])
    np.testing.assert_array_equal(g(x), WEIGHTS)

    h = transform(adjoint.grad, total_square, mode)
    r1 = h(np.array([1.0, 2.0, 3.0]))
    kept = r1.copy()
    r2 = h(np.array([-4.0, 5.0, 6.0]))
    assert r1 is not r2 and not np.shares_memory(r1, r2)
    np.testing.assert_array_equal(r1, kept)
    np.testing.assert_array_equal(r2, [-8.0, 10.0, 12.0])


@pytest.mark.parametrize("mode", MODES)
def test_value_and_grad_results_are_fresh(mode):
    vg = transform(adjoint.value_and_grad, total_square, mode)
    v1, g1 = vg(np.array([1.0, 2.0]))
    kept = g1.copy()
    v2, g2 = vg(np.array([3.0, 4.0]))
    assert (v1, v2) == (5.0, 25.0)
    np.testing.assert_array_equal(g1, kept)
    np.testing.assert_array_equal(g2, [6.0, 8.0])


def _threaded_loss(x, w):
    return np.sum(np.sin(x) * w) + 0.5 * np.sum(x * x)


@pytest.mark.parametrize("kind", ["grad", "vjp"])
def test_a_fresh_transform_called_from_several_threads(kind, monkeypatch):
    """Threads calling a transform nobody has called yet build its code once and all get the
    right gradient (Transformed._entry holds a lock while an entry is built)."""
    from adjoint import pipeline
    derive = pipeline.derive
    modes = []

    def counted(*args, **kwargs):
        modes.append(kwargs.get("mode", "grad"))
        return derive(*args, **kwargs)

    monkeypatch.setattr(pipeline, "derive", counted)
    transform = adjoint.grad(_threaded_loss) if kind == "grad" else adjoint.vjp(_threaded_loss)
    rng = np.random.default_rng(11)
    points = [rng.normal(size=4) for _ in range(6)]
    w = rng.normal(size=4)
    start = threading.Barrier(len(points))
    results = [None] * len(points)
    errors = []

    def work(k):
        try:
            start.wait()
            if kind == "grad":
                results[k] = transform(points[k], w)
            else:
                value, pullback = transform(points[k], w)
                results[k] = pullback(1.0)
        except Exception as exc:  # reported below, with the thread's point
            errors.append((k, exc))

    threads = [threading.Thread(target=work, args=(k,)) for k in range(len(points))]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # switch threads often: they meet inside the derivation
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    assert not errors, errors
    for x, got in zip(points, results):
        np.testing.assert_allclose(got, np.cos(x) * w + x, rtol=1e-12)
    assert modes.count("grad" if kind == "grad" else "vjp") == 1, modes
