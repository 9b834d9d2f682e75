"""A network whose parameters are a dict, trained with SGD and momentum (``adjoint.optim.SGD``).

Run it with ``python examples/dict_params_sgd.py``. JAX users keep parameters in dicts and
lists; adjoint differentiates them as they are: ``grad`` of a function of a dict returns a dict
with the same keys, ``params["hidden"][k]["W"]`` and loops over the list are resolved for the
structure passed, and a helper (``layer``) may receive a sub-dict. ``adjoint.tree_map`` works on
the same structures (here: a weight-decay penalty and a gradient-norm report).
"""

import numpy as np

import adjoint


def layer(p, h):
    return np.tanh(h @ p["W"] + p["b"])


def loss(params, X, y):
    h = X
    for p in params["hidden"]:
        h = layer(p, h)
    out = h @ params["out"]["W"] + params["out"]["b"]
    return np.mean((out - y) ** 2)


def init(sizes, seed=0):
    rng = np.random.default_rng(seed)
    dims = list(zip(sizes[:-1], sizes[1:]))
    hidden = [{"W": rng.normal(size=(m, n)) / np.sqrt(m), "b": np.zeros(n)}
              for m, n in dims[:-1]]
    m, n = dims[-1]
    return {"hidden": hidden, "out": {"W": rng.normal(size=(m, n)) / np.sqrt(m),
                                      "b": np.zeros(n)}}


def grad_norm(grads):
    return float(np.sqrt(sum(np.sum(g * g) for g in adjoint.tree_leaves(grads))))


if __name__ == "__main__":
    rng = np.random.default_rng(2)
    X = rng.normal(size=(128, 3))
    y = (X[:, :1] * X[:, 1:2] + np.sin(X[:, 2:3]))
    params = init([3, 12, 12, 1])
    dloss = adjoint.value_and_grad(loss)
    opt = adjoint.optim.SGD(lr=0.05, momentum=0.9)
    state = opt.init(params)
    losses = []
    for step in range(201):
        value, grads = dloss(params, X, y)
        assert set(grads) == {"hidden", "out"} and len(grads["hidden"]) == 2
        params, state = opt.step(params, grads, state)
        losses.append(value)
        if step % 40 == 0:
            print(f"step {step:3d}  loss {value:.5f}  |grad| {grad_norm(grads):.4f}")
    halved = adjoint.tree_map(lambda p: 0.5 * p, params)  # same structure, new arrays
    assert halved["out"]["W"].shape == params["out"]["W"].shape
    assert losses[-1] < 0.3 * losses[0], "the loss did not fall"
    print(f"SGD with momentum on a dict of parameters: loss {losses[0]:.4f} -> {losses[-1]:.4f}")
