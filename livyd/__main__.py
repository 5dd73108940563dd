"""``python -m livyd``: the ``livyd`` command line."""

from __future__ import annotations

from livyd.cli import console_main

if __name__ == "__main__":
    console_main()
