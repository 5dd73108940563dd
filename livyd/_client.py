"""``LivyClient``: every Livy endpoint (except the serialized-job API), duplicate-safe, cancellable.

Quick start::

    async with LivyClient("http://127.0.0.1:8998") as client:
        session = await client.create_session(kind="pyspark")
        await client.wait_session_ready(session.id)
        st = await client.run_statement(session.id, "1 + 1")
        print(st.output.text)                      # "2"
        await client.delete_session(session.id)

The hard parts, and how they are handled:

**A statement must never run twice by accident.** ``POST .../statements`` is not idempotent and
is never re-sent after an ambiguous failure (connection dropped after sending, read timeout,
gateway 502/503/504): the POST may still be in flight inside Livy and land seconds later. Right
before each submission :meth:`LivyClient.submit_statement` asks for the session's newest statement
id (a remembered one goes stale when other clients run statements); after an ambiguous failure it
lists the statements newer than that id and matches the code (after line-ending normalisation,
:mod:`livyd._core.matching`), again and again with back-off for ``landing_timeout`` seconds (the
request timeout plus 5 s). Found: that statement is returned. Not found in time, or the listing
fails: :class:`SubmissionUnknownError`, and nothing is re-sent. A cell deliberately run twice
still runs twice, because the window starts after the previous run. Sessions and batches get a
unique name (``<name_prefix>-<random>`` unless the caller named them) and are looked up by name
instead; a re-sent creation that Livy refuses as a duplicate name is resolved the same way. A name
the caller chose is not unique: the object that had it before the POST is never taken for ours
(Livy refuses the POST as a duplicate, and that error is raised).

**A session id is not an identity.** Livy numbers sessions from 0 again after a restart. Every
session this client creates, is given (:meth:`LivyClient.track_session`) or submits into is
tracked by :class:`livyd.SessionIdentity` (name, appId, kind, owner, proxyUser; each statement's
id, code and ``started``), and every read of it is compared: a difference raises
:class:`SessionReplacedError` and nothing is written into that id again (no statement, cancel or
DELETE). After a connection gap (a failed, retried or gateway-refused request) a write first shows
the session is the same one (its unique name or appId, else a statement livyd ran there), or
raises :class:`SessionUnverifiedError`.

**Session not ready.** Livy answers a statement POST on a starting session with 500 ``Session is
in state starting``: it did not run, so the client waits for the session and then posts again.

**Waiting** uses the sans-IO :class:`~livyd._core.poll.PollPlanner` (first poll within 2 ms,
back-off to ``PollSettings.maximum``, fast again on state changes) on ``anyio.current_time()``.
Every wait is a cancel point. Cancelling :meth:`LivyClient.wait_statement` (or
:meth:`LivyClient.run_statement`), including by its ``timeout``, cancels the statement on the
server inside ``anyio.move_on_after(5, shield=True)`` and then re-raises. Cancelling
:meth:`LivyClient.submit_statement` while its POST is in flight looks (shielded) for the statement
it may have created and cancels that too.

**Keep-alive.** Livy's idle timer ignores GETs, so while a statement runs longer than
``keepalive_interval`` the wait POSTs ``/sessions/{id}/connect`` every ``keepalive_interval``.

**Versions.** ``GET /version`` once per client; request fields the server does not know are
dropped (``idleTimeout`` below 0.9, ``ttl`` below 0.8) and ``order=desc`` is only sent to 0.8+
(emulated client-side below).
"""

from __future__ import annotations

import inspect
import os
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager, nullcontext
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Protocol, TypeVar

import anyio
import httpx
from pydantic import BaseModel, ValidationError

from livyd._core.errors import extract_message
from livyd._core.identity import IdentityCheck, IdentityVerdict, SessionIdentity
from livyd._core.logcursor import LogCursor
from livyd._core.matching import find_landed, newest_id
from livyd._core.poll import PollPlanner, PollSettings
from livyd._core.sparkinsight import InsightSettings, PhaseTracker
from livyd._core.urls import join_path, normalize_base_url, resolve_location
from livyd._core.versions import CONSERVATIVE, LivyVersion
from livyd._exceptions import (
    BadRequestError,
    BatchNotFoundError,
    ConfigError,
    LivydError,
    LivyHTTPError,
    NotFoundError,
    SessionGoneError,
    SessionInactiveError,
    SessionNotFoundError,
    SessionNotReadyError,
    SessionReplacedError,
    SessionUnverifiedError,
    StatementNotFoundError,
    SubmissionUnknownError,
    TransportError,
    WaitTimeout,
    redact_url,
)
from livyd._logging import get_logger
from livyd._models import (
    Batch,
    BatchList,
    BatchState,
    CompletionResult,
    CreateBatchRequest,
    CreateSessionRequest,
    LogPage,
    Session,
    SessionList,
    SessionState,
    StateInfo,
    Statement,
    StatementList,
    StatementState,
    VersionInfo,
)
from livyd._transport import AmbiguousFailure, ClientStatistics, Transport

__all__ = ["ClientStatistics", "LivyClient", "PollSettings"]

_BIG_BODY = 1 << 20  # bytes: a body this big is parsed in a step of its own on the event loop
log = get_logger("livyd.client")

M = TypeVar("M", bound=BaseModel)
_Item = TypeVar("_Item")
SessionRef = int | str
OnUpdate = Callable[[Any], Awaitable[None] | None]
#: Receives each :data:`livyd.ProgressEvent` (sync or async).
OnProgress = Callable[[Any], Awaitable[None] | None]

#: How long cleanup that must reach the server (cancel a statement) may take when shielded.
CLEANUP_TIMEOUT = 5.0
#: Pause before the second look for an ambiguously-created session/batch (a slow server may still
#: be processing the first POST).
RECHECK_DELAY = 0.5
#: How much longer than the request timeout the client keeps looking for a statement whose POST
#: failed ambiguously before it gives up with SubmissionUnknownError (it never re-sends it).
LANDING_MARGIN = 5.0
#: New log lines in one read that make a log follower read again at once (a quarter of the 200
#: lines per stream Livy keeps): a fast writer would otherwise wrap the buffer between two reads.
FOLLOW_BURST = 50


async def _notify(callback: OnUpdate | None, value: Any) -> None:
    if callback is None:
        return
    result = callback(value)
    if inspect.isawaitable(result):
        await result


