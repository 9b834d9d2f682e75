"""Optional comparison columns: JAX, PyTorch and HIPS autograd, when they are importable.

Takes: a ``suite.Case`` and its NumPy arguments.
Guarantees: ``available()`` lists only the frameworks that import here; none of them is ever a
dependency. Each framework runs *the workload's own source*: the function is rebuilt from its
code object with the module-level name ``np`` bound to the framework's NumPy-like namespace
(``autograd.numpy``, ``jax.numpy``, or a small shim over ``torch``), so no workload is rewritten
for a framework. ``build`` returns a callable to time, the arguments converted once to the
framework's own types (as a user of that framework would hold them) and a converter of its
result to NumPy for checking; or None when the framework sits this case out.

JAX runs with 64-bit floats under ``jax.jit``, on the vectorized workloads only: a scalar Python
loop either unrolls into thousands of traced operations (slow to compile) or, with a
data-dependent ``if``/``while``, cannot be traced at all, and eager JAX measured 17 s per call on
the Huber loop. JAX's answer for loops is ``lax.scan``/``lax.while_loop``, which would be a
rewrite, not the same source; so those cells say "—". PyTorch runs eagerly and differentiates
with ``torch.autograd.grad``, so nothing accumulates in ``.grad`` between calls.
"""

import importlib
import types

import numpy as np


def _rebind(fn, np_like):
    """``fn`` with the global ``np`` replaced by ``np_like``; ``fn`` itself is not touched."""
    namespace = dict(fn.__globals__)
    namespace["np"] = np_like
    return types.FunctionType(fn.__code__, namespace, fn.__name__, fn.__defaults__, fn.__closure__)


def _argnums(case):
    positions = case.wrt_positions()
    return positions if len(positions) > 1 else positions[0]


def _as_tuple(value):
    return value if isinstance(value, tuple) else (value,)


class Autograd:
    name = "autograd"
    column = "HIPS autograd"

    def __init__(self):
        self.autograd = importlib.import_module("autograd")
        self.anp = importlib.import_module("autograd.numpy")

    def build(self, case, args):
        fn = self.autograd.grad(_rebind(case.primal, self.anp), argnum=_argnums(case))
        return fn, args, lambda out: tuple(np.asarray(g) for g in _as_tuple(out))


class Jax:
    name = "jax"
    column = "JAX"

    def __init__(self):
        self.jax = importlib.import_module("jax")
        self.jnp = importlib.import_module("jax.numpy")
        # The other columns are float64; JAX defaults to float32.
        self.jax.config.update("jax_enable_x64", True)

    def build(self, case, args):
        if not case.vectorized:
            return None
        jax = self.jax
        grad_fn = jax.jit(jax.grad(_rebind(case.primal, self.jnp), argnums=_argnums(case)))
        prepared = tuple(self.jnp.asarray(a) if isinstance(a, np.ndarray) else a for a in args)

        def call(*a):
            # JAX dispatches asynchronously: wait for the result, or nothing is timed.
            return jax.block_until_ready(grad_fn(*a))

        return call, prepared, lambda out: tuple(np.asarray(g) for g in _as_tuple(out))


class Torch:
    name = "torch"
    column = "PyTorch"

    def __init__(self):
        self.torch = importlib.import_module("torch")
        torch = self.torch

        def sum_(a, axis=None):
            return torch.sum(a) if axis is None else torch.sum(a, dim=axis)

        # The NumPy names the workloads use, spelled for torch tensors.
        self.np_like = types.SimpleNamespace(
            tanh=torch.tanh, exp=torch.exp, log=torch.log, mean=torch.mean, max=torch.max,
            sum=sum_,
        )

    def build(self, case, args):
        torch = self.torch
        positions = case.wrt_positions()
        prepared = []
        for i, a in enumerate(args):
            if isinstance(a, np.ndarray):
                a = torch.from_numpy(a)
            elif isinstance(a, float) and i in positions:
                a = torch.tensor(a, dtype=torch.float64)
            if i in positions:
                a = a.detach().requires_grad_(True)
            prepared.append(a)
        fn = _rebind(case.primal, self.np_like)

        def call(*a):
            return torch.autograd.grad(fn(*a), [a[p] for p in positions])

        def to_numpy(out):
            return tuple(g.detach().numpy() for g in out)

        return call, tuple(prepared), to_numpy


def available():
    """Instances of the frameworks that import on this machine, in column order."""
    found = []
    for kind in (Jax, Torch, Autograd):
        try:
            found.append(kind())
        except Exception:  # noqa: BLE001, S112 - optional: a missing or broken install drops the column
            continue
    return found
