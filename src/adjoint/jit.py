"""The Numba integration: run generated code under ``jit=True``.

Takes a :class:`adjoint.pipeline.Derived`; returns a callable that runs the *same generated
statements*, with Numba compiling what profits from it (:mod:`adjoint.kernels` decides): the
whole function when it is scalar code or loops with light work around them; otherwise only its
loops, outlined into kernels called from Python, while straight-line array code runs in NumPy
(as fast as Numba's array kernels or faster, and compiled in no time). Compiled code is
specialised by Numba per argument types, cached in-process with the Derived code, and sees
:mod:`adjoint.jit_numpy` as ``np``. Importing :mod:`adjoint.runtime_numba` registers the Numba
implementations of the runtime helpers.

When Numba cannot compile the code, the first call raises a :class:`JitError` naming the user's
line that the failing generated line came from and Numba's informative line (for a call, its
signature and the error of the implementation it tried) — never a silent fallback to Python,
never Numba's traceback alone (it is kept as the error's ``__cause__``). A compile that takes
more than :data:`_SLOW_COMPILE` seconds says so once, through :mod:`logging` (logger
``"adjoint"``), while it runs.

Numba freezes the globals a function reads as constants. So that globals are read at call time
(:mod:`adjoint.bindings`), the data globals of generated code (numbers, arrays) become hidden
leading parameters of the compiled function — only its ``def`` line changes, so line numbers
still map to the user's — and the caller passes their current values.

With ``ADJOINT_CACHE_DIR`` set (or :func:`enable_cache`), each compiled function's source is
written to a file in that directory named by a hash of the source, adjoint's and Numba's
versions, the runtime helpers' code and the globals it uses (the values of those Numba
freezes, the types of those passed as arguments), and compiled with Numba's on-disk cache
(which keys it by argument types), so a second process does not recompile; editing the user's
function or a global it freezes changes the hash, and so invalidates the entry.
"""

from __future__ import annotations

import ast
import glob
import hashlib
import importlib.util
import logging
import os
import re
import sys
import threading

import numpy as np

from . import jit_numpy, kernels
from .bindings import hidden_names
from .codegen import compile_function
from .errors import JitError

_CACHE_DIR = os.environ.get("ADJOINT_CACHE_DIR") or None


def enable_cache(path=None):
    """Keep Numba-compiled adjoints on disk in ``path`` (default ``~/.cache/adjoint``)."""
    global _CACHE_DIR
    _CACHE_DIR = os.path.expanduser(path or "~/.cache/adjoint")
    os.makedirs(_CACHE_DIR, exist_ok=True)
    return _CACHE_DIR


def _numba():
    import numba

    from . import runtime_numba  # noqa: F401  (registers the runtime helpers' overloads)
    return numba


def jit_source(derived, seed=None):
    """``derived.source`` with its data globals as hidden leading parameters, and without the
    parameter ``seed`` (the output seed of a gradient, read as a constant instead)."""
    hidden = hidden_names(derived)
    if not hidden and seed is None:
        return derived.source
    first, rest = derived.source.split("\n", 1)
    head = f"def {derived.name}("
    assert first.startswith(head), first
    params = first[len(head):]
    if seed is not None:
        tail = f", {seed}=1.0):"
        assert params.endswith(tail), first
        params = params[:-len(tail)] + "):"
    joined = ", ".join(hidden) + ("" if params.startswith(")") else ", ")
    return f"{head}{joined if hidden else ''}{params}\n{rest}"


def output_seed(derived):
    """The output seed parameter of a gradient's code (``dout=1.0``, the last parameter), when
    nothing in the code assigns it, else None."""
    fn = derived.function
    names = fn.__code__.co_varnames[:fn.__code__.co_argcount]
    if len(names) != len(derived.params) + 1 or fn.__defaults__ is None or \
            fn.__defaults__[-1] != 1.0 or type(fn.__defaults__[-1]) is not float:
        return None
    seed = names[-1]
    for node in ast.walk(ast.parse(derived.source)):
        if isinstance(node, ast.Name) and node.id == seed and not isinstance(node.ctx, ast.Load):
            return None
    return seed


def entry_point(dispatcher, args):
    """The compiled code ``dispatcher`` runs for ``args`` (Python floats and bools only, whose
    Numba types their Python types fix), callable without Numba's dispatch; or None when it
    has not compiled that signature."""
    numba = _numba()
    signature = tuple(numba.typeof(a) for a in args)
    overload = dispatcher.overloads.get(signature)
    return None if overload is None else overload.entry_point


