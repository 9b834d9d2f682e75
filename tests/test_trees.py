"""Trees, objects and auxiliary outputs, in Python mode and under ``jit=True``.

Takes functions defined here that use tree arguments the ways the guide lists (unpacking,
constant indexing and slicing, fields, loops over trees, zip, enumerate, ``.items()``, len,
``range(len(tree))``, helpers and methods receiving subtrees, helpers returning trees).
Guarantees, each checked against central finite differences in float64:

- the gradient of a tuple, list, dict, NamedTuple or dataclass argument, nested, has the same
  structure and container types; constants (str, None) get None, int leaves a float;
  float32 leaves keep float32;
- jit specialises per structure (another length is another compiled function, right too);
- bound methods read ``self`` as a constant; ``wrt="self"`` gives an object of the same class
  (unread attributes zero, others kept), also through methods calling methods;
- ``has_aux`` for grad and value_and_grad; vjp of a tree output takes a cotangent of that
  structure, jvp tangents of the arguments' structures, wrong structures are refused;
- what cannot be resolved for a fixed structure is refused at the user's line.
"""

from __future__ import annotations

import dataclasses
import inspect
import textwrap
from typing import NamedTuple

import numpy as np
import pytest

import adjoint
from adjoint import grammar as g
from adjoint import trees as T
from adjoint.errors import (
    ArgumentError,
    CotangentError,
    NonScalarOutputError,
    UnsupportedSyntaxError,
)

MODES = ("python", "jit")
RNG = np.random.default_rng(7)


def line_of(fn, text):
    lines, first = inspect.getsourcelines(fn)
    return first + next(k for k, line in enumerate(lines) if text in line)


def numeric_tree(f, args, k, objects=False, eps=1e-6):
    """Central differences of scalar ``f`` with respect to every number of tree ``args[k]``,
    as a list over its leaves (arrays for arrays)."""
    leaves, _ = T.flatten(args[k], objects)
    out = []
    for j, leaf in enumerate(leaves):
        def at(value, j=j):
            new = list(leaves)
            new[j] = value
            tree = T.rebuild(args[k], new, objects=objects, constants=lambda c: c)
            return f(*args[:k], tree, *args[k + 1:])
        if isinstance(leaf, np.ndarray):
            d = np.zeros(leaf.shape)
            for idx in np.ndindex(leaf.shape):
                up, down = leaf.astype(float), leaf.astype(float)
                up[idx] += eps
                down[idx] -= eps
                d[idx] = (at(up) - at(down)) / (2 * eps)
            out.append(d)
        else:
            out.append((at(leaf + eps) - at(leaf - eps)) / (2 * eps))
    return out


def assert_tree_close(got, want_leaves, objects=False):
    leaves = T.flatten(got, objects)[0]
    assert len(leaves) == len(want_leaves)
    for a, b in zip(leaves, want_leaves):
        assert np.allclose(a, b, rtol=1e-6, atol=1e-8), (a, b)


# ------------------------------------------------------------------ the pass, before and after
def pass_example(params, x):
    w, b, scales = params
    for k, v in scales.items():
        x = x * v
    return {"out": np.sum(w * x + b), "n": len(params)}


def test_structures_pass_before_after():
    from adjoint.naming import Namer
    from adjoint.source import parse_function
    from adjoint.transforms.structures import SpecializeStructures
    fdef, info = parse_function(pass_example)
    _, tdef = T.flatten((np.ones(2), 0.5, {"a": 2.0, "b": 3.0}))
    kinds = (T.TreeKind(tdef, (1, "scalar", "scalar", "scalar")), 1)
    flat = SpecializeStructures(info, Namer(), kinds)(fdef)
    assert g.unparse(fdef).strip() == textwrap.dedent("""\
        def pass_example(params_0, params_1, params_2_a, params_2_b, x):
            w = params_0
            b = params_1
            k = 'a'
            v = params_2_a
            x = x * v
            k = 'b'
            v = params_2_b
            x = x * v
            return (np.sum(w * x + b), 3)""")
    assert flat.leaves == {"params": ["params_0", "params_1", "params_2_a", "params_2_b"]}
    assert flat.out == T.Node("dict", dict, ("out", "n"), (T.LEAF, T.LEAF))
    assert flat.kinds == (1, "scalar", "scalar", "scalar", 1)


