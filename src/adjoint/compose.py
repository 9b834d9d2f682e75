"""Transforms built by composing the others: ``jacobian``, ``hessian``, ``hvp``.

No finite differences: a Jacobian is assembled from ``vjp`` pullbacks (one per output element,
reverse mode) or ``jvp`` pushforwards (one per input element, forward mode), picked by size
unless ``mode=`` says; the Hessian is the Jacobian of ``grad(f)`` — adjoint transforms the
generated gradient code again; and ``hvp`` is forward-over-reverse, ``jvp(grad(f))``.
"""

from __future__ import annotations

import numpy as np

from . import api, pickling
from .errors import ArgumentError
from .trees import is_tree


def _single(wrt):
    if isinstance(wrt, (tuple, list)):
        raise TypeError("jacobian, hessian and hvp take a single wrt parameter")
    return wrt


def _params(fn):
    """Parameter names of a user function or of a transform's generated function."""
    import inspect
    if isinstance(fn, api.Transformed):
        return _params(fn.f) + ["dout"]
    return list(inspect.signature(fn).parameters)


def _index_of(fn, wrt):
    params = _params(fn.f)
    return params.index(wrt) if isinstance(wrt, str) else wrt % len(params)


def jacobian(f, *, wrt=0, mode="auto", jit=False):
    """``jacobian(f)(*args)``: the dense Jacobian of ``f``'s output with respect to argument
    ``wrt``, of shape ``out.shape + in.shape``. ``mode`` is "forward", "reverse" or "auto"
    (forward when the input has fewer elements than the output)."""
    _single(wrt)
    if mode not in ("auto", "forward", "reverse"):
        raise ValueError(f"mode must be 'auto', 'forward' or 'reverse', not {mode!r}")
    return Jacobian(f, wrt, mode, jit)


class Jacobian:
    """What :func:`jacobian` returns; pickles by reference to ``f`` (:mod:`adjoint.pickling`)."""

    def __init__(self, f, wrt, mode, jit):
        self.f, self.wrt, self.mode, self.jit = f, wrt, mode, jit
        self.backward = api.vjp(f, wrt=wrt, jit=jit)
        self.forward = api.jvp(f, wrt=wrt, jit=jit)
        self._used = None  # the transform the last call in "auto" mode used

    def __reduce__(self):
        return pickling.reduce_transform(type(self), self.f, self.wrt, self.mode, self.jit)

    @property
    def source(self):
        """The generated code the Jacobian is assembled with: the ``jvp`` code in forward
        mode, the ``vjp`` code in reverse mode; in "auto" mode, the one the last call used
        (both, forward first, before any call)."""
        used = {"forward": self.forward, "reverse": self.backward}.get(self.mode, self._used)
        if used is not None:
            return used.source
        return self.forward.source + "\n" + self.backward.source

    def __call__(self, *args):
        f, mode, k = self.f, self.mode, _index_of(self.backward, self.wrt)
        if is_tree(args[k]) or not api.numeric(args[k]):
            code = getattr(getattr(f, "f", f), "__code__", None)
            raise ArgumentError(
                f"jacobian, hessian and hvp differentiate with respect to a float or an array, "
                f"not a {type(args[k]).__name__}", filename=getattr(code, "co_filename", None),
                lineno=getattr(code, "co_firstlineno", None),
                hint="name an array or float parameter in wrt; for a tree, use grad, vjp or jvp "
                     "(they take trees) or pass its arrays as separate parameters")
        x = np.asarray(args[k], dtype=float)
        out = np.asarray(f(*args), dtype=float)  # the output's shape picks the mode
        use_forward = mode == "forward" or (mode == "auto" and x.size < out.size)
        result = np.empty(out.shape + x.shape)
        self._used = self.forward if use_forward else self.backward
        if use_forward:
            for idx in np.ndindex(x.shape):
                tangent = np.zeros(x.shape)
                tangent[idx] = 1.0
                t = tangent if np.ndim(args[k]) else 1.0
                _, column = self.forward(*args, t)
                result[(Ellipsis,) + idx] = column
        else:
            _, pullback = self.backward(*args)
            for idx in np.ndindex(out.shape):
                cotangent = np.zeros(out.shape)
                cotangent[idx] = 1.0
                row = pullback(cotangent if out.ndim else 1.0)
                result[idx] = row
        return result if (out.ndim or x.ndim) else float(result)


def hessian(f, *, wrt=0, jit=False):
    """``hessian(f)(*args)``: the Hessian of scalar ``f`` with respect to argument ``wrt``,
    of shape ``in.shape + in.shape`` — the Jacobian of the generated gradient, by forward mode
    over it (one ``jvp`` of the gradient code per input element)."""
    _single(wrt)
    return jacobian(api.grad(f, wrt=wrt, jit=jit), wrt=wrt, mode="forward", jit=jit)


def hvp(f, *, wrt=0, jit=False):
    """``hvp(f)(*args, v)``: the Hessian of scalar ``f`` (with respect to argument ``wrt``)
    times ``v``, by forward mode over the generated reverse-mode gradient."""
    _single(wrt)
    return HVP(f, wrt, jit)


class HVP:
    """What :func:`hvp` returns; pickles by reference to ``f`` (:mod:`adjoint.pickling`)."""

    def __init__(self, f, wrt, jit):
        self.f, self.wrt, self.jit = f, wrt, jit
        self.pushforward = api.jvp(api.grad(f, wrt=wrt, jit=jit), wrt=wrt, jit=jit)

    def __reduce__(self):
        return pickling.reduce_transform(type(self), self.f, self.wrt, self.jit)

    @property
    def source(self):
        """The generated code: forward mode over the generated gradient."""
        return self.pushforward.source

    def __call__(self, *args):
        *primal, v = args
        _, hv = self.pushforward(*primal, v)
        return hv
