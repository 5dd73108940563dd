"""Pure tests of the sandbox's Livy algorithms: log slicing (livy-rest.md 10), ring buffers,
time strings (3), and Jackson-like body decoding (1.2, 1.3). No sockets, no processes."""

from __future__ import annotations

import pytest

from livyd.sandbox._bodies import JacksonError, Schema, decode
from livyd.sandbox._livy import parse_time_string
from livyd.sandbox._logbuffer import LogBuffer, slice_log

LINES = [f"l{i}" for i in range(250)]


@pytest.mark.parametrize(("from_", "size", "expected_from", "expected"), [
    (None, None, 150, LINES[150:]),          # no params: the last 100 lines
    (0, None, 0, LINES[:100]),               # from=0: the first 100
    (None, -1, 0, LINES),                    # size=-1: everything
    (None, 0, 250, []),                      # size=0: nothing, from = total
    (240, 100, 240, LINES[240:]),            # clamped at the end
    (1000, 5, 1000, []),                     # past the end
    (-5, 10, 240, LINES[240:]),              # negative from = tail of size
])
def test_slice_log(from_: int | None, size: int | None, expected_from: int, expected: list[str]) -> None:
    assert slice_log(LINES, from_, size) == (expected_from, expected)


def test_ring_buffer_layout_and_wrap() -> None:
    buf = LogBuffer(capacity=3)
    assert buf.lines() == ["stdout: ", "\nstderr: "]
    for i in range(5):
        buf.add_line("stdout", f"o{i}")
    buf.write("stderr", "e1\ne2\npart")
    assert buf.lines() == ["stdout: ", "o2", "o3", "o4", "\nstderr: ", "e1", "e2"]
    buf.flush()
    assert buf.lines()[-1] == "part"
    assert buf.tail(2) == ["e2", "part"]


@pytest.mark.parametrize(("text", "seconds"), [("600", 0.6), ("10s", 10.0), ("2m", 120.0), ("2MIN", 120.0),
                                               ("1h", 3600.0), ("1d", 86400.0), ("5ms", 0.005)])
def test_time_strings(text: str, seconds: float) -> None:
    assert parse_time_string(text) == pytest.approx(seconds)


@pytest.mark.parametrize(("text", "message"), [("abc", "Invalid time string: abc"),
                                               ("5x", 'Invalid suffix: "x"'), ("-1", "Invalid value: -1")])
def test_bad_time_strings(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_time_string(text)


SCHEMA: Schema = {"code": "str", "cursor": "int", "jars": "list", "conf": "map", "kind": "kind"}


def test_decode_coerces_like_jackson() -> None:
    body = b'{"code": 5, "cursor": "3", "jars": ["a"], "conf": {"k": 1, "b": true}, "kind": null}'
    assert decode(body, SCHEMA, "X", frozenset({"pyspark"})) == {
        "code": "5", "cursor": 3, "jars": ["a"], "conf": {"k": "1", "b": "true"}}


@pytest.mark.parametrize(("body", "start"), [
    (b"", "No content to map due to end-of-input"),
    (b"   ", "No content to map due to end-of-input"),
    (b"[1]", "Cannot deserialize instance of `X` out of START_ARRAY token"),
    (b'{"nope": 1}', 'Unrecognized field "nope" (class X), not marked as ignorable (5 known properties: '),
    (b'{"cursor": "x"}', 'Cannot deserialize value of type `int` from String "x"'),
    (b'{"jars": "a"}',
     "Cannot deserialize instance of `scala.collection.immutable.List` out of VALUE_STRING"),
    (b'{"kind": "pyspark3"}', 'Invalid kind: pyspark3 (through reference chain: X["kind"])'),
    (b"{oops", "Unexpected character ('o' (code 111))"),
])
def test_decode_errors(body: bytes, start: str) -> None:
    with pytest.raises(JacksonError) as info:
        decode(body, SCHEMA, "X", frozenset({"pyspark"}))
    assert str(info.value).startswith(start)
