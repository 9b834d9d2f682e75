"""The functions the benchmark differentiates, written the way a user would write them.

Takes: nothing; each function is plain Python over floats and NumPy arrays.
Guarantees: every function here is scalar-valued, has no side effects, and runs unchanged in
CPython, under ``numba.njit`` (the "Numba primal" column) and through ``adjoint.grad``. The
vectorized ones keep to the NumPy subset Numba compiles (no ``keepdims``, ``np.max`` without
``axis``), so the Numba primal and the adjoint see exactly the same source.

The sizes and the ``wrt`` arguments of each function live in ``suite.py``; the hand-written
gradients in ``hand_adjoints.py``.
"""

import numpy as np


def poly(x):
    """Seed polynomial on one float: measures the cost of a call, not of arithmetic."""
    return x**2 + 3 * x + 1


def rosenbrock(x):
    """Chained Rosenbrock function over a 1-D array, as a scalar loop."""
    n = x.shape[0]
    s = 0.0
    for i in range(n - 1):
        s += 100.0 * (x[i + 1] - x[i] ** 2) ** 2 + (1.0 - x[i]) ** 2
    return s


def lotka_volterra(a, b, c, d, n_steps):
    """Explicit-Euler predator-prey model; loss = time-integral of u**2 + v**2 along the path."""
    dt = 0.01
    u = 1.0
    v = 0.5
    loss = 0.0
    for step in range(n_steps):
        du = a * u - b * u * v
        dv = d * u * v - c * v
        u = u + dt * du
        v = v + dt * dv
        loss += dt * (u * u + v * v)
    return loss


def huber(pred, target, delta):
    """Huber loss, element by element, with a branch per element."""
    n = pred.shape[0]
    total = 0.0
    for i in range(n):
        r = pred[i] - target[i]
        if abs(r) <= delta:
            total += 0.5 * r * r
        else:
            total += delta * (abs(r) - 0.5 * delta)
    return total


def fixed_point_sqrt(a, x0, tol, max_iter):
    """Damped fixed-point iteration toward sqrt(a), stopped by a tolerance or an iteration cap.

    The trip count depends on the data, so the gradient is that of the iterate actually
    computed (locally the trip count is constant; near convergence it approaches 1/(2 sqrt a)).
    """
    x = x0
    step = 1.0
    k = 0
    while abs(step) >= tol and k < max_iter:
        step = 0.01 * (x * x - a)
        x = x - step
        k += 1
    return x


def mlp_loss(W1, b1, w2, b2, X, y):
    """One hidden tanh layer, one linear output, mean squared error."""
    h = np.tanh(X @ W1 + b1)
    pred = h @ w2 + b2
    return np.mean((pred - y) ** 2)


def softmax_xent(W, b, X, Y):
    """Mean softmax cross-entropy against one-hot labels Y.

    The logits are shifted by their overall maximum for stability (Numba's ``np.max`` takes no
    ``axis``); because every row of Y sums to one, mean(log-sum-exp) - mean(sum(Y * z)) is the
    cross-entropy.
    """
    z = X @ W + b
    z = z - np.max(z)
    lse = np.log(np.sum(np.exp(z), axis=1))
    return (np.sum(lse) - np.sum(Y * z)) / X.shape[0]
