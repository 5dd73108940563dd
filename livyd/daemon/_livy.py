"""A thin, raw-JSON Livy adapter for the daemon (interim).

The daemon needs Livy's objects as JSON dicts (it forwards most fields to the editor unchanged)
and a handful of endpoints. Until ``livyd._client.LivyClient`` is available to the daemon, this
module does those calls with httpx and maps failures onto :mod:`livyd._exceptions`, the same way
the library does: messages name the method and the (redacted) URL, never a body or a header.

Nothing here retries a POST: a statement must never run twice by accident.
"""

from __future__ import annotations

from typing import Any

import httpx

from livyd._exceptions import (
    BadRequestError,
    BatchNotFoundError,
    ConnectError,
    LivyHTTPError,
    NotFoundError,
    ServerError,
    SessionNotFoundError,
    SessionNotReadyError,
    StatementNotFoundError,
    TransportError,
    TransportTimeout,
    redact_url,
)

__all__ = ["LivyAPI"]


class LivyAPI:
    """The Livy endpoints the daemon uses, returning Livy's JSON."""

    def __init__(self, url: str, *, auth: httpx.Auth | None = None, timeout: float = 30.0) -> None:
        self.url = url.rstrip("/")
        self._http = httpx.AsyncClient(
            base_url=self.url,
            auth=auth,
            timeout=timeout,
            headers={"Content-Type": "application/json", "X-Requested-By": "livyd"},
        )

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def _call(
        self, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None
    ) -> Any:
        shown = redact_url(f"{self.url}{path}")
        try:
            resp = await self._http.request(method, path, json=json, params=params)
        except httpx.TimeoutException as exc:
            raise TransportTimeout(f"{method} {shown}: timed out", method=method, url=shown) from exc
        except httpx.ConnectError as exc:
            raise ConnectError(f"{method} {shown}: cannot connect", method=method, url=shown) from exc
        except httpx.HTTPError as exc:
            raise TransportError(f"{method} {shown}: {type(exc).__name__}", method=method, url=shown) from exc
        if resp.status_code < 400:
            if not resp.content:
                return None
            try:
                return resp.json()
            except ValueError:
                return resp.text
        livy_message: str | None
        try:
            body = resp.json()
            livy_message = body.get("msg") if isinstance(body, dict) else str(body)
        except ValueError:
            livy_message = resp.text[:200] or None
        message = f"{method} {shown}: HTTP {resp.status_code}" + (f": {livy_message}" if livy_message else "")
        kw: dict[str, Any] = {
            "status": resp.status_code,
            "method": method,
            "url": shown,
            "livy_message": livy_message,
        }
        if resp.status_code == 404:
            parts = path.strip("/").split("/")
            if parts[0] == "batches":
                raise BatchNotFoundError(message, batch_id=parts[1] if len(parts) > 1 else None, **kw)
            if len(parts) >= 4 and parts[2] == "statements":
                raise StatementNotFoundError(message, **kw)
            if parts[0] == "sessions":
                raise SessionNotFoundError(message, session_id=parts[1] if len(parts) > 1 else None, **kw)
            raise NotFoundError(message, **kw)
        if resp.status_code == 400:
            raise BadRequestError(message, **kw)
        if resp.status_code == 500 and livy_message and "Session is in state" in livy_message:
            raise SessionNotReadyError(message, state=livy_message.rsplit(" ", 1)[-1], **kw)
        if resp.status_code >= 500:
            raise ServerError(message, **kw)
        raise LivyHTTPError(message, **kw)

    # ---------------------------------------------------------------- sessions

    async def create_session(self, body: dict[str, Any]) -> dict[str, Any]:
        """POST /sessions."""
        result: dict[str, Any] = await self._call("POST", "/sessions", json=body)
        return result

    async def get_session(self, session_id: int) -> dict[str, Any]:
        """GET /sessions/{id}."""
        result: dict[str, Any] = await self._call("GET", f"/sessions/{session_id}")
        return result

    async def list_sessions(self) -> list[dict[str, Any]]:
        """GET /sessions (all pages)."""
        out: list[dict[str, Any]] = []
        while True:
            page = await self._call("GET", "/sessions", params={"from": len(out), "size": 100})
            items = page.get("sessions") or []
            out.extend(items)
            if not items or len(out) >= int(page.get("total", 0)):
                return out

    async def delete_session(self, session_id: int) -> None:
        """DELETE /sessions/{id}."""
        await self._call("DELETE", f"/sessions/{session_id}")

    async def submit_statement(self, session_id: int, code: str, kind: str | None) -> dict[str, Any]:
        """POST /sessions/{id}/statements (never retried)."""
        body: dict[str, Any] = {"code": code}
        if kind:
            body["kind"] = kind
        result: dict[str, Any] = await self._call("POST", f"/sessions/{session_id}/statements", json=body)
        return result

    async def list_statements(self, session_id: int, from_: int, size: int) -> dict[str, Any]:
        """GET /sessions/{id}/statements?from=&size= (a positional window)."""
        result: dict[str, Any] = await self._call(
            "GET", f"/sessions/{session_id}/statements", params={"from": from_, "size": size}
        )
        return result

    async def get_statement(self, session_id: int, statement_id: int) -> dict[str, Any]:
        """GET /sessions/{id}/statements/{sid}."""
        result: dict[str, Any] = await self._call("GET", f"/sessions/{session_id}/statements/{statement_id}")
        return result

    async def cancel_statement(self, session_id: int, statement_id: int) -> None:
        """POST /sessions/{id}/statements/{sid}/cancel."""
        await self._call("POST", f"/sessions/{session_id}/statements/{statement_id}/cancel", json={})

    async def session_log(self, session_id: int, from_: int | None, size: int) -> dict[str, Any]:
        """GET /sessions/{id}/log."""
        params: dict[str, Any] = {"size": size}
        if from_ is not None:
            params["from"] = from_
        result: dict[str, Any] = await self._call("GET", f"/sessions/{session_id}/log", params=params)
        return result

    async def completion(self, session_id: int, code: str, kind: str, cursor: int) -> list[str]:
        """POST /sessions/{id}/completion."""
        result = await self._call(
            "POST", f"/sessions/{session_id}/completion", json={"code": code, "kind": kind, "cursor": cursor}
        )
        return list(result.get("candidates") or []) if isinstance(result, dict) else []

    # ---------------------------------------------------------------- batches

    async def create_batch(self, body: dict[str, Any]) -> dict[str, Any]:
        """POST /batches."""
        result: dict[str, Any] = await self._call("POST", "/batches", json=body)
        return result

    async def get_batch(self, batch_id: int) -> dict[str, Any]:
        """GET /batches/{id}."""
        result: dict[str, Any] = await self._call("GET", f"/batches/{batch_id}")
        return result

    async def list_batches(self) -> list[dict[str, Any]]:
        """GET /batches."""
        page = await self._call("GET", "/batches", params={"from": 0, "size": 1000})
        return list(page.get("sessions") or [])

    async def delete_batch(self, batch_id: int) -> None:
        """DELETE /batches/{id}."""
        await self._call("DELETE", f"/batches/{batch_id}")

    async def batch_log(self, batch_id: int, from_: int | None, size: int) -> dict[str, Any]:
        """GET /batches/{id}/log."""
        params: dict[str, Any] = {"size": size}
        if from_ is not None:
            params["from"] = from_
        result: dict[str, Any] = await self._call("GET", f"/batches/{batch_id}/log", params=params)
        return result
