"""Small functions whose generated adjoints are kept as golden files (tests/golden/)."""

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
