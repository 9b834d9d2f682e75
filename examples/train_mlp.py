"""Train a two-layer MLP with hand-written SGD and Adam, using ``value_and_grad(jit=True)``.

Run it with ``python examples/train_mlp.py``. In PyTorch the loop body would be
``opt.zero_grad(); loss = model(X); loss.backward(); opt.step()``. Here the loss is a plain
function of the parameters, ``value_and_grad`` returns the loss and the four gradients from one
call, and the optimizers are a few lines of NumPy: there is nothing to zero, because gradients are
returned, not accumulated on the parameters.
"""

import numpy as np

import adjoint


def mlp_loss(W1, b1, W2, b2, X, y):
    h = np.tanh(X @ W1 + b1)  # (n, hidden)
    pred = h @ W2 + b2  # (n,)
    return np.mean((pred - y) ** 2)


# One compiled function returns the loss and the gradients of the four parameters.
loss_and_grads = adjoint.value_and_grad(mlp_loss, wrt=("W1", "b1", "W2", "b2"), jit=True)


def make_data(n=256, features=4, seed=0):
    """A smooth nonlinear regression target the network can fit."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, features))
    y = np.sin(X[:, 0]) + 0.5 * X[:, 1] * X[:, 2]
    return X, y


def init_params(features=4, hidden=16, seed=1):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(features, hidden)) / np.sqrt(features), np.zeros(hidden),
            rng.normal(size=hidden) / np.sqrt(hidden), 0.0]


def sgd(params, X, y, steps, lr=0.1):
    losses = []
    for _ in range(steps):
        loss, grads = loss_and_grads(*params, X, y)
        params = [p - lr * g for p, g in zip(params, grads)]
        losses.append(loss)
    return params, losses


def adam(params, X, y, steps, lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8):
    m = [np.zeros_like(p) for p in params]  # first moments (floats for the scalar b2)
    v = [np.zeros_like(p) for p in params]  # second moments
    losses = []
    for t in range(1, steps + 1):
        loss, grads = loss_and_grads(*params, X, y)
        m = [beta1 * mk + (1 - beta1) * g for mk, g in zip(m, grads)]
        v = [beta2 * vk + (1 - beta2) * g * g for vk, g in zip(v, grads)]
        params = [p - lr * (mk / (1 - beta1**t)) / (np.sqrt(vk / (1 - beta2**t)) + eps)
                  for p, mk, vk in zip(params, m, v)]
        losses.append(loss)
    return params, losses


def report(name, losses, every):
    print(f"{name}:")
    for step in range(0, len(losses), every):
        print(f"  step {step:4d}  loss {losses[step]:.4f}")
    print(f"  step {len(losses):4d}  loss {losses[-1]:.4f}")


if __name__ == "__main__":
    X, y = make_data()
    _, sgd_losses = sgd(init_params(), X, y, steps=300)
    report("SGD (lr=0.1)", sgd_losses, every=50)
    _, adam_losses = adam(init_params(), X, y, steps=300)
    report("Adam (lr=0.01)", adam_losses, every=50)

    assert sgd_losses[-1] < 0.5 * sgd_losses[0], "SGD did not reduce the loss"
    assert adam_losses[-1] < 0.5 * adam_losses[0], "Adam did not reduce the loss"
    print("the loss fell with both optimizers")
