"""NumPy's own kernels for transcendental ufuncs inside jitted code.

Numba compiles ``np.tanh``, ``np.exp`` and friends to scalar loops, which run about 10× slower
than NumPy's vectorised (SIMD) kernels on large arrays; the llvmlite wheels have no SVML. Under
``jit=True`` the generated code's ``np`` is this module's :data:`proxy`: NumPy itself, except
that these ufuncs, given an array of at least :data:`THRESHOLD` elements, leave Numba through
``objmode`` and call NumPy's kernel. Scalars and small arrays stay compiled. The source text of
the generated code is the same in both modes; only what ``np.tanh`` names differs.

``np.linalg.norm(a, 'fro')``, which Numba compiles and then refuses at run time, is the 2-norm
of the entries under this proxy.
"""

from __future__ import annotations

import types as pytypes

import numpy as np

THRESHOLD = 4096  # elements; below this the objmode round trip costs more than it saves

UFUNCS = ("exp", "expm1", "log", "log1p", "log2", "log10", "tanh", "sinh", "cosh", "sin",
          "cos", "tan", "arcsin", "arccos", "arctan", "arcsinh", "arccosh", "arctanh")

_proxy = None


def proxy():
    """The module that ``np`` names in jitted generated code (built on first use)."""
    global _proxy
    if _proxy is None:
        _proxy = _build()
    return _proxy


def _build():
    import numba
    from numba import types
    from numba.extending import overload

    module = pytypes.ModuleType("adjoint_numpy")
    module.__dict__.update({k: getattr(np, k) for k in dir(np) if not k.startswith("__")})

    def make(name):
        ufunc = getattr(np, name)

        def stub(x):
            return ufunc(x)
        stub.__name__ = name

        @overload(stub)
        def _impl(x):
            if isinstance(x, types.Array) and isinstance(x.dtype, types.Float) and x.ndim:
                # C-contiguous results: BLAS (`@`) downstream wants contiguous arrays.
                dims = [":"] * x.ndim
                dims[-1] = "::1"
                spec = f"{x.dtype}[{', '.join(dims)}]"  # float32 in, float32 out
                code = (f"def impl(x):\n"
                        f"    if x.size < {THRESHOLD}:\n"
                        f"        return np.{name}(x)\n"
                        f"    with objmode(out='{spec}'):\n"
                        f"        out = np.{name}(np.ascontiguousarray(x))\n"
                        f"    return out\n")
                scope = {"np": np, "objmode": numba.objmode}
                exec(code, scope)
                return scope["impl"]
            return lambda x: ufunc(x)

        return stub

    for name in UFUNCS:
        setattr(module, name, make(name))
    module.linalg = _linalg(numba, types, overload)
    return module


def _linalg(numba, types, overload):
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
