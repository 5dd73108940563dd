"""Is this still the session, and the statement, livyd started? Sans-IO identity checks.

A Livy session id is not an identity: Livy numbers sessions from 0 again after a restart, so
``/sessions/0`` may be someone else's session a minute later, and ``/sessions/0/statements/0``
someone else's code and output. What Livy says about a session never changes over its life,
except ``appId``, which appears once YARN accepted the application:

=============  ==============================================================================
``name``       livyd's unique ``<prefix>-<random>`` name (or the one the user chose)
``appId``      the YARN application id (null in local mode and on a local server, while starting)
``kind``       the session's default statement kind
``owner``      the authenticated user (null when Livy runs without authentication)
``proxyUser``  the impersonated user (null when impersonation is off)
=============  ==============================================================================

and each statement keeps its ``id``, its ``code`` (line endings normalised) and, once it ran,
``started`` (epoch milliseconds; 0 before, absent before Livy 0.7).

:class:`SessionIdentity` holds what livyd knew about one session and the statements it submitted
there, and compares every new read with it. Each comparison gives a :class:`IdentityCheck` whose
:class:`IdentityVerdict` is one of:

* ``SAME``: shown to be the one livyd knew. The unique name livyd gave it matched, or the appId
  matched, or a statement livyd ran there came back with the same id, code and ``started``.
* ``UNPROVEN``: nothing contradicts it, but nothing proves it either: Livy 0.7, a local
  server or the sandbox leave ``appId`` (and often ``owner``/``proxyUser``) empty, and a session
  the user picked by id may have no name. Reads may go on; after a connection gap nothing may be
  written into such a session (statement, cancel, DELETE) until it is shown to be the same.
* ``DIFFERENT``: a field changed that never changes (or a statement livyd ran is gone or
  different): the server restarted and this is someone else's session. Touch nothing.

Recovery (``livy.server.recovery.mode = recovery``) brings the same sessions back with the same
ids, names and appIds, and their statements with the same ids, code and ``started``: those
compare ``SAME`` and keep working.

Everything here is pure: no I/O, no clock. Inputs are Livy JSON objects (dicts, camelCase keys)
or any object with the snake_case attributes of ``livyd.Session`` / ``livyd.Statement``.

>>> known = SessionIdentity.of({"id": 0, "name": "livyd-1a2b3c4d", "kind": "pyspark"},
...                            unique_name=True)
>>> known.check_session({"id": 0, "name": "livyd-1a2b3c4d", "kind": "pyspark"}).verdict
<IdentityVerdict.SAME: 'same'>
>>> check = known.check_session({"id": 0, "name": "nightly-etl", "kind": "pyspark"})
>>> check.verdict, check.field
(<IdentityVerdict.DIFFERENT: 'different'>, 'name')
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from livyd._core.matching import normalize_code

__all__ = ["IdentityCheck", "IdentityVerdict", "SessionIdentity", "StatementFacts", "session_field",
           "statement_field"]

#: The session fields compared, as (Python attribute, Livy JSON key).
SESSION_FIELDS: tuple[tuple[str, str], ...] = (
    ("name", "name"),
    ("app_id", "appId"),
    ("kind", "kind"),
    ("owner", "owner"),
    ("proxy_user", "proxyUser"),
)


class IdentityVerdict(StrEnum):
    """The outcome of one comparison."""

    SAME = "same"
    UNPROVEN = "unproven"
    DIFFERENT = "different"


_SAME, _UNPROVEN, _DIFFERENT = IdentityVerdict.SAME, IdentityVerdict.UNPROVEN, IdentityVerdict.DIFFERENT


@dataclass(frozen=True)
class IdentityCheck:
    """One comparison: the verdict, and for ``DIFFERENT`` the Livy field that differed."""

    verdict: IdentityVerdict
    field: str | None = None
    known: Any = None
    seen: Any = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        """Nothing contradicts it (``SAME`` or ``UNPROVEN``): reading on is fine."""
        return self.verdict is not IdentityVerdict.DIFFERENT

    @property
    def proven(self) -> bool:
        """Shown to be the same (``SAME``): writing into it is fine, even after a gap."""
        return self.verdict is IdentityVerdict.SAME

    def describe(self) -> str:
        """Why, in words (no secrets: these fields are names, ids and users)."""
        if self.reason:
            return self.reason
        if self.verdict is IdentityVerdict.DIFFERENT and self.field is not None:
            return f"its {self.field} was {_show(self.known)} and is now {_show(self.seen)}"
        return str(self.verdict)


def _show(value: Any) -> str:
    return "empty" if value in (None, "") else repr(value)


def _get(obj: Any, attr: str, key: str) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(key, obj.get(attr))
    return getattr(obj, attr, None)


def _text(value: Any) -> str | None:
    """Enum members and strings alike; empty strings count as empty."""
    if value is None:
        return None
    text = str(getattr(value, "value", value))
    return text or None


def session_field(obj: Any, attr: str) -> str | None:
    """The session field *attr* (snake_case) of a Livy JSON dict or a ``livyd.Session``."""
    key = dict(SESSION_FIELDS).get(attr, attr)
    value = _text(_get(obj, attr, key))
    return value.lower() if value is not None and attr == "kind" else value


def statement_field(obj: Any, attr: str) -> Any:
    """``id``, ``code`` or ``started`` of a Livy statement dict or a ``livyd.Statement``."""
    return _get(obj, attr, attr)


@dataclass(frozen=True)
class StatementFacts:
    """What livyd knows about one statement it submitted: id, normalised code, ``started``
    (``None``: not seen running yet, or a Livy before 0.7 that does not say)."""

    id: int
    code: str
    started: int | None = None
    #: ``started`` was read from a finished statement, so it can no longer move. While it runs, a
    #: local server may still refine it once (the sandbox stamps it when it hands the statement to
    #: its REPL, then again when the REPL begins it), so a later value is accepted until then.
    settled: bool = False


_Check = IdentityCheck
_FINISHED = frozenset({"available", "cancelled", "error"})


def _finished(statement: Any) -> bool:
    return _text(statement_field(statement, "state")) in _FINISHED


def _started(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        return None
    return value


@dataclass
class SessionIdentity:
    """What livyd knew about one session, compared with every new read.

    Build it from the first read (the create response, or the session the user picked) with
    :meth:`of`; tell it about each statement livyd submits with :meth:`remember_statement`;
    then call :meth:`check_session`, :meth:`check_statement` or :meth:`check_statements` on each
    later read, and :meth:`prove` after a connection gap before writing. Checks learn what
    Livy adds later (the ``appId``; a statement's ``started``) and never forget a mismatch:
    once ``DIFFERENT``, :attr:`lost` holds that check.
    """

    session_id: int
    name: str | None = None
    app_id: str | None = None
    kind: str | None = None
    owner: str | None = None
    proxy_user: str | None = None
    #: the name is livyd's own ``<prefix>-<random>``: nobody else's session has it
    unique_name: bool = False
    statements: dict[int, StatementFacts] = field(default_factory=dict)
    lost: IdentityCheck | None = None

    @classmethod
    def of(cls, session: Any, *, unique_name: bool = False) -> SessionIdentity:
        """The identity of *session* as read now (a Livy JSON dict or a ``livyd.Session``)."""
        ident = _get(session, "id", "id")
        if isinstance(ident, bool) or not isinstance(ident, int):
            raise ValueError(f"a session needs an integer id, not {ident!r}")
        name = session_field(session, "name")
        return cls(session_id=ident, name=name, app_id=session_field(session, "app_id"),
                   kind=session_field(session, "kind"), owner=session_field(session, "owner"),
                   proxy_user=session_field(session, "proxy_user"),
                   unique_name=unique_name and name is not None)

    def to_dict(self) -> dict[str, Any]:
        """What is known, as JSON-ready data (for a state file); :meth:`from_dict` reads it back.
        A mismatch already seen (``lost``) is kept as its reason."""
        return {
            "sessionId": self.session_id, "name": self.name, "appId": self.app_id, "kind": self.kind,
            "owner": self.owner, "proxyUser": self.proxy_user, "uniqueName": self.unique_name,
            "statements": [{"id": f.id, "code": f.code, "started": f.started, "settled": f.settled}
                           for f in self.statements.values()],
            "lost": self.lost.describe() if self.lost is not None else None,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SessionIdentity:
        """The identity :meth:`to_dict` wrote (``ValueError`` when it is not one)."""
        try:
            ident = cls(session_id=int(data["sessionId"]), name=data.get("name"), app_id=data.get("appId"),
                        kind=data.get("kind"), owner=data.get("owner"), proxy_user=data.get("proxyUser"),
                        unique_name=bool(data.get("uniqueName")))
            for item in data.get("statements") or []:
                facts = StatementFacts(int(item["id"]), str(item["code"]), _started(item.get("started")),
                                       bool(item.get("settled")))
                ident.statements[facts.id] = facts
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"not a session identity: {exc}") from None
        if data.get("lost"):
            ident.lost = _Check(_DIFFERENT, "id", reason=str(data["lost"]))
        return ident

    # ------------------------------------------------------------------ facts

    @property
    def distinguishable(self) -> bool:
        """Whether the session's own fields can prove it (a unique name or an appId)."""
        return (self.unique_name and self.name is not None) or self.app_id is not None

    def remember_statement(self, statement: Any, code: str | None = None) -> StatementFacts:
        """Record a statement livyd submitted here (*code*: what was sent, else the read's)."""
        ident = statement_field(statement, "id")
        if isinstance(ident, bool) or not isinstance(ident, int):
            raise ValueError(f"a statement needs an integer id, not {ident!r}")
        sent = code if code is not None else statement_field(statement, "code")
        started = _started(statement_field(statement, "started"))
        facts = StatementFacts(ident, normalize_code(sent or ""), started,
                               _finished(statement) and started is not None)
        self.statements[ident] = facts
        return facts

    def _lose(self, check: IdentityCheck) -> IdentityCheck:
        if check.verdict is _DIFFERENT and self.lost is None:
            self.lost = check
        return check

    # ------------------------------------------------------------------ comparisons

    def check_session(self, seen: Any) -> IdentityCheck:
        """Compare a new read of the session (``GET /sessions/{id}``, a listing's entry)."""
        if self.lost is not None:
            return self.lost
        ident = _get(seen, "id", "id")
        if ident != self.session_id:
            return self._lose(_Check(_DIFFERENT, "id", self.session_id, ident))
        learned: dict[str, str] = {}
        for attr, key in SESSION_FIELDS:
            known, now = getattr(self, attr), session_field(seen, attr)
            if known == now:
                continue
            if attr == "app_id" and known is None:
                learned[attr] = now  # type: ignore[assignment]  # YARN assigned it since
                continue
            return self._lose(_Check(_DIFFERENT, key, known, now))
        for attr, value in learned.items():
            setattr(self, attr, value)
        if self.distinguishable:
            return _Check(_SAME)
        return _Check(_UNPROVEN, reason=f"session {self.session_id} has no unique name and no appId "
                     "to compare")

    def check_statement(self, seen: Any) -> IdentityCheck:
        """Compare a new read of a statement livyd submitted here (others: ``UNPROVEN``)."""
        if self.lost is not None:
            return self.lost
        ident = statement_field(seen, "id")
        known = self.statements.get(ident) if isinstance(ident, int) else None
        if known is None:
            return _Check(_UNPROVEN, reason=f"statement {ident!r} was not submitted by livyd")
        code = statement_field(seen, "code")
        if code is not None and normalize_code(str(code)) != known.code:
            return self._lose(_Check(_DIFFERENT, "code", reason=(
                f"statement {ident} runs other code than livyd sent")))
        raw_started = statement_field(seen, "started")
        started = _started(raw_started)
        if known.started is not None and raw_started is not None and started != known.started:
            refined = not known.settled and started is not None and started > known.started
            if not refined:
                return self._lose(_Check(_DIFFERENT, "started", known.started, raw_started, reason=(
                    f"statement {ident} started at {known.started} and now says {raw_started!r}")))
        if started is not None and (known.started != started or (_finished(seen) and not known.settled)):
            self.statements[known.id] = StatementFacts(known.id, known.code, started, _finished(seen))
        return _Check(_SAME)

    def check_statements(self, listing: Iterable[Any], *, complete: bool = True) -> IdentityCheck:
        """Compare a listing of the session's statements (``GET .../statements``).

        Every statement livyd submitted that the listing should hold must be there, unchanged.
        *complete*: the listing is everything Livy keeps (not one page), so a statement livyd
        ran with an id above the listing's highest is missing, which a restarted server shows.
        Livy keeps only the newest 100, so one older than the listing's lowest is not missing.
        ``SAME`` when at least one statement livyd ran there is listed and matches: the same id,
        the same code and, where Livy says it (0.7+, once it ran), the same ``started`` to the
        millisecond.
        """
        if self.lost is not None:
            return self.lost
        seen = [s for s in listing if isinstance(statement_field(s, "id"), int)]
        by_id = {statement_field(s, "id"): s for s in seen}
        proof = False
        for facts in self.statements.values():
            got = by_id.get(facts.id)
            if got is None:
                lowest = min(by_id, default=None)
                if complete and (lowest is None or facts.id > lowest):
                    newest = max(by_id, default=-1)
                    return self._lose(_Check(_DIFFERENT, "statements", reason=(
                        f"statement {facts.id} that livyd ran there is gone (the session now has "
                        f"{'no statements' if newest < 0 else f'statements up to {newest}'})")))
                continue
            check = self.check_statement(got)
            if not check.ok:
                return check
            proof = True
        if proof:
            return _Check(_SAME)
        return _Check(_UNPROVEN, reason=f"no statement livyd ran in session {self.session_id} "
                     "to compare")

    def prove(self, session: Any, statements: Iterable[Any] | None = None) -> IdentityCheck:
        """After a connection gap: is it shown to be the same? The session's fields first, then
        the statements livyd ran there (*statements*: the whole retained listing)."""
        check = self.check_session(session)
        if check.verdict is not _UNPROVEN or statements is None:
            return check
        listed = self.check_statements(statements)
        if listed.verdict is _UNPROVEN:
            return _Check(_UNPROVEN, reason=(
                f"session {self.session_id} has no unique name or appId, and no statement livyd ran "
                "there to compare"))
        return listed
