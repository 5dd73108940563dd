"""The renderer in-process: which mime type wins, and what --json prints (no server needed)."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

from livyd.cli._render import Renderer


def render(
    data: dict[str, object], *, json_mode: bool = False, image_dir: Path | None = None
) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    Renderer(json_mode=json_mode, stdout=out, stderr=err, image_dir=image_dir).statement_output(
        data, session_id=3, statement_id=7)
    return out.getvalue(), err.getvalue()


def test_text_is_printed_as_is() -> None:
    assert render({"text/plain": "a\n  b"}) == ("a\n  b\n", "")
    assert render({"text/plain": ""}) == ("", "")


def test_sql_result_is_a_table() -> None:
    out, _ = render({"application/json": {
        "schema": {"type": "struct", "fields": [{"name": "city", "type": "string", "nullable": True,
                                                 "metadata": {}}]},
        "data": [["Wien"], ["Graz"]]}})
    assert "city" in out and "Wien" in out and "Graz" in out
    assert "schema" not in out


def test_other_json_is_pretty_printed() -> None:
    out, _ = render({"application/json": {"schema": 1, "x": [1, 2]}})
    assert json.loads(out) == {"schema": 1, "x": [1, 2]}
    assert out.startswith("{\n  ")


def test_livy_table_is_rendered_with_headers() -> None:
    out, _ = render({"application/vnd.livy.table.v1+json": {
        "headers": [{"name": "n", "type": "INT_TYPE"}, {"name": "s", "type": "STRING_TYPE"}],
        "data": [[1, "one"], [2, None]]}})
    assert "n" in out and "one" in out and "None" not in out


def test_image_goes_to_a_file_and_json_mode_names_it(tmp_path: Path) -> None:
    png = b"\x89PNG\r\n\x1a\nbytes"
    data = {"image/png": base64.b64encode(png).decode(), "text/plain": ""}
    out, _ = render(data, image_dir=tmp_path)
    path = Path(out.strip())
    assert path == (tmp_path / "session-3-statement-7.png").resolve()
    assert path.read_bytes() == png
    assert path.stat().st_mode & 0o777 == 0o600
    out, _ = render(data, json_mode=True, image_dir=tmp_path)
    doc = json.loads(out)
    again = (tmp_path / "session-3-statement-7-1.png").resolve()  # never overwrites
    assert doc == {"status": "ok", "sessionId": 3, "statementId": 7, "data": {"text/plain": ""},
                   "imagePath": str(again)}
    assert path.read_bytes() == png and again.read_bytes() == png


def test_image_never_follows_a_planted_symlink(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    images = tmp_path / "images"
    images.mkdir()
    (images / "session-3-statement-7.png").symlink_to(victim)
    out, _ = render({"image/png": base64.b64encode(b"\x89PNG-x").decode()}, image_dir=images)
    assert victim.read_text() == "keep me"
    assert Path(out.strip()) == (images / "session-3-statement-7-1.png").resolve()


def test_default_image_dir_is_private_and_per_run() -> None:
    import stat

    data = {"image/png": base64.b64encode(b"\x89PNG-y").decode()}
    first, _ = render(data)
    second, _ = render(data)
    a, b = Path(first.strip()), Path(second.strip())
    try:
        assert a.parent != b.parent  # one directory per run, not a shared /tmp/livyd-images
        for path in (a, b):
            assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
            assert stat.S_IMODE(path.stat().st_mode) == 0o600
            assert path.read_bytes() == b"\x89PNG-y"
    finally:
        for path in (a, b):
            path.unlink()
            path.parent.rmdir()


def test_statement_error_goes_to_stderr() -> None:
    out, err = io.StringIO(), io.StringIO()
    Renderer(stdout=out, stderr=err).statement_error(
        ename="KeyError", evalue="'x'", traceback=["Traceback (most recent call last):\n", "KeyError: 'x'\n"],
        session_id=1, statement_id=2)
    assert out.getvalue() == ""
    assert err.getvalue() == "Traceback (most recent call last):\nKeyError: 'x'\n"  # not twice
    err.truncate(0)
    err.seek(0)
    Renderer(stdout=out, stderr=err).statement_error(
        ename="Error", evalue="incomplete statement", traceback=[], session_id=1, statement_id=2)
    assert err.getvalue() == "Error: incomplete statement\n"
