"""The public transforms: options, ``wrt``, caching, and the callables they return.

Each transform returns a :class:`Transformed` callable with ``f``'s parameters (for a bound
method or a ``functools.partial``, those left unbound). Code is derived lazily — on the first
call or the first read of ``.source`` — so a decorated function may call helpers defined later in
its module. Derived code is cached per (function, transform, wrt, options, argument kinds) in
:mod:`adjoint.derivations`; the cache holds the function weakly, and an entry is derived again
when a global it was derived for (an inlined helper, a rule's primal) has been rebound.

Calling conventions kept here, not in generated code:

- arguments are bound like Python binds them: too many, too few or unknown keyword arguments
  raise ``TypeError``; omitted arguments take their defaults (``wrt`` may name a defaulted
  parameter). The output seed of generated code is never a caller's parameter;
- globals are read when the transform is called, in both modes (:mod:`adjoint.bindings`);
- a parameter in ``wrt`` must hold a number, a numeric array or a tree of them
  (``ArgumentError`` otherwise). Tree arguments (tuple, list, dict, NamedTuple, dataclass, and
  a bound method's ``self`` or an object named in ``wrt``) are flattened to their leaves and
  their gradients rebuilt in the same structure (:mod:`adjoint.structured`);
- ``has_aux=True``: ``f`` returns ``(loss, aux)``; ``grad`` gives ``(gradient, aux)`` and
  ``value_and_grad`` ``((loss, aux), gradient)``;
- the gradient of a float or int argument is a Python float (a NumPy float32/float16 scalar
  keeps its type), of an array an ndarray of its shape and float dtype (float64 for integer
  arrays). A gradient of any other shape is a bug of adjoint, raised as ``InternalError`` —
  never broadcast into shape;
- a pullback's cotangent and a jvp's tangents must have the shape of the output and of the
  argument (``CotangentError``), and what generated code returns is checked the same way;
- the first call with each combination of argument kinds checks that ``grad``'s output is a
  scalar.
"""

from __future__ import annotations

import functools
import inspect
import operator
import threading
import types

import numpy as np

from . import pickling, pipeline
from . import structured as S
from .bindings import Stale, caller
from .codegen import locate_raised
from .conventions import (
    as_result,
    bind_args,
    check_like,
    checkpoint_option,
    complete_args,
    numeric,
    plain,
    require_scalar,
    with_defaults,
)
from .derivations import derived as _derived
from .errors import AdjointError, ArgumentError, CotangentError, InternalError, OptionError
from .fastcall import FastPath
from .source import CodeSource, parameters

_SCALARS = (float, int, bool, np.number)


def _kind(a):
    """The kind generated code is specialised to: "scalar", an array's ndim, or None."""
    t = type(a)
    if t is float or t is int:
        return "scalar"
    if t is np.ndarray:
        return a.ndim
    return "scalar" if isinstance(a, _SCALARS) else None


def _parameters(f):
    """{name: default} of the parameters a caller passes to a transform of ``f``."""
    if isinstance(f, Transformed):
        return f._signature()
    return parameters(f)


