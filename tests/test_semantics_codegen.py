"""Emitted source means what the user's code means: constants folded by the normal form print
with the parentheses their precedence needs (found by the random-program tester: a folded
``(-0.75) ** 2.0`` printed as ``-0.75 ** 2.0``, which is ``-(0.75 ** 2.0)``)."""

import math

import numpy as np
import pytest

import adjoint


def neg_base_power(b):
    x = (-0.75) ** 2.0
    return x * b


def neg_int_power(b):
    return (-2) ** 3 * b + (-1) ** 2


def neg_exponent(b):
    return b ** -2.0 + 2.0 ** -b


def neg_zero_base(b):
    return (-0.0) ** 2.0 + math.copysign(1.0, -0.0) * b


def neg_in_array_code(x):
    return np.sum((-0.5) ** 2 * x * x) + (-1.5) ** 2


CASES = [(neg_base_power, 1.3), (neg_int_power, 0.7), (neg_exponent, 1.7),
         (neg_zero_base, 0.4), (neg_in_array_code, np.array([0.3, -1.2, 2.0]))]


def _central(f, x, h=1e-6):
    if isinstance(x, np.ndarray):
        out = np.zeros_like(x)
        for i in range(x.size):
            e = np.zeros_like(x)
            e.flat[i] = h
            out.flat[i] = (f(x + e) - f(x - e)) / (2 * h)
        return out
    return (f(x + h) - f(x - h)) / (2 * h)


@pytest.mark.parametrize("jit", [False, True], ids=["python", "jit"])
@pytest.mark.parametrize("fn, x", CASES, ids=[f.__name__ for f, _ in CASES])
def test_folded_negative_constants_keep_their_meaning(fn, x, jit):
    value, grad = adjoint.value_and_grad(fn, jit=jit)(x)
    assert value == pytest.approx(fn(x), rel=1e-12)
    np.testing.assert_allclose(grad, _central(fn, x), rtol=1e-6, atol=1e-8)
