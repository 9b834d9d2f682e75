"""adjoint.optim: SGD, Adam and AdamW give PyTorch's numbers, functionally.

Takes the optimizers with several hyper-parameter settings and a few steps of made-up
gradients. Guarantees that each step equals the update written out here element by element
from PyTorch's documented algorithms (and equals torch.optim's own, when torch is installed —
the test skips otherwise); that parameters come back in the same structure and container
types, fresh (the parameters and state passed in are unchanged); that constants and integer
leaves are kept; that a gradient of another structure is refused; and that an optimizer
trains a model through ``grad(..., wrt="self")`` and through a dict of parameters.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import numpy as np
import pytest

import adjoint
from adjoint.optim import SGD, Adam, AdamW

RNG = np.random.default_rng(3)
STEPS = 4


def gradients(k):
    """Made-up gradients for step ``k`` (the same in both implementations)."""
    r = np.random.default_rng(100 + k)
    return [r.normal(size=(2, 3)), float(r.normal())]


def start():
    return [RNG.normal(size=(2, 3)), 0.75]


# -- the algorithms, element by element on flat lists (PyTorch's documentation) ---------------
def sgd_reference(params, lr, momentum, nesterov, weight_decay):
    p = [np.array(x, dtype=float).ravel() for x in params]
    buf = [np.zeros(x.size) for x in p]
    for k in range(STEPS):
        grads = [np.array(x, dtype=float).ravel() for x in gradients(k)]
        for i in range(len(p)):
            for j in range(p[i].size):
                g = grads[i][j] + weight_decay * p[i][j]
                if momentum:  # the buffer starts as the first gradient
                    buf[i][j] = g if k == 0 else momentum * buf[i][j] + g
                    g = g + momentum * buf[i][j] if nesterov else buf[i][j]
                p[i][j] = p[i][j] - lr * g
    return p


def adam_reference(params, lr, betas, eps, weight_decay, decoupled):
    b1, b2 = betas
    p = [np.array(x, dtype=float).ravel() for x in params]
    m = [np.zeros(x.size) for x in p]
    v = [np.zeros(x.size) for x in p]
    for k in range(STEPS):
        t = k + 1
        grads = [np.array(x, dtype=float).ravel() for x in gradients(k)]
        for i in range(len(p)):
            for j in range(p[i].size):
                g = grads[i][j]
                if decoupled:
                    p[i][j] = p[i][j] * (1 - lr * weight_decay)
                else:
                    g = g + weight_decay * p[i][j]
                m[i][j] = b1 * m[i][j] + (1 - b1) * g
                v[i][j] = b2 * v[i][j] + (1 - b2) * g * g
                m_hat = m[i][j] / (1 - b1 ** t)
                v_hat = v[i][j] / (1 - b2 ** t)
                p[i][j] = p[i][j] - lr * m_hat / (math.sqrt(v_hat) + eps)
    return p


def run(opt, params):
    state = opt.init(params)
    for k in range(STEPS):
        params, state = opt.step(params, gradients(k), state)
    return params


CASES = [
    ("sgd", dict(lr=0.1)),
    ("sgd", dict(lr=0.05, momentum=0.9)),
    ("sgd", dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.01)),
    ("adam", dict(lr=0.01)),
    ("adam", dict(lr=0.02, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)),
    ("adamw", dict(lr=0.02, weight_decay=0.1)),
]


def make(name, kw):
    return {"sgd": SGD, "adam": Adam, "adamw": AdamW}[name](**kw)


def reference(name, kw, params):
    if name == "sgd":
        return sgd_reference(params, kw["lr"], kw.get("momentum", 0.0),
                             kw.get("nesterov", False), kw.get("weight_decay", 0.0))
    defaults = dict(betas=(0.9, 0.999), eps=1e-8)
    decay = kw.get("weight_decay", 1e-2 if name == "adamw" else 0.0)
    return adam_reference(params, kw["lr"], kw.get("betas", defaults["betas"]),
                          kw.get("eps", defaults["eps"]), decay, name == "adamw")


@pytest.mark.parametrize("name, kw", CASES)
def test_updates_follow_pytorchs_formulas(name, kw):
    params = start()
    before = copy.deepcopy(params)
    got = run(make(name, kw), params)
    want = reference(name, kw, params)
    assert type(got) is list and type(got[1]) is float
    assert np.allclose(got[0].ravel(), want[0], rtol=1e-12, atol=1e-14)
    assert got[1] == pytest.approx(want[1][0], rel=1e-12)
    assert np.array_equal(params[0], before[0]) and params[1] == before[1]  # not mutated


@pytest.mark.parametrize("name, kw", CASES)
def test_same_numbers_as_torch(name, kw):
    torch = pytest.importorskip("torch")
    params = start()
    tensors = [torch.tensor(np.array(p, dtype=float), requires_grad=True) for p in params]
    opt_kw = dict(kw)
    cls = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW}[name]
    opt = cls(tensors, **opt_kw)
    for k in range(STEPS):
        for t, g in zip(tensors, gradients(k)):
            t.grad = torch.tensor(np.array(g, dtype=float))
        opt.step()
    got = run(make(name, kw), params)
    assert np.allclose(got[0], tensors[0].detach().numpy(), rtol=1e-10)
    assert got[1] == pytest.approx(float(tensors[1].detach()), rel=1e-10)


@dataclass
class Net:
    W: np.ndarray
    b: float
    name: str = "net"


def test_structures_constants_and_refusals():
    params = {"net": Net(np.ones(2, dtype=np.float32), 0.5), "steps": 3, "tag": None}
    grads = {"net": Net(np.array([1.0, -1.0], dtype=np.float32), 2.0, None), "steps": 0.0,
             "tag": None}
    opt = Adam(0.1)
    state = opt.init(params)
    new, state2 = opt.step(params, grads, state)
    assert type(new["net"]) is Net and new["net"].name == "net" and new["steps"] == 3
    assert new["net"].W.dtype == np.float32 and type(new["net"].b) is float
    assert new["net"].W is not params["net"].W and np.all(params["net"].W == 1.0)
    assert state.step == 0 and state2.step == 1
    with pytest.raises(ValueError, match="keys"):
        opt.step(params, {"net": grads["net"]}, state)
    with pytest.raises(ValueError, match="nesterov|Nesterov"):
        SGD(0.1, nesterov=True)


class Quadratic:
    def __init__(self):
        self.W = np.array([2.0, -1.0])
        self.c = 1.5
        self.label = "q"

    def loss(self, x):
        return np.sum((self.W * x - 1.0) ** 2) + (self.c - 0.5) ** 2


def test_training_an_object_and_a_dict():
    model = Quadratic()
    dloss = adjoint.value_and_grad(Quadratic.loss, wrt="self")
    opt = AdamW(0.1, weight_decay=0.0)
    state = opt.init(model)
    first = None
    for _ in range(60):
        value, g = dloss(model, np.array([1.0, 2.0]))
        first = value if first is None else first
        model, state = opt.step(model, g, state)
    assert type(model) is Quadratic and model.label == "q"
    assert value < 0.05 * first

    def loss(p, x):
        return np.sum((p["w"] * x - 1.0) ** 2)

    params = {"w": np.array([0.0, 3.0])}
    opt = SGD(0.05, momentum=0.5)
    state = opt.init(params)
    dl = adjoint.grad(loss)
    for _ in range(40):
        params, state = opt.step(params, dl(params, np.array([1.0, 2.0])), state)
    assert np.allclose(params["w"], [1.0, 0.5], atol=1e-3)