# ------------------------------------------------------------------ containers, nested
class Pair(NamedTuple):
    scale: float
    shift: np.ndarray


@dataclasses.dataclass
class Layer:
    W: np.ndarray
    b: np.ndarray
    act: str = "tanh"


def dense(layer, h):
    z = layer.W * h + layer.b  # elementwise: cheap to compile under jit
    if layer.act == "tanh":
        return np.tanh(z)
    return z


def nested_loss(params, x):
    h = x
    for layer in params["layers"]:
        h = dense(layer, h)
    scale, shift = params["head"]
    out = scale * h + shift
    total = 0.0
    for k, (w, c) in enumerate(zip(params["weights"], params["coefs"])):
        total = total + (k + 1.0) * w * np.sum(out ** 2) + c[0] * c[1]
    n = len(params["weights"])
    return total / n + params["head"].scale * params["extra"]["z"]


def make_params(depth=2):
    layers = [Layer(RNG.normal(size=2) * 0.5, RNG.normal(size=2))]
    layers += [Layer(RNG.normal(size=2) * 0.5, RNG.normal(size=2),
                     "tanh" if k % 2 else "linear") for k in range(depth - 1)]
    return {"layers": layers, "head": Pair(0.7, RNG.normal(size=2)),
            "weights": (0.3, 1.2), "coefs": [(0.5, -1.5), [2.0, 0.25]],
            "extra": {"z": 0.9, "tag": "x", "none": None}}


NESTED = {mode: adjoint.grad(nested_loss, jit=mode == "jit") for mode in MODES}


@pytest.mark.parametrize("mode", MODES)
def test_nested_containers_gradient_has_the_same_structure(mode):
    params, x = make_params(), np.array([0.4, -0.3])
    g = NESTED[mode](params, x)
    assert type(g) is dict and list(g) == list(params)
    assert type(g["layers"]) is list and type(g["layers"][0]) is Layer
    assert g["layers"][0].act is None  # a constant leaf gets None
    assert type(g["head"]) is Pair and type(g["weights"]) is tuple
    assert type(g["coefs"][0]) is tuple and type(g["coefs"][1]) is list
    assert g["extra"]["tag"] is None and g["extra"]["none"] is None
    assert type(g["extra"]["z"]) is float and type(g["weights"][0]) is float
    assert g["layers"][0].W.shape == (2,)
    assert_tree_close(g, numeric_tree(nested_loss, [params, x], 0))
    assert params["layers"][0].act == "tanh"  # the argument is untouched


def weighted(ws, x):
    s = 0.0
    for k, w in enumerate(ws):
        s = s + w["a"] * x ** (k + 1)
    return s


@pytest.mark.parametrize("mode", MODES)
def test_jit_specialises_per_structure(mode):
    dw = adjoint.grad(weighted, jit=mode == "jit")
    for n in (2, 3):  # another length: other code, right too
        ws = [{"a": 0.5 + k} for k in range(n)]
        g = dw(ws, 1.5)
        assert type(g) is list and len(g) == n
        assert_tree_close(g, numeric_tree(weighted, [ws, 1.5], 0))
    signature = adjoint.source(dw, [{"a": 1.0}] * 3, 1.5).splitlines()[0]
    assert signature.startswith("def value_and_grad_weighted(ws_0_a, ws_1_a, ws_2_a, x")


def float32_loss(p):
    return np.sum(p["w"] * p["w"]) + p["n"] * p["a"]


@pytest.mark.parametrize("mode", MODES)
def test_leaf_types(mode):
    p = {"w": np.array([1.0, 2.0], dtype=np.float32), "n": 3, "a": np.float32(0.5)}
    g = adjoint.grad(float32_loss, jit=mode == "jit")(p)
    assert g["w"].dtype == np.float32 and np.allclose(g["w"], [2.0, 4.0])
    assert type(g["n"]) is float and g["n"] == pytest.approx(0.5)  # an int leaf: a float
    assert isinstance(g["a"], np.float32) and g["a"] == pytest.approx(3.0)


