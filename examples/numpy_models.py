"""Vectorized NumPy models, written the way users write them, differentiated by adjoint.

Run it with ``python examples/numpy_models.py``: for every model below it derives the gradient,
compares it with central finite differences (``adjoint.check_grad``) and prints the worst
relative error. Look at any generated adjoint from the shell, for example:

    adjoint show examples/numpy_models.py:mlp_loss --wrt W1,b1,W2,b2
    adjoint show examples/numpy_models.py:softmax_cross_entropy --wrt W

Activations (``relu`` ... ``log_softmax``) map arrays to arrays; the losses after them return a
scalar, so ``adjoint.grad`` applies. ``SAMPLES`` holds, for each model, the arguments it is
evaluated at and the parameters it is differentiated with respect to.
"""

import numpy as np

import adjoint

# --- activations ---------------------------------------------------------------------------


def relu(x):
    return np.maximum(x, 0.0)


def leaky_relu(x):
    return np.where(x > 0, x, 0.01 * x)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def softplus(x):
    return np.logaddexp(0, x)


def gelu(x):
    # The tanh approximation of GELU (Hendrycks & Gimpel), as in GPT-2 and BERT.
    return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))


def softmax(x):
    e = np.exp(x - np.max(x, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)


def log_softmax(x):
    shifted = x - np.max(x, axis=-1, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))


def logsumexp(x):
    m = x.max()
    return m + np.log(np.sum(np.exp(x - m)))


# --- losses ---------------------------------------------------------------------------------


def mse(pred, target):
    return np.mean((pred - target) ** 2)


def binary_cross_entropy(logits, labels):
    p = 1 / (1 + np.exp(-logits))
    return -np.mean(labels * np.log(p) + (1 - labels) * np.log(1 - p))


def categorical_cross_entropy(logits, onehot):
    shifted = logits - np.max(logits, axis=1, keepdims=True)
    logp = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    return -np.sum(onehot * logp) / logits.shape[0]


def logistic_regression(w, b, X, y):
    z = X @ w + b
    # log(1 + exp(-y z)) for labels y in {-1, +1}, written overflow-free.
    return np.mean(np.logaddexp(0, -y * z)) + 0.01 * np.dot(w, w)


def hinge_loss(w, b, X, y):
    margins = 1 - y * (X @ w + b)
    return np.mean(np.maximum(margins, 0.0)) + 0.5 * np.sum(w**2)


def mlp_loss(W1, b1, W2, b2, X, y):
    h = np.tanh(X @ W1 + b1)
    out = h @ W2 + b2
    return np.mean((out[:, 0] - y) ** 2)


def softmax_cross_entropy(W, b, X, labels):
    logits = X @ W + b
    m = logits.max(axis=1, keepdims=True)
    logp = logits - m - np.log(np.exp(logits - m).sum(axis=1, keepdims=True))
    return -np.mean(logp[np.arange(X.shape[0]), labels])


def rnn_loss(Wx, Wh, b, xs, target):
    h = np.zeros(Wh.shape[0])
    for t in range(xs.shape[0]):
        h = np.tanh(Wx @ xs[t] + Wh @ h + b)
    return np.sum((h - target) ** 2)


def batch_norm_loss(gamma, beta, X):
    mu = X.mean(axis=0)
    var = X.var(axis=0)
    Xhat = (X - mu) / np.sqrt(var + 1e-5)
    out = gamma * Xhat + beta
    return np.sum(np.tanh(out) ** 2)


# --- sample data ----------------------------------------------------------------------------

rng = np.random.default_rng(0)
X = rng.normal(size=(16, 5))
x = rng.normal(size=7)
labels = rng.integers(0, 3, size=16)

SAMPLES = {
    # name: (arguments, wrt)
    "logsumexp": ((x,), 0),
    "mse": ((x, np.sin(x)), 0),
    "binary_cross_entropy": ((x, (x > 0).astype(float)), 0),
    "categorical_cross_entropy": ((X[:, :3], np.eye(3)[labels]), 0),
    "logistic_regression": ((0.1 * rng.normal(size=5), 0.2, X, np.sign(X[:, 0])), ("w", "b")),
    "hinge_loss": ((0.1 * rng.normal(size=5), 0.2, X, np.sign(X[:, 1])), ("w", "b")),
    "mlp_loss": ((0.3 * rng.normal(size=(5, 8)), np.zeros(8), 0.3 * rng.normal(size=(8, 1)),
                  np.zeros(1), X, np.sin(X[:, 0])), ("W1", "b1", "W2", "b2")),
    "softmax_cross_entropy": ((0.1 * rng.normal(size=(5, 3)), np.zeros(3), X, labels),
                              ("W", "b")),
    "rnn_loss": ((0.4 * rng.normal(size=(4, 5)), 0.4 * rng.normal(size=(4, 4)), np.zeros(4),
                  rng.normal(size=(6, 5)), rng.normal(size=4)), ("Wx", "Wh", "b")),
    "batch_norm_loss": ((rng.uniform(0.5, 1.5, size=5), rng.normal(size=5), X),
                        ("gamma", "beta", "X")),
}


def main():
    for name, (args, wrt) in SAMPLES.items():
        fn = globals()[name]
        error = adjoint.check_grad(fn, *args, wrt=wrt)
        print(f"{name:28s} worst relative error vs finite differences: {error:.1e}")
    # Activations map arrays to arrays: pull a cotangent back through each with adjoint.vjp.
    cotangent = np.linspace(-1.0, 1.0, x.size)
    for act in (relu, leaky_relu, sigmoid, softplus, gelu, softmax, log_softmax):
        value, pullback = adjoint.vjp(act)(x)
        print(f"{act.__name__:28s} vjp: {np.round(pullback(cotangent), 3)}")


if __name__ == "__main__":
    main()
