"""Hand-derived gradients of the functions in ``workloads.py``: the practical floor.

Takes: the same arguments as the matching workload.
Guarantees: each ``<name>_grad`` returns the gradient with respect to the workload's ``wrt``
arguments (listed in ``suite.py``) in the shape ``adjoint.grad`` promises: one value for one
argument, a tuple in ``wrt`` order for several, each with its argument's type and shape. Every
function compiles under ``numba.njit`` as written (the "hand Numba adjoint" column); the
vectorized ones also run as plain NumPy (the "hand NumPy grad" column). ``run.py --verify`` checks
all of them against central finite differences.

They are written the way a careful person would write an adjoint by hand: a forward sweep that
stores only what the backward sweep needs, and a backward sweep with no allocation beyond the
result.
"""

import numpy as np


def poly_grad(x):
    return 2.0 * x + 3.0


def rosenbrock_grad(x):
    # x is an input and never overwritten, so the backward sweep needs no tape; the order of
    # the loop does not matter for a sum, so one forward pass accumulates every partial.
    n = x.shape[0]
    g = np.zeros(n)
    for i in range(n - 1):
        t = x[i + 1] - x[i] * x[i]
        g[i + 1] += 200.0 * t
        g[i] += -400.0 * t * x[i] - 2.0 * (1.0 - x[i])
    return g


def lotka_volterra_grad(a, b, c, d, n_steps):
    dt = 0.01
    # Forward sweep: the backward sweep needs the state before every step and after it.
    us = np.empty(n_steps + 1)
    vs = np.empty(n_steps + 1)
    u = 1.0
    v = 0.5
    us[0] = u
    vs[0] = v
    for step in range(n_steps):
        du = a * u - b * u * v
        dv = d * u * v - c * v
        u = u + dt * du
        v = v + dt * dv
        us[step + 1] = u
        vs[step + 1] = v
    # Backward sweep. u_bar, v_bar are the adjoints of the state after step k.
    a_bar = 0.0
    b_bar = 0.0
    c_bar = 0.0
    d_bar = 0.0
    u_bar = 0.0
    v_bar = 0.0
    for k in range(n_steps - 1, -1, -1):
        # loss += dt * (u' * u' + v' * v') with u', v' the state after step k
        u_bar += 2.0 * dt * us[k + 1]
        v_bar += 2.0 * dt * vs[k + 1]
        # u' = u + dt * du and v' = v + dt * dv, with u, v the state before step k
        u = us[k]
        v = vs[k]
        du_bar = dt * u_bar
        dv_bar = dt * v_bar
        a_bar += du_bar * u
        b_bar -= du_bar * u * v
        c_bar -= dv_bar * v
        d_bar += dv_bar * u * v
        new_u_bar = u_bar + du_bar * (a - b * v) + dv_bar * d * v
        v_bar = v_bar - du_bar * b * u + dv_bar * (d * u - c)
        u_bar = new_u_bar
    return a_bar, b_bar, c_bar, d_bar


def huber_grad(pred, target, delta):
    n = pred.shape[0]
    g = np.empty(n)
    for i in range(n):
        r = pred[i] - target[i]
        if abs(r) <= delta:
            g[i] = r
        elif r > 0.0:
            g[i] = delta
        else:
            g[i] = -delta
    return g


def fixed_point_sqrt_grad(a, x0, tol, max_iter):
    # The trip count is known only at the end, so the iterates go on a list (under Numba a
    # growable typed list; reassigning a growing array inside the loop measured ~3x slower).
    xs = [x0]
    x = x0
    step = 1.0
    k = 0
    while abs(step) >= tol and k < max_iter:
        xs.append(x)
        step = 0.01 * (x * x - a)
        x = x - step
        k += 1
    # xs[j] is the iterate entering trip j, counting trips from 1 (xs[0] only types the list).
    # x_{j+1} = x_j - 0.01 * (x_j**2 - a): d/da = 0.01, d/dx_j = 1 - 0.02 * x_j
    x_bar = 1.0
    a_bar = 0.0
    for j in range(k, 0, -1):
        a_bar += 0.01 * x_bar
        x_bar *= 1.0 - 0.02 * xs[j]
    return a_bar


def mlp_loss_grad(W1, b1, w2, b2, X, y):
    n = X.shape[0]
    h = np.tanh(X @ W1 + b1)
    pred = h @ w2 + b2
    pred_bar = (2.0 / n) * (pred - y)
    w2_bar = h.T @ pred_bar
    b2_bar = np.sum(pred_bar)
    z_bar = np.outer(pred_bar, w2) * (1.0 - h * h)
    W1_bar = X.T @ z_bar
    b1_bar = np.sum(z_bar, axis=0)
    return W1_bar, b1_bar, w2_bar, b2_bar


def softmax_xent_grad(W, b, X, Y):
    # d/dz of mean cross-entropy is (softmax(z) - Y) / n. The shift by max(z) contributes
    # nothing: every row of softmax(z) - Y sums to zero.
    n = X.shape[0]
    z = X @ W + b
    e = np.exp(z - np.max(z))
    z_bar = (e / np.sum(e, axis=1)[:, None] - Y) / n
    return X.T @ z_bar, np.sum(z_bar, axis=0)
