"""Per-example gradient clipping (as in DP-SGD) with ``adjoint.vmap``.

Run it with ``python examples/per_example_clipping.py``. Differentially private SGD needs the
gradient of *each* example's loss, clipped to a norm bound before averaging. ``vmap`` maps the
jitted gradient over the examples: with ``jit=True`` the map is one Numba ``prange`` loop over
the compiled gradient, on every core, instead of a Python loop over 256 calls. In JAX this is
``vmap(grad(loss), in_axes=(None, None, None, 0, 0))``; in PyTorch ``torch.func.vmap``.
"""

import numpy as np

import adjoint


def example_loss(w1, b1, w2, x, y):
    """Logistic loss of a one-hidden-layer network on one example (x: features, y: ±1)."""
    h = np.tanh(w1 @ x + b1)
    return np.log(1.0 + np.exp(-y * np.dot(w2, h)))


grad = adjoint.grad(example_loss, wrt=(0, 1, 2), jit=True)
per_example_grads = adjoint.vmap(grad, in_axes=(None, None, None, 0, 0))


def clipped_mean(grads, bound):
    """Clip each example's whole gradient (all parameters together) to norm ``bound``, then
    average over the examples."""
    norms = np.sqrt(sum(np.sum(g.reshape(len(g), -1) ** 2, axis=1) for g in grads))
    scale = np.minimum(1.0, bound / np.maximum(norms, 1e-12))
    clipped = [g * scale.reshape((-1,) + (1,) * (g.ndim - 1)) for g in grads]
    return [c.mean(axis=0) for c in clipped], norms, scale


def main():
    rng = np.random.default_rng(0)
    n, features, hidden = 256, 5, 8
    X = rng.normal(size=(n, features))
    y = np.where(X[:, 0] + 0.5 * X[:, 1] ** 2 > 0.5, 1.0, -1.0)
    params = [rng.normal(size=(hidden, features)) / 2, np.zeros(hidden), rng.normal(size=hidden)]

    grads = per_example_grads(*params, X, y)
    print("per-example gradient shapes:", [g.shape for g in grads],
          f"(ran as a {per_example_grads.last_run} loop)")
    looped = [grad(*params, X[i], y[i]) for i in range(n)]
    assert all(np.allclose(grads[k][i], looped[i][k], rtol=1e-12, atol=1e-15)
               for i in range(n) for k in range(3))
    print("equal to a Python loop over the jitted gradient: yes")

    bound, rate, noise = 1.0, 0.5, 0.01
    mean_loss = lambda p: np.mean([example_loss(*p, X[i], y[i]) for i in range(n)])  # noqa: E731
    start = mean_loss(params)
    for _ in range(40):
        grads = per_example_grads(*params, X, y)
        update, norms, scale = clipped_mean(grads, bound)
        assert np.all(norms * scale <= bound * (1 + 1e-12))
        params = [p - rate * (u + noise * rng.normal(size=u.shape))
                  for p, u in zip(params, update)]
    end = mean_loss(params)
    print(f"clipped {np.mean(scale < 1):.0%} of the examples in the last step; "
          f"median gradient norm {np.median(norms):.3f}")
    print(f"mean loss {start:.4f} -> {end:.4f}")
    assert end < start
    print("the loss fell with clipped per-example gradients")


if __name__ == "__main__":
    main()
