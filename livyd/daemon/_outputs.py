"""Outputs as editors receive them: measured, bounded, and where an error points.

A statement's output may be megabytes (a ``df.show()`` of a wide table, an image, a long
traceback). ``livy/output`` carries at most ``settings.maxOutputBytes`` of it on the wire:

* :func:`fit_output` cuts a mime bundle to the limit, keeping its keys: values that fit stay whole
  (smallest first), ``text/plain`` is cut at a character boundary and ends with a note, and a value
  too big to show whole (``application/json``, ``image/png``, a table) is left out, named in a note.
* :func:`fit_error` bounds an error's ``evalue`` and ``traceback`` to half the limit, keeping the
  traceback's first two lines (what diagnostics map) and its end (where the error is).
* :func:`error_location` is where a traceback points: the line of the sent code and, with the
  sent range, that line in the document (``errorLine`` / ``errorRange`` and the diagnostic).

* :func:`fit_and_encode` does it all for one ``livy/output``: the record is encoded once, the
  data's size is measured from those bytes, and only when something must be cut is the whole
  output handed over (the same bytes) to be saved and the cut record encoded.

Sizes are those of the JSON the daemon writes (:func:`wire_size`). A 20 MB value is encoded once
per step that needs its bytes, never to learn a size already known (orjson holds the GIL for
~13 ms per 20 MB here, and a worker thread holding it stalls the event loop as much). Everything
here is pure and runs in a worker thread for big outputs (the supervisor decides when:
:func:`needs_fitting`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from livyd.daemon._wire import dumps, loads
from livyd.protocol import OutputNotification, OutputStatus, Position, Range

__all__ = [
    "error_location",
    "fit_and_encode",
    "fit_error",
    "fit_output",
    "needs_fitting",
    "traceback_line",
    "wire_size",
]


def wire_size(value: Any) -> int:
    """Bytes of *value* as JSON on the wire (the daemon writes what :func:`livyd.daemon._wire.dumps`
    encodes: UTF-8, no ASCII escaping)."""
    return len(dumps(value))


def surely_fits(data: dict[str, Any], limit: int) -> bool:
    """A cheap test that a bundle of short strings is within *limit* (no serialization)."""
    if not all(isinstance(v, str) for v in data.values()):
        return False
    # At most 12 bytes per character (an escaped surrogate pair for 1), plus quotes and separators.
    return sum(12 * (len(k) + len(v)) + 6 for k, v in data.items()) + 2 <= limit


def _cut_text(text: str, budget: int) -> str:
    """The longest prefix of *text* (whole characters) whose JSON string takes at most *budget*
    bytes (see :func:`_cut_encoded`)."""
    encoded = dumps(text)
    return text if len(encoded) <= budget else _cut_encoded(encoded, budget)


def _cut_encoded(encoded: bytes, budget: int) -> str:
    """The longest prefix of the JSON string *encoded* (whole characters) whose JSON takes at
    most *budget* bytes: cut in its encoding (backing off from the middle of a UTF-8 sequence or
    an escape) and the cut decoded once; a 20 MB string is never measured again and again."""
    if len(encoded) <= budget:
        whole = loads(encoded)
        return whole if isinstance(whole, str) else ""
    cut = _safe_cut(encoded, max(1, budget - 1))  # room for the closing quote
    if cut <= 1:
        return ""
    prefix = loads(encoded[:cut] + b'"')
    return prefix if isinstance(prefix, str) else ""


def _safe_cut(encoded: bytes, cut: int) -> int:
    """*cut* moved back so that ``encoded[:cut]`` (a JSON string without its closing quote) ends
    neither inside a UTF-8 sequence nor inside an escape (``\\n``, ``\\uXXXX``)."""
    while cut > 1 and (encoded[cut] & 0xC0) == 0x80:  # a continuation byte: inside a character
        cut -= 1
    i = cut - 1
    while i >= max(1, cut - 6):
        if encoded[i] == 0x5C:  # the last backslash near the cut: does it start an escape?
            run_start = i
            while run_start - 1 >= 1 and encoded[run_start - 1] == 0x5C:
                run_start -= 1
            if (i - run_start) % 2 == 0:
                length = 6 if encoded[i + 1:i + 2] == b"u" else 2
                if i + length > cut:
                    cut = i
            break
        i -= 1
    return cut


def error_fits(evalue: str | None, traceback: list[str], limit: int) -> bool:
    """A cheap test that an error's ``evalue`` and ``traceback`` stay within half of *limit*."""
    chars = len(evalue or "") + sum(len(line) + 4 for line in traceback)
    return 12 * chars + 4 <= limit // 2


