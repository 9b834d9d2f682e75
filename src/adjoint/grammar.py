"""The one module that names gast node classes (and re-exports the fast generic walks and
copies of :mod:`adjoint.traversal`).

Everything else builds and inspects trees through these helpers, so a change in gast's node set
touches only this file. Helpers build nodes with the fields gast 0.5+ requires and copy source
locations where asked.
"""

from __future__ import annotations

import ast
import math
import operator

import gast

# Re-exported node classes, so that passes can `isinstance(node, g.Assign)` without importing
# gast themselves.
from gast import (  # noqa: F401
    Add,
    And,
    AnnAssign,
    Assert,
    Assign,
    AsyncFor,
    AsyncFunctionDef,
    AsyncWith,
    Attribute,
    AugAssign,
    Await,
    BinOp,
    BitAnd,
    BitOr,
    BitXor,
    BoolOp,
    Break,
    Call,
    ClassDef,
    Compare,
    Constant,
    Continue,
    Del,
    Delete,
    Dict,
    DictComp,
    Div,
    Eq,
    Expr,
    FloorDiv,
    For,
    FunctionDef,
    GeneratorExp,
    Global,
    Gt,
    GtE,
    If,
    IfExp,
    Import,
    ImportFrom,
    In,
    Invert,
    Is,
    IsNot,
    JoinedStr,
    Lambda,
    List,
    ListComp,
    Load,
    LShift,
    Lt,
    LtE,
    Match,
    MatMult,
    Mod,
    Module,
    Mult,
    Name,
    NamedExpr,
    Nonlocal,
    Not,
    NotEq,
    NotIn,
    Or,
    Pass,
    Pow,
    Raise,
    Return,
    RShift,
    Set,
    SetComp,
    Slice,
    Starred,
    Store,
    Sub,
    Subscript,
    Try,
    Tuple,
    UAdd,
    UnaryOp,
    USub,
    While,
    With,
    Yield,
    YieldFrom,
)

# Fast generic traversals (adjoint.traversal), used as g.walk, g.name_nodes, g.clone ...
from .traversal import (  # noqa: F401
    NodeTransformer,
    all_nodes,
    clone,
    name_nodes,
    nodes_of,
    walk,
)

NodeVisitor = gast.NodeVisitor


iter_child_nodes = gast.iter_child_nodes

BINOPS = {
    Add: operator.add, Sub: operator.sub, Mult: operator.mul, Div: operator.truediv,
    Pow: operator.pow, FloorDiv: operator.floordiv, Mod: operator.mod,
    MatMult: operator.matmul, BitAnd: operator.and_, BitOr: operator.or_,
    BitXor: operator.xor, LShift: operator.lshift, RShift: operator.rshift,
}
UNARYOPS = {USub: operator.neg, UAdd: operator.pos, Not: operator.not_, Invert: operator.invert}
CMPOPS = {
    Eq: operator.eq, NotEq: operator.ne, Lt: operator.lt, LtE: operator.le, Gt: operator.gt,
    GtE: operator.ge, Is: operator.is_, IsNot: operator.is_not, In: operator.contains,
    NotIn: operator.contains,
}
_BINOP_BY_FUNC = {v: k for k, v in BINOPS.items()}


def primal_of(expr):
    """The operator function an operator node stands for (BinOp/UnaryOp/Compare), or None."""
    if isinstance(expr, BinOp):
        return BINOPS.get(type(expr.op))
    if isinstance(expr, UnaryOp):
        return UNARYOPS.get(type(expr.op))
    if isinstance(expr, Compare):
        return CMPOPS.get(type(expr.ops[0]))
    return None


# One context object for every node built here (they have no fields and are never changed, as
# in trees that ``ast.parse`` builds): a node fewer per name in memory.
_LOAD, _STORE = gast.Load(), gast.Store()


def name(id_, store=False):
    return gast.Name(id=id_, ctx=_STORE if store else _LOAD, annotation=None,
                     type_comment=None)


def const(value):
    return gast.Constant(value=value, kind=None)


