"""Derivation time: how long ``adjoint`` takes to write a gradient, against the function's size.

Usage: ``python benchmarks/derive_time.py [--quick] [--sizes 10,100,1000] [--profile KIND:N]``

Takes: nothing; builds synthetic functions of N user statements of four kinds — straight-line
scalar code (``scalar``), scalar code with ``for`` loops and ``if``s (``control``), loops nested
three deep (``nested``), NumPy array code (``numpy``) — writes each to a temporary module
(adjoint reads source from files), and times ``adjoint.pipeline.derive`` (Python mode: parse
to compiled Python function, no Numba).
Guarantees: every cell is the median of several derivations of the same function, on the CPU
clock; the last columns give time per statement and its ratio to the smallest size's, which
stays near 1 when derivation time is linear in the function's size.
"""

import argparse
import cProfile
import importlib.util
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path


def _import_adjoint():
    try:
        import adjoint  # noqa: F401
    except ImportError:
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
    from adjoint import pipeline
    return pipeline


def scalar_source(n):
    """n statements of straight-line scalar code, each reading one or two earlier values."""
    ops = ["{a} * {b}", "math.sin({a}) + {b}", "{a} - 0.5 * {b}", "math.exp(-{a} * {a})",
           "{a} / (1.0 + {b} * {b})", "math.cos({a}) * {b}"]
    lines = ["def f(x, y):", "    v0 = x + y"]
    for k in range(1, n - 1):
        a, b = f"v{k - 1}", f"v{max(k - 3, 0)}" if k % 2 else "x"
        lines.append(f"    v{k} = " + ops[k % len(ops)].format(a=a, b=b))
    lines.append(f"    return v{n - 2}")
    return "\n".join(lines) + "\n"


def control_source(n):
    """About n statements: blocks of a loop with an if inside and straight-line code."""
    lines = ["def f(x, y, m):", "    s = x * y"]
    count, k = 2, 0
    while count < n - 1:
        lines += [f"    for i{k} in range(m):",
                  f"        t{k} = s * 0.5 + x",
                  f"        if t{k} > y:",
                  f"            s = s + math.sin(t{k})",
                  "        else:",
                  f"            s = s * 0.9 - t{k}",
                  f"    u{k} = s * s + x",
                  f"    s = math.tanh(u{k}) + y"]
        count += 7
        k += 1
    lines.append("    return s")
    return "\n".join(lines) + "\n"


def nested_source(n):
    """About n statements: blocks of three nested loops with an if in the innermost."""
    lines = ["def f(x, y, m):", "    s = x * y"]
    count, k = 2, 0
    while count < n - 1:
        lines += [f"    for i{k} in range(m):",
                  f"        for j{k} in range(m):",
                  f"            t{k} = s * 0.5 + x",
                  f"            for l{k} in range(m):",
                  f"                if t{k} > y:",
                  f"                    s = s + math.sin(t{k})",
                  "                else:",
                  f"                    s = s * 0.9 - t{k}",
                  "    s = math.tanh(s) + y"]
        count += 8
        k += 1
    lines.append("    return s")
    return "\n".join(lines) + "\n"


def numpy_source(n):
    """n statements of NumPy array code on 1-D arrays."""
    ops = ["np.sin({a}) * {b}", "{a} + np.exp(-{b} * {b})", "np.tanh({a}) - 0.5 * {b}",
           "{a} * w + np.cos({b})", "np.maximum({a}, 0.0) + {b}", "{a} / (1.0 + {b} * {b})"]
    lines = ["def f(x, w):", "    v0 = x * w"]
    for k in range(1, n - 1):
        a, b = f"v{k - 1}", f"v{max(k - 3, 0)}" if k % 2 else "x"
        lines.append(f"    v{k} = " + ops[k % len(ops)].format(a=a, b=b))
    lines.append(f"    return np.sum(v{n - 2})")
    return "\n".join(lines) + "\n"


KINDS = {
    "scalar": (scalar_source, ("scalar", "scalar"), 0),
    "control": (control_source, ("scalar", "scalar", "scalar"), (0, 1)),
    "nested": (nested_source, ("scalar", "scalar", "scalar"), (0, 1)),
    "numpy": (numpy_source, (1, 1), 0),
}


def load(kind, n, directory):
    """The synthetic function of ``kind`` with about ``n`` statements, from a real file."""
    make = KINDS[kind][0]
    path = Path(directory) / f"synthetic_{kind}_{n}.py"
    path.write_text("import math\n\nimport numpy as np\n\n\n" + make(n))
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.f


def derive_once(pipeline, fn, kind):
    _, kinds, wrt = KINDS[kind]
    return pipeline.derive(fn, wrt, kinds=kinds)


def measure(pipeline, fn, kind, repeats, budget):
    """Median CPU seconds of one derivation (at least 3 runs, more while within budget)."""
    times = []
    spent = 0.0
    while len(times) < 3 or (len(times) < repeats and spent < budget):
        start = time.process_time()
        derive_once(pipeline, fn, kind)
        elapsed = time.process_time() - start
        times.append(elapsed)
        spent += elapsed
    return statistics.median(times), len(times)


def fmt_ms(seconds):
    ms = seconds * 1e3
    return f"{ms:.3g} ms" if ms < 1000 else f"{ms / 1e3:.3g} s"


def print_table(pipeline, sizes, kinds=tuple(KINDS), quick=False, directory=None):
    """Print the Markdown table: one row per (kind, size)."""
    directory = directory or tempfile.mkdtemp(prefix="adjoint-derive-time-")
    repeats, budget = (3, 1.0) if quick else (9, 5.0)
    print("## Derivation time (Python mode, median CPU time of one `derive`)\n")
    header = ["kind", "statements", "time", "runs", "per statement", "per statement / smallest"]
    print("| " + " | ".join(header) + " |")
    print("| " + " | ".join(["---", "---:"] + ["---:"] * (len(header) - 2)) + " |")
    for kind in kinds:
        base = None
        for n in sizes:
            fn = load(kind, n, directory)
            derive_once(pipeline, fn, kind)  # warm up
            median, runs = measure(pipeline, fn, kind, repeats, budget)
            per = median / n
            base = base or per
            print(f"| {kind} | {n} | {fmt_ms(median)} | {runs} | {per * 1e6:.0f} µs | "
                  f"{per / base:.2f}× |", flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="sizes 10 and 100, 3 runs each")
    parser.add_argument("--sizes", default=None,
                        help="comma-separated statement counts (default 10,30,100,1000)")
    parser.add_argument("--kinds", default=",".join(KINDS), help="scalar,control,nested,numpy")
    parser.add_argument("--profile", metavar="KIND:N",
                        help="print a cProfile of one derivation instead of the table")
    options = parser.parse_args(argv)
    pipeline = _import_adjoint()
    directory = tempfile.mkdtemp(prefix="adjoint-derive-time-")

    if options.profile:
        kind, n = options.profile.split(":")
        fn = load(kind, int(n), directory)
        derive_once(pipeline, fn, kind)  # warm caches (imports, rule tables)
        profiler = cProfile.Profile()
        profiler.enable()
        derive_once(pipeline, fn, kind)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
        return 0

    sizes = [int(s) for s in (options.sizes or ("10,100" if options.quick else
                                                "10,30,100,1000")).split(",")]
    kinds = [k.strip() for k in options.kinds.split(",") if k.strip()]
    print_table(pipeline, sizes, kinds, options.quick, directory)
    return 0


if __name__ == "__main__":
    sys.exit(main())
