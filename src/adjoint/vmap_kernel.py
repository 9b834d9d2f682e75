"""The parallel path of :mod:`adjoint.vmap`: a Numba ``prange`` loop over compiled
per-example code.

Takes a :class:`adjoint.vmap.VMapped` call whose ``fn`` is a ``jit=True`` transform and whose
arguments are flat (no trees); returns the stacked results, or None when this path does not
apply (the caller then runs a Python loop). It applies when

* every argument is a float, int, bool or float64 array, and every mapped one a float64 array;
* :func:`compiled_example` finds the transform's code for these arguments as one Numba
  dispatcher whose raw result *is* what the transform returns (checked on example 0: same
  structure, types, and values to rounding — no conversion happens outside the compiled code);
* every output leaf is a float or a float64 array, stacked along an int ``out_axes``.

The loop is generated per layout (which arguments are mapped, how many hidden data globals the
dispatcher takes first, where each output leaf sits in its result tuple), e.g.::

    def vmapped(h0, a0, a1, o0, o1, finished):
        for i in prange(o0.shape[0]):
            r = per_example(h0, a0[i], a1)
            o0[i] = r[0]
            o1[i] = r[1]
            finished[i] = True

compiled with ``numba.njit(parallel=True)`` (mapped arguments are first made C-contiguous with
the mapped axis first), and kept for the process — and on disk, next to the per-example code,
when that code came from the disk cache (:func:`_cached_module`). Each example is computed by
the per-example code compiled whole, so results equal a Python loop's to rounding (bit for bit
when the transform itself runs that code).

Numba does not propagate an exception raised inside a ``prange`` loop (the loop just stops that
iteration, and may skip others): ``finished`` records which examples completed, and the others
run again through the transform in Python, which raises the error as a Python loop would (or
computes the skipped examples).
"""

from __future__ import annotations

import hashlib
import os
import re
import sys

import numpy as np

from . import api
from .bindings import Stale
from .errors import JitError

_KERNELS = {}  # (dispatcher, layout) -> compiled prange loop, shared by every VMapped


def compiled_example(fn):
    """``(dispatcher, hidden)`` for the code ``fn`` (a ``jit=True`` transform) ran on its last
    call: a Numba dispatcher usable inside ``njit`` code that takes the values ``hidden`` (the
    data globals, read now) before ``fn``'s arguments; or None when that code is not a single
    Numba dispatcher.

    This is the one place that knows how :mod:`adjoint.jit` exposes compiled code: the callable
    :func:`adjoint.jit.njit_derived` returns, reached through the bindings wrapper's ``target``,
    carries the dispatcher as ``.dispatcher`` when the code is compiled whole; otherwise (its
    loops compiled as kernels, or array code left to NumPy) :func:`adjoint.jit.whole` compiles
    it whole for the loop."""
    derived = fn._last
    for entry, entry_derived in fn._entries.values():
        if entry_derived is derived:
            target = getattr(entry, "target", entry)
            dispatcher = getattr(target, "dispatcher", None)
            if dispatcher is None:  # jit=True left array code to NumPy: compile it whole
                from .jit import whole
                dispatcher = whole(derived)
            try:
                hidden = tuple(b.current() for b in derived.bindings if b.data)
            except (KeyError, ValueError):
                return None
            return dispatcher, hidden
    return None


def _flat_number(a):
    return type(a) in (float, int, bool) or type(a) is np.ndarray and a.dtype == np.float64


