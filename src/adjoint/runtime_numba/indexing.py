"""Numba implementation of the gather helper (:mod:`adjoint.runtime.indexing`).

``take_vjp`` compiles for a flattened gather (``axis=None``, every ``mode``); a gather along an
axis is refused at compile time (Numba's ``np.take`` takes no axis either).
"""

from __future__ import annotations

import numpy as np
from numba.core.errors import TypingError
from numba.extending import overload

from .. import runtime
from .common import _is_none


@overload(runtime.take_vjp)
def _take_vjp(g, a, indices, axis, mode):
    if not _is_none(axis):
        raise TypingError("np.take with axis= has no adjoint under Numba (Numba's np.take takes "
                          "no axis); use jit=False for this function")

    def impl(g, a, indices, axis, mode):
        flat = np.zeros(np.asarray(a).size)
        taken = np.asarray(indices).ravel()
        values = np.asarray(g).ravel()
        n = flat.size
        for k in range(taken.size):
            i = taken[k]
            if mode == "wrap":
                i = i % n
            elif mode == "clip":
                i = min(max(i, 0), n - 1)
            elif i < 0:
                i += n
            flat[i] += values[k]
        return flat.reshape(np.shape(a))
    return impl