def helper_returning_tree(layer):
    W, b = layer
    return {"sq": np.sum(W * W), "both": (W, np.sin(b))}


def layers_by_index(layers, x):
    h = x
    for i in range(len(layers) - 1):
        W, b = layers[i]
        h = np.tanh(W * h + b)
    last = layers[-1]
    out = helper_returning_tree(layers[1:][0])
    a, (W1, c) = out["sq"], out["both"]
    return np.sum(last[0] * h) + a * np.sum(c) + W1[1]


@pytest.mark.parametrize("mode", MODES)
def test_range_len_slices_and_helpers_returning_trees(mode):
    layers = [(RNG.normal(size=2), RNG.normal(size=2)) for _ in range(3)]
    x = np.array([0.5, -1.0])
    g = adjoint.grad(layers_by_index, jit=mode == "jit")(layers, x)
    assert type(g) is list and type(g[0]) is tuple
    assert_tree_close(g, numeric_tree(layers_by_index, [layers, x], 0))


def forward_with_cache(W, x):
    h = np.tanh(W * x)
    return np.sum(h), {"h": h, "pre": W * x}


def loss_from_cache(W, x):
    out, cache = forward_with_cache(W, x)
    return out + np.sum(cache["pre"] ** 2)


@pytest.mark.parametrize("mode", MODES)
def test_helper_returning_a_dict_without_tree_arguments(mode):
    W, x = np.array([0.5, -0.3]), np.array([1.0, 2.0])
    g = adjoint.grad(loss_from_cache, jit=mode == "jit")(W, x)
    want = numeric_tree(lambda t, x_: loss_from_cache(t[0], x_), [(W,), x], 0)[0]
    assert np.allclose(g, want, rtol=1e-6)


# ------------------------------------------------------------------ objects and methods
class Model:
    scale = 2.0  # a class attribute: a constant

    def __init__(self):
        self.W = RNG.normal(size=2)
        self.b = 0.3
        self.sizes = (2, 2)
        self.name = "model"
        self.history = []
        self.unused = np.ones(3)

    def predict(self, X):
        return np.tanh(X * self.W + self.b) * self.scale

    def loss(self, X, y):
        return np.mean((self.predict(X) - y) ** 2) + len(self.sizes) * self.b ** 2


def model_loss(model, X, y):
    return model.loss(X, y)


X = RNG.normal(size=2)
Y = RNG.normal(size=2)


def test_bound_method_self_is_a_constant():
    m = Model()
    dX = adjoint.grad(m.loss)(X, Y)
    want = numeric_tree(lambda X_, y: m.loss(X_, y), [X, Y], 0)
    assert np.allclose(dX, want[0], rtol=1e-6)


@pytest.mark.parametrize("mode", MODES)
def test_wrt_self_gives_an_object_of_the_same_class(mode):
    jit = mode == "jit"
    m = Model()
    m.history.append("epoch 1")  # a list of strings: a constant
    g, gX = adjoint.grad(m.loss, wrt=("self", 0), jit=jit)(X, Y)  # one compile under jit
    assert type(g) is Model and g is not m
    assert np.all(g.unused == 0.0) and g.unused.shape == (3,)  # not read: zeros
    assert g.name == "model" and g.sizes == (2, 2) and g.history is m.history  # kept
    want = numeric_tree(lambda mm, X_, y: mm.loss(X_, y), [m, X, Y], 0, objects=True)
    assert_tree_close(g, want, objects=True)
    assert np.allclose(gX, numeric_tree(lambda X_, y: m.loss(X_, y), [X, Y], 0)[0], rtol=1e-6)
    if jit:
        return  # the same code as below, compiled again
    g2 = adjoint.grad(Model.loss, wrt="self")(m, X, Y)  # the same, unbound
    assert_tree_close(g2, want, objects=True)
    g3 = adjoint.grad(model_loss)(m, X, Y)  # an object named in wrt
    assert_tree_close(g3, want, objects=True)
    g4 = adjoint.grad(m.loss, wrt="self")(X, Y)
    assert_tree_close(g4, want, objects=True)


