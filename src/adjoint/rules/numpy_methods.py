"""Array methods and attributes: ``x.name(...)`` and ``x.name`` differentiate as the NumPy
function named here (``x.sum(axis=0)`` as ``np.sum(x, axis=0)``, ``x.T`` as ``np.transpose(x)``).

Takes the rules of the other ``numpy_*`` modules (imported before this one); registers the
routes in :mod:`adjoint.rules.registry`.
"""

import numpy as np

from .registry import register_attribute, register_method

for _name, _primal in [
        ("sum", np.sum), ("mean", np.mean), ("prod", np.prod), ("max", np.max),
        ("min", np.min), ("var", np.var), ("std", np.std), ("cumsum", np.cumsum),
        ("cumprod", np.cumprod), ("dot", np.dot), ("clip", np.clip), ("trace", np.trace),
        ("diagonal", np.diagonal), ("swapaxes", np.swapaxes), ("squeeze", np.squeeze),
        ("ravel", np.ravel), ("flatten", np.ndarray.flatten), ("reshape", np.ndarray.reshape),
        ("transpose", np.ndarray.transpose), ("copy", np.copy), ("astype", np.astype),
        ("repeat", np.repeat), ("item", np.ndarray.item), ("round", np.round),
        ("argmax", np.argmax), ("argmin", np.argmin), ("argsort", np.argsort),
        ("nonzero", np.nonzero), ("any", np.any), ("all", np.all), ("take", np.take)]:
    register_method(_name, _primal)

for _name, _primal in [("T", np.transpose), ("mT", np.matrix_transpose), ("shape", np.shape),
                       ("ndim", np.ndim), ("size", np.size)]:
    register_attribute(_name, _primal)
