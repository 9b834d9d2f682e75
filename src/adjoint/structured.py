"""Calling generated code with trees: arguments flattened to leaves, results rebuilt.

Takes the arguments of one call of a transform and the :class:`adjoint.pipeline.Derived` code
for their structures (``Derived.flattening``); guarantees the tree conventions of the API:

* each tree argument passes its number and array leaves, in :func:`adjoint.trees.flatten`'s
  order, as the generated code's parameters; the structure itself (containers, keys, lengths,
  constant leaves) is part of the specialisation key (``TreeKind``), never a run-time value;
* the gradient of a tree argument is a tree of the same structure and container types
  (:func:`adjoint.trees.rebuild`): each leaf's gradient follows :func:`adjoint.conventions.
  as_result`, constants get ``None``, and a plain object (a method's ``self``) is a
  ``copy.copy`` with its float/array/tree attributes replaced by their gradients;
* a function returning a tree gives its value in that structure; a pullback's cotangent and a
  jvp's tangents must have the structure of what they stand for (``CotangentError``).
"""

from __future__ import annotations

import numpy as np

from . import trees as T
from .bindings import Stale
from .conventions import as_result, check_like, plain, require_scalar
from .errors import ArgumentError, CotangentError, InternalError, NonScalarOutputError
from .source import parameters


def flatten_args(args, objects, kind_of):
    """(kinds, flat arguments, leaves of each argument or None). ``objects[i]`` says whether
    argument ``i`` is flattened as a plain object (a method's ``self``, or an object named in
    ``wrt``)."""
    kinds, flat, per_arg = [], [], []
    for a, obj in zip(args, objects):
        if obj or T.is_tree(a):
            leaves, tdef = T.flatten(a, obj)
            if isinstance(tdef, T.Node):
                kinds.append(T.TreeKind(tdef, tuple(map(kind_of, leaves)), obj))
                flat += leaves
                per_arg.append(leaves)
                continue
        kinds.append(kind_of(a))
        flat.append(a)
        per_arg.append(None)
    return tuple(kinds), tuple(flat), per_arg


def own_params(derived):
    flat = derived.flattening
    return flat.params if flat is not None else derived.params


def check_wrt(args, derived):
    """A plain (not tree) parameter in ``wrt`` must hold a number or a numeric array."""
    filename, lineno = derived.def_line
    flat = derived.flattening
    params = own_params(derived)
    for name in derived.wrt_params:
        if flat is not None and name in flat.trees:
            continue
        a = args[params.index(name)]
        if not T.is_leaf(a) and not isinstance(a, (bool, np.bool_)):
            raise ArgumentError(
                f"cannot differentiate with respect to {name!r}: it holds a "
                f"{type(a).__name__}, not a number, a numeric array or a tree of them",
                filename=filename, lineno=lineno,
                hint="pass a float, an array, or a tuple/list/dict/dataclass of them; or "
                     "leave this parameter out of wrt")


def gradients(derived, grads, args, per_arg):
    """The generated code's gradients (over ``derived.wrt``) in the caller's convention: one
    per ``wrt`` parameter, trees rebuilt."""
    flat = derived.flattening
    params = own_params(derived)
    trees = flat.trees if flat is not None else {}
    single_code = derived.single and derived.wrt_params[0] not in trees
    if not derived.wrt:
        grads = ()
    elif single_code:
        grads = (grads,)
    if not isinstance(grads, tuple) or len(grads) != len(derived.wrt):
        raise InternalError(f"internal error: the generated code returned {grads!r} for "
                            f"{len(derived.wrt)} gradients")
    it = iter(grads)
    out = []
    for p in derived.wrt_params:
        i = params.index(p)
        if p in trees:
            leaf_grads = [as_result(next(it), like, p) for like in per_arg[i]]
            out.append(T.rebuild(args[i], leaf_grads, objects=trees[p].objects))
        else:
            out.append(as_result(next(it), args[i], p))
    return out[0] if derived.single else tuple(out)


def output(derived, value):
    """What the function returned, in its structure (numbers as Python floats)."""
    flat = derived.flattening
    if flat is None or flat.out is None:
        return plain(value)
    leaves = value if derived.outputs > 1 else (value,)
    return T.unflatten(flat.out, [plain(v) for v in leaves])


def split_aux(derived, value):
    """``(loss, aux)`` of a function called with ``has_aux=True``."""
    if not (isinstance(value, tuple) and len(value) == 2):
        filename, lineno = derived.return_line
        raise NonScalarOutputError(
            "with has_aux=True the function must return a pair (loss, aux), not "
            f"{type(value).__name__} of {len(value) if isinstance(value, tuple) else 1}",
            filename=filename, lineno=lineno, hint="return loss, aux (aux may be any tree)")
    return value


def cotangent(derived, cot, value):
    """The flat cotangent the generated code takes, for ``value`` as the code returned it."""
    flat = derived.flattening
    where = derived.def_line
    values = value if derived.outputs > 1 else (value,)
    if flat is not None and flat.out is not None:
        try:
            parts = T.leaves_like(flat.out, cot, "the cotangent")
        except ValueError as exc:
            raise CotangentError(str(exc), filename=where[0], lineno=where[1],
                                 hint="pass a cotangent with the structure of the output"
                                 ) from None
        labels = [f"cotangent leaf {k}" for k in range(len(parts))]
    else:
        if derived.outputs > 1 and (not isinstance(cot, (tuple, list)) or
                                    len(cot) != derived.outputs):
            raise CotangentError(
                f"the function returns {derived.outputs} values: the cotangent must be a "
                f"tuple of {derived.outputs}", filename=where[0], lineno=where[1],
                hint="one cotangent per output, in order")
        parts = list(cot) if derived.outputs > 1 else [cot]
        labels = ["the cotangent"] if derived.outputs == 1 else [
            f"cotangent {k}" for k in range(derived.outputs)]
    for label, c, v in zip(labels, parts, values):
        check_like(label, c, v, where)
    return tuple(parts) if derived.outputs > 1 else parts[0]


