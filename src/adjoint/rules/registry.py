"""The one registry of derivative rules, keyed by the primal object.

A rule is written as a small *template function* in plain Python. Its first parameter names the
primal's result, the others name the primal's parameters (with the primal's defaults)::

    @vjp(math.hypot)
    def hypot(z, x, y):
        '''d hypot(x, y) = (x dx + y dy) / z'''
        d[x] = d[z] * x / z
        d[y] = d[z] * y / z

``d[name]`` is "the adjoint of name" (reverse mode) or "the tangent of name" (forward mode). A
reverse rule *assigns* the contribution of ``d[z]`` to each argument; the transformer alone
decides whether that contribution initialises or accumulates. A forward rule assigns ``d[z]``.

Most functions are elementwise; for them one template gives both modes. It returns the partial
derivative with respect to each argument (a tuple for several)::

    @elementwise(math.atan2, np.arctan2)
    def atan2(z, y, x):
        '''d atan2(y, x) = (x dy - y dx) / (x² + y²)'''
        r = x * x + y * y
        return x / r, -y / r

With ``broadcast=True`` (NumPy functions and operators) each reverse contribution is wrapped in
``unbroadcast(..., arg)``, which sums it back to the argument's shape; the optimizer removes the
call where shapes are provably equal.

Templates may name only their parameters, ``d``, their own temporaries, ``np``, ``math``, the
builtins, and the helpers of :mod:`adjoint.runtime`; this is checked when the rule is registered,
so a typo in a rule fails at import time, not in a user's gradient.

Functions whose output carries no derivative (``len``, ``np.argmax``, ``np.zeros``, ``math.floor``)
are registered with :func:`nondiff`; their results are inactive.
"""

from __future__ import annotations

import builtins
import inspect
import textwrap
from dataclasses import dataclass, field

import gast
import numpy as np

from .. import runtime

TEMPLATE_GLOBALS = frozenset({"np", "math", "d"}) | frozenset(runtime.__all__)


@dataclass
class Rule:
    """Everything adjoint knows about differentiating one primal object."""

    primal: object
    name: str  # how the docs call it, e.g. "math.sin"
    params: tuple = ()  # the primal's parameter names, in order (placeholders)
    defaults: dict = field(default_factory=dict)  # param -> gast expression of its default
    vjp: list | None = None  # template statements (gast), or None
    jvp: list | None = None
    partials: list | None = None  # elementwise: statements ending in `return partials`
    broadcast: bool = False  # elementwise: wrap reverse contributions in unbroadcast
    nondiff: bool = False  # the output is inactive
    doc: str = ""
    result: str = "z"  # the result placeholder's name
    custom: object = None  # a user's bwd(*inputs, out, g) function (custom_vjp / defvjp)
    # custom rules: positions of the inputs with tangents -> a function of (*inputs, out, g,
    # *their tangents) giving the output's tangent (derived from bwd by the custom module)
    custom_tangent: object = None
    tuple_result: bool = False  # returns a tuple: its adjoint is a tuple of element adjoints
    sequences: frozenset = frozenset()  # params taking a list of arrays as such (concatenate)

    @property
    def differentiable(self):
        return not self.nondiff


_RULES: dict = {}  # id(primal) -> Rule  (ufuncs and builtins are not all weak-referenceable)
_KEEP: dict = {}  # id(primal) -> primal, keeps ids valid for the life of the process
_METHODS: dict = {}  # array method name -> primal object (x.sum(...) -> np.sum)
_ATTRIBUTES: dict = {}  # array attribute name -> primal object (x.T -> np.transpose)


_UFUNC_METHODS: dict = {}  # (ufunc name, method name) -> the bound method rules are keyed by


def lookup(obj):
    """The rule registered for ``obj``, or None. A ufunc's method (``np.add.reduce``) is a new
    object at each attribute access: it is found by the ufunc's and the method's names."""
    rule = _RULES.get(id(obj))
    if rule is None and isinstance(getattr(obj, "__self__", None), np.ufunc):
        primal = _UFUNC_METHODS.get((obj.__self__.__name__, getattr(obj, "__name__", None)))
        rule = _RULES.get(id(primal))
    return rule


def ufunc_method(ufunc, method):
    """The object rules for ``ufunc.method`` (``np.add.reduce``) are registered under, named
    ``np.add.reduce`` in the docs; :func:`lookup` finds it from any access of the method."""
    key = (ufunc.__name__, method)
    if key not in _UFUNC_METHODS:
        _UFUNC_METHODS[key] = getattr(ufunc, method)
        _rule_for(_UFUNC_METHODS[key], None).name = f"np.{ufunc.__name__}.{method}"
    return _UFUNC_METHODS[key]


_BY_SOURCE: dict = {}  # id(helper) -> helper, differentiated through its Python source


def by_source(*helpers):
    """Declare that generated code calling ``helpers`` (runtime helpers written with functions
    that have rules, in the subset adjoint differentiates) is differentiated again through the
    helpers' own source, inlined like a user's function: their rules are derived."""
    for helper in helpers:
        _BY_SOURCE[id(helper)] = helper


