"""``python -m livyd.sandbox``: see :mod:`livyd.sandbox._cli`."""

from __future__ import annotations

import sys

from livyd.sandbox._cli import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