def tangents(derived, given, args, per_arg):
    """The flat tangents of a jvp call: one per generated ``wrt`` parameter."""
    flat = derived.flattening
    trees = flat.trees if flat is not None else {}
    params = own_params(derived)
    where = derived.def_line
    out = []
    for p, t in zip(derived.wrt_params, given):
        i = params.index(p)
        if p in trees:
            try:
                parts = T.leaves_like(trees[p].tdef, t, f"the tangent for {p!r}")
            except ValueError as exc:
                raise CotangentError(str(exc), filename=where[0], lineno=where[1],
                                     hint="pass a tangent with the structure of its argument"
                                     ) from None
            for k, (c, like) in enumerate(zip(parts, per_arg[i])):
                check_like(f"leaf {k} of the tangent for {p!r}", c, like, where)
            out += parts
        else:
            check_like(f"the tangent for {p!r}", t, args[i], where)
            out.append(t)
    return out


class TreeCalls:
    """The tree path of :class:`adjoint.api.Transformed` (a mixin): calls with tree arguments,
    a bound method's ``self``, an object named in ``wrt``, or ``has_aux``. The class provides
    ``_derive_for(f, kind, wrt, kinds)``, ``_kind_of(arg)``, ``_caller(derived, seeded)``,
    ``_signature()``, ``_reset()`` and the attributes ``f``, ``wrt``, ``kind``, ``has_aux``,
    ``_bound``, ``_names``, ``_entries``, ``_lock``, ``_last``."""

    def _route(self, full):
        """(function to derive, its arguments, which to flatten as objects, wrt) when the call
        takes the tree path — tree arguments, a bound method's ``self``, an object in
        ``wrt``, or ``has_aux`` — else None."""
        f, args, wrt = self.f, tuple(full), self.wrt
        objects = [False] * len(args)
        if self._bound is not None:
            f, args, objects = self.f.__func__, (self._bound,) + args, [True] + objects
            wrt = _shift(wrt)
        for item in wrt if isinstance(wrt, (tuple, list)) else (wrt,):
            if self._names is None:
                self._names = list(parameters(f)) if f is not self.f else list(
                    self._signature())
            names = self._names
            k = names.index(item) if isinstance(item, str) and item in names else item
            if isinstance(k, int) and not isinstance(k, bool) and -len(args) <= k < len(args) \
                    and _plain_object(args[k]):
                objects[k] = True
        if any(objects) or self.has_aux or any(T.is_tree(a) for a in args):
            return f, args, objects, wrt
        return None

    def _tree_kind(self):
        if self.has_aux:
            return "aux"
        return "value_and_grad" if self.kind in ("grad", "value_and_grad") else self.kind

    def _tree_entry(self, route, kind=None):
        """(what to call, Derived, flat arguments, leaves per argument) for a routed call."""
        f, args, objects, wrt = route
        kinds, flat_args, per_arg = flatten_args(args, objects, self._kind_of)
        kind = kind or self._tree_kind()
        key = ("tree", kind, kinds)
        entry = self._entries.get(key)
        if entry is None:
            with self._lock:  # one thread builds the entry (see Transformed._entry)
                entry = self._entries.get(key)
                if entry is None:
                    derived = self._derive_for(f, kind, wrt, kinds)
                    check_wrt(args, derived)
                    seeded = kind in ("grad", "value_and_grad", "aux")  # called without seed
                    entry = self._entries[key] = (self._caller(derived, seeded), derived)
        self._last = entry[1]
        return entry[0], entry[1], flat_args, per_arg

    def _tree_call(self, route):
        call, derived, flat_args, per_arg = self._tree_entry(route)
        args = route[1]
        try:
            value, grads = call(*flat_args)
        except Stale:
            self._reset()
            return self._tree_call(route)
        value = output(derived, value)
        grads = gradients(derived, grads, args, per_arg)
        if self.has_aux:
            loss, aux = split_aux(derived, value)
            require_scalar(loss, self.f, derived.return_line)
            return (grads, aux) if self.kind == "grad" else ((loss, aux), grads)
        require_scalar(value, self.f, derived.return_line)
        return grads if self.kind == "grad" else (value, grads)

    def _tree_vjp(self, route):
        pull, derived, flat_args, per_arg = self._tree_entry(route, "vjp")
        primal, primal_derived = self._tree_entry(route, "primal")[:2]
        self._last = derived
        try:
            value = primal(*flat_args)
        except Stale:
            self._reset()
            return self._tree_vjp(route)
        flat_args = tuple(a.copy() if isinstance(a, np.ndarray) else a for a in flat_args)
        args = route[1]

        def pullback(ct):
            try:
                grads = pull(*flat_args, cotangent(derived, ct, value))
            except Stale:
                self._reset()
                return self._tree_vjp(route)[1](ct)
            return gradients(derived, grads, args, per_arg)

        pullback.source = derived.source  # the generated code each call runs
        return output(primal_derived, value), pullback


def _shift(wrt):
    """``wrt`` of a bound method, for its function (``self`` first): positions move by one."""
    if isinstance(wrt, (tuple, list)):
        return tuple(_shift(w) for w in wrt)
    return wrt + 1 if isinstance(wrt, int) and not isinstance(wrt, bool) and wrt >= 0 else wrt


def _plain_object(a):
    """An object flattened by its attributes when named in ``wrt`` (a model)."""
    return T.plain_object(a) and not T.is_tree(a)
