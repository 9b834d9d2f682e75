"""What the zoo test modules share.

- :func:`build`: a transformed function built once per (transform, entry, mode, options) and
  reused across cases and points (Numba compiles once per argument-type signature).
- :func:`rng`: a NumPy generator seeded from a hash of a key such as (zoo, entry, case, point):
  every entry and every point draws from its own, independent stream. (Small fixed seeds shared
  by all entries made every entry see the same first draws: the first ``rng.choice([-1, 1])``
  was -1 for all of them, so some branch arms never ran.)
- :func:`zoo_points`, :func:`numpy_points`: the argument tuples the zoo tests check, random draws
  plus an entry's explicit ``points`` (added where random draws miss a branch arm).
- :func:`missing_arms`: which arms of the ``if``/``elif``/``else`` statements and conditional
  expressions of a zoo function (and of the module's functions it calls) no test point runs,
  found by running an instrumented copy of the source; the zoo tests assert there are none.
"""

from __future__ import annotations

import ast
import hashlib
import inspect
import textwrap
import types

import numpy as np

_BUILT = {}

ZOO_POINTS = 3  # random points per zoo entry
NUMPY_POINTS = 2  # random points per shape case of a NumPy zoo entry


def build(transform, entry, mode, **options):
    """``transform(entry.fn, wrt=entry.wrt, jit=..., **options)``, built once per (transform,
    entry, mode, options)."""
    options_key = tuple(sorted(options.items()))
    key = (transform.__name__, entry.fn.__module__, entry.name, mode, options_key)
    if key not in _BUILT:
        _BUILT[key] = transform(entry.fn, wrt=entry.wrt, jit=(mode == "jit"), **options)
    return _BUILT[key]


def rng(*key):
    """A generator whose seed is a hash of ``key`` (independent streams for distinct keys)."""
    digest = hashlib.sha256(repr(key).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:16], "little"))


def copy_args(args):
    return tuple(a.copy() if isinstance(a, np.ndarray) else a for a in args)


def zoo_points(entry):
    """``[(label, args)]``: ``ZOO_POINTS`` random draws of a :mod:`zoo` entry, then its explicit
    points (fresh copies on every call)."""
    drawn = [(f"random {k}", entry.args(rng("zoo", entry.name, k))) for k in range(ZOO_POINTS)]
    explicit = [(f"point {k}", copy_args(p)) for k, p in enumerate(entry.points)]
    return drawn + explicit


def numpy_points(entry, cases=None):
    """``[(case label, point label, args)]`` of a :mod:`numpy_zoo` entry: ``NUMPY_POINTS``
    random draws of each of ``cases`` (default: all), then the explicit points of those cases."""
    cases = entry.cases if cases is None else cases
    out = [(label, f"random {k}", draw(rng("numpy", entry.name, label, k)))
           for label, draw in cases for k in range(NUMPY_POINTS)]
    labels = {label for label, _ in cases}
    out += [(label, f"point {k}", copy_args(args))
            for k, (label, args) in enumerate(entry.points) if label in labels]
    return out


# --- branch coverage ---------------------------------------------------------------------------


class _Probes(ast.NodeTransformer):
    """Wraps the test of every ``if`` and conditional expression in ``__arm__(k, test)``."""

    def __init__(self, where, probes):
        self.where = where
        self.probes = probes  # index -> (where, line, condition text)

    def _wrap(self, node):
        self.generic_visit(node)
        k = len(self.probes)
        self.probes.append((self.where, node.test.lineno, ast.unparse(node.test)))
        call = ast.Call(ast.Name("__arm__", ast.Load()), [ast.Constant(k), node.test], [])
        node.test = ast.copy_location(call, node.test)
        return node

    visit_If = _wrap
    visit_IfExp = _wrap


def _definition(fn):
    """``fn``'s ``def`` node at its lines in its file, without its decorators (they run at
    import, not in calls)."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    ast.increment_lineno(tree, fn.__code__.co_firstlineno - 1)
    fdef = tree.body[0]
    fdef.decorator_list = []
    return fdef


def _callees(fn):
    """The functions of ``fn``'s module that ``fn``'s source names (transitively)."""
    found, todo = {}, [fn]
    while todo:
        f = todo.pop()
        for node in ast.walk(_definition(f)):
            if isinstance(node, ast.Name):
                g = f.__globals__.get(node.id)
                if (isinstance(g, types.FunctionType) and g.__module__ == fn.__module__
                        and g is not fn and node.id not in found):
                    found[node.id] = g
                    todo.append(g)
    return found


def _instrument(fn, namespace, probes):
    """A copy of ``fn`` compiled from its probed source into ``namespace``."""
    fdef = _Probes(fn.__qualname__, probes).visit(_definition(fn))
    tree = ast.Module([fdef], [])
    free = fn.__code__.co_freevars
    if free:  # a closure: define it inside a factory taking the cells' values
        factory = ast.parse(f"def __factory__({', '.join(free)}):\n    pass")
        factory.body[0].body = [fdef, ast.Return(ast.Name(fdef.name, ast.Load()))]
        tree = factory
    ast.fix_missing_locations(tree)
    scope = {}
    exec(compile(tree, fn.__code__.co_filename, "exec"), namespace, scope)
    if free:
        return scope["__factory__"](*[c.cell_contents for c in fn.__closure__])
    return scope[fdef.name]


def missing_arms(fn, calls):
    """``[(function, line, condition, arm)]`` for every arm (True or False) of every ``if`` test
    and conditional expression of ``fn``, and of the module functions it calls, that running
    ``fn`` on the argument tuples ``calls`` never takes."""
    probes, seen = [], {}

    def arm(k, value):
        seen.setdefault(k, set()).add(bool(value))
        return value

    namespace = dict(fn.__globals__, __arm__=arm)
    for name, helper in _callees(fn).items():
        namespace[name] = _instrument(helper, namespace, probes)
    probed = _instrument(fn, namespace, probes)
    with np.errstate(all="ignore"):
        for args in calls:
            probed(*copy_args(args))
    return [(where, line, text, value) for k, (where, line, text) in enumerate(probes)
            for value in (True, False) if value not in seen.get(k, ())]


def uncovered_arms(zoo, calls_of):
    """Problems with branch coverage of ``zoo`` at ``calls_of(entry)`` (the argument tuples an
    entry is tested at): arms never run that are not declared unreachable, and declared
    unreachable arms that do run."""
    problems = []
    for entry in zoo:
        missed = {(text, arm): (where, line)
                  for where, line, text, arm in missing_arms(entry.fn, calls_of(entry))}
        declared = {(text, arm) for text, arm, _ in entry.unreachable}
        problems += [f"{entry.name}: {where} line {line}: `{text}` is never {arm}"
                     for (text, arm), (where, line) in missed.items()
                     if (text, arm) not in declared]
        problems += [f"{entry.name}: `{text}` is declared unreachable but is {arm} at a point"
                     for text, arm in declared - set(missed)]
    return problems
