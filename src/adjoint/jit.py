"""The Numba integration: compile generated code with ``numba.njit``.

Takes a :class:`adjoint.pipeline.Derived`; returns a callable that runs the *same generated
source* compiled by Numba (forward and backward sweeps together), specialised by Numba per
argument types and cached in-process with the Derived code. Importing
:mod:`adjoint.runtime_numba` registers the Numba implementations of the runtime helpers.

When Numba cannot compile the code, the first call raises a :class:`JitError` naming the user's
line that the failing generated line came from and what Numba rejected — never a silent fallback
to Python, never Numba's traceback alone (it is kept as the error's ``__cause__``).

With ``ADJOINT_CACHE_DIR`` set (or :func:`enable_cache`), generated source is written to a file
in that directory named by a hash of the source and the values of the globals it uses, and
compiled with Numba's on-disk cache, so a second process does not recompile; editing the user's
function or a global it reads changes the hash, and so invalidates the entry.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import sys

import numpy as np

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


def njit_derived(derived):
    """A callable running ``derived``'s code under Numba; the first call compiles."""
    numba = _numba()
    fn = derived.function
    swaps = {k: v.__adjoint_jit__() for k, v in derived.namespace.items()
             if hasattr(v, "__adjoint_jit__") and not isinstance(v, type)}
    uses_objmode = False
    if derived.namespace.get("np") is np:
        from .fast_numpy import UFUNCS, proxy
        swaps["np"] = proxy()  # NumPy's SIMD kernels for transcendental ufuncs on big arrays
        uses_objmode = any(f"np.{u}(" in derived.source for u in UFUNCS)
    if swaps:
        from .codegen import compile_function
        fn, _ = compile_function(derived.source, derived.name,
                                 {**derived.namespace, **swaps}, derived.name,
                                 filename=derived.filename)
    if _CACHE_DIR and not uses_objmode:  # Numba cannot cache code that leaves it (objmode)
        fn = _cached_copy(derived, fn)
        dispatcher = numba.njit(cache=True)(fn)
    else:
        dispatcher = numba.njit(fn)
    state = {"compiled": False}

    def call(*args):
        if state["compiled"]:
            return dispatcher(*args)
        try:
            result = dispatcher(*args)
        except (numba.core.errors.TypingError, numba.core.errors.UnsupportedError,
                numba.core.errors.LoweringError, numba.core.errors.NumbaError) as exc:
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
    if not lines and _CACHE_DIR:
        lines = [int(m) for m in re.findall(r'adjoint_[0-9a-f]+\.py", line (\d+)', text)]
    where = next((derived.linemap[n] for n in reversed(lines) if n in derived.linemap),
                 None) or _untyped_tape_push(text, derived)
    reason = _first_reason(text)
    filename, lineno = where if where else (None, None)
    return JitError(
        f"Numba could not compile the generated code: {reason}", filename=filename,
        lineno=lineno,
        hint="run with jit=False to use Python mode, or rewrite this line with operations "
             "Numba supports (see docs/supported.md); print(fn.source) shows the generated code")


def _first_reason(text):
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith(("During:", "File", "^", "Failed in", "[1m")):
            return re.sub(r"\x1b\[[0-9;]*m", "", line)[:300]
    return text[:300]


def _cached_copy(derived, fn):
    """Write the generated source to the cache directory and load the function from there, so
    Numba's on-disk cache can key it by file."""
    digest = hashlib.sha256(derived.source.encode())
    digest.update(_runtime_fingerprint())
    for name in sorted(derived.namespace):
        digest.update(name.encode())
        digest.update(_fingerprint(derived.namespace[name]))
    os.makedirs(_CACHE_DIR, exist_ok=True)
    path = os.path.join(_CACHE_DIR, f"adjoint_{digest.hexdigest()[:20]}.py")
    if not os.path.exists(path):
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "w") as fh:
            fh.write(derived.source)
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
    if isinstance(obj, (int, float, complex, bool, str, type(None))):
        return repr(obj).encode()
    if isinstance(obj, np.ndarray):
        return obj.tobytes() + repr((obj.shape, obj.dtype.str)).encode()
    if isinstance(obj, (tuple, list)):
        return b"".join(_fingerprint(x) for x in obj)
    return f"{getattr(obj, '__module__', '')}.{getattr(obj, '__qualname__', type(obj))}".encode()
