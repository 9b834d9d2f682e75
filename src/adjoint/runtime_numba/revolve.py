"""Numba implementations of the checkpointing schedule (:mod:`adjoint.runtime.revolve`).

The schedule is integer code on an ``int64`` array, which Numba compiles as it is: each helper
is registered as its own implementation, so compiled and interpreted code follow the very same
schedule.
"""

from __future__ import annotations

from numba.extending import register_jitable

from ..runtime import revolve

for _helper in (revolve._act, revolve.revolve_split, revolve.revolve_start,
                revolve.revolve_next, revolve.revolve_step, revolve.revolve_until,
                revolve.auto_snapshots):
    register_jitable(_helper)
del _helper
