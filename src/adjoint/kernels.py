"""What ``jit=True`` gives to Numba: the loops, outlined into kernels, and elementwise arithmetic
on large arrays, fused; NumPy keeps the rest.

Takes the source of one generated function (``def name(params): ...``, as
:func:`adjoint.jit.jit_source` writes it, data globals as leading parameters) and the argument
kinds it is specialised to; returns a :class:`Plan` saying how to run it under ``jit=True``:

* ``"whole"``: Numba compiles the whole function. Chosen when every argument is a number, and
  when everything outside the loops is *light* (allocations, indexing, arithmetic, ``len``...):
  one compiled call is then the fastest, and compiling it costs little. Straight-line code
  (``loops=False``) that Numba refuses runs as ``"numpy"`` instead.
* ``"numpy"``: no loop, and array work that Numba would compile slowly (or not at all:
  ``keepdims``, ``einsum``, n-d ``@``) while NumPy runs it as fast or faster. The function runs
  as it is, in Python; nothing is compiled.
* ``"kernels"``: loops *and* heavy array work. Each group of loops becomes a kernel function that
  Numba compiles — its parameters are the values it reads that are bound before it (or data
  globals), it returns the values it binds that are read after it — and the rest of the function,
  the *driver*, runs in Python and calls the kernels. A list tape (``t = []``) never crosses a
  kernel's boundary: the kernel that fills it also holds every use of it.

In the last two, :func:`fuse` also outlines the elementwise arithmetic of a statement into a
*fused* kernel ``<function>_fused<k>``, which :mod:`adjoint.jit` compiles once the arrays are
large enough to pay for it.

Guarantees: the driver and the kernels execute exactly the statements of the source, in the same
order, so the numbers are those of the generated code; every statement keeps its line number in
the driver or in its kernel (kernels are padded with blank lines), so a Numba error in a kernel
and a traceback in the driver map to the user's line through the generated code's ``linemap``.
Kernels read no global data (data globals come in as parameters), and are named
``<function>_loop<k>``.

For example, with ``X`` a matrix, the loop of ::

    def f(X, n):
        Z = np.exp(X - np.max(X, axis=1, keepdims=True))
        s = 0.0
        for i in range(n):
            s = s + Z[i, 0] * i
        return s

becomes a kernel ``f_loop1(Z, n, s)`` returning ``(s,)``, and the keepdims reduction runs in NumPy.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

# NumPy functions that only allocate or inspect: cheap to compile, free to run anywhere.
_LIGHT_NUMPY = frozenset({
    "empty", "zeros", "ones", "full", "empty_like", "zeros_like", "ones_like", "full_like",
    "shape", "ndim", "size", "arange", "float64", "int64", "float32", "bool_",
})
# Functions generated code calls that allocate, copy or convert (adjoint.runtime's and
# builtins): light as well. Every other call of a runtime helper implements a NumPy rule.
_LIGHT_CALLS = frozenset({
    "zeros_like", "fresh", "as_float", "len", "range", "abs", "min", "max", "float", "int",
    "bool", "round", "revolve_start", "auto_snapshots",
})


@dataclass
class Kernel:
    name: str
    source: str  # a def of the kernel, padded so its lines keep the driver's line numbers
    params: list  # the names it reads that are bound before it
    results: list  # the names it binds that are read after it
    fused: bool = False  # an elementwise expression (see fuse): Numba compiles it when it pays


@dataclass
class Plan:
    how: str  # "whole", "numpy" or "kernels"
    driver: str = ""  # the function with each kernel's statements replaced by its call
    kernels: list = field(default_factory=list)
    loops: bool = True  # False: straight-line code, which may run in NumPy if Numba refuses it
    groups: list = field(default_factory=list)  # [first, last] statements of each loop kernel


def plan(source, kinds=None, params=None):
    """How to run ``source`` (one generated def) under ``jit=True``; see the module docstring.
    ``kinds`` are those of ``params`` (the user's parameters; by default the source's first
    parameters)."""
    fdef = ast.parse(source).body[0]
    body = fdef.body
    if params is None:
        params = [a.arg for a in fdef.args.args]
    loops = [k for k, stmt in enumerate(body) if _has_loop(stmt)]
    if kinds is not None and all(k == "scalar" for k in kinds):
        return Plan("whole", loops=bool(loops))
    heavy = [k for k, stmt in enumerate(body) if _is_heavy(stmt)]
    groups = _groups(body, loops)
    outside = [k for k in heavy if not any(a <= k <= b for a, b in groups)]
    if not outside:
        return Plan("whole", loops=bool(loops))
    found = _outline(source, fdef, groups) if loops else Plan("numpy", source)
    outside_loops = [k for k in range(len(body)) if not any(a <= k <= b
                                                            for a, b in found.groups)]
    return fuse(found, fdef, dict(zip(params, kinds or ())), outside_loops)


def _has_loop(stmt):
    return any(isinstance(n, (ast.For, ast.While)) for n in ast.walk(stmt))


def _is_heavy(stmt):
    """Array work worth leaving to NumPy: ``@``, and calls other than allocations."""
    for node in ast.walk(stmt):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult):
            return True
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id not in _LIGHT_CALLS:
                return True
            if isinstance(func, ast.Attribute):
                root = func.value
                if isinstance(root, ast.Name) and root.id == "np" and \
                        func.attr in _LIGHT_NUMPY:
                    continue
                if isinstance(root, ast.Name) and root.id == "math":
                    continue
                return True
    return False


def _names(node, ctx):
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ctx)}


def _list_inits(body):
    """{name: index} of the top-level ``name = []`` statements (list tapes)."""
    return {stmt.targets[0].id: k for k, stmt in enumerate(body)
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and
            isinstance(stmt.targets[0], ast.Name) and isinstance(stmt.value, ast.List) and
            not stmt.value.elts}


def _groups(body, loops):
    """Contiguous index ranges [a, b] of ``body``, each holding one or more loops, such that
    every use of a list tape falls in one range (its initialisation moves into that kernel)."""
    spans = [[k, k] for k in loops]
    for name, start in _list_inits(body).items():
        uses = [k for k, stmt in enumerate(body) if k != start and name in _names(stmt, ast.Load)]
        if uses:
            spans.append([min(uses), max(uses)])
    spans.sort()
    merged = []
    for a, b in spans:
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return [tuple(s) for s in merged]


def _definitely_bound(stmt):
    """Names a top-level statement binds on every path through it."""
    if isinstance(stmt, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
        return _names(stmt, ast.Store)
    if isinstance(stmt, ast.If):
        then = set().union(*map(_definitely_bound, stmt.body)) if stmt.body else set()
        orelse = set().union(*map(_definitely_bound, stmt.orelse)) if stmt.orelse else set()
        return then & orelse
    return set()


def _outline(source, fdef, groups):
    body = fdef.body
    params = [a.arg for a in fdef.args.args]
    lines = source.splitlines()
    tapes = _list_inits(body)
    groups = _settle(body, params, tapes, [list(g) for g in groups])
    kernels = []
    driver = list(lines)
    for number, (start, end) in enumerate(groups, 1):
        stmts = body[start:end + 1]
        moved = [n for n, k in tapes.items() if k < start and _used_in(body, n, k, start, end)]
        ins, outs = _boundary(body, params, start, end, moved)
        first, last = stmts[0].lineno, stmts[-1].end_lineno
        name = f"{fdef.name}_loop{number}"
        results = "".join(o + ", " for o in outs)
        # blank lines, so the kernel's statements keep their line numbers; the list tapes it
        # fills are made on the line above its first statement
        text = ["" for _ in range(first - 2 - bool(moved))]
        text.append(f"def {name}({', '.join(ins)}):")
        if moved:
            text.append("    " + "; ".join(f"{n} = []" for n in moved))
            for n in moved:
                driver[body[tapes[n]].lineno - 1] = ""
        text += lines[first - 1:last]
        if outs:
            text.append(f"    return ({results})")
        kernels.append(Kernel(name, "\n".join(text) + "\n", ins, outs))
        call = f"{name}({', '.join(ins)})"
        driver[first - 1] = f"    ({results}) = {call}" if outs else f"    {call}"
        for k in range(first, last):
            driver[k] = ""
    return Plan("kernels", "\n".join(driver) + "\n", kernels, groups=groups)


def _used_in(body, name, init, start, end):
    """Whether every use of list tape ``name`` (made at ``body[init]``) is in start..end."""
    uses = [k for k, stmt in enumerate(body) if k != init and name in _names(stmt, ast.Load)]
    return bool(uses) and start <= min(uses) and max(uses) <= end


def _boundary(body, params, start, end, moved=()):
    """(parameters, results) of a kernel holding ``body[start:end + 1]``: the names it reads or
    may leave unchanged that are bound before it, and the names it binds that are read after.
    The list tapes ``moved`` are made inside the kernel."""
    bound_before = set(params).union(*(_names(s, ast.Store) for s in body[:start]))
    bound_before -= set(moved)
    stmts = body[start:end + 1]
    reads = set().union(*(_names(s, ast.Load) for s in stmts))
    binds = set().union(*(_names(s, ast.Store) for s in stmts))
    after = set().union(*(_names(s, ast.Load) for s in body[end + 1:]))
    outs = binds & after
    # a result the kernel may not bind (a branch) keeps the value it had: it comes in too
    return sorted((reads | outs) & bound_before), sorted(outs)


def _settle(body, params, tapes, groups):
    """Move kernels' starts back until each parameter is bound on every path before its kernel
    (one bound in a branch only could be unbound: the kernel then includes its binding), and
    merge kernels that overlap."""
    changed = True
    while changed:
        changed = False
        for group in groups:
            start, end = group
            moved = [n for n, k in tapes.items() if k < start and
                     _used_in(body, n, k, start, end)]
            ins, _ = _boundary(body, params, start, end, moved)
            definitely = set(params).union(*(_definitely_bound(s) for s in body[:start]))
            unsure = set(ins) - definitely
            if unsure:
                group[0] = min(k for k in range(start) if _names(body[k], ast.Store) & unsure)
                changed = True
        groups.sort()
        merged = []
        for a, b in groups:
            if merged and a <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], b)
                changed = True
            else:
                merged.append([a, b])
        groups = merged
    return groups


# -- fused elementwise arithmetic --------------------------------------------------------------

_ELEMENTWISE = (ast.Add, ast.Sub, ast.Mult, ast.Div)


def _is_core(node):
    return isinstance(node, ast.BinOp) and isinstance(node.op, _ELEMENTWISE) or \
        isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub)


def _is_none(part):
    return isinstance(part, ast.Constant) and part.value is None


def _new_axis(node):
    """``e[:, None]``, or any index with a ``None``: the result has an axis more, an array."""
    return isinstance(node, ast.Subscript) and any(map(_is_none, _index_parts(node)))


def _index_parts(node):
    return node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]


def _is_spread(node):
    """``x[:, None]``: a name indexed by full slices and ``None`` only (a broadcast view)."""
    return _new_axis(node) and isinstance(node.value, ast.Name) and all(
        _is_none(p) or isinstance(p, ast.Slice) and p.lower is None and p.upper is None and
        p.step is None for p in _index_parts(node))


def fuse(found, fdef, kinds, top):
    """``found`` with the elementwise arithmetic of some top-level statements (indices ``top``
    of ``fdef``'s body) outlined into kernels ``<function>_fused<k>`` that Numba compiles into
    one loop: ``d = (1.0 - h * h) * w * g[:, None]`` makes one array, not four, in one pass.

    A statement qualifies when its value is arithmetic (``+ - * /``, unary ``-``) of at least
    two operations on operands one of which is surely an array (a parameter of array kind never
    rebound, or ``x[:, None]``). Names, numbers and ``x[:, None]`` stay in the kernel; any other
    operand (a call, say) is computed by the driver and passed in. The driver line calls the
    kernel on the statement's line; the kernel's ``return`` is on that line too."""
    lines = (found.driver or "").splitlines()
    body = fdef.body
    rebound = set().union(*(_names(stmt, ast.Store) for stmt in body))
    arrays = {p for p, kind in kinds.items() if isinstance(kind, int) and kind >= 1} - rebound
    taken = {n.id for n in ast.walk(fdef) if isinstance(n, ast.Name)}
    kernels = []
    for k in top:
        stmt = body[k]
        if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and
                isinstance(stmt.targets[0], ast.Name) and _is_core(stmt.value)):
            continue
        outlined = _outline_arithmetic(stmt.value, arrays, taken)
        if outlined is None:
            continue
        expr, params, args = outlined
        name = f"{fdef.name}_fused{len(kernels) + 1}"
        text = ["" for _ in range(stmt.lineno - 2)]
        text += [f"def {name}({', '.join(params)}):", f"    return {expr}"]
        kernels.append(Kernel(name, "\n".join(text) + "\n", params, [], fused=True))
        indent = lines[stmt.lineno - 1][:len(lines[stmt.lineno - 1]) -
                                         len(lines[stmt.lineno - 1].lstrip())]
        lines[stmt.lineno - 1] = f"{indent}{stmt.targets[0].id} = {name}({', '.join(args)})"
        for j in range(stmt.lineno, stmt.end_lineno):
            lines[j] = ""
    if not kernels:
        return found
    return Plan("kernels", "\n".join(lines) + "\n", found.kernels + kernels, loops=found.loops
                if found.how == "kernels" else False, groups=found.groups)


def _outline_arithmetic(value, arrays, taken):
    """(kernel expression, kernel parameters, driver arguments) for the arithmetic ``value``,
    or None if it does not qualify (see :func:`fuse`)."""
    params, args = [], []
    counts = {"operations": 0, "arrays": 0}

    def param(name, arg):
        if name not in params:
            params.append(name)
            args.append(arg)
        return name

    def rebuild(node):
        if _is_core(node):
            counts["operations"] += 1
            if isinstance(node, ast.UnaryOp):
                return ast.UnaryOp(op=node.op, operand=rebuild(node.operand))
            return ast.BinOp(left=rebuild(node.left), op=node.op, right=rebuild(node.right))
        if isinstance(node, ast.Constant) and type(node.value) in (int, float):
            return node
        if isinstance(node, ast.Name):
            counts["arrays"] += node.id in arrays
            param(node.id, node.id)
            return node
        if _is_spread(node):
            counts["arrays"] += 1
            param(node.value.id, node.value.id)
            return node
        counts["arrays"] += _new_axis(node)  # (...)[:, None], computed by the driver
        k = len(params)
        while f"_operand{k}" in taken or f"_operand{k}" in params:
            k += 1
        return ast.Name(id=param(f"_operand{k}", ast.unparse(node)), ctx=ast.Load())

    tree = rebuild(value)
    if counts["operations"] < 2 or not counts["arrays"]:
        return None
    return ast.unparse(tree), params, args
