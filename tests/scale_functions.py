"""Module-level functions for the scaling tests (pickling, vmap, Dask): a worker process finds
them again by module and qualified name, so they cannot live inside a test."""

import numpy as np

import adjoint

SCALE = 0.5  # a data global: read at call time, a hidden argument under jit=True


def net_loss(w1, b1, w2, x, y):
    """Squared error of a one-hidden-layer tanh network on one example (x: vector, y: float)."""
    h = np.tanh(w1 @ x + b1)
    r = np.dot(w2, h) - y
    return SCALE * r * r


def batch_loss(w, X, y):
    """Mean logistic loss of a linear model over the rows of X."""
    z = X @ w
    return np.mean(np.log(1.0 + np.exp(-y * z)))


def cubic(x, a):
    return a * x ** 3 + np.sin(x)


def squash(x):
    return 2.0 * np.tanh(x)


def poly(x, c):
    """SCALE times the polynomial with coefficients c at x (a loop: compiled whole)."""
    s = 0.0
    for k in range(c.shape[0]):
        s = s + c[k] * x ** k
    return SCALE * s


def reciprocal_sum(x, n):
    """n / x by a loop: raises ZeroDivisionError at x = 0, in both modes."""
    s = 0.0
    for _ in range(n):
        s = s + 1.0 / x
    return s


def series(x, n):
    """A loop (so jit=True compiles it whole): sum of x**k / k for k = 1..n."""
    s = 0.0
    p = 1.0
    for k in range(1, n + 1):
        p = p * x
        s = s + p / k
    return s


@adjoint.grad
def decorated(x):
    return x ** 3 + 2.0 * x


@adjoint.custom_vjp
def clipped(x):
    return np.clip(x, -1.0, 1.0)


@clipped.defvjp
def clipped_bwd(x, out, g):
    return (g,)  # straight-through


def uses_clipped(x):
    return np.sum(clipped(x) ** 2)


# -- run in worker processes ----------------------------------------------------------------------

def call(fn, *args):
    """``fn(*args)`` (a worker task: ``fn`` arrives pickled)."""
    return fn(*args)


def pull(fn, args, cotangent):
    """The gradient for ``cotangent`` from ``vjp``-made ``fn`` (pullbacks stay in the worker)."""
    _, pullback = fn(*args)
    return pullback(cotangent)


def compiled_from_cache(fn, *args):
    """``fn(*args)``, the worker's cache directory, and the Numba cache hits and misses of the
    dispatcher that ran it."""
    from adjoint import jit
    value = fn(*args)
    hits = misses = 0
    for entry, _ in fn._entries.values():
        stats = getattr(entry, "target", entry).dispatcher.stats
        hits += sum(stats.cache_hits.values())
        misses += sum(stats.cache_misses.values())
    return value, jit._CACHE_DIR, hits, misses


def rebuilt_transforms():
    """How many transforms this process has unpickled (a Dask worker's check)."""
    from adjoint import pickling
    return len(pickling._REBUILT)


def vmap_from_cache(vm, *args):
    """``vm(*args)``, how it ran, and the Numba disk-cache hits and misses of its prange loops
    in this process (a worker's check)."""
    from adjoint import vmap_kernel
    result = vm(*args)
    stats = [kernel.stats for kernel in vmap_kernel._KERNELS.values()]
    return (result, vm.last_run, sum(sum(s.cache_hits.values()) for s in stats),
            sum(sum(s.cache_misses.values()) for s in stats))


def loss_with_aux(w, X, y):
    """A loss and an auxiliary output (has_aux=True)."""
    r = X @ w - y
    return np.mean(r * r), np.max(np.abs(r))
