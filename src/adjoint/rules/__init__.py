"""Derivative rules, one module per namespace; importing this package registers them all.

Every rule module is imported unconditionally, in this order (the registration order): a
missing or broken one is an error at import time, never a silently smaller rule set (which
would turn supported calls into refusals).
"""

import importlib

for _name in ("operators", "math", "builtins", "numpy_elementwise", "numpy_reductions",
              "numpy_linalg", "numpy_shape", "numpy_indexing", "numpy_creation", "numpy_methods",
              "runtime", "runtime_linear", "runtime_products", "runtime_linalg", "stop"):
    importlib.import_module(f"{__name__}.{_name}")
