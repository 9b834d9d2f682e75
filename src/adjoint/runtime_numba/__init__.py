"""Numba implementations of the runtime helpers, registered on the helpers themselves.

Importing this package is all ``jit=True`` needs: it registers, with
``numba.extending.overload``, an implementation for every function in
:data:`adjoint.runtime.__all__`, so a ``numba.njit`` function that calls ``adjoint.runtime.X``
(the very object Python mode calls) compiles. Each overload looks at the Numba *types* of its
arguments at compile time and returns a small implementation for that case only, so a helper
costs nothing for the cases it does not need — ``unbroadcast`` of two arrays of the same
dimension is one shape comparison — and every branch of one implementation returns one type.

Guarantees, for every argument type the plain-Python helper accepts and Numba can type: the
result equals the plain-Python result to rounding (summation order may differ), with the same
kind (float for scalars, float64 arrays for array adjoints; a 0-d array may come back as a
float, as 0-d arithmetic does under Numba). Where Numba cannot express a case at all there is
no implementation and Numba says so at compile time: an integer index array of more than one
dimension (Numba cannot index with one either), and the helpers of NumPy functions Numba cannot
compile (``np.einsum``, ``np.tensordot``, ``np.pad``), whose overloads name the function.

Arguments that select a shape (``keepdims``, an ``order`` or ``ord`` string, a dtype) must be
constants, as generated code writes them. Run-time errors keep Python mode's exception classes
(``ValueError``, :class:`~adjoint.errors.NoRuleError`); their messages are shorter where Numba
cannot format a value.

One module per module of :mod:`adjoint.runtime` (:mod:`.core`, :mod:`.reductions`,
:mod:`.linalg`, :mod:`.shape`, :mod:`.creation`, :mod:`.elementwise`, :mod:`.indexing`,
:mod:`.revolve`), plus :mod:`.common`, the building blocks they share. Importing this package
imports them all.
"""

from . import (  # noqa: F401
    core,
    creation,
    elementwise,
    indexing,
    linalg,
    objmode,
    reductions,
    revolve,
    shape,
)