def njit_derived(derived, seeded=False):
    """A callable running ``derived``'s code under ``jit=True``; the first call compiles. It
    takes ``derived``'s arguments and reads its data globals itself. How the code runs is
    :func:`adjoint.kernels.plan`'s choice: compiled whole (then the callable's ``dispatcher``,
    Numba's, takes the values of ``hidden_names(derived)`` first), its loops compiled as kernels
    called from Python, or no loop and all NumPy (nothing compiled). Its ``dispatchers`` are
    the Numba dispatchers it calls; ``plan`` is the plan.

    ``seeded``: ``derived`` is a gradient (or value and gradient) whose callers never pass the
    output seed. Compiled whole, the seed is then no parameter but the constant 1.0: Numba
    handles an omitted default argument in Python on every call (tens of nanoseconds, as much
    as a small gradient costs), and the constant folds away."""
    source = jit_source(derived)
    plan = kernels.plan(source, derived.kinds, derived.params)
    hidden = [(b.container, b.key) for b in derived.bindings if b.data]
    if plan.how == "whole":
        seed = output_seed(derived) if seeded else None
        compiled = jit_source(derived, seed) if seed is not None else source
        run = _compiled(derived, compiled, derived.name, {seed: 1.0} if seed else {})
        dispatchers = [run.dispatcher]
    else:
        namespace = dict(derived.namespace)
        for kernel in plan.kernels:
            namespace[kernel.name] = (_fused if kernel.fused else _compiled)(
                derived, kernel.source, kernel.name)
        run, _ = compile_function(plan.driver if plan.kernels else source, derived.name,
                                  namespace, derived.name, filename=derived.filename)
        for kernel in plan.kernels:
            if kernel.fused:
                namespace[kernel.name].driver_globals = run.__globals__
        dispatchers = [namespace[k.name].dispatcher for k in plan.kernels]
        if not hidden:  # nothing to add to a call, nothing to fall back to: the driver itself
            run.dispatchers, run.plan = dispatchers, plan
            return run
    state = {"run": run}

    def call(*args):
        if hidden:
            args = tuple([c[k] for c, k in hidden]) + args
        if state["run"] is not run:
            return state["run"](*args)
        try:
            return run(*args)
        except JitError as exc:
            if plan.loops or plan.how != "whole":
                raise
            # Straight-line code Numba refuses runs in NumPy, as array code always does.
            _log.info("adjoint: %s runs in NumPy: %s", derived.name, exc.message)
            state["run"], _ = compile_function(source, derived.name, derived.namespace,
                                               derived.name, filename=derived.filename)
            del call.dispatcher
            call.dispatchers = []
            return state["run"](*args)

    if plan.how == "whole":
        call.dispatcher = run.dispatcher
    call.dispatchers = dispatchers
    call.plan = plan
    return call


FUSE_MIN_SIZE = 8192  # elements: below, a fused kernel saves too little to pay its compile
# array dtypes whose arithmetic Numba does as NumPy does (smaller integers: Numba widens them)
_FUSE_DTYPES = frozenset(np.dtype(t) for t in ("float64", "float32", "int64", "bool",
                                               "complex128"))


def _fused(derived, source, name):
    """A fused elementwise kernel (:func:`adjoint.kernels.fuse`): the first call runs it in
    NumPy; if the result has at least ``FUSE_MIN_SIZE`` elements and the arguments' types are
    ones Numba computes with as NumPy does, Numba compiles it then, and the driver calls the
    compiled kernel from the next call on (other argument types: NumPy). A kernel Numba
    refuses, or one on small arrays, stays in NumPy. Needs ``driver_globals``, the driver's
    globals, where it puts what later calls run."""
    plain, _ = compile_function(source, name, derived.namespace, name,
                                filename=derived.filename)
    compiled = _compiled(derived, source, name)

    def guarded(*args):
        try:
            return dispatcher(*args)
        except TypeError:  # types it was not compiled for: compiling is switched off
            return plain(*args)

    dispatcher = compiled.dispatcher

    def first(*args):
        result = plain(*args)
        chosen = plain
        if isinstance(result, np.ndarray) and result.size >= FUSE_MIN_SIZE and all(
                type(a) in (float, int, bool) or isinstance(a, np.ndarray) and
                a.dtype in _FUSE_DTYPES for a in args):
            try:
                compiled(*args)
            except JitError as exc:
                _log.info("adjoint: %s runs in NumPy: %s", name, exc.message)
            else:
                dispatcher.disable_compile()
                chosen = guarded
        first.driver_globals[name] = chosen
        return result

    first.dispatcher = dispatcher
    return first


_WHOLE = {}  # id(Derived) -> (Derived, its code compiled whole)


