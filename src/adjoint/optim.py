"""Functional optimizers with PyTorch's update formulas: SGD (momentum, Nesterov), Adam, AdamW.

Takes parameters as any tree adjoint differentiates (a float, an array, a tuple/list/dict/
NamedTuple/dataclass of them, or a plain object whose float/array attributes are its
parameters, as ``grad(..., wrt="self")`` returns its gradient) and gradients of the same
structure. ``state = opt.init(params)``; ``params, state = opt.step(params, grads, state)``
returns new parameters of the same structure and container types — fresh arrays; the
parameters and state passed in are never changed. Integer leaves and constants (strings,
None ...) are kept as they are.

The numbers are PyTorch's for the same hyper-parameters and gradients (``torch.optim.SGD``,
``Adam``, ``AdamW`` with their defaults for the options not offered here: no dampening, no
amsgrad, not maximize). With ``g`` the gradient, ``p`` a parameter and ``t`` the step count:

* SGD: ``g += weight_decay * p``; with momentum, ``b = g`` at the first step and
  ``b = momentum * b + g`` after, then ``g = g + momentum * b`` (Nesterov) or ``g = b``;
  ``p -= lr * g``.
* Adam: ``g += weight_decay * p``; ``m = β1 m + (1 - β1) g``; ``v = β2 v + (1 - β2) g²``;
  ``p -= lr / (1 - β1ᵗ) · m / (√v / √(1 - β2ᵗ) + eps)``.
* AdamW: ``p *= 1 - lr * weight_decay`` (decoupled decay), then Adam's step without decay.

The state is a NamedTuple: the step count and one buffer per parameter leaf, in
:func:`adjoint.tree_leaves` order.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from . import trees as T

__all__ = ["SGD", "Adam", "AdamW", "SGDState", "AdamState"]


class SGDState(NamedTuple):
    step: int
    momentum: tuple  # one buffer per leaf (None without momentum)


class AdamState(NamedTuple):
    step: int
    exp_avg: tuple  # first moments, one per leaf
    exp_avg_sq: tuple  # second moments, one per leaf


def _trainable(p):
    """Float leaves are trained; integers are kept (complex parameters are refused)."""
    if isinstance(p, np.ndarray):
        kind = p.dtype.kind
    else:
        kind = "f" if isinstance(p, (float, np.floating)) else "c" if isinstance(
            p, (complex, np.complexfloating)) else "i"
    if kind == "c":
        raise TypeError("adjoint.optim does not train complex parameters")
    return kind == "f"


def _leaves(params, grads):
    """(parameter leaves, definition, gradient leaves): the gradient must have the
    parameters' structure (None where the parameters hold constants)."""
    leaves, tdef = T.flatten(params, objects=True)
    try:
        g = T.leaves_like(tdef, grads, "the gradient")
    except ValueError as exc:
        raise ValueError(f"{exc}: pass the gradient of these parameters") from None
    for k, (p, gk) in enumerate(zip(leaves, g)):
        if _trainable(p) and np.shape(gk) != np.shape(p):
            raise ValueError(f"gradient leaf {k} has shape {np.shape(gk)}, its parameter "
                             f"{np.shape(p)}")
    return leaves, tdef, g


def _rebuild(params, old, new):
    """The parameters with leaves ``new``, each of its old leaf's type (a float stays a Python
    float, float32 stays float32)."""
    typed = []
    for p, q in zip(old, new):
        if isinstance(p, np.ndarray):
            q = np.asarray(q, dtype=p.dtype)
        elif q is not p:
            q = type(p)(q)
        typed.append(q)
    return T.rebuild(params, typed, objects=True, constants=lambda c: c)


def _zeros(p):
    return np.zeros_like(p) if isinstance(p, np.ndarray) else 0.0 * p


def _check(name, value, low=0.0):
    if not (isinstance(value, (int, float)) and value >= low):
        raise ValueError(f"{name} must be a number >= {low}, not {value!r}")


class SGD:
    """Stochastic gradient descent, as ``torch.optim.SGD(params, lr, momentum, nesterov=...,
    weight_decay=...)``."""

    def __init__(self, lr, momentum=0.0, nesterov=False, weight_decay=0.0):
        _check("lr", lr)
        _check("momentum", momentum)
        _check("weight_decay", weight_decay)
        if nesterov and momentum <= 0:
            raise ValueError("Nesterov momentum needs momentum > 0")
        self.lr, self.momentum, self.nesterov = lr, momentum, nesterov
        self.weight_decay = weight_decay

    def init(self, params):
        leaves = T.flatten(params, objects=True)[0]
        bufs = tuple(_zeros(p) if self.momentum and _trainable(p) else None for p in leaves)
        return SGDState(0, bufs)

    def step(self, params, grads, state):
        leaves, _, gs = _leaves(params, grads)
        first = state.step == 0
        new_p, new_b = [], []
        for p, g, b in zip(leaves, gs, state.momentum):
            if not _trainable(p):
                new_p.append(p)
                new_b.append(b)
                continue
            if self.weight_decay:
                g = g + self.weight_decay * p
            if self.momentum:
                b = g if first else self.momentum * b + g
                g = g + self.momentum * b if self.nesterov else b
            new_p.append(p - self.lr * g)
            new_b.append(b)
        return _rebuild(params, leaves, new_p), SGDState(state.step + 1, tuple(new_b))


class Adam:
    """Adam, as ``torch.optim.Adam(params, lr, betas, eps, weight_decay)`` (the decay is added
    to the gradient, L2-style)."""

    decoupled = False

    def __init__(self, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        _check("lr", lr)
        _check("eps", eps)
        _check("weight_decay", weight_decay)
        b1, b2 = betas
        if not (0.0 <= b1 < 1.0 and 0.0 <= b2 < 1.0):
            raise ValueError(f"betas must be in [0, 1), not {betas!r}")
        self.lr, self.betas, self.eps, self.weight_decay = lr, (b1, b2), eps, weight_decay

    def init(self, params):
        leaves = T.flatten(params, objects=True)[0]
        zeros = tuple(_zeros(p) if _trainable(p) else None for p in leaves)
        return AdamState(0, zeros, zeros)

    def step(self, params, grads, state):
        leaves, _, gs = _leaves(params, grads)
        t = state.step + 1
        b1, b2 = self.betas
        step_size = self.lr / (1.0 - b1 ** t)
        root_correction = math.sqrt(1.0 - b2 ** t)
        new_p, new_m, new_v = [], [], []
        for p, g, m, v in zip(leaves, gs, state.exp_avg, state.exp_avg_sq):
            if not _trainable(p):
                new_p.append(p)
                new_m.append(m)
                new_v.append(v)
                continue
            if self.decoupled:
                p = p * (1.0 - self.lr * self.weight_decay)
            elif self.weight_decay:
                g = g + self.weight_decay * p
            m = b1 * m + (1.0 - b1) * g
            v = b2 * v + (1.0 - b2) * g * g
            new_p.append(p - step_size * m / (np.sqrt(v) / root_correction + self.eps))
            new_m.append(m)
            new_v.append(v)
        return _rebuild(params, leaves, new_p), AdamState(t, tuple(new_m), tuple(new_v))


class AdamW(Adam):
    """AdamW, as ``torch.optim.AdamW(params, lr, betas, eps, weight_decay)``: the decay
    shrinks the parameters, decoupled from the gradient."""

    decoupled = True

    def __init__(self, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
        super().__init__(lr, betas, eps, weight_decay)