class LivyClient:
    """An async client for one Livy server (direct or behind a gateway). Use ``async with``.

    :param url: the Livy root (``http://host:8998`` or ``https://knox:8443/gateway/<t>/livy/v1``);
        a URL ending in ``/sessions`` is accepted and normalised.
    :param auth: an ``httpx.Auth`` (see ``livyd._auth.build_auth``) or ``None``.
    :param auth_description: how the auth is described in 401 messages (never a secret).
    :param verify: TLS verification: ``True``, ``False`` (logged loudly) or a CA bundle path.
    :param cert: client certificate path, or ``(cert, key)``.
    :param proxy: explicit proxy URL; otherwise ``HTTP(S)_PROXY`` / ``NO_PROXY`` apply.
    :param timeout: seconds for every single request.
    :param max_connections_per_host: concurrent requests per host.
    :param retries: retries of idempotent requests (exponential back-off with jitter).
    :param poll: how waits poll (:class:`PollSettings`).
    :param keepalive_interval: seconds between ``POST /connect`` while a statement runs.
    :param headers: extra headers for every request.
    :param name_prefix: prefix of the unique names given to created sessions and batches.
    :param transport: an httpx transport (tests).
    :param insight: how statements' Spark jobs are watched (``on_progress``): the Spark UI URL
        template, read intervals and warning thresholds (:class:`livyd.InsightSettings`).
    """

    def __init__(
        self,
        url: str,
        *,
        auth: httpx.Auth | None = None,
        auth_description: str = "no authentication",
        verify: bool | str = True,
        cert: str | tuple[str, str] | None = None,
        proxy: str | None = None,
        timeout: float = 30.0,
        max_connections_per_host: int = 8,
        retries: int = 3,
        poll: PollSettings | None = None,
        keepalive_interval: float = 300.0,
        headers: Mapping[str, str] | None = None,
        name_prefix: str = "livyd",
        transport: httpx.AsyncBaseTransport | None = None,
        insight: InsightSettings | None = None,
    ) -> None:
        self.url = normalize_base_url(url)
        if keepalive_interval <= 0:
            raise ConfigError(f"keepalive_interval must be > 0 seconds, not {keepalive_interval}",
                              key="poll.keepalive_interval")
        if not name_prefix or name_prefix.isdigit():
            raise ConfigError(f"name_prefix {name_prefix!r} must be a non-numeric string",
                              key="session.name_prefix")
        self._stats = ClientStatistics()
        self._transport = Transport(
            auth=auth, auth_description=auth_description, verify=verify, cert=cert, proxy=proxy,
            timeout=timeout, max_connections_per_host=max_connections_per_host, retries=retries,
            headers=headers, transport=transport, stats=self._stats,
        )
        self.poll_settings = poll or PollSettings()
        self.keepalive_interval = keepalive_interval
        self.name_prefix = name_prefix
        self._version: VersionInfo | None = None
        self._sandbox: bool | None = None
        #: Whether ``GET .../statements?order=desc`` works (0.8+), once known: from ``/version``,
        #: or from a session read, whose 0.8+ fields (``ttl`` … ``queue``) prove it.
        self._order_desc: bool | None = None
        self._version_lock: anyio.Lock | None = None
        self._accepting: set[str] = set()  # sessions seen past "starting" (statements can be listed)
        #: Pause before the second look for an ambiguously-created session or batch.
        self.recheck_delay = RECHECK_DELAY
        #: Seconds to keep looking for a statement whose POST failed ambiguously (a slow Livy, or one
        #: behind a gateway that gave up, may still store it) before SubmissionUnknownError.
        self.landing_timeout = timeout + LANDING_MARGIN
        # Session identity (livyd._core.identity): what is known about each session this client
        # created, was given (track_session) or submitted into, keyed by str(id); the number of
        # connection gaps seen so far (a failed, retried or gateway-refused request: the server
        # may have restarted), and the gap count at which each session was last shown to be ours.
        self._identities: dict[str, SessionIdentity] = {}
        self._gaps = 0
        self._proven_at: dict[str, int] = {}
        #: How statements' Spark jobs are watched (``on_progress``); per profile ``[spark_ui]``.
        self.insight_settings = insight or InsightSettings()
        #: Spark UI URLs that did not answer: said once, then not tried again by this client.
        self._spark_ui_unreachable: set[str] = set()

    @classmethod
    def from_config(cls, resolved: Any, *, url: str | None = None, interactive: bool = False) -> LivyClient:
        """A client for a resolved profile (``livyd._config.ResolvedConfig``): URL, auth, TLS, proxy,
        timeouts, retries, polling and name prefix. Delegates to ``livyd._connect.build_livy_client``."""
        from livyd._connect import build_livy_client

        return build_livy_client(resolved, url=url, interactive=interactive)

    # ------------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> LivyClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close connections. Pending server-side work (sessions, statements) is left alone."""
        with anyio.CancelScope(shield=True):
            await self._transport.aclose()

    def statistics(self) -> ClientStatistics:
        """A snapshot of this client's counters."""
        return ClientStatistics(**self._stats.as_dict())

    def __repr__(self) -> str:
        return f"<LivyClient {redact_url(self.url)}>"

    # ------------------------------------------------------------------ plumbing

    def _u(self, *segments: str | int) -> str:
        return join_path(self.url, *segments)

    async def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """``Transport.request``, counting connection gaps: a request that failed at the
        connection level, was retried, or got a gateway's 502/503/504 means the server behind
        may have restarted, so a session's identity must be shown again before writing into it."""
        retries = self._stats.retries
        try:
            return await self._transport.request(method, url, **kwargs)
        except UnicodeEncodeError as exc:  # httpx encodes JSON as UTF-8: a lone surrogate cannot be
            raise ConfigError(f"{method} {redact_url(url)}: the request holds text that is not valid "
                              f"Unicode ({exc.reason}); nothing was sent", key="request") from None
        except (TransportError, AmbiguousFailure):
            self._gaps += 1
            raise
        except LivyHTTPError as exc:
            if exc.status in (502, 503, 504):
                self._gaps += 1
            raise
        finally:
            if self._stats.retries != retries:
                self._gaps += 1

    @staticmethod
    def _parse(model: type[M], resp: httpx.Response) -> M:
        where = f"{resp.request.method} {redact_url(str(resp.request.url))}"
        try:
            return model.model_validate_json(resp.content or b"{}")
        except ValidationError as exc:
            first = exc.errors()[0]
            if first["type"] == "json_invalid":
                # Not Livy talking: typically a proxy's or gateway's HTML page answered with 200.
                kind = (resp.headers.get("content-type") or "no content type").split(";")[0]
                text, _ = extract_message(resp.content, resp.headers.get("content-type"))
                sample = f": {text[:120]!r}" if text else ""
                raise LivydError(
                    f"{where}: the answer is not JSON ({resp.status_code}, {kind}{sample}); is the URL "
                    "Livy's root (through Knox: .../gateway/<topology>/livy/v1)?"
                ) from None
            problems = exc.error_count()
            raise LivydError(
                f"{where}: unexpected answer for {model.__name__} ({problems} "
                f"problem{'s' if problems != 1 else ''}, first: {first['msg']} at "
                f"{'.'.join(str(x) for x in first['loc']) or 'the top level'})"
            ) from None

    async def _get(self, model: type[M], url: str, params: Mapping[str, Any] | None = None) -> M:
        resp = await self._send("GET", url, params=_clean(params))
        if len(resp.content) > _BIG_BODY:
            # httpx joined the body's chunks (a fresh allocation's page faults, under the GIL);
            # validating it holds the GIL again: let the event loop run in between, so what waits
            # (an editor's request) waits for one of them, not both
            await anyio.sleep(0)  # noqa: ASYNC115 - anyio.lowlevel would cost start-up imports
        return self._parse(model, resp)

    async def version(self) -> VersionInfo:
        """``GET /version``, fetched once per client."""
        if self._version is None:
            if self._version_lock is None:
                self._version_lock = anyio.Lock()
            async with self._version_lock:
                if self._version is None:
                    resp = await self._transport.request("GET", self._u("version"))
                    self._sandbox = resp.headers.get("x-livyd-sandbox") is not None
                    self._version = self._parse(VersionInfo, resp)
        return self._version

    async def is_livyd_sandbox(self) -> bool:
        """True when the server says it is livyd's own sandbox (an ``X-Livyd-Sandbox`` header on
        ``GET /version``), whatever its address: an SSH tunnel to a real cluster is loopback too."""
        try:
            await self.version()
        except NotFoundError:
            return False
        return bool(self._sandbox)

    async def server_version(self) -> LivyVersion:
        """The server's version, parsed for numeric comparison.

        A gateway that does not route ``/version`` (404) yields the conservative 0.7 feature set
        (with a warning) instead of failing every creation; other errors propagate.
        """
        try:
            return (await self.version()).parsed
        except NotFoundError as exc:
            if self._version is None:
                log.warning("version.unavailable", url=redact_url(self.url), error=str(exc))
                self._version = VersionInfo(version=str(CONSERVATIVE))
            return self._version.parsed

    async def _supports_order_desc(self) -> bool:
        """Whether statement listings can be asked newest first (0.8+)."""
        if self._order_desc is None:
            self._order_desc = (await self.server_version()).supports_order_desc
        return self._order_desc

    def _new_name(self) -> str:
        return f"{self.name_prefix}-{secrets.token_hex(4)}"

    # ------------------------------------------------------------------ sessions

    async def list_sessions(self, *, from_: int = 0, size: int = 100) -> SessionList:
        """One page of ``GET /sessions`` (``total`` counts all sessions)."""
        return await self._get(SessionList, self._u("sessions"), {"from": from_, "size": size})

    async def iter_sessions(self, *, page_size: int = 100) -> AsyncIterator[Session]:
        """All sessions, page by page."""
        async for s in _all_pages(self.list_sessions, page_size):
            yield s

    async def get_session(self, session_id: SessionRef) -> Session:
        """``GET /sessions/{id}`` (id or name). For a tracked session (:meth:`track_session`) the
        answer is compared with what was known: :class:`SessionReplacedError` when it differs."""
        try:
            session = await self._get(Session, self._u("sessions", session_id))
        except SessionNotFoundError as exc:
            self._forget_gone(session_id, exc)
            raise
        if self._order_desc is None and "driver_memory" in session.model_fields_set:
            # Livy 0.5-0.7 return no ttl ... queue fields (livy-rest.md 4.1): this server is
            # 0.8+, so it knows order=desc; no GET /version needed for that
            self._order_desc = True
        ident = self._identities.get(str(session_id))
        if ident is not None:
            self._require(ident, ident.check_session(session))
        return session

    # ------------------------------------------------------------------ session identity

    def track_session(self, session: Session | Mapping[str, Any], *, unique_name: bool = False
                      ) -> SessionIdentity:
        """Remember who *session* is (its name, appId, kind, owner, proxyUser, as read now) and
        compare every later read of it with that; see :mod:`livyd._core.identity`.

        Sessions this client creates are tracked automatically (``unique_name`` when the client
        chose the name), and so is a session the first time a statement is submitted into it.
        Once a read differs (the server restarted and the id names someone else's session),
        every read and write of it raises :class:`SessionReplacedError` without touching it; after
        a connection gap, a write first shows it is the same session, else
        :class:`SessionUnverifiedError`.
        """
        ident = SessionIdentity.of(session, unique_name=unique_name)
        key = str(ident.session_id)
        old = self._identities.get(key)
        if old is not None and old.lost is None and old.check_session(session).ok:
            ident.statements.update(old.statements)
        self._identities[key] = ident
        if ident.name is not None:
            self._identities[ident.name] = ident
        self._proven_at[key] = self._gaps
        state = session.get("state") if isinstance(session, Mapping) else session.state
        if str(getattr(state, "value", state)) in ("idle", "busy"):
            self._accepting.add(key)  # just read past "starting": no second read before a POST
        return ident

    def track_identity(self, identity: SessionIdentity) -> SessionIdentity:
        """Compare every later read of ``identity.session_id`` with a known identity, e.g. one a
        daemon kept in its state file (:meth:`SessionIdentity.to_dict` / ``from_dict``) across its
        own restart: the first read after it must match, or :class:`SessionReplacedError`. It is
        not taken as proven: the first write after this shows it first, like after a gap."""
        key = str(identity.session_id)
        self._identities[key] = identity
        if identity.name is not None:
            self._identities[identity.name] = identity
        self._proven_at.pop(key, None)
        return identity

    def session_identity(self, session_id: SessionRef) -> SessionIdentity | None:
        """What this client knows about the session (``None`` if it is not tracked)."""
        return self._identities.get(str(session_id))

    def _identity_error(self, ident: SessionIdentity, check: IdentityCheck) -> SessionGoneError:
        where = f"session {ident.session_id} at {redact_url(self.url)}"
        if check.verdict is IdentityVerdict.DIFFERENT:
            return SessionReplacedError(
                f"{where} is gone: the server restarted (or lost it), and this id no longer names the "
                f"session livyd knew ({check.describe()}). livyd touched nothing in it; create a new "
                "session", session_id=ident.session_id, check=check)
        return SessionUnverifiedError(
            f"{where}: the connection was lost, and livyd cannot show that it is still the session it "
            f"knew ({check.describe()}), so it writes nothing into it; create a new session",
            session_id=ident.session_id, check=check)

    def _require(self, ident: SessionIdentity, check: IdentityCheck) -> None:
        if not check.ok:
            log.warning("session.replaced", session=ident.session_id, why=check.describe())
            raise self._identity_error(ident, check)

    def _forget_gone(self, session_id: SessionRef, exc: LivydError) -> None:
        """A tracked session Livy no longer knows: never act on that id again (a restarted Livy
        may give it to someone else's next session)."""
        ident = self._identities.get(str(session_id))
        if ident is not None and ident.lost is None:
            ident.lost = IdentityCheck(IdentityVerdict.DIFFERENT, "id", reason=(
                f"Livy no longer knows session {ident.session_id}"))
            exc.message = (f"{exc.message}; the session is gone (deleted, or the server restarted: Livy "
                           "then numbers sessions from 0 again), so livyd will not act on this id again: "
                           "create a new session")

    async def _ensure_ours(self, session_id: SessionRef) -> None:
        """Before writing into a tracked session: refuse one shown not to be ours, and after a
        connection gap show (GET the session, and its statements when its fields cannot prove
        it) that it is still the same one."""
        key = str(session_id)
        ident = self._identities.get(key)
        if ident is None:
            return
        if ident.lost is not None:
            raise self._identity_error(ident, ident.lost)
        if self._proven_at.get(key) == self._gaps:
            return
        try:
            session = await self._get(Session, self._u("sessions", session_id))
        except SessionNotFoundError as exc:
            self._forget_gone(session_id, exc)
            assert ident.lost is not None
            raise self._identity_error(ident, ident.lost) from exc
        listing = None
        if not ident.distinguishable and ident.statements:
            url = self._u("sessions", session_id, "statements")
            listing = (await self._get(StatementList, url)).statements
        check = ident.prove(session, listing)
        if not check.proven:
            log.warning("session.unverified", session=ident.session_id, why=check.describe())
            raise self._identity_error(ident, check)
        self._proven_at[key] = self._gaps

    async def session_state(self, session_id: SessionRef) -> SessionState:
        """``GET /sessions/{id}/state``."""
        info = await self._get(StateInfo, self._u("sessions", session_id, "state"))
        return SessionState(info.state)

    async def create_session(self, request: CreateSessionRequest | None = None, **fields: Any) -> Session:
        """``POST /sessions``; safe against ambiguous failures (see the module docstring).

        Give a :class:`CreateSessionRequest` or its fields as keywords (snake_case or Livy's
        camelCase). Without a ``name``, a unique ``<name_prefix>-<random>`` is used.
        """
        req = _request(CreateSessionRequest, request, fields)
        generated = req.name is None
        if req.name is None:
            req = req.model_copy(update={"name": self._new_name()})
        assert req.name is not None
        payload = req.to_payload(await self.server_version())
        data = await self._create_named("sessions", payload, req.name, generated=generated)
        session = Session.model_validate(data)
        self.track_session(session, unique_name=generated)
        return session

    async def _create_named(self, collection: str, payload: dict[str, Any], name: str, *,
                            generated: bool) -> Any:
        """POST a named session/batch, resolving ambiguous failures by looking the name up.

        A *generated* name (``<name_prefix>-<random>``) is ours alone. A name the caller chose
        (``session.name``, ``LIVY_NAME``) may already belong to someone's session: its id is noted
        before the POST and that object is never taken for the one this POST created (adopting it
        would run code in it, and a caller cleaning up would delete it).
        """
        url = self._u(collection)
        taken_by: int | None = None if generated else await self._id_of_name(collection, name)
        attempts = self._transport.plan.retries + 1
        for attempt in range(attempts):
            try:
                resp = await self._send("POST", url, json=payload, idempotent=False)
                if not resp.content.strip() and resp.headers.get("location"):
                    # A gateway that swallowed the body: follow Livy's (relative) Location.
                    target = resolve_location(self.url, resp.headers["location"])
                    return _json(await self._send("GET", target))
                return _json(resp)
            except AmbiguousFailure as amb:
                log.warning("create.ambiguous", collection=collection, name=name, error=amb.error.code)
                found = await self._lookup_name(collection, name, amb.error, taken_by)
                if found is not None:
                    self._stats.duplicates_avoided += 1
                    return found
                self._stats.resubmissions += 1
                continue
            except BadRequestError as exc:
                if attempt > 0 and "duplicate" in (exc.livy_message or "").lower():
                    found = await self._lookup_name(collection, name, exc, taken_by)
                    if found is not None:
                        self._stats.duplicates_avoided += 1
                        return found
                raise
        raise SubmissionUnknownError(
            f"POST {redact_url(url)}: {attempts} attempts to create {collection[:-1]} {name!r} failed "
            f"ambiguously; look for it with GET {redact_url(self._u(collection, name))}"
        )

    async def _id_of_name(self, collection: str, name: str) -> int | None:
        """The id of the session/batch named *name* now, or ``None`` when there is none."""
        try:
            found = _json(await self._send("GET", self._u(collection, name)))
        except (SessionNotFoundError, BatchNotFoundError):
            return None
        ident = found.get("id") if isinstance(found, dict) else None
        return ident if isinstance(ident, int) else None

    async def _lookup_name(self, collection: str, name: str, cause: LivydError,
                           taken_by: int | None = None) -> Any | None:
        """The object named *name* that this POST created, or ``None`` when it surely does not
        exist (two looks). The object *taken_by* (it had the name before the POST) is never it."""
        url = self._u(collection, name)
        for look in range(2):
            try:
                resp = await self._send("GET", url)
                found = _json(resp)
                if taken_by is not None and isinstance(found, dict) and found.get("id") == taken_by:
                    log.warning("create.name_taken", collection=collection, name=name, id=taken_by)
                    return None  # someone else's: Livy refuses our POST as a duplicate name
                return found
            except (SessionNotFoundError, BatchNotFoundError):
                if look == 0:
                    await anyio.sleep(self.recheck_delay)
                    continue
                return None
            except LivydError as exc:
                raise SubmissionUnknownError(
                    f"creating {collection[:-1]} {name!r} failed ambiguously ({cause}) and looking it up "
                    f"failed too ({exc}); check with GET {redact_url(url)} before retrying"
                ) from exc
        return None

    async def delete_session(self, session_id: SessionRef) -> None:
        """``DELETE /sessions/{id}`` (waits until Livy stopped it). A tracked session that is not
        shown to be the one this client knew is not deleted (:class:`SessionReplacedError`)."""
        await self._ensure_ours(session_id)
        await self._send("DELETE", self._u("sessions", session_id), gone_ok=True)
        self._accepting.discard(str(session_id))
        ident = self._identities.get(str(session_id))
        if ident is not None:
            ident.lost = IdentityCheck(IdentityVerdict.DIFFERENT, "id", reason=(
                f"livyd deleted session {ident.session_id}"))

    async def stop_session(self, session_id: SessionRef) -> None:
        """``POST /sessions/{id}/stop``: stop, keep the record (dead) until Livy forgets it."""
        await self._ensure_ours(session_id)
        await self._send("POST", self._u("sessions", session_id, "stop"), idempotent=True)

    async def connect_session(self, session_id: SessionRef) -> Session:
        """``POST /sessions/{id}/connect``: records activity (resets Livy's idle timer)."""
        await self._ensure_ours(session_id)
        resp = await self._send("POST", self._u("sessions", session_id, "connect"),
                                             idempotent=True)
        return self._parse(Session, resp)

    async def session_log(self, session_id: SessionRef, *, from_: int | None = None,
                          size: int | None = None) -> LogPage:
        """``GET /sessions/{id}/log`` (Livy's defaults: the last 100 lines)."""
        return await self._get(LogPage, self._u("sessions", session_id, "log"), {"from": from_, "size": size})

    # ------------------------------------------------------------------ statements

    async def list_statements(
        self, session_id: SessionRef, *, from_: int | None = None, size: int | None = None,
        order: Literal["asc", "desc"] | None = None,
    ) -> StatementList:
        """``GET /sessions/{id}/statements``; ``order="desc"`` is emulated on Livy < 0.8."""
        url = self._u("sessions", session_id, "statements")
        if order == "desc" and not await self._supports_order_desc():
            everything = await self._get(StatementList, url)
            items = list(reversed(everything.statements))
            start = max(0, from_ or 0)
            items = items[start:start + size] if size is not None else items[start:]
            self._check_listing(session_id, everything.statements, complete=True)
            return StatementList(total_statements=everything.total_statements, statements=items)
        params = {"from": from_, "size": size, "order": order if order == "desc" else None}
        listing = await self._get(StatementList, url, params)
        self._check_listing(session_id, listing.statements, complete=not from_ and size is None)
        return listing

    def _check_listing(self, session_id: SessionRef, statements: list[Statement], *, complete: bool) -> None:
        ident = self._identities.get(str(session_id))
        if ident is not None:
            self._require(ident, ident.check_statements(statements, complete=complete))

    async def get_statement(self, session_id: SessionRef, statement_id: int) -> Statement:
        """``GET /sessions/{id}/statements/{sid}``. For a statement this client submitted, the
        answer must be that statement (same code, same ``started``): else
        :class:`SessionReplacedError`, and its output is not taken."""
        ident = self._identities.get(str(session_id))
        try:
            st = await self._get(Statement, self._u("sessions", session_id, "statements", statement_id))
        except SessionNotFoundError as exc:
            self._forget_gone(session_id, exc)
            raise
        except StatementNotFoundError:
            if ident is not None and statement_id in ident.statements:
                # ours was there: a restarted server (or Livy's 100-statement window); look closer
                await self.get_session(session_id)
            raise
        if ident is not None:
            self._require(ident, ident.check_statement(st))
        return st

    async def _ensure_accepting(self, session_id: SessionRef) -> None:
        state = await self.session_state(session_id)
        if state.is_terminal:
            raise SessionGoneError(f"session {session_id} at {redact_url(self.url)} is {state}",
                                   session_id=session_id, state=str(state))
        if state.is_starting:
            await self._wait_session(session_id, accept_busy=True)

    async def _newest_statement_id(self, session_id: SessionRef) -> int:
        """The newest statement id in the session right now (-1: none), asked before every submission.

        Only statements newer than this can be the one about to be sent. A remembered id would go
        stale as soon as another client runs a statement in the same session, and that statement
        could then be mistaken for ours after an ambiguous failure.
        """
        key = str(session_id)
        if key not in self._accepting:
            await self._ensure_accepting(session_id)  # listing blocks while the session starts
            self._accepting.add(key)
        try:
            if await self._supports_order_desc():
                page = await self.list_statements(session_id, size=1, order="desc")
            else:
                page = await self.list_statements(session_id)
        except SessionInactiveError as exc:
            state = await self.session_state(session_id)
            raise SessionGoneError(f"session {session_id} at {redact_url(self.url)} is {state}",
                                   session_id=session_id, state=str(state)) from exc
        return newest_id(page.statements)

    async def _statements_after(self, session_id: SessionRef, after_id: int) -> list[Statement]:
        if not await self._supports_order_desc():
            return [s for s in (await self.list_statements(session_id)).statements if s.id > after_id]
        out: list[Statement] = []
        start, page_size = 0, 50
        while True:
            page = await self.list_statements(session_id, from_=start, size=page_size, order="desc")
            out.extend(s for s in page.statements if s.id > after_id)
            if len(page.statements) < page_size or any(s.id <= after_id for s in page.statements):
                return out
            start += page_size

    async def submit_statement(
        self, session_id: SessionRef, code: str, *, kind: str | None = None, after_id: int | None = None
    ) -> Statement:
        """``POST /sessions/{id}/statements``; never runs the code twice by accident.

        Waits for a starting session first. Raises :class:`SessionGoneError` for a session that
        ended, :class:`SubmissionUnknownError` if an ambiguous failure cannot be resolved.

        *after_id*: a statement id known to precede this submission (the last one a caller that
        submits all of its session's statements in order saw, like :class:`~livyd.SessionEngine`);
        it bounds the search after an ambiguous failure, so the newest id is not looked up first
        (one request less per statement). Statements of other clients after it do not match the code.
        """
        _check_code(code)
        url = self._u("sessions", session_id, "statements")
        body: dict[str, Any] = {"code": code}
        if kind is not None:
            body["kind"] = kind
        if str(session_id) not in self._identities:
            self.track_session(await self.get_session(session_id))  # the first read is who it is
        await self._ensure_ours(session_id)
        if after_id is None:
            after_id = await self._newest_statement_id(session_id)
        try:
            st = await self._submit(session_id, url, body, code, after_id)
            ident = self._identities.get(str(session_id))
            if ident is not None:
                ident.remember_statement(st, code)
            return st
        except anyio.get_cancelled_exc_class():
            # Cancelled while the POST may be in flight: if it landed, cancel it on the server, so
            # abandoning a submission never leaves the code running unseen.
            with anyio.move_on_after(CLEANUP_TIMEOUT, shield=True):
                try:
                    landed = find_landed(await self._statements_after(session_id, after_id), code, after_id)
                    if landed is not None:
                        await self.cancel_statement(session_id, landed.id)
                        log.info("statement.cancelled", session=str(session_id), statement=landed.id)
                except LivydError as exc:
                    log.warning("statement.cancel_failed", session=str(session_id), error=str(exc))
            raise

    async def _submit(self, session_id: SessionRef, url: str, body: dict[str, Any], code: str,
                      after_id: int) -> Statement:
        not_ready = 0
        while True:
            try:
                resp = await self._send("POST", url, json=body, idempotent=False)
            except SessionNotReadyError as exc:
                state = SessionState(exc.state or "unknown")
                if state.is_terminal:
                    raise SessionGoneError(f"session {session_id} is {state}: {exc}", session_id=session_id,
                                           state=str(state)) from exc
                if not_ready >= 3:
                    raise
                not_ready += 1  # Livy refused it: nothing ran, posting again is safe
                await self._wait_session(session_id, accept_busy=True)
                continue
            except AmbiguousFailure as amb:
                log.warning("statement.ambiguous", session=str(session_id), error=amb.error.code)
                landed = await self._await_landing(session_id, url, code, after_id, amb.error)
                self._stats.duplicates_avoided += 1
                return landed
            return self._parse(Statement, resp)

    async def _await_landing(self, session_id: SessionRef, url: str, code: str, after_id: int,
                             cause: LivydError) -> Statement:
        """The statement an ambiguous POST created, looked for until ``landing_timeout`` has passed.

        Never re-sends: a POST that timed out (or that a gateway answered 502/503/504) may still be
        in flight inside Livy and land later, so a second POST could run the code twice. Not found
        in time, or the statements cannot be listed: :class:`SubmissionUnknownError`.
        """
        now = anyio.current_time()
        deadline = now + self.landing_timeout
        planner = PollPlanner(self.poll_settings, now=now)
        failure: LivydError | None = None
        while True:
            try:
                found = find_landed(await self._statements_after(session_id, after_id), code, after_id)
                failure = None
            except (SessionGoneError, ConfigError):
                raise  # gone, replaced or unverified: no later listing can find it
            except LivydError as exc:
                # a listing that fails (the gateway still unwell) does not end the search: the
                # statement may land and be listed later in the window
                found, failure = None, exc
                log.info("statement.landing_lookup_failed", session=str(session_id), error=exc.code)
            if found is not None:
                return found
            now = anyio.current_time()
            if now >= deadline:
                if failure is not None:
                    raise SubmissionUnknownError(
                        f"submitting a statement to session {session_id} failed ambiguously ({cause}) and "
                        f"the statements could not be listed to find out whether it landed ({failure}), "
                        f"for {self.landing_timeout:g} s; it was not re-sent (Livy may still run it)"
                    ) from failure
                raise SubmissionUnknownError(
                    f"POST {redact_url(url)} failed ambiguously ({cause}) and no statement with this code "
                    f"appeared after id {after_id} within {self.landing_timeout:g} s; it was not re-sent "
                    f"(Livy may still run it): list the session's statements before running it again"
                )
            await anyio.sleep(min(planner.observe(now, state="landing"), deadline - now))

    async def cancel_statement(self, session_id: SessionRef, statement_id: int) -> None:
        """``POST .../statements/{sid}/cancel`` (Livy always answers ``{"msg": "canceled"}``)."""
        await self._ensure_ours(session_id)
        self._stats.cancels_sent += 1
        await self._send("POST", self._u("sessions", session_id, "statements", statement_id,
                                                      "cancel"), json={}, idempotent=True)

    async def completion(self, session_id: SessionRef, code: str, *, kind: str, cursor: int) -> list[str]:
        """``POST /sessions/{id}/completion`` (only the Scala interpreter completes; others: [])."""
        await self._ensure_ours(session_id)
        resp = await self._send("POST", self._u("sessions", session_id, "completion"),
                                             json={"code": code, "kind": kind, "cursor": cursor},
                                             idempotent=True)
        return self._parse(CompletionResult, resp).candidates

    # ------------------------------------------------------------------ files

    async def _upload(self, session_id: SessionRef, endpoint: str, field: str, path: Path) -> None:
        p = anyio.Path(os.path.expanduser(str(path)))  # noqa: ASYNC240 (no I/O)
        if not await p.is_file():
            raise ConfigError(f"{p}: no such file to upload", key="path")
        data = await p.read_bytes()
        await self._ensure_ours(session_id)
        await self._send("POST", self._u("sessions", session_id, endpoint),
                                      files={field: (p.name, data, "application/octet-stream")},
                                      idempotent=True)

    async def upload_jar(self, session_id: SessionRef, path: Path) -> None:
        """``POST /sessions/{id}/upload-jar`` (multipart field ``jar``)."""
        await self._upload(session_id, "upload-jar", "jar", path)

    async def upload_pyfile(self, session_id: SessionRef, path: Path) -> None:
        """``POST /sessions/{id}/upload-pyfile`` (multipart field ``file``)."""
        await self._upload(session_id, "upload-pyfile", "file", path)

    async def upload_file(self, session_id: SessionRef, path: Path) -> None:
        """``POST /sessions/{id}/upload-file`` (multipart field ``file``)."""
        await self._upload(session_id, "upload-file", "file", path)

    async def _add(self, session_id: SessionRef, endpoint: str, uri: str) -> None:
        await self._ensure_ours(session_id)
        await self._send("POST", self._u("sessions", session_id, endpoint), json={"uri": uri},
                                      idempotent=True)

    async def add_jar(self, session_id: SessionRef, uri: str) -> None:
        """``POST /sessions/{id}/add-jar``."""
        await self._add(session_id, "add-jar", uri)

    async def add_pyfile(self, session_id: SessionRef, uri: str) -> None:
        """``POST /sessions/{id}/add-pyfile``."""
        await self._add(session_id, "add-pyfile", uri)

    async def add_file(self, session_id: SessionRef, uri: str) -> None:
        """``POST /sessions/{id}/add-file``."""
        await self._add(session_id, "add-file", uri)

    # ------------------------------------------------------------------ batches

    async def list_batches(self, *, from_: int = 0, size: int = 100) -> BatchList:
        """One page of ``GET /batches``."""
        return await self._get(BatchList, self._u("batches"), {"from": from_, "size": size})

    async def iter_batches(self, *, page_size: int = 100) -> AsyncIterator[Batch]:
        """All batches, page by page."""
        async for b in _all_pages(self.list_batches, page_size):
            yield b

    async def create_batch(self, request: CreateBatchRequest | None = None, **fields: Any) -> Batch:
        """``POST /batches``, duplicate-safe by unique name like :meth:`create_session`."""
        req = _request(CreateBatchRequest, request, fields)
        generated = req.name is None
        if req.name is None:
            req = req.model_copy(update={"name": self._new_name()})
        assert req.name is not None
        payload = req.to_payload(await self.server_version())
        return Batch.model_validate(await self._create_named("batches", payload, req.name,
                                                             generated=generated))

    async def get_batch(self, batch_id: SessionRef) -> Batch:
        """``GET /batches/{id}``."""
        return await self._get(Batch, self._u("batches", batch_id))

    async def batch_state(self, batch_id: SessionRef) -> BatchState:
        """``GET /batches/{id}/state``."""
        return BatchState((await self._get(StateInfo, self._u("batches", batch_id, "state"))).state)

    async def delete_batch(self, batch_id: SessionRef) -> None:
        """``DELETE /batches/{id}`` (kills it)."""
        await self._send("DELETE", self._u("batches", batch_id), gone_ok=True)

    async def batch_log(self, batch_id: SessionRef, *, from_: int | None = None,
                        size: int | None = None) -> LogPage:
        """``GET /batches/{id}/log``."""
        return await self._get(LogPage, self._u("batches", batch_id, "log"), {"from": from_, "size": size})

    # ------------------------------------------------------------------ waiting

    async def wait_session_ready(
        self, session_id: SessionRef, *, timeout: float | None = None,  # noqa: ASYNC109
        on_progress: OnProgress | None = None,
    ) -> Session:
        """Wait until the session is ``idle``; return it.

        Raises :class:`SessionGoneError` when it is (or becomes) dead, killed, shutting down or in
        error, :class:`WaitTimeout` after *timeout* seconds. With *on_progress*, each poll reads
        the whole session (not only its state) and phase events
        (:class:`livyd.PhaseEvent`: YARN's application id and state from Livy's log) are sent to it.
        """
        try:
            with anyio.fail_after(timeout) if timeout is not None else nullcontext():
                await self._wait_session(session_id, accept_busy=False, on_progress=on_progress)
                return await self.get_session(session_id)
        except TimeoutError:
            raise WaitTimeout(f"session {session_id} at {redact_url(self.url)} was not ready after "
                              f"{timeout} s") from None

    async def _wait_session(self, session_id: SessionRef, *, accept_busy: bool,
                            on_progress: OnProgress | None = None) -> SessionState:
        planner = PollPlanner(self.poll_settings, now=anyio.current_time())
        phases = PhaseTracker(now=anyio.current_time()) if on_progress is not None else None
        seen_start = False
        tracked = str(session_id) in self._identities
        while True:
            if phases is not None or tracked:
                # a tracked session is read whole, so that every poll also compares who it is
                session = await self.get_session(session_id)
                state = SessionState(session.state)
                if phases is not None:
                    for event in phases.observe_session(anyio.current_time(), state=str(state),
                                                        app_id=session.app_id, log=session.log):
                        await _notify(on_progress, event)
            else:
                state = await self.session_state(session_id)
            self._stats.polls += 1
            if state == SessionState.IDLE or (accept_busy and state.is_ready):
                return state
            if state.is_starting:
                seen_start = True
            if state.is_terminal or (state == SessionState.ERROR and (seen_start or not accept_busy)):
                raise SessionGoneError(
                    f"session {session_id} at {redact_url(self.url)} is {state}; its log may say why "
                    f"(livyd logs {session_id})", session_id=session_id, state=str(state))
            if state == SessionState.ERROR and accept_busy:
                return state
            delay = planner.observe(anyio.current_time(), state=str(state))
            await anyio.sleep(delay)

    async def wait_statement(
        self, session_id: SessionRef, statement_id: int, *, on_update: OnUpdate | None = None,
        timeout: float | None = None,  # noqa: ASYNC109
        on_progress: OnProgress | None = None,
    ) -> Statement:
        """Wait until the statement is available or cancelled; return it.

        ``on_update(statement)`` (sync or async) is called whenever state or progress changed.
        ``on_progress(event)`` receives what Spark does for it (:data:`livyd.ProgressEvent`: phases,
        jobs, stages, warnings; see :mod:`livyd._insight`). Cancelling this wait (or reaching
        *timeout*, which raises :class:`WaitTimeout`) cancels the statement on the server first.
        Output errors are not raised: see ``statement.output.raise_for_error()``.
        """
        try:
            with anyio.fail_after(timeout) if timeout is not None else nullcontext():
                return await self._watched(session_id, statement_id, on_update, on_progress)
        except TimeoutError:
            raise WaitTimeout(f"statement {statement_id} of session {session_id} did not finish within "
                              f"{timeout} s; it was cancelled") from None

    async def _watched(self, session_id: SessionRef, statement_id: int, on_update: OnUpdate | None,
                       on_progress: OnProgress | None, seen: Statement | None = None, *,
                       cancel: bool = True) -> Statement:
        """:meth:`_wait_statement`, with a :class:`~livyd._insight.StatementWatcher` reading the
        Spark UI in a task of its own when *on_progress* is given."""
        if on_progress is None:
            return await self._wait_statement(session_id, statement_id, on_update, seen, cancel=cancel)
        from livyd._insight import StatementWatcher

        watcher = StatementWatcher(self, session_id, statement_id, on_progress, now=anyio.current_time())
        if seen is not None:
            await watcher.saw(seen)
        outcome: list[Statement] = []
        failure: list[BaseException] = []
        async with anyio.create_task_group() as tg:
            tg.start_soon(watcher.run)
            try:
                outcome.append(await self._wait_statement(session_id, statement_id, on_update, seen,
                                                          on_poll=watcher.saw, cancel=cancel))
            except BaseException as exc:  # re-raised below, outside the task group (not grouped)
                failure.append(exc)
            tg.cancel_scope.cancel()
        if failure:
            raise failure[0]
        await watcher.finish(outcome[0])
        return outcome[0]

    async def _wait_statement(self, session_id: SessionRef, statement_id: int,
                              on_update: OnUpdate | None, seen: Statement | None = None, *,
                              on_poll: Callable[[Statement], Awaitable[None]] | None = None,
                              cancel: bool = True) -> Statement:
        now = anyio.current_time()
        planner = PollPlanner(self.poll_settings, now=now)
        last_touch = now
        last: tuple[str, float] | None = (str(seen.state), seen.progress) if seen is not None else None
        empty_available = 0
        try:
            while True:
                await anyio.sleep(planner.delay(anyio.current_time()))
                try:
                    st = await self.get_statement(session_id, statement_id)
                except SessionInactiveError as exc:
                    raise SessionGoneError(f"session {session_id} ended while statement {statement_id} "
                                           "was running", session_id=session_id) from exc
                self._stats.polls += 1
                now = anyio.current_time()
                planner.observe(now, state=str(st.state), progress=round(st.progress, 3))
                key = (str(st.state), st.progress)
                if key != last:
                    last = key
                    await _notify(on_update, st)
                if on_poll is not None and not st.state.is_terminal:
                    await on_poll(st)
                if st.state.is_terminal:
                    if st.state == StatementState.AVAILABLE and st.output is None and empty_available < 3:
                        empty_available += 1
                        continue
                    return st
                if now - last_touch >= self.keepalive_interval:
                    last_touch = now
                    await self._keepalive(session_id)
        except anyio.get_cancelled_exc_class():
            if not cancel:
                raise
            with anyio.move_on_after(CLEANUP_TIMEOUT, shield=True):
                try:
                    await self.cancel_statement(session_id, statement_id)
                    log.info("statement.cancelled", session=str(session_id), statement=statement_id)
                except LivydError as exc:
                    log.warning("statement.cancel_failed", session=str(session_id), statement=statement_id,
                                error=str(exc))
            raise

    async def _keepalive(self, session_id: SessionRef) -> None:
        try:
            await self.connect_session(session_id)
            self._stats.keepalives += 1
        except LivyHTTPError as exc:
            log.warning("session.keepalive_failed", session=str(session_id), error=str(exc))

    async def run_statement(
        self, session_id: SessionRef, code: str, *, kind: str | None = None,
        on_update: OnUpdate | None = None, timeout: float | None = None,  # noqa: ASYNC109
        on_progress: OnProgress | None = None,
    ) -> Statement:
        """:meth:`submit_statement` then :meth:`wait_statement` (same cancellation rules, same
        *on_progress*)."""
        st = await self.submit_statement(session_id, code, kind=kind)
        await _notify(on_update, st)
        if st.state.is_terminal and st.output is not None:
            return st
        try:
            with anyio.fail_after(timeout) if timeout is not None else nullcontext():
                return await self._watched(session_id, st.id, on_update, on_progress, seen=st)
        except TimeoutError:
            raise WaitTimeout(f"statement {st.id} of session {session_id} did not finish within "
                              f"{timeout} s; it was cancelled") from None

    async def wait_batch(self, batch_id: SessionRef, *, on_update: OnUpdate | None = None,
                         timeout: float | None = None) -> Batch:  # noqa: ASYNC109
        """Wait until the batch finished (success, dead, killed). Cancelling does not kill it."""
        try:
            with anyio.fail_after(timeout) if timeout is not None else nullcontext():
                planner = PollPlanner(self.poll_settings, now=anyio.current_time())
                last: str | None = None
                while True:
                    batch = await self.get_batch(batch_id)
                    self._stats.polls += 1
                    if str(batch.state) != last:
                        last = str(batch.state)
                        await _notify(on_update, batch)
                    if batch.state.is_terminal:
                        return batch
                    await anyio.sleep(planner.observe(anyio.current_time(), state=str(batch.state)))
        except TimeoutError:
            raise WaitTimeout(f"batch {batch_id} did not finish within {timeout} s "
                              "(it keeps running)") from None

    @asynccontextmanager
    async def statement_events(self, session_id: SessionRef, statement_id: int, *,
                               buffer: int = 1000) -> AsyncIterator[StatementEvents]:
        """Watch a submitted statement: an async stream of :data:`livyd.ProgressEvent` that ends
        when the statement ends; the final statement is then ``events.statement``::

            async with client.statement_events(sid, st.id) as events:
                async for event in events:
                    print(event.kind, event)
            print(events.statement.output.text)

        Leaving the block early stops watching; it does not cancel the statement. At most
        *buffer* events wait for the reader (the oldest are dropped beyond that).
        """
        send, receive = anyio.create_memory_object_stream[Any](max_buffer_size=buffer)
        events = StatementEvents(receive)

        def push(event: Any) -> None:
            try:
                send.send_nowait(event)
            except anyio.WouldBlock:
                events.dropped += 1
            except (anyio.ClosedResourceError, anyio.BrokenResourceError):
                pass

        async def watch() -> None:
            with send:
                try:
                    events.statement = await self._watched(session_id, statement_id, None, push,
                                                           cancel=False)
                except LivydError as exc:  # raised by the iteration, not as an exception group
                    events.error = exc

        async with anyio.create_task_group() as tg:
            tg.start_soon(watch)
            try:
                yield events
            finally:
                tg.cancel_scope.cancel()
                receive.close()

    async def spark_ui(self, session_id: SessionRef) -> Any:
        """A :class:`livyd.SparkUIClient` for the session's Spark UI (``appInfo.sparkUiUrl`` or the
        ``[spark_ui] url`` template), or ``None`` while the session reports none."""
        from livyd._core.sparklinks import expand_link
        from livyd._insight import UI_KEY, SparkUIClient

        session = await self.get_session(session_id)
        url = expand_link(self.insight_settings.url, reported=session.app_info.spark_ui_url,
                          livy_url=self.url, app_id=session.app_id, key=UI_KEY)
        if not url:
            return None
        if session.app_id:
            return SparkUIClient(self._transport, url, session.app_id)
        return await SparkUIClient.discover(self._transport, url)

    # ------------------------------------------------------------------ following logs

    async def follow_session_log(
        self, session_id: SessionRef, *, poll_interval: float = 1.0, start: str | int = "beginning",
        tail: int = 100,
    ) -> AsyncIterator[list[str]]:
        """Yield new log lines as they appear, until the session ends (or is gone).

        Survives Livy's rolling 200-line buffers (:class:`~livyd._core.logcursor.LogCursor`).
        Polls every *poll_interval* seconds at most while something happens, at once again while
        many lines arrive; an idle session with nothing new is polled less often (up to 5 x
        *poll_interval*). Where lines were lost because more were written between two reads than
        Livy keeps, a line from :func:`~livyd._core.logcursor.gap_line` says so.
        """
        async for lines in self._follow("sessions", session_id, poll_interval, start, tail):
            yield lines

    async def follow_batch_log(
        self, batch_id: SessionRef, *, poll_interval: float = 1.0, start: str | int = "beginning",
        tail: int = 100,
    ) -> AsyncIterator[list[str]]:
        """Yield new batch log lines until the batch finished."""
        async for lines in self._follow("batches", batch_id, poll_interval, start, tail):
            yield lines

    async def _follow(self, collection: str, ident: SessionRef, poll_interval: float, start: str | int,
                      tail: int) -> AsyncIterator[list[str]]:
        cursor = LogCursor(start=start, tail=tail)
        maximum = max(poll_interval, self.poll_settings.initial)
        settings = PollSettings(initial=min(self.poll_settings.initial, poll_interval), maximum=maximum,
                                quiet_maximum=5 * maximum)
        planner = PollPlanner(settings, now=anyio.current_time())
        gaps = 0
        while True:
            try:
                info = await self._get(StateInfo, self._u(collection, ident, "state"))
                page = await self._get(LogPage, self._u(collection, ident, "log"), cursor.params())
            except (SessionNotFoundError, BatchNotFoundError):
                return
            lines = cursor.feed(page.log, page_from=page.from_)
            if lines:
                yield lines
            state_obj: SessionState | BatchState = (SessionState(info.state) if collection == "sessions"
                                                    else BatchState(info.state))
            if state_obj.is_terminal:
                return
            # an idle session with nothing new is polled slowly (up to 5 x poll_interval); any new
            # line or state change makes it fast again
            quiet = not lines and info.state == "idle"
            now = anyio.current_time()
            delay = planner.observe(now, state=info.state, progress=cursor.delivered, quiet=quiet)
            if len(lines) >= FOLLOW_BURST or cursor.gaps > gaps:
                # lines are pouring in: read again at once, before Livy's buffer wraps (a gap)
                planner = PollPlanner(settings, now=now)
                delay = planner.delay(now)
            gaps = cursor.gaps
            await anyio.sleep(delay)


