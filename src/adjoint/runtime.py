"""The helpers generated code calls — plain-Python implementations.

Generated adjoints call only these helpers (besides NumPy, ``math`` and builtins). Each has a
plain-Python implementation here and a Numba implementation in :mod:`adjoint.runtime_numba`
(registered with ``numba.extending.overload``), so the *same generated source* runs interpreted
and under ``numba.njit``, and both give the same numbers to rounding.

Conventions: "scalar" means a Python/NumPy number (or, where a helper says so, a 0-d array);
adjoints of scalars are floats, adjoints of arrays are float64 arrays of the same shape.

The tape helpers store values the backward sweep needs in a preallocated, typed array::

    tape = tape_alloc(n, x)          # room for n values shaped like x
    tape_store(tape, i, x)           # forward sweep, iteration i
    x = tape_load(tape, i)           # backward sweep, same slot

A 0-d array and a scalar share a tape layout, so a 0-d array comes back from the tape as a
scalar of its dtype.
"""

from __future__ import annotations

import numpy as np

from .errors import NoRuleError

__all__ = [
    "zeros_like",
    "broadcast_like",
    "unbroadcast",
    "fresh",
    "write_adjoint",
    "add_at",
    "range_len",
    "tape_alloc",
    "tape_store",
    "tape_load",
    "as_float",
    "check_scalar",
    # NumPy array helpers (adjoint.rules.numpy)
    "keep_dims",
    "unreduce",
    "reduce_sum",
    "reduced_count",
    "ddof_count",
    "nonzero_reciprocal",
    "centered",
    "extreme_weights",
    "prod_weights",
    "norm_weights",
    "cumsum_axis",
    "cumsum_vjp",
    "cumprod_vjp",
    "cumprod_jvp",
    "diff_axis",
    "diff_vjp",
    "mT",
    "matmul_vjp_a",
    "matmul_vjp_b",
    "dot_vjp_a",
    "dot_vjp_b",
    "inner_vjp_a",
    "inner_vjp_b",
    "tensordot_vjp_a",
    "tensordot_vjp_b",
    "einsum_vjp",
    "einsum_jvp",
    "diagonal_vjp",
    "trace_vjp",
    "solve_vjp_b",
    "solve_vjp_a",
    "solve_jvp_a",
    "det_vjp",
    "det_jvp",
    "logdet_vjp",
    "logdet_jvp",
    "cholesky_vjp",
    "cholesky_jvp",
    "reshape_like",
    "reshape_order",
    "method_axes",
    "permute",
    "unpermute",
    "split_like",
    "unstack",
    "hstack_vjp",
    "index_concat_vjp",
    "index_concat_jvp",
    "vstack_vjp",
    "tile_vjp",
    "repeat_vjp",
    "roll_vjp",
    "roll_axis",
    "trace_axes",
    "repeat_axis",
    "flip_axis",
    "unpad",
    "pad_border",
    "astype_vjp",
    "arange_vjp_start",
    "arange_vjp_step",
    "arange_jvp_start",
    "linspace_basis",
    "linspace_vjp",
    "linspace_jvp",
    "sort_vjp",
    "sort_jvp",
    "diag_vjp",
    "safe_log",
    "pow_dx",
    "clip_inside",
    "clip_below",
    "clip_above",
]


def zeros_like(x):
    """A zero adjoint for ``x``: ``0.0`` for a scalar, a float64 zeros array for an array."""
    if isinstance(x, np.ndarray):
        return np.zeros(x.shape)
    return 0.0


def unbroadcast(g, like):
    """Sum ``g`` back to the shape of ``like`` (undoing NumPy broadcasting).

    For a scalar ``like`` the result is a float; for an array it is a float64 array of ``like``'s
    shape — ``g`` itself when it already is one. A ``g`` with fewer dimensions than ``like`` (a
    scalar included) is broadcast up to ``like``'s shape. Shapes that do not broadcast raise
    ``ValueError``.
    """
    if not isinstance(like, np.ndarray):
        if isinstance(g, np.ndarray):
            return float(np.sum(g))
        return float(g)
    if not isinstance(g, np.ndarray):
        return np.full(like.shape, g, dtype=np.float64)
    if g.dtype != np.float64:
        g = g.astype(np.float64)
    if g.shape == like.shape:
        return g
    if g.ndim < like.ndim:
        return np.broadcast_to(g, like.shape).copy()
    lead = g.ndim - like.ndim
    trailing = g.shape[lead:]
    if any(n != m and n != 1 for n, m in zip(like.shape, trailing)):
        raise ValueError(f"cannot unbroadcast an adjoint of shape {g.shape} to shape "
                         f"{like.shape}")
    axes = tuple(range(lead)) + tuple(
        lead + k for k, (n, m) in enumerate(zip(like.shape, trailing)) if n == 1 and m != 1)
    if axes:
        # keepdims, so that summing every axis still gives an array, never a NumPy scalar.
        g = g.sum(axis=axes, keepdims=True)
    return g.reshape(like.shape)


def broadcast_like(g, like):
    """``g`` broadcast up to ``like``'s shape (float for a scalar ``like``, else a new float64
    array): the adjoint of :func:`unbroadcast`."""
    if not isinstance(like, np.ndarray):
        return float(np.sum(g)) if isinstance(g, np.ndarray) else float(g)
    return np.broadcast_to(np.asarray(g, dtype=np.float64), like.shape).copy()


def fresh(x):
    """``x`` itself if it is a scalar, a copy if it is an array (so results are caller-owned)."""
    if isinstance(x, np.ndarray):
        return x.copy()
    return x


