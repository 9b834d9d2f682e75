"""The public transforms: options, ``wrt``, caching, and the callables they return.

Each transform returns a :class:`Transformed` callable with ``f``'s parameters. Code is derived
lazily — on the first call or the first read of ``.source`` — so a decorated function may call
helpers defined later in its module. Derived code is cached per (function, transform, wrt,
options); the cache holds the function weakly.

Calling conventions kept here, not in generated code: the gradient of a float or int argument is
returned as a Python float, of an array as an ndarray of its shape; and the first call with each
combination of argument kinds checks that ``grad``'s output is a scalar.
"""

from __future__ import annotations

import functools
import weakref

import numpy as np

from . import pipeline
from .errors import NonScalarOutputError

_CACHE = weakref.WeakKeyDictionary()  # function -> {(kind, wrt, options): Derived}


_MODES = {"grad": ("grad", False), "value_and_grad": ("grad", True), "vjp": ("vjp", False),
          "primal": ("primal", False)}


def _derived(f, kind, wrt, optimize, kinds=None):
    key = (kind, wrt if not isinstance(wrt, list) else tuple(wrt), optimize, kinds)
    try:
        per_fn = _CACHE.setdefault(f, {})
    except TypeError:  # not weak-referenceable: derive without caching
        per_fn = {}
    if key not in per_fn:
        if kind == "jvp":
            from .forward_pipeline import derive_jvp
            per_fn[key] = derive_jvp(f, wrt, optimize=optimize, kinds=kinds)
        else:
            mode, value = _MODES[kind]
            per_fn[key] = pipeline.derive(f, wrt, value=value, optimize=optimize, kinds=kinds,
                                          mode=mode)
    return per_fn[key]


_SCALARS = (float, int, bool, np.number)


def _kind(a):
    """The kind generated code is specialised to: "scalar", an array's ndim, or None."""
    t = type(a)
    if t is float or t is int:
        return "scalar"
    if t is np.ndarray:
        return a.ndim
    return "scalar" if isinstance(a, _SCALARS) else None


def _as_result(g, like):
    if isinstance(like, np.ndarray):
        return g if isinstance(g, np.ndarray) and g.shape == like.shape else \
            np.broadcast_to(np.asarray(g, dtype=float), like.shape).copy()
    return float(g)


