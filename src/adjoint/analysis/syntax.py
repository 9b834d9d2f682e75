"""Refuse syntax outside the differentiable subset, before any transformation runs.

Takes a parsed ``FunctionDef`` and its SourceInfo; returns nothing, or raises an
``UnsupportedSyntaxError`` located at the first offending node, whose hint says what to write
instead. After this check, later passes may assume the tree uses only: assignments (plain,
augmented, tuple-unpacking), ``if``/``for``/``while`` without ``else``, ``break``, ``continue``,
``return``, ``pass``, ``assert``, and expressions built from names, constants, operators,
comparisons, boolean operators, conditional expressions, calls, attributes, subscripts, slices,
tuples, lists, list comprehensions and generator expressions (the last two are desugared into
loops by :mod:`adjoint.transforms.comprehensions`, which refuses the uses it cannot turn into
loops).
"""

from __future__ import annotations

from .. import grammar as g
from ..errors import UnsupportedSyntaxError

_REFUSED = {
    g.Try: ("try/except", "move error handling outside the function you differentiate"),
    g.With: ("with blocks", "move the context manager outside the differentiated function"),
    g.AsyncWith: ("async with", "write synchronous code"),
    g.AsyncFor: ("async for", "write synchronous code"),
    g.Await: ("await", "write synchronous code"),
    g.Global: ("global", "pass the value in as an argument and return what you compute"),
    g.Nonlocal: ("nonlocal", "pass the value in as an argument and return what you compute"),
    g.Yield: ("generators (yield)", "return a value (or an array of values) instead"),
    g.YieldFrom: ("generators (yield from)", "return a value instead"),
    g.ClassDef: ("class definitions", "define classes outside the differentiated function"),
    g.Delete: ("del", "drop the del; let the variable go out of scope"),
    g.Import: ("import inside the function", "import at module level"),
    g.ImportFrom: ("import inside the function", "import at module level"),
    g.Raise: ("raise", "validate inputs before calling the gradient"),
    g.SetComp: ("set comprehensions", "write a for loop"),
    g.DictComp: ("dict comprehensions", "write a for loop"),
    g.Dict: ("dict displays here (a dict is a tree only in a function that takes or returns "
             "trees)", "return the dict from the function you differentiate, or pass trees to "
             "this helper; or use separate variables"),
    g.Set: ("set literals", "use arrays"),
    g.JoinedStr: ("f-strings outside print(...) and assert messages",
                  "remove string formatting from the differentiated function"),
    g.NamedExpr: ("assignment expressions (:=)", "assign on a separate line"),
    g.Starred: ("starred expressions", "pass arguments explicitly"),
    g.Match: ("match statements", "use if/elif/else"),
}


def check_syntax(fdef, info):
    """Raise UnsupportedSyntaxError at the first construct adjoint does not support."""
    for stmt in fdef.body:
        messages = {id(part) for n in g.walk(stmt) for m in _messages(n)
                    for part in g.walk(m) if isinstance(part, g.JoinedStr)}
        for node in g.walk(stmt):
            if id(node) in messages:
                continue
            entry = _REFUSED.get(type(node))
            if entry is not None:
                what, hint = entry
                raise info.error(UnsupportedSyntaxError,
                                 f"{what} cannot be differentiated by adjoint", node, hint)
            if isinstance(node, (g.For, g.While)) and node.orelse:
                kind = "for" if isinstance(node, g.For) else "while"
                raise info.error(UnsupportedSyntaxError, f"{kind}/else cannot be differentiated",
                                 node, "use a flag variable set before break instead of else")
            if isinstance(node, g.Expr) and not isinstance(
                    node.value, (g.Constant, g.Yield, g.YieldFrom, g.Await, g.Call)):
                raise info.error(
                    UnsupportedSyntaxError,
                    "an expression statement that is not a call does nothing", node,
                    "drop it, or assign the value to a variable")
            if isinstance(node, g.AnnAssign):
                raise info.error(UnsupportedSyntaxError, "annotated assignments are not "
                                 "supported", node, "drop the annotation: `x = value`")
            if isinstance(node, g.Attribute) and isinstance(node.ctx, g.Store):
                raise info.error(UnsupportedSyntaxError, "assigning to attributes is not "
                                 "supported", node, "use local variables and arrays")


def _messages(node):
    """f-strings that are an argument of ``print`` or the message of ``assert``: allowed (they
    only format values; ANF makes their parts atoms)."""
    if isinstance(node, g.Assert) and isinstance(node.msg, g.JoinedStr):
        return [node.msg]
    if isinstance(node, g.Call) and g.is_name(node.func, "print"):
        return [a for a in node.args if isinstance(a, g.JoinedStr)]
    return []


def is_list_append(stmt):
    """``name.append(value)`` — a list used as a stack (the tapes of generated code)."""
    v = stmt.value if isinstance(stmt, g.Expr) else None
    return (isinstance(v, g.Call) and isinstance(v.func, g.Attribute)
            and v.func.attr == "append" and isinstance(v.func.value, g.Name)
            and len(v.args) == 1 and not v.keywords)


def is_helper_call(stmt, info):
    """``helper(...)`` as a statement, ``helper`` a plain Python function of the user's: it is
    inlined, so what it writes into its array arguments is seen (its result is dropped)."""
    from ..transforms.inline import peel_callable
    from .activity import resolve
    v = stmt.value if isinstance(stmt, g.Expr) else None
    if not isinstance(v, g.Call) or not isinstance(v.func, (g.Name, g.Attribute)):
        return False
    found, obj = resolve(v.func, info)
    return found and peel_callable(obj) is not None
