"""Logistic regression that reports its accuracy through ``has_aux``.

Run it with ``python examples/logistic_aux.py``. The loss function returns ``(loss, aux)``;
``value_and_grad(..., has_aux=True)`` differentiates the loss only and hands back ``aux`` — any
tree, here a dict with the accuracy — from the same forward pass, as JAX's ``has_aux`` does.
The parameters are a NamedTuple. Add ``--jit`` to compile the gradient with Numba.
"""

import sys
from typing import NamedTuple

import numpy as np

import adjoint


class Params(NamedTuple):
    w: np.ndarray
    b: float


def loss_and_metrics(params, X, y):
    logits = X @ params.w + params.b
    loss = np.mean(np.logaddexp(0.0, logits) - y * logits)  # binary cross-entropy
    accuracy = np.mean((logits > 0.0) == (y > 0.5))
    return loss, {"accuracy": accuracy}


if __name__ == "__main__":
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4))
    true_w = np.array([1.5, -2.0, 0.5, 0.0])
    y = (X @ true_w + 0.3 * rng.normal(size=300) > 0.0).astype(float)
    params = Params(np.zeros(4), 0.0)
    step = adjoint.value_and_grad(loss_and_metrics, has_aux=True, jit="--jit" in sys.argv)
    opt = adjoint.optim.Adam(lr=0.1)
    state = opt.init(params)
    history = []
    for epoch in range(101):
        (loss, aux), grads = step(params, X, y)
        params, state = opt.step(params, grads, state)
        history.append((loss, aux["accuracy"]))
        if epoch % 20 == 0:
            print(f"epoch {epoch:3d}  loss {loss:.4f}  accuracy {aux['accuracy']:.3f}")
    assert type(grads) is Params
    assert history[-1][0] < 0.5 * history[0][0], "the loss did not fall"
    assert history[-1][1] > 0.9, "the classifier did not learn"
    print(f"logistic regression: accuracy {history[-1][1]:.3f}")
