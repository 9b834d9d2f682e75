"""Gradients over data held in Dask arrays: ``adjoint.dask.value_and_grad``.

Takes a function ``f`` whose value is a sum or a mean over the rows (axis 0) of its ``data``
arguments — a loss over examples — and returns a callable with ``f``'s parameters where the
``data`` arguments are Dask arrays chunked along axis 0. It evaluates ``f`` and its gradient
with respect to ``wrt`` on each chunk as one Dask task (the transform travels to the workers
pickled by reference, :mod:`adjoint.pickling`), adds the per-chunk results in a tree (at most
``split_every`` partial results per addition), and returns NumPy values::

    value, grad = adjoint.dask.value_and_grad(loss, wrt="w", data=("X", "y"))(w, X, y)

equal to ``adjoint.value_and_grad(loss, wrt="w")(w, X.compute(), y.compute())`` to rounding:

* ``reduction="mean"``: ``f`` is a mean over rows; each chunk's value and gradient are weighted
  by the chunk's number of rows, and the total is divided by the number of rows;
* ``reduction="sum"``: ``f`` is a sum over rows; the per-chunk results are added.

A term of ``f`` that does not depend on the data (a regulariser) counts once with ``"mean"``
(the chunk weights sum to one) but once per chunk with ``"sum"``: add it outside.

The chunks of the data arguments along axis 0 are aligned to those of the first one (the others
are rechunked when they differ; other axes are made one chunk); a NumPy array given as data is
chunked the same way. Chunks of length 0 are skipped. ``wrt`` may not name a data argument.

The computation runs on the current ``dask.distributed`` client when there is one (Dask's
default scheduler then), else on Dask's local scheduler (threads; nothing is pickled). Dask is an
optional dependency: ``pip install 'adjoint[dask]'``; without it, calling raises ImportError
saying so.

Only the assumption that ``f`` is a sum or mean over rows is not checked: a loss that couples
rows (a normalisation over the batch, a median) gives a gradient of another function.
"""

from __future__ import annotations

import threading

import numpy as np

from . import api, pickling

_REDUCTIONS = ("mean", "sum")
_FIRST_CALL = threading.Lock()


def _import_dask():
    try:
        import dask
        import dask.array
    except ImportError as exc:
        raise ImportError("adjoint.dask needs Dask: pip install 'adjoint[dask]'") from exc
    return dask


def value_and_grad(f=None, *, wrt=0, data=(), reduction="mean", jit=False, optimize=True,
                   split_every=8):
    """``f``'s value and gradient with respect to ``wrt``, computed chunk by chunk over the Dask
    arrays passed as the ``data`` arguments (positions or names); see the module docstring."""
    if reduction not in _REDUCTIONS:
        raise ValueError(f"reduction must be 'mean' or 'sum', not {reduction!r}")
    if not isinstance(split_every, int) or split_every < 2:
        raise ValueError(f"split_every must be an int of at least 2, not {split_every!r}")
    if f is None:
        return lambda fn: DaskValueAndGrad(fn, wrt, data, reduction, jit, optimize, split_every)
    return DaskValueAndGrad(f, wrt, data, reduction, jit, optimize, split_every)


