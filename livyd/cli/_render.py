"""Everything the CLI shows, and the only module in livyd allowed to print.

Results go to stdout; progress, notices and errors go to stderr. Two audiences:

* people (the default): plain text as is, Livy tables rendered with rich, JSON pretty-printed,
  images written to a file whose path is printed, a spinner with the statement's progress on
  stderr while waiting, but only when stderr is a terminal (so pipes and CI logs stay clean);
* scripts (``--json``): exactly one JSON document on stdout per command (``--follow`` streams
  log lines on stderr instead), nothing decorative anywhere. Keys are camelCase everywhere
  (``sessionId``, ``statementId``, ``proxyUser``, ``knownProfiles``), like Livy's own JSON and
  the editor protocol; a mime bundle keeps its MIME types as keys and Spark conf its property
  names.

rich is imported lazily: ``livyd --version`` and usage errors must not pay for it.
"""

from __future__ import annotations

import base64
import json
import os
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

__all__ = ["Progress", "Renderer"]

_UNLIMITED_WIDTH = 1_000_000


def _isatty(file: IO[str]) -> bool:
    try:
        return bool(file.isatty())
    except (AttributeError, ValueError):
        return False


def _sql_fields(value: Any) -> list[str] | None:
    """Column names when *value* is Livy's SQL output: ``{"schema": <StructType>, "data": rows}``."""
    if not isinstance(value, Mapping) or set(value) != {"schema", "data"}:
        return None
    schema = value["schema"]
    if not isinstance(schema, Mapping) or schema.get("type") != "struct":
        return None
    if not isinstance(value["data"], list):
        return None
    return [str(f.get("name", "")) for f in schema.get("fields", []) if isinstance(f, Mapping)]


class Progress:
    """A progress line on stderr (a rich status spinner) that does nothing when stderr is not a TTY."""

    def __init__(self, status: Any | None) -> None:
        self._status = status

    def update(self, message: str) -> None:
        """Replace the progress line's text."""
        if self._status is not None:
            self._status.update(message)


