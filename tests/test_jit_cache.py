"""The opt-in on-disk cache: a second process reuses compiled adjoints, and editing the user's
function invalidates them."""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"

PROBE = textwrap.dedent("""
    import json, sys
    import adjoint
    sys.path.insert(0, sys.argv[1])
    import user_model
    import numpy as np
    g = adjoint.grad(user_model.f, jit=True)
    value = g(*eval(sys.argv[2]))
    call = g._entries[next(iter(g._entries))][0]
    stats = [d.stats for d in getattr(call, "target", call).dispatchers]
    print(json.dumps({"grad": np.asarray(value).tolist(),
                      "hits": sum(sum(s.cache_hits.values()) for s in stats),
                      "misses": sum(sum(s.cache_misses.values()) for s in stats)}))
""")

MODEL = textwrap.dedent("""
    def f(x, n):
        s = 0.0
        for i in range(n):
            s = s + x ** {power}
        return s
""")


# Straight-line array code around a loop whose arrays go through np.exp and np.tanh: the loop
# alone is compiled (a kernel), and it is cached like any other compiled function.
ARRAY_MODEL = textwrap.dedent("""
    import numpy as np

    def f(x, n):
        z = np.exp(x - np.max(x, axis=0, keepdims=True))
        s = 0.0
        for i in range(n):
            s = s + np.sum(np.tanh(z * i) * np.exp(-z))
        return s
""")


def run(tmp_path, power, model=MODEL, args="(1.5, 3)"):
    (tmp_path / "user_model.py").write_text(model.format(power=power))
    env = {"ADJOINT_CACHE_DIR": str(tmp_path / "cache"), "PYTHONPATH": str(SRC),
           "PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1"}
    proc = subprocess.run([sys.executable, "-c", PROBE, str(tmp_path), args], capture_output=True,
                          text=True, env=env, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_second_process_reuses_the_compiled_adjoint_and_edits_invalidate(tmp_path):
    first = run(tmp_path, 2)
    assert first == {"grad": 9.0, "hits": 0, "misses": 1}
    second = run(tmp_path, 2)
    assert second == {"grad": 9.0, "hits": 1, "misses": 0}
    edited = run(tmp_path, 3)  # the user's source changed: a new entry, not the old one
    assert edited == {"grad": 20.25, "hits": 0, "misses": 1}


def test_loops_outlined_from_array_code_are_cached_too(tmp_path):
    args = "(np.linspace(-1.0, 1.0, 5000), 3)"
    first = run(tmp_path, 0, ARRAY_MODEL, args)
    assert first["hits"] == 0 and first["misses"] == 1
    second = run(tmp_path, 0, ARRAY_MODEL, args)
    assert second["hits"] == 1 and second["misses"] == 0
    assert second["grad"] == first["grad"]
