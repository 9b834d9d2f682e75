"""Overlap: whether a write ``a[J] = v`` whose value ``v`` is a view of the array written reads
as a copy (an analysis, a mixin of :class:`adjoint.analysis.aliases.Aliases`; it never changes
the tree).

Takes the alias analysis' answers (``sharers``, ``lineage``, ``binding_at``, ranks) and refuses,
with a located ``UnsupportedSyntaxError``, a write whose value may overlap the elements written
with a different step in the same direction: NumPy copies such a value element by element into a
one-dimensional destination, so the result depends on the order, where adjoint (like Numba)
reads every value as a copy. What NumPy reads as a copy passes: destinations of zero or two or
more dimensions, the same step or opposite directions along one axis, provably different
elements, and the array itself.

    M[:, j] = M[1, :]        refused (hint: ... = M[1, :].copy())
    M[0, :] = M[1, :]        different rows
    x[0:3] = x[1:4]          the same step: moved as by memmove
"""

from __future__ import annotations

from .. import grammar as g
from .ranks import index_parts, is_special


class ValueOverlap:
    def _check_value(self, w, find):
        """Refuse ``a[J] = v`` where ``v`` is a view that may overlap the elements written.

        NumPy copies such a value element by element into a one-dimensional destination whose
        stride differs from the value's (``M[:, j] = M[1, :]``), so elements written early are
        read again later and the result depends on the order (Numba copies the value first):
        the value adjoint computes, like any copy, would differ. A destination of zero or two
        or more dimensions gets a copy of an overlapping value, so does one walked in the
        opposite direction, and one with the same stride is moved as by ``memmove``: all read
        as copies, as do ``a`` itself and views of provably different elements
        (``M[0, :] = M[1, :]``, ``x[1:2] = x[0:1]``)."""
        v = w.value
        a = w.targets[0].value.id
        if not isinstance(v, g.Name) or v.id not in self.locals or v.id == a or \
                find(v.id) != find(a):
            return
        v = v.id
        shared = self.sharers(a, w, [v])
        if shared == []:
            return
        chain = self.lineage(v, w)
        b = self.binding_at(v, w)
        if b is not None and b is not self.ROOT and self.binding(b).kind == "index" and \
                self.binding(b).base == a and self.stable(b, w):
            # v = a[I] just before, whatever a is a view of: compare the two indices
            chain = [(v, b, self.binding(b)), (a, None, None)]
            shared = [v]
        if shared is not None and chain is not None:
            if chain[-1][0] == v:
                return  # v is a's base itself (the same object as the array a views)
            if any(kind is not None and kind.kind == "index" and kind.maybe_scalar
                   for _, _, kind in chain) and not self.ranks.kinds:
                return  # generic code (printed before any call): v may be a number
            ndim = self._dest_ndim(w)
            if ndim is not None and ndim != 1 or self._disjoint(w, chain) or \
                    self._same_stride(w, chain):
                return
        expr = self._expression(chain)
        what = f"the value written ({expr})" if expr else "the value written"
        raise self.refuse(
            w, f"{what} may be a view of the array written that overlaps the elements this "
            "changes: NumPy then copies element by element, and the result depends on the "
            "order", f"write a copy of the value: ... = {expr or '(value)'}.copy()")

    def _dest_ndim(self, w):
        """The number of dimensions of the destination ``a[J]`` of a write, or None."""
        target = w.targets[0]
        parts = index_parts(target.slice)
        if not self.ranks.basic(target.slice) or any(is_special(p) for p in parts):
            return None
        ndim = self.ndim_before(target.value.id, w)
        return None if ndim is None else ndim - sum(not isinstance(p, g.Slice) for p in parts)

    def _disjoint(self, w, chain):
        """Whether ``a[J] = v`` with ``v = a[I]`` reads and writes different elements: a
        position before which both indices take one axis per part has two different
        non-negative integer constants."""
        target = w.targets[0]
        name, binding, kind = chain[0]
        if len(chain) != 2 or kind.kind != "index" or chain[1][0] != target.value.id:
            return False
        for p, q in zip(index_parts(target.slice), index_parts(binding.value.slice)):
            if not self._one_axis(p) or not self._one_axis(q):
                return False
            if self._natural(p) and self._natural(q) and p.value != q.value:
                return True
            if self._range(p) and self._range(q) and (
                    self._range(p)[1] <= self._range(q)[0] or
                    self._range(q)[1] <= self._range(p)[0]):
                return True
        return False

    def _range(self, part):
        """(lower, upper) of a slice ``l:u`` with natural constant bounds, step 1."""
        if not isinstance(part, g.Slice) or self._step(part) != 1:
            return None
        lower = 0 if part.lower is None else part.lower.value if self._natural(
            part.lower) else None
        upper = part.upper.value if part.upper is not None and self._natural(
            part.upper) else None
        return None if lower is None or upper is None else (lower, upper)

    def _same_stride(self, w, chain):
        """Whether ``a[J] = v`` with ``v = a[I]`` walks both along the same axis with steps of
        the same size or of opposite signs (then NumPy reads the value as a copy)."""
        target = w.targets[0]
        _, binding, kind = chain[0]
        if len(chain) != 2 or kind.kind != "index" or chain[1][0] != target.value.id:
            return False
        parts, others = index_parts(target.slice), index_parts(binding.value.slice)
        if len(parts) != len(others):
            return False
        for p, q in zip(parts, others):
            if is_special(p) or is_special(q) or isinstance(p, g.Slice) != isinstance(
                    q, g.Slice):
                return False
            if isinstance(p, g.Slice):
                s, t = self._step(p), self._step(q)
                if s is None or t is None or abs(s) != abs(t) and (s > 0) == (t > 0):
                    return False
        return True

    @staticmethod
    def _step(part):
        if part.step is None:
            return 1
        step = part.step
        if isinstance(step, g.UnaryOp) and isinstance(step.op, g.USub) and \
                g.is_const(step.operand) and type(step.operand.value) is int:
            return -step.operand.value
        return step.value if g.is_const(step) and type(step.value) is int and step.value \
            else None

    def _one_axis(self, part):
        return isinstance(part, g.Slice) or self._natural(part) or isinstance(
            part, g.Name) and part.id in self.ranks.ints

    @staticmethod
    def _natural(part):
        return g.is_const(part) and type(part.value) is int and part.value >= 0

    def _expression(self, chain):
        """The user's expression for the view ``v`` (its binding), or None."""
        if chain and chain[0][1] is not self.ROOT and chain[0][2] is not None and \
                chain[0][2].kind in ("index", "T"):
            return g.unparse(chain[0][1].value)
        return None  # bound in several places, or a temporary: the line shows the value
