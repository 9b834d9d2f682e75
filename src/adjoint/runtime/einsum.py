"""Helpers of the rules for ``np.einsum``: every derivative of an einsum is an einsum.

``np.einsum`` is multilinear: its adjoint with respect to one operand is an einsum of the
output's adjoint with the other operands, onto that operand's letters. So generated code calls
one helper, :func:`einsum_of`, an einsum over nine *slots* (``np.einsum``'s own arguments
``subscripts, op0, ..., op7``) described by a :class:`EinsumSpec` that says which slots are
operands and with which letters; :func:`einsum_adjoint` gives the spec of the adjoint with
respect to one slot (the adjoint takes that slot's place). The adjoint of an ``einsum_of`` is an
``einsum_of`` again, so every order works. What the adjoint needs besides the operands — a
diagonal (``'ii->i'``: the adjoint lies on the diagonal of a zero matrix), an axis of length 1
that the einsum broadcast (the adjoint sums over it), a letter only the operand has (it
broadcasts) — is a constant operand of the spec: an identity matrix, ones.

    np.einsum('ij,jk->ik', a, b)   adjoint of a:   einsum_of(einsum_adjoint(None, 1, 'ij,jk->ik',
                                                   a, b), 'ij,jk->ik', dz, b)
                                   (that is, np.einsum('ik,jk->ij', dz, b))

Takes operands as NumPy takes them (arrays, numbers; the sublist form
``np.einsum(a, [0, 1], b, [1, 2], [0, 2])``, where the operands are slots 0, 2, ...; ``...``
in the subscripts); returns float64 arrays (a float for a scalar result).
"""

from __future__ import annotations

import numpy as np

from ..errors import NoRuleError

_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SLOTS = 9  # np.einsum(subscripts, op0, ..., op7)


class EinsumSpec:
    """An einsum over the slots of :func:`einsum_of`: ``inputs[k]`` the letters of slot ``k``
    (None: not an operand), ``output`` the result's letters, and a constant operand ``const``
    (an array, or None) with letters ``const_letters``."""

    def __init__(self, inputs, output, const=None, const_letters=""):
        self.inputs, self.output = tuple(inputs), output
        self.const, self.const_letters = const, const_letters

    def subscripts(self):
        used = [s for s in self.inputs if s is not None]
        if self.const is not None:
            used.append(self.const_letters)
        return ",".join(used) + "->" + self.output

    def __repr__(self):
        return f"EinsumSpec({self.subscripts()!r})"


def _parts(subscripts, ops):
    """Input and output subscripts of an einsum (implicit output: letters seen once, sorted),
    with every ``...`` written out as letters of its own (right-aligned, as NumPy broadcasts)."""
    spec = subscripts.replace(" ", "")
    if "->" in spec:
        lhs, out = spec.split("->")
    else:
        lhs = spec
        named = lhs.replace(".", "")
        out = ("..." if "..." in lhs else "") + "".join(
            sorted(c for c in set(named) if c.isalpha() and named.count(c) == 1))
    inputs = lhs.split(",")
    if len(inputs) != len(ops):
        raise NoRuleError(f"np.einsum: {subscripts!r} names {len(inputs)} operands, "
                          f"got {len(ops)}",
                          hint="adjoint's rule for np.einsum takes 1 to 8 operands")
    if "..." in spec:
        free = [c for c in _LETTERS if c not in spec]
        counts = [np.ndim(op) - (len(s) - 3) if "..." in s else 0 for s, op in zip(inputs, ops)]
        ellipsis = "".join(free[:max(counts)])
        inputs = [s.replace("...", ellipsis[len(ellipsis) - n:]) for s, n in zip(inputs, counts)]
        out = out.replace("...", ellipsis)
    return inputs, out


def _sublist_letters(sublist):
    """An einsum sublist (``[0, 1]``) as subscript letters, the way NumPy reads it."""
    return "".join("..." if label is Ellipsis else _LETTERS[int(label)] for label in sublist)


