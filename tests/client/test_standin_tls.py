"""TLS against a real TLS stand-in: verification on by default, a CA bundle, opting out, and a
client certificate. Certificates are made with the openssl command line for each test run."""

from __future__ import annotations

import importlib
import shutil
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog
from livy_standin import Reply, StandIn

from livyd import ConnectError, LivyClient, TransportError

VERSION = '{"version":"0.9.0-incubating"}'
# tests/conftest.py's require(): skips locally naming what is missing, fails under CI=true
require = importlib.import_module("conftest").require


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require(shutil.which("openssl"), "the openssl command (package openssl)")
    d = tmp_path_factory.mktemp("pki")
    _openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=livyd test CA",
        cwd=d,
    )
    (d / "san.ext").write_text("subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n")
    for name in ("server", "client"):
        _openssl(
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            f"{name}.key",
            "-out",
            f"{name}.csr",
            "-subj",
            f"/CN={name}",
            cwd=d,
        )
        _openssl(
            "x509",
            "-req",
            "-in",
            f"{name}.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            f"{name}.pem",
            "-days",
            "2",
            "-extfile",
            "san.ext",
            cwd=d,
        )
    return d


def _server_ctx(pki: Path, *, require_client_cert: bool = False) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(pki / "server.pem", pki / "server.key")
    if require_client_cert:
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(pki / "ca.pem")
    return ctx


@pytest.fixture
def tls_server(pki: Path) -> Iterator[StandIn]:
    with StandIn(lambda r: Reply(200, VERSION), tls=_server_ctx(pki)) as s:
        yield s


@pytest.mark.anyio
async def test_verification_is_on_by_default(tls_server: StandIn) -> None:
    async with LivyClient(tls_server.url, retries=0) as c:
        with pytest.raises(ConnectError, match="certificate verification failed"):
            await c.version()


@pytest.mark.anyio
async def test_ca_bundle(tls_server: StandIn, pki: Path) -> None:
    async with LivyClient(tls_server.url, verify=str(pki / "ca.pem")) as c:
        assert (await c.version()).version == "0.9.0-incubating"


@pytest.mark.anyio
async def test_opting_out_works_and_is_loud(tls_server: StandIn) -> None:
    from structlog.testing import capture_logs

    try:
        with capture_logs() as logs:
            async with LivyClient(tls_server.url, verify=False) as c:
                assert (await c.version()).version == "0.9.0-incubating"
    finally:
        structlog.reset_defaults()  # capture_logs leaves structlog "configured" (printing to stdout)
    assert any("DISABLED" in e["event"] for e in logs)


@pytest.mark.anyio
async def test_client_certificate(pki: Path) -> None:
    with StandIn(lambda r: Reply(200, VERSION), tls=_server_ctx(pki, require_client_cert=True)) as s:
        async with LivyClient(
            s.url, verify=str(pki / "ca.pem"), cert=(str(pki / "client.pem"), str(pki / "client.key"))
        ) as c:
            assert (await c.version()).version == "0.9.0-incubating"
        async with LivyClient(s.url, verify=str(pki / "ca.pem"), retries=0) as c:
            with pytest.raises(TransportError) as info:
                await c.version()
        # TLS 1.3: the refusal is an alert on the first read (mapped to ConnectError with a hint),
        # or, depending on timing, a reset connection (TransportError); never a raw ssl.SSLError
        if isinstance(info.value, ConnectError):
            assert "client certificate" in str(info.value)


@pytest.mark.anyio
async def test_system_trust_is_loaded_at_the_first_tls_connection(
    tls_server: StandIn, pki: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The default (verify=True) trusts the system store, like ssl.create_default_context(), but
    # reads it when a TLS connection first opens: a client for an http:// Livy never pays for it.
    # SSL_CERT_FILE set after the client was built is therefore still honoured.
    async with LivyClient(tls_server.url, retries=0) as c:
        monkeypatch.setenv("SSL_CERT_FILE", str(pki / "ca.pem"))
        assert (await c.version()).version == "0.9.0-incubating"
