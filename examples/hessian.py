"""Newton's method with second derivatives: ``hessian`` and ``hvp`` (Hessian-vector products).

Run it with ``python examples/hessian.py``. It minimises the Rosenbrock function from the
classic starting point (-1.2, 1), where gradient descent crawls along a curved valley and
Newton's method needs a handful of steps. Both second-order transforms differentiate the
*generated* gradient code again — no finite differences:

- ``hessian(f)(x)`` is the Jacobian of ``grad(f)``: a dense (n, n) matrix, fine for small n;
- ``hvp(f)(x, v)`` is ``H @ v`` by forward mode over reverse mode, ``jvp(grad(f))``, without
  forming H — what Newton-CG needs when n is large.
"""

import numpy as np

import adjoint


def rosenbrock(x):
    s = 0.0
    for i in range(len(x) - 1):
        s += 100.0 * (x[i + 1] - x[i] ** 2) ** 2 + (1.0 - x[i]) ** 2
    return s


gradient = adjoint.grad(rosenbrock)
hess = adjoint.hessian(rosenbrock)
hess_vec = adjoint.hvp(rosenbrock)


def newton(x, steps=20):
    """Full Newton: solve H p = -g with the dense Hessian."""
    for k in range(steps):
        g = gradient(x)
        print(f"  step {k}  f {rosenbrock(x):.3e}  |grad| {np.linalg.norm(g):.3e}")
        if np.linalg.norm(g) < 1e-10:
            break
        x = x - np.linalg.solve(hess(x), g)
    return x


def newton_cg_step(x, g):
    """Solve H p = -g by conjugate gradients, touching H only through H @ v = hvp(x, v)."""
    p = np.zeros_like(g)
    r = -g
    direction = r.copy()
    for _ in range(len(x)):  # exact after n steps in exact arithmetic
        Hd = hess_vec(x, direction)
        alpha = (r @ r) / (direction @ Hd)
        p = p + alpha * direction
        r_new = r - alpha * Hd
        if np.linalg.norm(r_new) < 1e-14 * np.linalg.norm(g):
            break
        direction = r_new + (r_new @ r_new) / (r @ r) * direction
        r = r_new
    return p


def newton_cg(x, steps=20):
    """Matrix-free Newton: each Newton system is solved by CG with Hessian-vector products."""
    for k in range(steps):
        g = gradient(x)
        print(f"  step {k}  f {rosenbrock(x):.3e}  |grad| {np.linalg.norm(g):.3e}")
        if np.linalg.norm(g) < 1e-10:
            break
        x = x + newton_cg_step(x, g)
    return x


if __name__ == "__main__":
    x0 = np.array([-1.2, 1.0])
    H = hess(x0)
    print("Hessian at x0:")
    print(H)
    v = np.array([1.0, -1.0])
    print("hvp(x0, v) =", hess_vec(x0, v), "  H @ v =", H @ v)
    assert np.allclose(H, [[1330.0, 480.0], [480.0, 200.0]])  # by hand: 1200 x0² - 400 x1 + 2 ...
    assert np.allclose(hess_vec(x0, v), H @ v)

    print("Newton with the dense Hessian:")
    x_newton = newton(x0)
    print("Newton-CG with Hessian-vector products:")
    x_cg = newton_cg(x0)
    print("minimum found at", x_newton)
    assert np.allclose(x_newton, [1.0, 1.0]) and np.allclose(x_cg, [1.0, 1.0])