class StatementEvents:
    """What :meth:`LivyClient.statement_events` yields: iterate it for the events; once the
    iteration ended, ``statement`` is the finished statement."""

    def __init__(self, receive: Any) -> None:
        self._receive = receive
        self.statement: Statement | None = None
        self.error: LivydError | None = None
        self.dropped = 0

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Any]:
        async for event in self._receive:
            yield event
        if self.error is not None:
            raise self.error


class _Page(Protocol[_Item]):
    total: int
    sessions: list[_Item]  # Livy names the list "sessions" for batches too


async def _all_pages(
    list_page: Callable[..., Awaitable[_Page[_Item]]], page_size: int
) -> AsyncIterator[_Item]:
    """Every item of a paginated Livy listing (``from`` / ``size``, ``total`` counting all)."""
    start = 0
    while True:
        page = await list_page(from_=start, size=page_size)
        for item in page.sessions:
            yield item
        start += len(page.sessions)
        if not page.sessions or start >= page.total:
            return


def _check_code(code: str) -> None:
    """Code must be sendable as UTF-8: a lone surrogate (what Python makes of bytes that are not
    UTF-8 in an argument or a file read with ``surrogateescape``) is named before anything is
    sent, instead of a UnicodeEncodeError from deep inside httpx."""
    try:
        code.encode("utf-8")
    except UnicodeEncodeError as exc:
        char = ord(code[exc.start])
        line = code.count("\n", 0, exc.start) + 1
        column = exc.start - (code.rfind("\n", 0, exc.start) + 1) + 1
        what = (f"byte 0x{char - 0xDC00:02x} that is not UTF-8" if 0xDC80 <= char <= 0xDCFF
                else f"a lone surrogate U+{char:04X}")
        raise ConfigError(f"the code is not valid text: {what} at line {line}, column {column}; it was not "
                          "sent", key="code") from None


def _clean(params: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not params:
        return None
    return {k: v for k, v in params.items() if v is not None} or None


def _json(resp: httpx.Response) -> Any:
    try:
        return resp.json()
    except (ValueError, RecursionError):  # RecursionError: nested thousands deep
        raise LivydError(f"{resp.request.method} {redact_url(str(resp.request.url))}: answer is not JSON "
                         f"Livy would send (status {resp.status_code})") from None


def _request(model: type[M], request: M | None, fields: dict[str, Any]) -> M:
    if request is not None and fields:
        raise TypeError("pass either a request object or keyword fields, not both")
    if request is not None:
        return request
    try:
        return model.model_validate(fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first["loc"]) or "request"
        raise ConfigError(f"{model.__name__}: field {where!r}: {first['msg']}", key=where) from None

