"""Expired Kerberos tickets, for real: the overnight-expiry complaint of every edge node.

The KDC (k5test, see ``conftest.py``) issues tickets that live one or two seconds: ``kinit -l``
for the credential cache, and a principal whose maximum ticket life is one second for keytab
login. Each test waits for the ticket's own expiry, never on a guessed sleep: for the cache until
GSS itself refuses the ticket, for the keytab until the clock is past the credential's end time
(whole seconds, as Kerberos counts).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from conftest import Gateway, Realm
from krb_support import has_module, require

from livyd._auth import (
    AuthConfig,
    _ccache_principal,
    _explain,
    _gss_detail,
    _parse_ccache_principal,
    build_auth,
    describe_auth,
)
from livyd._exceptions import AuthenticationError

pytestmark = [pytest.mark.kerberos, pytest.mark.apache, pytest.mark.anyio]

USER = "user@KRBTEST.COM"
SHORT = "shortlived@KRBTEST.COM"  # maximum ticket life: one second
REPO = str(Path(__file__).resolve().parents[2])
EXIT_SERVER = 3  # connection, authentication or server error (README, CLI reference)
DEADLINE = 10.0  # seconds; the tickets live one or two


def kerberos(**kwargs: Any) -> AuthConfig:
    return AuthConfig(type="kerberos", **kwargs)


def kinit(realm: Realm, ccache: Path, *flags: str) -> None:
    """kinit the user into *ccache* (k5test runs kinit with its own environment)."""
    saved = realm.k5.env["KRB5CCNAME"]
    realm.k5.env["KRB5CCNAME"] = f"FILE:{ccache}"
    try:
        realm.kinit(*flags)
    finally:
        realm.k5.env["KRB5CCNAME"] = saved


def ticket_end(creds: Any) -> int:
    """The credential's end time (epoch seconds) from its remaining lifetime (0 once expired)."""
    from gssapi.raw.exceptions import ExpiredCredentialsError

    try:
        remaining = int(creds.lifetime or 0)
    except ExpiredCredentialsError:
        remaining = 0
    return int(time.time()) + remaining


async def wait_past(end: int) -> None:
    """Wait until the clock is past *end* (whole seconds): a ticket ending then has expired."""
    await anyio.sleep(max(0.0, end + 1 - time.time()))


async def wait_until_cache_expired() -> None:
    """Wait until GSS itself refuses the default cache's ticket for the gateway as expired.

    GSS is the judge, not the local clock: it counts whole seconds and applies the KDC clock offset
    that kinit recorded in the cache. The check is the one livyd's step makes (SPNEGO, default
    credentials); it leaves a service ticket in the cache, as any earlier request would have."""
    import gssapi
    from gssapi.raw.misc import GSSError

    service = gssapi.Name("HTTP@localhost", gssapi.NameType.hostbased_service)
    spnego = gssapi.OID.from_int_seq("1.3.6.1.5.5.2")
    with anyio.fail_after(DEADLINE):
        while True:
            try:
                gssapi.SecurityContext(name=service, usage="initiate", mech=spnego).step()
            except GSSError as exc:
                assert "expired" in str(exc), exc
                return
            await anyio.sleep(0.05)


