"""jit=True: same numbers as Python mode; Numba's refusals become located AdjointErrors."""

import inspect

import jit_rejects
import numpy as np
import pytest
from golden_functions import GOLDEN

import adjoint


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_jit_agrees_with_python_mode(name):
    fn, args = GOLDEN[name]
    expected = adjoint.grad(fn)(*args)
    got = adjoint.grad(fn, jit=True)(*args)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-14)
    assert type(got) is type(expected)


def test_numba_refusal_is_a_located_jit_error():
    with pytest.raises(adjoint.JitError) as info:
        adjoint.grad(jit_rejects.scaled, jit=True)(3.0)
    err = info.value
    lines, first = inspect.getsourcelines(jit_rejects.scaled)
    assert err.filename == jit_rejects.__file__
    assert err.lineno == first + 1  # k = SETTINGS.scale
    assert "Numba" in str(err) and err.hint and "jit=False" in err.hint
    assert adjoint.grad(jit_rejects.scaled)(3.0) == 12.0  # Python mode is unaffected


def test_preallocated_tapes_are_typed_arrays():
    def lotka_volterra(a, b):
        u, v = 1.0, 0.5
        for k in range(200):
            u, v = u + 0.01 * (a * u - b * u * v), v + 0.01 * (b * u * v - v)
        return u + v
    g = adjoint.grad(lotka_volterra, wrt=(0, 1), jit=True)
    value = g(1.1, 0.4)
    source = g.source
    assert "np.empty(200)" in source and ".append(" not in source
    np.testing.assert_allclose(value, adjoint.grad(lotka_volterra, wrt=(0, 1))(1.1, 0.4),
                               rtol=1e-12)
