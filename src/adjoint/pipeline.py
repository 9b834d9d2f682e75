"""The pipeline: the one place where the order of the stages lives, for both modes.

    source ─parse─▶ gast ─structures─▶ ─desugar─▶ ─control─▶ ─anf─▶ ─inline─▶ ─views─▶
    reverse:  ─activity─▶ ─ssa─▶ ─tbr─▶ ─reverse─▶ [─checkpoint─▶] ─assemble─▶ ─simplify─▶
              ─emit─▶ function
    forward:  ─activity─▶ ─forward─▶ ─simplify─▶ ─emit─▶ function

Takes a function (or a transformed function: its generated code, for higher order), ``wrt``,
the argument kinds and the mode's options. :data:`FRONT`, :data:`REVERSE` and :data:`FORWARD`
are tuples of named :class:`Stage`\\ s; :func:`run` runs one on a :class:`State`, which each
stage reads and extends (the stage functions live in :mod:`adjoint.front`,
:mod:`adjoint.reverse_stages` and :mod:`adjoint.forward_stages`, which know no order).
Guarantees:

* ``derive(fn, wrt, mode=..., value=..., optimize=...)`` runs :data:`REVERSE` and returns the
  :class:`~adjoint.derived.Derived` code (see :mod:`adjoint.reverse_stages` for the modes);
  ``derive_jvp`` runs :data:`FORWARD` (see :mod:`adjoint.forward_stages`);
* ``stages(fn)`` returns the code after each stage that prints the user's function
  (:data:`STAGES`, for the CLI's ``show --stage``), from the same description;
* an inlined callee is normalized by the stages of :data:`CALLEE`, taken from :data:`FRONT`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from . import forward_stages, front, reverse_stages
from . import grammar as g
from .context import RULE_GLOBALS
from .derived import Derived, user_located
from .naming import Namer
from .transforms.inline import value_parameters


@dataclass(frozen=True)
class Stage:
    """One stage: ``run(state)`` reads and extends the state; ``shown``: after it the state's
    ``fdef`` is the user's function as that stage left it (``show --stage`` prints it)."""

    name: str
    run: Callable
    shown: bool = True


FRONT = (
    Stage("parse", front.parse),
    Stage("structures", front.structures, shown=False),  # trees: one parameter per leaf
    Stage("desugar", front.desugar),
    Stage("control", front.control),
    Stage("anf", front.anf),
    Stage("inline", front.inline),
    Stage("views", front.views),
)

REVERSE = FRONT + (
    Stage("activity", reverse_stages.activity, shown=False),
    Stage("ssa", reverse_stages.ssa),
    Stage("tbr", reverse_stages.tbr, shown=False),
    Stage("reverse", reverse_stages.reverse, shown=False),
    Stage("checkpoint", reverse_stages.checkpoint, shown=False),  # with the option only
    Stage("assemble", reverse_stages.assemble, shown=False),
    Stage("simplify", reverse_stages.simplify, shown=False),
    Stage("emit", reverse_stages.emit, shown=False),
)

FORWARD = FRONT + (
    Stage("activity", forward_stages.activity, shown=False),
    Stage("forward", forward_stages.forward, shown=False),
    Stage("simplify", forward_stages.simplify, shown=False),
    Stage("emit", forward_stages.emit, shown=False),
)

# What an inlined callee goes through (the root function's other front stages see it inlined).
CALLEE = tuple(s for s in FRONT if s.name in ("desugar", "control", "anf"))

STAGES = tuple(s.name for s in REVERSE if s.shown)  # what ``show --stage`` can print


class State:
    """The work of one derivation: the request (``fn``, ``wrt``, ``kinds`` and the mode's
    options), then what each stage adds (``fdef``, ``info``, ``ctx``, ``namer``, ``locals_``,
    ``user_names`` from the front; the modes' own results; ``derived`` from ``emit``)."""

    def __init__(self, fn, wrt, kinds, *, mode="grad", value=False, optimize=True,
                 aux=False, checkpoint=None):
        self.fn, self.wrt, self.kinds = fn, wrt, kinds
        self.mode, self.value, self.optimize, self.aux = mode, value, optimize, aux
        self.checkpoint = checkpoint  # None, "auto" or an int: see reverse_stages.checkpoint
        self.front_wrt = wrt if mode != "primal" else ()  # what may not be an int value
        self.normalize_callee = normalize_callee


def run(stages, state, until=None, observe=None):
    """Run ``stages`` in order on ``state`` (up to the one named ``until``); ``observe(name,
    state)`` after each shown stage."""
    for stage in stages:
        stage.run(state)
        if observe is not None and stage.shown:
            observe(stage.name, state)
        if stage.name == until:
            break
    return state


def normalize_callee(fdef, info):
    """An inlined callee through the :data:`CALLEE` stages: (fdef, its local names)."""
    state = State(None, (), None)
    state.fdef, state.info = fdef, info
    state.namer = Namer(front.local_names(fdef) | set(RULE_GLOBALS) | {"d"})
    run(CALLEE, state)
    return fdef, state.locals_


@user_located
def derive(fn, wrt=0, *, value=False, optimize=True, kinds=None, mode="grad", aux=False,
           checkpoint=None):
    """Reverse mode (:data:`REVERSE`): the Derived code of ``fn`` (``mode``: ``"grad"``,
    ``"vjp"`` or ``"primal"``; see :mod:`adjoint.reverse_stages`). Tree arguments (``kinds``
    holding :class:`adjoint.trees.TreeKind`) become one parameter per leaf
    (``Derived.flattening``); ``wrt`` then names the function's own parameters.
    ``checkpoint`` (an int ``s >= 1`` or ``"auto"``): loops of known trip count are reversed
    with binomial checkpointing (:mod:`adjoint.transforms.checkpoint`)."""
    state = State(fn, wrt, kinds, mode=mode, value=value, optimize=optimize, aux=aux,
                  checkpoint=checkpoint)
    return run(REVERSE, state).derived


@user_located
def derive_jvp(fn, wrt=0, *, optimize=True, kinds=None):
    """Forward mode (:data:`FORWARD`): the Derived jvp of ``fn`` (its calling convention is in
    :mod:`adjoint.forward_stages`). ``kinds`` optionally gives, per parameter of ``fn``,
    what the code may assume of the argument: ``"scalar"``, an array's ``ndim`` (int), or None;
    it only makes the optimized code shorter and is recorded on the result."""
    state = State(fn, wrt, kinds, optimize=optimize)
    return run(FORWARD, state).derived


def stages(fn, wrt=0):
    """[(stage name, source after that stage)] for the stages of :data:`STAGES`, in order —
    what the CLI's ``show --stage`` prints. The last entry is the code reverse mode starts
    from."""
    out = []

    def observe(name, state):
        out.append((name, g.unparse(state.fdef)))

    # "vjp": any output (the CLI shows functions returning tuples too)
    run(REVERSE, State(fn, wrt, None, mode="vjp"), until=STAGES[-1], observe=observe)
    return out


__all__ = ["derive", "derive_jvp", "stages", "run", "State", "Stage", "FRONT", "REVERSE",
           "FORWARD", "CALLEE", "STAGES", "Derived", "normalize_callee", "value_parameters"]
