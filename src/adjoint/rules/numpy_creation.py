"""Rules for NumPy's array creation from differentiable values: array, asarray, astype, full,
full_like, arange, linspace.

Takes nothing; importing it registers the rules in :mod:`adjoint.rules.registry`. ``dtype=`` of
an integer or boolean type makes the result piecewise constant: derivative 0
(:func:`~adjoint.runtime.astype_vjp`); a float type keeps it.
"""

import numpy as np

from . import registry
from .registry import jvp, vjp


@vjp(np.array)
def array_vjp(z, object, dtype=None):
    """d array([x, y, ...]) = array([dx, dy, ...]); x gets the adjoint's element (or row) 0"""
    d[object] = astype_vjp(d[z], dtype)


@jvp(np.array)
def array_jvp(z, object, dtype=None):
    """d array([x, y, ...]) = array([dx, dy, ...])"""
    d[z] = astype_vjp(np.array(d[object]), dtype)


@vjp(np.asarray, np.ascontiguousarray)
def asarray_vjp(z, a, dtype=None):
    """d asarray(a) = asarray(da)   (0 for an integer or boolean dtype)"""
    d[a] = astype_vjp(d[z], dtype)


@jvp(np.asarray, np.ascontiguousarray)
def asarray_jvp(z, a, dtype=None):
    """d asarray(a) = asarray(da)"""
    d[z] = astype_vjp(np.asarray(d[a]), dtype)


@vjp(np.astype)
def astype_vjp_rule(z, x, dtype):
    """d x.astype(t) = dx for a float type t; 0 for an integer or boolean type"""
    d[x] = astype_vjp(d[z], dtype)


@jvp(np.astype)
def astype_jvp_rule(z, x, dtype):
    """d x.astype(t) = dx for a float type t; 0 for an integer or boolean type"""
    d[z] = astype_vjp(d[x], dtype)


@vjp(np.full)
def full_vjp(z, shape, fill_value, dtype=None):
    """d full(shape, v) = full(shape, dv); v's adjoint sums the output's"""
    d[fill_value] = astype_vjp(unbroadcast(d[z], fill_value), dtype)


@jvp(np.full)
def full_jvp(z, shape, fill_value, dtype=None):
    """d full(shape, v) = full(shape, dv)"""
    d[z] = astype_vjp(np.zeros(shape) + d[fill_value], dtype)


@vjp(np.full_like)
def full_like_vjp(z, a, fill_value, dtype=None):
    """d full_like(a, v) = full_like(a, dv); a's values do not matter, but its dtype does
    (the default): an integer or boolean result carries no derivative"""
    d[fill_value] = astype_vjp(unbroadcast(d[z], fill_value), z.dtype)


@jvp(np.full_like)
def full_like_jvp(z, a, fill_value, dtype=None):
    """d full_like(a, v) = full_like(a, dv)"""
    d[z] = astype_vjp(np.zeros(z.shape) + d[fill_value], z.dtype)


@vjp(np.arange)
def arange_vjp(z, start_or_stop, stop=None, step=1):
    """arange(start, stop, step)_k = start + k step: d = dstart + k dstep (stop only sets the
    length; with one argument it is the stop)"""
    d[start_or_stop] = arange_vjp_start(d[z], stop)
    d[step] = arange_vjp_step(d[z])


@jvp(np.arange)
def arange_jvp(z, start_or_stop, stop=None, step=1):
    """arange(start, stop, step)_k = start + k step: d = dstart + k dstep"""
    d[z] = arange_jvp_start(d[start_or_stop], z, stop) + d[step] * np.arange(len(z))


@vjp(np.linspace)
def linspace_vjp_rule(z, start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    """linspace(a, b)_k = a + (b - a) w_k: d = (1 - w_k) da + w_k db   (retstep=False)"""
    d[start] = astype_vjp(linspace_vjp(
        d[z], start, 1.0 - linspace_basis(num, endpoint, retstep, z, axis), axis), dtype)
    d[stop] = astype_vjp(linspace_vjp(
        d[z], stop, linspace_basis(num, endpoint, retstep, z, axis), axis), dtype)


@jvp(np.linspace)
def linspace_jvp_rule(z, start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    """linspace(a, b)_k = a + (b - a) w_k: d = (1 - w_k) da + w_k db"""
    d[z] = astype_vjp(
        linspace_jvp(d[start], 1.0 - linspace_basis(num, endpoint, retstep, z, axis), axis)
        + linspace_jvp(d[stop], linspace_basis(num, endpoint, retstep, z, axis), axis), dtype)


for _primal, _param in [(np.array, "object"), (np.asarray, "a"), (np.ascontiguousarray, "a")]:
    registry.takes_sequences(_primal, _param)
