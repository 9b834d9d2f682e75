"""The installed version of adjoint (``"0+unknown"`` when run from a source tree that was never
installed). Takes nothing; imports nothing of adjoint, so any module may read it."""

from importlib import metadata as _metadata

try:
    __version__ = _metadata.version("adjoint")
except _metadata.PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "0+unknown"