def run_prange(vm, leaves, axes, n, nargs, rebuild):
    fn = vm.fn
    if not (isinstance(fn, api.Transformed) and fn.jit and
            fn.kind in ("grad", "value_and_grad", "jvp")):
        return None
    if len(leaves) != nargs or not all(map(_flat_number, leaves)) or \
            any(ax is not None and type(leaf) is not np.ndarray for leaf, ax in zip(leaves, axes)):
        return None
    from .vmap import _example, _flatten, _leaf_axes
    example = [_example(leaf, ax, 0) for leaf, ax in zip(leaves, axes)]
    first = fn(*example)  # checks the arguments, compiles, and fixes the output's structure
    compiled = compiled_example(fn)
    if compiled is None:
        return None
    dispatcher, hidden = compiled
    try:
        raw = dispatcher(*hidden, *example)
    except (TypeError, Stale, JitError):  # JitError: Numba refuses the code compiled whole
        return None
    dispatcher = getattr(dispatcher, "dispatcher", dispatcher)  # Numba's, for the loop
    if not _identical(raw, first):
        return None
    out_leaves, rebuild_out = _flatten(first)
    out_axes = _leaf_axes(vm.out_axes, first, "out_axes")
    if any(ax is None for ax in out_axes):
        return None
    mapped = tuple(ax is not None for ax in axes)
    arrays = [np.ascontiguousarray(np.moveaxis(leaf, ax, 0)) if ax is not None else leaf
              for leaf, ax in zip(leaves, axes)]
    outputs = [np.empty((n,) + np.shape(leaf)) for leaf in out_leaves]
    paths = tuple(_paths(first))
    key = (dispatcher, len(hidden), mapped, paths)
    kernel = _KERNELS.get(key)
    if kernel is None:
        kernel = _KERNELS[key] = _kernel(dispatcher, len(hidden), mapped, paths)
    finished = np.zeros(n, dtype=np.bool_)
    kernel(*hidden, *arrays, *outputs, finished)
    # Numba does not propagate an exception raised in a prange loop: the examples whose code
    # raised (and any the loop then skipped) are left unfinished. Run those through the
    # transform, so that an error is raised as a Python loop raises it.
    for i in np.flatnonzero(~finished):
        result = fn(*[_example(leaf, ax, i) for leaf, ax in zip(leaves, axes)])
        for out, leaf in zip(outputs, _flatten(result)[0]):
            out[i] = leaf
    return rebuild_out([np.moveaxis(o, 0, ax) if ax else o for o, ax in zip(outputs, out_axes)])


def _identical(a, b):
    """Same tree, leaf types and shapes, and values equal to rounding (the code compiled whole
    may round differently from NumPy's kernels, which jit=True uses for array code)."""
    if isinstance(a, tuple) or isinstance(b, tuple):
        return isinstance(a, tuple) and isinstance(b, tuple) and len(a) == len(b) and \
            all(map(_identical, a, b))
    if type(a) is not type(b) or not (type(a) is float or type(a) is np.ndarray and
                                      a.dtype == np.float64):
        return False
    return np.shape(a) == np.shape(b) and np.allclose(a, b, rtol=1e-12, atol=1e-300,
                                                      equal_nan=True)


def _paths(tree, prefix=()):
    """Index paths of the leaves of a nested tuple, in order."""
    if isinstance(tree, tuple):
        for k, t in enumerate(tree):
            yield from _paths(t, prefix + (k,))
    else:
        yield prefix


def _kernel(dispatcher, n_hidden, mapped, paths):
    import numba
    hidden = [f"h{k}" for k in range(n_hidden)]
    args = [f"a{k}" for k in range(len(mapped))]
    outs = [f"o{k}" for k in range(len(paths))]
    passed = hidden + [f"{a}[i]" if m else a for a, m in zip(args, mapped)]
    lines = [f"def vmapped({', '.join(hidden + args + outs)}, finished):",
             f"    for i in prange({outs[0]}.shape[0]):",
             f"        r = per_example({', '.join(passed)})"]
    lines += [f"        {o}[i] = r{''.join(f'[{k}]' for k in path)}"
              for o, path in zip(outs, paths)]
    lines.append("        finished[i] = True")
    source = "\n".join(lines) + "\n"
    cached = _cached_module(dispatcher, source)
    if cached is not None:
        return numba.njit(parallel=True, cache=True)(cached.vmapped)
    namespace = {"prange": numba.prange, "per_example": dispatcher}
    exec(compile(source, "<adjoint vmap>", "exec"), namespace)  # noqa: S102
    return numba.njit(parallel=True)(namespace["vmapped"])


def _cached_module(dispatcher, source):
    """With the disk cache on (:mod:`adjoint.jit`) and the per-example code loaded through it,
    the loop's source as a module in the cache directory, so that Numba's cache keeps the
    compiled loop too; else None. The file is named by the per-example code's module (itself
    named by a hash of everything its code depends on) and the loop's source, so a loop is
    never reused for other per-example code."""
    import importlib.util

    from . import jit
    callee = getattr(getattr(dispatcher, "py_func", None), "__module__", "") or ""
    if not jit._CACHE_DIR or not re.fullmatch(r"adjoint_[0-9a-f]{20}", callee):
        return None
    text = f"# prange loop over {callee}\nfrom numba import prange\n\n\n{source}"
    name = "adjoint_vmap_" + hashlib.sha256(text.encode()).hexdigest()[:20]
    module = sys.modules.get(name)
    if module is not None:
        return module
    path = os.path.join(jit._CACHE_DIR, f"{name}.py")
    if not os.path.exists(path):
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "w") as fh:
            fh.write(text)
        os.replace(tmp, path)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    module.per_example = dispatcher
    sys.modules[name] = module  # Numba finds a cached function's module by name
    spec.loader.exec_module(module)
    return module
