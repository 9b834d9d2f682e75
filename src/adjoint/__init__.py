"""adjoint: source-transformation automatic differentiation for numeric Python.

``@adjoint.grad`` reads a function's source and writes a new Python function — its adjoint —
that you can print, read, debug, and compile with Numba (``jit=True``).
"""

from . import optim, rules  # noqa: F401,E402  (adjoint.optim; rules registers every rule)
from .api import grad, jvp, source, value_and_grad, vjp
from .compose import hessian, hvp, jacobian
from .custom import custom_vjp, defvjp, stop_gradient
from .errors import (
                     AdjointError,
                     ArgumentError,
                     CotangentError,
                     GradientCheckError,
                     JitError,
                     NonScalarOutputError,
                     NoRuleError,
                     OptionError,
                     SourceUnavailableError,
                     UnsupportedSyntaxError,
                     WrtError,
)
from .testing import check_grad
from .trees import tree_leaves, tree_map
from .version import __version__  # noqa: F401
from .vmap import vmap

__all__ = [
    "grad", "value_and_grad", "vjp", "jvp", "source", "check_grad",
    "jacobian", "hessian", "hvp", "vmap", "custom_vjp", "defvjp", "stop_gradient",
    "tree_map", "tree_leaves", "optim",
    "AdjointError", "ArgumentError", "CotangentError", "GradientCheckError", "JitError",
    "NoRuleError", "NonScalarOutputError", "OptionError", "SourceUnavailableError",
    "UnsupportedSyntaxError", "WrtError",
]
