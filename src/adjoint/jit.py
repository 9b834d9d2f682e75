"""The Numba integration: compile generated code with ``numba.njit``.

Takes a :class:`adjoint.pipeline.Derived`; returns a callable that runs the *same generated
source* compiled by Numba (forward and backward sweeps together), specialised by Numba per
argument types and cached in-process with the Derived code. Importing
:mod:`adjoint.runtime_numba` registers the Numba implementations of the runtime helpers.

When Numba cannot compile the code, the first call raises a :class:`JitError` naming the user's
line that the failing generated line came from and what Numba rejected — never a silent fallback
to Python, never Numba's traceback alone (it is kept as the error's ``__cause__``).

Numba freezes the globals a function reads as constants. So that globals are read at call time
(:mod:`adjoint.bindings`), the data globals of generated code (numbers, arrays) become hidden
leading parameters of the compiled function — only its ``def`` line changes, so line numbers
still map to the user's — and the caller passes their current values.

With ``ADJOINT_CACHE_DIR`` set (or :func:`enable_cache`), generated source is written to a file
in that directory named by a hash of the source and the globals it uses (the values of those
Numba freezes, the types of those passed as arguments), and compiled with Numba's on-disk
cache, so a second process does not recompile; editing the user's function or a global it
freezes changes the hash, and so invalidates the entry.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import sys

import numpy as np

from .bindings import hidden_names
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


def jit_source(derived):
    """``derived.source`` with its data globals as hidden leading parameters."""
    hidden = hidden_names(derived)
    if not hidden:
        return derived.source
    first, rest = derived.source.split("\n", 1)
    head = f"def {derived.name}("
    assert first.startswith(head), first
    params = first[len(head):]
    joined = ", ".join(hidden) + ("" if params.startswith(")") else ", ")
    return f"{head}{joined}{params}\n{rest}"


def njit_derived(derived):
    """A callable running ``derived``'s code under Numba; the first call compiles. It takes
    ``derived``'s arguments and reads its data globals itself; its ``dispatcher`` (Numba's)
    takes the values of ``hidden_names(derived)`` first."""
    numba = _numba()
    fn = derived.function
    source = jit_source(derived)
    swaps = {k: v.__adjoint_jit__() for k, v in derived.namespace.items()
             if hasattr(v, "__adjoint_jit__") and not isinstance(v, type)}
    uses_objmode = False
    if derived.namespace.get("np") is np:
        from .fast_numpy import UFUNCS, proxy
        swaps["np"] = proxy()  # NumPy's SIMD kernels for transcendental ufuncs on big arrays
        uses_objmode = any(f"np.{u}(" in derived.source for u in UFUNCS)
    if swaps or source is not derived.source:
        from .codegen import compile_function
        fn, _ = compile_function(source, derived.name,
                                 {**derived.namespace, **swaps}, derived.name,
                                 filename=derived.filename)
    if _CACHE_DIR and not uses_objmode:  # Numba cannot cache code that leaves it (objmode)
        fn = _cached_copy(derived, fn, source)
        dispatcher = numba.njit(cache=True)(fn)
    else:
        dispatcher = numba.njit(fn)
    state = {"compiled": False}
    hidden = [(b.container, b.key) for b in derived.bindings if b.data]
    # f-strings with a format spec, and other bytecode Numba cannot compile (not a NumbaError)
    unsupported_bytecode = getattr(numba.core.errors, "UnsupportedBytecodeError",
                                   numba.core.errors.NumbaError)

    def call(*args):
        if hidden:
            args = tuple([c[k] for c, k in hidden]) + args
        if state["compiled"]:
            return dispatcher(*args)
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
        state["compiled"] = True
        return result

    call.dispatcher = dispatcher
    return call


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
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith(("During:", "File", "^", "Failed in", "[1m")):
            return re.sub(r"\x1b\[[0-9;]*m", "", line)[:300]
    return text[:300]


def _cached_copy(derived, fn, source):
    """Write the generated source to the cache directory and load the function from there, so
    Numba's on-disk cache can key it by file."""
    digest = hashlib.sha256(source.encode())
    digest.update(_runtime_fingerprint())
    hidden = set(hidden_names(derived))
    for name in sorted(derived.namespace):
        if name.startswith("__"):
            continue
        digest.update(name.encode())
        value = derived.namespace[name]
        # a hidden argument's value is not compiled in; Numba specialises on its type
        digest.update(repr(type(value)).encode() if name in hidden else _fingerprint(value))
    os.makedirs(_CACHE_DIR, exist_ok=True)
    path = os.path.join(_CACHE_DIR, f"adjoint_{digest.hexdigest()[:20]}.py")
    if not os.path.exists(path):
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "w") as fh:
            fh.write(source)
        os.replace(tmp, path)
    name = os.path.basename(path)[:-3]
    module = sys.modules.get(name)
    if module is None:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        module.__dict__.update({k: v for k, v in fn.__globals__.items()
                                if not k.startswith("__")})
        # Numba rebuilds a cached function's environment by importing its module by name.
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return getattr(module, derived.name)


_RUNTIME_FINGERPRINT = None


def _runtime_fingerprint():
    """Bytes that change when the helpers compiled into every adjoint change (their Python and
    Numba implementations), or Numba itself: a cache entry must not outlive them."""
    global _RUNTIME_FINGERPRINT
    if _RUNTIME_FINGERPRINT is None:
        import numba

        from . import fast_numpy, runtime, runtime_numba
        digest = hashlib.sha256(numba.__version__.encode())
        for module in (runtime, runtime_numba, fast_numpy):
            with open(module.__file__, "rb") as fh:
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
