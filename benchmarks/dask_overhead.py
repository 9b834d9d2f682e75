"""What ``adjoint.dask.value_and_grad`` costs per call, next to ``value_and_grad`` on the whole
data in one process: on Dask's local (threaded) scheduler and on a ``LocalCluster`` of two worker
processes with the data persisted on them.

Takes: nothing (``--rows N``, ``--chunks K``, ``--repeats R`` optional). Prints the median wall
time per call of each, and the load average (the machine may be shared).

    python benchmarks/dask_overhead.py
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
import adjoint  # noqa: E402
import adjoint.dask  # noqa: E402


def loss(w, X, y):
    return np.mean(np.log(1.0 + np.exp(-y * (X @ w))))


def median_time(fn, repeats):
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--chunks", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=7)
    opts = parser.parse_args()
    import dask.array as da
    from distributed import Client, LocalCluster

    rng = np.random.default_rng(0)
    X_np, y_np = rng.normal(size=(opts.rows, 10)), np.sign(rng.normal(size=opts.rows))
    w = rng.normal(size=10)
    rows = opts.rows // opts.chunks
    one = adjoint.value_and_grad(loss)
    chunked = adjoint.dask.value_and_grad(loss, data=(1, 2))
    X, y = da.from_array(X_np, chunks=(rows, 10)), da.from_array(y_np, chunks=rows)
    load = os.getloadavg()[0]
    results = {"one process, NumPy arrays": median_time(lambda: one(w, X_np, y_np),
                                                        opts.repeats),
               "adjoint.dask, local scheduler": median_time(lambda: chunked(w, X, y),
                                                            opts.repeats)}
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        Xp, yp = client.persist(X), client.persist(y)
        results["adjoint.dask, LocalCluster (2 processes)"] = median_time(
            lambda: chunked(w, Xp, yp), opts.repeats)
    print(f"logistic loss and gradient, {opts.rows} x 10 rows in {opts.chunks} chunks, "
          f"median wall time of {opts.repeats}")
    for name, t in results.items():
        print(f"  {name:42s} {t * 1e3:8.1f} ms")
    print(f"  load average {load:.1f} -> {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
