"""Running generated programs: one seed to one classified program, with its point.

Takes a seed and a mode ("py" or "jit"); guarantees a :class:`Trial`: the program, the point
and the :class:`~randprog.check.Outcome`. A program whose points all fail the finite-difference
trust test, or that fails in plain Python, is replaced by the program of a derived seed, so
every seed yields one checked program (``Trial.attempts`` counts the replacements).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .check import Outcome, evaluate
from .generate import Program, draw_args, generate
from .shrink import shrink

POINTS = 3  # points tried per program before it is replaced
PROGRAMS = 8  # programs tried per seed


@dataclass
class Trial:
    seed: int
    program: Program
    args: tuple
    outcome: Outcome
    attempts: int

    @property
    def failed(self):
        return self.outcome.kind in ("wrong", "crash", "mutated")


def trial(seed, mode, exclude=frozenset()):
    """The first checkable program and point for ``seed``, classified in ``mode``
    (``exclude``: feature groups the generator leaves out, see ``generate``)."""
    last = None
    for attempt in range(PROGRAMS):
        program = generate(seed * 1000 + attempt, exclude)
        rng = np.random.default_rng(seed * 1000 + attempt)
        for _ in range(POINTS):
            args = draw_args(program.shapes, rng)
            outcome = evaluate(program.source, list(program.params), program.wrt, args, mode)
            last = Trial(seed, program, args, outcome, attempt)
            if outcome.kind != "skip":
                return last
            if outcome.detail.startswith("primal"):
                break  # the program fails in Python: another point will not help
    return last


def reproducer(source, params, wrt, args, outcome, mode):
    """A standalone script that shows the failure."""
    lines = [source.rstrip(), "", "",
             "if __name__ == '__main__':",
             "    import adjoint",
             "    from adjoint.testing import numeric_grad",
             f"    args = ({', '.join(_literal(a) for a in args)},)",
             f"    wrt = {tuple(wrt)!r}",
             *(f"    # {line}" for line in
               f"{outcome.kind} ({mode}): {outcome.detail[:300]}".splitlines()),
             f"    print(adjoint.value_and_grad(f, wrt=wrt, jit={mode == 'jit'})(*args))",
             "    print(f(*[a.copy() if hasattr(a, 'copy') else a for a in args]),"
             " numeric_grad(f, *args, wrt=wrt))"]
    return "\n".join(lines) + "\n"


def _literal(a):
    if isinstance(a, np.ndarray):
        return f"np.array({a.tolist()!r})"
    return repr(a)


def shrink_trial(t, mode, seconds):
    """Shrink a failed trial: (source, params, wrt, args, outcome of the shrunk program, mode it
    was shrunk in). A jit failure that Python mode shares is shrunk in Python mode, which
    compiles nothing per step."""
    p = t.program
    smode = mode
    if mode == "jit" and evaluate(p.source, list(p.params), p.wrt, t.args,
                                  "py").key == t.outcome.key:
        smode = "py"
    src, params, wrt, args = shrink(p.source, list(p.params), p.wrt, t.args, smode,
                                    t.outcome.key, seconds=seconds)
    return src, params, wrt, args, evaluate(src, params, wrt, args, smode), smode
