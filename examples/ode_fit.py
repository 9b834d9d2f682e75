"""Fit the parameters of an ODE by gradient descent through an explicit-Euler solver.

Run it with ``python examples/ode_fit.py``. A damped oscillator ``x'' = -k x - c x'`` is
integrated with explicit Euler for 2,000 steps; the loss compares the trajectory with
observations. ``adjoint.grad(..., jit=True)`` turns the solver loop into its adjoint — a
forward sweep that records what the backward sweep needs, then the loop run backwards — and
Numba compiles both, so each gradient costs about as much as a few solves.
"""

import numpy as np

import adjoint


def trajectory_loss(k, c, x0, v0, dt, observed):
    """Mean squared distance between the simulated positions and ``observed``."""
    x = x0
    v = v0
    loss = 0.0
    for i in range(observed.shape[0]):
        a = -k * x - c * v
        x = x + dt * v
        v = v + dt * a
        loss += (x - observed[i]) ** 2
    return loss / observed.shape[0]


def simulate(k, c, x0, v0, dt, n):
    x, v = x0, v0
    xs = np.empty(n)
    for i in range(n):
        x, v = x + dt * v, v + dt * (-k * x - c * v)
        xs[i] = x
    return xs


loss_and_grad = adjoint.value_and_grad(trajectory_loss, wrt=("k", "c"), jit=True)


if __name__ == "__main__":
    x0, v0, dt, n = 1.0, 0.0, 0.005, 2000
    k_true, c_true = 4.0, 0.3
    rng = np.random.default_rng(0)
    observed = simulate(k_true, c_true, x0, v0, dt, n) + 0.01 * rng.normal(size=n)

    k, c = 2.0, 1.0  # initial guess
    lr = 1.0
    first = None
    for step in range(101):
        loss, (dk, dc) = loss_and_grad(k, c, x0, v0, dt, observed)
        first = loss if first is None else first
        if step % 10 == 0:
            print(f"step {step:3d}  loss {loss:.6f}  k {k:.4f}  c {c:.4f}")
        k -= lr * dk
        c -= lr * dc
    print(f"fitted k = {k:.3f} (true {k_true}), c = {c:.3f} (true {c_true})")
    assert loss < 0.01 * first
    assert abs(k - k_true) < 0.05 and abs(c - c_true) < 0.05
    print()
    print("the generated adjoint (the Euler loop, then the same loop run backwards):")
    print(loss_and_grad.source)