class Transformed(S.TreeCalls, CodeSource):
    """A transformed function: call it like ``f``; read ``.source`` for the generated code.
    Calls with trees, a bound method's object or ``has_aux`` take :class:`S.TreeCalls`' path."""

    _kind_of = staticmethod(_kind)

    def _derive_for(self, f, kind, wrt, kinds):
        return _derived(f, kind, wrt, self.optimize, kinds, self.checkpoint)

    def __init__(self, f, kind, wrt, jit, optimize, has_aux=False, checkpoint=None):
        self.f = f
        self.kind = kind
        self.wrt = wrt
        self.jit = jit
        self.optimize = optimize
        self.has_aux = has_aux
        self.checkpoint = checkpoint_option(f, checkpoint)
        # a bound method of an object with attributes: ``self`` is a tree argument
        self._bound = f.__self__ if isinstance(f, types.MethodType) and isinstance(
            f.__func__, types.FunctionType) and hasattr(f.__self__, "__dict__") else None
        self._names = None  # the parameters of what is derived (self first for a method)
        self._entries = {}  # argument kinds -> (callable, Derived)
        # held while an entry is built (derived, compiled, checked) or the fast path changes,
        # so that threads calling a fresh transform build each entry once and see it whole
        self._lock = threading.RLock()
        self._fast = None  # calls prepared before -> ready callables (FastPath, made lazily)
        self._call = self._general  # what a call runs: the general path or the fast path's entry
        self._last = None
        self._params = None
        # positions of int parameters of a recursive function: their values are part of the
        # kinds (the recursion is inlined to the depth they give), and no fast path skips them
        self._values = pipeline.value_parameters(f)
        functools.update_wrapper(self, f, updated=())
        self.__name__ = f"{kind}({getattr(f, '__name__', 'f')})"

    # -- derivation ------------------------------------------------------------------------
    def derive(self, *example_args):
        """The Derived code for arguments like ``example_args`` (generic without them)."""
        if example_args:
            example_args = self._complete(example_args)
            route = self._route(example_args)
            if route is not None:
                f, args, objects, wrt = route
                kinds = S.flatten_args(args, objects, _kind)[0]
                return _derived(f, self._tree_kind(), wrt, self.optimize, kinds,
                                self.checkpoint)
        kinds = self._kinds(example_args) if example_args else None
        return _derived(self.f, self.kind, self.wrt, self.optimize, kinds, self.checkpoint)

    def derive_for_kinds(self, kinds):
        """The Derived code for argument kinds given as a tuple over the *generated*
        function's parameters (used when this transform is itself transformed)."""
        if self.checkpoint is not None:
            code = getattr(inspect.unwrap(getattr(self.f, "__func__", self.f)), "__code__", None)
            raise OptionError(
                "a gradient made with the checkpoint option cannot be differentiated again",
                filename=getattr(code, "co_filename", None),
                lineno=getattr(code, "co_firstlineno", None),
                hint="transform the gradient made without checkpoint (adjoint.hessian(f), "
                     "adjoint.hvp(f), adjoint.grad(adjoint.grad(f)))")
        n = len(self._signature())
        own = tuple(kinds[:n]) if kinds else None
        return _derived(self.f, self.kind, self.wrt, self.optimize, own, self.checkpoint)

    def inlined_code(self):
        """The generated function a call to this transform *inside* a function being
        differentiated is inlined as (a gradient penalty: ``g = dquad(x); return g @ g``),
        or None when that is not possible (a pullback, trees, ``has_aux``, a bound method).
        Generic code: the caller's argument kinds are not known when calls are inlined."""
        if self.kind not in ("grad", "value_and_grad") or self.has_aux or \
                self._bound is not None:
            return None
        # without this transform's checkpoint option: the caller's transform takes its own
        derived = _derived(self.f, self.kind, self.wrt, self.optimize)
        return derived.function if derived.flattening is None else None

    @property
    def source(self):
        """The generated Python source: of the last call's specialisation, or generic."""
        return (self._last or self.derive()).source

    def __reduce__(self):  # by reference to f, never the generated code (adjoint.pickling)
        return pickling.reduce_transform(type(self), self.f, self.kind, self.wrt, self.jit,
                                         self.optimize, self.has_aux, self.checkpoint)

    def __repr__(self):
        return f"<adjoint {self.kind} of {getattr(self.f, '__qualname__', self.f)}>"

    # -- arguments ---------------------------------------------------------------------------
    def _signature(self):
        if self._params is None:
            self._params = _parameters(self.f)
        return self._params

    def _complete(self, args):
        """``args`` with the defaults of the parameters left out (TypeError as Python's)."""
        return complete_args(self.__name__, self._signature(), args)

    def _bind(self, args, kwargs):
        return bind_args(self.__name__, self._signature(), args, kwargs)

    def _check_args(self, args, derived):
        """Refuse arguments that cannot be differentiated (or not yet)."""
        filename, lineno = derived.def_line
        for name, a in zip(derived.params, args):
            if name in derived.wrt and not numeric(a):
                raise ArgumentError(
                    f"cannot differentiate with respect to {name!r}: it holds a "
                    f"{type(a).__name__}, not a number or a numeric array",
                    filename=filename, lineno=lineno,
                    hint="pass a float or a NumPy array, or leave this parameter out of wrt")

    # -- calling -----------------------------------------------------------------------------
    # A call runs ``self._call``: the general path below, or, once calls have been prepared, the
    # fast path's generated entry function (:mod:`adjoint.fastcall`), which sends arguments of
    # the types (array ndims, dtypes) of a prepared call straight to its compiled code. Reading
    # it through a property costs no Python frame of its own.
    __call__ = property(operator.attrgetter("_call"))

    def _general(self, *args, **kwargs):
        if kwargs:
            args = self._bind(args, kwargs)
        try:
            return self._slow(args)
        except AdjointError as err:  # a helper's refusal: at the user's line
            raise locate_raised(err) from None
        except Stale:  # a global the code was derived for was rebound
            self._reset()
            return self._slow(args)

    def _restart(self, *args):
        """A prepared call found a global rebound: derive again."""
        self._reset()
        return self._slow(args)

    def _reset(self):
        with self._lock:
            self._entries.clear()
            if self._fast is not None:
                self._fast.clear()
            self._call = self._general

    def _entry(self, args):
        """(what to call, Derived) for arguments of these kinds, prepared on first use (by one
        thread: others wait for it and take its entry)."""
        key = self._kinds(args)
        entry = self._entries.get(key)
        if entry is None:
            with self._lock:
                entry = self._entries.get(key)
                if entry is None:
                    entry = self._prepare(key, args)
        self._last = entry[1]
        return entry

    def _kinds(self, args):
        kinds = tuple(map(_kind, args))
        if self._values:
            kinds = tuple(("int", a) if k in self._values and type(a) is int else kind
                          for k, (kind, a) in enumerate(zip(kinds, args)))
        return kinds

    def _slow(self, args):
        full = self._complete(args)
        route = self._route(full)
        if route is not None:
            return self._tree_call(route)
        call, derived = self._entry(full)
        self._check_args(full, derived)

        def runner(*a, _call=call, _derived=derived):
            return self._convert(_call(*a), a, _derived)

        result = runner(*full)  # the first call compiles (jit), reporting failures clearly
        types = tuple(map(type, full))
        if self._values or not (any(t is np.ndarray for t in types) or
                                all(t in (float, int, bool) for t in types)):
            return result  # int values select the code, or unusual arguments: no fast path
        with self._lock:
            if self._fast is None:
                self._fast = FastPath(self._signature(), self.__name__, self._general,
                                      self._restart, locate_raised)
            if not self._fast.usable():
                return result
            self._fast.add(full, self._ready(call, derived, full) or runner)
            self._call = self._fast.entry
        return result

    def _ready(self, call, derived, args):
        """What later calls with arguments of these types may call instead of converting the
        results of ``call``: Numba's compiled code itself, or None."""
        target = getattr(call, "target", call)
        if not (self.jit and self.kind == "grad" and hasattr(target, "dispatcher")):
            return None
        types = tuple(map(type, args))
        if not all(t in (float, int, bool) or t is np.ndarray and a.ndim and
                   a.dtype == np.float64 for t, a in zip(types, args)):
            return None
        # Numba returns a Python float for each float64 gradient and a fresh float64 array
        # for each array (checked on this first call): nothing to convert on later calls with
        # these types. With only floats and bools, whose Numba types the fast path's type
        # tests fix, the compiled entry point of their signature skips Numba's dispatch too.
        dispatcher = target.dispatcher
        if not derived.bindings and all(t in (float, bool) for t in types):
            from .jit import entry_point
            compiled = entry_point(dispatcher, args)
            if compiled is not None:
                return compiled
        return caller(dispatcher, derived, "hidden", arity=len(args))

    def _prepare(self, key, args):
        derived = _derived(self.f, self.kind, self.wrt, self.optimize, key, self.checkpoint)
        if self.kind == "grad" and not derived.scalar_output:
            vg = _derived(self.f, "value_and_grad", self.wrt, self.optimize, key,
                          self.checkpoint)
            self._check_args(args, vg)
            out, _ = caller(vg.function, vg)(*args)
            require_scalar(out, self.f, derived.return_line)
        self._entries[key] = (self._caller(derived, seeded=True), derived)
        return self._entries[key]

    def _caller(self, derived, seeded=False):
        """``derived``'s code, reading the globals at each call (:mod:`adjoint.bindings`).
        ``seeded``: the code is a gradient whose callers never pass its output seed."""
        return caller(self._runnable(derived, seeded), derived, None if self.jit else "scope")

    def _runnable(self, derived, seeded=False):
        """What runs ``derived``'s code: the compiled function, or Numba's (jit=True)."""
        if self.jit:
            from .jit import njit_derived
            return njit_derived(derived, seeded)
        return derived.function

    def tape_bytes(self, *args):
        """The most bytes the generated code's tapes (and checkpointing's snapshots) hold at
        once for these arguments, measured by tracing one Python-mode run (arrays by
        ``nbytes``, lists by element)."""
        derived = self.derive(*args)
        full = self._complete(args)
        route = self._route(full)
        if route is not None:  # the generated code takes the leaves of tree arguments
            full = S.flatten_args(route[1], route[2], _kind)[1]
        return derived.tape_peak(full)

    def _convert(self, result, args, derived):
        params = derived.params
        if self.kind == "value_and_grad":
            value, grads = result
            require_scalar(value, self.f, derived.return_line)
            return (float(value) if np.ndim(value) == 0 else value,
                    self._convert_grads(grads, args, derived, params))
        return self._convert_grads(result, args, derived, params)

    def _convert_grads(self, grads, args, derived, params):
        if derived.single:
            w = derived.wrt[0]
            return as_result(grads, args[params.index(w)], w)
        if not isinstance(grads, tuple) or len(grads) != len(derived.wrt):
            raise InternalError(f"internal error: the generated code returned {grads!r} for "
                                f"{len(derived.wrt)} gradients")
        return tuple(as_result(gr, args[params.index(w)], w)
                     for gr, w in zip(grads, derived.wrt))