def write_adjoint(d, index):
    """The adjoint of the values ``a[index] = v`` wrote, given ``d``, the adjoint of ``a``
    after the write: a copy of ``d[index]`` in which, for an index with integer arrays (or
    lists) that names an element several times, only the occurrence NumPy keeps — the last
    write — is credited. Which one that is is found by writing each position's number
    through the same index, so any mix of slices, integers and integer arrays is exact.
    """
    out = np.array(d[index], dtype=np.float64, copy=True)
    if _is_integer_array(index) or (
            isinstance(index, tuple) and any(_is_integer_array(i) for i in index)):
        position = np.arange(out.size).reshape(out.shape)
        labels = np.full(np.shape(d), -1, dtype=np.intp)
        labels[index] = position
        out[labels[index] != position] = 0.0
    return out if out.ndim else float(out)


def _is_integer_array(i):
    return isinstance(i, (np.ndarray, list)) and np.asarray(i).dtype != np.bool_


def add_at(a, index, value):
    """``a[index] += value`` that accumulates repeated integer indices; returns ``a``."""
    if _is_integer_array(index) or (
            isinstance(index, tuple) and any(_is_integer_array(i) for i in index)):
        np.add.at(a, index, value)
    else:
        a[index] += value
    return a


def range_len(start, stop, step):
    """``len(range(start, stop, step))`` for a nonzero integer step."""
    if step > 0:
        n = (stop - start + step - 1) // step
    else:
        n = (start - stop - step - 1) // (-step)
    return n if n > 0 else 0


def _scalar_dtype(x):
    """The tape dtype for a scalar: bool → bool_, integer → int64, float → float64."""
    # bool before int: bool is a subclass of int.
    if isinstance(x, (bool, np.bool_)):
        return np.bool_
    if isinstance(x, (int, np.integer)):
        return np.int64
    if isinstance(x, (float, np.floating)):
        return np.float64
    if isinstance(x, (complex, np.complexfloating)):
        return np.complex128
    raise TypeError(f"cannot record a value of type {type(x).__name__} on a tape")


def tape_alloc(n, like):
    """An uninitialised tape with room for ``n`` values shaped like ``like``.

    A scalar gives a 1-D array of the matching dtype (float64, int64, bool_, complex128); an array
    gives an array of shape ``(n,) + like.shape`` and ``like``'s dtype.
    """
    if isinstance(like, np.ndarray):
        return np.empty((n,) + like.shape, like.dtype)
    return np.empty(n, _scalar_dtype(like))


def tape_store(tape, k, value):
    """``tape[k] = value``; an array value is copied into the slot, whose shape it must have."""
    if isinstance(value, np.ndarray) and value.shape != tape.shape[1:]:
        # NumPy would silently broadcast a smaller value into the slot.
        raise ValueError(f"cannot record a value of shape {value.shape} on a tape of slots "
                         f"of shape {tape.shape[1:]}")
    tape[k] = value


def tape_load(tape, k):
    """The value in slot ``k``: a Python scalar for a scalar tape, else a copy of the slot."""
    if tape.ndim == 1:
        return tape[k].item()
    return tape[k].copy()


def as_float(x):
    """``x`` as the float it stands for: ``float(x)`` for a scalar, a float64 array for an array.

    A float64 array is returned as it is, without a copy.
    """
    if isinstance(x, np.ndarray):
        return x.astype(np.float64, copy=False)
    return float(x)


def check_scalar(out):
    """``out`` if it is a scalar (a 0-d array becomes a float); otherwise ``ValueError``."""
    if isinstance(out, np.ndarray):
        if out.ndim == 0:
            return float(out)
        raise ValueError(f"the output is not a scalar (shape {out.shape})")
    if isinstance(out, (int, float, np.integer, np.floating, np.bool_)):
        return out
    raise ValueError(f"the output is not a scalar (got {type(out).__name__})")


# --- NumPy array helpers (used by the rules in adjoint.rules.numpy) ---------------------------
#
# Conventions: ``axis`` is what the user passed to a reduction (None, an int, possibly negative,
# or a tuple of ints); a reduction's result may or may not keep the reduced axes. ``a`` is the
# primal argument, so its shape is the shape an adjoint must come back with.


