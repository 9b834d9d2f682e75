"""Shrinking a failing program to a minimal one with the same failure.

Takes a failing program (module source, parameters, ``wrt``, point, mode) and the failure's
:attr:`~randprog.check.Outcome.key`; guarantees a program no larger that still fails with the
same key at the same point (restricted to the parameters it keeps). Candidates, largest cuts
first, each tried on a copy of the tree and kept when the failure survives:

- delete a helper nobody calls, half of a block, a statement, or a whole ``if``/loop;
- flatten an ``if`` into its body or its ``else``; replace a loop by its body run once
  (``for i in range(...)`` becomes ``i = 0`` and the body), or shorten ``range(k)``;
- turn ``break``/``continue``/an early ``return`` into ``pass``;
- replace an expression by one of its operands, or by a constant;
- drop a parameter the function no longer reads (and its argument and ``wrt`` entry).

A candidate that is not well defined at the point fails differently (``skip``), so it is never
kept: the shrunk program stays a valid test case. Stops at a fixpoint or after ``budget``
evaluations, or after ``seconds`` of CPU time (a loaded machine shrinks as far as an idle one).
"""

from __future__ import annotations

import ast
import copy
import time
import warnings

from .check import evaluate

_CONSTANT_CANDIDATES = (0.5, 1.0)


def _locate(tree, target_index):
    """The node numbered ``target_index`` in ``ast.walk`` order."""
    for i, node in enumerate(ast.walk(tree)):
        if i == target_index:
            return node
    raise IndexError(target_index)


def _numbered(tree):
    return list(enumerate(ast.walk(tree)))


