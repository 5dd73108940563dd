"""Big outputs (issue 7, "never stalls, never loses"): a ``livy/output`` is encoded once, delivered
whole when ``maxOutputBytes`` allows it, and otherwise cut, the whole output saved from the same
bytes. The pure part counts the encodings of more than 1 MiB that fitting makes (each holds the
GIL for milliseconds per 20 MB, in a worker thread that stalls the event loop as much); the
daemon part sends a multi-megabyte output through a real ``livyd --stdio`` (the harness checks
that nothing but frames reaches its stdout)."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
from daemon_helpers import output_of

from livyd.daemon import _outputs
from livyd.daemon._outputs import fit_and_encode, wire_size
from livyd.daemon._wire import dumps
from livyd.protocol import DaemonSettings, OutputNotification

BIG = 1 << 20
DEFAULT_LIMIT = DaemonSettings().max_output_bytes


@pytest.fixture
def big_encodes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The sizes of the encodings of more than 1 MiB that livyd.daemon._outputs makes."""
    sizes: list[int] = []

    def counting(value: Any, default: Any = None) -> bytes:
        out = dumps(value, default)
        if len(out) > BIG:
            sizes.append(len(out))
        return out

    monkeypatch.setattr(_outputs, "dumps", counting)
    return sizes


def note_of(data: dict[str, Any], evalue: str | None = None, traceback: list[str] | None = None
            ) -> OutputNotification:
    return OutputNotification(task_id="t-1", session_id=0, statement_id=3,
                              status="error" if evalue else "ok", data=data, evalue=evalue,
                              traceback=traceback or [])


# Escapes, two-, three- and four-byte characters: sizes are the encoded bytes, not characters.
AWKWARD = 'aé€😀\n"\\\x01' * 400_000  # 3.2 M characters, ~8.4 MB as JSON


def test_an_output_that_fits_is_encoded_once_and_left_whole(big_encodes: list[int]) -> None:
    note = note_of({"text/plain": AWKWARD})
    saved: list[bytes] = []
    sent, encoded = fit_and_encode(note, 16 * 1024 * 1024, lambda whole: saved.append(whole) or "x")
    assert sent is note and not saved
    assert encoded == dumps(note.wire())
    assert json.loads(encoded)["data"]["text/plain"] == AWKWARD
    assert big_encodes == [len(encoded)]  # the record, once; its data measured from those bytes


def test_a_cut_output_saves_the_whole_from_the_same_bytes(big_encodes: list[int]) -> None:
    note = note_of({"text/plain": AWKWARD})
    saved: list[bytes] = []
    path = "/state/outputs/t-1.json"
    sent, encoded = fit_and_encode(note, DEFAULT_LIMIT, lambda whole: saved.append(whole) or path)
    assert saved == [dumps(note.wire())]  # the whole record, as it would have gone on the wire
    assert json.loads(saved[0])["data"]["text/plain"] == AWKWARD
    assert sent.truncated is True and sent.full_output_path == path
    assert encoded == dumps(sent.wire())
    assert wire_size(sent.data) <= DEFAULT_LIMIT
    text = sent.data["text/plain"]
    shown, marker = text.split("\n... [output truncated", 1)
    assert marker == f" to {DEFAULT_LIMIT} bytes; the whole output is in {path}]"
    assert AWKWARD.startswith(shown) and len(shown.encode()) > DEFAULT_LIMIT // 2  # the budget is used
    # the record once: measured, saved as it is, and the text cut from its bytes
    assert big_encodes == [len(saved[0])]


def test_the_text_is_found_in_the_records_bytes_or_not_at_all() -> None:
    """_encoded_within finds text/plain's JSON in the record's encoding exactly (what encoding
    the text alone gives), wherever the key sits, or says it cannot (then the text is encoded)."""
    rng = random.Random(3)
    for _ in range(200):
        text = "".join(rng.choice('aé😀\n"\\\x01') for _ in range(rng.randint(0, 300)))
        data: dict[str, Any] = {}
        if rng.random() < 0.5:
            data["image/png"] = "iVBOR" * rng.randint(0, 50)
        data["text/plain"] = text
        if rng.random() < 0.5:
            data["application/json"] = {"text/plain": text, "k": [1, 2.5, None]}
        note = note_of(data, "é" * rng.randint(0, 20) or None)
        found = _outputs._encoded_within(dumps(note.wire()), note, text)
        assert found is not None and bytes(found) == dumps(text)
    # a lone surrogate: the record is encoded by the standard library, escaped to ASCII
    note = note_of({"text/plain": "x\ud800y" * 10})
    found = _outputs._encoded_within(dumps(note.wire()), note, note.data["text/plain"])
    assert found is None or json.loads(bytes(found)) == note.data["text/plain"]
    sent, _ = fit_and_encode(note, 1024, lambda whole: "/w.json")
    assert sent.truncated is False
    long = note_of({"text/plain": "é\ud800" * 2000})
    sent, encoded = fit_and_encode(long, 1024, lambda whole: "/w.json")
    assert sent.truncated is True and len(encoded) < 4096
    assert ("é\ud800" * 2000).startswith(sent.data["text/plain"].split("\n... [output truncated")[0])