def assign(target, value):
    """``target = value``; ``target`` is a name string or an expression node."""
    if isinstance(target, str):
        target = name(target, store=True)
    return gast.Assign(targets=[target], value=value, type_comment=None)


def call(func, *args, keywords=()):
    if isinstance(func, str):
        func = dotted(func)
    return gast.Call(func=func, args=list(args), keywords=list(keywords))


def keyword(arg, value):
    return gast.keyword(arg=arg, value=value)


def dotted(path):
    """``a.b.c`` as a Load expression."""
    parts = path.split(".")
    node = name(parts[0])
    for part in parts[1:]:
        node = gast.Attribute(value=node, attr=part, ctx=_LOAD)
    return node


def binop(left, op_class, right):
    return gast.BinOp(left=left, op=op_class(), right=right)


def binop_for(func, left, right):
    """The BinOp node for an ``operator`` function (``operator.mul`` -> ``left * right``)."""
    return gast.BinOp(left=left, op=_BINOP_BY_FUNC[func](), right=right)


def unary(op_class, operand):
    return gast.UnaryOp(op=op_class(), operand=operand)


def compare(left, op_class, right):
    return gast.Compare(left=left, ops=[op_class()], comparators=[right])


def subscript(value, index, store=False):
    return gast.Subscript(value=value, slice=index,
                          ctx=_STORE if store else _LOAD)


def tuple_(elts, store=False):
    return gast.Tuple(elts=list(elts), ctx=_STORE if store else _LOAD)


def if_(test, body, orelse=()):
    return gast.If(test=test, body=list(body) or [gast.Pass()], orelse=list(orelse))


def for_(target, iter_, body):
    if isinstance(target, str):
        target = name(target, store=True)
    return gast.For(target=target, iter=iter_, body=list(body), orelse=[], type_comment=None)


def while_(test, body):
    return gast.While(test=test, body=list(body), orelse=[])


def return_(value):
    return gast.Return(value=value)


def expr_stmt(value):
    return gast.Expr(value=value)


def function(name_, params, body, defaults=()):
    args = gast.arguments(
        args=[name(p, store=False) for p in params], posonlyargs=[], vararg=None,
        kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=list(defaults))
    for a in args.args:
        a.ctx = gast.Param()
    return gast.FunctionDef(name=name_, args=args, body=list(body), decorator_list=[],
                            returns=None, type_comment=None, type_params=[])


def module(body):
    return gast.Module(body=list(body), type_ignores=[])


def is_name(node, id_=None):
    return isinstance(node, Name) and (id_ is None or node.id == id_)


def is_const(node, value=...):
    if not isinstance(node, Constant):
        return False
    return value is ... or (type(node.value) is type(value) and node.value == value)


def is_stmt(node):
    return isinstance(node, gast.stmt)


def is_node(x):
    """Whether ``x`` is a syntax node (statement, expression, or a part such as a keyword)."""
    return isinstance(x, gast.AST)


def is_atom(node):
    return isinstance(node, (Name, Constant))


def names_in(node, ctx=None):
    """Ids of the Name nodes under ``node`` (optionally only Load or Store)."""
    out = []
    for n in walk(node):
        if isinstance(n, Name) and (ctx is None or isinstance(n.ctx, ctx)):
            out.append(n.id)
    return out


def assigned_names(stmts):
    """Names bound anywhere in ``stmts`` (assignment targets and loop targets)."""
    out = set()
    for stmt in stmts:
        for n in name_nodes(stmt):
            if isinstance(n.ctx, gast.Store):
                out.add(n.id)
    return out


def copy_location(new, old):
    """Give ``new`` (and its children without locations) ``old``'s location."""
    lineno = getattr(old, "lineno", None)
    origin = getattr(old, "adjoint_origin", None)
    if origin is None and lineno is None:
        return new
    for n in all_nodes(new):
        if origin is not None and isinstance(n, gast.stmt) and not hasattr(n, "adjoint_origin"):
            n.adjoint_origin = origin
        if lineno is not None and (hasattr(n, "lineno") or isinstance(n, (gast.stmt, gast.expr))):
            if getattr(n, "lineno", None) is None:
                n.lineno = lineno
                n.col_offset = getattr(old, "col_offset", 0)
                n.end_lineno = getattr(old, "end_lineno", lineno)
                n.end_col_offset = getattr(old, "end_col_offset", 0)
    return new


