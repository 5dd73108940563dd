"""``livyd sandbox``: a Livy- and WebHDFS-compatible server on loopback.

It is the embedded default (no Livy configured → ``livyd exec`` starts one) and the server every
integration test runs against. It is written from ``livy-rest.md`` and imports nothing of livyd's
client side, so the client cannot agree with it by construction.

::

    async with Sandbox() as sb:
        ...  # sb.livy_url, sb.webhdfs_url, sb.data_dir

Command line: ``python -m livyd.sandbox --help`` (or ``livyd sandbox``).
"""

from __future__ import annotations

from livyd.sandbox._server import Sandbox as Sandbox

__all__ = ["Sandbox"]
