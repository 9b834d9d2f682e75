"""Derivative rules, one module per namespace; importing this package registers them all."""

import importlib

from . import operators  # noqa: F401

for _name in ("math", "builtins", "numpy", "runtime"):
    try:
        importlib.import_module(f"{__name__}.{_name}")
    except ModuleNotFoundError as exc:  # a namespace whose rule module is not written yet
        if exc.name != f"{__name__}.{_name}":
            raise
