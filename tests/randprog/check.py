"""Differential checking of one generated program: adjoint against central finite differences
(Python mode) and against Python mode (``jit=True``).

Takes a module source defining ``f``, its parameter names, ``wrt``, a point and a mode;
:func:`evaluate` guarantees an :class:`Outcome` whose ``kind`` is one of

- ``ok``       the value and every gradient element agree;
- ``wrong``    a gradient element (or the value) disagrees with finite differences at two step
               sizes, jit disagrees with Python mode, or a gradient has the wrong type or shape
               or shares memory with an argument — the worst class;
- ``mutated``  the gradient call changed one of the caller's arrays;
- ``crash``    an exception that is not an ``adjoint.AdjointError``;
- ``refused``  an ``AdjointError`` (fine: a located refusal; ``detail`` names its class);
- ``skip``     the point is no good for finite differences (a kink, a branch condition or a
               discontinuity within a step of the point, a non-finite or huge value), or the
               program itself fails in plain Python (a generator bug, reported separately).

Finite differences are trusted only where they can be: every element is probed at ``x ± h``
with ``h = 1e-6 max(1, |x|)``, and the point is rejected when the one-sided quotients differ by
more than the curvature a smooth function shows at that step (a kink or jump within ``h``). A
gradient element that disagrees at ``h`` is confirmed at ``10 h`` before the program is called
wrong. Every evaluation gets fresh copies of the arguments, so programs that write into their
arguments are probed at the same point each time; the plain-Python evaluations run under a time
limit, since a shrunk candidate may loop forever.
"""

from __future__ import annotations

import contextlib
import importlib.util
import itertools
import math
import os
import signal
import sys
import tempfile
import threading
import traceback
from dataclasses import dataclass, field

import numpy as np

import adjoint

EPS = 1e-6
RTOL = 1e-5
JIT_RTOL = 1e-8
KINK_TOL = 1e-4  # one-sided quotients this far apart (relative): not differentiable within h
HUGE = 1e6
PRIMAL_SECONDS = 10.0  # a shrunk candidate may loop forever; the generator's programs never do

_DIR = None
_COUNTER = itertools.count()


@dataclass
class Outcome:
    """A classified program: ``kind`` (see the module docstring), a one-line ``detail``, and in
    ``extra`` the exception class (``exc``) or which check failed (``what``)."""

    kind: str
    detail: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def key(self):
        """What must stay the same while shrinking: the class, and for refusals and crashes the
        exception type."""
        if self.kind in ("crash", "refused"):
            return (self.kind, self.extra.get("exc", ""))
        return (self.kind, self.extra.get("what", ""))


def load(source):
    """Import ``source`` as a fresh module from a real file (so ``inspect`` reads it)."""
    global _DIR
    if _DIR is None:
        _DIR = tempfile.mkdtemp(prefix="randprog-")
    name = f"randprog_{os.getpid()}_{next(_COUNTER)}"
    path = os.path.join(_DIR, name + ".py")
    with open(path, "w") as fh:
        fh.write(source)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@contextlib.contextmanager
def _time_limit(seconds):
    """Raise TimeoutError in the block after ``seconds`` (main thread on POSIX; else no limit)."""
    if not hasattr(signal, "setitimer") or threading.current_thread() is not \
            threading.main_thread():
        yield
        return

    def expire(signum, frame):
        raise TimeoutError(f"the program ran longer than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _copies(args):
    return tuple(np.array(a, copy=True) if isinstance(a, np.ndarray) else a for a in args)


def _call(f, args):
    with np.errstate(all="ignore"):
        return f(*_copies(args))


def _steady(f, args, f0, probes=4):
    """Whether ``f`` keeps its value (within 1e-6) when every argument moves by a relative
    1e-12 in random directions: ``np.dot(a[::-1], a) > a @ a[::-1]`` compares two sums of the
    same terms, and which one rounds larger depends on the bits (and on how NumPy walks
    memory, which adjoint's copies change), so such a point is no point to judge a value at."""
    rng = np.random.default_rng(0)
    for _ in range(probes):
        moved = [a * (1.0 + 1e-12 * rng.standard_normal(np.shape(a)))
                 if isinstance(a, (float, np.ndarray)) else a for a in args]
        moved = [float(a) if isinstance(a, np.ndarray) and a.ndim == 0 else a for a in moved]
        try:
            with _time_limit(PRIMAL_SECONDS), np.errstate(all="ignore"):
                other = _as_float(f(*moved))
        except Exception:
            return False
        if not _agree(other, f0, 1e-6):
            return False
    return True


def _as_float(value):
    if isinstance(value, (bool, np.bool_)):
        raise TypeError("returned a bool")
    out = float(value)
    if not math.isfinite(out) or abs(out) > HUGE:
        raise OverflowError(f"value {out}")
    return out


def finite_differences(f, args, positions, eps=EPS):
    """Central differences of f at args for the parameters at ``positions``: a list with one
    float array per parameter (shape of the argument), or None when the point is not smooth."""
    f0 = _as_float(_call(f, args))
    grads = []
    for pos in positions:
        base = np.array(args[pos], dtype=np.float64)
        g = np.zeros(base.shape)
        for idx in np.ndindex(base.shape):
            x = float(base[idx])
            h = eps * max(1.0, abs(x))
            values = []
            for sign in (1.0, -1.0):
                moved = base.copy()
                moved[idx] = x + sign * h
                point = list(args)
                point[pos] = float(moved) if base.ndim == 0 else moved
                values.append(_as_float(_call(f, point)))
            fp, fm = values
            step = (x + h) - (x - h)
            forward, backward = (fp - f0) / (step / 2), (f0 - fm) / (step / 2)
            noise = 64 * np.finfo(float).eps * max(1.0, abs(f0)) / (step / 2)
            scale = max(1.0, abs(forward), abs(backward))
            if abs(forward - backward) > KINK_TOL * scale + noise:
                return None
            g[idx] = (fp - fm) / step
        grads.append(g)
    return grads


def _agree(a, b, rtol, noise=0.0):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        return False
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        return False
    tol = rtol * np.maximum(np.maximum(np.abs(a), np.abs(b)), 1.0) + noise
    return bool(np.all(np.abs(a - b) <= tol))


def _structure_error(grads, args, positions):
    for g, pos in zip(grads, positions):
        like = args[pos]
        if isinstance(like, np.ndarray):
            if not isinstance(g, np.ndarray) or g.shape != like.shape:
                return f"gradient for argument {pos} is {type(g).__name__} " \
                       f"{getattr(g, 'shape', '')}, expected an array of shape {like.shape}"
        elif not isinstance(g, float):
            return f"gradient for scalar argument {pos} is {type(g).__name__}, expected float"
        for other in args:
            if isinstance(g, np.ndarray) and isinstance(other, np.ndarray) and \
                    np.shares_memory(g, other):
                return f"gradient for argument {pos} shares memory with an argument"
    return None


def _exc_detail(exc):
    tb = traceback.extract_tb(exc.__traceback__)
    where = f"{tb[-1].filename}:{tb[-1].lineno}" if tb else ""
    return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''} [{where}]"


