"""The per-call fast path of a transform: one generated guard in front of the ready callables.

Takes, from :class:`adjoint.api.Transformed`, the arguments of calls it has prepared and, for
each, the callable that runs such a call (Numba's dispatcher itself, or a wrapper that reads
globals and converts results). Guarantees ``FastPath.hot(args)``: ``ready(*args)`` of the first
prepared call whose arguments have exactly the types of ``args`` — and, for arrays, the same
``ndim`` and dtype — or :data:`MISS` when none has. Nothing else is checked: whatever is fixed
per specialisation (the argument kinds, ``wrt``, the scalar output) was checked when it was
prepared.

The guard is generated as straight-line code, one ``if`` per prepared call, so that a call pays
for a few type tests and no tuple building or hashing (a dict keyed by the argument types cost
more than Numba's own dispatch for a scalar function). For a gradient of one float::

    def hot(args):
        if len(args) == 1:
            a0, = args
            t0 = type(a0)
            if t0 is T0_0:
                return R0(a0)
        return MISS
"""

from __future__ import annotations

import numpy as np

MISS = object()  # what ``hot`` returns for arguments no prepared call matches


def _miss(args):
    return MISS


class FastPath:
    """The prepared calls of one transform and the guard that picks among them."""

    def __init__(self):
        self.entries = []  # (argument types, {position: (ndim, dtype)}, ready)
        self.hot = _miss

    def clear(self):
        self.entries.clear()
        self.hot = _miss

    def add(self, args, ready):
        """Route later calls with arguments like ``args`` straight to ``ready``."""
        types = tuple(map(type, args))
        arrays = {k: (a.ndim, a.dtype) for k, a in enumerate(args) if type(a) is np.ndarray}
        self.entries.append((types, arrays, ready))
        self.hot = _generate(self.entries)


def _generate(entries):
    env = {"MISS": MISS}
    lines = ["def hot(args):"]
    for arity in sorted({len(types) for types, _, _ in entries}):
        params = [f"a{k}" for k in range(arity)]
        lines += [f"    if len(args) == {arity}:"]
        if arity:
            lines += [f"        {', '.join(params)}, = args"]
            lines += [f"        t{k} = type(a{k})" for k in range(arity)]
        for n, (types, arrays, ready) in enumerate(entries):
            if len(types) != arity:
                continue
            tests = []
            for k, t in enumerate(types):
                env[f"T{n}_{k}"] = t
                tests.append(f"t{k} is T{n}_{k}")
                if k in arrays:
                    ndim, dtype = arrays[k]
                    env[f"D{n}_{k}"] = dtype
                    tests.append(f"a{k}.ndim == {ndim}")
                    tests.append(f"(a{k}.dtype is D{n}_{k} or a{k}.dtype == D{n}_{k})")
            env[f"R{n}"] = ready
            lines += [f"        if {' and '.join(tests) or 'True'}:",
                      f"            return R{n}({', '.join(params)})"]
    lines.append("    return MISS")
    exec("\n".join(lines), env)  # noqa: S102 (text built above from names and numbers only)
    return env["hot"]
