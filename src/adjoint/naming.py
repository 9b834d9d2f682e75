"""Deterministic, hygienic names for generated code.

A :class:`Namer` is created per transformed function with every name the user's code (and the
rules' module references) already uses. It hands out names derived from the user's names plus a
counter (``x`` -> ``dx``, ``x_1``; temporaries ``t``, ``t_1`` ...), never a name already taken, so
generated code cannot capture or shadow a user variable, and generating twice gives the same text.
"""

from __future__ import annotations

import re

_SUFFIX = re.compile(r"^(.*?)(?:_(\d+))?$")


class Namer:
    def __init__(self, taken=()):
        self.taken = set(taken)
        self._adjoint = {}
        self._tangent = {}
        # stem -> a counter below which every stem_k is taken, valid for the set object
        # ``_counters_of``: callers may replace ``taken`` with a snapshot (never shrink it in
        # place), which resets the counters.
        self._counters = {}
        self._counters_of = self.taken

    def reserve(self, name):
        self.taken.add(name)

    def fresh(self, base="t"):
        """A new name starting with ``base`` (``base`` itself if free, else ``base_1`` ...)."""
        base = base or "t"
        if base not in self.taken:
            self.taken.add(base)
            return base
        stem = _SUFFIX.match(base).group(1) or base
        if self._counters_of is not self.taken:
            self._counters, self._counters_of = {}, self.taken
        k = self._counters.get(stem, 1)
        while f"{stem}_{k}" in self.taken:
            k += 1
        name = f"{stem}_{k}"
        self.taken.add(name)
        self._counters[stem] = k + 1
        return name

    def version(self, name):
        """A new SSA version of a user variable: ``x`` -> ``x_1``."""
        return self.fresh(_SUFFIX.match(name).group(1) or name)

    def adjoint(self, name):
        """The adjoint variable of ``name``: ``x`` -> ``dx`` (stable per name)."""
        if name not in self._adjoint:
            self._adjoint[name] = self.fresh("d" + name.lstrip("_"))
        return self._adjoint[name]

    def tangent(self, name):
        """The tangent variable of ``name`` in forward mode: ``x`` -> ``x_dot``."""
        if name not in self._tangent:
            self._tangent[name] = self.fresh(name + "_dot")
        return self._tangent[name]
