"""InlineCalls: calls to plain user functions are replaced by their normalized bodies.

Takes an ANF body; returns one in which no statement calls a user-defined Python function that
has no derivative rule — a plain function, a ``functools.partial`` of one (bound values become
constants), an ``@numba.njit`` function (its ``.py_func``), a lambda, a function defined in the
body (:mod:`.local_functions`), or a ``grad``/``value_and_grad`` transform (its generated
function: a gradient penalty differentiates a gradient). Each callee is parsed, checked and
normalized like the root function, its own calls inlined first, its local names renamed to fresh
names of the caller (hygiene), and its globals bound in the shared namespace (aliased on
clashes). Recursion is inlined only with int arguments known at the call: they are substituted
into the callee (:mod:`.specialize`), so the recursion ends where Python's does; other
recursion, or deeper than ``MAX_DEPTH`` calls, is refused. A tuple or list literal argument
becomes one parameter per element. ``value_parameters`` says which arguments of a transformed
function select its code (the int arguments of a recursive function). A library callee
(installed package or standard library) that cannot be normalized is refused at the user's call,
with ``adjoint.defvjp`` as the way out — not at a line of the library. A callee returning a
tuple binds a *static* tuple: later ``t[0]`` reads become plain copies, so no tuple exists at
run time.

    def sq(u):             y = sq(x) + 1      ->     u = x
        return u * u                                 result = u * u
                                                     t = result
                                                     y = t + 1
"""

from __future__ import annotations

import functools
import inspect
import sysconfig
import types

from .. import grammar as g
from ..analysis.activity import dotted_name, resolve
from ..analysis.syntax import check_syntax
from ..errors import AdjointError, NoRuleError, UnsupportedSyntaxError
from ..rules import registry
from ..source import numba_py_func, parse_callable, parse_function
from .local_functions import LocalFunction, local_functions
from .specialize import recursive, specialize_ints
from .tree_expressions import Specialized

MAX_DEPTH = 64  # calls inlined into each other, recursion included


def is_user_function(obj):
    """A plain Python function to differentiate through its source (not adjoint's own helpers,
    which are differentiated by their rules or not at all), or one specialised for the trees
    a call passes it (:class:`adjoint.transforms.structures.Specialized`)."""
    if isinstance(obj, Specialized):
        return True
    return (isinstance(obj, types.FunctionType) and registry.lookup(obj) is None
            and not (obj.__module__ or "").startswith("adjoint."))


def peel_callable(obj):
    """``(function, bound positional values, bound keyword values)`` for a callable whose
    source adjoint inlines: a plain user function, a ``functools.partial`` of one (its bound
    arguments are constants of the call), or an ``@numba.njit`` function (its Python source,
    ``.py_func``; under ``jit=True`` the inlined code is compiled with the rest). None for
    anything else."""
    if isinstance(obj, functools.partial):
        inner = peel_callable(obj.func)
        if inner is None:
            return None
        fn, args, keywords = inner
        return fn, args + list(obj.args), {**keywords, **obj.keywords}
    if registry.lookup(obj) is None:
        obj = numba_py_func(obj) or obj
    inlined_code = getattr(obj, "inlined_code", None)  # a transform: its generated function
    if callable(inlined_code) and not isinstance(obj, types.FunctionType):
        obj = inlined_code()
    return (obj, [], {}) if is_user_function(obj) else None


def value_parameters(fn):
    """Positions of the parameters whose int values the code for ``fn`` is specialised to: all
    of them when ``fn`` is recursive or calls a recursive function (the recursion is inlined as
    deep as the values take it); empty for other functions (and for anything that cannot be
    parsed here: the transform reports that when it is called)."""
    try:
        fdef, info = parse_callable(fn)
        calls_recursive = any(  # itself (not a custom_vjp's wrapper: that calls its rule)
            _is_recursive_callee(node.func, info) or node.func.id == fdef.name and
            peel_callable(info.lookup(fdef.name)[1]) is not None and recursive(fdef)
            for node in g.walk(fdef)
            if isinstance(node, g.Call) and isinstance(node.func, g.Name))
    except (AdjointError, TypeError, ValueError):
        return frozenset()
    return frozenset(range(len(fdef.args.args))) if calls_recursive else frozenset()


def _is_recursive_callee(func, info):
    found, obj = info.lookup(func.id)
    peeled = peel_callable(obj) if found else None
    if peeled is None:
        return False
    callee, _ = parse_function(peeled[0])
    return recursive(callee)


def _library_dirs():
    paths = sysconfig.get_paths()
    return tuple({paths[k] for k in ("stdlib", "platstdlib", "purelib", "platlib") if k in paths})


_LIBRARY_DIRS = _library_dirs()


def _is_library(fn):
    """Whether ``fn`` comes from an installed package or the standard library."""
    fn = getattr(fn, "fn", fn)  # a Specialized callee: the function it specialises
    return fn.__code__.co_filename.startswith(_LIBRARY_DIRS)