class Scale:
    def __init__(self, w):
        self.w = w
        self.owner = None

    def __call__(self, h):
        return self.w * h


class Stack:
    """A model of sub-models, as an nn.Module holds modules (with a cycle back to itself)."""

    def __init__(self):
        self.blocks = [Scale(np.array([0.5, -1.0])), Scale(np.array([2.0, 0.3]))]
        self.head = Scale(1.5)
        for block in self.blocks:
            block.owner = self

    def loss(self, x):
        h = x
        for block in self.blocks:
            h = np.tanh(block(h))
        return np.sum(self.head(h) ** 2)


@pytest.mark.parametrize("mode", MODES)
def test_objects_inside_objects(mode):
    model = Stack()
    x = np.array([0.3, 0.8])
    g = adjoint.grad(model.loss, wrt="self", jit=mode == "jit")(x)
    assert type(g.blocks[1]) is Scale and type(g.head.w) is float
    assert g.blocks[0].owner is model  # the cycle is a constant, kept
    got = T.leaves_like(T.flatten(model, objects=True)[1], g)  # g.blocks[0].owner is model
    want = numeric_tree(lambda m, x_: m.loss(x_), [model, x], 0, objects=True)
    assert len(got) == len(want) == 3
    assert all(np.allclose(a, b, rtol=1e-6) for a, b in zip(got, want))


# ------------------------------------------------------------------ has_aux, vjp, jvp
def with_aux(w, X, y):
    logits = X * w
    loss = np.mean(np.log(1.0 + np.exp(-y * logits)))
    accuracy = np.mean((logits * y) > 0.0)
    return loss, {"accuracy": accuracy, "logits": logits, "label": "train"}


def bad_aux(w):
    return np.sum(w)


@pytest.mark.parametrize("mode", MODES)
def test_has_aux(mode):
    jit = mode == "jit"
    w = np.array([0.5, -0.2])
    y = np.sign(RNG.normal(size=2))
    g, aux = adjoint.grad(with_aux, has_aux=True, jit=jit)(w, X, y)
    assert np.allclose(g, numeric_tree(lambda w_, X_, y_: with_aux(w_, X_, y_)[0],
                                       [w, X, y], 0)[0], rtol=1e-6)
    assert aux["label"] == "train" and aux["accuracy"] == pytest.approx(
        with_aux(w, X, y)[1]["accuracy"])
    (loss, aux2), g2 = adjoint.value_and_grad(with_aux, has_aux=True, jit=jit)(w, X, y)
    assert loss == pytest.approx(with_aux(w, X, y)[0]) and np.allclose(g2, g)
    assert np.allclose(aux2["logits"], X * w)
    with pytest.raises(NonScalarOutputError, match="pair"):
        adjoint.grad(bad_aux, has_aux=True, jit=jit)(w)


def tree_out(p):
    return {"s": p["a"] * 2.0, "t": (p["a"] * p["b"], np.sin(p["b"]))}


@pytest.mark.parametrize("mode", MODES)
def test_vjp_and_jvp_of_trees(mode):
    jit = mode == "jit"
    p = {"a": 1.5, "b": np.array([0.1, 0.2])}
    value, pull = adjoint.vjp(tree_out, jit=jit)(p)
    assert value["s"] == pytest.approx(3.0) and type(value["t"]) is tuple
    ct = {"s": 0.5, "t": (np.array([1.0, -1.0]), np.array([2.0, 0.5]))}
    g = pull(ct)

    def inner(q):  # <cotangent, f(q)>
        v = tree_out(q)
        return ct["s"] * v["s"] + np.sum(ct["t"][0] * v["t"][0] + ct["t"][1] * v["t"][1])

    assert_tree_close(g, numeric_tree(inner, [p], 0))
    assert_tree_close(pull(ct), numeric_tree(inner, [p], 0))  # again (retain_graph)
    with pytest.raises(CotangentError, match=r"cotangent\['t'\]"):
        pull({"s": 1.0, "t": np.ones(2)})
    tangent = {"a": 1.0, "b": np.array([0.0, 1.0])}
    v, t = adjoint.jvp(tree_out, jit=jit)(p, tangent)
    assert t["s"] == pytest.approx(2.0)
    assert np.allclose(t["t"][0], p["b"] + p["a"] * tangent["b"])
    assert np.allclose(t["t"][1], np.cos(p["b"]) * tangent["b"])
    with pytest.raises(CotangentError, match="tangent"):
        adjoint.jvp(tree_out)(p, {"a": 1.0})


