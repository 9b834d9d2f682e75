"""The derived code of every transform, cached, and derived one derivation at a time.

Takes a function, a transform kind (``"grad"``, ``"value_and_grad"``, ``"vjp"``, ``"primal"``,
``"jvp"``, ``"aux"``), ``wrt``, the options and the argument kinds; guarantees the
:class:`~adjoint.derived.Derived` code of :mod:`adjoint.pipeline` for them, derived once per
(function, kind, ``wrt``, options, kinds) while no global it was derived for has been rebound.
The cache holds the function weakly (a function that cannot be weakly referenced is derived
without caching). Derivations run one at a time, so threads calling transforms never write the
cache or the pipeline's shared tables concurrently.
"""

from __future__ import annotations

import threading
import weakref

from . import pipeline

_CACHE = weakref.WeakKeyDictionary()  # function -> {(kind, wrt, options): Derived}


_MODES = {"grad": ("grad", False), "value_and_grad": ("grad", True), "vjp": ("vjp", False),
          "primal": ("primal", False)}


# Derivations run one at a time (the cache and the pipeline's shared tables are not written
# concurrently); reentrant, as deriving a transform of a transform derives the inner one.
_DERIVING = threading.RLock()


def derived(f, kind, wrt, optimize, kinds=None, checkpoint=None):
    """The Derived code of ``f`` for this transform kind, ``wrt``, options and kinds."""
    if kind in ("jvp", "primal"):
        checkpoint = None  # checkpointing is a matter of reverse mode
    with _DERIVING:
        return _derived_locked(f, kind, wrt, optimize, kinds, checkpoint)


def _derived_locked(f, kind, wrt, optimize, kinds, checkpoint):
    key = (kind, wrt if not isinstance(wrt, list) else tuple(wrt), optimize, kinds, checkpoint)
    try:
        per_fn = _CACHE.setdefault(f, {})
    except TypeError:  # not weak-referenceable: derive without caching
        per_fn = {}
    cached = per_fn.get(key)
    if cached is None or cached.stale():
        if kind == "aux":
            cached = pipeline.derive(f, wrt, value=True, optimize=optimize, kinds=kinds,
                                     mode="grad", aux=True, checkpoint=checkpoint)
        elif kind == "jvp":
            cached = pipeline.derive_jvp(f, wrt, optimize=optimize, kinds=kinds)
        else:
            mode, value = _MODES[kind]
            cached = pipeline.derive(f, wrt, value=value, optimize=optimize, kinds=kinds,
                                     mode=mode, checkpoint=checkpoint)
        per_fn[key] = cached
    return cached
