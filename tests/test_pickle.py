"""Transform results pickle by reference (the user's function by name, plus the options) and
run in worker processes started fresh (spawn): ``concurrent.futures`` and ``multiprocessing``."""

import concurrent.futures
import multiprocessing
import os
import pickle

import numpy as np
import pytest
import scale_functions as sf

import adjoint

RNG = np.random.default_rng(3)
W1, B1, W2 = RNG.normal(size=(4, 3)), RNG.normal(size=4), RNG.normal(size=4)
X, Y = RNG.normal(size=3), 0.7
NET = (W1, B1, W2, X, Y)


def transforms():
    """(name, transform result, arguments) for every kind of transform."""
    return [
        ("grad", adjoint.grad(sf.net_loss, wrt=(0, 1, 2)), NET),
        ("value_and_grad jit", adjoint.value_and_grad(sf.series, jit=True), (0.6, 7)),
        ("decorated", sf.decorated, (1.5,)),
        ("grad of decorated", adjoint.grad(sf.decorated), (1.5,)),
        ("custom_vjp inside", adjoint.grad(sf.uses_clipped), (np.array([0.5, -2.0, 0.3]),)),
        ("jvp", adjoint.jvp(sf.cubic, wrt=(0, 1)), (0.4, 2.0, 1.0, -0.5)),
        ("hessian", adjoint.hessian(sf.batch_loss),
         (RNG.normal(size=3), RNG.normal(size=(5, 3)), np.sign(RNG.normal(size=5)))),
        ("hvp", adjoint.hvp(sf.cubic), (0.4, 2.0, 1.5)),
        ("jacobian", adjoint.jacobian(sf.squash), (np.array([0.1, 0.2]),)),
        ("vmap", adjoint.vmap(adjoint.grad(sf.cubic), in_axes=(0, None)),
         (np.linspace(0.0, 1.0, 3), 2.0)),
    ]


def same(a, b):
    if isinstance(a, tuple):
        return isinstance(b, tuple) and len(a) == len(b) and all(map(same, a, b))
    return type(a) is type(b) and np.shape(a) == np.shape(b) and np.allclose(a, b, rtol=1e-13)


@pytest.mark.parametrize("name, fn, args", transforms(), ids=[t[0] for t in transforms()])
def test_round_trip_by_reference(name, fn, args):
    expected = fn(*args)
    data = pickle.dumps(fn)
    assert len(data) < 600 and b"def " not in data  # a reference, not generated code
    again = pickle.loads(data)
    assert again is not fn and type(again) is type(fn)
    assert same(again(*args), expected)


def test_second_order_through_pickle_matches_finite_differences():
    g2 = pickle.loads(pickle.dumps(adjoint.grad(sf.decorated)))
    h = 1e-5
    fd = (sf.decorated(1.5 + h) - sf.decorated(1.5 - h)) / (2 * h)
    assert abs(g2(1.5) - fd) < 1e-8 and abs(g2(1.5) - 6 * 1.5) < 1e-12


def test_has_aux_survives_pickling():
    rng = np.random.default_rng(3)
    w, X, y = rng.normal(size=3), rng.normal(size=(5, 3)), rng.normal(size=5)
    g = adjoint.grad(sf.loss_with_aux, has_aux=True)
    again = pickle.loads(pickle.dumps(g))
    (grad, aux), (grad2, aux2) = g(w, X, y), again(w, X, y)
    assert np.allclose(grad, grad2, rtol=1e-13) and aux == aux2


def test_unpicklable_function_is_refused_by_pickle():
    with pytest.raises((pickle.PicklingError, AttributeError)):
        pickle.dumps(adjoint.grad(lambda x: x * x))
    local = adjoint.custom_vjp(lambda x: x)
    with pytest.raises(pickle.PicklingError, match="top level"):
        pickle.dumps(local)


def test_custom_vjp_function_pickles_by_name():
    assert pickle.loads(pickle.dumps(sf.clipped)) is sf.clipped


@pytest.fixture(scope="module")
def pool():
    """One fresh (spawned) worker whose environment has no cache directory: it gets the
    parent's from the pickled jit transforms."""
    context = multiprocessing.get_context("spawn")
    executor = concurrent.futures.ProcessPoolExecutor(max_workers=1, mp_context=context)
    saved = os.environ.pop("ADJOINT_CACHE_DIR", None)
    try:
        assert executor.submit(os.getpid).result(timeout=120) != os.getpid()
    finally:
        if saved is not None:
            os.environ["ADJOINT_CACHE_DIR"] = saved
    yield executor
    executor.shutdown()


def test_every_transform_runs_in_a_worker_process(pool):
    cases = transforms()
    expected = [fn(*args) for _, fn, args in cases]
    futures = [pool.submit(sf.call, fn, *args) for _, fn, args in cases]
    for (name, _, _), future, want in zip(cases, futures, expected):
        assert same(future.result(timeout=300), want), name


def test_vjp_in_a_worker_process(pool):
    fn = adjoint.vjp(sf.batch_loss, wrt=(0, 1))
    args = (RNG.normal(size=3), RNG.normal(size=(5, 3)), np.ones(5))
    _, pullback = fn(*args)
    assert same(pool.submit(sf.pull, fn, args, 2.0).result(timeout=300), pullback(2.0))


def test_worker_loads_jitted_code_from_the_parents_disk_cache(pool):
    from adjoint import jit
    if jit._CACHE_DIR is None:
        pytest.skip("no ADJOINT_CACHE_DIR in this session")
    g = adjoint.grad(sf.series, jit=True)
    expected = g(0.3, 12)  # compiles here and writes the cache
    value, cache_dir, hits, misses = pool.submit(sf.compiled_from_cache, g, 0.3, 12).result(
        timeout=300)
    assert value == expected and cache_dir == jit._CACHE_DIR
    assert hits >= 1 and misses == 0


def test_worker_loads_a_vmap_prange_loop_from_the_disk_cache(pool):
    from adjoint import jit
    if jit._CACHE_DIR is None:
        pytest.skip("no ADJOINT_CACHE_DIR in this session")
    vm = adjoint.vmap(adjoint.grad(sf.series, jit=True), in_axes=(0, None))
    xs = np.linspace(-0.5, 0.5, 6)
    expected = vm(xs, 12)  # compiles the gradient and the loop here, into the cache
    assert vm.last_run == "prange"
    got, how, hits, misses = pool.submit(sf.vmap_from_cache, vm, xs, 12).result(timeout=300)
    assert how == "prange" and np.array_equal(got, expected)
    assert hits >= 1 and misses == 0


def test_multiprocessing_pool_map():
    g = adjoint.grad(sf.cubic, wrt=(0, 1))
    points = [(0.1 * k, 1.0 + k) for k in range(4)]
    with multiprocessing.get_context("spawn").Pool(1) as workers:
        got = workers.starmap(sf.call, [(g, *p) for p in points])
    assert all(same(a, g(*p)) for a, p in zip(got, points))