def statements(stmts):
    """Every statement in ``stmts``, nested ones included, in program order (expressions are
    not visited)."""
    for stmt in stmts:
        yield stmt
        if isinstance(stmt, If):
            yield from statements(stmt.body)
            yield from statements(stmt.orelse)
        elif isinstance(stmt, (For, While)):
            yield from statements(stmt.body)


def to_python_ast(node):
    """``node`` as a Python ``ast`` tree for ``ast.unparse``, with negative number constants
    below the root written as ``-(c)`` (see :func:`_signed_constants`). The nodes generated
    code is made of are converted directly, others by ``gast.gast_to_ast``, as the same tree."""
    spec = _TO_AST.get(node.__class__, _UNKNOWN)
    if spec is _UNKNOWN:
        spec = _TO_AST[node.__class__] = _ast_spec(node.__class__)
    if spec is None:
        return _signed_constants(gast.gast_to_ast(node))
    cls, fields, cleared = spec
    new = cls()
    for field in fields:
        value = getattr(node, field, None)
        if type(value) is list:
            value = [_unsigned(to_python_ast(v)) if isinstance(v, gast.AST) else v
                     for v in value]
        elif isinstance(value, gast.AST):
            value = _unsigned(to_python_ast(value))
        setattr(new, field, value)
    for field in cleared:
        setattr(new, field, None)
    for attr in _LOCATION:
        value = getattr(node, attr, _UNKNOWN)
        if value is not _UNKNOWN:
            setattr(new, attr, value)
    return new


# gast classes converted field by field (the same fields in gast and ast, but Name's extra
# annotation and type comment); gast_to_ast drops an Assign's type comment, as here.
_DIRECT = {"Assign", "AugAssign", "Expr", "Return", "Pass", "Break", "Continue", "BinOp",
           "UnaryOp", "BoolOp", "Compare", "Call", "keyword", "Attribute", "Subscript",
           "Slice", "Tuple", "List", "Dict", "Constant", "Name", "IfExp", "Starred",
           *(c.__name__ for c in (*BINOPS, *UNARYOPS, *CMPOPS)), "And", "Or", "Load", "Store",
           "Del"}
_LOCATION = ("lineno", "col_offset", "end_lineno", "end_col_offset")
_TO_AST = {}  # gast class -> (ast class, fields to convert, fields set to None), or None
_UNKNOWN = object()


def _ast_spec(cls):
    if cls.__name__ not in _DIRECT or not hasattr(ast, cls.__name__):
        return None
    target = getattr(ast, cls.__name__)
    cleared = ("type_comment",) if cls.__name__ == "Assign" else ()
    return target, tuple(f for f in target._fields if f not in cleared), cleared


def _signed_constants(tree):
    """Negative number constants (ANF folds ``-0.75`` into one atom) become ``-(0.75)``
    unary operations, which ``ast.unparse`` parenthesises where precedence needs it:
    ``Constant(-0.75) ** 2.0`` would print as ``-0.75 ** 2.0``, which means ``-(0.75 ** 2.0)``."""
    for parent in ast.walk(tree):
        for field, value in ast.iter_fields(parent):
            if isinstance(value, list):
                value[:] = [_unsigned(v) for v in value]
            elif isinstance(value, ast.Constant):
                setattr(parent, field, _unsigned(value))
    return tree


def _unsigned(node):
    if isinstance(node, ast.Constant) and type(node.value) in (int, float) and \
            math.copysign(1.0, node.value) < 0:
        return ast.copy_location(ast.UnaryOp(op=ast.USub(), operand=ast.Constant(
            value=-node.value)), node)
    return node


def from_source(source):
    return gast.parse(source)


def unparse(node):
    return ast.unparse(ast.fix_missing_locations(to_python_ast(node)))
