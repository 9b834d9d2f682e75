"""``vmap(fn, in_axes=0, out_axes=0)``: map a function over an axis of its arguments.

Takes any callable — a user function, a transform's result (``grad``, ``value_and_grad``,
``vjp``, ``jvp``, ...), another ``vmap`` — and returns a callable that calls it once per example
and stacks the results, as JAX's ``vmap`` does for these cases:

* ``in_axes`` is an int, None, or a tuple/list with one entry per positional argument; an entry
  is an int (the axis of that argument to map over; negative counts from the end), None (the
  argument is passed whole to every example), or, for an argument that is a tuple, list or dict,
  a tree of the same structure whose leaves are ints or None. Keyword arguments are mapped over
  axis 0. Every mapped axis must have the same size ``n``.
* The results of the ``n`` calls must have one structure (nested tuples, lists, dicts of
  numbers and arrays); each leaf is stacked along ``out_axes`` (an int, None, or a tree prefix of
  the output). A leaf with ``out_axes`` None is not stacked: it must be the same in every example.
* A callable leaf (the pullback of ``vjp``) becomes one batched pullback: it takes cotangents
  batched along axis 0 and returns the gradients stacked along axis 0.

How it runs. When ``fn`` is a ``jit=True`` transform (``grad``, ``value_and_grad``, ``jvp``)
whose per-example code is one Numba-compiled function, and the arguments are floats, ints and
float64 arrays, the examples run as a Numba ``prange`` loop (``parallel=True``) over that
compiled function, on every core, writing into preallocated output arrays; the results equal a
Python loop's to rounding (bit for bit when ``jit=True`` compiles the transform's code whole; its
straight-line array code, which ``jit=True`` otherwise leaves to NumPy, is compiled whole for the
loop and may round differently). The first example runs
through the transform itself (it checks the arguments and compiles), the others in the loop; the
loop itself is compiled once per argument layout (about a second). Everything else — Python-mode
transforms, user functions, ``vjp``, other argument types, and per-example code that is not a
single compiled function — runs as a plain Python loop. ``last_run`` says which ran last:
``"prange"`` or ``"loop"``.
"""

from __future__ import annotations

import numpy as np

from . import pickling

_STACKED_SCALARS = (np.float64, np.int64, np.bool_)


def vmap(fn, in_axes=0, out_axes=0):
    """``fn`` mapped over axis ``in_axes`` of its arguments, results stacked along
    ``out_axes`` (see the module docstring)."""
    _check_axes_spec(in_axes, "in_axes")
    _check_axes_spec(out_axes, "out_axes")
    return VMapped(fn, in_axes, out_axes)


def _check_axes_spec(spec, what):
    if spec is None or isinstance(spec, (int, np.integer)) and not isinstance(spec, bool):
        return
    if isinstance(spec, (tuple, list)):
        for s in spec:
            _check_axes_spec(s, what)
        return
    if isinstance(spec, dict):
        for s in spec.values():
            _check_axes_spec(s, what)
        return
    raise TypeError(f"{what} must be an int, None, or a tuple/list/dict of them, not {spec!r}")


# -- trees (tuples, lists, dicts, NamedTuples; anything else is a leaf) ---------------------------

def _flatten(tree):
    """(leaves, rebuild) with ``rebuild(leaves)`` giving back a tree of the same structure."""
    if isinstance(tree, (tuple, list)):
        parts = [_flatten(t) for t in tree]
        sizes = [len(p[0]) for p in parts]
        return [leaf for p in parts for leaf in p[0]], _Rebuild(type(tree), parts, sizes)
    if isinstance(tree, dict):
        keys = list(tree)
        leaves, rebuild = _flatten(tuple(tree[k] for k in keys))
        return leaves, lambda items: dict(zip(keys, rebuild(items)))
    return [tree], lambda items: items[0]


class _Rebuild:
    def __init__(self, cls, parts, sizes):
        self.cls, self.parts, self.sizes = cls, parts, sizes

    def __call__(self, leaves):
        items, start = [], 0
        for (_, rebuild), size in zip(self.parts, self.sizes):
            items.append(rebuild(leaves[start:start + size]))
            start += size
        if hasattr(self.cls, "_fields"):  # a NamedTuple
            return self.cls(*items)
        return self.cls(items)


def _leaf_axes(spec, tree, what):
    """One axis (int or None) per leaf of ``tree``, from a spec that is a prefix of it."""
    if spec is None or isinstance(spec, (int, np.integer)):
        return [spec] * len(_flatten(tree)[0])
    if isinstance(spec, dict) and isinstance(tree, dict) and set(spec) == set(tree):
        return [a for k in tree for a in _leaf_axes(spec[k], tree[k], what)]
    if isinstance(spec, (tuple, list)) and isinstance(tree, (tuple, list)) and \
            len(spec) == len(tree):
        return [a for s, t in zip(spec, tree) for a in _leaf_axes(s, t, what)]
    raise ValueError(f"vmap: {what} {spec!r} does not match the structure of {_describe(tree)}")


