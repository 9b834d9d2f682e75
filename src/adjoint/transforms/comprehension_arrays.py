"""BuildArrays: the arrays :class:`~.comprehensions.DesugarComprehensions` builds from list
comprehensions (a mixin of it).

``np.array([...])``, ``np.stack([...])``, ``np.concatenate([...])``, a list comprehension bound to
a name and one passed to a NumPy function become: the number of items (``len`` of the iterable,
or a counting loop when there are filters), the first item (for its shape only: it carries no
derivative), a preallocated array, and a loop that fills it, checking that every item has the
first one's shape (NumPy would broadcast a smaller one silently). See the example in
:mod:`.comprehensions`.
"""

from __future__ import annotations

from .. import grammar as g
from ..errors import UnsupportedSyntaxError


class BuildArrays:
    # -- arrays built from a comprehension ---------------------------------------------------
    def _build(self, comp, kind, pre, stmt, dtype=None):
        comp = self._scoped(comp)
        gens = comp.generators
        if len(gens) != 1:
            raise self.info.error(UnsupportedSyntaxError, "an array built from a "
                                  "comprehension with several for clauses is not supported",
                                  comp, "nest two comprehensions, or write the loops")
        gen = gens[0]
        gen.iter = self._bound_iterable(gen.iter, pre)
        np_ = self._numpy_name()
        count = self.namer.fresh("items")
        first = self.namer.fresh("first")
        array = self.namer.fresh("array")
        slot = self.namer.fresh("slot")
        if kind == "stack" and not gen.ifs:
            pre.append(g.assign(count, self._length(gen.iter)))
        else:
            size = g.const(1) if kind == "stack" else g.call("len", g.clone(comp.elt))
            pre.append(g.assign(count, g.const(0)))
            pre.extend(self._loops(gens, [g.assign(count, g.binop(g.name(count), g.Add,
                                                                   size))]))
        pre.append(g.Assert(test=g.compare(g.name(count), g.Gt, g.const(0)), msg=g.const(
            "an array made from an empty comprehension (adjoint takes the items' shape from "
            "the first one)")))
        # The element shape, from the first item (only its shape is used: no derivative).
        pre.extend(self._first_item(gen, comp.elt, first) or
                   self._loops(gens, [g.assign(first, g.clone(comp.elt)), g.Break()]))
        item_shape = self.namer.fresh("item_shape")
        pre.append(g.assign(item_shape, self._shape(np_, g.name(first), kind)))
        keywords = [g.keyword("dtype", dtype)] if dtype is not None else []
        pre.append(g.assign(array, g.call(g.dotted(f"{np_}.empty"), g.binop(
            g.tuple_([g.name(count)]), g.Add, g.name(item_shape)), keywords=keywords)))
        pre.append(g.assign(slot, g.const(0)))
        # every item has the first one's shape (NumPy would broadcast a smaller one silently)
        part = self.namer.fresh("item" if kind == "stack" else "part")
        check = g.Assert(test=g.compare(self._shape(np_, g.name(part), kind), g.Eq,
                                        g.name(item_shape)),
                         msg=g.const("the items of a comprehension made into an array must "
                                     "have one shape"))
        if kind == "stack":
            fill = [g.assign(part, comp.elt), check,
                    g.assign(g.subscript(g.name(array), g.name(slot), store=True),
                             g.name(part)),
                    g.assign(slot, g.binop(g.name(slot), g.Add, g.const(1)))]
        else:
            end = g.binop(g.name(slot), g.Add, g.call("len", g.name(part)))
            fill = [g.assign(part, comp.elt), check,
                    g.assign(g.subscript(g.name(array), g.Slice(
                        lower=g.name(slot), upper=end, step=None), store=True), g.name(part)),
                    g.assign(slot, g.clone(end))]
        pre.extend(self._loops(gens, fill))
        return g.name(array)

    def _first_item(self, gen, elt, first):
        """``first = elt`` at the iterable's first element, without a loop, when it is known
        (no filter; ``range(...)``, or an array or list by name): straight-line code, which
        Numba types where a variable bound only in a loop that breaks it could not be. None
        otherwise."""
        if gen.ifs or not isinstance(gen.target, g.Name):
            return None
        it = gen.iter
        if isinstance(it, g.Call) and self._builtin(it.func, "range") and 1 <= len(it.args):
            start = g.clone(it.args[0]) if len(it.args) >= 2 else g.const(0)
        elif isinstance(it, g.Name):
            start = g.subscript(g.clone(it), g.const(0))
        else:
            return None
        return [g.assign(gen.target.id, start), g.assign(first, g.clone(elt))]

    def _shape(self, np_, item, kind):
        """``np.shape(item)``, without its first axis for ``np.concatenate``."""
        shape = g.call(g.dotted(f"{np_}.shape"), item)
        if kind == "concatenate":
            shape = g.subscript(shape, g.Slice(lower=g.const(1), upper=None, step=None))
        return shape

    def _bound_iterable(self, it, pre):
        """The iterable with its parts bound to names, so that it can be read twice."""
        if isinstance(it, (g.Tuple, g.List)) and not any(
                isinstance(e, g.Starred) for e in it.elts):
            return type(it)(elts=[self._bound(e, pre) for e in it.elts], ctx=g.Load())
        if isinstance(it, g.Call) and any(self._builtin(it.func, f) for f in (
                "range", "zip", "enumerate")) and not it.keywords:
            base = "n" if self._builtin(it.func, "range") else "seq"
            it.args = [self._bound(a, pre, base) for a in it.args]
            return it
        return self._bound(it, pre)

    def _bound(self, expr, pre, base="seq"):
        if isinstance(expr, (g.Name, g.Constant)):
            return expr
        name = self.namer.fresh(base)
        pre.append(g.assign(name, expr))
        return g.name(name)

    def _length(self, it):
        if isinstance(it, g.Call) and self._builtin(it.func, "enumerate"):
            return g.call("len", g.clone(it.args[0]))
        if isinstance(it, g.Call) and self._builtin(it.func, "zip"):
            lengths = [g.call("len", g.clone(a)) for a in it.args]
            return lengths[0] if len(lengths) == 1 else g.call("min", *lengths)
        return g.call("len", g.clone(it))

