"""Function -> gast tree, with the user's real file, line and column numbers.

Takes a Python function; returns its ``FunctionDef`` (decorators removed) and a
:class:`SourceInfo` that maps snippet positions back to the user's file and holds the names the
body can see (globals, closure cells, builtins) and where each lives (``where``, for reading
globals at call time). Refuses, with a located error, anything whose source cannot be read:
builtins, functions made by ``exec`` (unless their source is in ``linecache``, as a notebook
cell's is), ``*args``/``**kwargs``, a lambda that shares its line with another lambda of the same
parameters.

``parse_callable`` is the entry point for the function a transform is applied to. Besides plain
functions it takes

* a bound method: ``self`` (its first parameter) is a constant, the source is the method's;
* a ``functools.partial``: its bound arguments are constants, the other parameters remain;
* a function with a user rule (``custom_vjp``, ``defvjp``): a one-line wrapper
  ``def f(x): return f(x)`` is parsed instead of its body, so the *rule* is what gets
  differentiated, as it is wherever else the function is called.

``parameters(fn)`` lists the parameters that remain, with their defaults: the signature of a
transform of ``fn``.
"""

from __future__ import annotations

import abc
import builtins
import functools
import inspect
import linecache
import textwrap
import types
from dataclasses import dataclass, field

from . import grammar as g
from .bindings import Cell
from .errors import SourceUnavailableError, UnsupportedSyntaxError, located

SOURCES = "__adjoint_sources__"  # in generated code's namespace: name -> (container, key)


class CodeSource(abc.ABC):
    """A transform's result seen as a source of code (higher order): what a transform of it
    transforms is the code it generated for the argument kinds (``derive_for_kinds(kinds)``,
    a :class:`adjoint.derived.Derived`); ``f`` is the function it transformed.
    :class:`adjoint.api.Transformed` is one; the pipeline knows it only through this class, so
    that it imports nothing from the API above it."""

    @abc.abstractmethod
    def derive_for_kinds(self, kinds):
        """The Derived code for kinds of the generated function's parameters."""


@dataclass
class SourceInfo:
    """Where a parsed function came from, and the names its body can see."""

    func: object
    filename: str
    line_offset: int  # snippet line 1 is file line 1 + line_offset
    col_offset: int  # columns removed by dedent
    globals: dict = field(default_factory=dict)
    closure: dict = field(default_factory=dict)
    cells: dict = field(default_factory=dict)  # closure name -> its cell
    constants: dict = field(default_factory=dict)  # bound self / partial arguments

    def where(self, name):
        """Where a free name of the body lives, as (container, key) read with
        ``container[key]``; None for builtins. Names of generated code resolve to the user's
        namespace they were taken from (code transformed again)."""
        if name in self.constants:
            return self.constants, name
        if name in self.cells and name in self.closure:
            return Cell(self.cells[name]), name
        if name in self.globals:
            outer = self.globals.get(SOURCES)
            if outer is not None and name in outer:
                return outer[name]
            return self.globals, name
        return None

    def lookup(self, name):
        """The object a free name of the body refers to: (found, value)."""
        if name in self.closure:
            return True, self.closure[name]
        if name in self.globals:
            return True, self.globals[name]
        if hasattr(builtins, name):
            return True, getattr(builtins, name)
        return False, None

    def error(self, cls, message, node, hint=None):
        return located(cls, message, node, self, hint)

    def __deepcopy__(self, memo):
        return self  # shared by every node of one function; never mutated


def _unavailable(fn, why, hint):
    code = getattr(fn, "__code__", None)
    return SourceUnavailableError(
        f"cannot read the source of {getattr(fn, '__qualname__', fn)!r}: {why}",
        filename=getattr(code, "co_filename", None),
        lineno=getattr(code, "co_firstlineno", None), hint=hint)


def numba_py_func(obj):
    """The Python function of an ``@numba.njit`` (or ``@numba.jit``) function, else None."""
    if type(obj).__module__.startswith("numba.") and isinstance(
            getattr(obj, "py_func", None), types.FunctionType):
        return obj.py_func
    return None


