"""Two functions to differentiate: a scalar polynomial and a small neural-network loss.

Run it with ``python examples/quickstart.py``, or look at the generated code from the shell:

    adjoint show examples/quickstart.py:f
    adjoint show examples/quickstart.py:loss --wrt w,b
    adjoint check examples/quickstart.py:loss --wrt w,b --args 'w0, b0, X, y'

The functions are left undecorated so that the command line can differentiate them; the sample
data below (``w0``, ``b0``, ``X``, ``y``) is what the ``check`` line above evaluates them at.
"""

import numpy as np

import adjoint


def f(x):
    return x**2 + 3 * x + 1


def loss(w, b, X, y):
    h = np.tanh(X @ w + b)
    return np.mean((h - y) ** 2)


# Eight samples with three features; targets in (-1, 1), the range of tanh.
rng = np.random.default_rng(0)
X = rng.normal(size=(8, 3))
y = np.tanh(rng.normal(size=8))
w0 = 0.1 * rng.normal(size=3)
b0 = 0.0


if __name__ == "__main__":
    df = adjoint.grad(f)
    print("f'(2.0) =", df(2.0))  # 2*2 + 3 = 7.0
    print(df.source)

    dloss = adjoint.grad(loss, wrt=("w", "b"))
    dw, db = dloss(w0, b0, X, y)
    print("dloss/dw =", dw, " dloss/db =", db)
    print(dloss.source)
