"""Generate the committed protocol artifacts from the pydantic models and the method table.

One function, :func:`render_all`, returns ``{relative path: file content}`` for every generated
file; ``python -m livyd.protocol`` writes them, ``--check`` compares them with the tree, and the
staleness test does the same in memory. Output is deterministic (sorted keys, no timestamps) so a
difference always means a wire change someone must review.

The TypeScript and Lua renderers work from the JSON Schema (not from the Python classes), so the
three languages cannot drift: each ``$defs`` entry becomes a TS interface / string-literal union
and a Lua ``---@class`` / ``---@alias``.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic.json_schema import models_json_schema

from livyd.protocol import _models as m
from livyd.protocol._errors import JSONRPC_CODES, LIVYD_CODES
from livyd.protocol._methods import COMMANDS, METHODS, PROTOCOL_VERSION

__all__ = ["GENERATED_FILES", "render_all", "schema"]

_REGEN = "python -m livyd.protocol"
_HEADER = f"GENERATED from livyd/protocol (pydantic models) - DO NOT EDIT - regenerate with `{_REGEN}`"

#: Paths (relative to the repository root) this generator owns, besides protocol/examples/*.
GENERATED_FILES = (
    "protocol/livyd.schema.json",
    "protocol/methods.json",
    "protocol/README.md",
    "editor-clients/vscode/src/protocol.generated.ts",
    "editor-clients/nvim/lua/livy/protocol.lua",
)

_EXTRA_MODELS: list[type[BaseModel]] = [m.InitializationOptions, m.LivydCapabilities]


def _all_models() -> list[type[BaseModel]]:
    seen: dict[str, type[BaseModel]] = {}
    for meth in METHODS:
        for model in (meth.params, meth.result):
            if model is not None:
                seen.setdefault(model.__name__, model)
    for model in _EXTRA_MODELS:
        seen.setdefault(model.__name__, model)
    return [seen[k] for k in sorted(seen)]


def schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of every protocol model, under ``$defs``."""
    _, top = models_json_schema(
        [(model, "validation") for model in _all_models()], ref_template="#/$defs/{model}"
    )
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://livyd.invalid/protocol/livyd.schema.json",
        "title": f"livyd daemon protocol {PROTOCOL_VERSION}",
        "description": _HEADER,
        "$defs": dict(sorted(top.get("$defs", {}).items())),
    }


def _methods_table() -> dict[str, Any]:
    return {
        "_generated": _HEADER,
        "protocolVersion": PROTOCOL_VERSION,
        "methods": [
            {
                "method": meth.name,
                "kind": meth.kind,
                "direction": meth.direction,
                "params": f"#/$defs/{meth.params.__name__}",
                "result": f"#/$defs/{meth.result.__name__}" if meth.result else None,
                "doc": meth.doc,
            }
            for meth in METHODS
        ],
        "commands": COMMANDS,
        "errors": {
            "jsonrpc": {str(k): v for k, v in sorted(JSONRPC_CODES.items())},
            "livyd": dict(sorted(LIVYD_CODES.items())),
        },
    }


def _dumps(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=False, ensure_ascii=False) + "\n"


# --------------------------------------------------------------------------- examples


def _examples() -> dict[str, str]:
    """Golden messages: for every method a valid params (and result) and its invalid variants.

    Each file is ``{"method", "part": "params"|"result", "valid", "why", "message"}`` where
    ``message`` is the full JSON-RPC message a client would see on the wire.
    """
    files: dict[str, str] = {}
    for meth in METHODS:
        base = meth.name.replace("/", "_")
        msg_params: dict[str, Any]
        if meth.kind == "request":
            msg_params = {"jsonrpc": "2.0", "id": 7, "method": meth.name, "params": meth.example_params}
        else:
            msg_params = {"jsonrpc": "2.0", "method": meth.name, "params": meth.example_params}
        # The examples must themselves be right: validate before writing.
        meth.params.model_validate(meth.example_params)
        files[f"protocol/examples/{base}-params-valid.json"] = _dumps(
            {"method": meth.name, "part": "params", "valid": True, "why": "example", "message": msg_params}
        )
        if meth.result is not None and meth.example_result is not None:
            meth.result.model_validate(meth.example_result)
            files[f"protocol/examples/{base}-result-valid.json"] = _dumps(
                {
                    "method": meth.name,
                    "part": "result",
                    "valid": True,
                    "why": "example",
                    "message": {"jsonrpc": "2.0", "id": 7, "result": meth.example_result},
                }
            )
        for why, bad in meth.invalid:
            try:
                meth.params.model_validate(bad)
            except ValidationError:
                pass
            else:  # pragma: no cover - a generator bug, caught by the tests
                raise AssertionError(f"invalid example for {meth.name} validates: {why}")
            digest = hashlib.sha256(json.dumps(bad, sort_keys=True).encode()).hexdigest()[:8]
            msg = dict(msg_params, params=bad)
            files[f"protocol/examples/{base}-params-invalid-{digest}.json"] = _dumps(
                {"method": meth.name, "part": "params", "valid": False, "why": why, "message": msg}
            )
    return files


