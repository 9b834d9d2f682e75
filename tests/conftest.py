"""Shared test setup: make ``adjoint`` (src layout) and the test helpers (``zoo``) importable.

Takes nothing; guarantees that ``import adjoint`` finds the working tree's package even when it
is not installed, and that test modules can ``import zoo`` whatever pytest's import mode is.

Also, before anything imports NumPy or adjoint: one BLAS thread (the suite runs one worker per
core; threaded BLAS on top of that only fights for the cores), and an on-disk Numba cache that
is new for every test session and shared by that session's xdist workers only, so a gradient
compiled in one worker is loaded, not compiled again, in another, while nothing compiled by an
earlier session (or by the caller's own ``ADJOINT_CACHE_DIR``) can make a test pass. The
controller (or the only process, without xdist) creates the directory, empty, at configure
time, names it after the run's xdist ``testrunuid`` (which it fixes, so that the workers know
it from ``PYTEST_XDIST_TESTRUNUID``), and removes it when the session ends.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import uuid
from pathlib import Path

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

TESTS = Path(__file__).resolve().parent
SRC = TESTS.parent / "src"

for path in (SRC, TESTS):
    if path.is_dir() and str(path) not in sys.path:
        sys.path.insert(0, str(path))


def _session_cache_dir(run):
    return os.path.join(tempfile.gettempdir(), f"adjoint-test-cache-{os.getuid()}-{run}")


_WORKER_RUN = os.environ.get("PYTEST_XDIST_TESTRUNUID")
if _WORKER_RUN:  # an xdist worker: the directory its controller created for this run
    os.environ["ADJOINT_CACHE_DIR"] = _session_cache_dir(_WORKER_RUN)


def pytest_configure(config):
    if _WORKER_RUN:
        return
    run = getattr(config.option, "testrunuid", None) or uuid.uuid4().hex
    if hasattr(config.option, "testrunuid"):  # xdist: its workers get this run id
        config.option.testrunuid = run
    path = _session_cache_dir(run)
    shutil.rmtree(path, ignore_errors=True)  # a reused --testrunuid still starts empty
    os.makedirs(path, mode=0o700)
    os.environ["ADJOINT_CACHE_DIR"] = path
    config.add_cleanup(lambda: shutil.rmtree(path, ignore_errors=True))
