"""Random-program differential testing: generated programs across the supported subset.

Takes the seeded generator of :mod:`randprog` (see docs/testing.md). Checks, for a fixed set of
seeds (so CI is deterministic):

- Python mode: every program's value and gradient agree with central finite differences in
  float64 at a point where finite differences can be trusted (no kink or branch flip within a
  step), and the gradient call leaves the caller's arrays unchanged;
- ``jit=True``: the same, and the jitted gradient equals Python mode's to ~1e-8.

A located refusal (any ``adjoint.AdjointError``) passes; a wrong number, a changed argument or
any other exception fails the test, which prints the failing program shrunk to a minimal one.

Budget: ``PY_PROGRAMS`` programs in Python mode (20 chunks, so ``pytest -n auto`` balances
them) and ``JIT_PROGRAMS`` under ``jit=True`` (the first programs of the same seeds). Measured
at HEAD of writing: Python mode costs ~0.05 s of CPU per program (300: ~16 s), ``jit=True``
~2.8 s (Numba compiles every generated adjoint, and adjoints that call NumPy's transcendental
ufuncs are not kept in the on-disk cache), so 300 jit programs would take ~14 CPU minutes. The
jit budget is therefore set by the environment variable ``ADJOINT_RANDPROG_JIT`` (default 30,
~85 s of CPU); ``python tools/fuzz.py`` runs thousands.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from randprog import check
from randprog.check import evaluate
from randprog.generate import generate
from randprog.run import reproducer, shrink_trial, trial
from randprog.shrink import shrink

import adjoint

BASE_SEED = 1000
CHUNKS = 20
PER_CHUNK = 15
PY_PROGRAMS = CHUNKS * PER_CHUNK  # 300
JIT_PROGRAMS = int(os.environ.get("ADJOINT_RANDPROG_JIT", "30"))
JIT_PER_CHUNK = 5
SHRINK_SECONDS = 10.0
SHRUNK_PER_TEST = 1


def _check(seeds, mode):
    failures = []
    for seed in seeds:
        t = trial(seed, mode)
        assert t.outcome.kind != "skip", f"seed {seed}: no checkable program: {t.outcome.detail}"
        if t.failed:
            failures.append(t)
    if not failures:
        return
    report = [f"{len(failures)} of {len(seeds)} programs failed in {mode} mode: seeds "
              f"{[t.seed for t in failures]}"]
    for t in failures[:SHRUNK_PER_TEST]:
        src, params, wrt, args, shrunk, smode = shrink_trial(t, mode, SHRINK_SECONDS)
        report.append(f"\n--- seed {t.seed}: {t.outcome.kind}: {t.outcome.detail[:500]}\n"
                      f"shrunk to:\n{reproducer(src, params, wrt, args, shrunk, smode)}")
    pytest.fail("\n".join(report), pytrace=False)


@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_random_programs_python(chunk):
    start = BASE_SEED + chunk * PER_CHUNK
    _check(range(start, start + PER_CHUNK), "py")


@pytest.mark.parametrize("chunk", range(-(-JIT_PROGRAMS // JIT_PER_CHUNK)))
def test_random_programs_jit(chunk):
    start = BASE_SEED + chunk * JIT_PER_CHUNK
    stop = min(start + JIT_PER_CHUNK, BASE_SEED + JIT_PROGRAMS)
    _check(range(start, stop), "jit")


# --- the tester itself: it must be able to fail ---------------------------------------------

SMALL = """import math

import numpy as np


def f(x, a):
    s = math.sin(x) * 2.0
    v = a * s
    for i in range(3):
        v[i] += x * x
    if s > 10.0:
        return s
    t = np.sum(np.cos(v))
    return t + s
"""
SMALL_ARGS = (0.3, np.array([0.2, -0.4, 0.9]))


def _patched(monkeypatch, change):
    """Replace adjoint.value_and_grad inside the checker by a version whose result (or call)
    ``change`` alters."""
    real = adjoint.value_and_grad

    def fake(f, wrt, jit=False):
        inner = real(f, wrt=wrt, jit=jit)

        def call(*args):
            return change(f, args, inner)
        return call
    monkeypatch.setattr(check.adjoint, "value_and_grad", fake)


def test_generator_is_deterministic_and_valid():
    for seed in range(200):
        program = generate(seed)
        assert program.source == generate(seed).source
        compile(program.source, f"<seed {seed}>", "exec")
        assert set(program.wrt) <= set(program.params)


def test_oracle_passes_a_right_gradient():
    assert evaluate(SMALL, ["x", "a"], ("x", "a"), SMALL_ARGS, "py").kind == "ok"


@pytest.mark.parametrize("change, kind", [
    (lambda f, args, inner: (inner(*args)[0], (inner(*args)[1][0] * 1.001, inner(*args)[1][1])),
     "wrong"),
    (lambda f, args, inner: (inner(*args)[0] + 1e-6, inner(*args)[1]), "wrong"),
    (lambda f, args, inner: (inner(*args)[0], (inner(*args)[1][0], args[1])), "wrong"),
    (lambda f, args, inner: (inner(*args)[0], (np.array(inner(*args)[1][0]), inner(*args)[1][1])),
     "wrong"),
    (lambda f, args, inner: (args[1].__setitem__(0, 5.0), inner(*args))[1], "mutated"),
    (lambda f, args, inner: 1 / 0, "crash"),
    (lambda f, args, inner: (_ for _ in ()).throw(adjoint.NoRuleError("no rule")), "refused"),
])
def test_oracle_classifies_failures(monkeypatch, change, kind):
    _patched(monkeypatch, change)
    assert evaluate(SMALL, ["x", "a"], ("x", "a"), SMALL_ARGS, "py").kind == kind


def test_oracle_rejects_points_at_a_kink():
    source = "import numpy as np\n\n\ndef f(x):\n    return abs(x - 0.5)\n"
    assert evaluate(source, ["x"], ("x",), (0.5,), "py").kind == "skip"
    assert evaluate(source, ["x"], ("x",), (0.7,), "py").kind == "ok"


def test_shrinker_keeps_the_failure_and_cuts_the_rest(monkeypatch):
    # A fake bug: the gradient is wrong whenever the program calls np.cos.
    def change(f, args, inner):
        value, grads = inner(*args)
        if "np.cos" in open(f.__code__.co_filename).read():
            grads = tuple(g * 2.0 + 1.0 for g in grads)
        return value, grads
    _patched(monkeypatch, change)
    outcome = evaluate(SMALL, ["x", "a"], ("x", "a"), SMALL_ARGS, "py")
    assert outcome.kind == "wrong"
    src, params, wrt, args = shrink(SMALL, ["x", "a"], ("x", "a"), SMALL_ARGS, "py",
                                    outcome.key, seconds=60.0)
    assert "np.cos" in src
    assert "for " not in src and "if " not in src
    assert len(src.strip().splitlines()) < len(SMALL.strip().splitlines()) - 6
    assert evaluate(src, params, wrt, args, "py").kind == "wrong"


def test_a_reproducer_is_a_script_whatever_the_failure_says():
    """A detail quoting a matrix spans lines; each must stay a comment (fuzz seed 900329)."""
    outcome = check.Outcome("wrong", "d/dM: adjoint [[0.84, 0.45],\n [1.05, 0.24]]")
    script = reproducer("def f(M):\n    return np.sum(M)\n", ["M"], ["M"], [np.ones((2, 2))],
                        outcome, "py")
    compile(script, "reproducer.py", "exec")
