"""livyd: run PySpark through Apache Livy (direct, or behind Knox, with Kerberos).

The public library API lives here; everything else is private (``livyd._client``,
``livyd._models``, ...) and re-exported below with ``__module__`` rewritten to ``"livyd"``, so
reprs and docs say ``livyd.Session``, not ``livyd._models.Session``.

Importing :mod:`livyd` costs nothing: the names below are loaded on first use (PEP 562), so
``livyd --stdio`` and ``livyd sandbox`` start without importing httpx, pydantic or structlog
before they need them.

::

    import livyd

    async with livyd.LivyClient("http://127.0.0.1:8998") as client:
        session = await client.create_session(kind="pyspark")
        await client.wait_session_ready(session.id)
        st = await client.run_statement(session.id, "1 + 1")
        print(st.output.text)
"""

from __future__ import annotations

import importlib as _importlib
import typing as _typing

from livyd._version import __version__

if _typing.TYPE_CHECKING:  # pragma: no cover - for type checkers and readers
    from livyd._client import LivyClient, StatementEvents
    from livyd._config import Profile, ResolvedConfig, load_config
    from livyd._core.identity import IdentityCheck, IdentityVerdict, SessionIdentity
    from livyd._core.poll import PollSettings
    from livyd._core.sparkinsight import (
        InsightSettings,
        InsightWarning,
        JobEvent,
        LivyProgressEvent,
        PhaseEvent,
        ProgressEvent,
        SparkUIEvent,
        StageEvent,
    )
    from livyd._core.versions import LivyVersion
    from livyd._deploy import DeployResult, deploy_project
    from livyd._engine import EngineListener, JobState, SessionEngine, StatementJob
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
        SessionInactiveError,
        SessionNotFoundError,
        SessionNotReadyError,
        SessionReplacedError,
        SessionUnverifiedError,
        StatementCancelledError,
        StatementFailedError,
        StatementNotFoundError,
        SubmissionUnknownError,
        TransportError,
        TransportTimeout,
        WaitTimeout,
        WebHDFSError,
    )
    from livyd._fetch import fetch_rows
    from livyd._hdfs import RemoteWorkspace, UnsafeRemotePathError, UploadCache
    from livyd._insight import SparkUIClient, StatementInsights
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
    from livyd._project import Project, discover_project
    from livyd._reload import Reloader, ReloadResult
    from livyd._standalone import build_standalone
    from livyd._transport import ClientStatistics
    from livyd._webhdfs import FileStatus, WebHDFSClient

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
    "DeployResult",
    "EngineListener",
    "FileStatus",
    "ForbiddenError",
    "IdentityCheck",
    "IdentityVerdict",
    "InsightSettings",
    "InsightWarning",
    "JobEvent",
    "JobState",
    "LivyClient",
    "LivyHTTPError",
    "LivyProgressEvent",
    "LivyVersion",
    "LivydError",
    "LivydTimeout",
    "LogPage",
    "MissingExtraError",
    "NotFoundError",
    "PhaseEvent",
    "PollSettings",
    "Profile",
    "ProgressEvent",
    "Project",
    "ReloadResult",
    "Reloader",
    "RemoteWorkspace",
    "ResolvedConfig",
    "ServerError",
    "Session",
    "SessionEngine",
    "SessionGoneError",
    "SessionIdentity",
    "SessionInactiveError",
    "SessionKind",
    "SessionList",
    "SessionNotFoundError",
    "SessionNotReadyError",
    "SessionReplacedError",
    "SessionState",
    "SessionUnverifiedError",
    "SparkUIClient",
    "SparkUIEvent",
    "StageEvent",
    "Statement",
    "StatementCancelledError",
    "StatementEvents",
    "StatementFailedError",
    "StatementInsights",
    "StatementJob",
    "StatementList",
    "StatementNotFoundError",
    "StatementOutput",
    "StatementState",
    "SubmissionUnknownError",
    "TransportError",
    "TransportTimeout",
    "UnsafeRemotePathError",
    "UploadCache",
    "VersionInfo",
    "WaitTimeout",
    "WebHDFSClient",
    "WebHDFSError",
    "__version__",
    "build_standalone",
    "configure_logging",
    "deploy_project",
    "discover_project",
    "fetch_rows",
    "load_config",
)

