"""``python -m mtl_core``."""

import sys

from mtl_core.cli import main

if __name__ == "__main__":
    sys.exit(main())
