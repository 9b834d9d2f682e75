"""The examples run: every ``examples/*.py`` is executed as a script and must succeed.

Takes the files in ``examples/``. Guarantees that each runs as ``python examples/NAME.py`` from
the repository root (in a subprocess, with the working tree's ``src`` on the path and a time
limit), exits with status 0 — the examples assert their own results, so a wrong gradient fails
here — and prints what the example is about. A new example is picked up without editing this
file; one without an entry in ``EXPECTED`` must at least print something.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))

# Text each example prints when it works (beyond exiting with status 0).
EXPECTED = {
    "train_mlp.py": ["SGD", "Adam", "the loss fell with both optimizers"],
    "vector_output.py": ["pullback(ones)", "pullback(e_2)", "d y / d(r, theta)"],
    "custom_rule.py": ["def dsoftplus_loss", "expm1", "surrogate d/dv"],
    "hessian.py": ["Newton with the dense Hessian", "Newton-CG", "minimum found at [1. 1.]"],
    "ode_fit.py": ["fitted k =", "def value_and_grad_trajectory_loss"],
    "quickstart.py": ["f'(2.0) = 7.0"],
    "mlp_dataclass_adam.py": ["epoch 300", "Adam on a dataclass MLP"],
    "dict_params_sgd.py": ["step 200", "SGD with momentum on a dict of parameters"],
    "logistic_aux.py": ["accuracy", "logistic regression: accuracy"],
    "per_example_clipping.py": ["ran as a prange loop", "equal to a Python loop",
                                "the loss fell with clipped per-example gradients"],
    "ode_checkpoint.py": ["the same gradient with and without checkpointing", "fitted k ="],
}

# Arguments for examples whose default size is for people, not for the test suite.
ARGS = {"ode_checkpoint.py": ["--steps", "2000"]}

# Numba compiles on the first call of a jitted example: seconds alone, much longer on a
# machine busy with other tests.
TIMEOUT = 900


def run_example(path):
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"), NO_COLOR="1")
    command = [sys.executable, str(path.relative_to(ROOT)), *ARGS.get(path.name, [])]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=TIMEOUT, check=False)


def test_the_examples_exist():
    names = {p.name for p in EXAMPLES}
    assert {"train_mlp.py", "vector_output.py", "custom_rule.py", "hessian.py",
            "ode_fit.py"} <= names


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_runs(path):
    run = run_example(path)
    assert run.returncode == 0, (
        f"python examples/{path.name} exited with status {run.returncode}\n"
        f"--- stdout\n{run.stdout[-3000:]}\n--- stderr\n{run.stderr[-3000:]}")
    assert run.stdout.strip(), f"examples/{path.name} printed nothing"
    for text in EXPECTED.get(path.name, []):
        assert text in run.stdout, f"examples/{path.name} did not print {text!r}"


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_has_a_docstring_saying_how_to_run_it(path):
    import ast
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
    assert doc, f"examples/{path.name} has no module docstring"
    assert f"examples/{path.name}" in doc, f"examples/{path.name}: say how to run it"
