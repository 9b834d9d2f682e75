"""Benchmark adjoint against Numba, hand-written adjoints and NumPy; print Markdown tables.

Usage: ``python benchmarks/run.py [--quick] [--verify] [--only NAME[,NAME...]] [--no-optional]``

Takes: the cases of ``suite.py``. Needs numpy and numba; ``adjoint`` is imported from the
installed package or, failing that, from this checkout's ``src/``.
Guarantees: every time in one printed table comes from one ``timing.measure`` call per row, so
the columns of a row and the ratios computed from them were measured side by side. An adjoint
column that cannot run shows the exception's class in its cell (details under the table) and
the other columns still print. Every gradient that runs is compared with the hand-written one;
a disagreement is marked in its cell. ``--verify`` first checks every hand-written gradient
against central finite differences; with it, the exit status is 1 if any check fails or any
gradient disagrees with the hand-written one (a column that raises does not fail the run).
"""

import argparse
import importlib
import os
import platform
import sys
from dataclasses import dataclass, field
from pathlib import Path

# One BLAS thread, unless the caller says otherwise: on a small shared machine a multithreaded
# BLAS whose threads compete with other processes measured 20-100x slower on the MLP's
# matrix products, which swamps every ratio. Set before NumPy (and its BLAS) is loaded.
BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
for _variable in BLAS_THREAD_VARIABLES:
    os.environ.setdefault(_variable, "1")

import baselines
import first_call
import numba
import numpy as np
import suite
import timing
import verify

SEED = 20240611
MISMATCH = " ≠"  # appended to a time whose gradient disagrees with the hand-written one


def _import_adjoint():
    """The adjoint module, or the exception that importing it raised."""
    try:
        return importlib.import_module("adjoint")
    except ImportError:
        pass
    src = Path(__file__).resolve().parent.parent / "src"
    if str(src) not in sys.path:
        sys.path.insert(0, str(src))
    try:
        return importlib.import_module("adjoint")
    except Exception as err:  # noqa: BLE001 - a half-written package is reported, not raised
        return err


@dataclass
class Row:
    case: suite.Case
    times: dict = field(default_factory=dict)  # column -> timing.Timing
    failures: dict = field(default_factory=dict)  # column -> exception
    mismatches: dict = field(default_factory=dict)  # column -> description
    jit_first_call: object = None  # seconds, or the exception
    hand_compile: float = None
    primal_compile: float = None
    new_process: tuple = ()  # first call in a new process: (empty cache, warm cache)
    tape_bytes: object = None


def _progress(message):
    # Progress goes to stderr so that stdout stays the Markdown report.
    print(f"[run.py] {message}", file=sys.stderr, flush=True)


def _tape_bytes(gradient, args):
    """What the gradient reports about its tape, if it reports anything."""
    reported = getattr(gradient, "tape_bytes", None)
    if callable(reported):
        try:
            return reported(*args)
        except TypeError:
            return reported()
    return reported


def _describe_mismatch(got, expected):
    got, expected = verify.as_tuple(got), verify.as_tuple(expected)
    if len(got) != len(expected):
        return f"returned {len(got)} gradients, expected {len(expected)}"
    parts = []
    for g, e in zip(got, expected):
        if np.shape(g) != np.shape(e):
            parts.append(f"shape {np.shape(g)} instead of {np.shape(e)}")
        else:
            err = float(np.max(np.abs(np.asarray(g) - e)))
            parts.append(f"max abs diff {err:.3g} (max |grad| {float(np.max(np.abs(e))):.3g})")
    return "; ".join(parts)


def _try_adjoint_column(row, column, build, args, expected, calls, clock):
    """Build and first-call one adjoint gradient; on success, add it to ``calls``."""
    try:
        start = clock()
        gradient = build()
        result = gradient(*args)
        elapsed = clock() - start
    except Exception as err:  # noqa: BLE001 - whatever fails is shown in the cell
        row.failures[column] = err
        return None, err
    if not verify.agree(result, expected):
        row.mismatches[column] = _describe_mismatch(result, expected)
    calls[column] = (gradient, args)
    return gradient, elapsed


