"""Derivation cost does not explode with loop nesting (no timed assertions: work is counted).

The optimizer once solved each loop's liveness by re-analysing copies of its body inside every
fixpoint iteration of the enclosing loop, so its work grew about threefold per nesting level.
These tests count the syntax-tree nodes the optimizer visits (walks, node scans and copies,
through ``adjoint.grammar``) while it runs, for the same statements nested 1 to 4 loops deep,
and check the nested code's gradient against finite differences in Python mode and under jit.
``benchmarks/derive_time.py`` measures the times themselves.
"""

from __future__ import annotations

import importlib.util
import math

import pytest

import adjoint
from adjoint import grammar, pipeline
from adjoint.transforms import simplify

BODY = ["t = t * 0.5 + s",
        "if t > y:",
        "    s = s + math.sin(t)",
        "else:",
        "    s = s * 0.9 - t",
        "u = s * s + x",
        "s = math.tanh(u) + y"]


def _nested(depth, tmp_path):
    """``BODY`` inside ``depth`` nested ``for`` loops, loaded from a real file."""
    lines = ["import math", "", "", "def nested(x, y, m):", "    s = x * y", "    t = y"]
    pad = "    "
    for k in range(depth):
        lines.append(f"{pad}for i{k} in range(m):")
        pad += "    "
    lines += [pad + line for line in BODY]
    lines.append("    return s + t")
    path = tmp_path / f"nested_{depth}.py"
    path.write_text("\n".join(lines) + "\n")
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.nested


@pytest.fixture
def simplify_work(monkeypatch):
    """A function deriving ``fn`` and returning how many tree nodes the optimizer visited."""
    count = [0]
    running = [False]
    walk, clone, name_nodes, all_nodes, nodes_of = (
        grammar.walk, grammar.clone, grammar.name_nodes, grammar.all_nodes, grammar.nodes_of)

    def counted_walk(node):
        for n in walk(node):
            count[0] += running[0]
            yield n

    def counted_clone(node):
        out = clone(node)
        if running[0]:
            count[0] += len(all_nodes(out))
        return out

    def counted(scan):
        def wrapper(node, *args):
            out = scan(node, *args)
            count[0] += running[0] * len(out)
            return out
        return wrapper

    monkeypatch.setattr(grammar, "walk", counted_walk)
    monkeypatch.setattr(grammar, "clone", counted_clone)
    monkeypatch.setattr(grammar, "name_nodes", counted(name_nodes))
    monkeypatch.setattr(grammar, "all_nodes", counted(all_nodes))
    monkeypatch.setattr(grammar, "nodes_of", counted(nodes_of))
    run = simplify.Simplify.__call__

    def counted_run(self, fdef):
        running[0] = True
        try:
            return run(self, fdef)
        finally:
            running[0] = False

    monkeypatch.setattr(simplify.Simplify, "__call__", counted_run)

    def measure(fn):
        count[0] = 0
        derived = pipeline.derive(fn, (0, 1), kinds=("scalar",) * 3)
        return count[0], derived.source.count("\n")

    return measure


def test_optimizer_work_grows_with_code_size_not_nesting_depth(simplify_work, tmp_path):
    work_1, lines_1 = simplify_work(_nested(1, tmp_path))
    work_4, lines_4 = simplify_work(_nested(4, tmp_path))
    assert work_1 > 0
    # Depth 4 adds a few loop headers and tape statements (lines_4 / lines_1 is ~1.5); the
    # optimizer's work may grow as much, with room to spare, but not by 3x per level (~15x).
    assert work_4 / work_1 < 1.5 * lines_4 / lines_1, (work_1, work_4, lines_1, lines_4)


def _fd_gradient(f, args, wrt, h=1e-6):
    out = []
    for k in wrt:
        up, down = list(args), list(args)
        up[k] += h
        down[k] -= h
        out.append((f(*up) - f(*down)) / (2 * h))
    return out


@pytest.mark.parametrize("jit", [False, True], ids=["python", "jit"])
@pytest.mark.parametrize("depth", [1, 3])
def test_nested_loop_gradient_matches_finite_differences(depth, jit, tmp_path):
    fn = _nested(depth, tmp_path)
    args = (0.3, 0.7, 2)
    got = adjoint.grad(fn, wrt=(0, 1), jit=jit)(*args)
    expected = _fd_gradient(fn, args, (0, 1))
    for g_, e in zip(got, expected):
        assert math.isclose(g_, e, rel_tol=1e-6, abs_tol=1e-8), (got, expected)
