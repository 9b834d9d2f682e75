"""DesugarComprehensions: list comprehensions, generator expressions and builtin ``sum`` become
loops.

Takes a checked function (before :mod:`.control`); returns it with no ``ListComp`` or
``GeneratorExp`` left and no call of the builtin ``sum``. What a comprehension becomes depends
on what consumes it:

* a reduction — ``sum``, ``np.sum``, ``max``, ``min`` — becomes an accumulating loop;
* ``np.array`` (float64, or its ``dtype=``), ``np.stack`` (axis 0), ``np.concatenate``, a
  list comprehension bound to a name, and one passed to another NumPy function that takes
  arrays (``np.mean([...])``) become a loop that fills a preallocated array (a list bound to a
  name is an array from then on: index it, iterate it, take ``len``, stack it);
* the iterable of a ``for`` loop: the loops are fused (a generator's items are made as the loop
  asks for them, as Python does).

A ``for`` loop over a tuple or list literal (``for v in (a, b)``, also a comprehension's) is
unrolled, unless it breaks or continues.

Builtin ``sum`` over a list or tuple literal becomes a chain of ``+``; over a list built with
``append`` (a name bound to ``[]``) ``np.sum(np.array(L), axis=0)``; over anything else (an
array, another list) a loop. Comprehension variables get fresh names (they are local to the
comprehension in Python). The generated loops are ordinary user code for the later passes
(``for`` over ``range``, arrays, ``zip`` and ``enumerate`` is normalized by :mod:`.anf`).

    y = sum(w * v for v in x if v > 0)        total = 0
                                              for v in x:
                                                  if v > 0:
                                                      total = total + w * v
                                              y = total

    r = np.array([x[i] ** 2 for i in range(n)])

        items = len(range(n))
        assert items > 0, '...empty comprehension...'
        i = 0                                 # the first item (a loop that breaks after it
        first = x[i] ** 2                     # when the iterable is not a range, an array or
        item_shape = np.shape(first)          # a list, or there are filters): its shape
        array = np.empty((items,) + item_shape)
        slot = 0
        for i in range(n):
            item = x[i] ** 2
            assert np.shape(item) == item_shape, '...must have one shape'
            array[slot] = item
            slot = slot + 1
        r = array

A comprehension inside a conditional expression, an ``and``/``or`` operand or a ``while``
condition (where it may not be evaluated, or evaluated again) is refused with a located
``UnsupportedSyntaxError``; so are comprehensions fed to anything else.
"""

from __future__ import annotations

import builtins
import math

import numpy as np

from .. import grammar as g
from ..errors import UnsupportedSyntaxError
from .comprehension_arrays import BuildArrays

_COMPREHENSIONS = (g.ListComp, g.GeneratorExp)
_REDUCTIONS = {"sum": "total", "max": "largest", "min": "smallest"}
_WHERE = "feed it to sum, np.sum, max, min, np.array, np.stack, np.concatenate or another " \
         "NumPy function, bind a list comprehension to a name, or loop over it with for"


