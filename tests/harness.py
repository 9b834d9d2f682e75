"""What the zoo test modules share: transformed functions built once per (transform, function,
mode) and reused across cases and random points (Numba compiles once per signature)."""

_BUILT = {}


def build(transform, entry, mode):
    """``transform(entry.fn, wrt=entry.wrt, jit=...)``, built once per (transform, entry, mode)."""
    key = (transform.__name__, entry.fn.__module__, entry.name, mode)
    if key not in _BUILT:
        _BUILT[key] = transform(entry.fn, wrt=entry.wrt, jit=(mode == "jit"))
    return _BUILT[key]
