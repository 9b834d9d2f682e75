"""All peer cases: importing this package imports every section module, each of which registers
its cases in :data:`peer_functions.PEERS` (test ids are the case names, so the order of the
modules does not matter)."""

from peer_functions import PEERS

from peers import (  # noqa: F401  (imported for the cases they register)
    api_numpy,
    arrays,
    graph,
    idioms,
    loop_locals,
    loops,
    numeric,
    patterns,
)

__all__ = ["PEERS"]
