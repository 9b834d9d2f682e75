"""User-defined derivative rules: ``custom_vjp``, ``defvjp`` and ``stop_gradient``.

``custom_vjp`` is the analogue of PyTorch's ``autograd.Function``::

    @adjoint.custom_vjp
    def clip_st(x):
        return np.clip(x, -1.0, 1.0)

    @clip_st.defvjp
    def clip_st_bwd(x, out, g):      # inputs..., the primal output, the output's cotangent
        return (g,)                  # one cotangent per input (a bare value for one input)

The rule is registered in the same registry as the built-in rules and its *source* is inlined
into the generated backward sweep (visible in ``.source``, compiled under ``jit=True``). The
same convention registers a rule for a library function adjoint does not know::

    adjoint.defvjp(scipy.special.expit, lambda_free_bwd)

``stop_gradient(x)`` is the identity with a zero derivative (PyTorch's ``.detach()``).
"""

from __future__ import annotations

import ast
import functools
import inspect
import linecache
import pickle
import textwrap

import numpy as np

from . import pickling
from .errors import AdjointError
from .rules import registry
from .rules.stop import stop_gradient  # noqa: F401  (adjoint.stop_gradient)


class CustomVJP:
    """A function with a user-given reverse rule (see :func:`custom_vjp`)."""

    def __init__(self, fn):
        self.fn = fn
        self.bwd = None
        functools.update_wrapper(self, fn)

    def __call__(self, *args, **kwargs):
        return self.fn(*args, **kwargs)

    def defvjp(self, bwd):
        """Register ``bwd(*inputs, out, g) -> cotangents`` as this function's reverse rule.
        Returns ``bwd`` so it can be used as a decorator."""
        params = list(inspect.signature(self.fn).parameters)
        _install(self, params, bwd, self.fn)
        self.bwd = bwd
        return bwd

    def __reduce__(self):
        # By name: importing the module in the worker defines the function and its rule again.
        ref = pickling.reference(self)
        if ref is self:
            raise pickle.PicklingError(
                f"cannot pickle {self!r}: a custom_vjp function pickles by reference, so it "
                "must be defined at the top level of an importable module")
        return ref.__reduce__()

    def __repr__(self):
        return f"<adjoint.custom_vjp {getattr(self.fn, '__qualname__', self.fn)}>"

    def __adjoint_jit__(self):
        """What jitted generated code calls for the primal."""
        import numba
        return numba.njit(self.fn)


def custom_vjp(fn):
    """Give ``fn`` its own reverse-mode rule with ``@fn.defvjp``."""
    return CustomVJP(fn)


def defvjp(primal, bwd, *, params=None):
    """Register ``bwd(*inputs, out, g)`` as the reverse rule of a library function ``primal``
    (the way out of "no derivative rule for X"). ``params`` names the primal's parameters;
    by default they are taken from ``bwd``'s signature (all but its last two)."""
    if params is None:
        names = list(inspect.signature(bwd).parameters)
        params = names[:-2]
    _install(primal, list(params), bwd, primal)
    return bwd


def _install(primal, params, bwd, owner):
    try:
        sig = inspect.signature(bwd)
    except (TypeError, ValueError):
        raise AdjointError(f"the rule for {owner!r} must be a Python function",
                           hint="define it with def") from None
    positional = [p for p in sig.parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if len(positional) != len(params) + 2 or any(
            p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in sig.parameters.values()):
        code = getattr(bwd, "__code__", None)
        raise AdjointError(
            f"the reverse rule {getattr(bwd, '__name__', bwd)} takes {len(positional)} "
            f"argument(s), but a rule for {getattr(owner, '__name__', owner)}"
            f"({', '.join(params)}) must take {len(params) + 2}: the inputs, the output and "
            "the output's cotangent",
            filename=getattr(code, "co_filename", None),
            lineno=getattr(code, "co_firstlineno", None),
            hint=f"def {getattr(bwd, '__name__', 'bwd')}({', '.join(params + ['out', 'g'])}): "
                 "return (one cotangent per input,)")
    rule = registry._rule_for(primal, bwd)
    rule.params = tuple(params)
    rule.custom = bwd
    rule.custom_tangent = functools.lru_cache(maxsize=None)(
        functools.partial(_tangent_function, bwd, tuple(params)))
    rule.nondiff = False
    rule.doc = f"custom rule {getattr(bwd, '__qualname__', bwd)}"


def _tangent_function(bwd, params, moving):
    """The forward rule a reverse rule implies, for the inputs at positions ``moving``: the
    gradient in ``g`` of Σ_k ⟨bwd(*inputs, out, g)[k], t_k⟩, which is J t (bwd is Jᵀ g, linear
    in g). The function is written as source (registered with ``linecache``) and differentiated
    like any user function, so jvp, hvp, hessian and jacobian go through the user's rule, and
    the derived code can be differentiated again."""
    from . import api

    taken = set(params)
    out, g = _unused("out", taken), _unused("g", taken | {"out"})
    tangents = [_unused(f"{params[k]}_dot", taken | {out, g}) for k in moving]
    name = f"{getattr(bwd, '__name__', 'rule')}_tangent"
    single = len(params) == 1 and not _returns_tuples(bwd)
    parts = ["cotangents" if single else f"cotangents[{k}]" for k in moving]
    terms = " + ".join(f"np.sum({c} * {t})" for c, t in zip(parts, tangents))
    source = (f"def {name}({', '.join([*params, out, g, *tangents])}):\n"
              f"    cotangents = bwd({', '.join([*params, out, g])})\n"
              f"    return {terms}\n")
    filename = (f"<adjoint forward rule of {getattr(bwd, '__qualname__', name)}, tangents of "
                f"{', '.join(params[k] for k in moving)}>")
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace = {"np": np, "bwd": bwd}
    exec(compile(source, filename, "exec"), namespace)  # noqa: S102  (source built above)
    return DerivedTangent(api.grad(namespace[name], wrt=len(params) + 1))


class DerivedTangent:
    """A custom rule's forward rule as generated code calls it: the gradient transform of
    :func:`_tangent_function` in Python mode, its generic generated code compiled by Numba
    under ``jit=True``."""

    def __init__(self, transformed):
        self.transformed = transformed

    def __call__(self, *args):
        return self.transformed(*args)

    def __adjoint_jit__(self):
        import numba
        return numba.njit(self.transformed.derive().function)


def _unused(name, taken):
    while name in taken:
        name += "_"
    return name


def _returns_tuples(bwd):
    """Whether every ``return`` of ``bwd`` returns a tuple literal (else it returns the bare
    cotangent of its one input)."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(bwd)))
    except (OSError, TypeError, SyntaxError):
        return False
    returns = [n for n in ast.walk(tree) if isinstance(n, ast.Return)]
    return bool(returns) and all(isinstance(r.value, ast.Tuple) for r in returns)
