"""Conformance: pylivy (PyPI ``livy`` 0.8.0, a Livy client nobody here wrote) against the sandbox.

pylivy calls ``GET /version`` first, insists on 201s, parses every body as JSON and polls
sessions, statements and batches its own way (livy-rest.md 17.1). If the sandbox drifts from
real Livy in any of that, these tests fail.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from support import SandboxProcess

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


def test_pylivy_batch_is_followed_to_success(sandbox_factory: Callable[..., SandboxProcess],
                                             tmp_path: Path) -> None:
    """On the python-launcher sandbox of test_livy_batches.py (spark-submit is covered there)."""
    from livy import LivyBatch, SessionState

    sandbox = sandbox_factory("--batch-launcher", "python", "--cancel-timeout", "3")
    script = tmp_path / "pylivy_batch.py"
    script.write_text("import sys\nprint('batch args', *sys.argv[1:], flush=True)\n")
    batch = LivyBatch.create(sandbox.livy_url, file=str(script), args=["x", "y"], name="pylivy-batch")
    final = batch.wait()
    assert final == SessionState.SUCCESS
    assert "batch args x y" in batch.log()
    batch.kill()


# download_sql (a Spark-backed sql session) lives in test_livy_spark.py, sharing that module's JVM.
