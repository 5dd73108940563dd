"""The daemon's view of Livy: :class:`livyd.LivyClient`, with Livy-shaped JSON dicts out.

The supervisor works on Livy's JSON (it forwards most fields to editors, and persists some), so
this adapter turns the library's pydantic models back into Livy-shaped dicts
(``model_dump(mode="json", by_alias=True)``). All HTTP, authentication, retries, error mapping
and duplicate-safe POSTs are the library's: a statement is never submitted twice by accident.

**Replacing the client.** ``livy/setCredentials`` swaps in a new :class:`LivyAPI`; the old one is
closed with :meth:`LivyAPI.aclose_when_idle`, which waits for the calls it is serving (a statement
POST must not be cut in the middle: its fate would be unknown) before closing the connections.
Every call is counted in and out for that.

**Inactive sessions.** Livy answers statement reads and writes on a session that is shutting down or
dead (deleted outside livyd, timed out, killed by YARN) with 400 ``requirement failed: Session
isn't active.`` (livy-rest.md 7.4). That is not a bad request but the session being gone, so these
calls raise :class:`~livyd.SessionGoneError` for it, like a 404.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import anyio

from livyd._exceptions import BadRequestError, SessionGoneError

if TYPE_CHECKING:
    from pydantic import BaseModel

    from livyd._client import LivyClient

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


def inactive_session(exc: BadRequestError) -> bool:
    """Whether a 400 is Livy's "requirement failed: Session isn't active." (livy-rest.md 7.4)."""
    said = (exc.livy_message or str(exc)).lower()
    return "isn't active" in said or "is not active" in said


@contextlib.contextmanager
def _inactive_is_gone(session_id: int) -> Iterator[None]:
    """Turn Livy's 400 "Session isn't active." into :class:`SessionGoneError`."""
    try:
        yield
    except BadRequestError as exc:
        if inactive_session(exc):
            raise SessionGoneError(
                f"session {session_id} was deleted or is shutting down (Livy: Session isn't active)",
                session_id=session_id,
            ) from exc
        raise


def _dump(model: BaseModel) -> dict[str, Any]:
    data: dict[str, Any] = model.model_dump(mode="json", by_alias=True)
    return data


class LivyAPI:
    """The Livy endpoints the daemon uses, returning Livy's JSON."""

    def __init__(self, client: LivyClient) -> None:
        self.client = client
        self.url = str(client.url)
        self._inflight = 0
        self._idle = anyio.Event()
        self._closed = False

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
    async def create_session(self, body: dict[str, Any]) -> dict[str, Any]:
        """POST /sessions (the library names it and makes the POST duplicate-safe)."""
        return _dump(await self.client.create_session(**body))

    @_counted
    async def get_session(self, session_id: int) -> dict[str, Any]:
        """GET /sessions/{id}."""
        return _dump(await self.client.get_session(session_id))

    @_counted
    async def list_sessions(self) -> list[dict[str, Any]]:
        """Every session (all pages)."""
        return [_dump(s) async for s in self.client.iter_sessions()]

    @_counted
    async def delete_session(self, session_id: int) -> None:
        """DELETE /sessions/{id}."""
        await self.client.delete_session(session_id)

    @_counted
    async def submit_statement(self, session_id: int, code: str, kind: str | None) -> dict[str, Any]:
        """POST /sessions/{id}/statements (never run twice)."""
        with _inactive_is_gone(session_id):
            return _dump(await self.client.submit_statement(session_id, code, kind=kind))

    @_counted
    async def list_statements(self, session_id: int, from_: int, size: int) -> dict[str, Any]:
        """GET /sessions/{id}/statements?from=&size= (a positional window)."""
        with _inactive_is_gone(session_id):
            return _dump(await self.client.list_statements(session_id, from_=from_, size=size))

    @_counted
    async def get_statement(self, session_id: int, statement_id: int) -> dict[str, Any]:
        """GET /sessions/{id}/statements/{sid}."""
        with _inactive_is_gone(session_id):
            return _dump(await self.client.get_statement(session_id, statement_id))

    @_counted
    async def cancel_statement(self, session_id: int, statement_id: int) -> None:
        """POST /sessions/{id}/statements/{sid}/cancel."""
        await self.client.cancel_statement(session_id, statement_id)

    @_counted
    async def session_log(self, session_id: int, from_: int | None, size: int) -> dict[str, Any]:
        """GET /sessions/{id}/log."""
        return _dump(await self.client.session_log(session_id, from_=from_, size=size))

    @_counted
    async def completion(self, session_id: int, code: str, kind: str, cursor: int) -> list[str]:
        """POST /sessions/{id}/completion."""
        return list(await self.client.completion(session_id, code, kind=kind, cursor=cursor))

    # ---------------------------------------------------------------- batches

    @_counted
    async def create_batch(self, body: dict[str, Any]) -> dict[str, Any]:
        """POST /batches."""
        return _dump(await self.client.create_batch(**body))

    @_counted
    async def get_batch(self, batch_id: int) -> dict[str, Any]:
        """GET /batches/{id}."""
        return _dump(await self.client.get_batch(batch_id))

    @_counted
    async def list_batches(self) -> list[dict[str, Any]]:
        """Every batch."""
        return [_dump(b) async for b in self.client.iter_batches()]

    @_counted
    async def delete_batch(self, batch_id: int) -> None:
        """DELETE /batches/{id}."""
        await self.client.delete_batch(batch_id)

    @_counted
    async def batch_log(self, batch_id: int, from_: int | None, size: int) -> dict[str, Any]:
        """GET /batches/{id}/log."""
        return _dump(await self.client.batch_log(batch_id, from_=from_, size=size))