# --------------------------------------------------------------------------- TypeScript


def _ts_type(s: dict[str, Any]) -> str:
    if "$ref" in s:
        return str(s["$ref"]).rsplit("/", 1)[-1]
    if "anyOf" in s:
        return " | ".join(_ts_type(x) for x in s["anyOf"])
    if "const" in s:
        return json.dumps(s["const"])
    if "enum" in s:
        return " | ".join(json.dumps(v) for v in s["enum"])
    t = s.get("type")
    if t == "string":
        return "string"
    if t in ("integer", "number"):
        return "number"
    if t == "boolean":
        return "boolean"
    if t == "null":
        return "null"
    if t == "array":
        inner = _ts_type(s.get("items", {}))
        return f"Array<{inner}>"
    if t == "object":
        return "Record<string, unknown>"
    return "unknown"


def _doc_lines(text: str | None, indent: str, prefix: str) -> list[str]:
    if not text:
        return []
    return [f"{indent}{prefix}{line}".rstrip() for line in text.strip().splitlines()]


def _render_ts(sch: dict[str, Any]) -> str:
    out = [
        f"// {_HEADER}",
        "/* eslint-disable */",
        "",
        f'export const PROTOCOL_VERSION = "{PROTOCOL_VERSION}";',
        "",
    ]
    for name, d in sch["$defs"].items():
        if "enum" in d:
            out += ["/**", *_doc_lines(d.get("description"), "", " * "), " */"]
            out.append(f"export type {name} = {_ts_type(d)};")
            out.append("")
            continue
        out += ["/**", *_doc_lines(d.get("description"), "", " * "), " */"]
        out.append(f"export interface {name} {{")
        required = set(d.get("required", []))
        for prop, ps in d.get("properties", {}).items():
            doc = ps.get("description")
            if doc:
                out.append(f"  /** {doc} */")
            opt = "" if prop in required else "?"
            key = prop if prop.isidentifier() else json.dumps(prop)
            out.append(f"  {key}{opt}: {_ts_type(ps)};")
        if d.get("additionalProperties") is True:
            out.append("  [field: string]: unknown;")
        out.append("}")
        out.append("")
    out.append("/** Every livyd method: params and result types. */")
    out.append("export interface LivydRequests {")
    for meth in METHODS:
        if meth.kind == "request":
            res = meth.result.__name__ if meth.result else "null"
            out.append(f'  "{meth.name}": {{ params: {meth.params.__name__}; result: {res} }};')
    out.append("}")
    out.append("")
    out.append("export interface LivydNotifications {")
    for meth in METHODS:
        if meth.kind == "notification":
            out.append(f'  "{meth.name}": {meth.params.__name__};')
    out.append("}")
    out.append("")
    names = ", ".join(json.dumps(meth.name) for meth in METHODS if meth.kind == "request")
    out.append(f"export const REQUESTS = [{names}] as const;")
    names = ", ".join(json.dumps(meth.name) for meth in METHODS if meth.kind == "notification")
    out.append(f"export const NOTIFICATIONS = [{names}] as const;")
    out.append("export const ERROR_CODES: Record<string, number> = {")
    for code, num in sorted(LIVYD_CODES.items()):
        out.append(f'  "{code}": {num},')
    out.append("};")
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- Lua


