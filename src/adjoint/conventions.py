"""Calling conventions of the transforms' results and arguments (used by :mod:`adjoint.api`).

Takes what generated code returned and the caller's arguments; guarantees that a gradient has its
argument's shape and float dtype (a Python float for a Python number, the NumPy float type for a
NumPy float32/float16 scalar, float64 arrays for integer arrays) or raises ``InternalError`` —
nothing is broadcast into shape; that a cotangent or tangent has the shape of what it stands for
(``CotangentError``); and that ``grad``'s output is a scalar (``NonScalarOutputError``).
"""

from __future__ import annotations

import numpy as np

from .errors import CotangentError, InternalError, NonScalarOutputError


def numeric(a):
    if isinstance(a, np.ndarray):
        return a.dtype.kind in "biufc"
    return isinstance(a, (float, int, complex, np.number, np.bool_))


def as_result(g, like, name):
    """The gradient ``g`` for an argument ``like``, in the caller's convention; a gradient of
    the wrong shape is an internal error (never broadcast)."""
    if type(g) is float and type(like) in (float, int):  # the common scalar case, first
        return g
    if isinstance(like, np.ndarray):
        if not (isinstance(g, np.ndarray) and g.shape == like.shape):
            if like.ndim or np.ndim(g):
                raise bad_shape(name, g, like)
            g = np.asarray(g)  # a 0-d argument: Numba returns a float
        dtype = like.dtype if like.dtype.kind in "fc" else np.float64
        return g if g.dtype == dtype else g.astype(dtype)
    if np.ndim(g) != 0:
        raise bad_shape(name, g, like)
    if isinstance(like, np.floating) and not isinstance(like, float):
        return type(like)(g)  # float32 in, float32 out
    return float(g)


def bad_shape(name, g, like):
    return InternalError(
        f"internal error: the generated code returned a gradient of shape {np.shape(g)} "
        f"({type(g).__name__}) for parameter {name!r}, whose argument has shape "
        f"{np.shape(like)} — this is a bug in adjoint",
        hint="please report it with the function; adjoint.check_grad shows the numbers")


def with_defaults(args, derived):
    """``args`` completed with the defaults of the parameters the caller left out (so that an
    argument appended after them, like a cotangent, lands in its own parameter)."""
    missing = len(derived.params) - len(args)
    if missing <= 0:
        return args
    defaults = derived.function.__defaults__ or ()
    own = defaults[:len(defaults) - (len(derived.function.__code__.co_varnames[
        :derived.function.__code__.co_argcount]) - len(derived.params))]
    return tuple(args) + tuple(own[len(own) - missing:])


def plain(x):
    """NumPy scalars as Python floats; tuples element by element; arrays as they are."""
    if isinstance(x, tuple):
        return tuple(plain(e) for e in x)
    if isinstance(x, np.generic) or (isinstance(x, np.ndarray) and x.ndim == 0):
        return float(x)
    return x


def require_scalar(out, f, where=(None, None)):
    if np.ndim(out) == 0 and isinstance(out, (float, int, np.number, np.ndarray)):
        return
    filename, lineno = where
    raise NonScalarOutputError(
        f"grad needs a scalar output, but {getattr(f, '__name__', 'f')} returned "
        f"{type(out).__name__} with shape {np.shape(out)}", filename=filename, lineno=lineno,
        hint="use adjoint.vjp(f) and pass a cotangent of the output's shape, or reduce the "
             "output to a scalar (e.g. np.sum)")


def check_like(what, given, expected, where):
    """A cotangent or tangent must have the shape of what it stands for."""
    if isinstance(given, (list, tuple)) or not numeric(given):
        raise CotangentError(f"{what} must be a number or an array, not "
                             f"{type(given).__name__}", filename=where[0], lineno=where[1])
    if np.shape(given) != np.shape(expected):
        raise CotangentError(
            f"{what} has shape {np.shape(given)}, but it must have shape "
            f"{np.shape(expected)}", filename=where[0], lineno=where[1],
            hint="pass one of the same shape as the value it is for (no broadcasting)")
