"""Derivative rules, one module per namespace; importing this package registers them all.

Every rule module is imported unconditionally, in this order: a missing or broken one is an
error at import time, never a silently smaller rule set (which would turn supported calls into
refusals).
"""

from . import operators  # noqa: F401, I001  (registration; the order is the registration order)
from . import math  # noqa: F401
from . import builtins  # noqa: F401
from . import numpy  # noqa: F401
from . import runtime  # noqa: F401
