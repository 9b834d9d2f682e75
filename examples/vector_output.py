"""Vector-Jacobian products: gradients of array and tuple outputs with ``adjoint.vjp``.

Run it with ``python examples/vector_output.py``. ``grad`` needs a scalar output. For an array
output PyTorch asks for a seed, ``y.backward(grad_output)``; adjoint's ``vjp`` returns the value
and a *pullback*, and ``pullback(cotangent)`` is the gradient of ``sum(cotangent * y)``. The
pullback may be called again with another seed, as PyTorch's ``retain_graph=True`` allows.
"""

import numpy as np

import adjoint


def softsign(x):
    return x / (1.0 + np.abs(x))


def polar(r, theta):
    return r * np.cos(theta), r * np.sin(theta)


if __name__ == "__main__":
    x = np.array([-2.0, -0.5, 0.5, 3.0])

    # y.backward(torch.ones_like(y)): the seed of ones sums the output, so each element of the
    # gradient is the elementwise derivative 1 / (1 + |x|)^2.
    y, pullback = adjoint.vjp(softsign)(x)
    print("y                 =", y)
    g_ones = pullback(np.ones_like(y))
    print("pullback(ones)    =", g_ones)
    assert np.allclose(g_ones, 1.0 / (1.0 + np.abs(x)) ** 2)

    # The same pullback again, with a one-hot seed: one row of the Jacobian (here diagonal).
    seed = np.zeros_like(y)
    seed[2] = 1.0
    g_row = pullback(seed)
    print("pullback(e_2)     =", g_row)
    assert np.allclose(g_row, [0.0, 0.0, 1.0 / 1.5**2, 0.0])
    assert np.allclose(g_ones, 1.0 / (1.0 + np.abs(x)) ** 2)  # the first result is untouched

    # Two outputs, two inputs: the cotangent is a tuple with one seed per output, and the
    # pullback returns one gradient per wrt argument.
    (px, py), pull = adjoint.vjp(polar, wrt=("r", "theta"))(2.0, np.pi / 6)
    print(f"polar(2, pi/6)    = ({px:.4f}, {py:.4f})")
    dr, dtheta = pull((1.0, 0.0))  # gradient of the x coordinate
    print(f"d x / d(r, theta) = ({dr:.4f}, {dtheta:.4f})")
    assert np.allclose([dr, dtheta], [np.cos(np.pi / 6), -2.0 * np.sin(np.pi / 6)])
    dr, dtheta = pull((0.0, 1.0))  # gradient of the y coordinate, same pullback
    print(f"d y / d(r, theta) = ({dr:.4f}, {dtheta:.4f})")
    assert np.allclose([dr, dtheta], [np.sin(np.pi / 6), 2.0 * np.cos(np.pi / 6)])

    # The full Jacobian is what jacobian() assembles from such pullbacks (or from jvp).
    print("jacobian(softsign)(x) =")
    print(adjoint.jacobian(softsign)(x))
