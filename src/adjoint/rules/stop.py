"""``adjoint.stop_gradient``: the identity in value, a constant for differentiation.

Registered as non-differentiable, so every transform reads its result as a constant (zero
derivative); :mod:`adjoint.runtime_numba.core` gives it a Numba implementation."""

from .registry import nondiff


def stop_gradient(x):
    """``x`` itself; adjoint treats its result as a constant (zero derivative)."""
    return x


stop_gradient.__module__ = "adjoint"  # what users call it: adjoint.stop_gradient
nondiff(stop_gradient, doc="stop_gradient(x) = x with zero derivative")