def whole(derived):
    """``derived``'s code compiled by Numba as one function, whatever :func:`kernels.plan`
    chose: for callers that run it from compiled code (``vmap``'s ``prange`` loop). Its
    ``dispatcher`` takes the values of ``hidden_names(derived)`` first; its first call raises a
    :class:`JitError` if Numba refuses the code. Built once per Derived."""
    entry = _WHOLE.get(id(derived))
    if entry is None or entry[0] is not derived:
        entry = _WHOLE[id(derived)] = (derived, _compiled(derived, jit_source(derived),
                                                          derived.name))
    return entry[1]


def _compiled(derived, source, name, constants=None):
    """``source`` (one def named ``name``, lines numbered as in ``derived.source``) compiled by
    Numba, reading ``constants`` ({name: value}) as globals: a callable whose first call
    compiles, turning Numba's errors into a JitError at the user's line; its ``dispatcher`` is
    Numba's."""
    numba = _numba()
    swaps = {k: v.__adjoint_jit__() for k, v in derived.namespace.items()
             if hasattr(v, "__adjoint_jit__") and not isinstance(v, type)}
    swaps.update(constants or {})
    if derived.namespace.get("np") is np:
        swaps["np"] = jit_numpy.proxy()
    fn, _ = compile_function(source, name, {**derived.namespace, **swaps}, name,
                             filename=derived.filename)
    if _CACHE_DIR:
        dispatcher = numba.njit(cache=True)(_cached_copy(derived, fn, source, name))
    else:
        dispatcher = numba.njit(fn)
    state = {"compiled": False}
    # f-strings with a format spec, and other bytecode Numba cannot compile (not a NumbaError)
    unsupported_bytecode = getattr(numba.core.errors, "UnsupportedBytecodeError",
                                   numba.core.errors.NumbaError)

    def run(*args):
        if state["compiled"]:
            return dispatcher(*args)
        timer = threading.Timer(_SLOW_COMPILE, _log_slow_compile, (derived, name))
        timer.start()
        try:
            result = dispatcher(*args)
        except (numba.core.errors.TypingError, numba.core.errors.UnsupportedError,
                numba.core.errors.LoweringError, numba.core.errors.NumbaError,
                unsupported_bytecode) as exc:
            raise _jit_error(exc, derived) from exc
        except AssertionError as exc:  # Numba's own asserts while compiling (no location)
            if not _raised_in_numba(exc):
                raise
            raise _jit_error(exc, derived) from exc
        finally:
            timer.cancel()
        state["compiled"] = True
        return result

    run.dispatcher = dispatcher
    return run


_SLOW_COMPILE = 2.0  # seconds: a compile taking longer says so (once per compiled function)
_log = logging.getLogger("adjoint")


def _log_slow_compile(derived, name):
    where = "" if name == derived.name else f" (its loops, as {name})"
    _log.warning("adjoint: Numba is compiling %s%s, defined at %s:%s; this takes a few "
                 "seconds%s", derived.name, where, *derived.def_line,
                 "" if _CACHE_DIR else " (set ADJOINT_CACHE_DIR to keep compiled code on disk)")


def _untyped_tape_push(text, derived):
    """The user's line of the first push on a list tape Numba could not type (its pushes sit
    in branches Numba removed as dead, e.g. on a None argument), or None."""
    tape = re.search(r"type of variable '(\w+_tape\w*)'", text)
    if tape:
        for k, line in enumerate(derived.source.splitlines(), 1):
            if f"{tape.group(1)}.append(" in line and k in derived.linemap:
                return derived.linemap[k]
    return None


def _jit_error(exc, derived):
    text = str(exc)
    lines = [int(m) for m in re.findall(
        re.escape(derived.filename) + r'", line (\d+)', text)]
    lines += [int(m) for m in re.findall(  # UnsupportedBytecodeError: "Raised from <file> (7)"
        "Raised from " + re.escape(derived.filename) + r" \((\d+)\)", text)]
    if not lines and _CACHE_DIR:
        lines = [int(m) for m in re.findall(r'adjoint_[0-9a-f]+\.py", line (\d+)', text)]
        lines += [int(m) for m in re.findall(r"Raised from \S*adjoint_[0-9a-f]+\.py \((\d+)\)",
                                             text)]
    where = next((derived.linemap[n] for n in reversed(lines) if n in derived.linemap),
                 None) or _untyped_tape_push(text, derived)
    reason = _first_reason(text)
    if isinstance(exc, AssertionError):
        reason = ("an internal check of Numba failed while compiling this function "
                  f"({_numba_frame(exc)}); Numba does not support one of its operations")
    filename, lineno = where if where else derived.def_line
    return JitError(
        f"Numba could not compile the generated code: {reason}", filename=filename,
        lineno=lineno,
        hint="run with jit=False to use Python mode, or rewrite this line with operations "
             "Numba supports (see docs/supported.md); print(fn.source) shows the generated code")


