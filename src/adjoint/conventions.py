"""Calling conventions of the transforms' results and arguments (used by :mod:`adjoint.api`).

Takes what generated code returned and the caller's arguments; guarantees that a gradient has its
argument's shape and float dtype (a Python float for a Python number, the NumPy float type for a
NumPy float32/float16 scalar, float64 arrays for integer arrays) or raises ``InternalError`` —
nothing is broadcast into shape; that a cotangent or tangent has the shape of what it stands for
(``CotangentError``); that ``grad``'s output is a scalar (``NonScalarOutputError``); and that
an option has a value it takes (``OptionError``).
"""

from __future__ import annotations

import inspect

import numpy as np

from .errors import CotangentError, InternalError, NonScalarOutputError, OptionError


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


def checkpoint_option(f, checkpoint):
    """``checkpoint`` if it is a valid value of the option (None, ``"auto"`` or an int
    ``>= 1``), else an :class:`OptionError` located at ``f``'s ``def``."""
    if checkpoint is None or checkpoint == "auto" and isinstance(checkpoint, str) or \
            isinstance(checkpoint, (int, np.integer)) and not isinstance(
                checkpoint, (bool, np.bool_)) and checkpoint >= 1:
        return checkpoint if not isinstance(checkpoint, np.integer) else int(checkpoint)
    code = getattr(inspect.unwrap(getattr(f, "__func__", f)), "__code__", None) \
        if f is not None else None
    raise OptionError(
        f"checkpoint={checkpoint!r} is not a valid value of the checkpoint option",
        filename=getattr(code, "co_filename", None), lineno=getattr(code, "co_firstlineno", None),
        hint="use checkpoint=None (a tape of every iteration), checkpoint='auto' (about log2 of "
             "the trip count snapshots) or an int >= 1: the most snapshots of a loop's state "
             "kept at once")


_EMPTY = inspect.Parameter.empty


def complete_args(name, params, args):
    """``args`` of a call to ``name`` (parameters ``params``: {name: default or empty}) with
    the defaults of the parameters left out; TypeError as Python gives for too many or too
    few."""
    names = list(params)
    if len(args) > len(names):
        raise TypeError(f"{name}() takes {len(names)} positional argument(s) but {len(args)} "
                        "were given")
    if len(args) == len(names):
        return tuple(args)
    missing = [p for p in names[len(args):] if params[p] is _EMPTY]
    if missing:
        raise TypeError(f"{name}() missing {len(missing)} required positional argument(s): "
                        f"{', '.join(map(repr, missing))}")
    return tuple(args) + tuple(params[p] for p in names[len(args):])


def bind_args(name, params, args, kwargs):
    """The complete positional arguments of a call ``name(*args, **kwargs)``, bound as
    Python binds them (and with Python's TypeError for a bad call)."""
    names = list(params)
    if len(args) > len(names):
        complete_args(name, params, args)  # raises Python's TypeError
    values = dict(zip(names, args))
    for key, value in kwargs.items():
        if key not in params:
            raise TypeError(f"{name}() got an unexpected keyword argument {key!r}")
        if key in values:
            raise TypeError(f"{name}() got multiple values for argument {key!r}")
        values[key] = value
    missing = [p for p in names if p not in values and params[p] is _EMPTY]
    if missing:
        raise TypeError(f"{name}() missing {len(missing)} required argument(s): "
                        f"{', '.join(map(repr, missing))}")
    return tuple(values[p] if p in values else params[p] for p in names)
