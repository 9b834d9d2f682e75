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
    g = adjoint.grad(user_model.f, jit=True)
    value = g(1.5, 3)
    call = g._entries[next(iter(g._entries))][0]
    stats = call.dispatcher.stats
    print(json.dumps({"grad": value, "hits": sum(stats.cache_hits.values()),
                      "misses": sum(stats.cache_misses.values())}))
""")

MODEL = textwrap.dedent("""
    def f(x, n):
        s = 0.0
        for i in range(n):
            s = s + x ** {power}
        return s
""")


def run(tmp_path, power):
    (tmp_path / "user_model.py").write_text(MODEL.format(power=power))
    env = {"ADJOINT_CACHE_DIR": str(tmp_path / "cache"), "PYTHONPATH": str(SRC),
           "PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1"}
    proc = subprocess.run([sys.executable, "-c", PROBE, str(tmp_path)], capture_output=True,
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
