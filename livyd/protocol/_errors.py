"""The JSON-RPC error-code table: one place that maps livyd's error tree to wire codes.

Standard JSON-RPC / LSP codes keep their meaning. livyd's own errors use the server range
-32000..-32099; ``error.data.code`` always carries the stable string code of
:mod:`livyd._exceptions` (``"session-gone"``...), so clients branch on that, never on the message.
``error.data.field`` names the offending field path for invalid params (``"range.start.line"``).
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "INTERNAL_ERROR",
    "INVALID_PARAMS",
    "INVALID_REQUEST",
    "JSONRPC_CODES",
    "LIVYD_CODES",
    "METHOD_NOT_FOUND",
    "PARSE_ERROR",
    "REQUEST_CANCELLED",
    "jsonrpc_code_for",
]

PARSE_ERROR: Final = -32700
INVALID_REQUEST: Final = -32600
METHOD_NOT_FOUND: Final = -32601
INVALID_PARAMS: Final = -32602
INTERNAL_ERROR: Final = -32603
SERVER_NOT_INITIALIZED: Final = -32002
REQUEST_CANCELLED: Final = -32800

#: Standard codes, with what they mean for livyd.
JSONRPC_CODES: Final[dict[int, str]] = {
    PARSE_ERROR: "A frame's body is not JSON, or its headers are malformed (id is null).",
    INVALID_REQUEST: "Not a JSON-RPC 2.0 request object, or a frame above the size limit (id is null).",
    METHOD_NOT_FOUND: "Unknown method.",
    INVALID_PARAMS: "Params failed validation; data.field is the first bad field's path, data.errors all.",
    INTERNAL_ERROR: "A bug in livyd; data.code is 'internal'. No traceback unless showTracebacks is set.",
    SERVER_NOT_INITIALIZED: "A livy/* request before initialize.",
    REQUEST_CANCELLED: "The request was cancelled with $/cancelRequest.",
}

#: livyd error codes (``LivydError.code``) to JSON-RPC codes. Unlisted codes fall back to their
#: closest listed ancestor's, then to -32000.
LIVYD_CODES: Final[dict[str, int]] = {
    "livyd": -32000,
    "config": -32001,
    "missing-extra": -32003,
    "transport": -32010,
    "connect": -32011,
    "timeout": -32012,
    "wait-timeout": -32013,
    "http": -32020,
    "bad-request": -32021,
    "auth": -32022,
    "forbidden": -32023,
    "not-found": -32024,
    "session-not-found": -32025,
    "batch-not-found": -32026,
    "statement-not-found": -32027,
    "session-not-ready": -32028,
    "server": -32029,
    "webhdfs": -32030,
    "session-gone": -32040,
    "statement-failed": -32041,
    "statement-cancelled": -32042,
    "submission-unknown": -32043,
    "unknown-task": -32050,
    "no-session": -32051,
    "unknown-profile": -32052,
}


def jsonrpc_code_for(code: str) -> int:
    """The JSON-RPC error code for a livyd string *code* (``"session-gone"`` -> -32040)."""
    return LIVYD_CODES.get(code, -32000)
