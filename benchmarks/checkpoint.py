"""Checkpointing: memory and time of the gradient of a long Euler ODE solve, with and without it.

Takes: nothing (``--large`` adds 10**6 steps, ``--repeats R`` the timed calls per cell, ``--jit
0`` runs Python mode instead, with 10**3 and 10**4 steps). The ODE is eight damped pendulums
integrated with explicit Euler (as ``examples/ode_checkpoint.py``); the gradient is
``adjoint.grad(..., jit=True, checkpoint=option)`` for ``option`` in None, "auto", 4 and 32.

Prints, per number of steps and option: the snapshots used, the peak memory the call adds to the
process (Linux: the peak resident set, reset before the call through ``/proc/self/clear_refs``
after ``malloc_trim`` gave freed memory back;
elsewhere, and in Python mode, ``tracemalloc``'s peak, which does not see Numba's
allocations), the median time of R calls, its ratio to no checkpointing, and revolve's
*forward factor* — the forward steps run (recomputed and taped) per step, 1 without
checkpointing — the reference the time ratio is read against: the backward sweep costs the same
with or without checkpointing, so the time ratio stays below the forward factor.

    python benchmarks/checkpoint.py [--large]
"""

import argparse
import ctypes
import math
import os
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

try:
    import adjoint
except ImportError:  # a checkout without the package installed
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
    import adjoint
from adjoint.runtime.revolve import auto_snapshots


def pendulums(k, c, x0, v0, w, observed, duration, steps):
    """Squared distance of the final angles from ``observed`` after ``steps`` Euler steps."""
    dt = duration / steps
    x = x0
    v = v0
    for i in range(steps):
        a = -k * w * np.sin(x) - c * v
        x = x + dt * v
        v = v + dt * a
    return np.sum((x - observed) ** 2)


def forward_factor(n, s):
    """Forward steps per step of revolve's schedule for n steps and s snapshots: the fewest
    recomputations (r * n - C(s + r, s + 1), r the least with C(s + r, s) >= n) plus the taped
    run of each step."""
    if n <= 1:
        return 1.0
    r = 1
    while math.comb(s + r, s) < n:
        r += 1
    return (r * n - math.comb(s + r, s + 1) + n) / n


_PROC = Path("/proc/self/status")


def _rss_kib(field):
    for line in _PROC.read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def peak_bytes(call, use_rss):
    """The memory one call of ``call`` adds at its peak: resident set (reset first) or
    tracemalloc's peak."""
    if use_rss:
        _trim()  # give freed memory back, so that the resident set is what is in use
        Path("/proc/self/clear_refs").write_text("5")  # reset the peak resident set
        before = _rss_kib("VmRSS")
        call()
        return max(_rss_kib("VmHWM") - before, 0) * 1024
    tracemalloc.start()
    try:
        call()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _trim():
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: freed memory may stay resident
        pass


def _can_reset_rss():
    try:
        Path("/proc/self/clear_refs").write_text("5")
        _rss_kib("VmHWM")
        return True
    except OSError:
        return False
    except KeyError:
        return False


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large", action="store_true", help="add 10**6 steps")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--jit", type=int, default=1)
    opts = parser.parse_args()
    jit = bool(opts.jit)
    sizes = [10 ** 4, 10 ** 5] + ([10 ** 6] if opts.large else [])
    if not jit:
        sizes = [10 ** 3, 10 ** 4] + ([10 ** 5] if opts.large else [])
    use_rss = jit and _can_reset_rss()
    options = [None, "auto", 4, 32]

    w = np.linspace(0.5, 2.0, 8)
    x0, v0 = np.linspace(0.2, 1.5, 8), np.zeros(8)
    observed = np.full(8, 0.1)
    gradients = {}
    for option in options:
        gradients[option] = adjoint.grad(pendulums, wrt=("k", "c"), jit=jit, checkpoint=option)
        gradients[option](1.5, 0.5, x0, v0, w, observed, 10.0, 100)  # compile / derive

    memory = "peak resident set added" if use_rss else "tracemalloc peak"
    print(f"gradient of an Euler ODE (8 pendulums), jit={jit}; memory: {memory}; "
          f"median of {opts.repeats} calls; load average {os.getloadavg()[0]:.2f}")
    header = (f"{'steps':>9} {'checkpoint':>10} {'snapshots':>9} {'memory KiB':>11} "
              f"{'time s':>8} {'time ratio':>10} {'forward factor':>14}")
    print(header)
    print("-" * len(header))
    for n in sizes:
        args = (1.5, 0.5, x0, v0, w, observed, 10.0, n)
        plain_time, reference = None, None
        for option in options:
            grad = gradients[option]
            times = []
            result = None
            for _ in range(opts.repeats):
                start = time.perf_counter()
                result = grad(*args)
                times.append(time.perf_counter() - start)
            added = peak_bytes(lambda g=grad, a=args: g(*a), use_rss)
            seconds = statistics.median(times)
            if option is None:
                plain_time, reference = seconds, result
                snapshots, factor = "-", 1.0
            else:
                assert np.allclose(result, reference, rtol=1e-10, atol=0.0)
                s = auto_snapshots(n) if option == "auto" else option
                snapshots, factor = str(s), forward_factor(n, s)
            print(f"{n:>9,} {option!s:>10} {snapshots:>9} {added // 1024:>11,} "
                  f"{seconds:>8.3f} {seconds / plain_time:>10.2f} {factor:>14.2f}")


if __name__ == "__main__":
    main()
