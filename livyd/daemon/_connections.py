"""Connections: one Livy server as one profile reaches it, and the daemon's own error.

One workspace may talk to several Livy servers at once (profiles entw/test/prod, or a URL changed
in the editor's settings while a statement still runs on the old one). A :class:`LivyConnection`
is one (profile, effective URL) pair with its own :class:`~livyd.daemon._livy.LivyAPI`, opened
lazily by ``Supervisor.connection`` and closed at shutdown. Every session, task and followed batch
remembers its connection and uses it for everything.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from livyd._exceptions import LivydError

if TYPE_CHECKING:
    from livyd.daemon._livy import LivyAPI

__all__ = ["DaemonError", "LivyConnection", "Opener", "Resolver"]


class DaemonError(LivydError):
    """A daemon-level refusal (unknown task, no session...) with its stable code."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code  # type: ignore[misc]


@dataclass(eq=False)
class LivyConnection:
    """One Livy server as one profile reaches it: the profile, the effective URL and its API.

    *url* is ``None`` for the embedded sandbox until it runs (then :attr:`api` knows its URL).
    *session_defaults* / *batch_defaults* are the profile's ``[session]`` table as
    ``LivyClient.create_session`` / ``create_batch`` keywords (snake_case).
    """

    cid: int
    profile: str | None
    url: str | None
    embedded: bool = False
    session_defaults: dict[str, Any] = field(default_factory=dict)
    batch_defaults: dict[str, Any] = field(default_factory=dict)
    #: The resolved configuration it was opened from (for credentials replacing its client).
    resolved: Any = None
    api: LivyAPI | None = None

    def require_api(self) -> LivyAPI:
        """The Livy API (opened by ``Supervisor.connection`` before anything uses it)."""
        if self.api is None:
            raise DaemonError("not connected to Livy yet", "no-session")
        return self.api

    @property
    def live_url(self) -> str | None:
        """The URL requests go to (the embedded sandbox's once it runs)."""
        return self.api.url if self.api is not None else self.url


#: ``resolve(profile, url)``: the ResolvedConfig of *profile* (None: the configured default) with
#: *url* (None: ``settings.url``) acting like ``--url``; raises DaemonError unknown-profile.
Resolver = Callable[[str | None, str | None], Awaitable[Any]]
#: ``open(resolved)``: a LivyAPI for a resolved profile and whether it is the embedded sandbox.
Opener = Callable[[Any], Awaitable[tuple["LivyAPI", bool]]]
