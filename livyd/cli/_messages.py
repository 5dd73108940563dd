"""What the library's log events say to a person at the CLI's default level: a sentence, or nothing.

The library logs machine-readable events (``statement.ambiguous session='0' error='transport'``);
with ``--verbose`` or ``LIVYD_LOG_LEVEL`` set they are shown as they are (JSON lines on a pipe).
At the default level the CLI shows warnings and errors as ``livyd: warning: <sentence>``: events
named below get their sentence, events that already are a sentence (they contain a space) are
shown as written, and any other event is left out (the error that follows, if any, says what
happened). Values are redacted before they get here (``redact_processor``).
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

import structlog

__all__ = ["SENTENCES", "human_renderer"]

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


def human_renderer(_logger: Any, _name: str, event_dict: MutableMapping[str, Any]) -> str:
    """structlog renderer: ``livyd: warning: <sentence>``, or drop the event."""
    event = str(event_dict.pop("event", ""))
    level = str(event_dict.pop("level", "warning"))
    for noise in ("timestamp", "logger", "_record", "_from_structlog"):
        event_dict.pop(noise, None)
    if event in SENTENCES:
        template = SENTENCES[event]
        if template is None:
            raise structlog.DropEvent
        try:
            text = template.format(**event_dict)
        except (KeyError, IndexError, ValueError):
            text = template.split(" (", 1)[0].split(":", 1)[0]
    elif " " in event:
        details = ", ".join(f"{k} {v}" for k, v in event_dict.items() if not k.startswith("_"))
        text = f"{event} ({details})" if details else event
    else:
        raise structlog.DropEvent
    return f"livyd: {'error' if level in ('error', 'critical', 'exception') else 'warning'}: {text}"
