"""Fit a long ODE solve with checkpointing: the gradient's memory stays flat as the steps grow.

Run it with ``python examples/ode_checkpoint.py`` (``--steps N`` sets the number of Euler steps,
20,000 by default). Eight damped pendulums ``x'' = -k w sin(x) - c x'`` are integrated with
explicit Euler over a fixed time; the loss compares the final angles with observed ones.

Without checkpointing, the gradient keeps the state of every step for the backward sweep: its
memory grows with the number of steps. With ``checkpoint="auto"`` (or an int ``s``) adjoint keeps
at most ``s`` snapshots of the state (``"auto"``: about log2 of the steps) and recomputes the
steps in between as revolve's schedule says: the same gradient, for a few times the time.

First one gradient, in Python mode, measured with ``tracemalloc``; then a fit of ``k`` and ``c``
by L-BFGS with the checkpointed gradient compiled by Numba (``jit=True``).
"""

import argparse
import time
import tracemalloc

import numpy as np
from scipy.optimize import minimize

import adjoint


def pendulums(k, c, x0, v0, w, observed, duration, steps):
    """Squared distance of the final angles from ``observed`` after ``steps`` Euler steps."""
    dt = duration / steps
    x = x0
    v = v0
    for _ in range(steps):
        a = -k * w * np.sin(x) - c * v
        x = x + dt * v
        v = v + dt * a
    return np.sum((x - observed) ** 2)


def final_angles(k, c, x0, v0, w, duration, steps):
    dt = duration / steps
    x, v = x0, v0
    for _ in range(steps):
        x, v = x + dt * v, v + dt * (-k * w * np.sin(x) - c * v)
    return x


def measure(gradient, args):
    """(gradient, seconds, peak bytes Python allocated during a second call)."""
    start = time.perf_counter()
    result = gradient(*args)
    seconds = time.perf_counter() - start
    tracemalloc.start()  # it slows allocations down: not while timing
    gradient(*args)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return result, seconds, peak


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20_000)
    steps = parser.parse_args().steps

    w = np.linspace(0.5, 2.0, 8)
    x0, v0 = np.linspace(0.2, 1.5, 8), np.zeros(8)
    duration, k_true, c_true = 10.0, 2.0, 0.3
    observed = final_angles(k_true, c_true, x0, v0, w, duration, steps)
    args = (1.5, 0.5, x0, v0, w, observed, duration, steps)

    print(f"one gradient over {steps:,} Euler steps (Python mode):")
    print(f"{'checkpoint':>12}  {'peak memory':>12}  {'time':>8}")
    rows = {}
    for option in (None, "auto", 4):
        gradient = adjoint.grad(pendulums, wrt=("k", "c"), checkpoint=option)
        gradient(*args[:-1], 10)  # derive the code first: measure the gradient alone
        rows[option] = measure(gradient, args)
        _, seconds, peak = rows[option]
        print(f"{option!s:>12}  {peak / 2 ** 20:9.2f} MiB  {seconds:7.2f}s")
    plain = rows[None]
    for option in ("auto", 4):
        assert np.allclose(rows[option][0], plain[0], rtol=1e-12, atol=0.0)
        assert rows[option][2] * 10 < plain[2], "checkpointing should need far less memory"
    print("the same gradient with and without checkpointing; "
          f"memory {plain[2] / rows['auto'][2]:.0f}x smaller with 'auto', "
          f"time {rows['auto'][1] / plain[1]:.1f}x")

    loss_and_grad = adjoint.value_and_grad(pendulums, wrt=("k", "c"), checkpoint="auto",
                                           jit=True)

    def objective(p):
        loss, grads = loss_and_grad(p[0], p[1], x0, v0, w, observed, duration, steps)
        return loss, np.array(grads)

    start = time.perf_counter()
    fit = minimize(objective, np.array([1.5, 0.5]), jac=True, method="L-BFGS-B",
                   bounds=[(0.5, 4.0), (0.0, 1.0)])
    k, c = fit.x
    print(f"\nL-BFGS with checkpoint='auto', jit=True: {fit.nfev} gradients in "
          f"{time.perf_counter() - start:.1f}s (the first compiles)")
    print(f"fitted k = {k:.3f} (true {k_true}), c = {c:.3f} (true {c_true})")
    assert abs(k - k_true) < 0.02 and abs(c - c_true) < 0.02


if __name__ == "__main__":
    main()
