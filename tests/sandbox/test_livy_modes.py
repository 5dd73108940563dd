"""Version modes (livy-rest.md 16), CSRF (12.1), Knox gateway mode (19) and the bearer token, raw HTTP.

Each mode is its own sandbox process (cached per argument list by ``sandbox_factory``).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
from livy_http import wait_statement, wait_until, zip_with_module
from support import ROOT, SandboxProcess

Factory = Callable[..., SandboxProcess]


# ------------------------------------------------------------------ versions

def test_livy_07_mode(sandbox_factory: Factory) -> None:
    sb = sandbox_factory("--livy-version", "0.7")
    with httpx.Client(base_url=sb.livy_url, timeout=30) as http:
        assert http.get("/version").json()["version"].startswith("0.7.")
        r = http.post("/sessions", json={"kind": "pyspark"})
        body = r.json()
        assert list(body) == ["id", "name", "appId", "owner", "proxyUser", "state", "kind", "appInfo", "log"]
        assert body["appInfo"] == {"driverLogUrl": None, "sparkUiUrl": None}
        sid = body["id"]
        for field in ("idleTimeout", "ttl"):
            r = http.post("/sessions", json={"kind": "pyspark", field: "1h"})
            assert r.status_code == 400
            assert r.json().startswith(
                f'Unrecognized field "{field}" (class org.apache.livy.server.interactive.'
                "CreateInteractiveRequest), not marked as ignorable")
        # no "Rejected, Reason: " prefix before 0.8
        r = http.post("/sessions", json={"kind": "pyspark", "name": "42"})
        assert r.json() == {"msg": "Invalid session name: 42"}
        # order=desc is ignored
        wait_until(lambda: http.get(f"/sessions/{sid}/state").json()["state"] == "idle")
        for code in ("1", "2"):
            http.post(f"/sessions/{sid}/statements", json={"code": code})
        ids = [s["id"] for s in http.get(f"/sessions/{sid}/statements", params={"order": "desc"}).json()[
            "statements"]]
        assert ids == [0, 1]
        http.delete(f"/sessions/{sid}")


def test_livy_08_mode(sandbox_factory: Factory) -> None:
    sb = sandbox_factory("--livy-version", "0.8")
    with httpx.Client(base_url=sb.livy_url, timeout=30) as http:
        assert http.get("/version").json()["version"] == "0.8.0-incubating"
        r = http.post("/sessions", json={"kind": "pyspark", "ttl": "1h"})
        assert r.status_code == 201
        body = r.json()
        assert "idleTimeout" not in body and "ttl" in body and "queue" in body
        assert body["ttl"] is None  # the 0.8.0 bug: ttl holds the proxy user (null here)
        assert body["appInfo"] == {"driverLogUrl": None, "sparkUiUrl": None}
        r = http.post("/sessions", json={"kind": "pyspark", "idleTimeout": "1h"})
        assert r.status_code == 400 and r.json().startswith('Unrecognized field "idleTimeout"')
        r = http.post("/sessions", json={"kind": "pyspark", "name": "42"})
        assert r.json() == {"msg": "Rejected, Reason: Invalid session name: 42"}
        assert r.headers["x-content-type-options"] == "nosniff"
        http.delete(f"/sessions/{body['id']}")


def test_time_strings(sandbox: SandboxProcess) -> None:
    with httpx.Client(base_url=sandbox.livy_url, timeout=30) as http:
        for bad, message in (("-1", "Invalid value: -1"), ("5x", 'Invalid suffix: "x"'),
                             ("", "Invalid time string: ")):
            r = http.post("/sessions", json={"kind": "pyspark", "idleTimeout": bad})
            assert r.status_code == 400 and r.json() == {"msg": f"Rejected, Reason: {message}"}, bad
        r = http.post("/sessions", json={"kind": "pyspark", "idleTimeout": "10MIN", "ttl": "600"})
        assert r.status_code == 201
        http.delete(f"/sessions/{r.json()['id']}")


# ------------------------------------------------------------------ CSRF

def test_csrf_filter(sandbox_factory: Factory) -> None:
    sb = sandbox_factory("--csrf")
    with httpx.Client(base_url=sb.livy_url, timeout=30) as http:
        r = http.post("/sessions", json={"kind": "pyspark"})
        assert r.status_code == 400
        assert r.headers["content-type"].startswith("text/html")
        assert "Missing Required Header for CSRF protection." in r.text
        assert http.get("/sessions").status_code == 200
        r = http.post("/sessions", json={"kind": "pyspark"}, headers={"X-Requested-By": "me"})
        assert r.status_code == 201
        assert http.delete(f"/sessions/{r.json()['id']}").status_code == 400
        assert http.delete(f"/sessions/{r.json()['id']}", headers={"X-Requested-By": "me"}).status_code == 200


# ------------------------------------------------------------------ gateway

def test_gateway_mode(sandbox_factory: Factory) -> None:
    sb = sandbox_factory("--gateway", "/gateway/sandbox", "--gateway-user", "alice")
    assert sb.livy_url.endswith("/gateway/sandbox/livy/v1")
    assert sb.webhdfs_url.endswith("/gateway/sandbox/webhdfs/v1")
    assert sb.livy_url.split("/gateway")[0] == sb.webhdfs_url.split("/gateway")[0]  # one port
    xsrf = {"X-XSRF-Header": "valid"}
    with httpx.Client(base_url=sb.livy_url, timeout=30) as http:
        assert http.get("/version").status_code == 200
        r = http.post("/sessions", json={"kind": "pyspark", "proxyUser": "bob"})
        assert r.status_code == 400  # Knox's CSRF filter
        r = http.post("/sessions", json={"kind": "pyspark", "proxyUser": "bob"}, headers=xsrf)
        assert r.status_code == 201
        body = r.json()
        assert body["proxyUser"] == "alice" and body["owner"] == "alice"
        assert r.headers["location"] == f"/sessions/{body['id']}"  # Livy's relative Location passes through
        r = http.post("/sessions", content=b"not json", headers=xsrf)
        assert r.status_code == 500
        assert http.delete(f"/sessions/{body['id']}", headers=xsrf).json() == {"msg": "deleted"}
    # the non-legacy prefix works too
    legacy_free = sb.livy_url.removesuffix("/v1")
    assert httpx.get(legacy_free + "/sessions", timeout=30).json()["from"] == 0
    # unknown paths under the gateway are not Livy's
    assert httpx.get(sb.livy_url.split("/gateway")[0] + "/sessions", timeout=30).status_code >= 400


# ------------------------------------------------------------------ token and host

def test_token_required_on_every_port(sandbox_factory: Factory) -> None:
    sb = sandbox_factory("--token", "s3cret-token")
    assert httpx.get(sb.livy_url + "/sessions", timeout=30).status_code == 401
    assert httpx.get(sb.livy_url + "/sessions", headers={"Authorization": "Bearer wrong"},
                     timeout=30).status_code == 401
    ok = httpx.get(sb.livy_url + "/sessions", headers={"Authorization": "Bearer s3cret-token"}, timeout=30)
    assert ok.status_code == 200
    r = httpx.get(sb.webhdfs_url + "/?op=GETHOMEDIRECTORY", timeout=30)
    assert r.status_code == 401
    assert "s3cret-token" not in sb.stderr


def test_non_loopback_host_requires_token() -> None:
    proc = subprocess.run([sys.executable, "-m", "livyd.sandbox", "--host", "0.0.0.0", "--port", "0",
                           "--webhdfs-port", "0"], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "--token" in proc.stderr and "0.0.0.0" in proc.stderr


def test_bad_option_names_the_culprit() -> None:
    proc = subprocess.run([sys.executable, "-m", "livyd.sandbox", "--livy-version", "0.6"],
                          capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert proc.returncode == 2 and "--livy-version" in proc.stderr and proc.stdout == ""


def test_a_data_dir_that_is_a_file_is_named(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "plain-file"
    not_a_dir.write_text("x")
    proc = subprocess.run([sys.executable, "-m", "livyd.sandbox", "--port", "0", "--webhdfs-port", "0",
                           "--data-dir", str(not_a_dir)],
                          capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert proc.returncode == 2 and proc.stdout == ""
    assert f"--data-dir {not_a_dir}: is not a directory" in proc.stderr


def test_gateway_upload_then_import(sandbox_factory: Factory) -> None:
    """Knox-style: WebHDFS CREATE through the gateway (rewritten data URL), then a session imports it."""
    sb = sandbox_factory("--gateway", "/gateway/sandbox", "--gateway-user", "alice")
    xsrf = {"X-XSRF-Header": "valid"}
    step1 = httpx.put(sb.webhdfs_url + "/user/alice/gw.zip", params={"op": "CREATE", "overwrite": "true"},
                      headers=xsrf, timeout=30)
    assert step1.status_code == 307
    assert "/gateway/sandbox/webhdfs/data/v1/" in step1.headers["location"]
    assert httpx.put(step1.headers["location"], content=zip_with_module("gwmod", "WHO = 'gateway'\n"),
                     headers=xsrf, timeout=30).status_code == 201
    with httpx.Client(base_url=sb.livy_url, timeout=30, headers=xsrf) as http:
        sid = http.post("/sessions", json={"kind": "pyspark", "pyFiles": ["hdfs:///user/alice/gw.zip"]}).json()["id"]
        wait_until(lambda: http.get(f"/sessions/{sid}/state").json()["state"] == "idle")
        st = http.post(f"/sessions/{sid}/statements", json={"code": "import gwmod\ngwmod.WHO"}).json()["id"]
        done = wait_statement(http, sid, st, ("available",))
        assert done["output"]["data"] == {"text/plain": "'gateway'"}
        http.delete(f"/sessions/{sid}")