def _transform(kind, f, wrt, jit, optimize, has_aux=False, checkpoint=None):
    cls = {"vjp": VJP, "jvp": JVP}.get(kind, Transformed)
    if f is None:
        checkpoint_option(None, checkpoint)  # refused at the decorator, not at its use
        return lambda fn: cls(fn, kind, wrt, jit, optimize, has_aux, checkpoint)
    return cls(f, kind, wrt, jit, optimize, has_aux, checkpoint)


class JVP(Transformed):
    """``jvp(f, wrt=...)(*args, *tangents) -> (value, directional derivative)``. The last
    ``len(wrt)`` arguments are the tangents; ``f``'s arguments before them may omit the ones
    with defaults."""

    def __call__(self, *args, **kwargs):
        if kwargs:
            raise TypeError("jvp takes positional arguments: f's arguments, then the tangents")
        k = len(self.wrt) if isinstance(self.wrt, (tuple, list)) else 1
        if len(args) < k:
            raise TypeError(f"{self.__name__}() takes f's arguments followed by {k} "
                            f"tangent(s), but {len(args)} argument(s) were given")
        primal, tangents = self._complete(args[:-k]), args[-k:]
        route = self._route(primal)
        if route is not None:
            call, derived, flat_args, per_arg = self._tree_entry(route, "jvp")
            flat_tangents = S.tangents(derived, tangents, route[1], per_arg)
            try:
                value, tangent = call(*flat_args, *flat_tangents)
            except Stale:
                self._reset()
                return self(*args)
            return S.output(derived, value), S.output(derived, tangent)
        call, derived = self._entry(primal)
        self._check_args(primal, derived)
        for w, t in zip(derived.wrt, tangents):
            check_like(f"the tangent for {w!r}", t, primal[derived.params.index(w)],
                        derived.def_line)
        full = with_defaults(primal, derived)
        try:
            result = call(*full, *tangents)
        except AdjointError as err:
            raise locate_raised(err) from None
        except Stale:
            self._reset()
            return self(*args)
        return self._convert(result, full, derived)

    def _prepare(self, key, args):
        derived = _derived(self.f, "jvp", self.wrt, self.optimize, key)
        self._entries[key] = (self._caller(derived), derived)
        return self._entries[key]

    def _convert(self, result, args, derived):
        value, tangent = result
        values, tangents = (value, tangent) if derived.outputs > 1 else ((value,), (tangent,))
        for v, t in zip(values, tangents):
            if np.shape(v) != np.shape(t):
                raise InternalError(
                    f"internal error: the generated code returned a tangent of shape "
                    f"{np.shape(t)} for an output of shape {np.shape(v)} — a bug in adjoint",
                    hint="please report it with the function")
        return plain(value), plain(tangent)


