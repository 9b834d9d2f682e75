"""The per-call fast path of a transform: one generated function in front of the ready callables.

Takes, from :class:`adjoint.api.Transformed`, the parameters callers pass (names and defaults,
as ``Transformed._signature()`` gives them), the complete arguments of the calls it has prepared
and, for each, the callable that runs such a call (Numba's dispatcher itself, the compiled entry
point of one of its signatures, or a wrapper that reads globals and converts results); and the
transform's general path, ``miss(*args, **kwargs)``, and its restart after a rebound global,
``stale(*args)``.

Guarantees ``FastPath.entry``: a function with the transform's parameters (so Python binds
positional and keyword arguments and fills defaults exactly as ``Transformed._bind`` does, and
raises the same ``TypeError`` for a bad call) that returns ``ready(*args)`` of the first
prepared call whose arguments have exactly the types of ``args`` — and, for arrays, the same
``ndim`` and dtype — and otherwise returns ``miss(*args)``. A :class:`~adjoint.bindings.Stale`
raised by a ready callable becomes ``stale(*args)``, an :class:`~adjoint.errors.AdjointError`
``locate(error)`` (a runtime helper's refusal, located at the user's line). Nothing else is
checked: whatever is fixed per specialisation (the argument kinds, ``wrt``, the scalar output)
was checked when it was prepared.

``Transformed.__call__`` reads ``entry`` from the instance, so a call of a transform is one
generated Python frame (a few type tests) in front of the compiled code: no ``*args`` tuple,
no keyword dict, no method lookup. For a gradient of one float::

    def grad_poly(x):
        try:
            if type(x) is T0_0:
                return R0(x)
        except Stale:
            return STALE(x)
        return MISS(x)

The parameter names are the user's; the names the body uses (``T0_0``, ``R0``, ``type`` ...)
are prefixed so that no parameter can shadow them.
"""

from __future__ import annotations

import inspect
import keyword

import numpy as np

from .bindings import Stale
from .errors import AdjointError


class FastPath:
    """The prepared calls of one transform and the entry function that picks among them."""

    def __init__(self, params, name, miss, stale, locate=None):
        self.params = params  # {name: default or inspect.Parameter.empty}, in order
        self.name = name
        self.miss = miss
        self.stale = stale
        self.locate = locate  # AdjointError -> the same error located at the user's line
        self.entries = []  # (argument types, {position: (ndim, dtype)}, ready)
        self.entry = miss

    def clear(self):
        self.entries.clear()
        self.entry = self.miss

    def usable(self):
        """Whether an entry function can take the transform's parameters (plain names)."""
        return all(isinstance(p, str) and p.isidentifier() and not keyword.iskeyword(p)
                   for p in self.params)

    def add(self, args, ready):
        """Route later calls with arguments like ``args`` (complete: one per parameter)
        straight to ``ready``."""
        types = tuple(map(type, args))
        arrays = {k: (a.ndim, a.dtype) for k, a in enumerate(args) if type(a) is np.ndarray}
        self.entries.append((types, arrays, ready))
        self.entry = _generate(self.params, self.name, self.entries, self.miss, self.stale,
                               self.locate)


def _prefix(params):
    """A prefix no parameter name starts with, for the names the entry function uses."""
    prefix = "_fp_"
    while any(p.startswith(prefix) for p in params):
        prefix = "_" + prefix
    return prefix


def _generate(params, name, entries, miss, stale, locate):
    names = list(params)
    p = _prefix(names)
    env = {f"{p}MISS": miss, f"{p}STALE": stale, f"{p}Stale": Stale, f"{p}type": type}
    signature = []
    for k, (param, default) in enumerate(params.items()):
        if default is inspect.Parameter.empty:
            signature.append(param)
        else:
            env[f"{p}D{k}"] = default
            signature.append(f"{param}={p}D{k}")
    arguments = ", ".join(names)
    lines = [f"def entry({', '.join(signature)}):", "    try:"]
    for n, (types, arrays, ready) in enumerate(entries):
        tests = []
        for k, t in enumerate(types):
            env[f"{p}T{n}_{k}"] = t
            tests.append(f"{p}type({names[k]}) is {p}T{n}_{k}")
            if k in arrays:
                ndim, dtype = arrays[k]
                env[f"{p}D{n}_{k}"] = dtype
                tests.append(f"{names[k]}.ndim == {ndim}")
                tests.append(f"({names[k]}.dtype is {p}D{n}_{k} or "
                             f"{names[k]}.dtype == {p}D{n}_{k})")
        env[f"{p}R{n}"] = ready
        lines += [f"        if {' and '.join(tests) or 'True'}:",
                  f"            return {p}R{n}({arguments})"]
    lines += [f"    except {p}Stale:", f"        return {p}STALE({arguments})"]
    if locate is not None:  # a runtime helper's refusal, raised by the compiled code
        env[f"{p}AdjointError"], env[f"{p}LOCATE"] = AdjointError, locate
        lines += [f"    except {p}AdjointError as {p}err:",
                  f"        raise {p}LOCATE({p}err) from None"]
    lines += [f"    return {p}MISS({arguments})"]
    exec("\n".join(lines), env)  # noqa: S102 (text built above from identifiers and numbers)
    entry = env["entry"]
    entry.__code__ = entry.__code__.replace(co_name=name, co_qualname=name)
    entry.__name__ = entry.__qualname__ = name
    return entry
