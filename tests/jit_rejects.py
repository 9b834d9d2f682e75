"""Functions adjoint accepts but Numba cannot compile (used by tests/test_jit.py)."""


class Settings:
    scale = 2.0


SETTINGS = Settings()


def scaled(x):
    k = SETTINGS.scale
    s = 0.0
    for i in range(2):
        s = s + k * x * x
    return s


def scaled_once(x):
    k = SETTINGS.scale
    return k * x * x
