"""The first call of a jitted gradient in a new process: with an empty disk cache and a warm one.

Takes: a case name of ``suite.py`` and the ``adjoint`` package to run (its ``src`` directory is
put first on the child's path when the parent imported it from a checkout). Guarantees: each
measurement is a fresh Python process, timed from after its imports (adjoint, NumPy, Numba) to
the first gradient's return — deriving the code, compiling what Numba compiles (or loading it
from the cache) and running it once — on the wall clock; both runs of a case share one new
``ADJOINT_CACHE_DIR``, so the second one finds the first one's compiled code.
"""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent

_CHILD = """
import json, sys, time
sys.path[:0] = [{here!r}, {src!r}]
import numba, numpy as np, adjoint, suite
case = {{c.name: c for c in suite.CASES}}[{name!r}]
args = case.make_args(np.random.default_rng({seed}))
start = time.perf_counter()
adjoint.grad(case.primal, wrt=case.wrt_spec, jit=True)(*args)
print(json.dumps(time.perf_counter() - start))
"""


def measure(name, adjoint_module, seed):
    """(seconds with an empty cache, seconds with the cache the first run left), or an
    exception for a run that failed."""
    src = str(Path(adjoint_module.__file__).resolve().parents[1])
    code = _CHILD.format(here=str(HERE), src=src, name=name, seed=seed)
    with tempfile.TemporaryDirectory(prefix="adjoint-bench-cache-") as cache:
        env = {**os.environ, "ADJOINT_CACHE_DIR": cache}
        return tuple(_run(code, env) for _ in range(2))


def _run(code, env):
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, timeout=600, check=False)
    if proc.returncode:
        lines = proc.stderr.strip().splitlines() or ["(no output)"]
        return RuntimeError(lines[-1][:200])
    return json.loads(proc.stdout.strip().splitlines()[-1])
