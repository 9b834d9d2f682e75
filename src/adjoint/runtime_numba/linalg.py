"""Numba implementations of the linear-algebra helpers (:mod:`adjoint.runtime.linalg`).

``@``, ``np.dot`` and ``np.linalg`` take 1-D and 2-D arrays under Numba (and need SciPy at run
time); a helper whose primal Numba cannot compile at all (np.einsum, np.tensordot) gets an
overload that says so at compile time.
"""

from __future__ import annotations

import numpy as np
from numba import types
from numba.core.errors import TypingError
from numba.extending import overload, register_jitable

from .. import runtime
from .common import _is_array, _is_scalar, _raise_no_rule, _refuse

# --- linear algebra -------------------------------------------------------------------------


@overload(runtime.mT)
def _mT(x):
    if _is_array(x) and x.ndim == 2:
        # x.T keeps a known (Fortran) layout, which Numba's `@` takes without a copy or a
        # performance warning; swapaxes would give an 'A'-layout view.
        return lambda x: x.T
    if _is_array(x) and x.ndim > 2:
        return lambda x: np.swapaxes(x, -1, -2)
    return None


def _bilinear(name, cases):
    """Register ``cases[(a.ndim, b.ndim)]`` (0 for a scalar) as the overload of ``name``."""
    def typer(g, a, b):
        key = tuple(0 if _is_scalar(t) else t.ndim if _is_array(t) else None for t in (a, b))
        impl = cases.get(key)
        if impl is None:
            raise TypingError(f"{name} under Numba takes scalars, 1-D and 2-D arrays (Numba's "
                              f"products take no more), not {a} and {b}")
        if any(_is_array(t) and t.dtype != types.float64 for t in (g, a, b)):
            # Numba's products take one dtype: a float32 (or integer) primal meets a float64
            # adjoint, so everything goes to float64 first, as NumPy's promotion would.
            helper = getattr(runtime, name)
            return lambda g, a, b: helper(runtime.as_float(g), runtime.as_float(a),
                                          runtime.as_float(b))
        return impl
    overload(getattr(runtime, name))(typer)


# The adjoint of a in z = a ∘ b is g contracted with b over b's free axes (and of b likewise);
# with 1-D operands the contractions are dot products and outer products.
_bilinear("matmul_vjp_a", {
    (2, 2): lambda g, a, b: np.dot(g, b.T),
    (1, 2): lambda g, a, b: np.dot(b, g),
    (2, 1): lambda g, a, b: np.outer(g, b),
    (1, 1): lambda g, a, b: g * b,
})
_bilinear("matmul_vjp_b", {
    (2, 2): lambda g, a, b: np.dot(a.T, g),
    (1, 2): lambda g, a, b: np.outer(a, g),
    (2, 1): lambda g, a, b: np.dot(g, a),
    (1, 1): lambda g, a, b: g * a,
})
_SCALAR_FACTOR_A = {
    (0, 0): lambda g, a, b: float(g * b),
    (0, 1): lambda g, a, b: float(np.sum(g * b)),
    (0, 2): lambda g, a, b: float(np.sum(g * b)),
    (1, 0): lambda g, a, b: g * b,
    (2, 0): lambda g, a, b: g * b,
}
_SCALAR_FACTOR_B = {
    (0, 0): lambda g, a, b: float(g * a),
    (1, 0): lambda g, a, b: float(np.sum(g * a)),
    (2, 0): lambda g, a, b: float(np.sum(g * a)),
    (0, 1): lambda g, a, b: g * a,
    (0, 2): lambda g, a, b: g * a,
}
_bilinear("dot_vjp_a", {
    (2, 2): lambda g, a, b: np.dot(g, b.T),
    (1, 2): lambda g, a, b: np.dot(b, g),
    (2, 1): lambda g, a, b: np.outer(g, b),
    (1, 1): lambda g, a, b: g * b,
    **_SCALAR_FACTOR_A,
})
_bilinear("dot_vjp_b", {
    (2, 2): lambda g, a, b: np.dot(a.T, g),
    (1, 2): lambda g, a, b: np.outer(a, g),
    (2, 1): lambda g, a, b: np.dot(g, a),
    (1, 1): lambda g, a, b: g * a,
    **_SCALAR_FACTOR_B,
})
# np.inner contracts the last axes of both: inner(a, b) = a @ b.T for matrices.
_bilinear("inner_vjp_a", {
    (2, 2): lambda g, a, b: np.dot(g, b),
    (1, 2): lambda g, a, b: np.dot(g, b),
    (2, 1): lambda g, a, b: np.outer(g, b),
    (1, 1): lambda g, a, b: g * b,
    **_SCALAR_FACTOR_A,
})
_bilinear("inner_vjp_b", {
    (2, 2): lambda g, a, b: np.dot(g.T, a),
    (1, 2): lambda g, a, b: np.outer(g, a),
    (2, 1): lambda g, a, b: np.dot(g, a),
    (1, 1): lambda g, a, b: g * a,
    **_SCALAR_FACTOR_B,
})

