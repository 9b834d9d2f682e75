"""Pickling transform results by reference: the user's function by name, plus the options.

Takes a transform's result (``grad(f, wrt=..., jit=...)`` and the others); guarantees that it
pickles as *what to build* — a reference to ``f`` and the transform's options — never as the
generated code, the compiled machine code or the caches. Unpickling in another process builds a
fresh transform, which derives its code again on the first call (from ``f``'s source, which the
worker reads from ``f``'s file) and, under ``jit=True``, loads Numba's compiled code from the
on-disk cache when one is configured (:func:`adjoint.jit.enable_cache` or
``ADJOINT_CACHE_DIR``), so a worker does not compile again what another process compiled.

``f`` is pickled by its module and qualified name. A function whose module attribute is not the
function itself but a wrapper of it — the usual case for a decorated function, where
``module.f`` is the ``Transformed`` or the ``custom_vjp`` object — is found again by following
``__wrapped__`` from that attribute. Anything else (a ``functools.partial``, a bound method, a
transform of a transform) is left to the pickler, which reduces its parts the same way. A
function that has no importable name (a lambda, a function defined inside another) cannot be
pickled by reference: :mod:`pickle` refuses it; ``cloudpickle`` (which Dask uses) ships it by
value instead, and that works as long as the worker can read its source file. A function of the
script being run (module ``__main__``) is named by the script's path: a worker that does not run
that script imports it under another name, so its ``if __name__ == "__main__":`` block does not
run but its top-level code does (as in a ``multiprocessing`` worker started by spawn); the
script must exist at that path on the worker's machine.

Unpickling the same transform (same class, function and options) again in one process returns
the object unpickled the first time, so a worker running many tasks derives and compiles once.

When the pickling process has a Numba cache directory configured and the unpickling one has none,
the unpickled transform configures the same directory in the worker (a process-wide setting, the
one :func:`adjoint.jit.enable_cache` makes), so workers on the same machine share it.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
import sys

_MAX_WRAPS = 8  # decorator layers followed from a module attribute to the function


class Reference:
    """``module.qualname``, then ``depth`` steps along ``__wrapped__``: how to find a function
    again in another process."""

    __slots__ = ("module", "qualname", "depth")

    def __init__(self, module, qualname, depth):
        self.module, self.qualname, self.depth = module, qualname, depth

    def __reduce__(self):
        return resolve, (self.module, self.qualname, self.depth)


def resolve(module, qualname, depth):
    """The object :class:`Reference` names (run when unpickling)."""
    obj = _script(module) if os.path.isabs(module) else importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    for _ in range(depth):
        obj = obj.__wrapped__
    return obj


def _script(path):
    """The module of the script at ``path``: ``__main__`` when this process runs it, else the
    script imported once under another name (its ``if __name__ == "__main__"`` block does not
    run), as ``multiprocessing`` does in the processes it spawns."""
    main = sys.modules.get("__main__")
    if os.path.abspath(getattr(main, "__file__", None) or "/") == path:
        return main
    name = "__adjoint_script_" + hashlib.sha256(path.encode()).hexdigest()[:16]
    module = sys.modules.get(name)
    if module is None:
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None:
            raise ImportError(f"cannot import the script {path}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[name]
            raise
    return module


def reference(f):
    """What to pickle for the user's function ``f``: a :class:`Reference` when ``f`` is
    reachable by name (directly or through ``__wrapped__``), else ``f`` itself."""
    module = getattr(f, "__module__", None)
    qualname = getattr(f, "__qualname__", None)
    if not isinstance(module, str) or not isinstance(qualname, str) or "<" in qualname:
        return f
    script = None
    if module == "__main__":  # another process's __main__ is another script: name the file
        script = getattr(sys.modules.get("__main__"), "__file__", None)
        if script is None:  # an interactive session: nothing to import again
            return f
        module = os.path.abspath(script)
    try:
        obj = resolve(module, qualname, 0)
    except (ImportError, AttributeError, OSError):
        return f
    for depth in range(_MAX_WRAPS):
        if obj is f:
            return Reference(module, qualname, depth)
        obj = getattr(obj, "__wrapped__", None)
        if obj is None:
            break
    return f


def reduce_transform(cls, f, *options):
    """The ``__reduce__`` value of a transform object ``cls(f, *options)``."""
    from . import jit
    return rebuild, (cls, reference(f), options, jit._CACHE_DIR)


_MAX_REBUILT = 256
_REBUILT = {}  # (cls, f, options) -> the object unpickled for them in this process


def rebuild(cls, f, options, cache_dir):
    """``cls(f, *options)`` (run when unpickling); see the module docstring for ``cache_dir``.
    Unpickling the same transform again in a process gives the same object, so a worker that
    runs many tasks with it derives and compiles its code once."""
    if cache_dir:
        from . import jit
        if jit._CACHE_DIR is None:
            try:
                jit.enable_cache(cache_dir)
            except OSError:  # a worker on another machine: it compiles without the cache
                pass
    key = (cls, f, options)
    try:
        obj = _REBUILT.get(key)
    except TypeError:  # an option that cannot be a key (a dict of axes): no sharing
        return cls(f, *options)
    if obj is None:
        if len(_REBUILT) >= _MAX_REBUILT:  # functions shipped by value are new every time
            _REBUILT.clear()
        obj = _REBUILT[key] = cls(f, *options)
    return obj
