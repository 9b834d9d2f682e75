"""Function -> gast tree, with the user's real file, line and column numbers.

Takes a Python function; returns its ``FunctionDef`` (decorators removed) and a
:class:`SourceInfo` that maps snippet positions back to the user's file and holds the names the
body can see (globals, closure cells, builtins). Refuses, with a located error, anything whose
source cannot be read: builtins, lambdas, functions made by ``exec``, ``*args``/``**kwargs``.
"""

from __future__ import annotations

import builtins
import inspect
import linecache
import textwrap
import types
from dataclasses import dataclass, field

from . import grammar as g
from .errors import SourceUnavailableError, UnsupportedSyntaxError, located


@dataclass
class SourceInfo:
    """Where a parsed function came from, and the names its body can see."""

    func: object
    filename: str
    line_offset: int  # snippet line 1 is file line 1 + line_offset
    col_offset: int  # columns removed by dedent
    globals: dict = field(default_factory=dict)
    closure: dict = field(default_factory=dict)

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


def parse_function(fn):
    """Parse ``fn``'s source: (FunctionDef, SourceInfo). Raises a located AdjointError."""
    fn = inspect.unwrap(fn)
    if not isinstance(fn, types.FunctionType):
        raise _unavailable(fn, "it is not a Python function (a builtin, ufunc or C extension?)",
                           "give it a rule with adjoint.custom_vjp, or wrap it in a def whose "
                           "body adjoint can differentiate")
    code = fn.__code__
    if fn.__name__ == "<lambda>":
        raise UnsupportedSyntaxError(
            "lambdas cannot be differentiated", filename=code.co_filename,
            lineno=code.co_firstlineno,
            hint="define the function with `def` so adjoint can read and transform its body")
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
    args = fdef.args
    if args.kwonlyargs:
        raise info.error(UnsupportedSyntaxError, "keyword-only parameters are not supported",
                         args.kwonlyargs[0], "make them ordinary parameters (before any *)")
    if args.vararg is not None or args.kwarg is not None:
        node = args.vararg or args.kwarg
        raise info.error(UnsupportedSyntaxError, "*args and **kwargs cannot be differentiated",
                         node, "name every parameter explicitly")
    return fdef, info


def _info(fn, code, first, col):
    closure = {}
    if fn.__closure__:
        for name, cell in zip(code.co_freevars, fn.__closure__):
            try:
                closure[name] = cell.cell_contents
            except ValueError:  # an empty cell: the name is not bound yet
                pass
    return SourceInfo(func=fn, filename=code.co_filename, line_offset=first - 1,
                      col_offset=col, globals=fn.__globals__, closure=closure)
