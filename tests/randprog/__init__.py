"""The random-program differential tester (see docs/testing.md): ``generate`` writes programs,
``check`` classifies one against finite differences and Python mode, ``shrink`` minimizes a
failure, and ``run`` ties them together for tests/test_random_programs.py and tools/fuzz.py."""
