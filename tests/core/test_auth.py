"""Authentication without Kerberos: none, HTTP Basic, bearer tokens, and the missing-extra error.

Basic and bearer are exercised against a tiny real HTTP server on loopback that checks the
``Authorization`` header the way a gateway would (401 + ``WWW-Authenticate`` otherwise). The OS
keyring cannot be used here (no desktop keychain), so the keyring tests install an in-memory
keyring *backend* through keyring's public ``set_keyring`` API: a named fake for what cannot run
here. The terminal prompt is tested through a real pseudo-terminal. Kerberos itself is tested
against a real KDC and gateway in ``tests/kerberos/``.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import pty
import select
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import keyring
import keyring.backend
import keyring.errors
import pytest
from pydantic import SecretStr, ValidationError

from livyd import _auth
from livyd._auth import AuthConfig, auth_failure_hint, build_auth, describe_auth
from livyd._exceptions import ConfigError, MissingExtraError

ROOT = Path(__file__).resolve().parent.parent.parent
PASSWORD = "pw-Zq8-never-shown"
TOKEN = "tok-Jm3-never-shown"


# --------------------------------------------------------------------------- a tiny gateway


class _Gate(BaseHTTPRequestHandler):
    """Accepts ``Basic alice:PASSWORD`` or ``Bearer <any of server.tokens>``; else 401."""

    def do_GET(self) -> None:
        server: Any = self.server
        header = self.headers.get("Authorization", "")
        server.seen.append(header)
        ok_basic = "Basic " + base64.b64encode(f"alice:{PASSWORD}".encode()).decode()
        ok = header == ok_basic or (header.startswith("Bearer ") and header[7:] in server.tokens)
        body = json.dumps({"ok": ok}).encode()
        self.send_response(200 if ok else 401)
        if not ok:
            self.send_header("WWW-Authenticate", 'Basic realm="livy", Bearer')
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def gate() -> Iterator[Any]:
    server: Any = ThreadingHTTPServer(("127.0.0.1", 0), _Gate)
    server.daemon_threads = True
    server.seen = []
    server.tokens = {TOKEN}
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def get(url: str, auth: httpx.Auth | None) -> httpx.Response:
    with httpx.Client(auth=auth, timeout=10) as client:
        return client.get(url + "/version")


async def aget(url: str, auth: httpx.Auth | None) -> httpx.Response:
    async with httpx.AsyncClient(auth=auth, timeout=10) as client:
        return await client.get(url + "/version")


# --------------------------------------------------------------------------- config model


def test_config_defaults_and_validation() -> None:
    cfg = AuthConfig()
    assert cfg.type == "none" and cfg.mutual == "disabled" and not cfg.delegate
    assert AuthConfig(type="Kerberos").type == "kerberos"
    with pytest.raises(ValidationError, match="usernme"):
        AuthConfig(usernme="x")  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="type"):
        AuthConfig(type="ntlm")
    with pytest.raises(ValidationError, match="token_command"):
        AuthConfig(type="bearer", token_command="  ")
    with pytest.raises(ValidationError, match="token_command"):
        AuthConfig(type="bearer", token_command="get-token 'unterminated")
    with pytest.raises(ValidationError):
        cfg.type = "basic"  # type: ignore[misc]  # frozen
    assert PASSWORD not in repr(AuthConfig(type="basic", password=SecretStr(PASSWORD)))


def test_none_builds_nothing() -> None:
    assert build_auth(AuthConfig(), url="http://h:8998") is None
    assert describe_auth(AuthConfig()) == "no authentication"
    assert "auth.type" in auth_failure_hint(AuthConfig())


# --------------------------------------------------------------------------- basic


def test_basic_from_profile(gate: Any) -> None:
    cfg = AuthConfig(type="basic", username="alice", password=SecretStr(PASSWORD))
    assert get(gate.url, build_auth(cfg, url=gate.url, env={})).status_code == 200
    assert describe_auth(cfg) == "HTTP Basic as user 'alice'"


def test_basic_from_environment(gate: Any) -> None:
    cfg = AuthConfig(type="basic")
    env = {"LIVY_USER": "alice", "LIVY_PASSWORD": PASSWORD}
    assert get(gate.url, build_auth(cfg, url=gate.url, env=env)).status_code == 200
    assert describe_auth(cfg, env=env) == "HTTP Basic as user 'alice'"


def test_basic_wrong_password_is_a_401(gate: Any) -> None:
    cfg = AuthConfig(type="basic", username="alice", password=SecretStr("wrong"))
    assert get(gate.url, build_auth(cfg, url=gate.url, env={})).status_code == 401
    assert "LIVY_PASSWORD" in auth_failure_hint(cfg)


def test_basic_without_user_names_the_variable() -> None:
    with pytest.raises(ConfigError) as info:
        build_auth(AuthConfig(type="basic"), url="https://knox:8443/gateway/x/livy/v1", env={})
    assert "LIVY_USER" in str(info.value) and "auth.username" in str(info.value)
    assert "https://knox:8443/gateway/x/livy/v1" in str(info.value)
    assert info.value.key == "auth.username"


def test_basic_without_password_names_the_ways_to_give_one(no_keyring: None) -> None:
    with pytest.raises(ConfigError) as info:
        build_auth(AuthConfig(type="basic", username="alice"), url="https://alice:pw@knox:8443/x", env={})
    message = str(info.value)
    assert "LIVY_PASSWORD" in message and "keyring set livyd alice@knox" in message
    assert "pw" not in message.replace("password", "")  # the URL's user info is stripped


# --- keyring (an in-memory backend: the OS keychain cannot run here)


class MemoryKeyring(keyring.backend.KeyringBackend):
    """FAKE keyring backend (keyring's public backend API), for the OS keychain that cannot run here."""

    priority = 1

    def __init__(self, entries: dict[tuple[str, str], str] | None = None, fail: bool = False) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.entries = dict(entries or {})
        self.asked: list[tuple[str, str]] = []
        self.fail = fail

    def get_password(self, service: str, username: str) -> str | None:
        self.asked.append((service, username))
        if self.fail:
            raise keyring.errors.KeyringError("locked")
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.entries.pop((service, username), None)


@pytest.fixture
def keyring_backend() -> Iterator[Any]:
    before = keyring.get_keyring()

    def install(**kwargs: Any) -> MemoryKeyring:
        backend = MemoryKeyring(**kwargs)
        keyring.set_keyring(backend)
        return backend

    yield install
    keyring.set_keyring(before)


@pytest.fixture
def no_keyring(keyring_backend: Any) -> None:
    keyring_backend()


@pytest.mark.parametrize("key", ["alice@127.0.0.1", "127.0.0.1", "alice"])
def test_basic_password_from_keyring(gate: Any, keyring_backend: Any, key: str) -> None:
    ring = keyring_backend(entries={("livyd", key): PASSWORD})
    auth = build_auth(AuthConfig(type="basic", username="alice"), url=gate.url, env={})
    assert get(gate.url, auth).status_code == 200
    order = [("livyd", "alice@127.0.0.1"), ("livyd", "127.0.0.1"), ("livyd", "alice")]
    assert ring.asked == order[: order.index(("livyd", key)) + 1]


def test_keyring_service_is_configurable(gate: Any, keyring_backend: Any) -> None:
    keyring_backend(entries={("corp-livy", "alice"): PASSWORD})
    cfg = AuthConfig(type="basic", username="alice", keyring_service="corp-livy")
    assert get(gate.url, build_auth(cfg, url=gate.url, env={})).status_code == 200


def test_environment_beats_keyring(gate: Any, keyring_backend: Any) -> None:
    ring = keyring_backend(entries={("livyd", "alice"): "stale"})
    cfg = AuthConfig(type="basic", username="alice")
    auth = build_auth(cfg, url=gate.url, env={"LIVY_PASSWORD": PASSWORD})
    assert get(gate.url, auth).status_code == 200
    assert ring.asked == []


def test_broken_keyring_falls_through_to_a_clear_error(keyring_backend: Any) -> None:
    keyring_backend(fail=True)
    with pytest.raises(ConfigError, match="LIVY_PASSWORD"):
        build_auth(AuthConfig(type="basic", username="alice"), url="http://h:1", env={})


def test_no_prompt_without_a_terminal(no_keyring: None) -> None:
    # interactive=True but stdin is not a terminal under pytest: no prompt, a clear error instead
    with pytest.raises(ConfigError, match="LIVY_PASSWORD"):
        build_auth(AuthConfig(type="basic", username="alice"), url="http://h:1", env={}, interactive=True)


def test_prompt_on_a_terminal(tmp_path: Path) -> None:
    """A real pseudo-terminal: the user and password are asked on it, never echoed to stdout."""
    script = textwrap.dedent(f"""
        import sys, keyring, httpx
        keyring.set_keyring(keyring.backends.fail.Keyring())
        from livyd._auth import AuthConfig, build_auth
        auth = build_auth(AuthConfig(type="basic"), url="http://gw:8443", env={{}}, interactive=True)
        request = httpx.Request("GET", "http://gw:8443/version")
        request = next(auth.sync_auth_flow(request))
        open({str(tmp_path / "header")!r}, "w").write(request.headers["Authorization"])
    """)
    pid, fd = pty.fork()
    if pid == 0:  # child: the pty is its controlling terminal
        os.environ["PYTHONPATH"] = str(ROOT)
        os.execv(sys.executable, [sys.executable, "-c", "import keyring.backends.fail\n" + script])
    transcript = b""

    def expect(text: bytes, timeout: float = 20.0) -> None:
        nonlocal transcript
        deadline = time.monotonic() + timeout
        while text not in transcript:
            remaining = deadline - time.monotonic()
            assert remaining > 0, transcript
            ready, _, _ = select.select([fd], [], [], remaining)
            if ready:
                try:
                    chunk = os.read(fd, 1024)
                except OSError:
                    chunk = b""
                assert chunk, transcript
                transcript += chunk

    try:
        expect(b"User for http://gw:8443: ")
        os.write(fd, b"alice\n")
        expect(b"Password for alice at http://gw:8443: ")
        os.write(fd, PASSWORD.encode() + b"\n")
        _, status = os.waitpid(pid, 0)
        try:
            while select.select([fd], [], [], 0.2)[0]:
                chunk = os.read(fd, 1024)
                if not chunk:
                    break
                transcript += chunk
        except OSError:
            pass
    finally:
        os.close(fd)
    assert os.waitstatus_to_exitcode(status) == 0, transcript
    expected = "Basic " + base64.b64encode(f"alice:{PASSWORD}".encode()).decode()
    assert (tmp_path / "header").read_text() == expected
    assert PASSWORD.encode() not in transcript  # getpass does not echo


# --------------------------------------------------------------------------- bearer


def test_bearer_from_profile_and_environment(gate: Any) -> None:
    cfg = AuthConfig(type="bearer", token=SecretStr(TOKEN))
    assert get(gate.url, build_auth(cfg, url=gate.url, env={})).status_code == 200
    assert gate.seen[-1] == f"Bearer {TOKEN}"
    env_cfg = AuthConfig(type="bearer")
    assert get(gate.url, build_auth(env_cfg, url=gate.url, env={"LIVY_TOKEN": TOKEN})).status_code == 200
    assert describe_auth(env_cfg, env={"LIVY_TOKEN": TOKEN}) == "a bearer token from LIVY_TOKEN"
    assert TOKEN not in describe_auth(cfg)


def test_bearer_without_token_names_the_variable() -> None:
    with pytest.raises(ConfigError) as info:
        build_auth(AuthConfig(type="bearer"), url="http://h:1", env={})
    assert "LIVY_TOKEN" in str(info.value) and "auth.token_command" in str(info.value)


def _token_script(tmp_path: Path, body: str) -> str:
    script = tmp_path / "get_token.py"
    script.write_text(textwrap.dedent(body))
    return f"{sys.executable} {script} --secret-arg hunter2"


def test_bearer_token_command_runs_lazily_once(gate: Any, tmp_path: Path) -> None:
    counter = tmp_path / "count"
    command = _token_script(tmp_path, f"""
        import pathlib
        p = pathlib.Path({str(counter)!r}); n = int(p.read_text()) if p.exists() else 0
        p.write_text(str(n + 1)); print({TOKEN!r})
    """)
    cfg = AuthConfig(type="bearer", token_command=command)
    auth = build_auth(cfg, url=gate.url, env={})
    assert not counter.exists()  # lazily: not at build time
    with httpx.Client(auth=auth, timeout=10) as client:
        for _ in range(3):
            assert client.get(gate.url + "/version").status_code == 200
    assert counter.read_text() == "1"
    description = describe_auth(cfg, env={})
    assert sys.executable in description and "hunter2" not in description


@pytest.mark.anyio
async def test_bearer_token_command_refreshes_after_a_401(gate: Any, tmp_path: Path) -> None:
    """An expired token: the command runs again once, and the request is re-sent with the new one."""
    counter = tmp_path / "count"
    command = _token_script(tmp_path, f"""
        import pathlib
        p = pathlib.Path({str(counter)!r}); n = int(p.read_text()) if p.exists() else 0
        p.write_text(str(n + 1)); print("expired" if n == 0 else {TOKEN!r})
    """)
    auth = build_auth(AuthConfig(type="bearer", token_command=command), url=gate.url, env={})
    response = await aget(gate.url, auth)
    assert response.status_code == 200
    assert gate.seen == ["Bearer expired", f"Bearer {TOKEN}"]
    assert counter.read_text() == "2"


@pytest.mark.anyio
async def test_bearer_refused_token_from_command_stays_a_401(gate: Any, tmp_path: Path) -> None:
    command = _token_script(tmp_path, "print('always-wrong')")
    auth = build_auth(AuthConfig(type="bearer", token_command=command), url=gate.url, env={})
    assert (await aget(gate.url, auth)).status_code == 401
    assert gate.seen == ["Bearer always-wrong"]  # same token again: not re-sent


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("import sys; print('leaked-secret-output'); sys.exit(3)", "failed with exit status 3"),
        ("pass", "printed no token"),
        ("print('a'); print('leaked-secret-output')", "more than one line"),
    ],
)
async def test_bearer_token_command_failures(tmp_path: Path, body: str, expected: str, gate: Any) -> None:
    command = _token_script(tmp_path, body)
    auth = build_auth(AuthConfig(type="bearer", token_command=command), url=gate.url, env={})
    with pytest.raises(ConfigError) as info:
        await aget(gate.url, auth)
    message = str(info.value)
    assert expected in message and "auth.token_command" in message and sys.executable in message
    assert "leaked-secret-output" not in message and "hunter2" not in message
    assert gate.seen == []  # nothing was sent