@pytest.fixture
def ccache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A per-test credential cache file, made the default (KRB5CCNAME); the test kinits into it."""
    path = tmp_path / "ccache"
    monkeypatch.setenv("KRB5CCNAME", f"FILE:{path}")
    return path


@pytest.fixture(scope="module")
def short_keytab(krb_realm: Realm) -> Iterator[Path]:
    """A keytab for a principal whose tickets live one second (the KDC caps them: -maxlife)."""
    keytab = Path(krb_realm.k5.tmpdir) / "shortlived.keytab"
    if not keytab.exists():
        krb_realm.k5.run_kadminl(f"addprinc -randkey -maxlife 1s {SHORT}")
        krb_realm.k5.extract_keytab(SHORT, str(keytab))
    yield keytab


def require_livy(gateway: Gateway) -> Any:
    require(has_module("livyd._client"), "livyd._client (LivyClient) in this checkout")
    require(has_module("livyd.sandbox.__main__"), "livyd.sandbox in this checkout")
    if gateway.sandbox is None:
        pytest.fail(f"the sandbox behind the gateway did not start: {gateway.slot.problem}")
    import livyd

    return livyd.LivyClient


def assert_says_expired_run_kinit(message: str, ccache: Path) -> None:
    assert f"the Kerberos ticket of {USER} has expired" in message, message
    assert f"run kinit {USER}" in message, message
    # GSS's own words, and nothing about the ticket or the exchange beyond that
    assert "(Ticket expired)" in message or "(The referenced credential has expired)" in message, message
    assert "Negotiate" not in message and "Traceback" not in message, message
    assert str(ccache) not in message and "krbtgt" not in message, message


async def test_expired_ticket_says_so_and_the_same_client_works_after_kinit(
    spnego_gateway: Gateway, krb_realm: Realm, ccache: Path
) -> None:
    """LivyClient, every request negotiated: works, the ticket expires (a clear 401), kinit, works.

    (Through a gateway with session cookies the expired ticket is not even noticed until the
    gateway's session ends: mod_auth_gssapi, like Knox, lets it outlive the ticket.)"""
    LivyClient = require_livy(spnego_gateway)
    url = spnego_gateway.plain_url
    cfg = kerberos()
    auth: Any = build_auth(cfg, url=url)
    kinit(krb_realm, ccache, "-l", "2s")
    async with LivyClient(url, auth=auth, auth_description=describe_auth(cfg), timeout=10) as client:
        await client.list_sessions()  # negotiated with the short ticket
        await wait_until_cache_expired()
        with pytest.raises(AuthenticationError) as info:
            await client.list_sessions()
        error = info.value
        assert error.status == 401 and error.code == "auth"
        assert error.__cause__ is None and error.__suppress_context__  # no chained GSS traceback
        assert_says_expired_run_kinit(str(error), ccache)
        assert url in str(error)

        # GSS's other wording for it (major "credential has expired", minor "Success") reads the same
        import gssapi
        from gssapi.raw.misc import GSSError

        with pytest.raises(GSSError) as gss:
            gssapi.Credentials(usage="initiate").lifetime  # noqa: B018  (MIT resolves lazily)
        detail = _gss_detail(gss.value)
        assert detail == "The referenced credential has expired"
        assert_says_expired_run_kinit(_explain(detail, cfg, _ccache_principal()), ccache)

        kinit(krb_realm, ccache)  # a fresh ticket with the default lifetime, same cache
        steps = len(auth.step_threads)
        await client.list_sessions()  # the very same client object: a new context from the cache
        assert len(auth.step_threads) > steps


async def test_cli_exec_with_an_expired_ticket_exits_with_the_auth_error(
    spnego_gateway: Gateway, krb_realm: Realm, ccache: Path, tmp_path: Path
) -> None:
    """``livyd exec`` through the gateway: exit status 3 and the same one message, no traceback."""
    require_livy(spnego_gateway)
    require(has_module("livyd.cli"), "livyd.cli in this checkout")
    (tmp_path / "livyd.toml").write_text(
        f'default_profile = "krb"\n\n[profiles.krb]\nurl = "{spnego_gateway.url}"\n\n'
        '[profiles.krb.auth]\ntype = "kerberos"\n')
    kinit(krb_realm, ccache, "-l", "1s")
    await wait_until_cache_expired()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LIVY", "LIVYD_"))}
    env["PYTHONPATH"] = REPO
    result = await anyio.run_process([sys.executable, "-m", "livyd", "exec", "6 * 7"], cwd=tmp_path,
                                     env=env, check=False)
    out, err = result.stdout.decode(), result.stderr.decode()
    assert result.returncode == EXIT_SERVER, err
    assert out == ""
    error_lines = [line for line in err.splitlines() if line.startswith("livyd: error:")]
    assert err.splitlines() == error_lines and len(error_lines) == 1, err  # that line and nothing else
    assert_says_expired_run_kinit(error_lines[0], ccache)
    assert "Traceback" not in err and "Negotiate " not in err, err


async def test_keytab_login_acquires_a_new_ticket_after_each_expiry(
    spnego_gateway: Gateway, short_keytab: Path, no_ticket: Path
) -> None:
    """One auth object, three requests, the one-second TGT expiring before each of the last two.

    MIT refreshes keytab credentials by itself only once per 30 s, so without livyd's own check
    the third request fails with "Ticket expired"."""
    auth: Any = build_auth(kerberos(principal=SHORT, keytab=short_keytab), url=spnego_gateway.plain_url)
    async with httpx.AsyncClient(auth=auth, timeout=10) as client:
        for attempt in range(3):
            if attempt:
                await wait_past(ticket_end(auth.creds))
            response = await client.get(spnego_gateway.plain_url + "/_echo/keytab-expiry")
            assert response.status_code == 200
            assert response.json()["headers"]["x-remote-user"] == SHORT
    assert auth.keytab_logins >= 3
    assert not await anyio.Path(no_ticket).exists()  # still nothing written to the user's cache


def test_ccache_principal_parser_refuses_what_it_does_not_understand(krb_realm: Realm, ccache: Path) -> None:
    """The principal is read from a real FILE cache; anything else gives None, never an exception."""
    kinit(krb_realm, ccache)
    data = ccache.read_bytes()
    assert _parse_ccache_principal(data) == USER
    for broken in (b"", b"\x05", b"\x05\x04\x00\x0c", data[:20], b"\x04\x04" + data[2:], b"\xff" * 64):
        assert _parse_ccache_principal(broken) is None
