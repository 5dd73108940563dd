"""``python -m livyd.daemon [--standalone] [--log-file F]``: the editor daemon."""

from __future__ import annotations

import sys

from livyd.daemon import main

if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
