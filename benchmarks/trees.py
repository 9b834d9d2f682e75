"""What a tree argument costs per call: the same MLP loss with its four parameters passed
separately and in a dict, through ``value_and_grad``, in Python mode and under ``jit=True``.

Usage: ``python benchmarks/trees.py [--calls N]``. Prints microseconds per call and the ratio
(dict / separate). The generated code is the same for both (a dict is flattened to its leaves
before the call); the difference is the flattening of the arguments and the rebuilding of the
gradient dict, a fixed cost per call that matters only for small problems.
"""

import argparse
import os
import sys
import time
from pathlib import Path

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import numpy as np  # noqa: E402

try:
    import adjoint
except ImportError:  # run from a checkout
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
    import adjoint


def loss_separate(W1, b1, W2, b2, X, y):
    h = np.tanh(X @ W1 + b1)
    return np.mean((h @ W2 + b2 - y) ** 2)


def loss_dict(p, X, y):
    h = np.tanh(X @ p["W1"] + p["b1"])
    return np.mean((h @ p["W2"] + p["b2"] - y) ** 2)


def per_call(fn, args, calls):
    fn(*args)  # derive (and compile) first
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(calls):
            fn(*args)
        best = min(best, (time.perf_counter() - start) / calls)
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=500)
    calls = parser.parse_args().calls
    rng = np.random.default_rng(0)
    p = {"W1": rng.normal(size=(4, 8)), "b1": np.zeros(8), "W2": rng.normal(size=8), "b2": 0.0}
    X, y = rng.normal(size=(16, 4)), rng.normal(size=16)
    print("| mode | separate (us/call) | dict (us/call) | dict / separate |")
    print("| --- | --- | --- | --- |")
    for jit in (False, True):
        separate = adjoint.value_and_grad(loss_separate, wrt=(0, 1, 2, 3), jit=jit)
        tree = adjoint.value_and_grad(loss_dict, jit=jit)
        a = per_call(separate, (p["W1"], p["b1"], p["W2"], p["b2"], X, y), calls)
        b = per_call(tree, (p, X, y), calls)
        print(f"| {'jit=True' if jit else 'Python'} | {a * 1e6:.1f} | {b * 1e6:.1f} | "
              f"{b / a:.2f} |")


if __name__ == "__main__":
    main()
