"""livyd: run PySpark through Apache Livy (direct, or behind Knox, with Kerberos).

The public library API lives here; everything else is private (``livyd._client``,
``livyd._models``, ...) and re-exported below with ``__module__`` rewritten to ``"livyd"``, so
reprs and docs say ``livyd.Session``, not ``livyd._models.Session``.

Importing :mod:`livyd` stays light: httpx, anyio, pydantic and structlog only (no rich,
starlette, uvicorn or pygls; the CLI, sandbox and daemon import those themselves).

::

    import livyd

    async with livyd.LivyClient("http://127.0.0.1:8998") as client:
        session = await client.create_session(kind="pyspark")
        await client.wait_session_ready(session.id)
        st = await client.run_statement(session.id, "1 + 1")
        print(st.output.text)
"""

from __future__ import annotations

from livyd._client import LivyClient
from livyd._core.poll import PollSettings
from livyd._core.versions import LivyVersion
from livyd._exceptions import (
    AuthenticationError,
    BadRequestError,
    BatchNotFoundError,
    ConfigError,
    ConnectError,
    ForbiddenError,
    LivydError,
    LivydTimeout,
    LivyHTTPError,
    MissingExtraError,
    NotFoundError,
    ServerError,
    SessionGoneError,
    SessionNotFoundError,
    SessionNotReadyError,
    StatementCancelledError,
    StatementFailedError,
    StatementNotFoundError,
    SubmissionUnknownError,
    TransportError,
    TransportTimeout,
    WaitTimeout,
    WebHDFSError,
)
from livyd._logging import configure_logging
from livyd._models import (
    AppInfo,
    Batch,
    BatchList,
    BatchState,
    CreateBatchRequest,
    CreateSessionRequest,
    LogPage,
    Session,
    SessionKind,
    SessionList,
    SessionState,
    Statement,
    StatementList,
    StatementOutput,
    StatementState,
    VersionInfo,
)
from livyd._transport import ClientStatistics
from livyd._version import __version__

__all__ = (
    "AppInfo",
    "AuthenticationError",
    "BadRequestError",
    "Batch",
    "BatchList",
    "BatchNotFoundError",
    "BatchState",
    "ClientStatistics",
    "ConfigError",
    "ConnectError",
    "CreateBatchRequest",
    "CreateSessionRequest",
    "ForbiddenError",
    "LivyClient",
    "LivyHTTPError",
    "LivyVersion",
    "LivydError",
    "LivydTimeout",
    "LogPage",
    "MissingExtraError",
    "NotFoundError",
    "PollSettings",
    "ServerError",
    "Session",
    "SessionGoneError",
    "SessionKind",
    "SessionList",
    "SessionNotFoundError",
    "SessionNotReadyError",
    "SessionState",
    "Statement",
    "StatementCancelledError",
    "StatementFailedError",
    "StatementList",
    "StatementNotFoundError",
    "StatementOutput",
    "StatementState",
    "SubmissionUnknownError",
    "TransportError",
    "TransportTimeout",
    "VersionInfo",
    "WaitTimeout",
    "WebHDFSError",
    "__version__",
    "configure_logging",
)


def _fix_module_names() -> None:
    for name in __all__:
        obj = globals()[name]
        if hasattr(obj, "__module__") and getattr(obj, "__module__", "").startswith("livyd."):
            try:
                obj.__module__ = "livyd"
            except (AttributeError, TypeError):  # pragma: no cover - builtins / slots
                pass


_fix_module_names()