class Renderer:
    """Writes results to stdout and everything else to stderr, for people or (``json_mode``) scripts."""

    def __init__(
        self,
        *,
        json_mode: bool = False,
        stdout: IO[str] | None = None,
        stderr: IO[str] | None = None,
        image_dir: Path | None = None,
    ) -> None:
        self.json_mode = json_mode
        self.stdout = stdout or sys.stdout
        self.stderr = stderr or sys.stderr
        self.image_dir = image_dir
        #: extra keys of a statement's JSON document (``events``: what Spark did, see _progress.py)
        self.json_extra: dict[str, Any] = {}

    # ------------------------------------------------------------------ plain channels

    def text(self, text: str) -> None:
        """A result line (or block) on stdout, as is."""
        self.stdout.write(text if text.endswith("\n") else text + "\n")
        self.stdout.flush()

    def json(self, obj: Any) -> None:
        """One JSON document on stdout."""
        self.stdout.write(json.dumps(obj, indent=2, ensure_ascii=False, default=str) + "\n")
        self.stdout.flush()

    def notice(self, message: str) -> None:
        """A line for people on stderr (suppressed in --json mode unless it matters: use warn)."""
        self.stderr.write(message + "\n")
        self.stderr.flush()

    def warn(self, message: str) -> None:
        self.stderr.write(f"livyd: warning: {message}\n")
        self.stderr.flush()

    def error(self, message: str) -> None:
        """The one-line error every failing command ends with."""
        self.stderr.write(f"livyd: error: {message}\n")
        self.stderr.flush()

    def log_lines(self, lines: Sequence[str], *, to_stderr: bool = False) -> None:
        stream = self.stderr if to_stderr or self.json_mode else self.stdout
        for line in lines:
            stream.write(line if line.endswith("\n") else line + "\n")
        stream.flush()

    # ------------------------------------------------------------------ rich

    def _console(self, file: IO[str]) -> Any:
        from rich.console import Console

        # Not a terminal (a pipe, a file, CI): nobody's screen to fit, so nothing is cropped or
        # wrapped (rich would assume 80 columns and cut cells to "aaa…").
        width = None if _isatty(file) else _UNLIMITED_WIDTH
        return Console(file=file, highlight=False, soft_wrap=True, width=width)

    def table(
        self, columns: Sequence[str], rows: Sequence[Sequence[Any]], *, title: str | None = None
    ) -> None:
        """A table on stdout (rich for people)."""
        from rich.table import Table

        table = Table(title=title, show_lines=False)
        for column in columns:  # on a terminal too narrow, long values wrap whole: never "aaa…"
            table.add_column(str(column), overflow="fold")
        for row in rows:
            table.add_row(*("" if cell is None else str(cell) for cell in row))
        self._console(self.stdout).print(table)
        self.stdout.flush()

    def key_values(self, rows: Sequence[tuple[str, str, str]], *, headers: Sequence[str]) -> None:
        self.table(headers, rows)

    @contextmanager
    def progress(self, message: str) -> Iterator[Progress]:
        """A spinner on stderr while the block runs (only when stderr is a terminal)."""
        if self.json_mode or not self.stderr.isatty():
            yield Progress(None)
            return
        console = self._console(self.stderr)
        with console.status(message) as status:
            yield Progress(status)

    @contextmanager
    def transfer(self, description: str, total: int | None = None) -> Iterator[Any]:
        """A byte-transfer progress bar on stderr (rich; only when stderr is a terminal). Yields
        ``update(done, total)`` for :data:`livyd._webhdfs.ProgressCallback`."""
        if self.json_mode or not _isatty(self.stderr):
            yield lambda done, total=None: None
            return
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )
        from rich.progress import Progress as RichProgress

        bar = RichProgress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                           TransferSpeedColumn(), TimeRemainingColumn(), console=self._console(self.stderr),
                           transient=True)
        with bar:
            task = bar.add_task(description, total=total)

            def update(done: int, new_total: int | None = None) -> None:
                bar.update(task, completed=done, total=new_total if new_total is not None else total)

            yield update

    # ------------------------------------------------------------------ statement output

    def statement_output(
        self, data: Mapping[str, Any], *, session_id: int | str, statement_id: int,
    ) -> None:
        """Render a successful statement's mime bundle: image > table > JSON > text."""
        image = data.get("image/png")
        image_path = self._write_image(image, session_id, statement_id) if image else None
        if self.json_mode:
            payload: dict[str, Any] = {"status": "ok", "sessionId": session_id, "statementId": statement_id,
                                       "data": {k: v for k, v in data.items() if k != "image/png"}}
            if image_path is not None:
                payload["imagePath"] = str(image_path)
            self.json({**payload, **self.json_extra})
            return
        if image_path is not None:
            self.text(str(image_path))
            return
        table = data.get("application/vnd.livy.table.v1+json")
        if isinstance(table, Mapping):
            headers = [str(h.get("name", "")) if isinstance(h, Mapping) else str(h)
                       for h in table.get("headers", [])]
            self.table(headers, [list(row) for row in table.get("data", [])])
            return
        if "application/json" in data:
            value = data["application/json"]
            fields = _sql_fields(value)
            if fields is not None:  # a SQL result: {"schema": StructType, "data": rows}
                self.table(fields, [list(row) for row in value.get("data", [])])
            else:
                self.json(value)
            return
        text = data.get("text/plain")
        if text is not None and str(text) != "":
            self.text(str(text))

    def _write_image(self, b64: Any, session_id: int | str, statement_id: int) -> Path:
        """Write the PNG to a new file (0600) and return its path.

        Without an image_dir, a private directory of this run (``mkdtemp``: 0700, unpredictable)
        is made on first use, never a shared fixed one. The file is created with
        ``O_CREAT | O_EXCL | O_NOFOLLOW``: an existing file or a planted symlink is never written
        through; the next free name (``...-1.png``) is used instead.
        """
        raw = b64 if isinstance(b64, str) else str(b64)
        content = base64.b64decode("".join(raw.split()))
        if self.image_dir is None:
            self.image_dir = Path(tempfile.mkdtemp(prefix="livyd-images-"))
        stem = f"session-{session_id}-statement-{statement_id}"
        flags = (os.O_WRONLY | os.O_CREAT | os.O_EXCL
                 | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0))
        for n in range(1000):
            path = self.image_dir / (f"{stem}.png" if n == 0 else f"{stem}-{n}.png")
            try:
                fd = os.open(path, flags, 0o600)
            except FileExistsError:
                continue
            with os.fdopen(fd, "wb") as fh:
                fh.write(content)
            return path.resolve()
        raise FileExistsError(f"no free file name for {stem}.png in {self.image_dir}")

    def statement_error(
        self, *, ename: str, evalue: str, traceback: Sequence[str], session_id: int | str | None,
        statement_id: int | None,
    ) -> None:
        """The code raised: the traceback then ``ename: evalue`` on stderr (and a JSON result in --json)."""
        if self.json_mode:
            self.json({"status": "error", "sessionId": session_id, "statementId": statement_id,
                       "ename": ename, "evalue": evalue, "traceback": list(traceback), **self.json_extra})
        tb = "".join(line if line.endswith("\n") else line + "\n" for line in traceback)
        if tb:
            self.stderr.write(tb)
        summary = f"{ename}: {evalue}"
        if not traceback or traceback[-1].strip() != summary.strip():  # Livy's usually ends with it
            self.stderr.write(summary + "\n")
        self.stderr.flush()