class InlineCalls:
    def __init__(self, ctx, normalize, stack=(), local_functions=None):
        self.ctx = ctx
        self.normalize = normalize  # fdef, info -> normalized (ANF) fdef, local names
        self.stack = tuple(stack)
        self.local_functions = dict(local_functions or {})  # defined in the function

    def __call__(self, body, info, local_names):
        self.info = info
        self.locals = local_names
        self.tuples = {}
        return self._block(body)

    def _block(self, stmts):
        out = []
        for stmt in stmts:
            if isinstance(stmt, g.Assign) and isinstance(stmt.targets[0], g.Name):
                value = stmt.value
                if isinstance(value, g.Call) and isinstance(value.func, g.Name) and \
                        value.func.id in self.local_functions and \
                        value.func.id not in self.locals:
                    out.extend(self._inline(stmt, self.local_functions[value.func.id]))
                    continue
                if isinstance(value, g.Call):
                    found, obj = resolve(value.func, self.info) if not self._is_method(
                        value) else (False, None)
                    peeled = peel_callable(obj) if found else None
                    if peeled is not None:
                        out.extend(self._inline(stmt, *peeled))
                        continue
                if isinstance(value, g.Subscript) and isinstance(value.value, g.Name) and \
                        value.value.id in self.tuples and g.is_const(value.slice):
                    parts = self.tuples[value.value.id]
                    k = value.slice.value
                    if not isinstance(k, int) or not -len(parts) <= k < len(parts):
                        raise self.ctx.error(UnsupportedSyntaxError, "tuple index out of range",
                                             stmt, "index the returned tuple with 0.."
                                             f"{len(parts) - 1}")
                    stmt.value = g.name(parts[k])
                if isinstance(value, g.Name) and value.id in self.tuples:
                    self.tuples[stmt.targets[0].id] = self.tuples[value.id]
            elif isinstance(stmt, g.If):
                stmt.body = self._block(stmt.body)
                stmt.orelse = self._block(stmt.orelse)
            elif isinstance(stmt, (g.For, g.While)):
                stmt.body = self._block(stmt.body)
            self._check_tuple_use(stmt)
            out.append(stmt)
        return out

    def _is_method(self, call):
        f = call.func
        return isinstance(f, g.Attribute) and isinstance(f.value, g.Name) and \
            f.value.id in self.locals

    def _check_tuple_use(self, stmt):
        if not self.tuples:
            return
        for node in g.walk(stmt):
            if isinstance(node, g.Name) and node.id in self.tuples and \
                    isinstance(node.ctx, g.Load) and not (
                    isinstance(stmt, g.Assign) and stmt.value is node):
                if isinstance(stmt, g.Return):
                    continue
                raise self.ctx.error(
                    UnsupportedSyntaxError,
                    f"the tuple returned by a helper ({node.id}) can only be unpacked or "
                    "indexed with a constant", stmt, "unpack it: `a, b = helper(x)`")

    def _inline(self, stmt, fn, bound_args=(), bound_keywords=None):
        binding = self._bind(stmt, fn, bound_args, bound_keywords or {})
        try:
            local = isinstance(fn, LocalFunction)
            fdef, info = fn.parse() if local or isinstance(fn, Specialized) else \
                parse_function(fn)
            check_syntax(fdef, info)
            _unpack_literal_arguments(fdef, binding)
            key = self._specialize(stmt, fn, fdef, binding)
            if not fdef.body or not isinstance(fdef.body[-1], g.Return):
                # falling off the end returns None (a helper called for its side effect)
                fdef.body.append(g.copy_location(g.return_(g.const(None)), fdef.body[-1]))
            for node in g.walk(fdef):
                if g.is_stmt(node):
                    node.adjoint_origin = info  # errors in the callee point at its file
            fdef, callee_locals = self.normalize(fdef, info)
            # Rename every callee local to a fresh caller name, before the callee's own calls
            # are inlined: their locals then get names distinct from these.
            params = [a.id for a in fdef.args.args]
            renames = {name: self.ctx.namer.fresh(name) for name in sorted(callee_locals)}
            for s in fdef.body:
                for node in g.walk(s):
                    if isinstance(node, g.Name) and node.id in renames:
                        node.id = renames[node.id]
            visible = {**(self.local_functions if local else {}), **local_functions(fdef)}
            body = InlineCalls(self.ctx, self.normalize, self.stack + (key,), visible)(
                fdef.body, info, set(renames.values()))
        except AdjointError as err:
            if isinstance(fn, LocalFunction) or not _is_library(fn):
                raise
            name = dotted_name(stmt.value.func)  # as the user wrote it
            raise self.ctx.error(
                NoRuleError, f"adjoint has no derivative rule for {name}, and cannot "
                f"differentiate its source: {err.message} ({err.filename}, line {err.lineno})",
                stmt, f"register a rule: adjoint.defvjp({name}, bwd) with bwd(*inputs, out, g) "
                "returning one cotangent per input; or wrap the call in "
                "adjoint.stop_gradient(...) if its derivative should be zero") from err
        self.ctx.collect_globals(body, set(renames.values()), info)
        out = [g.copy_location(g.assign(renames[p], binding[p]), stmt) for p in params]
        ret = body[-1]
        assert isinstance(ret, g.Return)
        out.extend(body[:-1])
        target = stmt.targets[0].id
        if isinstance(ret.value, g.Tuple):
            self.tuples[target] = [e.id for e in ret.value.elts]
            for e in ret.value.elts:
                if not isinstance(e, g.Name):
                    raise self.ctx.error(UnsupportedSyntaxError, "internal: tuple of non-names",
                                         stmt, None)
        else:
            out.append(g.copy_location(g.assign(target, ret.value), stmt))
        self.locals |= set(renames.values())
        return out

    def _specialize(self, stmt, fn, fdef, binding):
        """The key of this inlining on the stack of calls being inlined: the function, and
        for a recursive one the values of its int arguments, which are substituted into its
        body (:mod:`.specialize`) so that the recursion ends where Python's does."""
        ints = {p: v.value for p, v in binding.items()
                if isinstance(v, g.Constant) and type(v.value) is int}
        is_recursive = recursive(fdef) or any(k[0] is fn for k in self.stack)
        key = (fn, tuple(sorted(ints.items())) if is_recursive else ())
        if key in self.stack or len(self.stack) >= MAX_DEPTH or (is_recursive and not ints):
            deep = len(self.stack) >= MAX_DEPTH
            raise self.ctx.error(
                UnsupportedSyntaxError,
                f"recursive call to {fn.__name__} cannot be differentiated" + (
                    f": it recurses deeper than {MAX_DEPTH} calls" if deep else ""),
                stmt, "rewrite the recursion as a loop; recursion is differentiated when "
                "an int argument known where it is called (a literal, or an int argument of "
                "the function you differentiate) bounds its depth")
        if is_recursive:
            specialize_ints(fdef, ints)
        return key

    def _bind(self, stmt, fn, bound_args, bound_keywords):
        call = stmt.value
        sig = fn.signature if isinstance(fn, Specialized) else inspect.signature(fn)
        prefix = [self._constant(fn, v) for v in bound_args]
        keywords = {k: self._constant(fn, v) for k, v in bound_keywords.items()}
        keywords.update({k.arg: k.value for k in call.keywords})
        try:
            bound = sig.bind(*prefix, *call.args, **keywords)
        except TypeError as exc:
            raise self.ctx.error(UnsupportedSyntaxError, f"bad call to {fn.__name__}: {exc}",
                                 stmt, "check the arguments") from None
        values = {}
        for name, param in sig.parameters.items():
            if name in bound.arguments:
                values[name] = bound.arguments[name]
            else:
                default = param.default
                if not isinstance(default, (int, float, bool, type(None), str)):
                    raise self.ctx.error(
                        UnsupportedSyntaxError,
                        f"{fn.__name__}: default value of {name!r} is not a constant", stmt,
                        "pass the argument explicitly")
                values[name] = g.const(default)
        return values

    def _constant(self, fn, value):
        """An atom for a value bound by a ``functools.partial``."""
        if isinstance(value, (int, float, bool, str, type(None))):
            return g.const(value)
        base = fn.__name__ if fn.__name__.isidentifier() else "lambda"
        return g.name(self.ctx.bind_global(self.ctx.namer.fresh(f"{base}_bound"), value))


def _unpack_literal_arguments(fdef, binding):
    """A parameter bound to a tuple or list literal of atoms (``helper((a, b))``) becomes one
    parameter per element, and the body starts by building the literal from them, so that
    :mod:`.literals` can split it like a literal of the callee's own."""
    taken = g.assigned_names(fdef.body) | {a.id for a in fdef.args.args} | set(
        g.names_in(fdef))
    for p, value in list(binding.items()):
        if not isinstance(value, (g.Tuple, g.List)) or not all(
                isinstance(e, (g.Name, g.Constant)) for e in value.elts):
            continue
        parts = []
        for k in range(len(value.elts)):
            name, n = f"{p}_{k}", 0
            while name in taken:
                n += 1
                name = f"{p}_{k}_{n}"
            taken.add(name)
            parts.append(name)
        position = [a.id for a in fdef.args.args].index(p)
        fdef.args.args[position:position + 1] = g.function(p, parts, []).args.args
        literal = type(value)(elts=[g.name(q) for q in parts], ctx=g.Load())
        fdef.body.insert(0, g.copy_location(g.assign(p, literal), fdef.body[0]))
        del binding[p]
        binding.update(zip(parts, value.elts))
