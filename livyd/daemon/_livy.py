"""The daemon's handle on one Livy client: :class:`livyd.LivyClient`, its calls counted.

The daemon works on the library's pydantic models (``Session``, ``Statement``, ``Batch``,
``LogPage``); every HTTP detail, the authentication, retries, error mapping (including Livy's 400
"Session isn't active." as :class:`~livyd.SessionGoneError`) and duplicate-safe POSTs are the
library's. What this adds is one thing only the daemon needs:

**Replacing the client.** ``livy/setCredentials`` swaps in a new :class:`LivyAPI`; the old one is
closed with :meth:`LivyAPI.aclose_when_idle`, which waits for the calls it is serving (a statement
POST must not be cut in the middle: its fate would be unknown) before closing the connections.
Every call is counted in and out for that. A :class:`~livyd.SessionEngine` talks to a
:class:`LivyAPI` as it would to a client.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import anyio

if TYPE_CHECKING:
    from livyd._client import LivyClient
    from livyd._core.identity import SessionIdentity
    from livyd._core.poll import PollSettings
    from livyd._models import Batch, LogPage, Session, Statement, StatementList

__all__ = ["LivyAPI"]


P = ParamSpec("P")
R = TypeVar("R")


def _counted(fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Count the call as in flight on its :class:`LivyAPI` (see :meth:`LivyAPI.aclose_when_idle`)."""

    @functools.wraps(fn)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        api = args[0]
        assert isinstance(api, LivyAPI)
        api._inflight += 1
        try:
            return await fn(*args, **kwargs)
        finally:
            api._inflight -= 1
            if api._inflight == 0:
                api._idle.set()
                api._idle = anyio.Event()

    return wrapper


class LivyAPI:
    """The Livy endpoints the daemon uses, returning the library's models."""

    def __init__(self, client: LivyClient) -> None:
        self.client = client
        self.url = str(client.url)
        self._inflight = 0
        self._idle = anyio.Event()
        self._closed = False

    @property
    def poll_settings(self) -> PollSettings:
        """The client's poll plan (what an engine uses by default)."""
        return self.client.poll_settings

    @property
    def keepalive_interval(self) -> float:
        """Seconds between keep-alive POSTs while a statement runs."""
        return self.client.keepalive_interval

    def session_identity(self, session_id: int) -> SessionIdentity | None:
        """Who the client knows session *session_id* to be (``None``: not tracked)."""
        return self.client.session_identity(session_id)

    def track_identity(self, identity: SessionIdentity) -> None:
        """Compare every later read of that session with *identity* (kept across a daemon restart
        or a client replaced for new credentials)."""
        self.client.track_identity(identity)

    async def aclose(self) -> None:
        """Close the client's connections (server-side sessions are left alone); idempotent."""
        if not self._closed:
            self._closed = True
            await self.client.aclose()

    async def aclose_when_idle(self, limit_s: float = 60.0) -> None:
        """Close once no call is in flight (or after *limit_s* seconds), shielded."""
        with anyio.CancelScope(shield=True):
            with anyio.move_on_after(limit_s):
                while self._inflight:
                    await self._idle.wait()
            await self.aclose()

    # ---------------------------------------------------------------- sessions

    @_counted
    async def create_session(self, body: dict[str, Any]) -> Session:
        """POST /sessions (the library names it and makes the POST duplicate-safe)."""
        return await self.client.create_session(**body)

    @_counted
    async def get_session(self, session_id: int) -> Session:
        """GET /sessions/{id}."""
        return await self.client.get_session(session_id)

    @_counted
    async def list_sessions(self) -> list[Session]:
        """Every session (all pages)."""
        return [s async for s in self.client.iter_sessions()]

    @_counted
    async def delete_session(self, session_id: int) -> None:
        """DELETE /sessions/{id}."""
        await self.client.delete_session(session_id)

    @_counted
    async def connect_session(self, session_id: int) -> Session:
        """POST /sessions/{id}/connect (keep-alive)."""
        return await self.client.connect_session(session_id)

    @_counted
    async def submit_statement(self, session_id: int, code: str, *, kind: str | None = None,
                               after_id: int | None = None) -> Statement:
        """POST /sessions/{id}/statements (never run twice)."""
        return await self.client.submit_statement(session_id, code, kind=kind, after_id=after_id)

    @_counted
    async def list_statements(self, session_id: int, from_: int, size: int) -> StatementList:
        """GET /sessions/{id}/statements?from=&size= (a positional window)."""
        return await self.client.list_statements(session_id, from_=from_, size=size)

    @_counted
    async def get_statement(self, session_id: int, statement_id: int) -> Statement:
        """GET /sessions/{id}/statements/{sid}."""
        return await self.client.get_statement(session_id, statement_id)

    @_counted
    async def cancel_statement(self, session_id: int, statement_id: int) -> None:
        """POST /sessions/{id}/statements/{sid}/cancel."""
        await self.client.cancel_statement(session_id, statement_id)

    @_counted
    async def session_log(self, session_id: int, *, from_: int | None = None, size: int | None = None
                          ) -> LogPage:
        """GET /sessions/{id}/log."""
        return await self.client.session_log(session_id, from_=from_, size=size)

    @_counted
    async def completion(self, session_id: int, code: str, kind: str, cursor: int) -> list[str]:
        """POST /sessions/{id}/completion."""
        return list(await self.client.completion(session_id, code, kind=kind, cursor=cursor))

    # ---------------------------------------------------------------- batches

    @_counted
    async def create_batch(self, body: dict[str, Any]) -> Batch:
        """POST /batches."""
        return await self.client.create_batch(**body)

    @_counted
    async def get_batch(self, batch_id: int) -> Batch:
        """GET /batches/{id}."""
        return await self.client.get_batch(batch_id)

    @_counted
    async def list_batches(self) -> list[Batch]:
        """Every batch."""
        return [b async for b in self.client.iter_batches()]

    @_counted
    async def delete_batch(self, batch_id: int) -> None:
        """DELETE /batches/{id}."""
        await self.client.delete_batch(batch_id)

    @_counted
    async def batch_log(self, batch_id: int, *, from_: int | None = None, size: int | None = None) -> LogPage:
        """GET /batches/{id}/log."""
        return await self.client.batch_log(batch_id, from_=from_, size=size)

