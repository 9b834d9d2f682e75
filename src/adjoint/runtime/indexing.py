"""Helpers of the rule for ``np.take``: scattering an adjoint back to the positions a gather
read.

Takes the primal's arguments as the rule passes them (``indices`` an int or an integer array,
``axis`` None or an int, ``mode`` one of NumPy's ``'raise'``, ``'wrap'``, ``'clip'``); returns a
fresh float64 array shaped like ``a``.
"""

from __future__ import annotations

import numpy as np


def _taken(indices, n, mode):
    """The positions ``np.take(..., mode=mode)`` reads along an axis of length ``n``."""
    index = np.asarray(indices)
    if mode == "wrap":
        return index % n
    if mode == "clip":
        return np.clip(index, 0, n - 1)
    return index


def take_vjp(g, a, indices, axis, mode):
    """Adjoint of ``np.take(a, indices, axis, mode=mode)``: ``g`` added at the positions the
    gather read (a repeated index accumulates), in a zero array shaped like ``a``. Its own
    adjoint is ``np.take`` again."""
    shape = np.shape(a)
    if axis is None:
        flat = np.zeros(int(np.prod(shape)))
        np.add.at(flat, _taken(indices, flat.size, mode), g)
        return flat.reshape(shape)
    axis = axis % len(shape)
    out = np.zeros(shape)
    np.add.at(out, (slice(None),) * axis + (_taken(indices, shape[axis], mode),), g)
    return out
