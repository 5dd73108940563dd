"""Sans-IO checks of one JSON-RPC 2.0 message before pygls sees it.

pygls trusts what it is given: a body nested a thousand levels deep makes ``json.loads`` (and
cattrs after it) raise :class:`RecursionError`, which no handler expects, and an ``id`` that is an
array, an object, a boolean or a float is structured, answered with a pygls traceback in
``error.data``, or silently dropped. Every such message gets a JSON-RPC error here instead:

* :func:`decode` reads a frame body; a body that is not JSON, not UTF-8, or nested too deeply
  for the parser raises :class:`Undecodable` (answered -32700, id null).
* :func:`problem` checks the decoded value: not a JSON-RPC 2.0 object, an ``id`` that is not a
  string, an integer or null (JSON-RPC 2.0, section 4: "String, Number, or NULL"; numbers
  "SHOULD NOT contain fractional parts", and a boolean is not a number), or nesting deeper than
  :data:`MAX_DEPTH` (no livyd message needs more than a handful of levels). Each is answered
  -32600 Invalid Request; the id is echoed only when it was valid.

Nothing here does I/O; ``tests/daemon/test_jsonrpc.py`` drives it directly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

__all__ = ["MAX_DEPTH", "Problem", "Undecodable", "decode", "depth_exceeds", "problem", "valid_id"]

#: Deepest nesting of arrays and objects accepted in a message (the envelope counts as 1).
MAX_DEPTH = 64


class Undecodable(ValueError):
    """A frame body that cannot be read as JSON (the reason says why, never the body)."""


@dataclass(frozen=True)
class Problem:
    """Why a decoded message is refused: the JSON-RPC code, a message, the id to answer with."""

    code: int
    message: str
    msg_id: int | str | None
    data: dict[str, Any] | None = None


def decode(body: bytes) -> Any:
    """The JSON value of *body*; :class:`Undecodable` if it is not UTF-8 JSON or is nested so
    deeply that the parser gives up (:class:`RecursionError` never escapes)."""
    try:
        return json.loads(body)
    except RecursionError:
        raise Undecodable("the frame body is nested too deeply to parse") from None
    except (ValueError, UnicodeDecodeError):
        raise Undecodable("the frame body is not valid JSON") from None


def valid_id(value: Any) -> bool:
    """Whether *value* is a JSON-RPC id livyd accepts: a string or an integer (not a boolean,
    not a float). ``null`` is handled by the caller (it is allowed but never echoed)."""
    return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))


def depth_exceeds(value: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether arrays/objects in *value* nest deeper than *limit* (iterative: no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def problem(raw: Any) -> Problem | None:
    """Why *raw* (a decoded frame body) is not a message livyd passes on, or None."""
    from livyd.protocol._errors import INVALID_REQUEST

    if not isinstance(raw, dict):
        return Problem(INVALID_REQUEST, "Invalid Request: not a JSON-RPC 2.0 message", None)
    has_id = "id" in raw
    msg_id = raw.get("id")
    if has_id and msg_id is not None and not valid_id(msg_id):
        kind = {bool: "a boolean", float: "a number with a fraction", list: "an array",
                dict: "an object"}.get(type(msg_id), type(msg_id).__name__)
        return Problem(
            INVALID_REQUEST,
            f"Invalid Request: id must be a string, an integer or null, not {kind}",
            None,
            {"code": "invalid-id"},
        )
    echo = msg_id if valid_id(msg_id) else None
    if depth_exceeds(raw):
        return Problem(
            INVALID_REQUEST,
            f"Invalid Request: the message nests arrays or objects deeper than {MAX_DEPTH} levels",
            echo,
            {"code": "too-deep", "limit": MAX_DEPTH},
        )
    if (
        raw.get("jsonrpc") != "2.0"
        or ("method" in raw and not isinstance(raw["method"], str))
        or ("method" not in raw and not has_id)
        or ("params" in raw and not isinstance(raw["params"], dict | list | type(None)))
    ):
        return Problem(INVALID_REQUEST, "Invalid Request: not a JSON-RPC 2.0 message", echo)
    return None
