"""Globals read at call time: what generated code takes from the user's namespaces.

Generated code runs with its own namespace (a copy), and Numba freezes the globals it reads as
constants. So that a gradient reads a global *when it is called*, as Python reads it, every name
the code takes from a user's module, closure cell or bound constant is recorded as a
:class:`Binding` — where it lives and the object it held when the code was derived:

* a *data* global (a number or an array) does not change the derived code, only its value:
  each call reads it again — in Python mode it is written into the generated function's
  namespace, under ``jit=True`` it is passed as a hidden leading argument (so Numba never
  freezes it, and an array changed in place is seen);
* any other global (a function that was inlined, a rule's primal, a class, an object) may change
  the derived code: each call checks that the name still holds the same object, and re-derives
  when it does not (:class:`Stale`). Modules and adjoint's own helpers are not checked.

``caller(call, derived, jit)`` wraps a compiled function with those reads and checks; with no
bindings it returns ``call`` itself, so functions without globals pay nothing per call.
"""

from __future__ import annotations

import types
from dataclasses import dataclass

import numpy as np

DATA = (float, int, complex, np.number, np.bool_, np.ndarray)


class Stale(Exception):
    """A global the derived code depends on was rebound: derive again."""


class Cell:
    """A closure cell read like a dict entry (``cell[key]``), so every binding reads alike."""

    __slots__ = ("cell",)

    def __init__(self, cell):
        self.cell = cell

    def __getitem__(self, key):
        return self.cell.cell_contents  # ValueError when emptied: treated as rebound


@dataclass(frozen=True)
class Binding:
    name: str  # the name generated code uses
    container: object  # a dict (module globals, bound constants) or a Cell
    key: str  # the name in ``container``
    value: object  # what it held when the code was derived
    data: bool  # a number or an array: passed at call time, never baked into the code

    def current(self):
        return self.container[self.key]

    def moved(self):
        """Whether the name no longer holds the object the code was derived for."""
        try:
            return self.container[self.key] is not self.value
        except (KeyError, ValueError):
            return True


def binding(name, where, value):
    """The Binding of generated name ``name`` to ``where`` = (container, key), or None for a
    value that never needs re-reading (a module)."""
    if where is None or isinstance(value, types.ModuleType):
        return None
    container, key = where
    return Binding(name, container, key, value, isinstance(value, DATA))


def stale(bindings):
    return any(b.moved() for b in bindings if not b.data)


def hidden_names(derived):
    """The data globals jitted code takes as hidden leading parameters, in order."""
    return [b.name for b in derived.bindings if b.data]


def caller(call, derived, data="scope", arity=None):
    """``call`` wrapped so that each call reads ``derived``'s data globals afresh and raises
    :class:`Stale` when another global it depends on was rebound. ``data`` says how the data
    globals reach ``call``: written into the generated function's namespace (``"scope"``, for
    Python mode), passed as hidden leading arguments (``"hidden"``, for Numba's dispatcher; see
    :func:`hidden_names`), or not at all (None: ``call`` reads them itself). ``arity``, when
    known, fixes the number of arguments (faster than ``*args``). The wrapper is generated as
    straight-line code (one statement per binding): it runs on every call."""
    jit = data == "hidden"
    data = [b for b in derived.bindings if b.data] if data else []
    checks = [b for b in derived.bindings if not b.data]
    if not data and not checks:
        return call
    params = [f"a{k}" for k in range(arity)] if arity is not None else ["*args"]
    env = {"call": call, "Stale": Stale, "scope": derived.function.__globals__}
    lines = [f"def run({', '.join(params)}):", "    try:"]
    for k, b in enumerate(checks):
        env[f"c{k}"], env[f"v{k}"] = b.container, b.value
        lines.append(f"        if c{k}[{b.key!r}] is not v{k}: raise Stale")
    hidden = []
    for k, b in enumerate(data):
        env[f"d{k}"] = b.container
        if jit:
            lines.append(f"        h{k} = d{k}[{b.key!r}]")
            hidden.append(f"h{k}")
        else:
            lines.append(f"        scope[{b.name!r}] = d{k}[{b.key!r}]")
    lines += ["    except (KeyError, ValueError):", "        raise Stale from None",
              f"    return call({', '.join(hidden + params)})"]
    exec("\n".join(lines), env)  # noqa: S102 (text built above from names and reprs only)
    run = env["run"]
    run.target = call
    return run