def bench_case(case, adjoint, frameworks, budget, clock_name, new_process=True):
    args = case.make_args(np.random.default_rng(SEED))
    row = Row(case)
    calls = {}

    _progress(f"{case.name}: Numba")
    clock = timing.CLOCKS[clock_name]
    numba_primal = numba.njit(case.primal)
    start = clock()
    numba_primal(*args)
    row.primal_compile = clock() - start
    calls["numba_primal"] = (numba_primal, args)
    hand_numba = numba.njit(case.hand_grad)
    start = clock()
    expected = hand_numba(*args)
    row.hand_compile = clock() - start
    calls["hand_numba"] = (hand_numba, args)
    calls["cpython_primal"] = (case.primal, args)
    if case.vectorized:
        calls["hand_numpy"] = (case.hand_grad, args)

    if isinstance(adjoint, Exception):
        row.failures["adjoint_jit"] = row.failures["adjoint_py"] = adjoint
        row.jit_first_call = adjoint
    else:
        _progress(f"{case.name}: adjoint")
        jit_grad, first = _try_adjoint_column(
            row, "adjoint_jit", lambda: adjoint.grad(case.primal, wrt=case.wrt_spec, jit=True),
            args, expected, calls, clock)
        row.jit_first_call = first
        py_grad, _ = _try_adjoint_column(
            row, "adjoint_py", lambda: adjoint.grad(case.primal, wrt=case.wrt_spec),
            args, expected, calls, clock)
        if new_process:
            _progress(f"{case.name}: first call in new processes")
            row.new_process = first_call.measure(case.name, adjoint, SEED)
        for gradient in (jit_grad, py_grad):
            if gradient is not None and row.tape_bytes is None:
                try:
                    row.tape_bytes = _tape_bytes(gradient, args)
                except Exception as err:  # noqa: BLE001 - shown in the cell
                    row.tape_bytes = err

    for framework in frameworks:
        _progress(f"{case.name}: {framework.column}")
        try:
            built = framework.build(case, args)
            if built is None:
                continue
            fn, prepared, to_numpy = built
            result = to_numpy(fn(*prepared))
        except Exception as err:  # noqa: BLE001 - whatever fails is shown in the cell
            row.failures[framework.name] = err
            continue
        if not verify.agree(result, expected):
            row.mismatches[framework.name] = _describe_mismatch(result, expected)
        calls[framework.name] = (fn, prepared)

    _progress(f"{case.name}: timing {len(calls)} columns")
    row.times = timing.measure(calls, budget, clock_name)
    return row


# ---------------------------------------------------------------- formatting


def fmt_seconds(seconds):
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if abs(seconds) >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def fmt_bytes(count):
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if count >= scale:
            return f"{count / scale:.3g} {unit}"
    return f"{count} B"


def _time_cell(row, column):
    if column in row.failures:
        return f"`{type(row.failures[column]).__name__}`"
    if column not in row.times:
        return "—"
    cell = fmt_seconds(row.times[column].median)
    if column in row.mismatches:
        cell += MISMATCH
    return cell


def _ratio(row, top, bottom):
    if top in row.times and bottom in row.times and top not in row.mismatches:
        ratio = row.times[top].median / row.times[bottom].median
        return f"{ratio:,.0f}×" if ratio >= 1000 else f"{ratio:.3g}×"
    return "—"


def _overhead(row):
    if "adjoint_jit" in row.times and "hand_numba" in row.times:
        return fmt_seconds(row.times["adjoint_jit"].median - row.times["hand_numba"].median)
    return "—"


def _noise(row):
    """The row's least trustworthy column: its interquartile range over its median."""
    if not row.times:
        return "—"
    column, worst = max(((c, t.spread) for c, t in row.times.items()), key=lambda item: item[1])
    return f"{worst:.0%} ({TIMED_COLUMNS.get(column, column)})"


def _first_call_cell(value):
    if value is None:
        return "—"
    if isinstance(value, Exception):
        return f"`{type(value).__name__}`"
    return fmt_seconds(value)


def _tape_cell(value):
    if isinstance(value, Exception):
        return f"`{type(value).__name__}`"
    if value is None:
        return "n/a"
    if isinstance(value, (int, np.integer)):
        return fmt_bytes(int(value))
    return str(value)


