"""Calls made for their side effect: which are safe to keep in differentiated code.

Takes an ANF body (after :mod:`adjoint.transforms.inline`), the ``wrt`` names and the context;
returns nothing, or raises an ``UnsupportedSyntaxError`` located at the user's call. A call
whose result is discarded (``print(loss)``, ``log_step(k)``) is kept in the forward sweep and
runs once per gradient call, in order. ``print`` only reads its arguments, so it may print
differentiated values; any other such call may only take values that carry no derivative,
because adjoint cannot know whether it changes an array argument in place (which would change
the derivative without a rule saying how).

    effect = print('loss', y)      kept, whatever y is
    effect = record(x)             refused if x is differentiated
"""

from __future__ import annotations

import builtins

from .. import grammar as g
from ..errors import UnsupportedSyntaxError
from ..transforms.deadcode import is_effect
from .activity import activity, dotted_name, resolve


def check_effects(body, wrt, ctx, local_names):
    """Raise at the first discarded call, other than ``print``, that takes a value depending
    on the ``wrt`` names (whether or not it reaches the output: the call may change it)."""
    calls = [s for s in g.statements(body) if isinstance(s, g.Assign) and is_effect(s) and
             resolve(s.value.func, ctx) != (True, builtins.print)]
    if not calls:
        return
    varied, _ = activity(body, wrt, set(local_names), ctx, local_names)
    for stmt in calls:
        call = stmt.value
        atoms = list(call.args) + [k.value for k in call.keywords]
        if isinstance(call.func, g.Attribute):
            atoms.append(call.func.value)
        taken = sorted({n for a in atoms for n in g.names_in(a)} & varied)
        if taken:
            raise ctx.error(
                UnsupportedSyntaxError,
                f"the result of {dotted_name(call.func)}(...) is discarded, and it takes the "
                f"differentiated value {taken[0]}: it may change it in place, which adjoint "
                "cannot differentiate", stmt,
                f"pass adjoint.stop_gradient({taken[0]}) if it only reads it, or assign the "
                "result and use it")
