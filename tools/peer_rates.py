"""Pass rates of the peer cases (tests/peers/*.py): per section and in total, how many cases
pass each kind of test, and which cases adjoint refuses.

Takes the peer cases of ``tests/peers`` and the refusals listed in ``tests/test_peer_cases.py``
(``REFUSED``); runs ``tests/test_peer_cases.py`` once with pytest (a JUnit XML report in a
temporary directory) and prints a table::

    section       cases  grad     jvp      hessian  jit      refused
    api_numpy        42  41/41    41/41    2/2      3/3      1
    ...
    total           260  ...

``a/b`` is passed/run for that kind of test (a case runs ``hessian`` and ``jit`` only when it
is marked for them; a case refused for ``grad`` runs nothing); ``refused`` counts the cases in
``REFUSED``, which are listed below the table with the error they raise. Usage::

    python tools/peer_rates.py              # run the tests (pytest -n 1) and print the table
    python tools/peer_rates.py -n 2         # with two pytest-xdist workers
    python tools/peer_rates.py --refused    # only the list of refusals (no test run)

Exit status 1 when a test failed (the table still prints), else 0.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"
KINDS = {  # column -> the test function of tests/test_peer_cases.py
    "grad": "test_gradient_matches_finite_differences",
    "jvp": "test_jvp_matches_finite_differences",
    "hessian": "test_hessian_matches_finite_differences_of_gradient",
    "jit": "test_jit_matches_python_and_finite_differences",
}


def _cases():
    """(case name -> section, REFUSED) from the test modules themselves."""
    sys.path[:0] = [str(TESTS)] + ([str(ROOT / "src")] if (ROOT / "src").is_dir() else [])
    import test_peer_cases
    from peers import PEERS

    return {c.name: c.fn.__module__.rsplit(".", 1)[-1] for c in PEERS}, test_peer_cases.REFUSED


def _run(workers):
    """{(test function, case name): passed?} from one pytest run."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "peers.xml"
        env = dict(os.environ)
        if (ROOT / "src").is_dir():
            env["PYTHONPATH"] = os.pathsep.join(
                [str(ROOT / "src")] + [p for p in [env.get("PYTHONPATH")] if p])
        command = [sys.executable, "-m", "pytest", str(TESTS / "test_peer_cases.py"), "-q",
                   "-n", str(workers), "-k", " or ".join(KINDS.values()),
                   f"--junitxml={report}"]
        subprocess.run(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, check=False)
        outcomes = {}
        for case in ET.parse(report).getroot().iter("testcase"):
            name = case.get("name", "")
            if "[" not in name:
                continue
            test, param = name[:-1].split("[", 1)
            outcomes[test, param] = not any(
                child.tag in ("failure", "error", "skipped") for child in case)
        return outcomes


def _table(sections, refused, outcomes):
    rows = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    counts = defaultdict(int)
    refused_cases = defaultdict(set)
    for name, section in sections.items():
        counts[section] += 1
        if any(case == name for _, case in refused):
            refused_cases[section].add(name)
    for (test, name), passed in outcomes.items():
        kind = next((k for k, t in KINDS.items() if t == test), None)
        if kind is None or name not in sections:
            continue
        cell = rows[sections[name]][kind]
        cell[0] += passed
        cell[1] += 1
    header = f"{'section':<14}{'cases':>6}  " + "".join(f"{k:<9}" for k in KINDS) + "refused"
    lines = [header]
    total = defaultdict(lambda: [0, 0])
    for section in sorted(counts):
        cells = ""
        for kind in KINDS:
            passed, run = rows[section][kind]
            total[kind][0] += passed
            total[kind][1] += run
            cells += f"{passed}/{run}".ljust(9)
        lines.append(f"{section:<14}{counts[section]:>6}  {cells}{len(refused_cases[section])}")
    cells = "".join(f"{p}/{r}".ljust(9) for p, r in (total[k] for k in KINDS))
    lines.append(f"{'total':<14}{sum(counts.values()):>6}  {cells}"
                 f"{sum(len(v) for v in refused_cases.values())}")
    failed = any(p != r for p, r in total.values())
    return "\n".join(lines), failed


def _refusals(sections, refused):
    return "\n".join(f"- {name} ({sections.get(name, '?')}): {test} refused with "
                     f"{error.__name__}" for (test, name), error in sorted(refused.items()))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=1, help="pytest-xdist workers (default 1)")
    parser.add_argument("--refused", action="store_true",
                        help="print the refusals only (no test run)")
    args = parser.parse_args(argv)
    sections, refused = _cases()
    if args.refused:
        print(_refusals(sections, refused))
        return 0
    table, failed = _table(sections, refused, _run(args.n))
    print(table)
    print("\nrefused:")
    print(_refusals(sections, refused))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
