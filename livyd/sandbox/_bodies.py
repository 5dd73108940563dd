"""Request-body decoding the way Livy's Jackson does it, errors included.

Livy reads JSON bodies with a default Jackson ``ObjectMapper`` (livy-rest.md 1.2/1.3), and its
failures are part of the API clients meet:

* Content-Type is ignored; an empty body is ``No content to map due to end-of-input``;
* malformed JSON, a non-object where an object is expected, an unknown property, or a value of
  the wrong type all give **400 with a bare JSON string** (the Jackson message), not ``{"msg"}``;
* scalar coercion is on: ``"driverCores": "2"`` is 2, a number in ``conf`` becomes a string;
  ``null`` means "absent".

:func:`decode` returns a plain dict holding only the fields that were present (with coerced
values) or raises :class:`JacksonError` carrying the bare-string message. The messages follow
Jackson 2.x's wording closely but are not byte-identical (livy-rest.md 21 says: match on status
and "is a JSON string").
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal

__all__ = ["FieldType", "JacksonError", "Schema", "decode"]

FieldType = Literal["str", "int", "list", "map", "kind"]
Schema = Mapping[str, FieldType]

_SOURCE = "(org.eclipse.jetty.server.HttpInputOverHTTP)"


class JacksonError(Exception):
    """A body Jackson would refuse; ``str(exc)`` is the bare-string 400 body."""


def _at(line: int, column: int) -> str:
    return f"\n at [Source: {_SOURCE}; line: {line}, column: {column}]"


def _position(raw: str, needle: str) -> tuple[int, int]:
    index = raw.find(needle)
    if index < 0:
        return 1, 1
    before = raw[:index]
    return before.count("\n") + 1, index - (before.rfind("\n") + 1) + 1


_JAVA_TYPES: dict[str, str] = {
    "str": "java.lang.String",
    "int": "int",
    "list": "scala.collection.immutable.List",
    "map": "scala.collection.immutable.Map",
    "kind": "org.apache.livy.sessions.Kind",
}


def decode(body: bytes, schema: Schema, java_class: str,
           valid_kinds: frozenset[str] = frozenset()) -> dict[str, Any]:
    """Decode *body* as an instance of *java_class* with the field types of *schema*.

    :raises JacksonError: with Jackson's message, for every case Livy answers with a bare 400.
    """
    try:
        raw = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise JacksonError(f"Invalid UTF-8 middle byte 0x{body[exc.start]:02x}" + _at(1, exc.start + 1)) \
            from None
    if not raw.strip():
        raise JacksonError("No content to map due to end-of-input" + _at(1, 0))
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        char = raw[exc.pos] if exc.pos < len(raw) else ""
        what = f"Unexpected character ('{char}' (code {ord(char)}))" if char else "Unexpected end-of-input"
        raise JacksonError(
            f"{what}: {exc.msg.lower()}" + _at(exc.lineno, exc.colno)
        ) from None
    if not isinstance(value, dict):
        token = {list: "START_ARRAY", str: "VALUE_STRING", bool: "VALUE_TRUE", int: "VALUE_NUMBER_INT",
                 float: "VALUE_NUMBER_FLOAT", type(None): "VALUE_NULL"}.get(type(value), "VALUE_STRING")
        if value is False:
            token = "VALUE_FALSE"
        raise JacksonError(
            f"Cannot deserialize instance of `{java_class}` out of {token} token" + _at(1, 1)
        )
    out: dict[str, Any] = {}
    known = sorted(schema)
    for key, item in value.items():
        chain = f' (through reference chain: {java_class}["{key}"])'
        line, column = _position(raw, f'"{key}"')
        if key not in schema:
            names = ", ".join(f'"{k}"' for k in known)
            raise JacksonError(
                f'Unrecognized field "{key}" (class {java_class}), not marked as ignorable '
                f"({len(known)} known properties: {names}])" + _at(line, column) + chain
            )
        if item is None:
            continue
        out[key] = _coerce(item, schema[key], key, chain, (line, column), valid_kinds)
    return out


def _coerce(item: Any, ftype: FieldType, key: str, chain: str, pos: tuple[int, int],
            valid_kinds: frozenset[str]) -> Any:
    java = _JAVA_TYPES[ftype]
    if ftype == "str":
        if isinstance(item, bool):
            return "true" if item else "false"
        if isinstance(item, (str, int, float)):
            return item if isinstance(item, str) else json.dumps(item)
        token = "START_ARRAY" if isinstance(item, list) else "START_OBJECT"
        raise JacksonError(f"Cannot deserialize value of type `{java}` from {token.replace('_', ' ').title()}"
                           f" token" + _at(*pos) + chain)
    if ftype == "kind":
        if not isinstance(item, str) or item not in valid_kinds:
            shown = item if isinstance(item, str) else json.dumps(item)
            raise JacksonError(f"Invalid kind: {shown}{chain}")
        return item
    if ftype == "int":
        if isinstance(item, bool):
            raise JacksonError("Cannot deserialize value of type `int` from Boolean value"
                               + _at(*pos) + chain)
        if isinstance(item, int):
            if not -(2**31) <= item < 2**31:
                raise JacksonError(f"Numeric value ({item}) out of range of int" + _at(*pos) + chain)
            return item
        if isinstance(item, float) and item.is_integer():
            return int(item)
        if isinstance(item, str):
            try:
                return int(item.strip())
            except ValueError:
                raise JacksonError(
                    f'Cannot deserialize value of type `int` from String "{item}": not a valid `int` value'
                    + _at(*pos) + chain
                ) from None
        raise JacksonError(f"Cannot deserialize value of type `int` from {type(item).__name__}"
                           + _at(*pos) + chain)
    if ftype == "list":
        if not isinstance(item, list):
            raise JacksonError(f"Cannot deserialize instance of `{java}` out of "
                               f"{'START_OBJECT' if isinstance(item, dict) else 'VALUE_STRING'} token"
                               + _at(*pos) + chain)
        result: list[str] = []
        for element in item:
            if isinstance(element, (dict, list)) or element is None:
                raise JacksonError(f"Cannot deserialize value of type `java.lang.String` from "
                                   f"{type(element).__name__} value" + _at(*pos) + chain)
            result.append(_coerce(element, "str", key, chain, pos, valid_kinds))
        return result
    # map of string -> string
    if not isinstance(item, dict):
        raise JacksonError(f"Cannot deserialize instance of `{java}` out of "
                           f"{'START_ARRAY' if isinstance(item, list) else 'VALUE_STRING'} token"
                           + _at(*pos) + chain)
    conf: dict[str, str] = {}
    for ck, cv in item.items():
        if cv is None:
            continue
        conf[ck] = _coerce(cv, "str", key, chain, pos, valid_kinds)
    return conf