class VJP(Transformed):
    """``vjp(f)(*args) -> (value, pullback)``; ``pullback(cotangent)`` may be called any number
    of times (each call runs the generated forward and backward sweeps again, so nothing is
    consumed: the analogue of ``retain_graph=True``). The cotangent must have the output's
    shape (a tuple of them for a function returning a tuple)."""

    def __call__(self, *args, **kwargs):
        args = self._bind(args, kwargs) if kwargs else self._complete(args)
        route = self._route(args)
        if route is not None:
            return self._tree_vjp(route)
        (primal, pull), derived = self._entry(args)
        self._check_args(args, derived)
        try:
            value = primal(*args)
        except Stale:
            self._reset()
            return self(*args)
        args = tuple(a.copy() if isinstance(a, np.ndarray) else a for a in args)
        full = with_defaults(args, derived)
        outputs = value if derived.outputs > 1 else (value,)

        def pullback(cotangent):
            parts = cotangent if derived.outputs > 1 else (cotangent,)
            if derived.outputs > 1 and (not isinstance(cotangent, (tuple, list)) or
                                        len(cotangent) != derived.outputs):
                raise CotangentError(
                    f"the function returns {derived.outputs} values: the cotangent must be a "
                    f"tuple of {derived.outputs}", filename=derived.def_line[0],
                    lineno=derived.def_line[1], hint="one cotangent per output, in order")
            for k, (c, v) in enumerate(zip(parts, outputs)):
                what = "the cotangent" if derived.outputs == 1 else f"cotangent {k}"
                check_like(what, c, v, derived.def_line)
            try:
                grads = pull(*full, tuple(parts) if derived.outputs > 1 else cotangent)
            except AdjointError as err:
                raise locate_raised(err) from None
            except Stale:
                self._reset()
                return self(*args)[1](cotangent)
            return self._convert_grads(grads, args, derived, derived.params)

        pullback.source = derived.source  # the generated code each call runs
        return value, pullback

    def _prepare(self, key, args):
        derived = _derived(self.f, "vjp", self.wrt, self.optimize, key, self.checkpoint)
        primal = _derived(self.f, "primal", self.wrt, self.optimize, key)
        self._entries[key] = ((self._caller(primal),
                               self._caller(derived)), derived)
        return self._entries[key]