overload(runtime.tensordot_vjp_a)(_refuse("Numba cannot compile np.tensordot"))
overload(runtime.tensordot_vjp_b)(_refuse("Numba cannot compile np.tensordot"))
overload(runtime.einsum_of)(_refuse("Numba cannot compile np.einsum"))
overload(runtime.einsum_spec)(_refuse("Numba cannot compile np.einsum"))
overload(runtime.einsum_adjoint)(_refuse("Numba cannot compile np.einsum"))


def _diagonal_value(g, k):
    """Element ``k`` of the diagonal values ``g``: a scalar, or a 1-D array (length 1
    broadcasts)."""


@overload(_diagonal_value)
def _diagonal_value_impl(g, k):
    if _is_array(g) and g.ndim == 1:
        return lambda g, k: g[k if g.shape[0] != 1 else 0]
    if _is_scalar(g):
        return lambda g, k: g
    return None


@overload(runtime.diagonal_vjp)
def _diagonal_vjp(g, a, offset, axis1, axis2):
    if not (_is_array(a) and a.ndim == 2):
        raise TypingError("diagonal_vjp under Numba takes a 2-D array (Numba has no "
                          "np.diagonal; np.trace and np.diag are 2-D)")

    def impl(g, a, offset, axis1, axis2):
        out = np.zeros(a.shape)
        swapped = axis1 % 2 == 1 and axis2 % 2 == 0
        rows = a.shape[1] if swapped else a.shape[0]
        cols = a.shape[0] if swapped else a.shape[1]
        first = max(0, -offset)
        for i in range(first, min(rows, cols - offset)):
            if swapped:
                out[i + offset, i] = _diagonal_value(g, i - first)
            else:
                out[i, i + offset] = _diagonal_value(g, i - first)
        return out
    return impl


@overload(runtime.trace_vjp)
def _trace_vjp(g, a, offset, axis1, axis2):
    if not (_is_array(a) and a.ndim == 2 and _is_scalar(g)):
        raise TypingError("trace_vjp under Numba takes a 2-D array (Numba's np.trace is 2-D)")
    return lambda g, a, offset, axis1, axis2: runtime.diagonal_vjp(g, a, offset, axis1, axis2)


@overload(runtime.diag_vjp)
def _diag_vjp(g, v, k):
    if _is_array(v) and v.ndim == 1:
        return lambda g, v, k: np.diag(g, k).copy()
    if _is_array(v) and v.ndim == 2:
        return lambda g, v, k: runtime.diagonal_vjp(g, v, k, 0, 1)
    return None


def _matrices(*ts):
    """Whether every type is a 2-D array (Numba's np.linalg takes no stacks of matrices)."""
    return all(_is_array(t) and t.ndim == 2 for t in ts)


_NOT_2D = "{} under Numba takes 2-D matrices (Numba's np.linalg takes no stacks of them)"


def _not_float64(*args):
    """Whether an array among ``args`` is not float64: Numba's linear algebra takes one dtype,
    and a float32 primal meets a float64 adjoint."""
    return any(_is_array(t) and t.dtype != types.float64 for t in args)


@register_jitable
def _f64(x):
    return runtime.as_float(x)


@overload(runtime.solve_vjp_b)
def _solve_vjp_b(g, a, b):
    if not (_matrices(a) and _is_array(b)):
        raise TypingError(_NOT_2D.format("solve_vjp_b"))
    if _not_float64(g, a, b):
        return lambda g, a, b: runtime.solve_vjp_b(g, _f64(a), _f64(b))
    return lambda g, a, b: np.linalg.solve(a.T, g)


@overload(runtime.solve_vjp_a)
def _solve_vjp_a(g, a, b, x):
    if not (_matrices(a) and _is_array(b)):
        raise TypingError(_NOT_2D.format("solve_vjp_a"))
    if _not_float64(g, a, b, x):
        return lambda g, a, b, x: runtime.solve_vjp_a(g, _f64(a), _f64(b), _f64(x))
    if b.ndim == 1:
        return lambda g, a, b, x: -np.outer(np.linalg.solve(a.T, g), x)
    return lambda g, a, b, x: -np.dot(np.linalg.solve(a.T, g), x.T)


@overload(runtime.solve_jvp_a)
def _solve_jvp_a(t, a, b, x):
    if not (_matrices(a) and _is_array(b)):
        raise TypingError(_NOT_2D.format("solve_jvp_a"))
    if _not_float64(t, a, b, x):
        return lambda t, a, b, x: runtime.solve_jvp_a(t, _f64(a), _f64(b), _f64(x))
    return lambda t, a, b, x: -np.linalg.solve(a, np.dot(t, x))


