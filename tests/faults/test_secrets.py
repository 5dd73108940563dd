"""Secrets, end to end with debug logging (issue 11): each canary is first shown to reach the
server (the sandbox accepts the bearer token; the proxy in front of it saw the Authorization
header), then shown absent from every log, error and ``--json`` output, including tracebacks of
exceptions that carry it."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from livy_standin import Reply
from proxy import FaultProxy
from support import ROOT, SandboxProcess, start_sandbox

TOKEN = "tok-Zq81-canary-token"
PASSWORD = "pw-Hv27-canary-password"
USERINFO = "ui-Mn54-canary-userinfo"
BLOB = "YIIGhgYJKoZIhvcSAQICAQBuggZ1MIIGcaADAgEFoQMCAQ6iBwMFACAAAACjggSF"  # a Negotiate token's shape
CONF_SECRET = "s3-Wd93-canary-conf-secret"

CANARIES = (TOKEN, PASSWORD, USERINFO, BLOB, CONF_SECRET,
            base64.b64encode(f"alice:{PASSWORD}".encode()).decode(),
            base64.b64encode(f"alice:{USERINFO}".encode()).decode())


def assert_clean(*texts: str) -> None:
    for text in texts:
        for canary in CANARIES:
            assert canary not in text, f"a secret leaked: ...{text[max(0, text.find(canary) - 80):][:200]}..."


def env_for(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LIVY", "PROXY_USER", "AD_USER"))}
    (tmp_path / "home").mkdir(exist_ok=True)
    env.update(HOME=str(tmp_path / "home"), XDG_CONFIG_HOME=str(tmp_path / "home" / ".config"),
               PYTHONUNBUFFERED="1", LIVYD_LOG_LEVEL="debug",
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    env.update(extra)
    return env


def livyd(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "livyd", *args], cwd=tmp_path, env=env_for(tmp_path, **env),
                          capture_output=True, text=True, timeout=90)


@pytest.fixture(scope="module")
def token_sandbox() -> Iterator[SandboxProcess]:
    sb = start_sandbox(env={"LIVYD_SANDBOX_TOKEN": TOKEN})
    yield sb
    sb.stop()


def auth_headers(proxy: FaultProxy) -> list[str]:
    return [r.headers.get("authorization", "") for r in proxy.requests]


@pytest.mark.timeout(180)
def test_cli_bearer_token_and_basic_password(token_sandbox: SandboxProcess, sandbox: SandboxProcess,
                                             tmp_path: Path) -> None:
    with FaultProxy(token_sandbox.livy_url) as proxy:
        ok = livyd(tmp_path, "exec", "--json", "--verbose", "print(6 * 7)", LIVY_URL=proxy.url,
                   LIVY_AUTH="bearer", LIVY_TOKEN=TOKEN)
        assert ok.returncode == 0, ok.stderr[-2000:]  # the sandbox accepted the token: it arrived
        assert json.loads(ok.stdout)["data"]["text/plain"] == "42"
        assert f"Bearer {TOKEN}" in auth_headers(proxy)
        wrong = livyd(tmp_path, "sessions", "list", "--json", LIVY_URL=proxy.url, LIVY_AUTH="bearer",
                      LIVY_TOKEN=TOKEN[::-1])
        assert wrong.returncode == 3  # and without it the server refuses
    assert_clean(ok.stdout, ok.stderr, wrong.stdout, wrong.stderr)
    assert "http" in ok.stderr  # debug logging was on: every exchange was traced

    # a session whose Spark conf holds a credential: listed and shown with it masked
    created = httpx.post(f"{sandbox.livy_url}/sessions", headers={"X-Requested-By": "t"}, timeout=10, json={
        "kind": "pyspark", "conf": {"spark.hadoop.fs.s3a.secret.key": CONF_SECRET}}).json()
    try:
        with FaultProxy(sandbox.livy_url) as proxy:
            basic = livyd(tmp_path, "sessions", "list", "--json", "--verbose", LIVY_URL=proxy.url,
                          LIVY_AUTH="basic", LIVY_USER="alice", LIVY_PASSWORD=PASSWORD)
            assert basic.returncode == 0, basic.stderr[-2000:]
            assert f"Basic {base64.b64encode(f'alice:{PASSWORD}'.encode()).decode()}" in auth_headers(proxy)
            listed = {s["id"]: s for s in json.loads(basic.stdout)}
            assert listed[created["id"]]["conf"]["spark.hadoop.fs.s3a.secret.key"] == "***"
            info = livyd(tmp_path, "sessions", "info", str(created["id"]), LIVY_URL=proxy.url)
            assert info.returncode == 0 and "spark.hadoop.fs.s3a.secret.key" in info.stdout
    finally:
        httpx.delete(f"{sandbox.livy_url}/sessions/{created['id']}", headers={"X-Requested-By": "t"},
                     timeout=10)
    assert_clean(basic.stdout, basic.stderr, info.stdout, info.stderr)


@pytest.mark.timeout(120)
def test_cli_url_userinfo_and_a_negotiate_challenge(sandbox: SandboxProcess, tmp_path: Path) -> None:
    with FaultProxy(sandbox.livy_url) as proxy:
        host = proxy.url.split("://", 1)[1]
        doctor = livyd(tmp_path, "doctor", "--json", "--verbose", "--url", f"http://alice:{USERINFO}@{host}")
        assert doctor.returncode == 0, doctor.stderr[-2000:]
        assert f"Basic {base64.b64encode(f'alice:{USERINFO}'.encode()).decode()}" in auth_headers(proxy)
        report = json.loads(doctor.stdout)
        assert report["ok"] is True
        # a gateway answering with a Negotiate blob (mutual authentication's server token)
        proxy.add("GET", r"/sessions$", "status-before", status=401)
        proxy._standin.handler = _with_challenge(proxy._standin.handler)
        refused = livyd(tmp_path, "sessions", "list", "--json", "--verbose", "--url",
                        f"http://alice:{USERINFO}@{host}")
        assert refused.returncode == 3
    assert_clean(doctor.stdout, doctor.stderr, refused.stdout, refused.stderr)
    assert "alice:" not in doctor.stdout + doctor.stderr


def _with_challenge(handler):  # type: ignore[no-untyped-def]
    def wrapped(request):  # type: ignore[no-untyped-def]
        reply = handler(request)
        if isinstance(reply, Reply) and reply.status == 401:
            reply.headers["WWW-Authenticate"] = f"Negotiate {BLOB}"
            reply.body = f"<html><body>401: Negotiate {BLOB}</body></html>"
        return reply
    return wrapped


@pytest.mark.anyio
async def test_library_debug_log_with_tracebacks_that_carry_secrets(sandbox: SandboxProcess,
                                                                   tmp_path: Path) -> None:
    import structlog

    from livyd import LivyClient, LivydError, configure_logging

    log_file = tmp_path / "livyd.log"
    configure_logging("debug", file=log_file)
    log = structlog.get_logger("test")
    with FaultProxy(sandbox.livy_url) as proxy:
        host = proxy.url.split("://", 1)[1]
        async with LivyClient(f"http://alice:{USERINFO}@{host}") as client:
            await client.list_sessions()
            assert any(USERINFO in base64.b64decode(h.split()[1]).decode()
                       for h in auth_headers(proxy) if h.startswith("Basic "))
            errors: list[str] = [repr(client)]
            async with LivyClient(f"http://alice:{USERINFO}@127.0.0.1:9", retries=0) as dead:
                try:
                    await dead.get_session(0)
                except LivydError as exc:
                    errors.append(str(exc))
                    log.exception("request failed", url=f"http://alice:{USERINFO}@127.0.0.1:9")
    for carried in (f"GET http://alice:{USERINFO}@knox:8443/gateway/x/livy/v1",
                    f"headers: Authorization: Bearer {TOKEN}",
                    f"sent Authorization: Basic {base64.b64encode(f'alice:{PASSWORD}'.encode()).decode()}",
                    f"WWW-Authenticate: Negotiate {BLOB}"):
        try:
            raise RuntimeError(carried)
        except RuntimeError:
            log.exception("an exception that carries a secret", detail=carried)
    text = log_file.read_text()
    assert "Traceback" in text and "RuntimeError" in text  # the tracebacks were logged
    assert_clean(text, *errors)


@pytest.mark.timeout(120)
def test_a_slow_token_command_says_so_while_livyd_waits(token_sandbox: SandboxProcess,
                                                        tmp_path: Path) -> None:
    """A token command waiting for a browser login (or stuck) is named on stderr after a few
    seconds, in a sentence, instead of livyd seeming to hang; its token still works and stays out
    of every output."""
    helper = tmp_path / "get_token.py"
    helper.write_text(f"import time\ntime.sleep(3.5)\nprint({TOKEN!r})\n")
    (tmp_path / "livyd.toml").write_text(
        f"url = {json.dumps(token_sandbox.livy_url)}\n[auth]\ntype = \"bearer\"\n"
        f"token_command = {json.dumps(f'{sys.executable} {helper}')}\n")
    env = env_for(tmp_path)
    env.pop("LIVYD_LOG_LEVEL")
    proc = subprocess.run([sys.executable, "-m", "livyd", "sessions", "list", "--json"], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=90)
    assert proc.returncode == 0, proc.stderr
    assert "livyd: warning: waiting for auth.token_command" in proc.stderr
    assert "{" not in proc.stderr
    assert_clean(proc.stdout, proc.stderr)