def _describe(tree):
    if isinstance(tree, (tuple, list)):
        return f"a {type(tree).__name__} of {len(tree)}"
    if isinstance(tree, dict):
        return f"a dict with keys {sorted(tree)}"
    return f"a {type(tree).__name__}"


def _example(leaf, axis, i):
    """Example ``i`` of ``leaf`` along ``axis``; a 0-d float64/int64/bool slice is a Python
    number (as a caller would pass one)."""
    if axis is None:
        return leaf
    part = leaf[i] if axis == 0 else np.take(leaf, i, axis=axis)
    return part.item() if isinstance(part, _STACKED_SCALARS) else part


# -- the mapped callable ------------------------------------------------------------------------

class VMapped:
    """What :func:`vmap` returns: call it with ``fn``'s arguments, batched."""

    def __init__(self, fn, in_axes=0, out_axes=0):
        self.fn, self.in_axes, self.out_axes = fn, in_axes, out_axes
        self.last_run = None
        name = getattr(fn, "__name__", type(fn).__name__)
        self.__name__ = f"vmap({name})"

    def __reduce__(self):
        return pickling.reduce_transform(type(self), self.fn, self.in_axes, self.out_axes)

    def __repr__(self):
        return f"<adjoint {self.__name__}>"

    def __call__(self, *args, **kwargs):
        leaves, rebuild, axes = self._flat_arguments(args, kwargs)
        n = self._size(leaves, axes)
        if not kwargs:
            from .vmap_kernel import run_prange
            result = run_prange(self, leaves, axes, n, len(args), rebuild)
            if result is not None:
                self.last_run = "prange"
                return result
        self.last_run = "loop"
        results = []
        for i in range(n):
            a, kw = rebuild([_example(leaf, ax, i) for leaf, ax in zip(leaves, axes)])
            results.append(self.fn(*a, **kw))
        return self.stack(results)

    def _flat_arguments(self, args, kwargs):
        """Every argument leaf, how to rebuild ``(args, kwargs)`` from them, and each leaf's
        mapped axis (normalised to be non-negative) or None."""
        spec = self.in_axes
        if isinstance(spec, (tuple, list)):
            if len(spec) != len(args):
                raise ValueError(f"vmap: in_axes has {len(spec)} entries but {len(args)} "
                                 "positional argument(s) were given")
        else:
            spec = (spec,) * len(args)
        axes = _leaf_axes(tuple(spec), tuple(args), "in_axes") + \
            _leaf_axes(0, tuple(kwargs.values()), "in_axes")
        leaves, rebuild_all = _flatten((tuple(args), tuple(kwargs.values())))
        keys = list(kwargs)

        def rebuild(items):
            a, kw = rebuild_all(items)
            return a, dict(zip(keys, kw))

        normal = []
        for leaf, axis in zip(leaves, axes):
            if axis is not None:
                ndim = np.ndim(leaf)
                if not -ndim <= axis < ndim:
                    raise ValueError(f"vmap: cannot map over axis {axis} of an argument with "
                                     f"{ndim} dimension(s)")
                axis %= ndim
            normal.append(axis)
        return leaves, rebuild, normal

    @staticmethod
    def _size(leaves, axes):
        sizes = {np.shape(leaf)[axis] for leaf, axis in zip(leaves, axes) if axis is not None}
        if not sizes:
            raise ValueError("vmap: in_axes maps no argument (at least one must be mapped)")
        if len(sizes) > 1:
            raise ValueError(f"vmap: the mapped axes have different sizes {sorted(sizes)}")
        n = sizes.pop()
        if n == 0:
            raise ValueError("vmap: the mapped axis has size 0 (the output's structure is "
                             "only known from an example)")
        return n

    def stack(self, results):
        """The per-example ``results`` as one tree of stacked leaves (along ``out_axes``)."""
        first, rebuild = _flatten(results[0])
        columns = [[] for _ in first]
        for k, r in enumerate(results):
            leaves, _ = _flatten(r)
            if len(leaves) != len(first):
                raise ValueError(f"vmap: example {k} returned a result of another structure "
                                 "than example 0")
            for column, leaf in zip(columns, leaves):
                column.append(leaf)
        axes = _leaf_axes(self.out_axes, results[0], "out_axes")
        return rebuild([_stack_column(c, a) for c, a in zip(columns, axes)])


def _stack_column(column, axis):
    if callable(column[0]):
        return BatchedPullback(column)
    if axis is None:
        if any(not np.array_equal(column[0], c) for c in column[1:]):
            raise ValueError("vmap: an output with out_axes None differs between examples")
        return column[0]
    stacked = np.stack([np.asarray(c) for c in column])
    return np.moveaxis(stacked, 0, axis) if axis else stacked


class BatchedPullback:
    """The pullbacks of a mapped ``vjp``: called with cotangents batched along axis 0 (a tree
    of them for a tuple output), returns the gradients stacked along axis 0."""

    def __init__(self, pullbacks):
        self.pullbacks = pullbacks

    def __call__(self, cotangent):
        return vmap(lambda k, ct: self.pullbacks[k](ct))(np.arange(len(self.pullbacks)),
                                                           cotangent)
