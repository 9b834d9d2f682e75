"""``adjoint.dask.value_and_grad`` against ``value_and_grad`` on the whole data: the local
scheduler (both modes), and a ``LocalCluster`` with two worker processes (marked
``dask_cluster``; a few seconds). Skips when Dask is not installed."""

import sys

import numpy as np
import pytest
import scale_functions as sf

import adjoint
import adjoint.dask

RNG = np.random.default_rng(11)
N, D = 103, 4
X, Y = RNG.normal(size=(N, D)), np.sign(RNG.normal(size=N))
W = RNG.normal(size=D) / 2


def total_loss(w, X, y):
    return np.sum(np.log(1.0 + np.exp(-y * (X @ w)))) + 0.0 * np.sum(w)


def reference(f, wrt=0):
    return adjoint.value_and_grad(f, wrt=wrt)(W, X, Y)


def close(a, b):
    if isinstance(a, tuple):
        return len(a) == len(b) and all(map(close, a, b))
    return type(a) is type(b) and np.allclose(a, b, rtol=1e-12, atol=0)


def test_without_dask_calling_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "dask", None)
    fn = adjoint.dask.value_and_grad(sf.batch_loss, data=(1, 2))
    with pytest.raises(ImportError, match=r"pip install 'adjoint\[dask\]'"):
        fn(W, X, Y)


def test_arguments_are_checked():
    with pytest.raises(ValueError, match="wrt names the data argument 'X'"):
        adjoint.dask.value_and_grad(sf.batch_loss, wrt=("w", "X"), data=("X", "y"))
    with pytest.raises(ValueError, match="reduction"):
        adjoint.dask.value_and_grad(sf.batch_loss, data=1, reduction="max")
    with pytest.raises(ValueError, match="not a parameter"):
        adjoint.dask.value_and_grad(sf.batch_loss, data="Z")


def test_local_scheduler_mean_with_unequal_and_misaligned_chunks():
    da = pytest.importorskip("dask.array")
    fn = adjoint.dask.value_and_grad(sf.batch_loss, wrt="w", data=("X", "y"), split_every=2)
    X_d = da.from_array(X, chunks=((10, 40, 0, 30, 23), D))
    y_d = da.from_array(Y, chunks=50)  # rechunked to X's rows
    value, grad = fn(W, X_d, y_d)
    want_value, want_grad = reference(sf.batch_loss)
    assert close(value, want_value) and close(grad, want_grad)
    h = 1e-6
    fd = [(sf.batch_loss(W + h * e, X, Y) - sf.batch_loss(W - h * e, X, Y)) / (2 * h)
          for e in np.eye(D)]
    assert np.allclose(grad, fd, rtol=1e-6, atol=1e-9)


def test_local_scheduler_sum_jit_and_numpy_data():
    da = pytest.importorskip("dask.array")
    fn = adjoint.dask.value_and_grad(total_loss, wrt=(0,), data=(1, 2), reduction="sum",
                                     jit=True)
    want = fn.per_chunk(W, X, Y)  # the jitted value_and_grad on the whole data (one compile)
    value, grads = fn(W, da.from_array(X, chunks=17), Y)
    assert close(value, want[0]) and close(grads, want[1])
    assert close(want, adjoint.value_and_grad(total_loss, wrt=(0,))(W, X, Y))


@pytest.mark.dask_cluster
def test_local_cluster_with_two_worker_processes():
    distributed = pytest.importorskip("distributed")
    da = pytest.importorskip("dask.array")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        fn = adjoint.dask.value_and_grad(sf.batch_loss, wrt="w", data=("X", "y"))
        value, grad = fn(W, da.from_array(X, chunks=20), da.from_array(Y, chunks=20))
        assert len(client.scheduler_info()["workers"]) == 2
        unpickled = client.run(sf.rebuilt_transforms)  # the transform went to the workers
        assert len(unpickled) == 2 and sum(unpickled.values()) >= 1
    want_value, want_grad = reference(sf.batch_loss)
    assert close(value, want_value) and close(grad, want_grad)
