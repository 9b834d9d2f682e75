"""Golden snapshots of generated adjoints: a change in code generation shows up in review.

Each golden file is itself checked: its text, run as Python, must give the gradient that central
finite differences of the golden function give, at points taking every branch and loop trip
count (``golden_functions.POINTS``). A generated source that differs from its golden file fails;
it never rewrites the file. After an intended change, regenerate with ``ADJOINT_REGEN_GOLDEN=1
python -m pytest -n 0 tests/test_golden.py`` and read the diff: a file is rewritten only when the
new code's numbers pass the finite-difference check.
"""

import os
from pathlib import Path

import numpy as np
import pytest
from golden_functions import GOLDEN, POINTS

import adjoint

HERE = Path(__file__).parent / "golden"
REGENERATE = os.environ.get("ADJOINT_REGEN_GOLDEN") == "1"


def numeric_gradient(fn, args):
    """Central differences of ``fn`` in its first argument (a float or a 1-D array)."""
    x = args[0]
    if not isinstance(x, np.ndarray):
        h = 1e-6 * max(1.0, abs(x))
        return (fn(x + h, *args[1:]) - fn(x - h, *args[1:])) / (2 * h)
    out = np.zeros(x.shape)
    for i in range(x.size):
        e = np.zeros(x.shape)
        e[i] = 1e-6 * max(1.0, abs(x[i]))
        out[i] = (fn(x + e, *args[1:]) - fn(x - e, *args[1:])) / (2 * e[i])
    return out


def run_source(text, name, args):
    """Compile a golden (or generated) gradient source and call it at ``POINTS[name]``:
    ``[(args, gradient)]``. It runs in the namespace adjoint gives the generated code."""
    fn, example = GOLDEN[name]
    derived = adjoint.grad(fn).derive(*example)
    namespace = dict(derived.namespace)
    exec(compile(text, f"<golden {name}>", "exec"), namespace)
    return namespace[derived.name](*args)


def assert_matches_finite_differences(text, name):
    fn, _ = GOLDEN[name]
    for args in POINTS[name]:
        got = run_source(text, name, args)
        np.testing.assert_allclose(got, numeric_gradient(fn, args), rtol=1e-6, atol=1e-8,
                                   err_msg=f"{name} at {args!r}: golden source vs finite "
                                           f"differences")


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_golden_file_gives_the_finite_difference_gradient(name):
    path = HERE / f"{name}.py.txt"
    assert path.exists(), f"no golden file {path}; run with ADJOINT_REGEN_GOLDEN=1"
    assert_matches_finite_differences(path.read_text(), name)


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_generated_source_matches_golden(name):
    fn, args = GOLDEN[name]
    source = adjoint.source(adjoint.grad(fn), *args)
    path = HERE / f"{name}.py.txt"
    if REGENERATE and (not path.exists() or source != path.read_text()):
        assert_matches_finite_differences(source, name)  # never bless a wrong gradient
        path.write_text(source)
    assert path.exists(), f"no golden file {path}; run with ADJOINT_REGEN_GOLDEN=1"
    assert source == path.read_text(), (
        f"generated code for {name} changed; see {path} (if intended, regenerate with "
        f"ADJOINT_REGEN_GOLDEN=1 and review the diff)")


def test_points_cover_every_branch_arm():
    """The finite-difference points of each golden function run every arm of its branches."""
    from harness import missing_arms

    for name, (fn, _) in GOLDEN.items():
        assert not missing_arms(fn, POINTS[name]), name


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_golden_source_compiles_and_is_deterministic(name):
    fn, args = GOLDEN[name]
    first = adjoint.source(adjoint.grad(fn), *args)
    compile(first, name, "exec")
    # A second transform of the same function (a fresh cache entry) gives the same text.
    adjoint.derivations._CACHE.pop(fn, None)
    assert adjoint.source(adjoint.grad(fn), *args) == first
