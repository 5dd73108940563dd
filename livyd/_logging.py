"""structlog configuration for livyd: stderr or a file (never stdout), with secret redaction.

stdout is sacred: ``livyd --stdio`` speaks JSON-RPC on it and ``livyd exec`` prints results on
it. Logs therefore go to stderr, or to a file.

Redaction happens in a processor that runs before rendering, over every event value (nested
dicts and lists included): values of keys that look secret (``authorization``, ``cookie``,
``set-cookie``, ``password``, ``token``, ``secret``, ``keytab``, ...) become ``"***"``; strings
have ``Negotiate``/``Basic``/``Bearer`` credentials, URL user-info and secret-looking query
parameters masked. Stdlib loggers of httpx, httpcore, pygls and httpx_gssapi are routed through
the same pipeline (WARNING by default, INFO/DEBUG with ``--verbose`` or
``LIVYD_LOG_LEVEL=debug``), so their output is redacted as well.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any, TextIO

from livyd._core.redact import redact, redact_text
from livyd._exceptions import ConfigError

__all__ = [
    "LogLevelError",
    "configure_logging",
    "get_logger",
    "redact",
    "redact_exception_processor",
    "redact_processor",
    "redact_text",
]


class LogLevelError(ConfigError, ValueError):
    """An unknown log level (from ``LIVYD_LOG_LEVEL`` or the *level* argument): a configuration
    error naming where it came from (still a ``ValueError`` for callers that catch that)."""


_THIRD_PARTY = ("httpx", "httpcore", "pygls", "httpx_gssapi", "gssapi", "uvicorn", "asyncio")
_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "warn": logging.WARNING,
           "error": logging.ERROR, "critical": logging.CRITICAL}


def redact_processor(
    _logger: Any, _name: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor applying :func:`redact` to every field of the event."""
    for k in list(event_dict):
        if k in ("_record", "_from_structlog"):
            continue
        event_dict[k] = redact(event_dict[k], k if k != "event" else None)
    return event_dict


def redact_exception_processor(
    _logger: Any, _name: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor masking secrets in a formatted traceback (``exception``) and in a
    ``stack``: an exception's message may carry a URL's userinfo, a header or a Negotiate blob,
    and frames show them again. Runs after ``format_exc_info``, before the renderer."""
    for key in ("exception", "stack"):
        value = event_dict.get(key)
        if isinstance(value, str):
            event_dict[key] = redact_text(value)
    return event_dict


_STD_LEVELS = {**_LEVELS, "exception": logging.ERROR}


class _LibraryLogger:
    """The logger livyd's library modules use.

    structlog's *unconfigured* default prints every level to **stdout**, which would corrupt the
    daemon's JSON-RPC stream and ``livyd exec`` output when livyd is used as a library without
    :func:`configure_logging`. So: once structlog is configured (by :func:`configure_logging`, or
    by the application embedding livyd), events go through structlog; until then they go to the
    stdlib logger of the same name (redacted), which by Python's convention shows warnings and
    errors on stderr and drops the rest.
    """

    def __init__(self, name: str) -> None:
        self._name = name

    def _emit(self, level_name: str, event: str, /, **kw: Any) -> None:
        structlog = sys.modules.get("structlog")  # never imported: certainly not configured
        if structlog is not None and structlog.is_configured():
            getattr(structlog.get_logger(self._name), level_name)(event, **kw)
            return
        std = logging.getLogger(self._name)
        level = _STD_LEVELS.get(level_name, logging.INFO)
        if std.isEnabledFor(level):
            exc_info = kw.pop("exc_info", None)
            fields = " ".join(f"{k}={redact(v, k)!r}" for k, v in kw.items())
            text = f"{redact_text(event)} {fields}"
            if exc_info:
                import traceback

                text += "\n" + redact_text("".join(traceback.format_exc()))
            # the event and its (redacted) fields ride along for handlers that render them for
            # people (the CLI's default: livyd.cli._messages)
            std.log(level, "%s", text, extra={"livyd_event": redact_text(event),
                                               "livyd_fields": {k: redact(v, k) for k, v in kw.items()}})

    def debug(self, event: str, /, **kw: Any) -> None:
        """Log at debug level."""
        self._emit("debug", event, **kw)

    def info(self, event: str, /, **kw: Any) -> None:
        """Log at info level."""
        self._emit("info", event, **kw)

    def warning(self, event: str, /, **kw: Any) -> None:
        """Log at warning level."""
        self._emit("warning", event, **kw)

    def error(self, event: str, /, **kw: Any) -> None:
        """Log at error level."""
        self._emit("error", event, **kw)

    def exception(self, event: str, /, **kw: Any) -> None:
        """Log at error level with the current exception's traceback (redacted)."""
        kw.setdefault("exc_info", True)
        self._emit("error", event, **kw)


def get_logger(name: str) -> _LibraryLogger:
    """A logger for library code that never writes to stdout, configured or not."""
    return _LibraryLogger(name)


def _stream(file: Path | None) -> TextIO:
    if file is None:
        return sys.stderr
    path = Path(file).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.open("a", encoding="utf-8", buffering=1)


def configure_logging(level: str = "warning", *, file: Path | None = None, json: bool | None = None) -> None:
    """Configure structlog and the stdlib loggers livyd cares about.

    *level* is overridden by ``LIVYD_LOG_LEVEL`` when set. *json* defaults to JSON lines for a
    file or a non-terminal stderr, a console renderer otherwise. Never writes to stdout.
    """
    from_env = os.environ.get("LIVYD_LOG_LEVEL")
    name = (from_env or level or "warning").strip().lower()
    if name not in _LEVELS:
        valid = ", ".join(sorted(_LEVELS))
        if from_env:
            raise LogLevelError(f"LIVYD_LOG_LEVEL (environment): {from_env.strip()!r} is not a log level; "
                                f"use one of {valid}", source="LIVYD_LOG_LEVEL (environment)",
                                key="LIVYD_LOG_LEVEL")
        raise LogLevelError(f"log level {name!r} is not one of {valid} (LIVYD_LOG_LEVEL overrides it)",
                            key="level")
    lvl = _LEVELS[name]
    import structlog  # here, not at module level: it imports rich (~100 ms a command rarely needs)

    stream = _stream(file)
    use_json = json if json is not None else (file is not None or not stream.isatty())
    renderer: Any = (structlog.processors.JSONRenderer() if use_json
                     else structlog.dev.ConsoleRenderer(colors=stream.isatty()))
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.stdlib.add_logger_name,
        redact_processor,
    ]
    structlog.configure(
        processors=[*shared[:2], structlog.processors.TimeStamper(fmt="iso", utc=True), redact_processor,
                    structlog.processors.format_exc_info, redact_exception_processor, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(lvl),
        logger_factory=structlog.PrintLoggerFactory(stream),
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.format_exc_info, redact_exception_processor, renderer],
        foreign_pre_chain=shared,
    ))
    handler.set_name("livyd")
    root = logging.getLogger()
    for h in list(root.handlers):
        if h.get_name() == "livyd":
            root.removeHandler(h)
    root.addHandler(handler)
    root.setLevel(lvl)
    third = logging.WARNING
    if lvl <= logging.INFO:
        third = logging.DEBUG if lvl <= logging.DEBUG else logging.INFO
    for logger_name in _THIRD_PARTY:
        # livyd's transport traces each exchange itself; httpcore's connection-level DEBUG lines
        # (and asyncio's) would drown that trace, so they stop at INFO.
        floor = logging.INFO if logger_name in ("httpcore", "asyncio") else logging.NOTSET
        logging.getLogger(logger_name).setLevel(max(third, floor))