class Transformed:
    """A transformed function: call it like ``f``; read ``.source`` for the generated code."""

    def __init__(self, f, kind, wrt, jit, optimize):
        self.f = f
        self.kind = kind
        self.wrt = wrt
        self.jit = jit
        self.optimize = optimize
        self._entries = {}  # argument kinds -> (callable, Derived)
        self._fast = {}  # argument types (no arrays) -> ready callable
        self._last = None
        functools.update_wrapper(self, f, updated=())
        self.__name__ = f"{kind}({getattr(f, '__name__', 'f')})"

    # -- derivation ------------------------------------------------------------------------
    def derive(self, *example_args):
        """The Derived code for arguments like ``example_args`` (generic without them)."""
        kinds = tuple(map(_kind, example_args)) if example_args else None
        return _derived(self.f, self.kind, self.wrt, self.optimize, kinds)

    def derive_for_kinds(self, kinds):
        """The Derived code for argument kinds given as a tuple over the *generated*
        function's parameters (used when this transform is itself transformed)."""
        signature = pipeline.signature_of(self.f)
        n = len(signature.parameters) if signature else None
        own = tuple(kinds[:n]) if kinds and n is not None else None
        return _derived(self.f, self.kind, self.wrt, self.optimize, own)

    @property
    def source(self):
        """The generated Python source: of the last call's specialisation, or generic."""
        return (self._last or self.derive()).source

    def __repr__(self):
        return f"<adjoint {self.kind} of {getattr(self.f, '__qualname__', self.f)}>"

    # -- calling -----------------------------------------------------------------------------
    def __call__(self, *args, **kwargs):
        if kwargs:
            args = self._bind(args, kwargs)
        # Fast path: argument types seen before (and, for arrays, the same ndims).
        fast = self._fast.get(tuple(map(type, args)))
        if fast is not None:
            if type(fast) is dict:
                fast = fast.get(tuple([a.ndim for a in args if type(a) is np.ndarray]))
                if fast is not None:
                    return fast(*args)
            else:
                return fast(*args)
        return self._slow(args)

    def _entry(self, args):
        """(what to call, Derived) for arguments of these kinds, prepared on first use."""
        key = tuple(map(_kind, args))
        entry = self._entries.get(key)
        if entry is None:
            entry = self._prepare(key, args)
        self._last = entry[1]
        return entry

    def _slow(self, args):
        call, derived = self._entry(args)
        if self.jit and self.kind == "grad" and not any(
                type(a) is np.ndarray and a.ndim == 0 for a in args):
            # Numba returns Python floats for float64 and fresh arrays: nothing to convert
            # (except for 0-d arrays, which Numba hands back as floats).
            runner = call
        else:
            def runner(*a, _call=call, _derived=derived):
                return self._convert(_call(*a), a, _derived)
        result = runner(*args)  # the first call compiles (jit), reporting failures clearly
        ready = getattr(runner, "dispatcher", runner)
        types = tuple(map(type, args))
        if any(t is np.ndarray for t in types):
            ndims = tuple([a.ndim for a in args if type(a) is np.ndarray])
            self._fast.setdefault(types, {})[ndims] = ready
        elif all(t in (float, int, bool) for t in types):
            self._fast[types] = ready
        return result

    def _prepare(self, key, args):
        derived = _derived(self.f, self.kind, self.wrt, self.optimize, key)
        if self.kind == "grad" and not derived.scalar_output:
            vg = _derived(self.f, "value_and_grad", self.wrt, self.optimize, key)
            out, _ = vg.function(*args)
            _require_scalar(out, self.f, derived.return_line)
        self._entries[key] = (self._runnable(derived), derived)
        return self._entries[key]

    def _runnable(self, derived):
        """What runs ``derived``'s code: the compiled function, or Numba's (jit=True)."""
        if self.jit:
            from .jit import njit_derived
            return njit_derived(derived)
        return derived.function

    def tape_bytes(self, *args):
        """The most bytes the generated code's tapes hold at once for these arguments,
        measured by tracing one Python-mode run (arrays by ``nbytes``, lists by element)."""
        import sys
        derived = self.derive(*args)
        names = set(derived.tape_names) | set(derived.array_tapes)
        code = derived.function.__code__
        peak = [0]

        def held(frame):
            total = 0
            for name in names:
                tape = frame.f_locals.get(name)
                if isinstance(tape, np.ndarray):
                    total += tape.nbytes
                elif isinstance(tape, list):
                    total += sum(np.asarray(v).nbytes for v in tape)
            return total

        def trace(frame, event, arg):
            if frame.f_code is not code:
                return None
            if event in ("line", "return"):
                peak[0] = max(peak[0], held(frame))
            return trace

        previous = sys.gettrace()
        sys.settrace(trace)
        try:
            derived.function(*args)
        finally:
            sys.settrace(previous)
        return peak[0]

    def _bind(self, args, kwargs):
        import inspect
        bound = inspect.signature(self.f).bind(*args, **kwargs)
        bound.apply_defaults()
        return tuple(bound.arguments.values())

    def _convert(self, result, args, derived):
        params = derived.params
        if self.kind == "value_and_grad":
            value, grads = result
            _require_scalar(value, self.f, derived.return_line)
            return (float(value) if np.ndim(value) == 0 else value,
                    self._convert_grads(grads, args, derived, params))
        return self._convert_grads(result, args, derived, params)

    def _convert_grads(self, grads, args, derived, params):
        if derived.single:
            return _as_result(grads, args[params.index(derived.wrt[0])])
        return tuple(_as_result(gr, args[params.index(w)]) for gr, w in zip(grads, derived.wrt))


def _with_defaults(args, derived):
    """``args`` completed with the defaults of the parameters the caller left out (so that an
    argument appended after them, like a cotangent, lands in its own parameter)."""
    missing = len(derived.params) - len(args)
    if missing <= 0:
        return args
    defaults = derived.function.__defaults__ or ()
    own = defaults[:len(defaults) - (len(derived.function.__code__.co_varnames[
        :derived.function.__code__.co_argcount]) - len(derived.params))]
    return tuple(args) + tuple(own[len(own) - missing:])


def _plain(x):
    """NumPy scalars as Python floats; tuples element by element; arrays as they are."""
    if isinstance(x, tuple):
        return tuple(_plain(e) for e in x)
    if isinstance(x, np.generic) or (isinstance(x, np.ndarray) and x.ndim == 0):
        return float(x)
    return x