@overload(runtime.det_vjp)
def _det_vjp(g, a, z):
    if not _matrices(a):
        raise TypingError(_NOT_2D.format("det_vjp"))
    return lambda g, a, z: np.ascontiguousarray((g * z) * np.linalg.inv(a).T)


@overload(runtime.det_jvp)
def _det_jvp(t, a, z):
    if not _matrices(a):
        raise TypingError(_NOT_2D.format("det_jvp"))
    if _not_float64(t, a):
        return lambda t, a, z: runtime.det_jvp(t, _f64(a), z)
    return lambda t, a, z: z * np.trace(np.linalg.solve(a, t))


@overload(runtime.logdet_vjp)
def _logdet_vjp(g, a):
    if not _matrices(a):
        raise TypingError(_NOT_2D.format("logdet_vjp"))
    return lambda g, a: np.ascontiguousarray(g * np.linalg.inv(a).T)


@overload(runtime.logdet_jvp)
def _logdet_jvp(t, a):
    if not _matrices(a):
        raise TypingError(_NOT_2D.format("logdet_jvp"))
    if _not_float64(t, a):
        return lambda t, a: runtime.logdet_jvp(t, _f64(a))
    return lambda t, a: np.trace(np.linalg.solve(a, t))


# Triangles are written as loops: np.tril costs seconds of Numba compile time.


@register_jitable
def _phi(x):
    """The lower triangle of square ``x`` with its diagonal halved."""
    n = x.shape[0]
    out = np.zeros((n, n))
    for i in range(n):
        for j in range(i):
            out[i, j] = x[i, j]
        out[i, i] = 0.5 * x[i, i]
    return out


@register_jitable
def _cholesky_lower_vjp(g, z):
    """tril(S + Sᵀ) with the diagonal of S, where S = L⁻ᵀ Φ(Lᵀ Ḡ) L⁻¹."""
    inv_l = np.linalg.inv(z)
    s = np.dot(np.dot(inv_l.T, _phi(np.dot(z.T, g))), inv_l)
    n = s.shape[0]
    out = np.zeros((n, n))
    for i in range(n):
        for j in range(i):
            out[i, j] = s[i, j] + s[j, i]
        out[i, i] = s[i, i]
    return out


@register_jitable
def _cholesky_lower_jvp(t, z):
    """L Φ(L⁻¹ dA L⁻ᵀ), dA the symmetric matrix whose lower triangle is t's."""
    n = t.shape[0]
    sym = np.empty((n, n))
    for i in range(n):
        for j in range(n):
            sym[i, j] = t[i, j] if j <= i else t[j, i]
    inv_l = np.linalg.inv(z)
    return np.dot(z, _phi(np.dot(np.dot(inv_l, sym), inv_l.T)))


@overload(runtime.cholesky_vjp)
def _cholesky_vjp(g, z, upper):
    if not _matrices(g, z):
        raise TypingError(_NOT_2D.format("cholesky_vjp"))

    def impl(g, z, upper):
        # The upper factor is the transpose of the lower one. Contiguous copies, so that the
        # lower-case code compiles once (Numba compiles per memory layout).
        if upper:
            return np.ascontiguousarray(_cholesky_lower_vjp(
                np.ascontiguousarray(g.T), np.ascontiguousarray(z.T)).T)
        return _cholesky_lower_vjp(np.ascontiguousarray(g), np.ascontiguousarray(z))
    return impl


@overload(runtime.cholesky_jvp)
def _cholesky_jvp(t, z, upper):
    if not _matrices(t, z):
        raise TypingError(_NOT_2D.format("cholesky_jvp"))

    def impl(t, z, upper):
        if upper:
            return np.ascontiguousarray(_cholesky_lower_jvp(
                np.ascontiguousarray(t.T), np.ascontiguousarray(z.T)).T)
        return _cholesky_lower_jvp(np.ascontiguousarray(t), np.ascontiguousarray(z))
    return impl


@overload(runtime.solve_rhs)
def _solve_rhs(b, a):
    if _is_array(b) and b.ndim == 1 and _is_array(a) and a.ndim > 2:
        def refuse(b, a):
            _raise_no_rule("adjoint differentiates np.linalg.solve of a stack of matrices "
                           "with a 1-D right-hand side only once")
            return b
        return refuse
    return lambda b, a: b


@overload(runtime.gaps)
def _gaps(v):
    if not (isinstance(v, types.Array) and v.ndim == 1):
        raise TypingError("gaps takes one vector under Numba")

    def impl(v):
        n = v.shape[0]
        out = np.zeros((n, n))
        for i in range(n):
            for j in range(n):
                if i != j:
                    diff = v[j] - v[i]
                    out[i, j] = 1.0 / diff if diff != 0.0 else np.inf
        return out
    return impl
