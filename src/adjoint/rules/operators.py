"""Rules for Python's operators (``a + b``, ``a ** b``, ``-a``, ``a @ b`` ...), keyed by the
functions of the ``operator`` module that the operator nodes stand for.

Operators broadcast on NumPy arrays, so reverse contributions of binary operators are summed back
to each operand's shape (``unbroadcast``); the optimizer drops that call where shapes are provably
equal, so scalar code reads as plain arithmetic.
"""

import operator

from .registry import elementwise, jvp, nondiff, vjp


@elementwise(operator.add, broadcast=True)
def add(z, a, b):
    """d(a + b) = da + db"""
    return 1.0, 1.0


@elementwise(operator.sub, broadcast=True)
def sub(z, a, b):
    """d(a - b) = da - db"""
    return 1.0, -1.0


@elementwise(operator.mul, broadcast=True)
def mul(z, a, b):
    """d(a * b) = b da + a db"""
    return b, a


@elementwise(operator.truediv, broadcast=True)
def truediv(z, a, b):
    """d(a / b) = da / b - a db / b²"""
    return 1.0 / b, -z / b


@elementwise(operator.pow, broadcast=True)
def pow(z, a, b):
    """d(a ** b) = b a^(b-1) da + log(a) a^b db   (the da term is 0 where b == 0, the db term
    where a <= 0)"""
    return pow_dx(a, b), z * safe_log(a)  # noqa: F821


@elementwise(operator.mod, broadcast=True)
def mod(z, a, b):
    """d(a % b) = da - floor(a / b) db   (a % b = a - floor(a / b) * b)"""
    return 1.0, -(a // b)


@elementwise(operator.neg)
def neg(z, a):
    """d(-a) = -da"""
    return -1.0


@elementwise(operator.pos)
def pos(z, a):
    """d(+a) = da"""
    return 1.0


@vjp(operator.matmul)
def matmul(z, a, b):
    """d(a @ b) = da @ b + a @ db"""
    d[a] = matmul_vjp_a(d[z], a, b)  # noqa: F821
    d[b] = matmul_vjp_b(d[z], a, b)  # noqa: F821


@jvp(operator.matmul)
def matmul_jvp(z, a, b):
    """d(a @ b) = da @ b + a @ db"""
    d[z] = d[a] @ b + a @ d[b]  # noqa: F821


nondiff(operator.floordiv, doc="a // b is piecewise constant: zero derivative")
nondiff(operator.eq, operator.ne, operator.lt, operator.le, operator.gt, operator.ge,
        operator.is_, operator.is_not, operator.contains, operator.not_,
        operator.and_, operator.or_, operator.xor, operator.invert,
        operator.lshift, operator.rshift, doc="comparison or bitwise operator: no derivative")