def _protected(tree):
    """ids of the nodes that keep ``while`` loops finite: the test and the counter increment
    that starts the body (the generator's loops always have this form)."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.While):
            out.update(id(n) for n in ast.walk(node.test))
            if node.body and isinstance(node.body[0], ast.AugAssign):
                out.update(id(n) for n in ast.walk(node.body[0]))
    return out


def _stmt_edits(tree):
    """Edits of statement lists: functions taking a copy of the tree and changing it."""
    edits = []
    numbered = _numbered(tree)
    protected = _protected(tree)
    for idx, node in numbered:
        for fieldname in ("body", "orelse"):
            stmts = getattr(node, fieldname, None)
            if not (isinstance(stmts, list) and stmts and isinstance(stmts[0], ast.stmt)):
                continue
            if len(stmts) >= 4:  # delta debugging: try dropping each half first
                half = len(stmts) // 2
                for lo, hi in ((0, half), (half, len(stmts))):
                    chunk = stmts[lo:hi]
                    if not any(id(st) in protected or isinstance(st, (ast.Import, ast.ImportFrom))
                               for st in chunk):
                        edits.append((sum(_size(st) for st in chunk), _delete(idx, fieldname, lo,
                                                                               hi)))
            for pos, stmt in enumerate(stmts):
                if id(stmt) in protected or isinstance(stmt, (ast.Import, ast.ImportFrom)):
                    continue
                edits.append((_size(stmt), _delete(idx, fieldname, pos, pos + 1)))
                replacements = []
                if isinstance(stmt, ast.If):
                    replacements.append(stmt.body)
                    if stmt.orelse:
                        replacements.append(stmt.orelse)
                if isinstance(stmt, ast.For):
                    replacements.append(_unrolled_for(stmt))
                if isinstance(stmt, ast.While):
                    replacements.append(stmt.body)
                if isinstance(stmt, (ast.Break, ast.Continue, ast.Return)) and fieldname:
                    if not (isinstance(node, ast.FunctionDef) and pos == len(stmts) - 1):
                        replacements.append([ast.Pass()])
                for rep in replacements:
                    if rep is not None:
                        edits.append((_size(stmt) - sum(_size(s) for s in rep),
                                      _replace(idx, fieldname, pos, rep)))
                if isinstance(stmt, ast.For):
                    shorter = _shorter_range(stmt)
                    if shorter is not None:
                        edits.append((1, _replace(idx, fieldname, pos, [shorter])))
    edits.sort(key=lambda e: -e[0])
    return [e for _, e in edits]


def _size(node):
    return sum(1 for _ in ast.walk(node))


def _delete(idx, fieldname, lo, hi):
    def edit(tree):
        stmts = getattr(_locate(tree, idx), fieldname)
        del stmts[lo:hi]
        if not stmts:
            if fieldname == "orelse":
                return
            stmts.append(ast.Pass())
    return edit


def _replace(idx, fieldname, pos, replacement):
    def edit(tree):
        stmts = getattr(_locate(tree, idx), fieldname)
        stmts[pos:pos + 1] = copy.deepcopy(replacement)
    return edit


def _unrolled_for(stmt):
    it = stmt.iter
    if isinstance(stmt.target, ast.Name) and isinstance(it, ast.Call) and \
            isinstance(it.func, ast.Name) and it.func.id == "range":
        start = it.args[0] if len(it.args) > 1 else ast.Constant(0)
        return [ast.Assign(targets=[ast.Name(stmt.target.id, ast.Store())], value=start,
                           lineno=0)] + stmt.body
    return None


def _shorter_range(stmt):
    it = stmt.iter
    if isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and it.func.id == "range" \
            and len(it.args) == 1 and isinstance(it.args[0], ast.Constant) \
            and isinstance(it.args[0].value, int) and it.args[0].value > 1:
        new = copy.deepcopy(stmt)
        new.iter.args[0] = ast.Constant(it.args[0].value - 1)
        return new
    return None


_EXPR_FIELDS = ("left", "right", "operand", "body", "orelse", "value")


def _expr_edits(tree):
    """Replace an expression by a sub-expression or a constant."""
    edits = []
    callees = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    callees |= _protected(tree)
    for idx, node in _numbered(tree):
        if id(node) in callees:
            continue
        if not isinstance(node, ast.expr) or isinstance(node, (ast.Constant, ast.Name)):
            continue
        if isinstance(node, (ast.Tuple, ast.Slice)) or isinstance(getattr(node, "ctx", None),
                                                                   ast.Store):
            continue
        subs = []
        for name in _EXPR_FIELDS:
            child = getattr(node, name, None)
            if isinstance(child, ast.expr):
                subs.append(child)
        if isinstance(node, ast.Call):
            subs.extend(a for a in node.args if not isinstance(a, ast.Constant))
        if isinstance(node, ast.BoolOp):
            subs.extend(node.values)
        if isinstance(node, ast.Compare):
            subs = [ast.Constant(True), ast.Constant(False)]
        for sub in subs:
            edits.append(_swap_expr(idx, sub))
        if not isinstance(node, (ast.Compare, ast.BoolOp)):
            for c in _CONSTANT_CANDIDATES:
                edits.append(_swap_expr(idx, ast.Constant(c)))
    return edits


def _swap_expr(idx, replacement):
    def edit(tree):
        target = _locate(tree, idx)
        for parent in ast.walk(tree):
            for fieldname, value in ast.iter_fields(parent):
                if value is target:
                    setattr(parent, fieldname, copy.deepcopy(replacement))
                    return
                if isinstance(value, list):
                    for i, item in enumerate(value):
                        if item is target:
                            value[i] = copy.deepcopy(replacement)
                            return
    return edit


def _unused_helpers(tree):
    edits = []
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    for pos, stmt in enumerate(tree.body):
        if isinstance(stmt, ast.FunctionDef) and stmt.name != "f" and stmt.name not in names:
            edits.append(_delete_top(pos))
    return edits


def _delete_top(pos):
    def edit(tree):
        del tree.body[pos]
    return edit


def _unused_params(tree, params, wrt):
    """(parameter name) for each parameter of f the body no longer reads."""
    f = next(s for s in tree.body if isinstance(s, ast.FunctionDef) and s.name == "f")
    read = {n.id for n in ast.walk(f) if isinstance(n, ast.Name)}
    return [p for p in params if p not in read and not (len(wrt) == 1 and p in wrt)]


def _without_param(tree, name):
    f = next(s for s in tree.body if isinstance(s, ast.FunctionDef) and s.name == "f")
    f.args.args = [a for a in f.args.args if a.arg != name]


def shrink(source, params, wrt, args, mode, key, budget=400, seconds=120.0):
    """(source, params, wrt, args) of a minimal program failing with ``key``."""
    params, wrt, args = list(params), tuple(wrt), tuple(args)
    tree = ast.parse(source)
    deadline = time.process_time() + seconds
    evaluations = 0

    def still_fails(candidate, cparams, cwrt, cargs):
        nonlocal evaluations
        evaluations += 1
        try:
            text = ast.unparse(ast.fix_missing_locations(candidate))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                compile(text, "<candidate>", "exec")
        except (SyntaxError, ValueError, TypeError, AttributeError, IndexError):
            return None
        outcome = evaluate(text, cparams, cwrt, cargs, mode)
        return text if outcome.key == key else None

    progress = True
    while progress and evaluations < budget and time.process_time() < deadline:
        progress = False
        for name in _unused_params(tree, params, wrt):
            candidate = copy.deepcopy(tree)
            _without_param(candidate, name)
            pos = params.index(name)
            cparams = params[:pos] + params[pos + 1:]
            cargs = args[:pos] + args[pos + 1:]
            cwrt = tuple(w for w in wrt if w != name)
            if cwrt and still_fails(candidate, cparams, cwrt, cargs):
                tree, params, wrt, args = candidate, cparams, cwrt, cargs
                progress = True
                break
        if not progress and len(wrt) > 1:
            for name in wrt:
                cwrt = tuple(w for w in wrt if w != name)
                if still_fails(copy.deepcopy(tree), params, cwrt, args):
                    wrt = cwrt
                    progress = True
                    break
        if progress:
            continue
        for edits in (_unused_helpers, _stmt_edits, _expr_edits):
            for edit in edits(tree):
                if evaluations >= budget or time.process_time() > deadline:
                    break
                candidate = copy.deepcopy(tree)
                try:
                    edit(candidate)
                except (IndexError, AttributeError):
                    continue
                if still_fails(candidate, params, wrt, args):
                    tree = candidate
                    progress = True
                    break
            if progress:
                break
    return ast.unparse(tree) + "\n", params, wrt, args
