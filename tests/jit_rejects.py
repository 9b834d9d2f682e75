"""A function adjoint accepts but Numba cannot compile (used by tests/test_jit.py)."""


class Settings:
    scale = 2.0


SETTINGS = Settings()


def scaled(x):
    k = SETTINGS.scale
    return k * x * x
