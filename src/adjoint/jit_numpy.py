"""The NumPy that jitted code sees: NumPy's functions, with what Numba's versions lack.

Under ``jit=True`` the ``np`` of compiled generated code is this module's :func:`proxy`, a module
holding every public name of NumPy; where Numba's implementation of a function lacks arguments
that generated code passes, the proxy's version (a ``numba.extending.overload``) has them:

* the reductions ``sum``, ``mean``, ``max``, ``min``, ``amax``, ``amin``, ``prod``, ``var`` and
  ``std`` take ``axis`` (an int, or None) and ``keepdims`` (a constant), and ``var``/``std``
  take ``ddof`` — softmax, log-softmax and normalisations inside loops compile;
* ``np.linalg.norm(a, 'fro')``, which Numba compiles and then refuses at run time, is the
  2-norm of the entries.

Any other call is Numba's own, and so is the error when Numba lacks it. Results equal NumPy's to
rounding, with NumPy's shapes; reductions of float arrays stay in the array's float dtype
(``mean``, ``var`` and ``std`` of integers are float64). Nothing leaves Numba (no ``objmode``),
so code that uses the proxy can be cached on disk.
"""

from __future__ import annotations

import types as pytypes

import numpy as np

_proxy = None


def proxy():
    """The module that ``np`` names in jitted generated code (built on first use)."""
    global _proxy
    if _proxy is None:
        _proxy = _build()
    return _proxy


def _build():
    from numba import types
    from numba.extending import overload

    module = pytypes.ModuleType("adjoint_numpy")
    module.__dict__.update({k: getattr(np, k) for k in dir(np) if not k.startswith("__")})
    for name in REDUCTIONS:
        setattr(module, name, _reduction(name, types, overload))
    module.linalg = _linalg(types, overload)
    return module


REDUCTIONS = ("sum", "mean", "max", "min", "amax", "amin", "prod", "var", "std")


def _reduction(name, types, overload):
    """``np.<name>`` for jitted code, with NumPy's ``axis`` (an int) and ``keepdims``, which
    Numba's own lacks (``np.sum`` has ``axis`` only); other calls go to Numba's."""
    from numba.np.unsafe.ndarray import to_fixed_tuple

    from .runtime_numba.common import _lanes as lanes  # one helper for work along an axis

    function = getattr(np, name)
    op = {"amax": np.max, "amin": np.min}.get(name, function)
    moments = name in ("var", "std")

    def stub(a, axis=None, keepdims=False, ddof=0):
        return function(a, axis=axis, keepdims=keepdims, **({"ddof": ddof} if moments else {}))
    stub.__name__ = name

    @overload(stub, prefer_literal=True)
    def _impl(a, axis=None, keepdims=False, ddof=0):
        keep = getattr(keepdims, "literal_value", keepdims)
        if not isinstance(a, types.Array) or isinstance(keep, types.Type) or \
                isinstance(axis, types.BaseTuple) or (ddof != 0 and not moments and
                                                      not isinstance(ddof, types.Omitted)):
            return None  # Numba says what it lacks
        whole = axis is None or isinstance(axis, (types.NoneType, types.Omitted))
        if whole and not keep:
            if moments:
                def total(a, axis=None, keepdims=False, ddof=0):
                    m = np.mean(a)
                    return np.sum((a - m) ** 2) / (a.size - ddof) if name == "var" else \
                        np.sqrt(np.sum((a - m) ** 2) / (a.size - ddof))
                return total
            return lambda a, axis=None, keepdims=False, ddof=0: op(a)
        ndim = a.ndim
        dims = ndim if keep else ndim - (0 if whole else 1)
        dtype = np.float64 if name in ("mean", "var", "std") or \
            isinstance(a.dtype, types.Float) else from_numba(a.dtype)

        def impl(a, axis=None, keepdims=False, ddof=0):
            k = -1 if axis is None else axis % ndim
            x = lanes(a, None if axis is None else k)
            out = np.empty((x.shape[0], x.shape[2]), dtype)
            for i in range(x.shape[0]):
                for j in range(x.shape[2]):
                    v = x[i, :, j]
                    if moments:
                        r = np.sum((v - np.mean(v)) ** 2) / (v.size - ddof)
                        out[i, j] = np.sqrt(r) if name == "std" else r
                    else:
                        out[i, j] = op(v)
            shape = np.empty(dims, np.intp)
            j = 0
            for d in range(ndim):
                if d == k or k < 0:
                    if keepdims:
                        shape[j] = 1
                        j += 1
                else:
                    shape[j] = a.shape[d]
                    j += 1
            return out.reshape(to_fixed_tuple(shape, dims))
        return impl

    return stub


def from_numba(dtype):
    from numba.np.numpy_support import as_dtype
    return as_dtype(dtype)


def _linalg(types, overload):
    """``np.linalg`` for jitted code: NumPy's, except ``norm``, which also takes ``ord='fro'``
    (Numba's own compiles that call and then raises ValueError at run time)."""
    linalg = pytypes.ModuleType("adjoint_numpy_linalg")
    linalg.__dict__.update({k: getattr(np.linalg, k) for k in dir(np.linalg)
                            if not k.startswith("__")})

    def norm(x, ord=None):
        return np.linalg.norm(x, ord)

    @overload(norm, prefer_literal=True)
    def _norm(x, ord=None):
        if isinstance(ord, (types.UnicodeType, types.StringLiteral)):
            if not (isinstance(x, types.Array) and x.ndim == 2):
                return None  # NumPy refuses a named order for vectors too

            def named(x, ord=None):
                if ord != "fro":
                    raise ValueError("Invalid norm order for matrices.")
                return np.linalg.norm(x)  # Frobenius: the 2-norm of the entries
            return named
        return lambda x, ord=None: np.linalg.norm(x, ord)

    linalg.norm = norm
    return linalg
