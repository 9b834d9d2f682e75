"""The command line, run as a user runs it: ``python -m adjoint ...`` in a subprocess.

Covers the contract of DESIGN.md §2: ``show`` prints code that compiles (plain when piped),
``check`` exits 0 or 1 with the gradient check's verdict, and every kind of bad input exits 2
with exactly one line on stderr.
"""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# The subprocesses import the same adjoint as this test run (src/ or an installed copy).
PACKAGE_PARENT = Path(importlib.util.find_spec("adjoint").origin).parents[1]

TARGET = '''\
import math

import numpy as np

import adjoint


def poly(x):
    return x**2 + 3 * x + 1


def wasteful(x, y):
    a = x * 1.0
    unused = np.sin(y) * 2.0
    b = a + 0.0
    return b * b + y


def loss(w, X):
    return np.sum(np.tanh(X @ w) ** 2)


def detached(x):
    # stop_gradient hides one factor from the adjoint but not from finite differences: the
    # adjoint says x, the true derivative is 2x, so the check must fail.
    return adjoint.stop_gradient(x) * x


def guarded(x):
    try:
        return x * x
    except ZeroDivisionError:
        return 0.0


def log_of(x):
    return math.log(x)


NOT_A_FUNCTION = 3
'''


@pytest.fixture(scope="module")
def target(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "target.py"
    path.write_text(TARGET)
    return path


def adjoint_cli(*argv, env_extra=None):
    """Run ``python -m adjoint *argv`` with piped output and no NO_COLOR in the environment."""
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    paths = [str(PACKAGE_PARENT), env.get("PYTHONPATH")]
    env["PYTHONPATH"] = os.pathsep.join(path for path in paths if path)
    env.update(env_extra or {})
    return subprocess.run(
        [sys.executable, "-m", "adjoint", *map(str, argv)],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def test_version_is_the_packages():
    import adjoint

    result = adjoint_cli("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"adjoint {adjoint.__version__}"
    assert adjoint.__version__ != "0+unknown"  # the suite runs on an installed adjoint


def test_help_explains_commands_with_examples():
    result = adjoint_cli("--help")
    assert result.returncode == 0
    for needle in ("show", "check", "FILE.py:FUNC", "examples:", "exit status"):
        assert needle in result.stdout


def test_show_prints_plain_code_that_compiles(target):
    result = adjoint_cli("show", f"{target}:poly")
    assert result.returncode == 0, result.stderr
    assert "\x1b[" not in result.stdout  # piped: no colour even though NO_COLOR is unset
    compile(result.stdout, "<adjoint show>", "exec")
    assert "def " in result.stdout


@pytest.mark.parametrize(
    "options",
    [
        ["--wrt", "w", "--args", "np.ones(3), np.eye(3)"],
        ["--wrt", "0", "--mode", "forward"],
    ],
    ids=["reverse-specialised", "forward"],
)
def test_show_variants_compile(target, options):
    result = adjoint_cli("show", f"{target}:loss", *options)
    assert result.returncode == 0, result.stderr
    compile(result.stdout, "<adjoint show>", "exec")


def test_show_colours_on_request():
    pytest.importorskip("pygments")
    result = adjoint_cli("show", ROOT / "examples/quickstart.py:f", "--color", "always")
    assert result.returncode == 0, result.stderr
    assert "\x1b[" in result.stdout


def test_no_optimize_shows_the_unsimplified_code(target):
    optimized = adjoint_cli("show", f"{target}:wasteful")
    raw = adjoint_cli("show", f"{target}:wasteful", "--no-optimize")
    assert optimized.returncode == raw.returncode == 0, optimized.stderr + raw.stderr
    compile(raw.stdout, "<adjoint show>", "exec")
    assert len(raw.stdout.splitlines()) > len(optimized.stdout.splitlines())


@pytest.mark.parametrize(
    "argv",
    [
        ["poly", "--args", "2.0"],
        ["loss", "--wrt", "w", "--args", "np.linspace(-1, 1, 3), np.eye(3) + 0.5"],
        ["poly", "--args", "-1.5", "--jit"],
    ],
    ids=["scalar", "arrays", "jit"],
)
def test_check_passes_on_a_correct_gradient(target, argv):
    name, *options = argv
    result = adjoint_cli("check", f"{target}:{name}", *options)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip()


def test_check_fails_when_the_gradient_disagrees(target):
    result = adjoint_cli("check", f"{target}:detached", "--args", "3.0")
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout.strip()  # the report says what disagreed


def syntax_error_file(tmp_path):
    path = tmp_path / "broken.py"
    path.write_text("def f(x):\n    return x +\n")
    return path


@pytest.mark.parametrize(
    "make_argv, expected",
    [
        (lambda t, tmp: ["show", tmp / "missing.py:f"], "no such file"),
        (lambda t, tmp: ["show", f"{t}:nope"], "no function named 'nope'"),
        (lambda t, tmp: ["show", f"{t}:NOT_A_FUNCTION"], "not a function"),
        (lambda t, tmp: ["show", t], "FILE.py:FUNC"),
        (lambda t, tmp: ["show", f"{syntax_error_file(tmp)}:f"], "broken.py:2:"),
        (lambda t, tmp: ["show", f"{t}:poly", "--wrt", "a-b"], "bad --wrt"),
        (lambda t, tmp: ["check", f"{t}:poly", "--args", "2.0 +"], "bad --args"),
        (lambda t, tmp: ["check", f"{t}:poly", "--args", "2.0)+(1"], "bad --args"),
        (lambda t, tmp: ["check", f"{t}:poly", "--args", "x=2.0"], "parameter order"),
        (lambda t, tmp: ["check", f"{t}:poly", "--args", "undefined_name"], "NameError"),
        (lambda t, tmp: ["check", f"{t}:log_of", "--args", "-1.0"], "ValueError"),
        (lambda t, tmp: ["check", f"{t}:poly"], "--args"),
        (lambda t, tmp: ["show", f"{t}:poly", "--mode", "sideways"], "--mode"),
    ],
    ids=[
        "missing-file",
        "missing-function",
        "not-a-function",
        "no-function-part",
        "syntax-error",
        "bad-wrt",
        "args-syntax",
        "args-unbalanced",
        "args-keyword",
        "args-name",
        "args-outside-domain",
        "check-without-args",
        "bad-mode",
    ],
)
def test_bad_input_exits_2_with_one_line(target, tmp_path, make_argv, expected):
    result = adjoint_cli(*make_argv(target, tmp_path))
    assert result.returncode == 2, result.stdout + result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert expected in result.stderr


def test_unsupported_syntax_is_reported_at_its_line(target):
    result = adjoint_cli("show", f"{target}:guarded")
    assert result.returncode == 2, result.stdout + result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    try_line = TARGET.splitlines().index("    try:") + 1
    assert result.stderr.startswith(f"{target}:{try_line}:"), result.stderr


def test_show_stage_prints_the_code_after_a_normalization_stage(tmp_path):
    path = tmp_path / "staged.py"
    path.write_text("def f(x):\n    return x ** 2 + 3.0 * x\n")
    result = subprocess.run([sys.executable, "-m", "adjoint", "show", f"{path}:f", "--stage",
                             "anf"], capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert "t = x ** 2" in result.stdout and "dout" not in result.stdout
    compile(result.stdout, "staged", "exec")
