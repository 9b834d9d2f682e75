"""The benchmark cases: which workload, with respect to what, on which inputs.

Takes: nothing at import; ``make_args`` takes a seeded ``numpy.random.Generator``.
Guarantees: ``CASES`` lists every case in table order with a unique ``name`` (the one ``--only``
takes). Inputs are deterministic for a given seed and keep away from the kinks of the workloads
(no Huber residual within 1e-3 of ``delta``), so central finite differences are meaningful.
"""

from collections.abc import Callable
from dataclasses import dataclass

import hand_adjoints
import numpy as np
import workloads


@dataclass(frozen=True)
class Case:
    name: str
    title: str  # the row label of the table
    primal: Callable
    wrt: tuple  # parameter names, in the order gradients are returned
    make_args: Callable  # Generator -> tuple of positional arguments
    hand_grad: Callable
    vectorized: bool  # True: NumPy array code (gets the NumPy columns)

    @property
    def wrt_spec(self):
        """``wrt`` as ``adjoint.grad`` takes it: a bare name for one argument, else the tuple."""
        return self.wrt[0] if len(self.wrt) == 1 else self.wrt

    def wrt_positions(self):
        names = self.primal.__code__.co_varnames[: self.primal.__code__.co_argcount]
        return tuple(names.index(name) for name in self.wrt)


def _poly_args(rng):
    return (1.7,)


def _rosenbrock_args(rng):
    return (rng.uniform(-1.5, 1.5, size=1000),)


def _lotka_volterra_args(rng):
    return (1.0, 0.6, 0.8, 0.5, 1000)


def _huber_args(rng):
    n = 1000
    pred = rng.normal(size=n)
    target = rng.normal(size=n)
    delta = 1.0
    # About half the residuals fall on each side of delta; none sits on the kink.
    r = pred - target
    near_kink = np.abs(np.abs(r) - delta) < 1e-3
    pred[near_kink] += 0.01
    return pred, target, delta


def _fixed_point_args(rng):
    # Contraction factor 1 - 0.02 * sqrt(2) ~ 0.97: about 900 iterations to |step| < 1e-13.
    return (2.0, 1.0, 1e-13, 100_000)


def _mlp_args(rng):
    X = rng.normal(size=(256, 64))
    W1 = rng.normal(size=(64, 128)) / 8.0
    b1 = 0.1 * rng.normal(size=128)
    w2 = rng.normal(size=128) / np.sqrt(128.0)
    b2 = 0.1
    y = rng.normal(size=256)
    return W1, b1, w2, b2, X, y


def _softmax_args(rng):
    n, features, classes = 512, 100, 10
    X = rng.normal(size=(n, features))
    W = 0.1 * rng.normal(size=(features, classes))
    b = 0.1 * rng.normal(size=classes)
    Y = np.zeros((n, classes))
    Y[np.arange(n), rng.integers(0, classes, size=n)] = 1.0
    return W, b, X, Y


CASES = (
    Case("poly", "poly x**2+3x+1 (float)", workloads.poly, ("x",), _poly_args,
         hand_adjoints.poly_grad, False),
    Case("rosenbrock", "Rosenbrock loop n=1000", workloads.rosenbrock, ("x",),
         _rosenbrock_args, hand_adjoints.rosenbrock_grad, False),
    Case("lotka_volterra", "Lotka-Volterra Euler 1000 steps", workloads.lotka_volterra,
         ("a", "b", "c", "d"), _lotka_volterra_args, hand_adjoints.lotka_volterra_grad, False),
    Case("huber", "Huber loop n=1000 (branchy)", workloads.huber, ("pred",), _huber_args,
         hand_adjoints.huber_grad, False),
    Case("fixed_point", "while fixed point (~900 trips)", workloads.fixed_point_sqrt, ("a",),
         _fixed_point_args, hand_adjoints.fixed_point_sqrt_grad, False),
    Case("mlp", "MLP 256x64, hidden 128 tanh", workloads.mlp_loss, ("W1", "b1", "w2", "b2"),
         _mlp_args, hand_adjoints.mlp_loss_grad, True),
    Case("softmax_xent", "softmax xent 512x100, 10 classes", workloads.softmax_xent,
         ("W", "b"), _softmax_args, hand_adjoints.softmax_xent_grad, True),
)

CASE_NAMES = tuple(case.name for case in CASES)
