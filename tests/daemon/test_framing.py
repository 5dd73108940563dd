"""The daemon's frame parser, driven without any process or socket (sans-IO)."""

from __future__ import annotations

import json
import random

import pytest

from livyd.daemon._framing import (
    MAX_HEADER_BYTES,
    MAX_LENGTH_DIGITS,
    BadHeader,
    Frame,
    FrameParser,
    TooLarge,
)


def frame(obj: object) -> bytes:
    body = json.dumps(obj).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def events(parser: FrameParser, data: bytes, chunk: int | None = None) -> list[object]:
    """Feed *data* (in chunks of *chunk* bytes) and collect events, resyncing on non-JSON bodies
    as the daemon does."""
    out: list[object] = []
    step = chunk or max(len(data), 1)
    for i in range(0, len(data), step):
        parser.feed(data[i:i + step])
        while (ev := parser.next_event()) is not None:
            if isinstance(ev, Frame):
                try:
                    out.append(json.loads(ev.body))
                except ValueError:
                    out.append(("not json", ev.body))
                    parser.resync(ev.body)
            else:
                out.append(ev)
    return out


@pytest.mark.parametrize("chunk", [1, 3, 1000])
def test_frames_in_any_chunking(chunk: int) -> None:
    data = frame({"id": 1}) + frame({"id": 2, "x": "Content-Length: 9 inside a string"})
    assert events(FrameParser(1 << 20), data, chunk) == [
        {"id": 1}, {"id": 2, "x": "Content-Length: 9 inside a string"}]


def test_other_headers_bare_lf_and_any_case() -> None:
    data = b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\ncontent-LENGTH: 2\r\n\r\n{}"
    data += b"Content-Length: 8\n\n{\"a\": 1}"
    assert events(FrameParser(1 << 20), data) == [{}, {"a": 1}]


def test_a_header_block_without_length_is_reported_at_once() -> None:
    parser = FrameParser(1 << 20)
    assert events(parser, b"X-Nonsense\r\n\r\n") == [BadHeader("Content-Length needed")]
    assert events(parser, frame({"id": 8})) == [{"id": 8}]


def test_garbage_before_a_frame_is_reported_once_and_skipped() -> None:
    data = bytes([0x9C, 0x11, 0xFF, 0x00, 0x41]) + frame({"id": 1})
    assert events(FrameParser(1 << 20), data) == [
        BadHeader("skipped 5 bytes before a frame header"), {"id": 1}]
    got = events(FrameParser(1 << 20), data, 1)  # trickling in: still one report, same frame
    assert len(got) == 2 and isinstance(got[0], BadHeader) and got[1] == {"id": 1}


@pytest.mark.parametrize("header", [b"Content-Length: abc", b"Content-Length: -3", b"Content-Length:"])
def test_unusable_length_then_the_next_frame(header: bytes) -> None:
    data = header + b"\r\n\r\n{}" + frame({"id": 7})
    got = events(FrameParser(1 << 20), data)
    assert got == [BadHeader("Content-Length must be a non-negative integer"), {"id": 7}]


@pytest.mark.parametrize("digits", [MAX_LENGTH_DIGITS + 1, 17, 40])
def test_an_absurd_length_is_a_bad_header_not_a_frame_to_discard(digits: int) -> None:
    header = b"Content-Length: " + b"9" * digits
    got = events(FrameParser(1 << 20), header + b"\r\n\r\n" + frame({"id": 8}))
    assert got == [BadHeader("Content-Length must be a non-negative integer"), {"id": 8}]


def test_the_longest_plausible_length_is_still_too_large() -> None:
    parser = FrameParser(1 << 20)
    length = int("9" * MAX_LENGTH_DIGITS)
    got = events(parser, b"Content-Length: 000%d\r\n\r\n" % length)
    assert got == [TooLarge(length)]


