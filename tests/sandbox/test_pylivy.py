"""Conformance: pylivy (PyPI ``livy`` 0.8.0, a Livy client nobody here wrote) against the sandbox.

pylivy calls ``GET /version`` first, insists on 201s, parses every body as JSON and polls
sessions, statements and batches its own way (livy-rest.md 17.1). If the sandbox drifts from
real Livy in any of that, these tests fail.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import SandboxProcess, has_module, require

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_pylivy_session_runs_code_and_reads_results(sandbox: SandboxProcess) -> None:
    from livy import LivySession, SessionKind, SessionState

    with LivySession.create(sandbox.livy_url, kind=SessionKind.PYSPARK, name="pylivy-conformance",
                            echo=False) as session:
        assert session.state == SessionState.IDLE
        output = session.run("x = 20\nx * 2 + 2")
        assert output.status.value == "ok"
        assert output.text == "42"
        output = session.run("print('a')\nprint('b')")
        assert output.text == "a\nb"
        with pytest.raises(Exception, match="ZeroDivisionError"):
            session.run("1 / 0")
        # pylivy's own "check=False" path gives the error envelope back
    with LivySession.create(sandbox.livy_url, kind=SessionKind.PYSPARK, echo=False, check=False) as session:
        failed = session.run("1 / 0")
        assert failed.status.value == "error" and failed.ename == "ZeroDivisionError"
        assert failed.evalue == "division by zero"
    # close() deleted it: the name is free again
    with LivySession.create(sandbox.livy_url, name="pylivy-conformance", echo=False) as again:
        assert again.run("'again'").text == "'again'"


def test_pylivy_batch_is_followed_to_success(sandbox: SandboxProcess, tmp_path: Path) -> None:
    from livy import LivyBatch, SessionState

    script = tmp_path / "pylivy_batch.py"
    script.write_text("import sys\nprint('batch args', *sys.argv[1:], flush=True)\n")
    batch = LivyBatch.create(sandbox.livy_url, file=str(script), args=["x", "y"], name="pylivy-batch")
    final = batch.wait()
    assert final == SessionState.SUCCESS
    assert "batch args x y" in batch.log()
    batch.kill()


@pytest.mark.spark
def test_pylivy_download_sql(sandbox: SandboxProcess) -> None:
    """ONE Spark-backed (sql) session: a JVM costs seconds and ~400 MB."""
    require(has_module("pyspark"), "pyspark (pip install 'livyd[spark]')")
    from livy import LivySession, SessionKind

    with LivySession.create(sandbox.livy_url, kind=SessionKind.SQL, echo=False) as session:
        frame = session.download_sql("SELECT 1 AS n, 'a' AS s UNION ALL SELECT 2 AS n, 'b' AS s")
        assert list(frame.columns) == ["n", "s"]
        assert frame.values.tolist() == [[1, "a"], [2, "b"]]