def run_transform(f, params, wrt, args, jit):
    """(value, grads) from ``adjoint.value_and_grad``, or an Outcome for a failure: an
    exception, a changed argument, or gradients of the wrong type or shape or sharing memory
    with an argument."""
    snapshot = _copies(args)
    call_args = _copies(args)
    try:
        fn = adjoint.value_and_grad(f, wrt=tuple(wrt), jit=jit)
        with np.errstate(all="ignore"):
            value, grads = fn(*call_args)
    except adjoint.AdjointError as exc:
        return Outcome("refused", f"{type(exc).__name__}: {exc}",
                       {"exc": type(exc).__name__})
    except Exception as exc:  # any other exception is a bug of adjoint
        return Outcome("crash", _exc_detail(exc), {"exc": type(exc).__name__})
    for before, after, name in zip(snapshot, call_args, params):
        if isinstance(before, np.ndarray) and not np.array_equal(before, after):
            return Outcome("mutated", f"the gradient call changed argument {name!r}: "
                           f"{before} -> {after}")
    grads = list(grads)
    problem = _structure_error(grads, call_args, [params.index(w) for w in wrt])
    if problem:
        return Outcome("wrong", ("jit: " if jit else "") + problem, {"what": "structure"})
    return value, grads


def evaluate(source, params, wrt, args, mode):
    """Classify the program at ``args`` in ``mode`` ("py" or "jit")."""
    try:
        module = load(source)
        f = module.f
        positions = [params.index(w) for w in wrt]
        with _time_limit(PRIMAL_SECONDS):
            f0 = _as_float(_call(f, args))
            fd = finite_differences(f, args, positions)
    except Exception as exc:  # the program is not well defined at this point
        return Outcome("skip", f"primal: {_exc_detail(exc)}", {"exc": type(exc).__name__})
    if fd is None:
        return Outcome("skip", "finite differences untrustworthy (kink or jump)")
    if not _steady(f, args, f0):
        return Outcome("skip", "the value depends on the arrays' memory layout (a comparison "
                       "of quantities equal but for rounding)")
    result = run_transform(f, params, wrt, args, jit=(mode == "jit"))
    if isinstance(result, Outcome):
        return result
    value, grads = result
    if not _agree(value, f0, 1e-9):
        return Outcome("wrong", f"value: adjoint {value!r}, f {f0!r}", {"what": "value"})
    bad = _compare(f, args, positions, wrt, grads, fd, f0)
    if bad:
        return bad
    if mode == "jit":
        # Python mode and jit=True must give the same numbers to rounding.
        result = run_transform(f, params, wrt, args, jit=False)
        if not isinstance(result, Outcome):  # (a Python-mode failure is the py test's to report)
            for name, gj, gp in zip(wrt, grads, result[1]):
                if not _agree(gj, gp, JIT_RTOL, 1e-12):
                    return Outcome("wrong", f"d/d{name}: jit {_fmt(gj)}, "
                                   f"Python mode {_fmt(gp)}", {"what": "jit"})
    return Outcome("ok")


def _fmt(a):
    return np.array2string(np.asarray(a, dtype=float), precision=10, separator=", ")


def _compare(f, args, positions, wrt, grads, fd, f0):
    """None when every gradient agrees with the central differences ``fd``; else a ``wrong``
    Outcome for the gradients that also disagree at ten times the step (or ``skip`` when the
    two steps disagree with each other: finite differences cannot judge)."""
    noise = 64 * np.finfo(float).eps * max(1.0, abs(f0)) / EPS
    bad = [i for i, (g, n) in enumerate(zip(grads, fd)) if not _agree(g, n, RTOL, noise)]
    if not bad:
        return None
    fd2 = finite_differences(f, args, positions, eps=10 * EPS)
    if fd2 is None:
        return Outcome("skip", "finite differences untrustworthy at the confirming step")
    lines = []
    for i in bad:
        if _agree(fd[i], fd2[i], 1e-4, 10 * noise) and not _agree(grads[i], fd2[i], RTOL,
                                                                   noise / 10 + 1e-9):
            lines.append(f"d/d{wrt[i]}: adjoint {_fmt(grads[i])}, finite differences "
                         f"{_fmt(fd[i])}")
    if not lines:
        return Outcome("skip", "finite differences disagree between step sizes")
    return Outcome("wrong", "; ".join(lines), {"what": "gradient"})