def grad(f=None, *, wrt=0, jit=False, optimize=True, has_aux=False, checkpoint=None):
    """Reverse mode: a callable with ``f``'s parameters returning the gradient of ``f``'s
    scalar output with respect to ``wrt`` (an int, a name, or a tuple of them; ``"self"`` for
    a method's object). ``has_aux=True``: ``f`` returns ``(loss, aux)`` and the result is
    ``(gradient, aux)``. ``checkpoint`` (an int ``s >= 1`` or ``"auto"``): each loop of known
    trip count is reversed with binomial checkpointing, keeping at most ``s`` snapshots of
    its state instead of a tape of every iteration (see docs/scaling.md)."""
    return _transform("grad", f, wrt, jit, optimize, has_aux, checkpoint)


def value_and_grad(f=None, *, wrt=0, jit=False, optimize=True, has_aux=False,
                   checkpoint=None):
    """Like :func:`grad`, returning ``(value, gradient)`` from one forward pass
    (``((loss, aux), gradient)`` with ``has_aux=True``)."""
    return _transform("value_and_grad", f, wrt, jit, optimize, has_aux, checkpoint)


def vjp(f=None, *, wrt=0, jit=False, optimize=True, checkpoint=None):
    """Reverse mode for any output (scalar, array, tuple): ``vjp(f)(*args)`` returns
    ``(value, pullback)`` and ``pullback(cotangent)`` the gradient(s) for that output seed —
    the analogue of ``y.backward(grad_output)``. ``checkpoint`` as for :func:`grad`."""
    return _transform("vjp", f, wrt, jit, optimize, checkpoint=checkpoint)


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