def _table(header, rows):
    lines = ["| " + " | ".join(header) + " |",
             "| " + " | ".join(["---"] + ["---:"] * (len(header) - 1)) + " |"]
    lines += ["| " + " | ".join(cells) + " |" for cells in rows]
    return "\n".join(lines)


# Timed columns, in table order: key -> header. Optional frameworks follow these.
TIMED_COLUMNS = {
    "numba_primal": "Numba primal",
    "hand_numba": "hand Numba adjoint",
    "cpython_primal": "CPython/NumPy primal",
    "hand_numpy": "hand NumPy grad",
    "adjoint_jit": "adjoint jit",
    "adjoint_py": "adjoint Python",
}


def times_table(rows, frameworks):
    columns = list(TIMED_COLUMNS) + [f.name for f in frameworks]
    header = ["workload"] + list(TIMED_COLUMNS.values()) + [f.column for f in frameworks]
    header += ["adjoint jit first call", "Numba compile of hand adjoint", "tape"]
    body = []
    for row in rows:
        cells = [row.case.title] + [_time_cell(row, c) for c in columns]
        cells += [_first_call_cell(row.jit_first_call), fmt_seconds(row.hand_compile),
                  _tape_cell(row.tape_bytes)]
        body.append(cells)
    return _table(header, body)


def first_call_table(rows):
    header = ["workload", "Numba compile of primal", "adjoint jit first call (this process)",
              "first call / primal compile", "new process, empty cache",
              "new process, warm cache"]
    body = []
    for row in rows:
        cold, warm = row.new_process or (None, None)
        first = row.jit_first_call
        ratio = (f"{first / row.primal_compile:.2f}×"
                 if isinstance(first, float) and row.primal_compile else "—")
        body.append([row.case.title, fmt_seconds(row.primal_compile),
                     _first_call_cell(first), ratio, _first_call_cell(cold),
                     _first_call_cell(warm)])
    return _table(header, body)


def ratios_table(rows, frameworks):
    header = ["workload", "hand / Numba primal", "jit / Numba primal", "jit / hand",
              "jit − hand (per call)", "Python mode / CPython primal",
              "hand NumPy / NumPy primal"]
    header += [f"{f.column} / jit" for f in frameworks]
    header.append("noise")
    body = []
    for row in rows:
        cells = [row.case.title, _ratio(row, "hand_numba", "numba_primal"),
                 _ratio(row, "adjoint_jit", "numba_primal"),
                 _ratio(row, "adjoint_jit", "hand_numba"), _overhead(row),
                 _ratio(row, "adjoint_py", "cpython_primal"),
                 _ratio(row, "hand_numpy", "cpython_primal")]
        cells += [_ratio(row, f.name, "adjoint_jit") for f in frameworks]
        cells.append(_noise(row))
        body.append(cells)
    return _table(header, body)


def notes(rows):
    lines = []
    for row in rows:
        for column, err in row.failures.items():
            first_line = (str(err).strip().splitlines() or [""])[0][:200]
            lines.append(f"- {row.case.name} / {column}: `{type(err).__name__}`: {first_line}")
        for column, text in row.mismatches.items():
            lines.append(f"- {row.case.name} / {column}: gradient disagrees with the hand-written "
                         f"one ({text}); its ratios are left out")
    return lines


# ---------------------------------------------------------------- main


