"""Rules for NumPy's gathering functions (``np.take``) and for polynomial evaluation
(``np.polyval``).

Takes nothing; importing it registers the rules in :mod:`adjoint.rules.registry`. Both are
written with NumPy functions and helpers that have rules of their own, so their generated
adjoints can be differentiated again, to any order: ``np.take`` is linear in ``a`` (its adjoint
:func:`~adjoint.runtime.take_vjp` scatters back, and the adjoint of that is ``np.take``), and
``np.polyval``'s derivatives are polynomials again (the derivative's coefficients are
``p[:-1] * (n-1, ..., 1)``; the coefficients' own adjoint weighs the powers of ``x``).
"""

import numpy as np

from .registry import jvp, vjp


@vjp(np.take)
def take_vjp_rule(z, a, indices, axis=None, out=None, mode="raise"):
    """d take(a, i) = take(da, i): the adjoint adds back at the taken positions (repeats add)"""
    d[a] = take_vjp(d[z], a, indices, axis, mode)  # noqa: F821


@jvp(np.take)
def take_jvp_rule(z, a, indices, axis=None, out=None, mode="raise"):
    """d take(a, i) = take(da, i)"""
    d[z] = np.take(d[a], indices, axis, None, mode)  # noqa: F821


@vjp(np.polyval)
def polyval_vjp(z, p, x):
    """d polyval(p, x) = polyval(p', x) dx + Σ_k x^(n-1-k) dp_k"""
    coefficients = np.asarray(p)
    n = np.size(coefficients)
    slope = np.polyval(coefficients[:-1] * np.arange(n - 1.0, 0.0, -1.0), x)
    d[x] = unbroadcast(d[z] * slope, x)  # noqa: F821
    d[p] = np.tensordot(broadcast_like(d[z], z), np.expand_dims(x, -1)  # noqa: F821
                        ** np.arange(n - 1.0, -1.0, -1.0), np.ndim(z))


@jvp(np.polyval)
def polyval_jvp(z, p, x):
    """d polyval(p, x) = polyval(p', x) dx + polyval(dp, x)"""
    coefficients = np.asarray(p)
    n = np.size(coefficients)
    slope = np.polyval(coefficients[:-1] * np.arange(n - 1.0, 0.0, -1.0), x)
    d[z] = d[x] * slope + np.polyval(d[p], x)  # noqa: F821
