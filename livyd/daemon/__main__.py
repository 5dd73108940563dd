"""``python -m livyd.daemon [--standalone] [--log-file F]``: the editor daemon (the shared per-user
daemon is started this way by ``livyd --stdio``)."""

from __future__ import annotations

import sys

from livyd.daemon import main

if __name__ == "__main__":
    # As in the ``livyd`` console script (livyd.cli.console_main): this process runs on asyncio and
    # never runs httpx's own command line, so neither trio (which httpcore imports when installed)
    # nor httpx._main (click, rich, pygments: ~40 ms and their memory) is loaded.
    sys.modules.setdefault("trio", None)  # type: ignore[arg-type]
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
    raise SystemExit(main(sys.argv[1:]))