_LAZY: dict[str, str] = {
    "AppInfo": "livyd._models",
    "AuthenticationError": "livyd._exceptions",
    "BadRequestError": "livyd._exceptions",
    "Batch": "livyd._models",
    "BatchList": "livyd._models",
    "BatchNotFoundError": "livyd._exceptions",
    "BatchState": "livyd._models",
    "ClientStatistics": "livyd._transport",
    "ConfigError": "livyd._exceptions",
    "ConnectError": "livyd._exceptions",
    "CreateBatchRequest": "livyd._models",
    "CreateSessionRequest": "livyd._models",
    "DeployResult": "livyd._deploy",
    "EngineListener": "livyd._engine",
    "FileStatus": "livyd._webhdfs",
    "ForbiddenError": "livyd._exceptions",
    "IdentityCheck": "livyd._core.identity",
    "IdentityVerdict": "livyd._core.identity",
    "InsightSettings": "livyd._core.sparkinsight",
    "InsightWarning": "livyd._core.sparkinsight",
    "JobEvent": "livyd._core.sparkinsight",
    "JobState": "livyd._engine",
    "LivyClient": "livyd._client",
    "LivyHTTPError": "livyd._exceptions",
    "LivyProgressEvent": "livyd._core.sparkinsight",
    "LivyVersion": "livyd._core.versions",
    "LivydError": "livyd._exceptions",
    "LivydTimeout": "livyd._exceptions",
    "LogPage": "livyd._models",
    "MissingExtraError": "livyd._exceptions",
    "NotFoundError": "livyd._exceptions",
    "PhaseEvent": "livyd._core.sparkinsight",
    "PollSettings": "livyd._core.poll",
    "Profile": "livyd._config",
    "ProgressEvent": "livyd._core.sparkinsight",
    "Project": "livyd._project",
    "ReloadResult": "livyd._reload",
    "Reloader": "livyd._reload",
    "RemoteWorkspace": "livyd._hdfs",
    "ResolvedConfig": "livyd._config",
    "ServerError": "livyd._exceptions",
    "Session": "livyd._models",
    "SessionEngine": "livyd._engine",
    "SessionGoneError": "livyd._exceptions",
    "SessionIdentity": "livyd._core.identity",
    "SessionInactiveError": "livyd._exceptions",
    "SessionKind": "livyd._models",
    "SessionList": "livyd._models",
    "SessionNotFoundError": "livyd._exceptions",
    "SessionNotReadyError": "livyd._exceptions",
    "SessionReplacedError": "livyd._exceptions",
    "SessionState": "livyd._models",
    "SessionUnverifiedError": "livyd._exceptions",
    "SparkUIClient": "livyd._insight",
    "SparkUIEvent": "livyd._core.sparkinsight",
    "StageEvent": "livyd._core.sparkinsight",
    "Statement": "livyd._models",
    "StatementCancelledError": "livyd._exceptions",
    "StatementEvents": "livyd._client",
    "StatementFailedError": "livyd._exceptions",
    "StatementInsights": "livyd._insight",
    "StatementJob": "livyd._engine",
    "StatementList": "livyd._models",
    "StatementNotFoundError": "livyd._exceptions",
    "StatementOutput": "livyd._models",
    "StatementState": "livyd._models",
    "SubmissionUnknownError": "livyd._exceptions",
    "TransportError": "livyd._exceptions",
    "TransportTimeout": "livyd._exceptions",
    "UnsafeRemotePathError": "livyd._hdfs",
    "UploadCache": "livyd._hdfs",
    "VersionInfo": "livyd._models",
    "WaitTimeout": "livyd._exceptions",
    "WebHDFSClient": "livyd._webhdfs",
    "WebHDFSError": "livyd._exceptions",
    "build_standalone": "livyd._standalone",
    "configure_logging": "livyd._logging",
    "deploy_project": "livyd._deploy",
    "discover_project": "livyd._project",
    "fetch_rows": "livyd._fetch",
    "load_config": "livyd._config",
}


def __getattr__(name: str) -> _typing.Any:
    """Load a public name on first use and present it as ``livyd.<name>``."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'livyd' has no attribute {name!r}")
    obj = getattr(_importlib.import_module(module), name)
    if getattr(obj, "__module__", "").startswith("livyd."):
        try:
            obj.__module__ = "livyd"
        except (AttributeError, TypeError):  # pragma: no cover - builtins / slots
            pass
    globals()[name] = obj
    return obj


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
