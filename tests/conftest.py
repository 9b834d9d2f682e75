"""Shared test setup: make ``adjoint`` (src layout) and the test helpers (``zoo``) importable.

Takes nothing; guarantees that ``import adjoint`` finds the working tree's package even when it
is not installed, and that test modules can ``import zoo`` whatever pytest's import mode is.
"""

from __future__ import annotations

import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent
SRC = TESTS.parent / "src"

for path in (SRC, TESTS):
    if path.is_dir() and str(path) not in sys.path:
        sys.path.insert(0, str(path))
