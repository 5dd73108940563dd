"""Livy's web UI, as the sandbox serves it at ``/ui``.

Real Livy answers ``GET /`` with a redirect to ``/ui/`` (clients probe it to see whether Livy is
up) and serves there its pages: all sessions (``/ui``), one session with its statements
(``/ui/session/<id>``), a session's log (``/ui/session/<id>/log``) and a batch's log
(``/ui/batch/<id>/log``). The sandbox serves the same routes in the same look -- a Bootstrap 3
page with a navbar, "Interactive Sessions" and "Batch Sessions" tables, a session summary and a
statements table with code, state, a progress bar and the output -- written here from scratch
(no Bootstrap, no jQuery: one self-contained page, ``_ui.html``). The page reads the REST API itself (relative
to where it is mounted, so it works behind the gateway prefix too), renders every value as text
(code and output are user data), and refreshes every 1.5 s while a session starts or is busy, a
statement waits or runs, or a batch runs; every 10 s otherwise.
"""

from __future__ import annotations

from importlib import resources

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

__all__ = ["ui_routes"]

_PAGE = (resources.files("livyd.sandbox") / "_ui.html").read_text(encoding="utf-8")


async def _page(request: Request) -> Response:
    return HTMLResponse(_PAGE, headers={"Cache-Control": "no-store"})


def ui_routes() -> list[Route]:
    """Livy's UI routes (each serves the page; the page renders what its path names)."""
    paths = ["/ui", "/ui/", "/ui/session/{id}", "/ui/session/{id}/", "/ui/session/{id}/log",
             "/ui/batch/{id}/log"]
    return [Route(p, _page, methods=["GET", "HEAD"]) for p in paths]
