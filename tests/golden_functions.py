"""Small functions whose generated adjoints are kept as golden files (tests/golden/).

``GOLDEN``: name -> (function, the example arguments the golden source is specialised to);
``POINTS``: name -> argument tuples (of the same kinds) at which ``test_golden`` checks the
golden source's numbers against central finite differences: together they take every branch
arm and loop trip count (zero, one, several) of the function.
"""

import math

import numpy as np


def poly(x):
    return x**2 + 3*x + 1


def branchy(x, y):
    if x > y:
        z = x * y
    elif x < 0.0:
        z = math.sin(x)
    else:
        z = y ** 3
    return z


def rosenbrock(x):
    s = 0.0
    for i in range(x.shape[0] - 1):
        s += 100.0 * (x[i + 1] - x[i] ** 2) ** 2 + (1.0 - x[i]) ** 2
    return s


def running_product(x):
    p = 1.0
    for i in range(x.shape[0]):
        p = p * x[i]
    return p


def halve_until_small(x):
    y = 0.0
    while x > 0.1:
        x = x * 0.5
        y = y + math.exp(x)
    return y


# (function, example arguments the golden source is specialised to)
GOLDEN = {
    "poly": (poly, (2.0,)),
    "branchy": (branchy, (1.0, 2.0)),
    "rosenbrock": (rosenbrock, (np.linspace(0.0, 1.0, 5),)),
    "running_product": (running_product, (np.linspace(0.5, 1.0, 4),)),
    "halve_until_small": (halve_until_small, (3.0,)),
}

POINTS = {
    "poly": [(2.0,), (-0.7,)],
    "branchy": [(1.0, 2.0), (3.0, 2.0), (-1.0, 2.0), (-0.5, -1.5)],
    "rosenbrock": [(np.linspace(0.0, 1.0, 5),), (np.array([-1.2, 0.4, 1.7]),),
                   (np.array([0.3, -0.8]),), (np.array([0.7]),)],
    "running_product": [(np.linspace(0.5, 1.0, 4),), (np.array([-1.5, 2.0, 0.7]),),
                        (np.array([1.3]),)],
    "halve_until_small": [(3.0,), (0.15,), (0.05,)],
}