@pytest.mark.parametrize("cut", [1, 5, 10, 17, 21, 30])
def test_truncated_frame_loses_only_itself(cut: int) -> None:
    whole = frame({"jsonrpc": "2.0", "id": 1, "method": "livy/status", "params": {"pad": "x" * 40}})
    truncated = whole[:-cut]  # the writer died mid-body; the next frame follows at once
    got = events(FrameParser(1 << 20), truncated + frame({"id": 2}) + frame({"id": 3}))
    assert got[0][0] == "not json"  # type: ignore[index]
    assert got[1:] == [{"id": 2}, {"id": 3}]


def test_too_large_is_discarded_as_it_arrives() -> None:
    parser = FrameParser(max_frame=1024)
    big = b"Content-Length: 1000000\r\n\r\n" + b"x" * 1_000_000
    seen: list[object] = []
    high_water = 0
    for i in range(0, len(big), 4096):
        parser.feed(big[i:i + 4096])
        high_water = max(high_water, parser.buffered)
        while (ev := parser.next_event()) is not None:
            seen.append(ev)
    assert seen == [TooLarge(1_000_000)]
    assert high_water <= 4096 + 64  # never more than one chunk held
    assert events(parser, frame({"id": 4})) == [{"id": 4}]


def test_endless_garbage_is_not_kept_and_reported_once() -> None:
    parser = FrameParser(1 << 20)
    rng = random.Random(5)
    reports = []
    for _ in range(256):
        parser.feed(bytes(rng.getrandbits(8) for _ in range(4096)).replace(b"\n", b" "))
        while (ev := parser.next_event()) is not None:
            reports.append(ev)
        assert parser.buffered < 64
    assert len(reports) == 1 and isinstance(reports[0], BadHeader)
    assert events(parser, frame({"id": 5})) == [{"id": 5}]


def test_a_header_that_never_ends_is_given_up() -> None:
    parser = FrameParser(1 << 20)
    got = events(parser, b"Content-Length: 5\r\nX-Pad: " + b"p" * (MAX_HEADER_BYTES + 10))
    assert got == [BadHeader("frame header too long")]
    assert parser.buffered < MAX_HEADER_BYTES
    assert events(parser, b"\r\n\r\n" + frame({"id": 6}))[-1] == {"id": 6}


@pytest.mark.parametrize("seed", range(20))
def test_valid_frames_survive_garbage_between_them(seed: int) -> None:
    rng = random.Random(seed)
    sent = [{"id": i, "pad": "é" * rng.randrange(0, 50)} for i in range(30)]
    data = b""
    for msg in sent:
        if rng.random() < 0.4:
            junk = bytes(rng.getrandbits(8) for _ in range(rng.randrange(1, 40)))
            data += junk.replace(b":", b";")  # junk that happens to hold a header is not junk
        data += frame(msg)
    got = [e for e in events(FrameParser(1 << 20), data, rng.randrange(1, 200)) if isinstance(e, dict)]
    assert got == sent


def test_frame_writer_hands_a_loop_turn_over_at_once_in_order_and_loses_nothing() -> None:
    """Frames written in one turn of the loop go to the writer thread together, in order; a
    frame from another thread is written too; drain() writes what the last turn left."""
    import asyncio
    import io
    import threading

    from livyd.daemon._wire import FrameWriter, frame

    class Sink(io.BytesIO):
        def close(self) -> None:  # keep the bytes readable after the writer is done
            pass

    sink = Sink()
    writer = FrameWriter(sink)

    async def main() -> None:
        for i in range(200):
            writer.write(frame(b'{"n":%d}' % i))
            if i % 50 == 0:
                await asyncio.sleep(0)  # a new turn of the loop
        t = threading.Thread(target=writer.write, args=(frame(b'{"other":1}'),))
        t.start()
        t.join()
        writer.write(frame(b'{"n":200}'))  # the last turn's frame, handed over by drain()

    asyncio.run(main())
    writer.drain()
    data = sink.getvalue()
    bodies = [part.split(b"\r\n\r\n", 1)[1] for part in data.split(b"Content-Length: ")[1:]]
    loop_frames = [b for b in bodies if b.startswith(b'{"n"')]
    assert loop_frames == [b'{"n":%d}' % i for i in range(201)]
    assert b'{"other":1}' in bodies and len(bodies) == 202
