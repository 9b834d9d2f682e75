"""The registry and argument generators of the peer cases: plain numeric functions in the spirit
of other AD projects' test suites, for adjoint to differentiate.

Takes nothing; defines :class:`Case`, :data:`PEERS`, :func:`peer` and the generators. The cases
themselves live in the modules of the ``peers`` package (``import peers`` registers them all).
The ideas come from what tangent, autograd, JAX and PyTorch test (a zoo of small functions,
systematic shapes for broadcasting and reductions, graph structure — fan-out, fan-in, deep
chains, values used many times —, linear algebra, kinks, and gradcheck's concerns such as
non-contiguous inputs); the code is this project's own. Each case function is registered with
:func:`peer`, which appends a :class:`Case` to :data:`PEERS`:

- ``fn``: the function itself, unchanged;
- ``args``: ``rng -> tuple``, one argument tuple inside the function's domain (away from
  kinks, ties and branch points by a margin, so central differences are valid);
- ``wrt``: what to differentiate with respect to (position, name or tuple of them);
- ``hessian``: also check ``adjoint.hessian`` and ``adjoint.hvp`` (first wrt argument) against
  finite differences of the gradient;
- ``third``: (scalar output, wrt one float) also check ``grad(grad(f))`` and
  ``grad(grad(grad(f)))``;
- ``jit``: also compare ``jit=True`` with Python mode. Only a sample of the cases sets it
  (loops, while loops, in-place updates, indexing, a little linear algebra): each compiled
  gradient costs about a second of Numba, and the module must stay fast.

A function may return a float (checked with ``grad``) or an array or tuple (checked with
``vjp`` and a random cotangent). Helpers whose names start with ``_`` are user functions the
cases call; they are not cases themselves.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Case:
    """One peer function and how to test it."""

    name: str
    fn: object
    args: object
    wrt: object = 0
    hessian: bool = False
    third: bool = False
    jit: bool = False

    def __repr__(self):
        return f"<peer {self.name}>"


PEERS: list[Case] = []


def peer(args, *, wrt=0, hessian=False, third=False, jit=False):
    """Register the decorated function as a peer case (see the module docstring)."""

    def register(fn):
        if any(c.name == fn.__name__ for c in PEERS):
            raise ValueError(f"duplicate peer case {fn.__name__!r}")
        PEERS.append(Case(fn.__name__, fn, args, wrt, hessian, third, jit))
        return fn

    return register


# ---------------------------------------------------------------------------------------------
# Argument generators (numpy Generator -> value)


def s(rng, lo=0.5, hi=1.5):
    """A float in [lo, hi)."""
    return float(rng.uniform(lo, hi))


def sgn(rng, lo=0.4, hi=1.5):
    """A float with magnitude in [lo, hi) and a random sign."""
    return float(rng.choice([-1.0, 1.0]) * rng.uniform(lo, hi))


def v(rng, *shape):
    """Standard normal float64 array."""
    return rng.standard_normal(shape)


def p(rng, *shape, lo=0.5, hi=2.0):
    """Positive array with values in [lo, hi)."""
    return rng.uniform(lo, hi, size=shape)


def distinct(rng, *shape, gap=0.15):
    """Normal values, all pairwise at least ``gap`` apart (no ties for max, sort, argmax)."""
    n = int(np.prod(shape))
    base = np.arange(n) * gap * 1.5 + rng.uniform(0.0, 0.2, size=n)
    return (rng.permutation(base) - base.mean()).reshape(shape)


def away(rng, *shape, gap=0.3):
    """Normal-ish values at least ``gap`` away from 0 (no kinks of abs, relu, sign branches)."""
    mag = rng.uniform(gap, 1.5, size=shape)
    return np.where(rng.random(shape) < 0.5, -mag, mag)


def off_floor(rng, n):
    """Values whose fractional parts (and those of 2x) stay away from 0: no jumps of floor/mod."""
    return rng.integers(-3, 3, size=n) + rng.uniform(0.1, 0.4, size=n)


def wc(rng, n):
    """A well-conditioned (diagonally dominant) n x n matrix."""
    return rng.standard_normal((n, n)) * 0.3 + n * np.eye(n)


def spd(rng, n):
    """A symmetric positive definite n x n matrix."""
    b = rng.standard_normal((n, n))
    return b @ b.T + n * np.eye(n)


def strided(rng, n):
    """A non-contiguous 1-D view (every other element of a longer array)."""
    return rng.standard_normal(2 * n)[::2]


def fortran(rng, r, c):
    """A Fortran-ordered (column-major) matrix."""
    return np.asfortranarray(rng.standard_normal((r, c)))