class DesugarComprehensions(BuildArrays):
    def __init__(self, namer, info, local_names):
        self.namer = namer
        self.info = info
        self.locals = set(local_names)

    def __call__(self, fdef):
        self.appended = {n.targets[0].id for n in g.walk(fdef) if isinstance(n, g.Assign) and
                         isinstance(n.targets[0], g.Name) and isinstance(n.value, g.List) and
                         not n.value.elts}  # lists built with append
        fdef.body = self._block(fdef.body)
        return fdef

    # -- statements ------------------------------------------------------------------------
    def _block(self, stmts):
        out = []
        for stmt in stmts:
            out.extend(self._stmt(stmt))
        return out

    def _stmt(self, stmt):
        self._refuse_conditional(stmt)
        pre = []
        if isinstance(stmt, g.If):
            stmt.test = self._expr(stmt.test, pre, stmt)
            stmt.body = self._block(stmt.body)
            stmt.orelse = self._block(stmt.orelse)
        elif isinstance(stmt, g.While):
            stmt.body = self._block(stmt.body)
        elif isinstance(stmt, g.For):
            if isinstance(stmt.iter, _COMPREHENSIONS) and self._fusable(stmt):
                return self._fuse(stmt)
            unrolled = self._unroll(stmt)
            if unrolled is not None:
                return self._block(unrolled)
            stmt.iter = self._expr(stmt.iter, pre, stmt)
            stmt.body = self._block(stmt.body)
        elif isinstance(stmt, g.Assign) and isinstance(stmt.value, g.ListComp) and \
                len(stmt.targets) == 1 and isinstance(stmt.targets[0], g.Name):
            stmt.value = self._build(stmt.value, "stack", pre, stmt)
        else:
            for field in ("value", "test", "msg", "target", "targets"):
                value = getattr(stmt, field, None)
                if isinstance(value, list):
                    setattr(stmt, field, [self._expr(v, pre, stmt) for v in value])
                elif value is not None and not g.is_stmt(value):
                    setattr(stmt, field, self._expr(value, pre, stmt))
        if not pre:
            return [stmt]
        for new in pre:
            g.copy_location(new, stmt)
        return self._block(pre) + [stmt]

    def _refuse_conditional(self, stmt):
        """Comprehensions where Python may skip them or evaluate them again."""
        places = []
        if isinstance(stmt, g.While):
            places.append(stmt.test)
        exprs = [v for f in ("value", "test", "iter", "msg") for v in [getattr(stmt, f, None)]
                 if v is not None and not g.is_stmt(v) and not isinstance(v, list)]
        for expr in exprs:
            for node in g.walk(expr):
                if isinstance(node, g.IfExp):
                    places += [node.body, node.orelse]
                elif isinstance(node, g.BoolOp):
                    places += node.values[1:]
        for place in places:
            for node in g.walk(place):
                if isinstance(node, _COMPREHENSIONS):
                    raise self.info.error(
                        UnsupportedSyntaxError, "a comprehension that may be skipped or "
                        "evaluated again (in a conditional expression, and/or, or a while "
                        "condition) is not supported", node,
                        "compute it on a line of its own before, and use the result")

    # -- expressions -----------------------------------------------------------------------
    def _expr(self, expr, pre, stmt):
        """``expr`` with every comprehension replaced by a name its statements (appended to
        ``pre``) compute."""
        if isinstance(expr, g.Call):
            replaced = self._call(expr, pre, stmt)
            if replaced is not None:
                return replaced
        if isinstance(expr, _COMPREHENSIONS):
            raise self.info.error(UnsupportedSyntaxError, "a comprehension can only be used "
                                  "where adjoint can turn it into a loop", expr, _WHERE)
        for field in expr._fields:
            value = getattr(expr, field, None)
            if isinstance(value, list):
                setattr(expr, field, [self._expr(v, pre, stmt) if _is_expr(v) else v
                                      for v in value])
            elif _is_expr(value):
                setattr(expr, field, self._expr(value, pre, stmt))
        for kw in getattr(expr, "keywords", None) or []:
            kw.value = self._expr(kw.value, pre, stmt)
        return expr

    def _builtin(self, func, name):
        return isinstance(func, g.Name) and func.id == name and func.id not in self.locals \
            and self.info.lookup(name)[1] is getattr(builtins, name)

    def _numpy(self, func, *objs):
        if not isinstance(func, g.Attribute) or self._local_root(func):
            return False
        found, obj = self.info.lookup(func.value.id) if isinstance(func.value, g.Name) else (
            False, None)
        if not found or obj is not np:
            return False
        return getattr(np, func.attr, None) in objs

    def _local_root(self, node):
        while isinstance(node, g.Attribute):
            node = node.value
        return isinstance(node, g.Name) and node.id in self.locals

    def _call(self, call, pre, stmt):
        func = call.func
        first = call.args[0] if call.args else None
        for fname in _REDUCTIONS:
            if self._builtin(func, fname):
                return self._builtin_reduction(call, fname, pre, stmt)
        if not isinstance(first, _COMPREHENSIONS):
            self._numpy_arguments(call, pre, stmt)
            return None
        if self._numpy(func, np.sum) and len(call.args) == 1 and not call.keywords:
            return self._reduce(first, "sum", g.const(0.0), pre, stmt, numpy_sum=True)
        if self._numpy(func, np.array, np.asarray) and len(call.args) == 1 and all(
                kw.arg == "dtype" for kw in call.keywords):
            dtype = call.keywords[0].value if call.keywords else None
            return self._build(first, "stack", pre, stmt, dtype)
        if self._numpy(func, np.stack) and len(call.args) == 1 and all(
                kw.arg == "axis" and g.is_const(kw.value, 0) for kw in call.keywords):
            return self._build(first, "stack", pre, stmt)
        if self._numpy(func, np.concatenate) and len(call.args) == 1 and all(
                kw.arg == "axis" and g.is_const(kw.value, 0) for kw in call.keywords):
            return self._build(first, "concatenate", pre, stmt)
        if not self._numpy_arguments(call, pre, stmt):
            raise self.info.error(UnsupportedSyntaxError, "this use of a comprehension is not "
                                  "supported", first, _WHERE + " (np.stack and "
                                  "np.concatenate along axis 0 only)")
        return None

    def _numpy_arguments(self, call, pre, stmt):
        """List comprehensions passed to a NumPy function that takes arrays (``np.mean``,
        ``np.dot``, ``np.sin`` ...) are built into the array NumPy would make of them; not for
        the functions that take a sequence of arrays (``np.hstack``, ``np.stack(..., axis=1)``:
        their rules want the items). Whether anything was built."""
        func = call.func
        if not any(isinstance(a, g.ListComp) for a in call.args) or self._local_root(func):
            return False
        found, obj = _resolve(func, self.info)
        takes_arrays = found and (isinstance(obj, np.ufunc) or callable(obj) and (
            getattr(obj, "__module__", None) or "").startswith("numpy")) and not any(
            obj is getattr(np, name, None) for name in _SEQUENCE_FUNCTIONS)
        if not takes_arrays:
            return False
        call.args = [self._build(a, "stack", pre, stmt) if isinstance(a, g.ListComp) else a
                     for a in call.args]
        return True

    def _builtin_reduction(self, call, fname, pre, stmt):
        args = call.args
        if fname in ("max", "min"):
            if len(args) != 1 or call.keywords:
                return None  # max(a, b, ...): the binary rule
            if not isinstance(args[0], _COMPREHENSIONS):
                return None
            start = g.const(-math.inf if fname == "max" else math.inf)
            return self._reduce(args[0], fname, start, pre, stmt)
        start = args[1] if len(args) > 1 else next(
            (kw.value for kw in call.keywords if kw.arg == "start"), g.const(0))
        if not args or len(args) > 2 or any(kw.arg != "start" for kw in call.keywords):
            raise self.info.error(UnsupportedSyntaxError, "sum takes an iterable and an "
                                  "optional start", call, "write sum(values) or "
                                  "sum(values, start)")
        start = self._expr(start, pre, stmt)
        items = args[0]
        if isinstance(items, _COMPREHENSIONS):
            return self._reduce(items, "sum", start, pre, stmt)
        if isinstance(items, (g.List, g.Tuple)) and not any(
                isinstance(e, g.Starred) for e in items.elts):
            total = start
            for e in items.elts:
                e = self._expr(e, pre, stmt)
                total = e if g.is_const(total, 0) else g.binop(total, g.Add, e)
            return total
        if isinstance(items, g.Name) and items.id in self.appended and g.is_const(start, 0):
            # a list built with append: summed as the array it makes (see list_adjoints.py)
            made = g.call(g.Attribute(value=g.name(self._numpy_name()), attr="array",
                                      ctx=g.Load()), items)
            return g.call(g.Attribute(value=g.name(self._numpy_name()), attr="sum",
                                      ctx=g.Load()), made, keywords=[g.keyword("axis", g.const(0))])
        # sum over an array (its rows) or a list: a loop, as Python runs it
        items = self._expr(items, pre, stmt)
        acc = self.namer.fresh("total")
        item = self.namer.fresh("item")
        pre.append(g.assign(acc, start))
        pre.append(g.for_(item, items, [g.assign(acc, g.binop(g.name(acc), g.Add,
                                                               g.name(item)))]))
        return g.name(acc)

    # -- reductions ------------------------------------------------------------------------
    def _reduce(self, comp, kind, start, pre, stmt, numpy_sum=False):
        comp = self._scoped(comp)
        acc = self.namer.fresh(_REDUCTIONS[kind])
        elt = comp.elt
        if numpy_sum:
            elt = g.call(g.Attribute(value=g.name(self._numpy_name()), attr="sum",
                                     ctx=g.Load()), elt)
        pre.append(g.assign(acc, start))
        if kind == "sum":
            pre.extend(self._loops(comp.generators, [
                g.assign(acc, g.binop(g.name(acc), g.Add, elt))]))
            return g.name(acc)
        # max/min start from -inf/inf; an empty sequence raises, as in Python
        count = self.namer.fresh("items")
        pre.insert(len(pre) - 1, g.assign(count, g.const(0)))
        pre.extend(self._loops(comp.generators, [
            g.assign(acc, g.call(kind, g.name(acc), elt)),
            g.assign(count, g.binop(g.name(count), g.Add, g.const(1)))]))
        pre.append(g.Assert(test=g.compare(g.name(count), g.Gt, g.const(0)),
                            msg=g.const(f"{kind}() of an empty sequence")))
        return g.name(acc)

    def _numpy_name(self):
        for name, obj in self.info.globals.items():
            if obj is np and name not in self.locals:
                return name
        return "np"

    # -- for loops over a comprehension -------------------------------------------------------
    def _fusable(self, loop):
        """A generator is lazy: fusing is what Python does. A list is made first: fusing is
        the same unless the loop body writes what the comprehension reads."""
        comp = loop.iter
        if len(comp.generators) > 1 and any(isinstance(s, g.Break) for s in _own_level(
                loop.body)):
            return False
        if isinstance(comp, g.GeneratorExp):
            return True
        read = set(g.names_in(comp))
        written = set(g.assigned_names(loop.body)) | {
            n for s in g.statements(loop.body) if isinstance(s, (g.Assign, g.AugAssign))
            for t in getattr(s, "targets", [getattr(s, "target", None)])
            if isinstance(t, g.Subscript) for n in g.names_in(t.value)}
        return not read & written

    def _fuse(self, loop):
        comp = self._scoped(loop.iter)
        body = [g.copy_location(g.assign(loop.target, comp.elt), loop)] + loop.body
        return self._block([g.copy_location(s, loop) for s in self._loops(
            comp.generators, body)])

    def _unroll(self, loop):
        """A loop over a tuple or list literal (``for v in (a, b * c)``), unrolled: there is
        then no sequence of differentiated values to index. None if the loop breaks or
        continues, except a body ending in its only ``break`` (the first item only)."""
        items = loop.iter
        if not isinstance(items, (g.Tuple, g.List)) or any(
                isinstance(e, g.Starred) for e in items.elts):
            return None
        jumps = [s for s in _own_level(loop.body) if isinstance(s, (g.Break, g.Continue))]
        body = loop.body
        if jumps == [body[-1]] and isinstance(body[-1], g.Break):
            items, body = items.elts[:1], body[:-1]
        elif len(body) == 1 and isinstance(body[0], g.If) and not body[0].orelse and \
                jumps == [body[0].body[-1]] and isinstance(jumps[0], g.Break):
            # for v in (a, b): if c: ...; break  ->  a flag skips the items after the break
            done = self.namer.fresh("done")
            out = [g.copy_location(g.assign(done, g.const(False)), loop)]
            for item in items.elts:
                branch = g.clone(body[0])
                branch.body[-1] = g.assign(done, g.const(True))
                out.append(g.copy_location(g.if_(g.unary(g.Not, g.name(done)), [
                    g.assign(g.clone(loop.target), item), branch]), loop))
            return out
        elif jumps:
            return None
        else:
            items = items.elts
        out = []
        for item in items:
            out.append(g.copy_location(g.assign(g.clone(loop.target), item), loop))
            out.extend(g.clone(s) for s in body)
        return out or [g.copy_location(g.Pass(), loop)]

    # -- helpers -----------------------------------------------------------------------------
    def _scoped(self, comp):
        """The comprehension with its variables renamed to fresh names (they are local to it
        in Python) and nested comprehensions desugared later, with the loops."""
        renames = {}
        for gen in comp.generators:
            if getattr(gen, "is_async", 0):
                raise self.info.error(UnsupportedSyntaxError, "async comprehensions are not "
                                      "supported", comp, "write synchronous code")
            for n in g.walk(gen.target):
                if isinstance(n, g.Name):
                    renames[n.id] = self.namer.fresh(n.id)
                elif not isinstance(n, (g.Tuple, g.List, g.Store, g.Load)):
                    raise self.info.error(UnsupportedSyntaxError, "a comprehension variable "
                                          "must be a name or a tuple of names", gen.target,
                                          "write `for a, b in ...`")
        scopes = [comp.elt] + [part for gen in comp.generators
                               for part in [gen.target] + gen.ifs]
        scopes += [gen.iter for gen in comp.generators[1:]]
        for part in scopes:
            for n in g.walk(part):
                if isinstance(n, g.Name) and n.id in renames:
                    n.id = renames[n.id]
        self.locals |= set(renames.values())
        return comp

    def _loops(self, gens, inner):
        body = list(inner)
        for gen in reversed(gens):
            for cond in reversed(gen.ifs):
                body = [g.if_(g.clone(cond), body)]
            body = [g.for_(g.clone(gen.target), g.clone(gen.iter), body)]
        return body


_SEQUENCE_FUNCTIONS = ("stack", "concatenate", "hstack", "vstack", "dstack", "column_stack",
                       "row_stack", "block", "broadcast_arrays", "meshgrid", "einsum")


def _resolve(expr, info):
    """The object a global reference denotes: (found, object)."""
    if isinstance(expr, g.Name):
        return info.lookup(expr.id)
    if isinstance(expr, g.Attribute):
        found, base = _resolve(expr.value, info)
        if found and hasattr(base, expr.attr):
            return True, getattr(base, expr.attr)
    return False, None


def _is_expr(node):
    return node is not None and not isinstance(node, (list, str, int, float)) and \
        hasattr(node, "_fields") and not g.is_stmt(node) and \
        node.__class__.__name__ not in ("keyword", "comprehension", "arguments")


def _own_level(stmts):
    """Statements of ``stmts`` and their ifs, not inside nested loops."""
    for stmt in stmts:
        yield stmt
        if isinstance(stmt, g.If):
            yield from _own_level(stmt.body)
            yield from _own_level(stmt.orelse)
