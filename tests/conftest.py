"""Shared test setup: make ``adjoint`` (src layout) and the test helpers (``zoo``) importable.

Takes nothing; guarantees that ``import adjoint`` finds the working tree's package even when it
is not installed, and that test modules can ``import zoo`` whatever pytest's import mode is.

Also, before anything imports NumPy or adjoint: one BLAS thread (the suite runs one worker per
core; threaded BLAS on top of that only fights for the cores), and an on-disk Numba cache shared
by the workers of one machine, so a gradient compiled in one worker is loaded, not compiled
again, in another (entries are keyed by the generated source and the globals it reads).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
os.environ.setdefault("ADJOINT_CACHE_DIR",
                      os.path.join(tempfile.gettempdir(), f"adjoint-test-cache-{os.getuid()}"))

TESTS = Path(__file__).resolve().parent
SRC = TESTS.parent / "src"

for path in (SRC, TESTS):
    if path.is_dir() and str(path) not in sys.path:
        sys.path.insert(0, str(path))
