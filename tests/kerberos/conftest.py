"""A real Kerberos realm and a real SPNEGO gateway, shared by the whole Kerberos test module.

* ``krb_realm``: a throwaway MIT KDC from k5test on a free block of 10 loopback ports, with
  ``HTTP/localhost`` (the gateway) and ``user`` (the client; password and keytab) principals. The
  KDC is started by hand (``start_kdc=False``) so that a failure after it started still stops it
  (a K5Realm whose constructor raises leaks its krb5kdc). ``forwardable = true`` so delegation
  really delegates; ``rdns = false`` and ``dns_canonicalize_hostname = false`` so only
  ``localhost`` URLs map to ``HTTP/localhost`` without ``target_name`` -- deterministic on any
  machine. The client environment (KRB5_CONFIG, KRB5CCNAME, KRB5_CLIENT_KTNAME, KRB5RCACHEDIR) is
  set for the test session (k5test only sets it for its own subprocesses) and restored afterwards.
* ``spnego_gateway``: Apache httpd + mod_auth_gssapi (config: ``apache.conf.in``) run as our own
  foreground process, reverse-proxying a sandbox (``sandbox_factory()``) and a header-echo backend.
  Apache drops to www-data, which cannot read k5test's 0700 temp dir, so the keytab and krb5.conf
  are copied into a www-data-owned directory.

Missing pieces skip locally naming the Debian/PyPI package; under CI=true they fail (``require``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from string import Template
from typing import Any

import pytest
from krb_support import SandboxProcess, has_module, require

HERE = Path(__file__).resolve().parent
APACHE_BIN = "/usr/sbin/apache2"
MOD_AUTH_GSSAPI = Path("/usr/lib/apache2/modules/mod_auth_gssapi.so")
REALM = "KRBTEST.COM"


def require_kerberos_stack() -> None:
    """Skip (locally) / fail (CI) unless the KDC packages and the Python GSSAPI stack are present."""
    require(shutil.which("krb5kdc") or os.path.exists("/usr/sbin/krb5kdc"), "Debian package krb5-kdc")
    require(shutil.which("kadmin.local") or os.path.exists("/usr/sbin/kadmin.local"),
            "Debian package krb5-admin-server")
    require(shutil.which("kinit"), "Debian package krb5-user")
    require(shutil.which("krb5-config"), "Debian package libkrb5-dev")
    require(has_module("k5test"), "PyPI package k5test (pip install 'livyd[kerberos-test]')")
    require(has_module("gssapi"), "PyPI package gssapi (pip install 'livyd[kerberos]')")
    require(has_module("httpx_gssapi"), "PyPI package httpx-gssapi (pip install 'livyd[kerberos]')")


def require_apache() -> None:
    require(os.path.exists(APACHE_BIN), "Debian package apache2")
    require(MOD_AUTH_GSSAPI.exists(), "Debian package libapache2-mod-auth-gssapi")


# --------------------------------------------------------------------------- ports


def _port_free(port: int) -> bool:
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        with socket.socket(socket.AF_INET, kind) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                return False
    return True


def free_port_block(size: int = 10) -> int:
    """A base port such that base..base+size-1 are free on 127.0.0.1 (TCP and UDP)."""
    for _ in range(200):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            base = int(s.getsockname()[1])
        if base + size < 65535 and all(_port_free(p) for p in range(base, base + size)):
            return base
    raise RuntimeError("no free block of loopback ports")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --------------------------------------------------------------------------- realm


@dataclass
class Realm:
    """A running k5test realm and the files the tests need."""

    k5: Any
    user_princ: str
    user_password: str
    user_keytab: Path
    http_keytab: Path
    krb5_conf: Path
    ccache: str
    env: dict[str, str]

    def kinit(self, *flags: str) -> None:
        """(Re-)fill the default credential cache with a TGT for the user."""
        self.k5.kinit(self.user_princ, self.user_password, flags=list(flags))


@pytest.fixture(scope="session")
def krb_realm() -> Iterator[Realm]:
    require_kerberos_stack()
    import k5test

    k5 = k5test.K5Realm(
        realm=REALM, portbase=free_port_block(), start_kdc=False, get_creds=False, create_host=False,
        krb5_conf={
            "libdefaults": {"rdns": "false", "dns_canonicalize_hostname": "false", "forwardable": "true"},
            "realms": {"$realm": {"kdc": "127.0.0.1:$port0", "admin_server": "127.0.0.1:$port1",
                                  "kpasswd_server": "127.0.0.1:$port2"}},
            "domain_realm": {"localhost": "$realm"},
        },
        kdc_conf={"realms": {"$realm": {"kdc_listen": "127.0.0.1:$port0",
                                        "kdc_tcp_listen": "127.0.0.1:$port0"}}},
    )
    saved = {k: os.environ.get(k) for k in ("KRB5_CONFIG", "KRB5CCNAME", "KRB5_CLIENT_KTNAME",
                                            "KRB5RCACHEDIR", "KRB5_KTNAME")}
    try:
        k5.start_kdc()
        k5.kinit(k5.user_princ, k5.password("user"))
        http_keytab = Path(k5.tmpdir) / "http.keytab"
        k5.addprinc(f"HTTP/localhost@{REALM}")
        k5.extract_keytab(f"HTTP/localhost@{REALM}", str(http_keytab))
        user_keytab = Path(k5.tmpdir) / "user.keytab"
        k5.extract_keytab(k5.user_princ, str(user_keytab))
        for key in ("KRB5_CONFIG", "KRB5CCNAME", "KRB5_CLIENT_KTNAME", "KRB5RCACHEDIR"):
            os.environ[key] = k5.env[key]
        # The default client keytab would let MIT log in automatically from the user's key; tests of
        # "no ticket" must not have that, so it points at a file that does not exist by default.
        os.environ["KRB5_CLIENT_KTNAME"] = str(Path(k5.tmpdir) / "no-client.keytab")
        os.environ.pop("KRB5_KTNAME", None)
        yield Realm(k5=k5, user_princ=k5.user_princ, user_password=k5.password("user"),
                    user_keytab=user_keytab, http_keytab=http_keytab,
                    krb5_conf=Path(k5.env["KRB5_CONFIG"]), ccache=k5.env["KRB5CCNAME"],
                    env=dict(k5.env))
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        k5.stop()


# --------------------------------------------------------------------------- echo backend


class _EchoHandler(BaseHTTPRequestHandler):
    """Answers every request with the headers it received (as JSON): what the gateway forwarded."""

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        payload = json.dumps({"method": self.command, "path": self.path,
                              "headers": {k.lower(): v for k, v in self.headers.items()},
                              "body_length": len(body)}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_DELETE = do_PUT = _answer

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="session")
def echo_backend() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _EchoHandler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield int(server.server_address[1])
    server.shutdown()
    server.server_close()


# --------------------------------------------------------------------------- gateway


@dataclass
class Gateway:
    """The running Apache SPNEGO front."""

    proc: subprocess.Popen[bytes]
    tmp: Path
    port: int
    plain_port: int
    slot: SandboxSlot

    @property
    def sandbox(self) -> SandboxProcess | None:
        return self.slot.sandbox

    @property
    def url(self) -> str:
        """Livy through the gateway, with mod_auth_gssapi sessions (a cookie after one negotiation)."""
        return f"http://localhost:{self.port}"

    @property
    def plain_url(self) -> str:
        """Livy through the gateway, every request negotiated (no session cookie)."""
        return f"http://localhost:{self.plain_port}"

    def webhdfs_url(self, *, plain: bool = False) -> str:
        return f"{self.plain_url if plain else self.url}/webhdfs/v1"

    @property
    def deleg_dir(self) -> Path:
        return self.tmp / "deleg"

    def access_log(self) -> list[dict[str, str]]:
        """Parsed access-log lines (status, method, path, negotiate=yes|-, cookie=yes|-, port, user)."""
        path = self.tmp / "access.log"
        if not path.exists():
            return []
        rows = []
        for line in path.read_text().splitlines():
            rows.append(dict(re.findall(r"(\w+)=(\S*)", line)))
        return rows

    def error_log(self) -> str:
        path = self.tmp / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def wait_logged(self, predicate: Callable[[list[dict[str, str]]], bool], timeout: float = 5.0) -> \
            list[dict[str, str]]:
        """Wait until the access log satisfies *predicate* (Apache writes it after the response)."""
        deadline = time.monotonic() + timeout
        while True:
            rows = self.access_log()
            if predicate(rows) or time.monotonic() > deadline:
                return rows
            time.sleep(0.02)


def _wait_listening(port: int, proc: subprocess.Popen[bytes], timeout: float, what: str,
                    log: Callable[[], str]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with status {proc.returncode}:\n{log()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"{what} did not listen on 127.0.0.1:{port} within {timeout} s:\n{log()}")


@dataclass
class SandboxSlot:
    """The sandbox behind the gateway, or why there is none (the Livy tests report it; the raw
    SPNEGO tests, which only need the echo backend, do not depend on it)."""

    sandbox: SandboxProcess | None
    problem: str | None


@pytest.fixture(scope="session")
def kerberos_sandbox(sandbox_factory: Callable[..., SandboxProcess]) -> SandboxSlot:
    if not has_module("livyd.sandbox.__main__"):
        return SandboxSlot(None, "livyd.sandbox does not exist in this checkout")
    try:
        return SandboxSlot(sandbox_factory("--cancel-timeout", "3"), None)
    except RuntimeError as exc:
        return SandboxSlot(None, str(exc))


@pytest.fixture(scope="session")
def spnego_gateway(krb_realm: Realm, echo_backend: int, kerberos_sandbox: SandboxSlot) -> Iterator[Gateway]:
    require_apache()
    from urllib.parse import urlsplit

    tmp = Path(tempfile.mkdtemp(prefix="livyd-apache-"))
    (tmp / "deleg").mkdir()
    keytab = tmp / "http.keytab"
    shutil.copy(krb_realm.http_keytab, keytab)
    krb5_conf = tmp / "krb5.conf"
    shutil.copy(krb_realm.krb5_conf, krb5_conf)
    (tmp / "rcache").mkdir()
    if kerberos_sandbox.sandbox is not None:
        livy_port = urlsplit(kerberos_sandbox.sandbox.livy_url).port
        webhdfs_port = urlsplit(kerberos_sandbox.sandbox.webhdfs_url).port
    else:
        livy_port = webhdfs_port = echo_backend
    port, plain_port = free_port(), free_port()
    while plain_port == port:
        plain_port = free_port()
    as_root = os.geteuid() == 0
    conf = Template((HERE / "apache.conf.in").read_text()).substitute(
        APACHE_TMP=str(tmp), FRONT_PORT=port, FRONT_PORT_PLAIN=plain_port, HTTP_KEYTAB=str(keytab),
        LIVY_PORT=livy_port, WEBHDFS_PORT=webhdfs_port, ECHO_PORT=echo_backend,
        USER_LINES="User www-data\nGroup www-data" if as_root else "",
    )
    conf_path = tmp / "httpd.conf"
    conf_path.write_text(conf)
    if as_root:
        subprocess.run(["chown", "-R", "www-data:www-data", str(tmp)], check=True)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "KRB5_CONFIG": str(krb5_conf),
           "KRB5RCACHEDIR": str(tmp / "rcache"), "LANG": "C"}
    proc = subprocess.Popen([APACHE_BIN, "-f", str(conf_path), "-DFOREGROUND"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)

    def logs() -> str:
        err = b""
        if proc.poll() is not None and proc.stderr is not None:
            err = proc.stderr.read()
        text = (tmp / "error.log").read_text(errors="replace") if (tmp / "error.log").exists() else ""
        return err.decode(errors="replace") + text

    try:
        _wait_listening(port, proc, 10.0, "apache2", logs)
        _wait_listening(plain_port, proc, 10.0, "apache2", logs)
        yield Gateway(proc=proc, tmp=tmp, port=port, plain_port=plain_port, slot=kerberos_sandbox)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
        if proc.stderr is not None:
            proc.stderr.close()
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture
def fresh_ticket(krb_realm: Realm, monkeypatch: pytest.MonkeyPatch) -> Realm:
    """A per-test credential cache holding a fresh, forwardable TGT for the user (kinit)."""
    ccache = Path(tempfile.mkdtemp(prefix="livyd-ccache-")) / "ccache"
    monkeypatch.setenv("KRB5CCNAME", f"FILE:{ccache}")
    krb_realm.k5.env["KRB5CCNAME"] = f"FILE:{ccache}"
    try:
        krb_realm.kinit("-f")
    finally:
        krb_realm.k5.env["KRB5CCNAME"] = krb_realm.ccache
    return krb_realm


@pytest.fixture
def no_ticket(krb_realm: Realm, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """An empty credential cache and no client keytab: MIT cannot get a TGT by any route."""
    missing = tmp_path / "no-such-ccache"
    monkeypatch.setenv("KRB5CCNAME", f"FILE:{missing}")
    monkeypatch.setenv("KRB5_CLIENT_KTNAME", str(tmp_path / "no-such-client.keytab"))
    return missing
