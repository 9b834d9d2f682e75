"""The one module that names gast node classes.

Everything else builds and inspects trees through these helpers, so a change in gast's node set
touches only this file. Helpers build nodes with the fields gast 0.5+ requires and copy source
locations where asked.
"""

from __future__ import annotations

import ast
import copy
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

NodeVisitor = gast.NodeVisitor


def walk(node):
    """Every node of ``node``'s tree, ``node`` first, in the breadth-first order of
    ``ast.walk`` (children are listed before their parent is yielded), several times faster:
    the fields of each node class that may hold nodes are looked up once."""
    todo = [node]
    k = 0
    while k < len(todo):
        n = todo[k]
        k += 1
        cls = n.__class__
        fields = _CHILD_FIELDS.get(cls)
        if fields is None:
            fields = _CHILD_FIELDS[cls] = _child_fields(cls)
        for field in fields:
            value = getattr(n, field, None)
            if isinstance(value, ast.AST):
                todo.append(value)
            elif isinstance(value, list):
                for v in value:
                    if isinstance(v, ast.AST):
                        todo.append(v)
        yield n


class NodeTransformer(gast.NodeTransformer):
    """``ast.NodeTransformer`` with the same semantics, a few times faster where little
    changes: a list field is rebuilt only from its first replaced element, the method for each
    node class is looked up once per transformer class, and contexts (``Load``, ``Store``),
    which have no fields, are not visited (a ``visit_Load`` would not be called)."""

    def visit(self, node):
        key = (self.__class__, node.__class__)
        method = _VISIT_METHODS.get(key)
        if method is None:
            method = getattr(self.__class__, "visit_" + node.__class__.__name__,
                             self.__class__.generic_visit)
            if method is ast.NodeVisitor.visit_Constant:
                method = self.__class__.generic_visit  # (it looks for visit_Num & co. first)
            if method is NodeTransformer.generic_visit and not any(
                    f != "ctx" for f in _child_fields(node.__class__)):
                method = _unchanged  # nothing to visit inside
            _VISIT_METHODS[key] = method
        return method(self, node)

    def generic_visit(self, node):
        cls = node.__class__
        fields = _CHILD_FIELDS.get(cls)
        if fields is None:
            fields = _CHILD_FIELDS[cls] = _child_fields(cls)
        for field in fields:
            if field == "ctx":
                continue
            old = getattr(node, field, None)
            if isinstance(old, list):
                new_values = None  # stays None while every element is kept as it is
                for k, value in enumerate(old):
                    if isinstance(value, ast.AST):
                        new = self.visit(value)
                        if new is value and new_values is None:
                            continue
                        if new_values is None:
                            new_values = old[:k]
                        if new is None:
                            continue
                        if not isinstance(new, ast.AST):
                            new_values.extend(new)
                            continue
                        value = new
                    if new_values is not None:
                        new_values.append(value)
                if new_values is not None:
                    old[:] = new_values
            elif isinstance(old, ast.AST):
                new = self.visit(old)
                if new is None:
                    delattr(node, field)
                elif new is not old:
                    setattr(node, field, new)
        return node


_VISIT_METHODS = {}  # (transformer class, node class) -> the method visiting that node class


def _unchanged(transformer, node):
    return node


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


def name_nodes(node):
    """The Name nodes of ``node``'s tree (``node`` included), in no particular order: what
    ``[n for n in walk(node) if isinstance(n, Name)]`` gives, a few times faster."""
    out = []
    stack = [node]
    pop, push, extend = stack.pop, stack.append, stack.extend
    fields_of = _NAME_FIELDS
    while stack:
        n = pop()
        cls = n.__class__
        if cls is Name:
            out.append(n)
            annotation = getattr(n, "annotation", None)
            if annotation is not None:  # a parameter's annotation
                push(annotation)
            continue
        fields = fields_of.get(cls)
        if fields is None:
            fields = fields_of[cls] = _name_fields(cls)
        for field in fields:
            value = getattr(n, field, None)
            if value is None:
                continue
            if type(value) is list:
                extend(value)  # strings and None in a list have no fields: skipped when popped
            else:
                push(value)
    return out


def nodes_of(node, classes):
    """The nodes of ``node``'s tree (``node`` included) whose class is one of ``classes``, in
    no particular order: what ``[n for n in walk(node) if type(n) in classes]`` gives (for
    classes other than the contexts ``Load``/``Store``, which are not visited), a few times
    faster."""
    out = []
    stack = [node]
    pop, push, extend = stack.pop, stack.append, stack.extend
    fields_of = _NAME_FIELDS
    while stack:
        n = pop()
        cls = n.__class__
        if cls in classes:
            out.append(n)
        fields = fields_of.get(cls)
        if fields is None:
            fields = fields_of[cls] = _name_fields(cls)
        for field in fields:
            value = getattr(n, field, None)
            if value is None:
                continue
            if type(value) is list:
                extend(value)
            else:
                push(value)
    return out


def _child_fields(cls):
    """The fields of the node class ``cls`` that may hold a node (contexts included)."""
    if cls is Constant:
        return ()  # its value is a Python constant
    return tuple(f for f in getattr(cls, "_fields", ()) if f not in _LEAF_FIELDS - {"ctx"})


def _name_fields(cls):
    """The fields of ``cls`` that may hold a Name (none, for what is not a node class)."""
    if cls is Constant or not isinstance(cls, type) or not issubclass(cls, ast.AST):
        return ()
    return tuple(f for f in cls._fields if f not in _LEAF_FIELDS)


_LEAF_FIELDS = {"ctx", "id", "attr", "type_comment", "kind"}  # never hold a Name
_NAME_FIELDS = {}  # node class -> the fields that may hold a Name
_CHILD_FIELDS = {}  # node class -> the fields that may hold a node (walk)


def clone(node):
    """A deep copy of ``node``, exactly as ``copy.deepcopy`` makes it (a sub-node reached
    twice is copied once; attributes that are not nodes are deep-copied too), several times
    faster on syntax trees."""
    return _clone(node, {})


_ATOMIC = {str, int, float, complex, bool, bytes, type(None), type(Ellipsis)}


def _clone(x, memo):
    if type(x) in _ATOMIC:
        return x
    y = memo.get(id(x))
    if y is not None:
        return y
    if isinstance(x, ast.AST):
        y = memo[id(x)] = x.__class__.__new__(x.__class__)
        fields = y.__dict__
        for key, value in x.__dict__.items():
            fields[key] = _clone(value, memo)
        return y
    if type(x) is list:
        y = memo[id(x)] = []
        for value in x:
            y.append(_clone(value, memo))
        return y
    return copy.deepcopy(x, memo)


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


def all_nodes(node):
    """Every node of ``node``'s tree (``node`` included), as ``walk`` visits them but in
    another order, and a few times faster."""
    out = [node]
    stack = [node]
    while stack:
        n = stack.pop()
        for field in n._fields:
            value = getattr(n, field, None)
            if isinstance(value, ast.AST):
                out.append(value)
                stack.append(value)
            elif isinstance(value, list):
                children = [v for v in value if isinstance(v, ast.AST)]
                out += children
                stack += children
    return out


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
    return _signed_constants(gast.gast_to_ast(node))


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
