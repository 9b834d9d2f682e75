"""Transforms called inside differentiated code, transforms of transforms, and ``.source`` on
every transform's result.

Checks, against central finite differences in float64 (``adjoint.testing.numeric_grad``):

- a function that calls a ``grad`` / ``value_and_grad`` transform (a gradient penalty,
  ``g = dquad(x, A); return np.sum(g * g)``) is differentiated, in Python mode and under
  ``jit=True``, with scalar and array arguments, the transform called in a loop and twice;
- ``jvp`` and ``vjp`` of a ``grad`` transform agree with central differences of the gradient;
- a call to a transform that cannot be inlined (a ``vjp``, whose result is a pullback) is
  refused at the user's line;
- ``hessian``, ``hvp``, ``jacobian`` and pullbacks have ``.source``, the generated code they run.
"""

from __future__ import annotations

import numpy as np
import pytest

import adjoint
from adjoint.errors import AdjointError
from adjoint.testing import numeric_grad

JIT = [False, pytest.param(True, id="jit")]


def quad(x, A):
    return 0.5 * x @ (A @ x) + np.sum(np.sin(x))


dquad = adjoint.grad(quad)


def penalty(x, A):
    g = dquad(x, A)
    return np.sum(g * g)


def scalar_fn(a, b):
    return a * a * b + np.exp(a - b)


dscalar = adjoint.grad(scalar_fn, wrt=(0, 1))
vg_scalar = adjoint.value_and_grad(scalar_fn)


def penalty_scalar(a, b):
    ga, gb = dscalar(a, b)
    value, g = vg_scalar(a * b, b)
    return ga * ga + 3.0 * gb + value * g


def penalty_loop(x, A, n):
    total = 0.0
    for k in range(n):
        g = dquad(x * (k + 1.0), A)
        total = total + np.sum(g * g)
    return total


def _point():
    rng = np.random.default_rng(3)
    M = rng.normal(size=(3, 3))
    return rng.normal(size=3), M + M.T


@pytest.mark.parametrize("jit", JIT)
def test_gradient_penalty(jit):
    x, A = _point()
    got = adjoint.grad(penalty, jit=jit)(x, A)
    np.testing.assert_allclose(got, numeric_grad(penalty, x, A), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("jit", JIT)
def test_gradient_penalty_scalars_and_value_and_grad(jit):
    gradient = adjoint.grad(penalty_scalar, wrt=(0, 1), jit=jit)
    for a, b in [(0.3, -0.7), (1.2, 0.4)]:
        got = gradient(a, b)
        for k in (0, 1):
            assert got[k] == pytest.approx(numeric_grad(penalty_scalar, a, b, wrt=k),
                                           rel=1e-6, abs=1e-8)


def test_gradient_penalty_in_a_loop():
    x, A = _point()
    got = adjoint.grad(penalty_loop)(x, A, 3)
    np.testing.assert_allclose(got, numeric_grad(penalty_loop, x, A, 3), rtol=1e-6, atol=1e-8)


def test_jvp_and_vjp_of_a_gradient():
    x, A = _point()
    v = np.array([0.5, -1.0, 2.0])
    eps = 1e-6
    hv = (dquad(x + eps * v, A) - dquad(x - eps * v, A)) / (2 * eps)
    value, tangent = adjoint.jvp(dquad)(x, A, v)
    np.testing.assert_allclose(value, dquad(x, A))
    np.testing.assert_allclose(tangent, hv, rtol=1e-6, atol=1e-8)
    _, pullback = adjoint.vjp(dquad)(x, A)
    # the Hessian is symmetric: the pullback of v is H v too
    np.testing.assert_allclose(pullback(v), hv, rtol=1e-6, atol=1e-8)


def _calls_a_pullback(x):
    value, pullback = vjp_quad(x, np.eye(3))
    return value


vjp_quad = adjoint.vjp(quad)


def test_a_transform_that_cannot_be_inlined_is_refused_at_the_call():
    with pytest.raises(AdjointError) as info:
        adjoint.grad(_calls_a_pullback)(np.ones(3))
    assert info.value.filename == __file__
    assert info.value.lineno == _calls_a_pullback.__code__.co_firstlineno + 1


def test_every_result_has_source():
    x, A = _point()
    results = {
        "hessian": adjoint.hessian(quad),
        "hvp": adjoint.hvp(quad),
        "jacobian forward": adjoint.jacobian(dquad, mode="forward"),
        "jacobian reverse": adjoint.jacobian(dquad, mode="reverse"),
        "jacobian auto": adjoint.jacobian(dquad),
    }
    for name, transform in results.items():
        assert "def " in transform.source, name
    _, pullback = adjoint.vjp(quad)(x, A)
    assert pullback.source.startswith("def ")
    assert "np.sin" in pullback.source or "np.cos" in pullback.source
