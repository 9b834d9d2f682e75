"""What a derivation gives: the :class:`Derived` record, and errors moved to the user's line.

Takes nothing; defines the result every pipeline (reverse and forward mode) returns and the
decorator that makes an error raised while transforming generated code again (higher order)
point at the user's line that code came from. It imports nothing above the compiler's own
helpers (``codegen``, ``bindings``, ``source``, ``errors``). ``Derived.tape_peak`` measures
what a run's tapes hold.
"""

from __future__ import annotations

import functools
import sys
from dataclasses import dataclass, field

import numpy as np

from .bindings import caller, stale
from .codegen import relocate
from .errors import AdjointError, NoRuleError
from .source import SOURCES


@dataclass
class Derived:
    source: str
    function: object
    name: str
    params: list
    wrt: list  # parameter names, in the order gradients are returned
    single: bool  # wrt was one parameter (return one gradient, not a tuple)
    outputs: int  # 1, or k for a function returning a k-tuple
    namespace: dict = field(default_factory=dict)
    tape_names: list = field(default_factory=list)  # growable (list) tapes
    array_tapes: list = field(default_factory=list)  # preallocated (array) tapes
    snapshot_stores: list = field(default_factory=list)  # checkpointing's lists of states
    scalar_output: bool = False  # the output is provably a scalar for these argument kinds
    kinds: tuple | None = None  # the argument kinds this code is specialised to
    filename: str = ""  # the name the generated code is compiled (and linecache'd) under
    linemap: dict = field(default_factory=dict)  # generated line -> (user file, user line)
    return_line: tuple = (None, None)  # the user's return statement: (file, line)
    def_line: tuple = (None, None)  # the user's def statement: (file, line)
    bindings: tuple = ()  # the user's globals the code reads (adjoint.bindings.Binding)
    active_params: frozenset = frozenset()  # parameters that carry derivatives
    flattening: object = None  # adjoint.trees.Flattening: tree arguments -> these params
    wrt_params: list = field(default_factory=list)  # wrt as the function's own parameters

    def stale(self):
        """Whether a global this code was derived for has been rebound (derive again)."""
        return stale(self.bindings)

    def tape_peak(self, args):
        """The most bytes this code's tapes (and checkpointing's snapshots) hold at once when
        it runs on ``args`` (its own parameters), measured by tracing one Python-mode run
        (arrays by ``nbytes``, lists by element)."""
        names = set(self.tape_names) | set(self.array_tapes) | set(self.snapshot_stores)
        code = self.function.__code__
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
            caller(self.function, self)(*args)
        finally:
            sys.settrace(previous)
        return peak[0]


HIGHER_ORDER_HINT = (
    "to take a second derivative, use adjoint.hessian(f) or adjoint.hvp(f): they are forward "
    "over reverse (adjoint.jvp of adjoint.grad(f)), which does not need this rule")


def user_located(derive_fn):
    """Errors raised while transforming generated code again (higher order) are re-raised at
    the user's line the generated line came from (see :func:`adjoint.codegen.relocate`)."""
    @functools.wraps(derive_fn)
    def derive_located(fn, *args, **kwargs):
        try:
            return derive_fn(fn, *args, **kwargs)
        except AdjointError as err:
            moved = relocate(err)
            if moved is None:
                raise
            if isinstance(moved, NoRuleError):
                moved.hint = HIGHER_ORDER_HINT
            raise moved from err
    return derive_located


def runtime_fields(ctx, active, params):
    """The Derived fields the API needs at call time (globals to read, active parameters,
    where the def is); records in the namespace where each global came from, so that code
    derived from this code again reads the user's namespace too."""
    ctx.namespace[SOURCES] = {n: (b.container, b.key) for n, b in ctx.bindings.items()}
    info = ctx.info
    return {"bindings": tuple(ctx.bindings.values()),
            "active_params": frozenset(p for p in params if p in active),
            "def_line": (info.filename, info.line_offset + 1)}
