"""Per-example gradients of a small network: ``vmap`` (a Numba ``prange`` loop) against a
Python loop over the same jitted gradient.

Takes: nothing (``--examples N``, ``--repeats R``, ``--threads T`` optional). Prints the median
wall-clock time of each over R interleaved repeats, their ratio, the number of Numba threads,
and the load average before and after (the machine may be shared: a parallel speed-up needs idle
cores, so read the ratio next to the load). Checks first that both give the same numbers.

    python benchmarks/vmap_per_example.py
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

try:
    import adjoint
except ImportError:  # a checkout without the package installed
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
    import adjoint


def loss(w1, b1, w2, b2, x, y):
    """Squared error of a one-hidden-layer tanh network on one example."""
    h = np.tanh(w1 @ x + b1)
    r = np.dot(w2, h) + b2 - y
    return 0.5 * r * r


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--threads", type=int, default=0, help="Numba threads (0: all)")
    opts = parser.parse_args()
    import numba
    if opts.threads:
        numba.set_num_threads(opts.threads)

    rng = np.random.default_rng(0)
    n_in, n_hidden = 16, 32
    w1 = rng.normal(size=(n_hidden, n_in)) / 4
    b1, w2, b2 = rng.normal(size=n_hidden), rng.normal(size=n_hidden), 0.1
    X, Y = rng.normal(size=(opts.examples, n_in)), rng.normal(size=opts.examples)
    wrt = (0, 1, 2, 3)
    grad = adjoint.grad(loss, wrt=wrt, jit=True)
    per_example = adjoint.vmap(grad, in_axes=(None, None, None, None, 0, 0))

    def python_loop():
        return [grad(w1, b1, w2, b2, X[i], Y[i]) for i in range(len(X))]

    def vmapped():
        return per_example(w1, b1, w2, b2, X, Y)

    start = time.perf_counter()
    looped, mapped = python_loop(), vmapped()  # compiles both
    print(f"compile (gradient and prange loop): {time.perf_counter() - start:.1f} s",
          file=sys.stderr)
    assert per_example.last_run == "prange", per_example.last_run
    for k in range(len(wrt)):
        assert np.array_equal(mapped[k], np.array([g[k] for g in looped])), k

    load_before = os.getloadavg()[0]
    times = {"python loop": [], "vmap": []}
    for _ in range(opts.repeats):
        for name, fn in (("python loop", python_loop), ("vmap", vmapped)):
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    load_after = os.getloadavg()[0]
    medians = {name: statistics.median(t) for name, t in times.items()}
    print(f"per-example gradients of a {n_in}-{n_hidden}-1 tanh network, "
          f"{opts.examples} examples, wall clock, median of {opts.repeats}")
    for name, t in medians.items():
        print(f"  {name:12s} {t * 1e3:9.2f} ms  ({t / opts.examples * 1e6:.2f} µs/example)")
    print(f"  speed-up     {medians['python loop'] / medians['vmap']:9.2f}x   "
          f"(Numba threads: {numba.get_num_threads()}, cores: {os.cpu_count()}, "
          f"load average {load_before:.1f} -> {load_after:.1f})")


if __name__ == "__main__":
    main()
