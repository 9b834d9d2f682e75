"""Logistic regression on a chunked Dask array, trained with ``adjoint.dask.value_and_grad``.

Run it with ``python examples/dask_logistic_regression.py`` (needs ``pip install
'adjoint[dask]'``). The data is a Dask array split into chunks of rows, kept in the memory of a
local cluster of two worker processes; each step computes the loss and its gradient chunk by
chunk on the workers — the gradient function travels to them pickled by reference — and adds
the chunks' results in a tree. The result equals ``adjoint.value_and_grad`` on the whole data in
one process, to rounding. On a real cluster, connect a ``distributed.Client`` to it instead of
starting a ``LocalCluster``: ``adjoint.dask`` uses the current client.
"""

import numpy as np

import adjoint
import adjoint.dask


def loss(w, b, X, y):
    """Mean logistic loss of a linear classifier (labels ±1), plus a little L2 on w: with
    reduction="mean" the chunk weights sum to one, so the L2 term counts once."""
    z = X @ w + b
    return np.mean(np.log(1.0 + np.exp(-y * z))) + 1e-4 * np.sum(w * w)


def make_data(rng, n, features):
    X = rng.normal(size=(n, features))
    w_true = rng.normal(size=features)
    y = np.where(X @ w_true + 0.3 * rng.normal(size=n) > 0, 1.0, -1.0)
    return X, y


def main():
    try:
        import dask.array as da
        from distributed import Client, LocalCluster
    except ImportError:
        print("this example needs Dask: pip install 'adjoint[dask]'")
        return

    rng = np.random.default_rng(1)
    X_np, y_np = make_data(rng, 40_000, 10)
    step = adjoint.dask.value_and_grad(loss, wrt=("w", "b"), data=("X", "y"))

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        X = client.persist(da.from_array(X_np, chunks=(5_000, 10)))  # 8 chunks on 2 workers
        y = client.persist(da.from_array(y_np, chunks=5_000))
        print(f"{X.npartitions} chunks of {X.chunks[0][0]} rows on "
              f"{len(client.scheduler_info()['workers'])} worker processes")
        w, b = np.zeros(10), 0.0
        value0, _ = step(w, b, X, y)
        for _ in range(30):
            value, (dw, db) = step(w, b, X, y)
            w, b = w - 1.0 * dw, b - 1.0 * db
        print(f"loss {value0:.4f} -> {value:.4f} after 30 steps")

    one_machine = adjoint.value_and_grad(loss, wrt=("w", "b"))(w, b, X_np, y_np)
    final = step(w, b, da.from_array(X_np, chunks=5_000), da.from_array(y_np, chunks=5_000))
    assert np.isclose(final[0], one_machine[0], rtol=1e-12)
    assert np.allclose(final[1][0], one_machine[1][0], rtol=1e-10, atol=1e-15)
    print("chunked value and gradient equal the one-process value_and_grad: yes")
    assert value < value0


if __name__ == "__main__":
    main()
