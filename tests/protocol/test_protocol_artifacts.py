"""The protocol artifacts are generated from the models, and the golden examples mean what they say."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from livyd.protocol import METHODS, PROTOCOL_VERSION, ExecuteParams, method
from livyd.protocol._generate import render_all

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "protocol" / "examples").glob("*.json"))


def test_generated_files_are_up_to_date() -> None:
    """Regenerating in memory gives exactly the committed files (run `python -m livyd.protocol`)."""
    files = render_all()
    stale = [
        rel
        for rel, content in files.items()
        if not (ROOT / rel).exists() or (ROOT / rel).read_text(encoding="utf-8") != content
    ]
    extra = [str(p.relative_to(ROOT)) for p in EXAMPLES if str(p.relative_to(ROOT)) not in files]
    assert not stale and not extra, f"stale: {stale}, not generated: {extra}; run python -m livyd.protocol"


def test_staleness_check_notices_a_change(tmp_path: Path) -> None:
    """The --check mode fails on a hand edit (so the test above can fail)."""
    from livyd.protocol.__main__ import main

    assert main(["--root", str(tmp_path)]) == 0
    assert main(["--root", str(tmp_path), "--check"]) == 0
    ts = tmp_path / "editor-clients/vscode/src/protocol.generated.ts"
    ts.write_text(ts.read_text() + "// hand edit\n")
    assert main(["--root", str(tmp_path), "--check"]) == 1


def test_there_are_valid_and_invalid_examples() -> None:
    kinds = {(json.loads(p.read_text())["valid"]) for p in EXAMPLES}
    assert kinds == {True, False}
    assert len(EXAMPLES) >= 2 * len(METHODS)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_golden_example(path: Path) -> None:
    """Each golden example is a well-formed JSON-RPC message whose payload validates iff it says so."""
    ex = json.loads(path.read_text())
    meth = method(ex["method"])
    assert meth is not None, ex["method"]
    msg: dict[str, Any] = ex["message"]
    assert msg["jsonrpc"] == "2.0"
    if ex["part"] == "params":
        assert msg["method"] == meth.name
        assert ("id" in msg) == (meth.kind == "request")
        model, payload = meth.params, msg["params"]
    else:
        assert meth.result is not None
        model, payload = meth.result, msg["result"]
    if ex["valid"]:
        parsed = model.model_validate(payload)
        # Round trip: what the daemon would send back is the same JSON.
        again = parsed.model_dump(mode="json", by_alias=True, exclude_unset=True)
        assert model.model_validate(again) == parsed
    else:
        with pytest.raises(ValidationError):
            model.model_validate(payload)


def test_invalid_params_name_the_field_path() -> None:
    with pytest.raises(ValidationError) as info:
        bad_range = {"start": {"line": -1, "character": 0}, "end": {"line": 0, "character": 0}}
        ExecuteParams.model_validate({"code": "1", "range": bad_range})
    assert info.value.errors()[0]["loc"] == ("range", "start", "line")


def test_schema_and_method_table_agree() -> None:
    schema = json.loads((ROOT / "protocol/livyd.schema.json").read_text())
    table = json.loads((ROOT / "protocol/methods.json").read_text())
    assert table["protocolVersion"] == PROTOCOL_VERSION
    names = [row["method"] for row in table["methods"]]
    assert len(names) == len(set(names))
    for row in table["methods"]:
        for ref in (row["params"], row["result"]):
            if ref:
                assert ref.rsplit("/", 1)[-1] in schema["$defs"], ref
    required = {
        "livy/createSession",
        "livy/listSessions",
        "livy/attachSession",
        "livy/killSession",
        "livy/killAllSessions",
        "livy/sessionInfo",
        "livy/execute",
        "livy/cancel",
        "livy/listStatements",
        "livy/readLog",
        "livy/followLog",
        "livy/unfollowLog",
        "livy/submitBatch",
        "livy/listBatches",
        "livy/batchInfo",
        "livy/killBatch",
        "livy/readBatchLog",
        "livy/listProfiles",
        "livy/selectProfile",
        "livy/setCredentials",
        "livy/restartSession",
        "livy/status",
        "livy/sessionChanged",
        "livy/taskChanged",
        "livy/output",
        "livy/log",
        "livy/batchChanged",
    }
    assert required <= set(names)


def test_set_credentials_secret_fields_are_write_only() -> None:
    schema = json.loads((ROOT / "protocol/livyd.schema.json").read_text())
    props = schema["$defs"]["SetCredentialsParams"]["properties"]
    assert props["password"]["writeOnly"] is True and props["token"]["writeOnly"] is True


def test_generated_files_carry_do_not_edit_headers() -> None:
    for rel in (
        "editor-clients/vscode/src/protocol.generated.ts",
        "editor-clients/nvim/lua/livy/protocol.lua",
        "protocol/README.md",
    ):
        head = (ROOT / rel).read_text().splitlines()[0]
        assert "DO NOT EDIT" in head and "python -m livyd.protocol" in head
