"""Blocks indexed for forward substitution (used by :mod:`.simplify`).

Takes one block's statements; guarantees, without changing them, where each name is mentioned,
which names each assignment's target mentions, and the next statement that is not an assignment
(or that assigns through a subscript) after each position — so that substituting into a block
takes time linear in its size.
"""

from __future__ import annotations

import bisect

from .. import grammar as g


class Block:
    """One block's statements, indexed for forward substitution: where names are mentioned,
    which names each assignment's target mentions, and the next statement that is not an
    assignment (or that assigns through a subscript) after each position."""

    def __init__(self, stmts):
        self.stmts = list(stmts)
        n = len(self.stmts)
        self.mentions = {}  # name -> positions of simple statements mentioning it, ascending
        self.writes = {}  # name -> positions of assignments whose target mentions it
        self.not_assign = [n] * (n + 1)  # k -> first position >= k that is not an Assign
        self.subscript_write = [n] * (n + 1)  # k -> first position >= k assigning a[...]
        for k in range(n - 1, -1, -1):
            stmt = self.stmts[k]
            is_assign = isinstance(stmt, g.Assign)
            self.not_assign[k] = self.not_assign[k + 1] if is_assign else k
            self.subscript_write[k] = k if is_assign and isinstance(
                stmt.targets[0], g.Subscript) else self.subscript_write[k + 1]
        for k, stmt in enumerate(self.stmts):
            if isinstance(stmt, (g.If, g.For, g.While)):
                continue  # compound statements end every search: their names do not matter
            self.mention({n.id for n in g.name_nodes(stmt)}, k)
            if isinstance(stmt, g.Assign):
                for node in g.name_nodes(stmt.targets[0]):
                    _add_position(self.writes, node.id, k)

    def mention(self, names, k):
        """Record that statement ``k`` mentions ``names``."""
        for name in names:
            _add_position(self.mentions, name, k)

    def next(self, index, name, k):
        """The first position after ``k`` that ``index`` lists for ``name`` (or the end)."""
        positions = index.get(name, ())
        i = bisect.bisect_right(positions, k)
        return positions[i] if i < len(positions) else len(self.stmts)


def _add_position(index, name, k):
    positions = index.setdefault(name, [])
    if not positions or positions[-1] < k:
        positions.append(k)
    elif k not in positions:
        bisect.insort(positions, k)
