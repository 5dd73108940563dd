"""The daemon's view of Livy: :class:`livyd.LivyClient`, with Livy-shaped JSON dicts out.

The supervisor works on Livy's JSON (it forwards most fields to editors, and persists some), so
this adapter turns the library's pydantic models back into Livy-shaped dicts
(``model_dump(mode="json", by_alias=True)``). All HTTP, authentication, retries, error mapping
and duplicate-safe POSTs are the library's: a statement is never submitted twice by accident.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import BaseModel

    from livyd._client import LivyClient

__all__ = ["LivyAPI"]


def _dump(model: BaseModel) -> dict[str, Any]:
    data: dict[str, Any] = model.model_dump(mode="json", by_alias=True)
    return data


class LivyAPI:
    """The Livy endpoints the daemon uses, returning Livy's JSON."""

    def __init__(self, client: LivyClient) -> None:
        self.client = client
        self.url = str(client.url)

    async def aclose(self) -> None:
        """Close the client's connections (server-side sessions are left alone)."""
        await self.client.aclose()

    # ---------------------------------------------------------------- sessions

    async def create_session(self, body: dict[str, Any]) -> dict[str, Any]:
        """POST /sessions (the library names it and makes the POST duplicate-safe)."""
        return _dump(await self.client.create_session(**body))

    async def get_session(self, session_id: int) -> dict[str, Any]:
        """GET /sessions/{id}."""
        return _dump(await self.client.get_session(session_id))

    async def list_sessions(self) -> list[dict[str, Any]]:
        """Every session (all pages)."""
        return [_dump(s) async for s in self.client.iter_sessions()]

    async def delete_session(self, session_id: int) -> None:
        """DELETE /sessions/{id}."""
        await self.client.delete_session(session_id)

    async def submit_statement(self, session_id: int, code: str, kind: str | None) -> dict[str, Any]:
        """POST /sessions/{id}/statements (never run twice)."""
        return _dump(await self.client.submit_statement(session_id, code, kind=kind))

    async def list_statements(self, session_id: int, from_: int, size: int) -> dict[str, Any]:
        """GET /sessions/{id}/statements?from=&size= (a positional window)."""
        return _dump(await self.client.list_statements(session_id, from_=from_, size=size))

    async def get_statement(self, session_id: int, statement_id: int) -> dict[str, Any]:
        """GET /sessions/{id}/statements/{sid}."""
        return _dump(await self.client.get_statement(session_id, statement_id))

    async def cancel_statement(self, session_id: int, statement_id: int) -> None:
        """POST /sessions/{id}/statements/{sid}/cancel."""
        await self.client.cancel_statement(session_id, statement_id)

    async def session_log(self, session_id: int, from_: int | None, size: int) -> dict[str, Any]:
        """GET /sessions/{id}/log."""
        return _dump(await self.client.session_log(session_id, from_=from_, size=size))

    async def completion(self, session_id: int, code: str, kind: str, cursor: int) -> list[str]:
        """POST /sessions/{id}/completion."""
        return list(await self.client.completion(session_id, code, kind=kind, cursor=cursor))

    # ---------------------------------------------------------------- batches

    async def create_batch(self, body: dict[str, Any]) -> dict[str, Any]:
        """POST /batches."""
        return _dump(await self.client.create_batch(**body))

    async def get_batch(self, batch_id: int) -> dict[str, Any]:
        """GET /batches/{id}."""
        return _dump(await self.client.get_batch(batch_id))

    async def list_batches(self) -> list[dict[str, Any]]:
        """Every batch."""
        return [_dump(b) async for b in self.client.iter_batches()]

    async def delete_batch(self, batch_id: int) -> None:
        """DELETE /batches/{id}."""
        await self.client.delete_batch(batch_id)

    async def batch_log(self, batch_id: int, from_: int | None, size: int) -> dict[str, Any]:
        """GET /batches/{id}/log."""
        return _dump(await self.client.batch_log(batch_id, from_=from_, size=size))