def _require_scalar(out, f, where=(None, None)):
    if np.ndim(out) == 0 and isinstance(out, (float, int, np.number, np.ndarray)):
        return
    filename, lineno = where
    raise NonScalarOutputError(
        f"grad needs a scalar output, but {getattr(f, '__name__', 'f')} returned "
        f"{type(out).__name__} with shape {np.shape(out)}", filename=filename, lineno=lineno,
        hint="use adjoint.vjp(f) and pass a cotangent of the output's shape, or reduce the "
             "output to a scalar (e.g. np.sum)")


def _transform(kind, f, wrt, jit, optimize):
    cls = {"vjp": VJP, "jvp": JVP}.get(kind, Transformed)
    if f is None:
        return lambda fn: cls(fn, kind, wrt, jit, optimize)
    return cls(f, kind, wrt, jit, optimize)


class JVP(Transformed):
    """``jvp(f, wrt=...)(*args, *tangents) -> (value, directional derivative)``. The last
    ``len(wrt)`` arguments are the tangents; ``f``'s arguments before them may omit the ones
    with defaults."""

    def __call__(self, *args, **kwargs):
        if kwargs:
            raise TypeError("jvp takes positional arguments: f's arguments, then the tangents")
        k = len(self.wrt) if isinstance(self.wrt, (tuple, list)) else 1
        primal, tangents = args[:-k], args[-k:]
        call, derived = self._entry(primal)
        full = _with_defaults(primal, derived)
        return self._convert(call(*full, *tangents), full, derived)

    def _prepare(self, key, args):
        derived = _derived(self.f, "jvp", self.wrt, self.optimize, key)
        self._entries[key] = (self._runnable(derived), derived)
        return self._entries[key]

    def _convert(self, result, args, derived):
        value, tangent = result
        return _plain(value), _plain(tangent)


class VJP(Transformed):
    """``vjp(f)(*args) -> (value, pullback)``; ``pullback(cotangent)`` may be called any number
    of times (each call runs the generated forward and backward sweeps again, so nothing is
    consumed: the analogue of ``retain_graph=True``)."""

    def __call__(self, *args, **kwargs):
        if kwargs:
            args = self._bind(args, kwargs)
        (primal, pull), derived = self._entry(args)
        value = primal(*args)
        args = tuple(a.copy() if isinstance(a, np.ndarray) else a for a in args)

        full = _with_defaults(args, derived)

        def pullback(cotangent):
            grads = pull(*full, cotangent)
            return self._convert_grads(grads, args, derived, derived.params)

        return value, pullback

    def _prepare(self, key, args):
        derived = _derived(self.f, "vjp", self.wrt, self.optimize, key)
        primal = _derived(self.f, "primal", self.wrt, self.optimize, key)
        self._entries[key] = ((self._runnable(primal), self._runnable(derived)), derived)
        return self._entries[key]


def grad(f=None, *, wrt=0, jit=False, optimize=True):
    """Reverse mode: a callable with ``f``'s parameters returning the gradient of ``f``'s
    scalar output with respect to ``wrt`` (an int, a name, or a tuple of them)."""
    return _transform("grad", f, wrt, jit, optimize)


def value_and_grad(f=None, *, wrt=0, jit=False, optimize=True):
    """Like :func:`grad`, returning ``(value, gradient)`` from one forward pass."""
    return _transform("value_and_grad", f, wrt, jit, optimize)


def vjp(f=None, *, wrt=0, jit=False, optimize=True):
    """Reverse mode for any output (scalar, array, tuple): ``vjp(f)(*args)`` returns
    ``(value, pullback)`` and ``pullback(cotangent)`` the gradient(s) for that output seed —
    the analogue of ``y.backward(grad_output)``."""
    return _transform("vjp", f, wrt, jit, optimize)


def jvp(f=None, *, wrt=0, jit=False, optimize=True):
    """Forward mode: ``jvp(f, wrt=(0, 1))(x, y, tx, ty)`` returns ``(value, directional
    derivative)`` — one tangent per ``wrt`` parameter, after ``f``'s own arguments."""
    return _transform("jvp", f, wrt, jit, optimize)


def source(fn, *example_args):
    """The generated Python source of a function returned by a transform; with example
    arguments, the code specialised to their kinds (scalar, or array of some ndim)."""
    if not isinstance(fn, Transformed):
        raise TypeError(f"{fn!r} was not made by an adjoint transform")
    return fn.derive(*example_args).source if example_args else fn.source