def _reduced_axes(axis, ndim):
    """The reduced axes as a sorted tuple of non-negative ints (None: all of them)."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (tuple, list)):
        return tuple(sorted(int(k) % ndim for k in axis))
    return (int(axis) % ndim,)


def keep_dims(r, a, axis):
    """A reduction's result ``r`` reshaped to ``a``'s number of dimensions (reduced axes as 1).

    ``r`` may or may not have kept the reduced axes; either way it has the same elements in the
    same order, so a reshape restores the kept form. For a scalar ``a``, ``r`` itself.
    """
    if not isinstance(a, np.ndarray):
        return r
    axes = _reduced_axes(axis, a.ndim)
    shape = tuple(1 if k in axes else n for k, n in enumerate(a.shape))
    return np.reshape(r, shape)


def unreduce(g, a, axis):
    """The adjoint ``g`` of a reduction of ``a`` over ``axis``, broadcast back to ``a``'s shape.

    Always a fresh float64 array (a float for a scalar ``a``), so callers may write into it.
    """
    if not isinstance(a, np.ndarray):
        return float(np.sum(g))
    out = np.empty(a.shape)
    out[...] = keep_dims(g, a, axis)
    return out


def reduce_sum(x, axis, keepdims):
    """``np.sum(x, axis=axis, keepdims=keepdims)`` (Numba's ``np.sum`` has no keepdims)."""
    if not isinstance(x, np.ndarray):
        return x
    return np.sum(x, axis=axis, keepdims=keepdims)


def reduced_count(a, axis):
    """How many elements of ``a`` each result of a reduction over ``axis`` combines."""
    if not isinstance(a, np.ndarray):
        return 1
    n = 1
    for k in _reduced_axes(axis, a.ndim):
        n *= a.shape[k]
    return n


def ddof_count(a, axis, ddof):
    """The divisor of ``np.var(a, axis, ddof=ddof)`` as a float: ``n - ddof``, or nan where
    that is not positive (NumPy's variance is then nan or inf, and so is its derivative),
    so that dividing by it never raises."""
    n = reduced_count(a, axis) - ddof
    return float(n) if n > 0 else np.nan


def nonzero_reciprocal(x):
    """``1 / x`` where ``x != 0`` and 0 where ``x == 0``: the factor ``1 / std`` of the
    derivative of ``np.std``, whose numerator (the centered data) is 0 wherever std is, so the
    derivative there is 0 (a subgradient; exact when one element is reduced)."""
    if isinstance(x, np.ndarray):
        safe = np.where(x == 0, 1.0, x)
        return np.where(x == 0, 0.0, 1.0 / safe)
    return 1.0 / x if x != 0 else 0.0


def centered(a, axis):
    """``a`` minus its mean over ``axis`` (the mean keeps the reduced axes, so it broadcasts)."""
    if not isinstance(a, np.ndarray):
        return 0.0
    return a - np.mean(a, axis=axis, keepdims=True)


def extreme_weights(a, z, axis):
    """d max(a)/da (or min): 1/k on each of the k elements equal to the extreme ``z``, else 0.

    Ties share the derivative equally, as JAX does, so the weights of each reduced group sum
    to 1 and the gradient of ``max(x, x)``-like cases stays symmetric.
    """
    if not isinstance(a, np.ndarray):
        return 1.0
    hit = (a == keep_dims(z, a, axis)).astype(np.float64)
    return hit / np.sum(hit, axis=axis, keepdims=True)


def _axes_last(a, axes):
    """``a`` with ``axes`` moved to the end and flattened into one: (rest..., prod(axes))."""
    rest = [k for k in range(a.ndim) if k not in axes]
    moved = np.transpose(a, rest + list(axes))
    return moved.reshape(moved.shape[:len(rest)] + (-1,)), rest + list(axes), moved.shape


def _axes_back(c, perm, moved_shape):
    """Undo :func:`_axes_last`."""
    return np.transpose(c.reshape(moved_shape), np.argsort(perm))


def prod_weights(a, axis):
    """d prod(a)/da: for each element, the product of the *other* elements of its group.

    Computed from exclusive prefix and suffix products, so zeros in ``a`` are handled exactly
    (no division by ``a``).
    """
    if not isinstance(a, np.ndarray):
        return 1.0
    flat, perm, moved_shape = _axes_last(a.astype(np.float64), _reduced_axes(axis, a.ndim))
    ones = np.ones(flat.shape[:-1] + (1,))
    before = np.cumprod(np.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
    after = np.cumprod(np.concatenate([ones, flat[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
    return _axes_back(before * after, perm, moved_shape)


def norm_weights(x, z, ord, axis):
    """d norm(x)/dx for ``np.linalg.norm(x, ord, axis)`` with result ``z`` (any keepdims).

    Vector norms: ord None/2 (x / z), 1 (sign x), inf/-inf (sign x on the extreme entries, ties
    shared), any other p (sign(x) |x|^(p-1) / z^(p-1)). Matrix norms: None or 'fro' (x / z).
    At a zero norm the derivative is taken as 0 (a subgradient) rather than nan.
    """
    x = np.asarray(x, dtype=np.float64)
    if axis is None:
        matrix = x.ndim == 2 and ord is not None
        if x.ndim > 2 and ord is not None:
            raise NoRuleError("np.linalg.norm with ord needs axis for arrays of more than 2 "
                              "dimensions", hint="pass axis=... or flatten the array")
    else:
        matrix = isinstance(axis, (tuple, list)) and len(axis) == 2
    zk = keep_dims(z, x, axis)
    safe = np.where(zk == 0, 1.0, zk)
    if matrix:
        if ord in ("fro", None):
            return x / safe
        raise NoRuleError(f"adjoint has no rule for the matrix norm np.linalg.norm(ord={ord!r})",
                          hint="use ord='fro', or compute the norm from its definition")
    if ord is None or ord == 2:
        return x / safe
    if ord == 1:
        return np.sign(x)
    if ord == np.inf or ord == -np.inf:
        return np.sign(x) * extreme_weights(np.abs(x), z, axis)
    if ord == 0:
        return np.zeros(x.shape)  # counts nonzeros: piecewise constant
    p = float(ord)
    return np.sign(x) * np.abs(x) ** (p - 1.0) / safe ** (p - 1.0)


def cumsum_axis(x, axis):
    """``np.cumsum(x, axis)`` (Numba's ``np.cumsum`` has no axis)."""
    return np.cumsum(x, axis=axis)


def cumsum_vjp(g, a, axis):
    """Adjoint of ``np.cumsum(a, axis)``: reversed cumulative sums of ``g``, in ``a``'s shape."""
    if axis is None:
        flat = np.ravel(g)
        return reshape_like(np.cumsum(flat[::-1])[::-1], a)
    return np.flip(np.cumsum(np.flip(g, axis), axis=axis), axis)


def _along_last(x, axis):
    """``x`` as a float64 array with ``axis`` (None: flattened) moved to the end."""
    x = np.asarray(x, dtype=np.float64)
    if axis is None:
        return np.ravel(x)
    return np.moveaxis(x, axis, -1)


def _from_last(y, a, axis):
    return reshape_like(y, a) if axis is None else np.moveaxis(y, -1, axis)


def cumprod_vjp(g, a, axis):
    """Adjoint of ``np.cumprod(a, axis)``, without dividing by ``a`` (exact where a == 0).

    With P the exclusive prefix products and T_i = g_i + a_{i+1} T_{i+1}, the adjoint is P_i T_i.
    """
    x, gl = _along_last(a, axis), _along_last(g, axis)
    n = x.shape[-1]
    out = np.empty(x.shape)
    t = np.zeros(x.shape[:-1])
    for i in range(n - 1, -1, -1):
        t = gl[..., i] + (x[..., i + 1] * t if i + 1 < n else 0.0)
        out[..., i] = t
    prefix = np.ones(x.shape[:-1])
    for i in range(n):
        out[..., i] *= prefix
        prefix = prefix * x[..., i]
    return _from_last(out, a, axis)


def cumprod_jvp(t, a, z, axis):
    """Tangent of ``np.cumprod(a, axis)``: dz_i = dz_{i-1} a_i + z_{i-1} t_i (no division)."""
    x, tl, zl = _along_last(a, axis), _along_last(t, axis), _along_last(z, axis)
    out = np.empty(x.shape)
    dz = np.zeros(x.shape[:-1])
    for i in range(x.shape[-1]):
        previous = zl[..., i - 1] if i else 1.0
        dz = dz * x[..., i] + previous * tl[..., i]
        out[..., i] = dz
    return out if axis is None else np.moveaxis(out, -1, axis)


def diff_axis(x, n, axis):
    """``np.diff(x, n, axis)`` (Numba's ``np.diff`` has no axis)."""
    return np.diff(x, n=n, axis=axis)


def diff_vjp(g, a, n, axis):
    """Adjoint of ``np.diff(a, n, axis)``: n times, pad ``g`` with a zero at both ends of the
    axis and take minus its first difference. When ``n`` is at least ``a``'s length along the
    axis the difference is empty and the adjoint is zero."""
    if np.shape(a)[axis] <= n:
        return np.zeros(np.shape(a))
    g = np.asarray(g, dtype=np.float64)
    for _ in range(n):
        zero = np.zeros_like(np.take(g, [0], axis=axis))
        g = -np.diff(np.concatenate([zero, g, zero], axis=axis), axis=axis)
    return g


# --- linear algebra -------------------------------------------------------------------------


def mT(x):
    """The matrix transpose of a stack of matrices: the last two axes swapped."""
    return np.swapaxes(x, -1, -2)


def _as_matrices(g, a, b):
    """matmul's operands and adjoint with 1-D operands promoted to matrices, as matmul does."""
    g = np.asarray(g, dtype=np.float64)
    a2 = a[None, :] if a.ndim == 1 else a
    b2 = b[:, None] if b.ndim == 1 else b
    if b.ndim == 1:
        g = g[..., None]
    if a.ndim == 1:
        g = np.expand_dims(g, -2)
    return g, a2, b2


def _plain_product_vjp(g, a, b, which):
    """The adjoint of a 1-D/2-D by 1-D/2-D product (where np.dot and matmul agree), or None."""
    if not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)) or not (
            1 <= a.ndim <= 2 and 1 <= b.ndim <= 2):
        return None
    if which == 0:
        if b.ndim == 2:
            return g @ b.T if a.ndim == 2 else b @ g
        return np.outer(g, b) if a.ndim == 2 else g * b
    if a.ndim == 2:
        return a.T @ g
    return np.outer(a, g) if b.ndim == 2 else g * a


def matmul_vjp_a(g, a, b):
    """Adjoint of ``a`` in ``a @ b`` (1-D operands, batches and batch broadcasting included)."""
    plain = _plain_product_vjp(g, a, b, 0)
    if plain is not None:
        return plain
    g2, a2, b2 = _as_matrices(g, a, b)
    return reshape_like(unbroadcast(g2 @ mT(b2), a2), a)


def matmul_vjp_b(g, a, b):
    """Adjoint of ``b`` in ``a @ b``."""
    plain = _plain_product_vjp(g, a, b, 1)
    if plain is not None:
        return plain
    g2, a2, b2 = _as_matrices(g, a, b)
    return reshape_like(unbroadcast(mT(a2) @ g2, b2), b)


def _tensordot_vjp(g, a, b, a_axes, b_axes, which):
    """Adjoint of ``a`` (which=0) or ``b`` (which=1) in ``np.tensordot(a, b, (a_axes, b_axes))``.

    The result's axes are a's free axes then b's free axes, each in increasing order; the adjoint
    contracts ``g`` with the other operand over that operand's free axes and puts the axes back in
    the operand's order.
    """
    g = np.asarray(g, dtype=np.float64)
    a_axes = [k % a.ndim for k in a_axes]
    b_axes = [k % b.ndim for k in b_axes]
    free_a = [k for k in range(a.ndim) if k not in a_axes]
    free_b = [k for k in range(b.ndim) if k not in b_axes]
    if which == 0:
        g_free_b = list(range(len(free_a), g.ndim))
        r = np.tensordot(g, b, (g_free_b, free_b))
        # r's axes: a's free axes, then b's contracted axes in increasing order (as a's partners).
        order = free_a + [a_axes[b_axes.index(k)] for k in sorted(b_axes)]
    else:
        r = np.tensordot(a, g, (free_a, list(range(len(free_a)))))
        order = [b_axes[a_axes.index(k)] for k in sorted(a_axes)] + free_b
    return np.transpose(r, np.argsort(order))


def _dot_axes(a, b):
    if a.ndim == 0 or b.ndim == 0:
        return None
    return [a.ndim - 1], [max(b.ndim - 2, 0)]


def dot_vjp_a(g, a, b):
    """Adjoint of ``a`` in ``np.dot(a, b)`` (scalars, vectors, matrices, N-d arrays)."""
    plain = _plain_product_vjp(g, a, b, 0)
    if plain is not None:
        return plain
    a, b = np.asarray(a), np.asarray(b)
    axes = _dot_axes(a, b)
    if axes is None:
        return unbroadcast(g * b, a)
    return _tensordot_vjp(g, a, b, axes[0], axes[1], 0)


def dot_vjp_b(g, a, b):
    """Adjoint of ``b`` in ``np.dot(a, b)``."""
    plain = _plain_product_vjp(g, a, b, 1)
    if plain is not None:
        return plain
    a, b = np.asarray(a), np.asarray(b)
    axes = _dot_axes(a, b)
    if axes is None:
        return unbroadcast(g * a, b)
    return _tensordot_vjp(g, a, b, axes[0], axes[1], 1)


def inner_vjp_a(g, a, b):
    """Adjoint of ``a`` in ``np.inner(a, b)`` (contracts the last axes of both)."""
    a, b = np.asarray(a), np.asarray(b)
    if a.ndim == 0 or b.ndim == 0:
        return unbroadcast(g * b, a)
    return _tensordot_vjp(g, a, b, [a.ndim - 1], [b.ndim - 1], 0)


def inner_vjp_b(g, a, b):
    """Adjoint of ``b`` in ``np.inner(a, b)``."""
    a, b = np.asarray(a), np.asarray(b)
    if a.ndim == 0 or b.ndim == 0:
        return unbroadcast(g * a, b)
    return _tensordot_vjp(g, a, b, [a.ndim - 1], [b.ndim - 1], 1)


def _tensordot_axes(a, b, axes):
    if isinstance(axes, (int, np.integer)):
        return list(range(a.ndim - axes, a.ndim)), list(range(axes))
    a_axes, b_axes = axes
    a_axes = [a_axes] if isinstance(a_axes, (int, np.integer)) else list(a_axes)
    b_axes = [b_axes] if isinstance(b_axes, (int, np.integer)) else list(b_axes)
    return a_axes, b_axes


def tensordot_vjp_a(g, a, b, axes):
    """Adjoint of ``a`` in ``np.tensordot(a, b, axes)``."""
    a, b = np.asarray(a), np.asarray(b)
    return _tensordot_vjp(g, a, b, *_tensordot_axes(a, b, axes), 0)


def tensordot_vjp_b(g, a, b, axes):
    """Adjoint of ``b`` in ``np.tensordot(a, b, axes)``."""
    a, b = np.asarray(a), np.asarray(b)
    return _tensordot_vjp(g, a, b, *_tensordot_axes(a, b, axes), 1)


_EINSUM_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _einsum_parts(subscripts, count):
    """Input and output subscripts of an einsum (implicit output: letters seen once, sorted)."""
    spec = subscripts.replace(" ", "")
    if "." in spec:
        raise NoRuleError("adjoint's rule for np.einsum does not support '...' in subscripts",
                          hint="write every axis with a letter")
    if "->" in spec:
        lhs, out = spec.split("->")
    else:
        lhs = spec
        out = "".join(sorted(c for c in set(lhs) if c.isalpha() and lhs.count(c) == 1))
    inputs = lhs.split(",")
    if len(inputs) != count:
        raise NoRuleError(f"np.einsum: {subscripts!r} names {len(inputs)} operands, got {count}",
                          hint="adjoint's rule for np.einsum takes 1 to 8 operands")
    return inputs, out


def _sublist_letters(sublist):
    """An einsum sublist (``[0, 1]``) as subscript letters, the way NumPy reads it."""
    letters = []
    for label in sublist:
        if label is Ellipsis:
            raise NoRuleError("adjoint's rule for np.einsum does not support '...' in "
                              "sublists", hint="write every axis with an integer label")
        letters.append(_EINSUM_LETTERS[int(label)])
    return "".join(letters)


def _einsum_call(args):
    """``np.einsum``'s arguments in either form, ``('ij,jk->ik', a, b)`` or
    ``(a, [0, 1], b, [1, 2], [0, 2])`` (sublists): (inputs' letters, output letters, operands,
    {argument position: operand index})."""
    args = list(args)
    while args and args[-1] is None:
        args.pop()
    if isinstance(args[0], str):
        ops = [np.asarray(o) for o in args[1:]]
        inputs, out = _einsum_parts(args[0], len(ops))
        return inputs, out, ops, {k + 1: k for k in range(len(ops))}
    pairs, rest = args[:len(args) - len(args) % 2], args[len(args) - len(args) % 2:]
    ops = [np.asarray(o) for o in pairs[0::2]]
    inputs = [_sublist_letters(s) for s in pairs[1::2]]
    spec = ",".join(inputs) + ("->" + _sublist_letters(rest[0]) if rest else "")
    inputs, out = _einsum_parts(spec, len(ops))
    return inputs, out, ops, {2 * k: k for k in range(len(ops))}


def einsum_vjp(g, k, subscripts, op0=None, op1=None, op2=None, op3=None, op4=None, op5=None,
               op6=None, op7=None):
    """Adjoint of argument ``k`` of ``np.einsum(subscripts, op0, op1, ...)`` (argument 0 is
    ``subscripts``): an operand, in the subscripts form or the sublist form
    (``np.einsum(a, [0, 1], b, [1, 2], [0, 2])``, where the operands are arguments 0, 2, ...).

    It is the einsum of ``g`` with the other operands onto the operand's letters. Letters only
    that operand has (summed away) broadcast through a vector of ones; a repeated letter
    (a diagonal, ``'ii->'``) writes the result onto that diagonal of a zero array.
    """
    inputs, out, ops, positions = _einsum_call(
        (subscripts, op0, op1, op2, op3, op4, op5, op6, op7))
    if k not in positions:
        raise NoRuleError(f"np.einsum: argument {k} is not an operand",
                          hint="differentiate with respect to the arrays only")
    k = positions[k]
    mine = inputs[k]
    letters = "".join(dict.fromkeys(mine))  # unique, in order
    terms = [out] + [s for j, s in enumerate(inputs) if j != k]
    operands = [np.asarray(g, dtype=np.float64)] + [o for j, o in enumerate(ops) if j != k]
    seen = "".join(terms)
    for c in letters:
        if c not in seen:
            terms.append(c)
            operands.append(np.ones(ops[k].shape[mine.index(c)]))
    r = np.einsum(",".join(terms) + "->" + letters, *operands)
    if letters == mine:
        return r
    grad = np.zeros(ops[k].shape)
    np.einsum(mine + "->" + letters, grad)[...] += r  # a writable view of the diagonal
    return grad


def einsum_jvp(t, k, subscripts, op0=None, op1=None, op2=None, op3=None, op4=None, op5=None,
               op6=None, op7=None):
    """Tangent of ``np.einsum`` from argument ``k``'s tangent ``t`` (linear in it); the
    arguments as for :func:`einsum_vjp`."""
    args = [subscripts, op0, op1, op2, op3, op4, op5, op6, op7]
    _einsum_call(args)  # refuses what einsum_vjp refuses
    args[k] = t
    while args[-1] is None:
        args.pop()
    return np.einsum(*args)


def diagonal_vjp(g, a, offset, axis1, axis2):
    """Adjoint of ``np.diagonal(a, offset, axis1, axis2)``: ``g`` written on that diagonal."""
    out = np.zeros(np.shape(a))
    view = np.moveaxis(out, (axis1, axis2), (-2, -1))
    rows = np.arange(max(0, -offset), min(view.shape[-2], view.shape[-1] - offset))
    view[..., rows, rows + offset] = g
    return out


def trace_vjp(g, a, offset, axis1, axis2):
    """Adjoint of ``np.trace(a, offset, axis1, axis2)``: ``g`` on every diagonal element."""
    return diagonal_vjp(np.asarray(g, dtype=np.float64)[..., None], a, offset, axis1, axis2)


def solve_vjp_b(g, a, b):
    """Adjoint of ``b`` in ``x = np.linalg.solve(a, b)``: solve(aᵀ, g)."""
    if np.ndim(b) == 1:  # NumPy 2: only a 1-D b is a vector; otherwise it is (..., M, K)
        return unbroadcast(np.linalg.solve(mT(a), g[..., None])[..., 0], b)
    return unbroadcast(np.linalg.solve(mT(a), g), b)


def solve_vjp_a(g, a, b, x):
    """Adjoint of ``a`` in ``x = np.linalg.solve(a, b)``: -solve(aᵀ, g) xᵀ."""
    if np.ndim(b) == 1:
        gb = np.linalg.solve(mT(a), g[..., None])
        return unbroadcast(-gb * x[..., None, :], a)
    return unbroadcast(-(np.linalg.solve(mT(a), g) @ mT(x)), a)


def solve_jvp_a(t, a, b, x):
    """Tangent of ``x = np.linalg.solve(a, b)`` from ``a``'s tangent: -solve(a, t x)."""
    if np.ndim(b) == 1:
        return -np.linalg.solve(a, t @ x[..., None])[..., 0]
    return -np.linalg.solve(a, t @ x)


def det_vjp(g, a, z):
    """Adjoint of ``np.linalg.det(a)``: g det(a) inv(a)ᵀ (a must be invertible)."""
    scale = np.asarray(g * z, dtype=np.float64)[..., None, None]
    return scale * mT(np.linalg.inv(a))


def det_jvp(t, a, z):
    """Tangent of ``np.linalg.det(a)``: det(a) trace(solve(a, t))."""
    return z * np.trace(np.linalg.solve(a, t), axis1=-2, axis2=-1)


def logdet_vjp(g, a):
    """Adjoint of ``log|det(a)|`` (``np.linalg.slogdet(a)[1]``): g inv(a)ᵀ."""
    return np.asarray(g, dtype=np.float64)[..., None, None] * mT(np.linalg.inv(a))


def logdet_jvp(t, a):
    """Tangent of ``log|det(a)|``: trace(solve(a, t))."""
    return np.trace(np.linalg.solve(a, t), axis1=-2, axis2=-1)


def _phi(x):
    """The lower triangle of ``x`` with its diagonal halved."""
    return np.tril(x) - 0.5 * x * np.eye(x.shape[-1])


def cholesky_vjp(g, z, upper):
    """Adjoint of ``np.linalg.cholesky(a, upper=upper)`` with result ``z``.

    NumPy reads only one triangle of ``a`` (the lower one, or the upper one for ``upper=True``),
    so the adjoint lives on that triangle: for the lower case it is tril(S + Sᵀ) with the
    diagonal of S, where S = L⁻ᵀ Φ(Lᵀ Ḡ) L⁻¹ and Φ takes the lower triangle with half diagonal.
    """
    if upper:
        return mT(cholesky_vjp(mT(g), mT(z), False))
    inv_l = np.linalg.inv(z)
    s = mT(inv_l) @ _phi(mT(z) @ g) @ inv_l
    return np.tril(s + mT(s)) - s * np.eye(s.shape[-1])


def cholesky_jvp(t, z, upper):
    """Tangent of ``np.linalg.cholesky(a, upper=upper)``: L Φ(L⁻¹ dA L⁻ᵀ), where dA is the
    symmetric matrix that the read triangle of ``t`` stands for."""
    if upper:
        return mT(cholesky_jvp(mT(t), mT(z), False))
    sym = np.tril(t) + mT(np.tril(t, -1))
    inv_l = np.linalg.inv(z)
    return z @ _phi(inv_l @ sym @ mT(inv_l))


# --- shape ----------------------------------------------------------------------------------


def reshape_like(g, like):
    """``g`` reshaped to ``like``'s shape; a float when ``like`` is a scalar."""
    if not isinstance(like, np.ndarray):
        return float(np.reshape(g, ()))
    return np.reshape(g, like.shape)


def reshape_order(g, like, order):
    """``g`` reshaped to ``like``'s shape, reading and writing elements in ``order``."""
    if not isinstance(like, np.ndarray):
        return float(np.reshape(g, ()))
    if order in ("A", "K"):
        order = "F" if like.flags.f_contiguous and not like.flags.c_contiguous else "C"
    return np.reshape(g, like.shape, order=order)


def method_axes(ax0=None, ax1=None, ax2=None, ax3=None, ax4=None, ax5=None):
    """The axes of ``x.transpose(*axes)``: None, the tuple passed, or the ints passed."""
    if ax1 is None:
        return ax0
    return tuple(k for k in (ax0, ax1, ax2, ax3, ax4, ax5) if k is not None)


def permute(x, axes):
    """``np.transpose(x, axes)``."""
    return np.transpose(x, axes)


def unpermute(g, axes):
    """The inverse of ``np.transpose(., axes)`` applied to ``g``."""
    if axes is None:
        return np.transpose(g)
    return np.transpose(g, np.argsort([k % np.ndim(g) for k in axes]))


def split_like(g, arrays, axis):
    """The pieces of ``g`` that ``np.concatenate(arrays, axis)`` took from each of ``arrays``."""
    pieces = []
    start = 0
    flat = np.ravel(g) if axis is None else g
    for x in arrays:
        n = np.size(x) if axis is None else np.shape(x)[axis]
        index = slice(start, start + n)
        piece = flat[index] if axis is None else np.take(flat, np.arange(start, start + n),
                                                         axis=axis)
        pieces.append(reshape_like(piece, x) if axis is None else piece)
        start += n
    return tuple(pieces)


def unstack(g, axis):
    """The adjoints of the arrays ``np.stack(arrays, axis)`` stacked: ``g``'s slices along
    ``axis``, indexable by position."""
    return np.moveaxis(g, axis, 0)


def hstack_vjp(g, tup):
    """The adjoints of the arrays of ``np.hstack(tup)``."""
    axis = 0 if np.ndim(g) == 1 else 1
    pieces = split_like(g, [np.atleast_1d(x) for x in tup], axis)
    return tuple(reshape_like(p, x) for p, x in zip(pieces, tup))


def vstack_vjp(g, tup):
    """The adjoints of the arrays of ``np.vstack(tup)``."""
    pieces = split_like(g, [np.atleast_2d(x) for x in tup], 0)
    return tuple(reshape_like(p, x) for p, x in zip(pieces, tup))


def _index_concat_labels(maker, items):
    """``maker[items]`` (``np.r_`` or ``np.c_``) with item k replaced by the label k (and each
    constant slice by -1), so that ``labels == k`` selects item k's elements of the result, in
    the item's own order."""
    labels = []
    for k, item in enumerate(items):
        if isinstance(item, str):
            raise NoRuleError("adjoint's rules for np.r_ and np.c_ do not support string "
                              f"directives such as {item!r}",
                              hint="concatenate with np.concatenate, np.stack or "
                                   "np.column_stack instead")
        if isinstance(item, slice):
            labels.append(np.full(np.shape(np.r_[item]), -1.0))
        else:
            labels.append(np.full(np.shape(item), float(k)))
    return maker[tuple(labels)]


def index_concat_vjp(g, maker, items):
    """The adjoints of the items of ``maker[items]`` (``np.r_[a, b]``, ``np.c_[a, b]``): each
    item's elements of ``g``, in its shape (0.0 for slices, which are constants)."""
    labels = _index_concat_labels(maker, items)
    g = np.asarray(g, dtype=np.float64)
    return tuple(0.0 if isinstance(item, slice) else reshape_like(g[labels == k], item)
                 for k, item in enumerate(items))


def index_concat_jvp(tangents, maker, items):
    """The tangent of ``maker[items]`` from the items' ``tangents`` (slices' are zeros)."""
    _index_concat_labels(maker, items)  # refuses what index_concat_vjp refuses
    parts = [np.zeros(np.shape(np.r_[item])) if isinstance(item, slice) else t
             for t, item in zip(tangents, items)]
    return maker[tuple(parts)]


def tile_vjp(g, a, reps):
    """Adjoint of ``np.tile(a, reps)``: the sum of ``g`` over the tiles."""
    reps = (reps,) if isinstance(reps, (int, np.integer)) else tuple(reps)
    shape = np.shape(a)
    n = max(len(reps), len(shape))
    shape = (1,) * (n - len(shape)) + shape
    reps = (1,) * (n - len(reps)) + reps
    split = tuple(m for pair in zip(reps, shape) for m in pair)
    summed = np.sum(np.reshape(g, split), axis=tuple(range(0, 2 * n, 2)))
    return reshape_like(summed, a)


def repeat_vjp(g, a, repeats, axis):
    """Adjoint of ``np.repeat(a, repeats, axis)``: each element collects its copies' adjoints."""
    if axis is None:
        owner = np.repeat(np.arange(np.size(a)), repeats)
        out = np.zeros(np.size(a))
        np.add.at(out, owner, np.ravel(g))
        return reshape_like(out, a)
    owner = np.repeat(np.arange(a.shape[axis]), repeats)
    out = np.zeros(a.shape)
    np.add.at(np.moveaxis(out, axis, 0), owner, np.moveaxis(g, axis, 0))
    return out


def roll_axis(x, shift, axis):
    """``np.roll(x, shift, axis)`` (Numba's ``np.roll`` has no axis)."""
    return np.roll(x, shift, axis)


def roll_vjp(g, shift, axis):
    """Adjoint of ``np.roll(a, shift, axis)``: roll ``g`` back."""
    if isinstance(shift, (tuple, list)):
        back = tuple(-s for s in shift)
    else:
        back = -shift
    return np.roll(g, back, axis)


def trace_axes(x, offset, axis1, axis2):
    """``np.trace(x, offset, axis1, axis2)`` (Numba's ``np.trace`` has no axes)."""
    return np.trace(x, offset, axis1, axis2)


def repeat_axis(x, repeats, axis):
    """``np.repeat(x, repeats, axis)`` (Numba's ``np.repeat`` has no axis)."""
    return np.repeat(x, repeats, axis)


def flip_axis(x, axis):
    """``np.flip(x, axis)`` (Numba's ``np.flip`` has no axis)."""
    return np.flip(x, axis)


def _pad_slices(shape, pad_width):
    widths = np.broadcast_to(np.asarray(pad_width, dtype=np.intp), (len(shape), 2))
    return tuple(slice(int(before), int(before) + n) for (before, _), n in zip(widths, shape))


def unpad(g, a, pad_width, mode):
    """Adjoint of ``np.pad(a, pad_width, mode)`` with respect to ``a`` (mode 'constant')."""
    if mode != "constant":
        raise NoRuleError(f"adjoint's rule for np.pad supports mode='constant' only, not "
                          f"mode={mode!r}", hint="pad with constants, or build the border with "
                          "slicing and np.concatenate")
    return reshape_like(np.asarray(g)[_pad_slices(np.shape(a), pad_width)].copy(), a)


def pad_border(a, pad_width):
    """1.0 where ``np.pad(a, pad_width)`` holds the constant, 0.0 where it holds ``a``."""
    return np.pad(np.zeros(np.shape(a)), pad_width, constant_values=1.0)


def astype_vjp(g, dtype):
    """The derivative through ``astype(dtype)`` (or a NumPy function's ``dtype=``): identity to
    a float type or None (no cast), zero to an integer or boolean type (the cast is then
    piecewise constant)."""
    if dtype is None or np.issubdtype(np.dtype(dtype), np.inexact):
        return g
    return g * 0.0


def arange_vjp_start(g, stop):
    """Adjoint of ``start`` in ``np.arange(start, stop, step)``; with one argument it is the
    stop, on which the values do not depend."""
    if stop is None:
        return 0.0
    return float(np.sum(g))


def arange_vjp_step(g):
    """Adjoint of ``step`` in ``np.arange(start, stop, step)``: element k is start + k step."""
    return float(np.sum(g * np.arange(np.size(g))))


def arange_jvp_start(t, z, stop):
    """Tangent of ``np.arange`` from its first argument's tangent ``t`` (see arange_vjp_start)."""
    if stop is None:
        return np.zeros(np.shape(z))
    return np.zeros(np.shape(z)) + t


def linspace_basis(num, endpoint, retstep, z, axis):
    """The weights of ``stop`` in ``z = np.linspace(start, stop, num, endpoint, axis=axis)``
    (those of ``start`` are 1 minus them), shaped to broadcast against ``z``."""
    if retstep:
        raise NoRuleError("adjoint's rule for np.linspace does not support retstep=True",
                          hint="compute the step as (stop - start) / (num - 1)")
    w = np.linspace(0.0, 1.0, num, endpoint=endpoint)
    shape = [1] * np.ndim(z)
    shape[axis % np.ndim(z)] = num
    return w.reshape(shape)


def linspace_vjp(g, like, weights, axis):
    """Adjoint of ``start`` or ``stop`` of ``np.linspace`` given that end's ``weights``."""
    return unbroadcast(np.sum(g * weights, axis=axis), like)


def linspace_jvp(t, weights, axis):
    """Tangent of ``np.linspace`` from ``start``'s or ``stop``'s tangent ``t``."""
    if isinstance(t, np.ndarray):
        t = np.expand_dims(t, axis)
    return t * weights


def sort_vjp(g, a, axis):
    """Adjoint of ``np.sort(a, axis)``: ``g`` scattered back to where each value came from."""
    if axis is None:
        order = np.argsort(np.ravel(a), kind="stable")
        out = np.zeros(np.size(a))
        out[order] = g
        return reshape_like(out, a)
    order = np.argsort(a, axis=axis, kind="stable")
    out = np.zeros(np.shape(a))
    np.put_along_axis(out, order, g, axis=axis)
    return out


def sort_jvp(t, a, axis):
    """Tangent of ``np.sort(a, axis)``: ``t`` permuted as the values are."""
    if axis is None:
        return np.ravel(t)[np.argsort(np.ravel(a), kind="stable")]
    return np.take_along_axis(t, np.argsort(a, axis=axis, kind="stable"), axis=axis)


def diag_vjp(g, v, k):
    """Adjoint of ``np.diag(v, k)``: the k-th diagonal of ``g`` (v 1-D), or ``g`` placed on
    the k-th diagonal of a zero matrix (v 2-D)."""
    if np.ndim(v) == 1:
        return np.diagonal(g, k).copy()
    return diagonal_vjp(g, v, k, 0, 1)


def safe_log(x):
    """``log(x)`` where ``x > 0`` and 0 elsewhere: the partial ``z log(x)`` of ``x ** y`` in
    ``y``, which matters only where it is defined (``y`` usually is a constant there)."""
    if isinstance(x, np.ndarray):
        return np.log(np.where(x > 0, x, 1.0))
    return np.log(x) if x > 0 else 0.0


def pow_dx(a, b):
    """``b * a ** (b - 1)``, the partial of ``a ** b`` in ``a``, with JAX's conventions: 0
    wherever ``b == 0`` (``x ** 0`` is constant, even at ``x == 0``), and ``±inf`` at
    ``a == 0`` for ``b < 1`` (NumPy's ``0.0 ** negative``), never a ZeroDivisionError."""
    af = np.asarray(a, dtype=np.float64)
    bf = np.asarray(b, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        d = np.where(bf == 0, 0.0, bf * af ** (bf - 1.0))
    return d if isinstance(a, np.ndarray) or isinstance(b, np.ndarray) else float(d)


def clip_inside(a, lo, hi):
    """1.0 where ``lo <= a <= hi`` (a missing bound is no bound), else 0.0: ``clip``'s
    derivative in ``a``. At a bound the derivative is 1, as in PyTorch."""
    inside = np.ones(np.shape(a), dtype=bool) if isinstance(a, np.ndarray) else True
    if lo is not None:
        inside = inside & (a >= lo)
    if hi is not None:
        inside = inside & (a <= hi)
    return inside * 1.0


def clip_below(a, lo, hi):
    """1.0 where ``a < lo <= hi`` (``clip`` returns the lower bound there), else 0.0. Where the
    bounds cross (``lo > hi``) NumPy's clip returns ``hi``: the lower bound gets nothing."""
    if lo is None:
        return 0.0
    if hi is None:
        return (a < lo) * 1.0
    return ((a < lo) & (lo <= hi)) * 1.0


def clip_above(a, lo, hi):
    """1.0 where ``clip`` returns the upper bound: ``a > hi``, or anywhere the bounds cross
    (``lo > hi``; NumPy's clip is ``minimum(maximum(a, lo), hi)``), else 0.0."""
    if hi is None:
        return 0.0
    if lo is None:
        return (a > hi) * 1.0
    return ((a > hi) | (lo > hi)) * 1.0
