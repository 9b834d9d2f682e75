"""Golden snapshots of generated adjoints: a change in code generation shows up in review.

Regenerate after an intended change with ``ADJOINT_UPDATE_GOLDEN=1 python -m pytest
tests/test_golden.py`` and read the diff.
"""

import os
from pathlib import Path

import pytest
from golden_functions import GOLDEN

import adjoint

HERE = Path(__file__).parent / "golden"


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_generated_source_matches_golden(name):
    fn, args = GOLDEN[name]
    source = adjoint.source(adjoint.grad(fn), *args)
    path = HERE / f"{name}.py.txt"
    if os.environ.get("ADJOINT_UPDATE_GOLDEN"):
        path.write_text(source)
    assert path.exists(), f"no golden file {path}; run with ADJOINT_UPDATE_GOLDEN=1"
    assert source == path.read_text(), f"generated code for {name} changed; see {path}"


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_golden_source_compiles_and_is_deterministic(name):
    fn, args = GOLDEN[name]
    first = adjoint.source(adjoint.grad(fn), *args)
    compile(first, name, "exec")
    # A second transform of the same function (a fresh cache entry) gives the same text.
    adjoint.api._CACHE.pop(fn, None)
    assert adjoint.source(adjoint.grad(fn), *args) == first
