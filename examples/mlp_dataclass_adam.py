"""An MLP as a dataclass model, trained with ``adjoint.optim.Adam`` — the PyTorch way of working.

Run it with ``python examples/mlp_dataclass_adam.py``. The model is a dataclass holding a list
of ``Layer`` dataclasses (like an ``nn.Module`` holding ``nn.Linear``s); the loss is a plain
function of the model, and ``value_and_grad`` returns the loss and a gradient that *is* an
``MLP`` of the same shape. ``Adam.step`` returns a new model — nothing is mutated, nothing has to
be zeroed. ``python examples/mlp_dataclass_adam.py --jit`` runs the gradient with ``jit=True``:
the model is flattened to its arrays at the call, so Numba compiles one function for this
architecture (a compile of some seconds, then each step is faster).
"""

import sys
from dataclasses import dataclass

import numpy as np

import adjoint


@dataclass
class Layer:
    W: np.ndarray
    b: np.ndarray


@dataclass
class MLP:
    layers: list
    activation: str = "tanh"  # a constant: its gradient is None


def predict(model, X):
    h = X
    for layer in model.layers[:-1]:  # the loop over the list is unrolled for its length
        h = np.tanh(h @ layer.W + layer.b)
    last = model.layers[-1]
    return h @ last.W + last.b


def mse(model, X, y):
    return np.mean((predict(model, X)[:, 0] - y) ** 2)


def init(sizes, seed=0):
    rng = np.random.default_rng(seed)
    return MLP([Layer(rng.normal(size=(m, n)) / np.sqrt(m), np.zeros(n))
                for m, n in zip(sizes[:-1], sizes[1:])])


def make_data(n=200, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2.0, 2.0, size=(n, 2))
    return X, np.sin(X[:, 0]) * np.cos(X[:, 1])


if __name__ == "__main__":
    X, y = make_data()
    model = init([2, 16, 16, 1])
    loss_and_grad = adjoint.value_and_grad(mse, jit="--jit" in sys.argv)
    opt = adjoint.optim.Adam(lr=0.02)
    state = opt.init(model)
    losses = []
    for epoch in range(301):
        loss, grads = loss_and_grad(model, X, y)
        model, state = opt.step(model, grads, state)
        losses.append(loss)
        if epoch % 50 == 0:
            print(f"epoch {epoch:3d}  loss {loss:.5f}")
    assert type(grads) is MLP and grads.activation is None and len(grads.layers) == 3
    assert losses[-1] < 0.2 * losses[0], "the loss did not fall"
    print(f"Adam on a dataclass MLP: loss {losses[0]:.4f} -> {losses[-1]:.4f}")
