"""``python -m adjoint``: the same command line as the ``adjoint`` console script."""

import sys

from adjoint.cli import main

if __name__ == "__main__":
    sys.exit(main())
