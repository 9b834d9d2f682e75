"""Run thousands of random programs through adjoint and report what fails.

    python tools/fuzz.py --count 5000 --mode both --seed 0 --out fuzz-failures

Each seed gives one program of the generator in tests/randprog (the same programs the test suite
checks, tests/test_random_programs.py, uses seeds from 1000 on). A program is checked against
central finite differences in Python mode and, with --mode jit or both, ``jit=True`` against finite
differences and against Python mode. Prints a table (tried, ok, wrong, mutated, crashed, refused
per mode) and the refusals by error class; each failure is shrunk to a minimal program and written
as a standalone script to the --out directory (the first --max-shrink failures of each distinct
kind; the rest are listed). Exit status 1 when anything was wrong, mutated or crashed.

The adjoint under test is this checkout's src/; set ADJOINT_SRC to a directory to test another
(ADJOINT_SRC=../other/src python tools/fuzz.py ...), with this checkout's generator.
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for path in (Path(os.environ.get("ADJOINT_SRC", ROOT / "src")), ROOT / "tests"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from randprog.generate import FEATURES  # noqa: E402
from randprog.run import reproducer, shrink_trial, trial  # noqa: E402

KINDS = ("ok", "wrong", "mutated", "crash", "refused", "skip")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000, help="programs per mode")
    parser.add_argument("--mode", choices=("py", "jit", "both"), default="py")
    parser.add_argument("--seed", type=int, default=0, help="first seed")
    parser.add_argument("--out", default="fuzz-failures", help="directory for reproducers")
    parser.add_argument("--max-shrink", type=int, default=3,
                        help="failures shrunk per distinct failure signature")
    parser.add_argument("--shrink-seconds", type=float, default=60.0)
    parser.add_argument("--exclude", default="",
                        help="comma-separated feature groups to leave out (to look past known "
                        f"bugs): {', '.join(FEATURES)}")
    opts = parser.parse_args(argv)
    exclude = frozenset(x for x in opts.exclude.split(",") if x)
    modes = ("py", "jit") if opts.mode == "both" else (opts.mode,)
    out = Path(opts.out)
    out.mkdir(parents=True, exist_ok=True)
    counts = {mode: collections.Counter() for mode in modes}
    refusals = collections.Counter()
    signatures = collections.Counter()
    failures = []
    start = time.monotonic()
    for seed in range(opts.seed, opts.seed + opts.count):
        for mode in modes:
            t = trial(seed, mode, exclude)
            kind = t.outcome.kind
            counts[mode][kind] += 1
            if kind == "refused":
                refusals[(mode, t.outcome.detail.split(":")[0])] += 1
            if t.failed:
                sig = (mode, kind, t.outcome.extra.get("exc", ""))
                signatures[sig] += 1
                failures.append((t, mode, sig))
                print(f"seed {seed} {mode}: {kind}: {t.outcome.detail[:200]}", flush=True)
        done = seed - opts.seed + 1
        if done % 100 == 0:
            print(f"... {done} seeds, {time.monotonic() - start:.0f} s", flush=True)
    print()
    print(f"{'mode':<5} {'tried':>6} " + " ".join(f"{k:>8}" for k in KINDS))
    for mode in modes:
        c = counts[mode]
        print(f"{mode:<5} {sum(c.values()):>6} " + " ".join(f"{c[k]:>8}" for k in KINDS))
    if refusals:
        print("\nrefusals:")
        for (mode, cls), n in refusals.most_common():
            print(f"  {mode:<4} {cls:<28} {n}")
    shrunk = collections.Counter()
    for t, mode, sig in failures:
        if shrunk[sig] >= opts.max_shrink:
            continue
        shrunk[sig] += 1
        src, params, wrt, args, final, smode = shrink_trial(t, mode, opts.shrink_seconds)
        path = out / f"{mode}-{t.outcome.kind}-seed{t.seed}.py"
        path.write_text(reproducer(src, params, wrt, args, final, smode))
        print(f"shrunk seed {t.seed} ({mode}, {t.outcome.kind}) -> {path}")
    print(f"\n{time.monotonic() - start:.0f} s")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