# ------------------------------------------------------------------ utilities
def test_tree_map_and_leaves():
    p = {"w": np.ones(2), "layers": [Layer(np.ones((1, 1)), np.zeros(1))], "name": "n"}
    doubled = adjoint.tree_map(lambda a, b: a + b, p, p)
    assert doubled["name"] == "n" and type(doubled["layers"][0]) is Layer
    assert np.all(doubled["layers"][0].W == 2.0)
    assert len(adjoint.tree_leaves(p)) == 3
    with pytest.raises(ValueError, match="keys"):
        adjoint.tree_map(lambda a, b: a, p, {"w": 1.0})


# ------------------------------------------------------------------ refusals
def runtime_index(layers, i):
    return layers[i] * 2.0


def writes_into_tree(p):
    p["w"] = p["w"] * 2.0
    return p["w"]


def tree_to_numpy(p):
    return np.sum(p)


def tree_on_one_path(p, x):
    q = p
    if x > 0:
        q = (x, x)
    return q[0] * x


def index_after_loop(layers, n):
    i = 0
    s = 0.0
    for i in range(n):  # i is a run-time value after the loop, not 0
        s = s + i
    return layers[i] * s


def break_in_unrolled(p):
    s = 0.0
    for v in p:
        if v > 1.0:
            break
        s = s + v
    return s


@pytest.mark.parametrize("fn, args, text, where", [
    (runtime_index, ([1.0, 2.0], 1), "known only at run time", "layers[i]"),
    (writes_into_tree, ({"w": 1.0},), "assigned into", 'p["w"] = '),
    (tree_to_numpy, ((1.0, 2.0),), "not a Python function of yours", "np.sum(p)"),
    (tree_on_one_path, ((1.0, 2.0), 0.5), "some paths only", "q[0]"),
    (break_in_unrolled, ((1.0, 2.0),), "break and continue", "        break"),
    (index_after_loop, ((1.0, 2.0), 2), "known only at run time", "layers[i]"),
])
def test_refusals_are_located(fn, args, text, where):
    with pytest.raises(UnsupportedSyntaxError, match=text) as info:
        adjoint.grad(fn)(*args)
    assert info.value.lineno == line_of(fn, where)
    assert info.value.hint


def with_tree_default(x, cfg={"a": 2.0}):  # noqa: B006 (read, never written)
    return cfg["a"] * x * x


def test_tree_defaults_and_higher_order_refusals():
    assert adjoint.grad(with_tree_default)(3.0) == pytest.approx(12.0)
    assert adjoint.grad(with_tree_default, wrt="cfg")(3.0) == {"a": pytest.approx(9.0)}
    with pytest.raises(ArgumentError, match="float or an array, not a dict") as info:
        adjoint.jacobian(with_tree_default, wrt=1)(3.0, {"a": 2.0})
    assert info.value.lineno == line_of(with_tree_default, "def ")
    with pytest.raises(ArgumentError, match="cannot take trees") as info:
        adjoint.grad(adjoint.grad(with_tree_default))(3.0, {"a": 2.0})
    assert info.value.lineno == line_of(with_tree_default, "def ")


def part(p, x):
    return p["a"] * x


def calls_part(p, x):
    return part(p, x) * x


def test_rebinding_a_helper_that_receives_a_tree_derives_again(monkeypatch):
    dcalls = adjoint.grad(calls_part)
    assert dcalls({"a": 2.0}, 3.0) == {"a": pytest.approx(9.0)}

    def other(p, x):
        return p["a"] * p["a"]

    monkeypatch.setitem(globals(), "part", other)
    assert dcalls({"a": 2.0}, 3.0) == {"a": pytest.approx(12.0)}  # d(a² x)/da = 2 a x
