"""The public API: sorted ``__all__``, names rewritten to ``livyd``, and a light import."""

from __future__ import annotations

import inspect
import subprocess
import sys

import livyd
import livyd._exceptions as exceptions_module


def test_all_is_sorted_and_complete() -> None:
    assert list(livyd.__all__) == sorted(livyd.__all__)
    for name in livyd.__all__:
        assert hasattr(livyd, name), name
    import types

    public = {n for n in dir(livyd) if not n.startswith("_")}
    # Subpackages (livyd.cli, livyd.sandbox, ...) become attributes once imported; they are not
    # library API.
    public = {n for n in public if not isinstance(getattr(livyd, n), types.ModuleType)}
    assert public - set(livyd.__all__) <= {"annotations"}


def test_every_exception_is_exported() -> None:
    for name in exceptions_module.__all__:
        obj = getattr(exceptions_module, name)
        if inspect.isclass(obj):
            assert name in livyd.__all__, name


def test_interface_names_exist() -> None:
    for name in (
        "Session",
        "SessionState",
        "SessionKind",
        "Statement",
        "StatementState",
        "StatementOutput",
        "Batch",
        "BatchState",
        "LogPage",
        "SessionList",
        "BatchList",
        "StatementList",
        "VersionInfo",
        "CreateSessionRequest",
        "CreateBatchRequest",
        "AppInfo",
        "LivyClient",
        "PollSettings",
        "configure_logging",
    ):
        assert name in livyd.__all__, name
    for method in (
        "version",
        "list_sessions",
        "iter_sessions",
        "create_session",
        "get_session",
        "session_state",
        "delete_session",
        "stop_session",
        "connect_session",
        "session_log",
        "list_statements",
        "get_statement",
        "submit_statement",
        "cancel_statement",
        "completion",
        "list_batches",
        "iter_batches",
        "create_batch",
        "get_batch",
        "batch_state",
        "delete_batch",
        "batch_log",
        "upload_jar",
        "upload_pyfile",
        "upload_file",
        "add_jar",
        "add_pyfile",
        "add_file",
        "wait_session_ready",
        "wait_statement",
        "run_statement",
        "wait_batch",
        "follow_session_log",
        "follow_batch_log",
        "statistics",
    ):
        assert callable(getattr(livyd.LivyClient, method)), method


def test_module_names_are_rewritten() -> None:
    for name in livyd.__all__:
        obj = getattr(livyd, name)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            assert obj.__module__ == "livyd", name
    assert repr(livyd.SessionState.IDLE).startswith("<SessionState.IDLE")


def test_import_is_light() -> None:
    code = (
        "import sys, livyd; heavy = [m for m in ('starlette', 'uvicorn', 'pygls', 'pyspark', "
        "'livyd.sandbox', 'livyd.daemon', 'livyd.cli') if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=str(__import__("pathlib").Path(livyd.__file__).parent.parent),
    )
    assert out.stdout.strip() == "[]"
