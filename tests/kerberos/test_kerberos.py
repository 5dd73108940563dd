"""Kerberos (SPNEGO) against a real MIT KDC and a real Apache + mod_auth_gssapi gateway.

Everything here is real: k5test's krb5kdc issues the tickets, Apache's mod_auth_gssapi accepts
them, and the gateway proxies to a real ``livyd sandbox`` subprocess (and a header-echo backend
for what only headers can show, e.g. the authenticated user the gateway forwards). The client side
is livyd's own :func:`livyd._auth.build_auth` (GSS steps in worker threads), driven by httpx
directly for the low-level checks and by ``livyd.LivyClient`` for the end-to-end ones.

Fixtures live in ``conftest.py`` (session-scoped realm and gateway); see its docstring.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
import structlog
from conftest import Gateway, Realm
from krb_support import has_module, require

from livyd._auth import AuthConfig, build_auth, describe_auth
from livyd._exceptions import AuthenticationError, ConfigError

pytestmark = [pytest.mark.kerberos, pytest.mark.apache, pytest.mark.anyio]

USER = "user@KRBTEST.COM"
REPO = str(Path(__file__).resolve().parents[2])


def kerberos(**kwargs: Any) -> AuthConfig:
    return AuthConfig(type="kerberos", **kwargs)


async def echo(url: str, cfg: AuthConfig, path: str = "/_echo/whoami", **kw: Any) -> httpx.Response:
    async with httpx.AsyncClient(auth=build_auth(cfg, url=url), timeout=10) as client:
        return await client.get(url + path, **kw)


def require_client() -> Any:
    """``livyd.LivyClient`` (a colleague's module); the Livy end-to-end tests need it and the sandbox."""
    require(has_module("livyd._client"), "livyd._client (LivyClient) in this checkout")
    import livyd

    return livyd.LivyClient


def require_sandbox(gateway: Gateway) -> None:
    """The sandbox must run behind the gateway: missing module -> skip locally; a crash -> failure."""
    require(has_module("livyd.sandbox.__main__"), "livyd.sandbox in this checkout")
    if gateway.sandbox is None:
        pytest.fail(f"the sandbox behind the gateway did not start: {gateway.slot.problem}")


# --------------------------------------------------------------------------- raw SPNEGO


async def test_ticket_from_kinit_passes_the_gateway(spnego_gateway: Gateway, fresh_ticket: Realm) -> None:
    response = await echo(spnego_gateway.plain_url, kerberos())
    assert response.status_code == 200
    seen = response.json()["headers"]
    assert seen["x-remote-user"] == USER
    assert response.history and response.history[0].status_code == 401  # challenged, then accepted


async def test_no_ticket_is_an_authentication_error_that_says_kinit(
    spnego_gateway: Gateway, no_ticket: Path
) -> None:
    with pytest.raises(AuthenticationError) as info:
        await echo(spnego_gateway.plain_url, kerberos())
    message = str(info.value)
    assert "kinit" in message
    assert "No Kerberos credentials available" in message or "not found" in message, message
    assert spnego_gateway.plain_url in message
    assert info.value.status == 401
    assert "Negotiate" not in message


async def test_keytab_login_without_kinit(spnego_gateway: Gateway, krb_realm: Realm, no_ticket: Path) -> None:
    cfg = kerberos(principal=USER, keytab=krb_realm.user_keytab)
    response = await echo(spnego_gateway.plain_url, cfg)
    assert response.status_code == 200
    assert response.json()["headers"]["x-remote-user"] == USER
    assert not await anyio.Path(no_ticket).exists()  # nothing was written to the user's credential cache
    assert "as principal 'user@KRBTEST.COM' from keytab" in describe_auth(cfg)


async def test_keytab_without_the_users_key_names_the_keytab(
    spnego_gateway: Gateway, krb_realm: Realm, no_ticket: Path
) -> None:
    cfg = kerberos(principal="nobody@KRBTEST.COM", keytab=krb_realm.user_keytab)
    with pytest.raises(AuthenticationError) as info:
        await echo(spnego_gateway.plain_url, cfg)
    assert str(krb_realm.user_keytab) in str(info.value)


def test_missing_keytab_file_is_a_config_error(tmp_path: Path) -> None:
    require(has_module("httpx_gssapi"), "PyPI package httpx-gssapi")
    with pytest.raises(ConfigError, match=r"auth\.keytab: no such file"):
        build_auth(kerberos(principal=USER, keytab=tmp_path / "nope.keytab"), url="http://localhost:1")
    with pytest.raises(ConfigError, match=r"auth\.keytab is missing"):
        build_auth(kerberos(principal=USER), url="http://localhost:1")


async def test_delegation_reaches_the_gateway(spnego_gateway: Gateway, fresh_ticket: Realm) -> None:
    deleg = anyio.Path(spnego_gateway.deleg_dir / USER)
    await deleg.unlink(missing_ok=True)
    response = await echo(spnego_gateway.plain_url, kerberos(delegate=True))
    assert response.status_code == 200
    assert await deleg.exists()
    klist = await anyio.run_process(["klist", "-f", "-c", f"FILE:{deleg}"], check=False,
                                    env={"KRB5_CONFIG": str(fresh_ticket.krb5_conf), "PATH": "/usr/bin:/bin"})
    out = klist.stdout.decode()
    assert "krbtgt/KRBTEST.COM@KRBTEST.COM" in out, out + klist.stderr.decode()
    assert "Flags: F" in out  # a forwarded TGT


async def test_no_delegation_by_default(spnego_gateway: Gateway, fresh_ticket: Realm) -> None:
    deleg = anyio.Path(spnego_gateway.deleg_dir / USER)
    await deleg.unlink(missing_ok=True)
    response = await echo(spnego_gateway.plain_url, kerberos())
    assert response.status_code == 200
    assert not await deleg.exists()


@pytest.mark.parametrize("mutual", ["required", "optional"])
async def test_mutual_authentication(spnego_gateway: Gateway, fresh_ticket: Realm, mutual: str) -> None:
    response = await echo(spnego_gateway.plain_url, kerberos(mutual=mutual))
    assert response.status_code == 200
    assert response.json()["headers"]["x-remote-user"] == USER
    assert "negotiate" in response.headers.get("www-authenticate", "").lower()  # the server's token


async def test_target_name_override_for_an_ip_address(spnego_gateway: Gateway, fresh_ticket: Realm) -> None:
    ip_url = f"http://127.0.0.1:{spnego_gateway.plain_port}"
    with pytest.raises(AuthenticationError) as info:
        await echo(ip_url, kerberos())
    assert "target_name" in str(info.value)  # HTTP/127.0.0.1 is not in the KDC: the hint says what to set
    for target in ("HTTP@localhost", "HTTP/localhost@KRBTEST.COM"):
        response = await echo(ip_url, kerberos(target_name=target))
        assert response.status_code == 200
        assert response.json()["headers"]["x-remote-user"] == USER


async def test_gss_steps_run_in_a_worker_thread(spnego_gateway: Gateway, fresh_ticket: Realm) -> None:
    auth: Any = build_auth(kerberos(mutual="required"), url=spnego_gateway.plain_url)
    loop_thread = threading.get_ident()
    async with httpx.AsyncClient(auth=auth, timeout=10) as client:
        for _ in range(3):
            assert (await client.get(spnego_gateway.plain_url + "/_echo/x")).status_code == 200
    # three negotiations: a context step each, plus the mutual check of each response
    assert len(auth.step_threads) == 6
    assert loop_thread not in auth.step_threads


async def test_event_loop_stays_responsive_while_a_gss_step_blocks(
    spnego_gateway: Gateway, fresh_ticket: Realm
) -> None:
    """Slow the GSS step down (a wrapper around the real one) and watch the loop keep ticking."""
    auth: Any = build_auth(kerberos(), url=spnego_gateway.plain_url)
    real_step = auth._step

    def slow_step(*args: Any) -> Any:
        time.sleep(0.3)  # stands in for a slow KDC round trip, inside the worker thread
        return real_step(*args)

    auth._step = slow_step
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await anyio.sleep(0.01)

    async with httpx.AsyncClient(auth=auth, timeout=10) as client, anyio.create_task_group() as tg:
        tg.start_soon(ticker)
        response = await client.get(spnego_gateway.plain_url + "/_echo/x")
        tg.cancel_scope.cancel()
    assert response.status_code == 200
    assert ticks >= 10, ticks


def test_sync_client_uses_the_same_flow(spnego_gateway: Gateway, fresh_ticket: Realm) -> None:
    auth: Any = build_auth(kerberos(), url=spnego_gateway.plain_url)
    with httpx.Client(auth=auth, timeout=10) as client:
        response = client.post(spnego_gateway.plain_url + "/_echo/post", json={"code": "1 + 1"})
    assert response.status_code == 200
    assert response.json()["body_length"] == len(b'{"code":"1 + 1"}')  # body re-sent after the 401


async def test_no_token_in_logs_even_at_debug(
    spnego_gateway: Gateway, fresh_ticket: Realm, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="httpx_gssapi")  # force it on: the redaction must hold
    with structlog.testing.capture_logs() as captured:
        # A real token exchange, plus a mutual-auth step (httpx-gssapi logs the server token there)
        response = await echo(spnego_gateway.plain_url, kerberos(mutual="required", delegate=True))
        assert response.status_code == 200
        # httpx-gssapi's own code path, which logs the header at DEBUG, through our filter
        import httpx_gssapi.gssapi_ as g

        g.log.debug("Authorization header: %s", "Negotiate YIIC0000abcd==")
        g.log.debug("add_request_header(): Authorization header: %s", "Negotiate YIIabcdefgh")
        # and a failure
        with pytest.raises(AuthenticationError):
            await echo(f"http://127.0.0.1:{spnego_gateway.plain_port}", kerberos())
    token = response.request.headers["Authorization"].split()[1]
    text = caplog.text + "\n".join(str(r) for r in captured)
    assert token[:20] not in text
    assert "YIIC0000abcd" not in text and "YIIabcdefgh" not in text
    assert "Negotiate <redacted>" in caplog.text
    assert captured, "the failure is logged through structlog"


async def test_gateway_cookie_spares_the_negotiation(spnego_gateway: Gateway, fresh_ticket: Realm) -> None:
    """mod_auth_gssapi sessions: one 401 + Negotiate, then the cookie alone for later requests."""
    marker = f"/_echo/cookie-{time.monotonic_ns()}"
    auth: Any = build_auth(kerberos(), url=spnego_gateway.url)
    async with httpx.AsyncClient(auth=auth, timeout=10) as client:
        for _ in range(4):
            response = await client.get(spnego_gateway.url + marker)
            assert response.status_code == 200
            assert response.json()["headers"]["x-remote-user"] == USER
        assert "gssapi_session" in client.cookies
    rows = spnego_gateway.wait_logged(lambda rs: sum(r.get("path") == marker for r in rs) >= 5)
    mine = [r for r in rows if r.get("path") == marker]
    assert [r["status"] for r in mine] == ["401", "200", "200", "200", "200"], mine
    assert [r["negotiate"] for r in mine] == ["-", "yes", "-", "-", "-"], mine
    assert [r["cookie"] for r in mine] == ["-", "-", "yes", "yes", "yes"], mine
    assert len(auth.step_threads) == 1  # one GSS step for four requests


async def test_without_cookies_every_request_negotiates(spnego_gateway: Gateway, fresh_ticket: Realm) -> None:
    marker = f"/_echo/plain-{time.monotonic_ns()}"
    async with httpx.AsyncClient(auth=build_auth(kerberos(), url=spnego_gateway.plain_url)) as client:
        for _ in range(2):
            assert (await client.get(spnego_gateway.plain_url + marker)).status_code == 200
    rows = spnego_gateway.wait_logged(lambda rs: sum(r.get("path") == marker for r in rs) >= 4)
    assert [r["status"] for r in rows if r.get("path") == marker] == ["401", "200", "401", "200"]


async def test_opportunistic_sends_the_token_first(spnego_gateway: Gateway, fresh_ticket: Realm) -> None:
    marker = f"/_echo/opp-{time.monotonic_ns()}"
    response = await echo(spnego_gateway.plain_url, kerberos(opportunistic=True), path=marker)
    assert response.status_code == 200 and not response.history
    rows = spnego_gateway.wait_logged(lambda rs: any(r.get("path") == marker for r in rs))
    assert [(r["status"], r["negotiate"]) for r in rows if r.get("path") == marker] == [("200", "yes")]


# --------------------------------------------------------------------------- Livy through the gateway


async def _roundtrip(url: str, cfg: AuthConfig) -> tuple[str, Any]:
    LivyClient = require_client()
    async with LivyClient(url, auth=build_auth(cfg, url=url), auth_description=describe_auth(cfg),
                          timeout=20) as client:
        version = await client.version()
        session = await client.create_session(kind="pyspark")
        try:
            await client.wait_session_ready(session.id, timeout=60)
            statement = await client.run_statement(session.id, "21 * 2", timeout=60)
            text = statement.output.text if statement.output is not None else None
            assert text == "42", statement
        finally:
            await client.delete_session(session.id)
        return str(version), client.statistics()


async def test_livy_session_and_statement_through_the_gateway(
    spnego_gateway: Gateway, fresh_ticket: Realm
) -> None:
    require_sandbox(spnego_gateway)
    await _roundtrip(spnego_gateway.url, kerberos())
    rows = spnego_gateway.access_log()
    assert any(r.get("path") == "/sessions" and r.get("method") == "POST" and r.get("status") == "201"
               and r.get("user") == USER for r in rows), rows[-10:]


async def test_livy_with_keytab_login_and_the_every_request_gateway(
    spnego_gateway: Gateway, krb_realm: Realm, no_ticket: Path
) -> None:
    require_sandbox(spnego_gateway)
    cfg = kerberos(principal=USER, keytab=krb_realm.user_keytab, mutual="required", delegate=True)
    await _roundtrip(spnego_gateway.plain_url, cfg)


async def test_livy_without_a_ticket_says_kinit(spnego_gateway: Gateway, no_ticket: Path) -> None:
    require_sandbox(spnego_gateway)
    LivyClient = require_client()
    cfg = kerberos()
    async with LivyClient(spnego_gateway.url, auth=build_auth(cfg, url=spnego_gateway.url),
                          auth_description=describe_auth(cfg)) as client:
        with pytest.raises(AuthenticationError) as info:
            await client.create_session(kind="pyspark")
    assert "kinit" in str(info.value) and spnego_gateway.url in str(info.value)
    assert info.value.status == 401


async def test_livy_client_keeps_the_gateway_cookie(spnego_gateway: Gateway, fresh_ticket: Realm) -> None:
    """Many Livy requests, one negotiation: the client's cookie jar carries the gateway's session."""
    require_sandbox(spnego_gateway)
    LivyClient = require_client()
    cfg = kerberos()
    auth: Any = build_auth(cfg, url=spnego_gateway.url)
    before = len(spnego_gateway.access_log())
    async with LivyClient(spnego_gateway.url, auth=auth, auth_description=describe_auth(cfg)) as client:
        for _ in range(5):
            await client.version()
            await client.list_sessions()
    rows = spnego_gateway.wait_logged(
        lambda rs: sum(r.get("path") == "/sessions" for r in rs[before:]) >= 5)[before:]
    assert sum(r.get("path") == "/sessions" and r["status"] == "200" for r in rows) == 5, rows
    assert [r["status"] for r in rows].count("401") == 1, rows
    assert [r["negotiate"] for r in rows].count("yes") == 1, rows
    assert len(auth.step_threads) == 1


async def test_webhdfs_through_the_gateway(spnego_gateway: Gateway, fresh_ticket: Realm) -> None:
    require_sandbox(spnego_gateway)
    url = spnego_gateway.webhdfs_url()
    async with httpx.AsyncClient(auth=build_auth(kerberos(), url=url), timeout=10) as client:
        response = await client.get(url + "/", params={"op": "GETHOMEDIRECTORY"})
    assert response.status_code == 200, response.text
    assert "Path" in response.json()


def test_gss_steps_off_the_loop_under_trio_too(spnego_gateway: Gateway, fresh_ticket: Realm) -> None:
    """The async flow only uses anyio, so it works (and stays off the loop) on trio as well."""
    require(has_module("trio"), "PyPI package trio")
    auth: Any = build_auth(kerberos(mutual="required"), url=spnego_gateway.plain_url)

    async def main() -> tuple[int, int]:
        async with httpx.AsyncClient(auth=auth, timeout=10) as client:
            response = await client.get(spnego_gateway.plain_url + "/_echo/trio")
        return response.status_code, threading.get_ident()

    status, loop_thread = anyio.run(main, backend="trio")
    assert status == 200
    assert auth.step_threads and loop_thread not in auth.step_threads


# --------------------------------------------------------------------------- from a profile, and the CLI


def _profile_file(tmp_path: Path, gateway: Gateway, auth_lines: str) -> Path:
    (tmp_path / "livyd.toml").write_text(
        'default_profile = "krb"\n\n[profiles.krb]\n'
        f'url = "{gateway.url}"\n\n[profiles.krb.auth]\n{auth_lines}\n'
    )
    return tmp_path


async def test_kerberos_profile_from_livyd_toml(
    spnego_gateway: Gateway, krb_realm: Realm, no_ticket: Path, tmp_path: Path
) -> None:
    """The path the CLI and daemon take: livyd.toml -> load_config -> build_livy_client -> the gateway."""
    require_sandbox(spnego_gateway)
    require_client()
    from livyd._config import load_config
    from livyd._connect import build_livy_client

    cwd = _profile_file(tmp_path, spnego_gateway,
                        f'type = "kerberos"\nprincipal = "{USER}"\nkeytab = "{krb_realm.user_keytab}"\n'
                        'mutual = "required"')
    resolved = load_config(cwd=cwd, env={}, user_config=False, use_dotenv=False)
    assert resolved.profile.auth.type == "kerberos" and resolved.profile.auth.mutual == "required"
    async with build_livy_client(resolved) as client:
        sessions = await client.list_sessions()
    assert sessions is not None


async def test_cli_exec_through_the_gateway(
    spnego_gateway: Gateway, fresh_ticket: Realm, tmp_path: Path
) -> None:
    """``livyd exec`` as a subprocess, with the ticket from kinit, through the SPNEGO gateway."""
    require_sandbox(spnego_gateway)
    require(has_module("livyd.cli"), "livyd.cli in this checkout")
    import os
    import sys

    cwd = _profile_file(tmp_path, spnego_gateway, 'type = "kerberos"')
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LIVY", "LIVYD_"))}
    env["PYTHONPATH"] = REPO
    result = await anyio.run_process([sys.executable, "-m", "livyd", "exec", "6 * 7"], cwd=cwd, env=env,
                                     check=False)
    out, err = result.stdout.decode(), result.stderr.decode()
    assert result.returncode == 0, err
    assert out.strip() == "42"
    assert "Negotiate " not in err