def _lua_type(s: dict[str, Any]) -> str:
    if "$ref" in s:
        return "livy." + str(s["$ref"]).rsplit("/", 1)[-1]
    if "anyOf" in s:
        parts = [x for x in s["anyOf"] if x.get("type") != "null"]
        inner = "|".join(_lua_type(x) for x in parts)
        return inner + ("|nil" if len(parts) < len(s["anyOf"]) else "")
    if "const" in s:
        return json.dumps(s["const"]) if isinstance(s["const"], str) else str(s["const"]).lower()
    if "enum" in s:
        return "|".join(json.dumps(v) for v in s["enum"])
    t = s.get("type")
    return {
        "string": "string",
        "integer": "integer",
        "number": "number",
        "boolean": "boolean",
        "null": "nil",
        "object": "table<string, any>",
    }.get(str(t), f"{_lua_type(s.get('items', {}))}[]" if t == "array" else "any")


def _render_lua(sch: dict[str, Any]) -> str:
    out = [
        f"-- {_HEADER}",
        "---@meta",
        "",
        "local M = {}",
        "",
        f'M.PROTOCOL_VERSION = "{PROTOCOL_VERSION}"',
        "",
    ]
    for name, d in sch["$defs"].items():
        out += _doc_lines(d.get("description"), "", "--- ")
        if "enum" in d:
            out.append(f"---@alias livy.{name} {_lua_type(d)}")
            out.append("")
            continue
        out.append(f"---@class livy.{name}")
        required = set(d.get("required", []))
        for prop, ps in d.get("properties", {}).items():
            opt = "" if prop in required else "?"
            doc = f" {ps['description']}" if ps.get("description") else ""
            key = prop if prop.isidentifier() else f'["{prop}"]'
            out.append(f"---@field {key}{opt} {_lua_type(ps)}{doc}".rstrip())
        out.append("")
    out.append("M.REQUESTS = {")
    out += [f'  "{meth.name}",' for meth in METHODS if meth.kind == "request"]
    out.append("}")
    out.append("M.NOTIFICATIONS = {")
    out += [f'  "{meth.name}",' for meth in METHODS if meth.kind == "notification"]
    out.append("}")
    out.append("M.ERROR_CODES = {")
    out += [f'  ["{code}"] = {num},' for code, num in sorted(LIVYD_CODES.items())]
    out.append("}")
    out += ["", "return M"]
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- README


def _render_readme() -> str:
    from livyd.protocol._readme import PROSE_END, PROSE_START

    rows = []
    for meth in METHODS:
        res = f"`{meth.result.__name__}`" if meth.result else "-"
        rows.append(f"| `{meth.name}` | {meth.kind} | `{meth.params.__name__}` | {res} | {meth.doc} |")
    commands = "\n".join(f"| `{k}` | {v} |" for k, v in COMMANDS.items())
    jsonrpc = "\n".join(f"| {k} | {v} |" for k, v in sorted(JSONRPC_CODES.items()))
    livyd_codes = "\n".join(f"| `{k}` | {v} |" for k, v in sorted(LIVYD_CODES.items()))
    return (
        f"<!-- {_HEADER} -->\n\n"
        + PROSE_START.replace("{PROTOCOL_VERSION}", PROTOCOL_VERSION)
        + "\n## Method table\n\n| Method | Kind | Params | Result | What it does |\n|---|---|---|---|---|\n"
        + "\n".join(rows)
        + "\n\n## Commands (workspace/executeCommand)\n\n| Command | Arguments |\n|---|---|\n"
        + commands
        + "\n\n## Error codes\n\nStandard codes:\n\n| Code | Meaning |\n|---|---|\n"
        + jsonrpc
        + "\n\nlivyd codes (`error.data.code` -> `error.code`):\n\n| data.code | code |\n|---|---|\n"
        + livyd_codes
        + "\n\n"
        + PROSE_END
    )


def render_all() -> dict[str, str]:
    """Every generated file, ``{path relative to the repository root: content}``."""
    sch = schema()
    files = {
        "protocol/livyd.schema.json": _dumps(sch),
        "protocol/methods.json": _dumps(_methods_table()),
        "protocol/README.md": _render_readme(),
        "editor-clients/vscode/src/protocol.generated.ts": _render_ts(sch),
        "editor-clients/nvim/lua/livy/protocol.lua": _render_lua(sch),
    }
    files.update(_examples())
    return files
