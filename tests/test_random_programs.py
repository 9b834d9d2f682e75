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
them) and ``JIT_PROGRAMS`` under ``jit=True`` (the first programs of the same seeds). Numba
compiles every generated adjoint (measured 1-10 s each on a shared machine, much of it the first
compilation of each NumPy overload in a process), so the jit budget is set by the environment
variable ``ADJOINT_RANDPROG_JIT`` (default 40); ``python tools/fuzz.py`` runs thousands.
"""

from __future__ import annotations

import os

import pytest
from randprog.run import reproducer, trial
from randprog.shrink import shrink

BASE_SEED = 1000
CHUNKS = 20
PER_CHUNK = 15
PY_PROGRAMS = CHUNKS * PER_CHUNK  # 300
JIT_PROGRAMS = int(os.environ.get("ADJOINT_RANDPROG_JIT", "40"))
JIT_PER_CHUNK = 5
SHRINK_SECONDS = 20.0
SHRUNK_PER_TEST = 2


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
        p = t.program
        src, params, wrt, args = shrink(p.source, list(p.params), p.wrt, t.args, mode,
                                        t.outcome.key, seconds=SHRINK_SECONDS)
        report.append(f"\n--- seed {t.seed}: {t.outcome.kind}: {t.outcome.detail[:500]}\n"
                      f"shrunk to:\n{reproducer(src, params, wrt, args, t.outcome, mode)}")
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
