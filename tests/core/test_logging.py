"""Logging: stderr or a file, never stdout; secrets redacted in structlog and stdlib records."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from livyd._logging import redact, redact_text

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("text", "leak"),
    [
        ("Authorization: Negotiate YIIGhgYJKoZIhvcSAQICAQBuggZ1MIIGcaADAgEFoQMCAQ6iBwMFACAAAACjggS", "YIIG"),
        ("header authorization=Basic YWxpY2U6czNjcmV0", "YWxp"),
        ("using Bearer eyJhbGciOiJIUzI1NiJ9.e30.abc123", "eyJh"),
        ("GET https://alice:s3cret@knox:8443/gateway/x/livy/v1/sessions", "s3cret"),
        ("GET http://h/webhdfs/v1/x?op=OPEN&delegation=HAAEYWxpY2UF&user.name=bob", "HAAE"),
        ('Set-Cookie: hadoop.auth="u=alice&p=alice@EXAMPLE.COM&t=kerberos&s=xyz"', "t=kerberos"),
    ],
)
def test_redact_text(text: str, leak: str) -> None:
    assert leak not in redact_text(text)


def test_readable_words_survive() -> None:
    assert (
        redact_text("answered 401 to basic authentication as alice")
        == "answered 401 to basic authentication as alice"
    )


def test_redact_structures_by_key() -> None:
    data = {
        "headers": {"Authorization": "Negotiate abc", "X-Requested-By": "livyd", "Cookie": "KNOXSESSIONID=1"},
        "password": "pw",
        "token": "t",
        "user": "alice",
        "items": [{"secret": "s"}],
    }
    out = redact(data)
    assert out["headers"] == {"Authorization": "***", "X-Requested-By": "livyd", "Cookie": "***"}
    assert (
        out["password"] == out["token"] == "***"
        and out["user"] == "alice"
        and out["items"] == [{"secret": "***"}]
    )


SCRIPT = """
import logging, structlog, sys
from pathlib import Path
from livyd._logging import configure_logging
configure_logging({level!r}, file={file}, json=True)
log = structlog.get_logger("livyd.test")
log.warning("exchange", url="https://bob:pw1@h/x",
            headers={{"Authorization": "Basic Ym9iOnB3MQ=="}}, password="pw2")
structlog.get_logger("livyd.test").debug("debug-event")
logging.getLogger("httpx").info("HTTP Request: GET https://carol:pw3@h/ Authorization: Bearer abcdef123456")
logging.getLogger("httpx").debug("httpx-debug")
"""


def run_script(
    tmp_path: Path, level: str, to_file: bool, env_level: str | None = None
) -> tuple[str, str, str]:
    logfile = tmp_path / "livyd.log"
    code = SCRIPT.format(level=level, file=f"Path({str(logfile)!r})" if to_file else "None")
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
    if env_level:
        env["LIVYD_LOG_LEVEL"] = env_level
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    return proc.stdout, proc.stderr, logfile.read_text() if to_file else ""


def test_nothing_reaches_stdout_and_secrets_are_masked(tmp_path: Path) -> None:
    stdout, stderr, _ = run_script(tmp_path, "info", to_file=False)
    assert stdout == ""
    assert "exchange" in stderr and "HTTP Request" in stderr
    for secret in ("pw1", "pw2", "pw3", "Ym9iOnB3MQ", "abcdef123456"):
        assert secret not in stderr, secret
    assert "debug-event" not in stderr and "httpx-debug" not in stderr


def test_file_gets_json_lines_and_debug_traces(tmp_path: Path) -> None:
    stdout, stderr, text = run_script(tmp_path, "warning", to_file=True, env_level="debug")
    assert stdout == "" and stderr == ""
    records = [json.loads(line) for line in text.splitlines() if line.strip()]
    events = [r["event"] for r in records]
    assert "exchange" in events and "debug-event" in events and "httpx-debug" in events
    assert all("level" in r and "timestamp" in r for r in records)
    assert "pw1" not in text and "pw3" not in text and "Ym9iOnB3MQ" not in text


def test_unconfigured_library_never_prints_to_stdout() -> None:
    code = ("import livyd, structlog; assert not structlog.is_configured(); "
            "livyd.LivyClient('https://h:8443', verify=False); "
            "from livyd._logging import get_logger; get_logger('livyd.x').debug('noise', token='t0ken')")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)})
    assert proc.stdout == ""
    assert "DISABLED" in proc.stderr and "noise" not in proc.stderr and "t0ken" not in proc.stderr


def test_bad_level_names_the_variable(tmp_path: Path) -> None:
    from livyd._logging import configure_logging

    with pytest.raises(ValueError, match="LIVYD_LOG_LEVEL"):
        configure_logging("chatty")


def test_httpcore_header_tuples_are_redacted() -> None:
    """httpcore's trace lines show headers as tuple reprs; cookie and auth values are masked."""
    from livyd._core.redact import redact_text

    line = ("receive_response_headers.complete return_value=(b'HTTP/1.1', 401, b'Unauthorized', "
            "[(b'Set-Cookie', b'gssapi_session=SECRETVALUE123; Path=/'), "
            "(b'WWW-Authenticate', b'Negotiate oYGSMIGPoAMKAQA'), (b'Content-Length', b'12'), "
            "('authorization', 'Basic dXNlcjpwYXNzd29yZA==')])")
    out = redact_text(line)
    assert "SECRETVALUE123" not in out
    assert "oYGSMIGPoAMKAQA" not in out
    assert "dXNlcjpwYXNzd29yZA" not in out
    assert "(b'Content-Length', b'12')" in out
    assert "(b'Set-Cookie', b'***')" in out


def test_bad_level_variable_is_a_config_error_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from livyd._exceptions import ConfigError
    from livyd._logging import configure_logging

    monkeypatch.setenv("LIVYD_LOG_LEVEL", "verbose")
    expected = r"^LIVYD_LOG_LEVEL \(environment\): 'verbose' is not a log level"
    with pytest.raises(ConfigError, match=expected) as err:
        configure_logging("warning")
    assert "--log-level" not in str(err.value)