def parse_function(fn):
    """Parse ``fn``'s source: (FunctionDef, SourceInfo). Raises a located AdjointError."""
    fn = inspect.unwrap(fn)
    fn = numba_py_func(fn) or fn
    if not isinstance(fn, types.FunctionType):
        raise _unavailable(fn, "it is not a Python function (a builtin, ufunc or C extension?)",
                           "give it a rule with adjoint.custom_vjp, or wrap it in a def whose "
                           "body adjoint can differentiate")
    code = fn.__code__
    if fn.__name__ == "<lambda>":
        fdef, info = _parse_lambda(fn)
        return _check_parameters(fdef, info)
    try:
        lines, first = inspect.getsourcelines(fn)
    except (OSError, TypeError) as exc:
        raise _unavailable(fn, str(exc), "define it in a .py file (not exec, eval or an "
                           "interactive prompt without source)") from None
    raw = "".join(lines)
    dedented = textwrap.dedent(raw)
    col = len(lines[0]) - len(lines[0].lstrip()) if lines else 0
    linecache.checkcache(code.co_filename)
    tree = g.from_source(dedented)
    fdef = tree.body[0]
    if isinstance(fdef, g.AsyncFunctionDef):
        raise located(UnsupportedSyntaxError, "async functions cannot be differentiated", fdef,
                      _info(fn, code, first, col), "write a plain (synchronous) def")
    if not isinstance(fdef, g.FunctionDef):
        raise _unavailable(fn, "its source is not a def statement",
                           "define the function with `def`")
    info = _info(fn, code, first, col)
    fdef.decorator_list = []
    return _check_parameters(fdef, info)


def _check_parameters(fdef, info):
    args = fdef.args
    if args.kwonlyargs:
        raise info.error(UnsupportedSyntaxError, "keyword-only parameters are not supported",
                         args.kwonlyargs[0], "make them ordinary parameters (before any *)")
    if args.vararg is not None or args.kwarg is not None:
        node = args.vararg or args.kwarg
        raise info.error(UnsupportedSyntaxError, "*args and **kwargs cannot be differentiated",
                         node, "name every parameter explicitly")
    return fdef, info


def _parse_lambda(fn):
    """A lambda as ``def name(params): return body``, found in its file (or notebook cell, in
    ``linecache``) as the one lambda with its parameters on its first line. ``name`` is the
    variable it is assigned to (``sq = lambda x: x * x``), else ``lambda_``."""
    code = fn.__code__
    lines = linecache.getlines(code.co_filename, fn.__globals__)
    hint = "define the function with `def`, or put the lambda on a line of its own"
    try:
        tree = g.from_source("".join(lines)) if lines else None
    except SyntaxError:
        tree = None
    if tree is None:
        raise _unavailable(fn, "its file cannot be read", hint)
    params = list(code.co_varnames[:code.co_argcount])
    found, names = [], {}
    for node in g.walk(tree):
        if isinstance(node, g.Assign) and len(node.targets) == 1 and isinstance(
                node.targets[0], g.Name) and isinstance(node.value, g.Lambda):
            names[id(node.value)] = node.targets[0].id
        if isinstance(node, g.Lambda) and node.lineno == code.co_firstlineno and [
                a.id for a in node.args.args] == params:
            found.append(node)
    if len(found) != 1:
        raise UnsupportedSyntaxError(
            f"cannot tell which of {len(found)} lambdas on this line is the function to "
            "differentiate" if found else "cannot find the source of this lambda",
            filename=code.co_filename, lineno=code.co_firstlineno, hint=hint)
    lam = found[0]
    ret = g.copy_location(g.return_(lam.body), lam.body)
    fdef = g.copy_location(g.function(names.get(id(lam), "lambda_"), [], [ret]), lam)
    fdef.args = lam.args
    return fdef, _info(fn, code, 1, 0)


def _info(fn, code, first, col):
    closure, cells = {}, {}
    if fn.__closure__:
        for name, cell in zip(code.co_freevars, fn.__closure__):
            cells[name] = cell
            try:
                closure[name] = cell.cell_contents
            except ValueError:  # an empty cell: the name is not bound yet
                pass
    return SourceInfo(func=fn, filename=code.co_filename, line_offset=first - 1,
                      col_offset=col, globals=fn.__globals__, closure=closure, cells=cells)