def test_a_cut_output_says_so_when_the_whole_could_not_be_saved() -> None:
    note = note_of({"text/plain": "y" * 3_000_000})
    sent, encoded = fit_and_encode(note, DEFAULT_LIMIT, lambda whole: None)
    assert sent.truncated is True and sent.full_output_path is None
    assert sent.data["text/plain"].endswith("; livyd could not save the whole output]")
    assert json.loads(encoded)["fullOutputPath"] is None


def test_fit_and_encode_cuts_exactly_when_data_or_error_exceed_the_limit() -> None:
    """Seeded random bundles and errors: the sizes measured from the record's bytes decide as an
    exact measure would, and the bytes returned are the record sent."""
    rng = random.Random(7)
    alphabet = 'aé😀\n"\\\x01'
    for _ in range(300):
        limit = rng.randint(1024, 6000)
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 1500)))
        data: dict[str, Any] = {"text/plain": text}
        if rng.random() < 0.4:
            data["application/json"] = {"k": "v" * rng.randint(0, 3000)}
        evalue = "😀" * rng.randint(0, 1200) if rng.random() < 0.5 else None
        traceback = [f"  line {i}\n" for i in range(rng.randint(0, 150))] if evalue else []
        note = note_of(data, evalue, traceback)
        sent, encoded = fit_and_encode(note, limit, lambda whole: "/w.json")
        must_cut = wire_size(data) > limit or wire_size(evalue) + wire_size(traceback) > limit // 2
        assert sent.truncated is must_cut, (limit, wire_size(data))
        assert encoded == dumps(sent.wire())
        if must_cut:
            assert wire_size(sent.data) <= limit
            assert wire_size(sent.evalue) + wire_size(sent.traceback) <= limit // 2
        else:
            assert sent is note


# ------------------------------------------------------------------ through a real daemon

# ~3.5 MB as JSON: two-byte characters and plain ones.
CODE = "print('é' * 1_000_000 + 'x' * 1_500_000, end='')"
EXPECTED = "é" * 1_000_000 + "x" * 1_500_000


@pytest.mark.anyio
async def test_a_big_output_arrives_whole_above_the_limit(spawn_daemon: Any) -> None:
    async with spawn_daemon(maxOutputBytes=8 * 1024 * 1024) as client:
        started = await client.request("livy/execute", {"code": CODE})
        out = await output_of(client, started["taskId"], timeout=120)
        assert out["status"] == "ok" and out["truncated"] is False and out["fullOutputPath"] is None
        assert out["data"]["text/plain"].rstrip("\n") == EXPECTED


@pytest.mark.anyio
async def test_a_big_output_is_cut_at_the_default_limit_and_saved_whole(spawn_daemon: Any) -> None:
    async with spawn_daemon() as client:
        started = await client.request("livy/execute", {"code": CODE})
        out = await output_of(client, started["taskId"], timeout=120)
        assert out["status"] == "ok" and out["truncated"] is True
        assert wire_size(out["data"]) <= DEFAULT_LIMIT
        shown, marker = out["data"]["text/plain"].split("\n... [output truncated", 1)
        assert EXPECTED.startswith(shown) and shown.startswith("é" * 1000)
        assert marker == f" to {DEFAULT_LIMIT} bytes; the whole output is in {out['fullOutputPath']}]"
        whole = json.loads(await anyio.Path(Path(out["fullOutputPath"])).read_bytes())
        assert whole["taskId"] == started["taskId"] and whole["truncated"] is False
        assert whole["data"]["text/plain"].rstrip("\n") == EXPECTED


_RSS_PROBE = r"""
import sys
from livyd.daemon._memory import return_big_blocks

def rss_mib():
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmRSS:")) / 1024

fixed = sys.argv[1] == "fixed"
if fixed:
    assert return_big_blocks()
base = rss_mib()
for _ in range(3):  # a 20 MB output's body, text and encoding, freed after each delivery
    blocks = [bytes(20 << 20), "x" * (20 << 20), bytearray(20 << 20)]
    del blocks
print(rss_mib() - base)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt (Linux)")
def test_big_blocks_go_back_to_the_system_when_freed() -> None:
    """With glibc's dynamic mmap threshold, the blocks of a second 20 MB output come from the heap
    and stay resident after they are freed; the daemon fixes the threshold, so they do not."""
    def kept(mode: str) -> float:
        out = subprocess.run([sys.executable, "-c", _RSS_PROBE, mode], capture_output=True, text=True,
                             timeout=60, check=True)
        return float(out.stdout)

    assert kept("fixed") < 10, "freed 20 MB blocks stayed resident"
    assert kept("dynamic") >= 20  # the behaviour the fix exists for (so this test can fail)