def einsum_spec(subscripts, op0=None, op1=None, op2=None, op3=None, op4=None, op5=None,
                op6=None, op7=None):
    """The :class:`EinsumSpec` of the call ``np.einsum(subscripts, op0, ...)`` (either form),
    over the slots ``(subscripts, op0, ..., op7)``."""
    args = [subscripts, op0, op1, op2, op3, op4, op5, op6, op7]
    while args and args[-1] is None:
        args.pop()
    slots = [None] * _SLOTS
    if isinstance(args[0], str):
        inputs, out = _parts(args[0], args[1:])
        for k, letters in enumerate(inputs):
            slots[k + 1] = letters
        return EinsumSpec(slots, out)
    pairs, rest = args[:len(args) - len(args) % 2], args[len(args) - len(args) % 2:]
    letters = [_sublist_letters(s) for s in pairs[1::2]]
    text = ",".join(letters) + ("->" + _sublist_letters(rest[0]) if rest else "")
    inputs, out = _parts(text, pairs[0::2])
    for k, letters in enumerate(inputs):
        slots[2 * k] = letters
    return EinsumSpec(slots, out)


def einsum_of(spec, x0=None, x1=None, x2=None, x3=None, x4=None, x5=None, x6=None, x7=None,
              x8=None):
    """The einsum ``spec`` describes, of the operands in its slots (``spec`` None: the call
    ``np.einsum(x0, x1, ...)`` itself)."""
    slots = [x0, x1, x2, x3, x4, x5, x6, x7, x8]
    if spec is None:
        while slots and slots[-1] is None:
            slots.pop()
        return np.einsum(*slots)
    ops = [np.asarray(x, dtype=np.float64) for x, s in zip(slots, spec.inputs) if s is not None]
    if spec.const is not None:
        ops.append(spec.const)
    result = np.einsum(spec.subscripts(), *ops)
    return result if spec.output else float(result)


def einsum_adjoint(spec, k, x0=None, x1=None, x2=None, x3=None, x4=None, x5=None, x6=None,
                   x7=None, x8=None):
    """The spec of the adjoint of slot ``k`` of ``einsum_of(spec, x0, ...)`` (``spec`` None:
    of ``np.einsum(x0, x1, ...)``): the output's adjoint takes slot ``k``'s place, and the result
    has slot ``k``'s letters — a repeated letter (a diagonal) through an identity matrix, an
    axis of length 1 that the einsum broadcast summed, a letter no other operand has through
    ones: constants of the new spec."""
    slots = [x0, x1, x2, x3, x4, x5, x6, x7, x8]
    if spec is None:
        spec = einsum_spec(*slots)
    mine = spec.inputs[k]
    if mine is None:
        raise NoRuleError(f"np.einsum: argument {k} is not an operand",
                          hint="differentiate with respect to the arrays only")
    sizes = {}
    for letters, x in list(zip(spec.inputs, slots)) + [(spec.const_letters, spec.const)]:
        if letters:
            for c, n in zip(letters, np.shape(x)):
                sizes[c] = max(sizes.get(c, 1), n)
    taken = set("".join(s for s in spec.inputs if s) + spec.output + spec.const_letters)
    free = iter(c for c in _LETTERS if c not in taken)
    inputs = list(spec.inputs)
    inputs[k] = spec.output
    pieces, output = [], ""  # constants: (letters, array)
    for c, n in zip(mine, np.shape(slots[k])):
        if c in output:  # a diagonal: the adjoint lies on it
            d = next(free)
            pieces.append((c + d, np.eye(n)))
            output += d
        elif n == 1 and sizes[c] != 1:  # broadcast: summed back to length 1
            d = next(free)
            pieces.append((d, np.ones(1)))
            output += d
        else:
            output += c
    bound = set("".join(s for s in inputs if s) + spec.const_letters +
                "".join(letters for letters, _ in pieces))
    for c in output:
        if c not in bound:  # only this operand has it: the adjoint is constant along it
            pieces.append((c, np.ones(sizes[c])))
            bound.add(c)
    const, const_letters = spec.const, spec.const_letters
    if pieces:
        if const is not None:
            pieces.insert(0, (const_letters, const))
        const_letters = "".join(dict.fromkeys("".join(letters for letters, _ in pieces)))
        const = np.einsum(",".join(letters for letters, _ in pieces) + "->" + const_letters,
                          *[array for _, array in pieces])
    return EinsumSpec(inputs, output, const, const_letters)
