"""What the library's log events say to a person at the CLI's default level: a sentence, or nothing.

The library logs machine-readable events (``statement.ambiguous session='0' error='transport'``);
with ``--verbose`` or ``LIVYD_LOG_LEVEL`` set they are shown as they are (JSON lines on a pipe).
At the default level the CLI shows warnings and errors as ``livyd: warning: <sentence>``: events
named below get their sentence, events that already are a sentence (they contain a space) are
shown as written, and any other event is left out (the error that follows, if any, says what
happened). Values are redacted before they get here (``redact_processor``).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any

__all__ = ["SENTENCES", "SentenceHandler", "human_renderer", "install_sentence_handler", "sentence"]

#: Event name → sentence (``str.format`` over the event's fields); ``None``: say nothing.
SENTENCES: dict[str, str | None] = {
    "statement.ambiguous": ("the statement sent to session {session} got no clear answer ({error}); livyd is "
                            "looking for it instead of sending it again"),
    "create.ambiguous": ("creating the {collection} {name} got no clear answer ({error}); livyd is looking "
                         "for it by name instead of sending it again"),
    "create.name_taken": ("the name {name} already belongs to {collection} {id}, which is not yours; it is "
                          "left alone"),
    "statement.cancel_failed": "could not cancel the statement in session {session}: {error}",
    "session.keepalive_failed": "could not keep session {session} alive (Livy may time it out): {error}",
    "version.unavailable": None,  # a gateway that hides /version: the older feature set is used quietly
    "session.replaced": None,  # the error that follows says it
    "session.unverified": None,
}


def sentence(event: str, fields: Mapping[str, Any], level: str = "warning") -> str | None:
    """The line a person reads for one log event, or ``None`` to say nothing."""
    if event in SENTENCES:
        template = SENTENCES[event]
        if template is None:
            return None
        try:
            text = template.format(**fields)
        except (KeyError, IndexError, ValueError):
            text = template.split(" (", 1)[0].split(":", 1)[0]
    elif " " in event:
        details = ", ".join(f"{k} {v}" for k, v in fields.items() if not k.startswith("_"))
        text = f"{event} ({details})" if details else event
    else:
        return None
    return f"livyd: {'error' if level in ('error', 'critical', 'exception') else 'warning'}: {text}"


def human_renderer(_logger: Any, _name: str, event_dict: MutableMapping[str, Any]) -> str:
    """structlog renderer: ``livyd: warning: <sentence>``, or drop the event."""
    import structlog

    event = str(event_dict.pop("event", ""))
    level = str(event_dict.pop("level", "warning"))
    for noise in ("timestamp", "logger", "_record", "_from_structlog"):
        event_dict.pop(noise, None)
    text = sentence(event, event_dict, level)
    if text is None:
        raise structlog.DropEvent
    return text


class SentenceHandler(logging.Handler):
    """The CLI's default for the library's loggers (``livyd.*``), without loading structlog: each
    warning or error as a sentence on stderr, or nothing."""

    def emit(self, record: logging.LogRecord) -> None:
        event = getattr(record, "livyd_event", None)
        fields = getattr(record, "livyd_fields", {})
        text = (sentence(event, fields, record.levelname.lower()) if event is not None
                else sentence(record.getMessage(), {}, record.levelname.lower()))
        if text is None:
            return
        try:
            sys.stderr.write(text + "\n")
            sys.stderr.flush()
        except (OSError, ValueError):
            pass


def install_sentence_handler() -> None:
    """Route the library's warnings to :class:`SentenceHandler` (the CLI's default level)."""
    logger = logging.getLogger("livyd")
    for handler in list(logger.handlers):
        if isinstance(handler, SentenceHandler):
            logger.removeHandler(handler)
    logger.addHandler(SentenceHandler(logging.WARNING))
    logger.setLevel(logging.WARNING)
    logger.propagate = False
