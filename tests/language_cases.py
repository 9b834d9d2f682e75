"""What the tests of the language features share: a registry of cases (a function, its
arguments, ``wrt``, and whether it is also compiled) and the checks run on each case.

``check_grad_case`` checks ``grad`` against central finite differences in float64 in Python mode
or under ``jit=True`` (then also equal to Python mode's numbers); ``check_jvp_case`` checks
``jvp`` in Python mode along a random direction. Each transformed function is built once per
(function, mode) and reused (Numba compiles cost ~0.5 s each: only a representative subset of
the cases is compiled).
"""

from __future__ import annotations

import numpy as np
import pytest

import adjoint
from adjoint.testing import check_grad

V3 = np.array([0.7, -1.3, 2.1])
V4 = np.array([0.4, 1.1, -0.8, 1.6])


class Cases:
    """``@cases(*args, wrt=..., jit=...)`` registers a function; ``cases.params`` lists them."""

    def __init__(self):
        self.params = []

    def __call__(self, *args, wrt=0, jit=False):
        def register(fn):
            self.params.append(pytest.param(fn, args, wrt, jit, id=fn.__name__))
            return fn
        return register


_BUILT = {}


def built(fn, wrt, mode):
    key = (fn, wrt, mode)
    if key not in _BUILT:
        _BUILT[key] = adjoint.grad(fn, wrt=wrt, jit=(mode == "jit"))
    return _BUILT[key]


def check_grad_case(fn, args, wrt, jit, mode):
    if mode == "jit" and not jit:
        pytest.skip("compiled for a representative subset only (Numba compiles are slow)")
    check_grad(fn, *args, wrt=wrt, grad_fn=built(fn, wrt, mode))
    if mode == "jit":
        expected = built(fn, wrt, "python")(*args)
        got = built(fn, wrt, "jit")(*args)
        for e, o in zip(expected if isinstance(expected, tuple) else (expected,),
                        got if isinstance(got, tuple) else (got,)):
            np.testing.assert_allclose(o, e, rtol=1e-10)


def check_jvp_case(fn, args, wrt):
    positions = wrt if isinstance(wrt, tuple) else (wrt,)
    rng = np.random.default_rng(7)
    tangents = [rng.standard_normal(np.shape(args[p])) if np.ndim(args[p]) else
                float(rng.standard_normal()) for p in positions]
    value, tangent = adjoint.jvp(fn, wrt=wrt)(*args, *tangents)
    eps = 1e-6

    def moved(sign):
        out = list(args)
        for p, t in zip(positions, tangents):
            out[p] = args[p] + sign * eps * np.asarray(t) if np.ndim(args[p]) else \
                args[p] + sign * eps * t
        return fn(*out)

    assert value == pytest.approx(fn(*args), rel=1e-12)
    assert tangent == pytest.approx((moved(1) - moved(-1)) / (2 * eps), rel=1e-5, abs=1e-7)