def run_verify(cases):
    """Check each hand-written gradient (compiled and plain) against finite differences."""
    print("## Hand-written gradients vs central finite differences\n")
    body = []
    all_ok = True
    rng = np.random.default_rng(SEED + 1)
    for case in cases:
        args = case.make_args(np.random.default_rng(SEED))
        primal = numba.njit(case.primal)
        compiled = numba.njit(case.hand_grad)(*args)
        plain = case.hand_grad(*args)
        same = verify.agree(plain, compiled, rtol=1e-10)
        all_ok &= same
        for report in verify.check_against_fd(case, args, primal, compiled, rng):
            all_ok &= report.ok
            body.append([case.name, report.argument, report.checked, f"{report.worst:.2g}",
                         "ok" if report.ok and same else "FAIL"])
    print(_table(["workload", "argument", "checked", "worst error / allowed", "result"], body))
    if not all_ok:
        print("\nFAIL: a hand-written gradient disagrees with finite differences "
              "(or its plain-Python run disagrees with its Numba run).")
    print()
    return all_ok


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="few, short repeats: a smoke run, not a measurement")
    parser.add_argument("--verify", action="store_true",
                        help="check hand-written gradients against finite differences first")
    parser.add_argument("--only", action="append", metavar="NAME",
                        help=f"run only these cases (repeatable or comma-separated): "
                             f"{', '.join(suite.CASE_NAMES)}")
    parser.add_argument("--clock", choices=sorted(timing.CLOCKS), default="cpu",
                        help="cpu: process CPU time, robust to other load (default); wall: "
                             "elapsed time")
    parser.add_argument("--no-optional", action="store_true",
                        help="leave out the JAX / PyTorch / autograd columns even if importable")
    parser.add_argument("--derive", action="store_true",
                        help="also print how long deriving a gradient takes for synthetic "
                             "functions of 10, 100 and 1000 statements (derive_time.py)")
    return parser.parse_args(argv)


def select_cases(only):
    if not only:
        return list(suite.CASES)
    wanted = [name.strip() for item in only for name in item.split(",") if name.strip()]
    unknown = [name for name in wanted if name not in suite.CASE_NAMES]
    if unknown:
        print(f"run.py: unknown case {', '.join(unknown)}; "
              f"choose from {', '.join(suite.CASE_NAMES)}", file=sys.stderr)
        sys.exit(2)
    return [case for case in suite.CASES if case.name in wanted]


def main(argv=None):
    options = parse_args(argv)
    cases = select_cases(options.only)
    budget = timing.QUICK if options.quick else timing.FULL
    adjoint = _import_adjoint()
    frameworks = [] if options.no_optional else baselines.available()

    print("# adjoint benchmarks\n")
    adjoint_text = (f"adjoint not importable (`{type(adjoint).__name__}`)"
                    if isinstance(adjoint, Exception)
                    else f"adjoint {getattr(adjoint, '__version__', '(no version)')}")
    print(f"Python {platform.python_version()}, NumPy {np.__version__}, Numba {numba.__version__}, "
          f"{adjoint_text}; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start; "
          f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}.")
    print(f"{'Quick smoke run' if options.quick else 'Full run'}: median of up to "
          f"{budget.repeats} interleaved repeats, batches of at least "
          f"{budget.min_batch_seconds * 1e3:g} ms, {options.clock} clock."
          + (f" Optional columns: {', '.join(f.column for f in frameworks)}." if frameworks else "")
          + "\n")

    ok = run_verify(cases) if options.verify else True
    rows = [bench_case(case, adjoint, frameworks, budget, options.clock,
                       new_process=not options.quick) for case in cases]

    print("## Median time per call\n")
    print(times_table(rows, frameworks))
    print("\n## Ratios (from the same run)\n")
    print(ratios_table(rows, frameworks))
    if not options.quick:
        print("\n## First call of the jitted gradient\n")
        print("Wall clock from after the imports to the first gradient: deriving, compiling (or "
              "loading from `ADJOINT_CACHE_DIR`) and one run. The in-process column follows the "
              "Numba primal's compile in the same process; the new-process columns are fresh "
              "interpreters sharing one new cache directory, run one after the other.\n")
        print(first_call_table(rows))
    extra = notes(rows)
    if extra:
        print("\n## Notes\n")
        print("\n".join(extra))
    if options.derive and not isinstance(adjoint, Exception):
        import derive_time
        print()
        derive_time.print_table(importlib.import_module("adjoint.pipeline"),
                                [10, 100] if options.quick else [10, 100, 1000],
                                quick=options.quick)
    print(f"\nLoad average {os.getloadavg()[0]:.2f} at end.")
    if options.verify and any(row.mismatches for row in rows):
        # A column that cannot run yet is expected while the core grows; a wrong gradient is not.
        print("\nFAIL: a gradient disagrees with the hand-written one (see Notes).")
        ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