def test_bearer_token_command_not_found(gate: Any) -> None:
    auth = build_auth(AuthConfig(type="bearer", token_command="no-such-livyd-token-helper --x"), url=gate.url,
                      env={})
    with pytest.raises(ConfigError, match="'no-such-livyd-token-helper' was not found"):
        get(gate.url, auth)


# --------------------------------------------------------------------------- kerberos without the extra


def test_kerberos_without_the_extra_names_it_and_the_system_packages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "httpx_gssapi", None)  # what an install without the extra looks like
    assert not _auth.kerberos_available()
    with pytest.raises(MissingExtraError) as info:
        build_auth(AuthConfig(type="kerberos"), url="http://h:8998")
    message = str(info.value)
    assert info.value.extra == "kerberos" and info.value.code == "missing-extra"
    assert "pip install 'livyd[kerberos]'" in message
    for package in ("libkrb5-dev", "krb5-user", "krb5-devel", "krb5-workstation", "Heimdal"):
        assert package in message


def test_kerberos_descriptions_and_hints() -> None:
    cfg = AuthConfig(type="kerberos")
    assert describe_auth(cfg) == "Kerberos (SPNEGO) as the ticket in the credential cache"
    assert "kinit" in auth_failure_hint(cfg)
    full = AuthConfig(type="kerberos", principal="svc@EX.COM", keytab=Path("/k/svc.keytab"), delegate=True,
                      mutual="required", target_name="HTTP@gw.ex.com")
    text = describe_auth(full)
    assert "svc@EX.COM" in text and "/k/svc.keytab" in text and "HTTP@gw.ex.com" in text
    assert "delegating" in text and "mutual authentication required" in text


# --------------------------------------------------------------------------- redaction of httpx-gssapi logs


def test_httpx_gssapi_records_are_redacted() -> None:
    record = logging.LogRecord("httpx_gssapi.gssapi_", logging.DEBUG, __file__, 1,
                               "add_request_header(): %sAuthorization header: %s",
                               ("", "Negotiate YIIGdzCCBnOgAw=="), None)
    assert _auth._FILTER.filter(record)
    assert record.getMessage() == "add_request_header(): Authorization header: Negotiate <redacted>"
    server = logging.LogRecord("httpx_gssapi.gssapi_", logging.DEBUG, __file__, 1,
                               "authenticate_server(): Authenticate header: %s",
                               (b"\x6f\x81\x8a0\x81\x87\xa0\x03",), None)
    _auth._FILTER.filter(server)
    assert "\\x81" not in server.getMessage() and "<redacted bytes>" in server.getMessage()