def fit_error(
    evalue: str | None, traceback: list[str], limit: int, where: str
) -> tuple[str | None, list[str]]:
    """``evalue`` and ``traceback`` cut to at most half of *limit* bytes of JSON together: the
    message keeps its start, the traceback its first two lines (the header and the user's
    ``<stdin>`` frame, which diagnostics map) and its end (where the error is), with a line saying
    what was left out and *where* the whole output is."""
    budget = limit // 2
    encoded_evalue = dumps(evalue)  # a huge message is encoded once: measured and cut from these bytes
    if len(encoded_evalue) + wire_size(traceback) <= budget:
        return evalue, traceback
    if evalue is not None and len(encoded_evalue) > budget // 4:
        evalue = _cut_encoded(encoded_evalue, budget // 4) + " ..."
    del encoded_evalue
    room = budget - wire_size(evalue)
    head = traceback[:2]
    note = f"  ... [{{n}} traceback lines left out; {where}]\n"
    body = traceback[len(head):]
    if body:
        encoded_last = dumps(body[-1])
        if len(encoded_last) > budget // 4:  # the exception line repeats the huge message
            body = [*body[:-1], _cut_encoded(encoded_last, budget // 4) + " ...\n"]
        del encoded_last
    tail: list[str] = []
    for line in reversed(body):
        trial = [*head, note.format(n=len(body) - len(tail) - 1), line, *tail]
        if wire_size(trial) > room:
            break
        tail.insert(0, line)
    left = len(body) - len(tail)
    if left == 0 and wire_size([*head, *tail]) <= room:
        return evalue, [*head, *tail]
    cut = [*head, note.format(n=left), *tail]
    if wire_size(cut) > room:  # the head itself is too long: its header line and the note
        cut = [traceback[0], note.format(n=len(traceback) - 1)] if traceback else []
    if wire_size(cut) > room:
        cut = [_cut_text(note.format(n=len(traceback)), max(0, room - 4))]
    return evalue, cut


def fit_output(data: dict[str, Any], limit: int, where: str) -> dict[str, Any]:
    """A mime bundle cut to at most *limit* bytes of JSON (:func:`wire_size`), keeping its keys:
    values that fit stay whole (smallest first), ``text/plain`` is cut at a character boundary and
    ends with a note, and a value too big to show whole (``application/json``, ``image/png``, a
    table, ...) is left out, named in a ``text/plain`` note. *where* says where the whole output is.
    """
    text = data.get("text/plain") if isinstance(data.get("text/plain"), str) else None
    others = {k: v for k, v in data.items() if not (k == "text/plain" and text is not None)}
    sizes = {k: wire_size({k: v}) for k, v in others.items()}

    def left_out(key: str) -> str:
        return f"[{key} output of {sizes[key]} bytes left out: too big to show; {where}]\n"

    marker = f"\n... [output truncated to {limit} bytes; {where}]"
    # Room the notes may need whatever is left out, then keep whole values, smallest first.
    notes_room = wire_size("".join(left_out(k) for k in others) + marker) + wire_size({"text/plain": ""})
    kept: dict[str, Any] = {}
    for key in sorted(others, key=sizes.__getitem__):
        if wire_size({**kept, key: others[key]}) + notes_room <= limit:
            kept[key] = others[key]
    notes = "".join(left_out(k) for k in others if k not in kept)

    def bundle(plain: str | None) -> dict[str, Any]:
        """*plain* as text/plain (None: none) with the kept values, in the original key order."""
        return {
            k: plain if k == "text/plain" else v
            for k, v in {"text/plain": None, **data}.items()
            if (k == "text/plain" and plain is not None) or k in kept
        }

    if text:
        encoded_text = dumps(text)  # the one encoding of a big text: its size, and where to cut it
        # Inside one JSON string the text's escapes follow the notes': it adds its own encoded
        # size less the two quotes.
        if wire_size(bundle(notes)) + len(encoded_text) - 2 <= limit:
            result = bundle(notes + text)
        else:
            room = limit - wire_size(bundle(notes + marker)) + 2
            result = bundle(notes + _cut_encoded(encoded_text, max(0, room)) + marker)
        del encoded_text
    else:
        result = bundle(notes + text if text is not None else (notes.rstrip("\n") or None))
    if wire_size(result) > limit:  # pathological (a tiny limit, many keys): only say where it is
        result = {"text/plain": _cut_text(f"[output too big to show; {where}]", limit - 20)}
    return result


def fit_and_encode(
    note: OutputNotification, limit: int, save_whole: Callable[[bytes], str | None]
) -> tuple[OutputNotification, bytes]:
    """*note* as ``livy/output`` params: the note to send and its JSON (what goes to the output
    log and on the wire as it is).

    The record is encoded once and the data's size measured from those bytes (the record less the
    record without data and error, less the error's own size). When it fits (data within *limit*,
    the error within half of it: ``settings.maxOutputBytes``), that is all. Otherwise *save_whole*
    gets those same bytes, the whole output (it returns the path it wrote, or None when it could
    not), and the note comes back cut (:func:`fit_output`, :func:`fit_error`: ``truncated``, the
    ``fullOutputPath``, the cut marker naming it) with its own, small, encoding. Runs in a worker
    thread for big outputs."""
    record = note.wire()
    encoded = dumps(record)
    evalue_size, traceback_size = wire_size(note.evalue), wire_size(note.traceback)
    bare = dumps({**record, "data": {}, "evalue": None, "traceback": []})
    # `encoded` and `bare` differ only in data ({} is 2 bytes), evalue (null: 4) and traceback ([]: 2)
    data_size = len(encoded) - len(bare) + 2 - (evalue_size - 4) - (traceback_size - 2)
    data_fits = data_size <= limit
    error_fits = evalue_size + traceback_size <= limit // 2
    del record, bare
    if data_fits and error_fits:
        return note, encoded
    path = save_whole(encoded)
    del encoded  # the whole output is saved; only what is cut from it stays in memory
    where = f"the whole output is in {path}" if path else "livyd could not save the whole output"
    data = note.data if data_fits else fit_output(note.data, limit, where)
    evalue, traceback = (note.evalue, note.traceback) if error_fits else fit_error(
        note.evalue, note.traceback, limit, where)
    cut = note.model_copy(update={"data": data, "evalue": evalue, "traceback": traceback,
                                  "truncated": True, "full_output_path": path})
    return cut, dumps(cut.wire())


_TB_LINE = re.compile(r'File "<(?:stdin|string|console)>", line (\d+)|^\s*line (\d+)', re.M)


def error_location(status: OutputStatus, traceback: list[str], sent: Range | None) -> dict[str, Any]:
    """``errorLine`` and ``errorRange`` of an output (livy/output 1.2, and the diagnostic): the line
    of the sent code the traceback points at and, with the sent *range*, that line in the document."""
    if status is not OutputStatus.ERROR:
        return {}
    line = traceback_line(traceback)
    if line is None:
        return {}
    found: dict[str, Any] = {"error_line": line}
    if sent is not None:
        doc_line = sent.start.line + line - 1
        found["error_range"] = Range(
            start=Position(line=doc_line, character=0), end=Position(line=doc_line + 1, character=0)
        )
    return found


def traceback_line(traceback: list[str]) -> int | None:
    """The 1-based line of the sent code a Python traceback points at (the last frame), if any."""
    found: int | None = None
    for m in _TB_LINE.finditer("".join(traceback)):
        found = int(m.group(1) or m.group(2))
    return found


def needs_fitting(data: dict[str, Any], evalue: str | None, traceback: list[str], limit: int) -> bool:
    """Whether an output may exceed *limit* and must be measured (cheap: no serialization)."""
    return not surely_fits(data, limit) or not error_fits(evalue, traceback, limit)
