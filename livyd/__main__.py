"""``python -m livyd``: the ``livyd`` command line."""

from __future__ import annotations

from livyd.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