def is_by_source(obj):
    """Whether ``obj`` is a helper declared with :func:`by_source`."""
    return id(obj) in _BY_SOURCE


def lookup_method(name):
    """The primal object an array method ``x.name(...)`` stands for, or None."""
    return _METHODS.get(name)


def lookup_attribute(name):
    """The primal object an array attribute ``x.name`` stands for, or None."""
    return _ATTRIBUTES.get(name)


def all_rules():
    """Every registered rule, in registration order, one entry per primal object."""
    return list(_RULES.values())


def register_method(name, primal):
    """Make ``x.name(*args)`` differentiate as ``primal(x, *args)``."""
    _METHODS[name] = primal


def register_attribute(name, primal):
    """Make the attribute ``x.name`` differentiate as ``primal(x)``."""
    _ATTRIBUTES[name] = primal


def _name_of(obj):
    module = getattr(obj, "__module__", None) or ""
    module = {"numpy": "np", "builtins": "", "_operator": "operator"}.get(module, module)
    if module.startswith("numpy"):
        module = "np" + module[len("numpy"):]
    qual = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", repr(obj))
    return f"{module}.{qual}" if module else qual


def _parse_template(fn):
    source = textwrap.dedent(inspect.getsource(fn))
    tree = gast.parse(source)
    fdef = tree.body[0]
    assert isinstance(fdef, gast.FunctionDef), fn
    body = list(fdef.body)
    doc = ""
    if body and isinstance(body[0], gast.Expr) and isinstance(body[0].value, gast.Constant):
        doc = str(body[0].value.value)
        body = body[1:]
    args = fdef.args
    names = [a.id for a in args.posonlyargs + args.args] + [a.id for a in args.kwonlyargs]
    positional = [a.id for a in args.posonlyargs + args.args]
    defaults = {}
    for name, default in zip(positional[len(positional) - len(args.defaults):], args.defaults):
        defaults[name] = default
    for arg, default in zip(args.kwonlyargs, args.kw_defaults):
        if default is not None:
            defaults[arg.id] = default
    _check_free_names(fn, body, set(names))
    return names[0], tuple(names[1:]), defaults, body, doc


def _check_free_names(fn, body, params):
    assigned = {n.id for stmt in body for n in gast.walk(stmt)
                if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}
    allowed = params | assigned | TEMPLATE_GLOBALS | set(dir(builtins))
    for stmt in body:
        for node in gast.walk(stmt):
            if isinstance(node, gast.Name) and node.id not in allowed:
                raise NameError(f"rule {fn.__qualname__} uses unknown name {node.id!r}; "
                                f"templates may use {sorted(TEMPLATE_GLOBALS)}")


def _rule_for(primal, fn):
    key = id(primal)
    rule = _RULES.get(key)
    if rule is None:
        rule = Rule(primal=primal, name=_name_of(primal))
        _RULES[key] = rule
        _KEEP[key] = primal
    return rule


def _install(primals, fn, **updates):
    result, params, defaults, body, doc = _parse_template(fn)
    for primal in primals:
        rule = _rule_for(primal, fn)
        if rule.params and rule.params != params:
            raise TypeError(f"rules for {rule.name} disagree on parameters: "
                            f"{rule.params} vs {params}")
        rule.params, rule.defaults, rule.result = params, defaults, result
        rule.doc = rule.doc or doc
        for key, value in updates.items():
            setattr(rule, key, body if value is _BODY else value)
    return fn


_BODY = object()


def vjp(*primals):
    """Register a reverse-mode template for each of ``primals``."""
    return lambda fn: _install(primals, fn, vjp=_BODY)


def jvp(*primals):
    """Register a forward-mode template for each of ``primals``."""
    return lambda fn: _install(primals, fn, jvp=_BODY)


def elementwise(*primals, broadcast=False):
    """Register an elementwise function by its partial derivatives (both modes)."""
    return lambda fn: _install(primals, fn, partials=_BODY, broadcast=broadcast)


def nondiff(*primals, doc="no derivative: the result is inactive"):
    """Declare that the outputs of ``primals`` carry no derivative."""
    for primal in primals:
        rule = _rule_for(primal, None)
        rule.nondiff = True
        rule.doc = rule.doc or doc


def returns_tuple(*primals):
    """Declare that ``primals`` return tuples (``np.split``, ``np.linalg.slogdet``): in their
    templates ``d[z]`` is then a tuple with one adjoint (or tangent) per element."""
    for primal in primals:
        rule = lookup(primal)
        if rule is None:
            raise KeyError(f"no rule registered for {_name_of(primal)}")
        rule.tuple_result = True


def takes_sequences(primal, *params):
    """Declare that ``params`` of ``primal``'s rule take a list or tuple of arrays as such
    (``np.concatenate(arrays)``), so that the rule's templates see the list. A list literal
    passed to any other parameter is converted with ``np.array`` first, as NumPy does."""
    rule = lookup(primal)
    if rule is None or not set(params) <= set(rule.params):
        raise KeyError(f"no rule for {_name_of(primal)} with parameters {params}")
    rule.sequences = rule.sequences | frozenset(params)