def _numba_frames(exc):
    tb = exc.__traceback__
    while tb is not None:
        if "/numba/" in tb.tb_frame.f_code.co_filename:
            yield tb
        tb = tb.tb_next


def _raised_in_numba(exc):
    return any(True for _ in _numba_frames(exc))


def _numba_frame(exc):
    last = list(_numba_frames(exc))[-1]
    path = last.tb_frame.f_code.co_filename
    return f"{path[path.rindex('/numba/') + 1:]}, line {last.tb_lineno}"


def _first_reason(text):
    """Numba's informative line: for a call it has no implementation of, the call's signature
    and the error its implementation raised; otherwise its first line that is not a header."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", text)
    signature = re.search(r"^\s*>>> (.+)$", text, re.M)
    if signature:
        specific = re.search(r"raised a specific error:\s*\n\s*(?:\w+Error: )?(.+)", text)
        reason = f"Numba has no implementation of {signature.group(1).strip()}"
        if specific:
            reason += f" ({specific.group(1).strip()})"
        return reason[:400]
    module = re.search(r"Unknown attribute '(\w+)' of type Module\(<module '(\w+)'>\)", text)
    if module:
        space = "np" if module.group(2) == "adjoint_numpy" else module.group(2)
        return f"Numba has no {space}.{module.group(1)}"
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith(("During:", "File", "^", "Failed in", "- Resolution",
                                         "No implementation of function")):
            return line[:300]
    return text[:300]


def _cached_copy(derived, fn, source, name):
    """Write the generated source to the cache directory and load the function from there, so
    Numba's on-disk cache can key it by file."""
    digest = hashlib.sha256(source.encode())
    digest.update(_runtime_fingerprint())
    hidden = set(hidden_names(derived))
    for key in sorted(derived.namespace):
        if key.startswith("__"):
            continue
        digest.update(key.encode())
        value = derived.namespace[key]
        # a hidden argument's value is not compiled in; Numba specialises on its type
        digest.update(repr(type(value)).encode() if key in hidden else _fingerprint(value))
    os.makedirs(_CACHE_DIR, exist_ok=True)
    path = os.path.join(_CACHE_DIR, f"adjoint_{digest.hexdigest()[:20]}.py")
    if not os.path.exists(path):
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "w") as fh:
            fh.write(source)
        os.replace(tmp, path)
    module_name = os.path.basename(path)[:-3]
    module = sys.modules.get(module_name)
    if module is None:
        spec = importlib.util.spec_from_file_location(module_name, path)
        module = importlib.util.module_from_spec(spec)
        module.__dict__.update({k: v for k, v in fn.__globals__.items()
                                if not k.startswith("__")})
        # Numba rebuilds a cached function's environment by importing its module by name.
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
    return getattr(module, name)


_RUNTIME_FINGERPRINT = None


def _runtime_fingerprint():
    """Bytes that change when the helpers compiled into every adjoint change (their Python and
    Numba implementations), or Numba itself: a cache entry must not outlive them."""
    global _RUNTIME_FINGERPRINT
    if _RUNTIME_FINGERPRINT is None:
        import numba

        from . import jit_numpy, runtime, runtime_numba
        from .version import __version__
        digest = hashlib.sha256(f"{numba.__version__} {__version__}".encode())
        files = [jit_numpy.__file__]
        for package in (runtime, runtime_numba):  # every module of the two packages
            files += sorted(glob.glob(os.path.join(os.path.dirname(package.__file__), "*.py")))
        for path in files:
            with open(path, "rb") as fh:
                digest.update(fh.read())
        _RUNTIME_FINGERPRINT = digest.digest()
    return _RUNTIME_FINGERPRINT


def _fingerprint(obj):
    """Bytes that change when a global's *value* changes (constants Numba freezes)."""
    if isinstance(obj, (int, float, complex, bool, str, type(None), np.generic)):
        return repr((type(obj), obj)).encode()
    if isinstance(obj, np.ndarray):
        return obj.tobytes() + repr((obj.shape, obj.dtype.str)).encode()
    if isinstance(obj, (tuple, list)):
        return b"".join(_fingerprint(x) for x in obj)
    return f"{getattr(obj, '__module__', '')}.{getattr(obj, '__qualname__', type(obj))}".encode()