class DaskValueAndGrad:
    """What :func:`value_and_grad` returns: call it with ``f``'s arguments."""

    def __init__(self, f, wrt, data, reduction, jit, optimize, split_every):
        self.f, self.wrt, self.data, self.reduction = f, wrt, data, reduction
        self.jit, self.optimize, self.split_every = jit, optimize, split_every
        self.per_chunk = api.value_and_grad(f, wrt=wrt, jit=jit, optimize=optimize)
        names = list(self.per_chunk._signature())
        self._data = _positions(data, names, "data")
        clash = set(self._data) & set(_positions(wrt, names, "wrt"))
        if clash:
            raise ValueError(f"wrt names the data argument {names[min(clash)]!r}: the gradient "
                             "is taken with respect to parameters, not data")
        self.__name__ = f"dask.value_and_grad({getattr(f, '__name__', 'f')})"

    def __reduce__(self):
        return pickling.reduce_transform(type(self), self.f, self.wrt, self.data,
                                         self.reduction, self.jit, self.optimize,
                                         self.split_every)

    def __repr__(self):
        return f"<adjoint {self.__name__}>"

    def __call__(self, *args, **kwargs):
        dask = _import_dask()
        args = list(self.per_chunk._bind(args, kwargs) if kwargs else
                    self.per_chunk._complete(args))
        blocks, rows = _aligned_blocks(dask, [args[k] for k in self._data])
        for k in self._data:
            args[k] = None  # shipped per chunk, not with every task
        shared = dask.delayed(tuple(args), pure=True, traverse=False)
        task = dask.delayed(_chunk, pure=True)
        parts = [task(self.per_chunk, shared, self._data, self.reduction, *chunk)
                 for chunk, n in zip(blocks, rows) if n]
        if not parts:
            raise ValueError("the data arguments have no rows")
        add = dask.delayed(_add, pure=True)
        while len(parts) > 1:
            parts = [add(*parts[k:k + self.split_every])
                     for k in range(0, len(parts), self.split_every)]
        (value, grads), = dask.compute(parts[0])
        if self.reduction == "mean":
            total = sum(rows)
            value, grads = value / total, _map(lambda g: g / total, grads)
        return value, grads


def _positions(which, names, what):
    items = which if isinstance(which, (tuple, list)) else (which,)
    out = []
    for item in items:
        if isinstance(item, str):
            if item not in names:
                raise ValueError(f"{what} names {item!r}, which is not a parameter of the "
                                 f"function ({', '.join(names)})")
            out.append(names.index(item))
        elif isinstance(item, int) and -len(names) <= item < len(names):
            out.append(item % len(names))
        else:
            raise ValueError(f"{what} entry {item!r} is not a parameter name or position")
    return out


def _aligned_blocks(dask, arrays):
    """Per chunk of rows, the blocks of every data array, and the chunks' numbers of rows."""
    da = dask.array
    arrays = [a if isinstance(a, da.Array) else da.asarray(a) for a in arrays]
    if any(a.ndim == 0 for a in arrays):
        raise ValueError("a data argument must have an axis 0 (rows) to chunk over")
    lengths = {a.shape[0] for a in arrays}
    if len(lengths) > 1 or any(np.isnan(c) for c in arrays[0].chunks[0]):
        raise ValueError(f"the data arguments must have the same, known number of rows; got "
                         f"{sorted(lengths)} (call compute_chunk_sizes() on arrays of unknown "
                         "chunk sizes)")
    rows = arrays[0].chunks[0]
    aligned = [a.rechunk((rows,) + tuple((s,) for s in a.shape[1:])) for a in arrays]
    blocks = [a.to_delayed().reshape(-1) for a in aligned]
    return list(zip(*blocks)), list(rows)


def _chunk(per_chunk, shared, data, reduction, *blocks):
    """One chunk's (value, gradients), weighted by its rows for a mean (a Dask task)."""
    args = list(shared)
    for k, block in zip(data, blocks):
        args[k] = block
    if per_chunk._entries:
        value, grads = per_chunk(*args)
    else:  # the first call derives (and compiles): once, not once per thread of the worker
        with _FIRST_CALL:
            value, grads = per_chunk(*args)
    if reduction == "mean":
        n = len(blocks[0])
        return value * n, _map(lambda g: g * n, grads)
    return value, grads


def _add(*parts):
    """The sum of partial (value, gradients) results (a Dask task)."""
    value, grads = parts[0]
    for v, g in parts[1:]:
        value = value + v
        grads = tuple(map(_plus, grads, g)) if isinstance(grads, tuple) else grads + g
    return value, grads


def _plus(a, b):
    return a + b  # new arrays: a partial result may be shared between tasks


def _map(fn, grads):
    return tuple(fn(g) for g in grads) if isinstance(grads, tuple) else fn(grads)