def _peel(fn):
    """(the callable under bound methods and partials, {parameter: bound constant})."""
    if isinstance(fn, functools.partial):
        inner, constants = _peel(fn.func)
        free = [p for p in _own_parameters(inner) if p not in constants]
        if len(fn.args) > len(free):
            raise TypeError(f"{fn!r} binds {len(fn.args)} positional argument(s), but the "
                            f"function takes {len(free)}")
        unknown = set(fn.keywords) - set(free)
        if unknown:
            raise TypeError(f"{fn!r} binds unknown or repeated parameter(s) "
                            f"{', '.join(sorted(unknown))}")
        return inner, {**constants, **dict(zip(free, fn.args)), **fn.keywords}
    if numba_py_func(fn) is not None and _rule_of(fn) is None:
        return _peel(fn.py_func)
    if isinstance(fn, types.MethodType):
        inner, constants = _peel(fn.__func__)
        free = [p for p in _own_parameters(inner) if p not in constants]
        if not free:
            raise TypeError(f"{fn!r} has no parameter to bind its instance to")
        return inner, {**constants, free[0]: fn.__self__}
    return fn, {}


def _rule_of(fn):
    from .rules import registry
    rule = registry.lookup(fn)
    return rule if rule is not None and rule.custom is not None else None


def _own_parameters(fn):
    """(name, default or inspect.Parameter.empty) of a peeled callable, in order."""
    rule = _rule_of(fn)
    if rule is not None:
        target = getattr(fn, "fn", fn)
        try:
            sig = inspect.signature(target)
        except (TypeError, ValueError):
            return {p: inspect.Parameter.empty for p in rule.params}
        return {p: sig.parameters[p].default if p in sig.parameters else
                inspect.Parameter.empty for p in rule.params}
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return {}
    return {p.name: p.default for p in sig.parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)}


def parameters(fn):
    """The parameters of ``fn`` a transform's caller passes: {name: default or
    ``inspect.Parameter.empty``}, in order (bound ``self`` and partial arguments left out)."""
    inner, constants = _peel(fn)
    return {p: d for p, d in _own_parameters(inner).items() if p not in constants}


def parse_callable(fn):
    """Parse the function a transform is applied to: (FunctionDef, SourceInfo). Bound
    methods and partials have their bound parameters removed (constants of the body); a
    function with a user rule is parsed as a call of itself (see the module docstring)."""
    inner, constants = _peel(fn)
    rule = _rule_of(inner)
    fdef, info = _rule_wrapper(inner, rule) if rule is not None else parse_function(inner)
    if constants:
        rebound = sorted(set(constants) & g.assigned_names(fdef.body))
        if rebound:
            raise info.error(UnsupportedSyntaxError,
                             f"{rebound[0]!r} is bound by the method or functools.partial, and "
                             "the body assigns to it", fdef,
                             f"use another local name for the new value of {rebound[0]}")
        kept = [(a, d) for a, d in zip(fdef.args.args, [None] * (
            len(fdef.args.args) - len(fdef.args.defaults)) + list(fdef.args.defaults))
            if a.id not in constants]
        fdef.args.args = [a for a, _ in kept]
        fdef.args.defaults = [d for _, d in kept if d is not None]
        info.constants = dict(constants)
        info.closure = {**info.closure, **constants}
    return fdef, info


def _rule_wrapper(fn, rule):
    """``def name(params): return name(params)``, on the line of ``fn``'s def, seeing only
    ``fn``: differentiating it applies ``fn``'s rule."""
    target = inspect.unwrap(fn)
    name = getattr(fn, "__name__", "primal")
    if not name.isidentifier() or name in rule.params:
        name = "primal"
    params = ", ".join(rule.params)
    fdef = g.from_source(f"def {name}({params}): return {name}({params})\n").body[0]
    code = getattr(target, "__code__", None)
    filename, offset = "<adjoint rule wrapper>", 0
    if code is not None:
        filename = code.co_filename
        try:
            lines, first = inspect.getsourcelines(target)
            offset = first - 1 + next(
                (k for k, line in enumerate(lines) if line.lstrip().startswith("def ")), 0)
        except (OSError, TypeError):
            offset = code.co_firstlineno - 1
    info = SourceInfo(func=target, filename=filename, line_offset=offset, col_offset=0,
                      globals={name: fn})
    return fdef, info
