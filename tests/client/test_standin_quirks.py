"""Real-Livy quirks (livy-rest.md literal bodies) against the raw stand-in: statuses, bodies,
headers, retries, version gating, gateway prefix, proxies, limits, waits, cancel and keep-alive."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
import structlog
from livy_standin import DROP, JETTY_CSRF_400, MiniLivy, Reply, Request, StandIn, finish_after

from livyd import (
    AuthenticationError,
    BadRequestError,
    ConfigError,
    ConnectError,
    LivyClient,
    LivydError,
    LivyHTTPError,
    PollSettings,
    SessionGoneError,
    SessionNotFoundError,
    SessionState,
    Statement,
    StatementNotFoundError,
    StatementState,
    TransportTimeout,
    WaitTimeout,
)
from livyd import __version__ as livyd_version


@pytest.fixture
def livy() -> Iterator[MiniLivy]:
    server = MiniLivy()
    yield server
    server.close()


@pytest.mark.anyio
async def test_headers_on_every_request_and_xsrf_only_on_writes(livy: MiniLivy) -> None:
    sid = livy.add_session()
    async with LivyClient(livy.url) as c:
        await c.get_session(sid)
        await c.connect_session(sid)
    get, post = livy.server.requests
    for r in (get, post):
        assert r.headers["x-requested-by"] == "livyd"
        assert r.headers["user-agent"] == f"livyd/{livyd_version}"
    assert "x-xsrf-header" not in get.headers and post.headers["x-xsrf-header"] == "livyd"


@pytest.mark.anyio
async def test_csrf_filter_html_400_is_explained() -> None:
    def handler(req: Request) -> Reply:
        return Reply(400, JETTY_CSRF_400, content_type="text/html;charset=iso-8859-1")

    with StandIn(handler) as s:
        async with LivyClient(s.url) as c:
            with pytest.raises(BadRequestError) as info:
                await c.stop_session(1)
    assert "CSRF header was missing" in str(info.value) and info.value.body_kind == "html"


@pytest.mark.anyio
async def test_a_redirect_to_a_sign_on_page_is_an_auth_error_not_an_empty_answer() -> None:
    """Knox SSO (or an OAuth proxy) sends an unauthenticated API call to a login page with a 302.
    Followed, the page would parse as an empty session list; livyd stops and says why."""
    def handler(req: Request) -> Reply:
        return Reply(302, b"", headers={"Location": "https://sso.example/gateway/knoxsso/api/v1/websso"
                                                    "?originalUrl=x&token=s3cret"}, content_type=None)

    with StandIn(handler) as s:
        async with LivyClient(s.url) as c:
            with pytest.raises(AuthenticationError) as info:
                await c.list_sessions()
        assert len(s.requests) == 1  # the login page was not fetched
    text = str(info.value)
    assert "302 redirect to a sign-on page" in text and "sso.example" in text
    assert "s3cret" not in text and info.value.status == 302


@pytest.mark.anyio
async def test_other_redirects_are_refused_with_the_url_to_use() -> None:
    def handler(req: Request) -> Reply:
        return Reply(301, b"", headers={"Location": "http://elsewhere.example:8998/sessions"},
                     content_type=None)

    with StandIn(handler) as s:
        async with LivyClient(s.url) as c:
            with pytest.raises(LivyHTTPError) as info:
                await c.list_sessions()
    assert not isinstance(info.value, AuthenticationError)
    assert "livyd does not follow redirects" in str(info.value) and "elsewhere.example" in str(info.value)


@pytest.mark.anyio
async def test_an_html_page_with_200_is_named_not_parsed() -> None:
    """A proxy's page answered with 200 is not Livy: the error shows what came back."""
    def handler(req: Request) -> Reply:
        return Reply(200, "<html><head><title>Proxy sign-in</title></head><body>Please log in</body></html>",
                     content_type="text/html")

    with StandIn(handler) as s:
        async with LivyClient(s.url) as c:
            with pytest.raises(LivydError) as info:
                await c.list_sessions()
    assert "the answer is not JSON (200, text/html" in str(info.value)
    assert "Proxy sign-in" in str(info.value)


@pytest.mark.anyio
async def test_201_with_relative_location_and_cancel_fixed_answer(livy: MiniLivy) -> None:
    async with LivyClient(livy.url) as c:
        s = await c.create_session(kind="pyspark")
        assert s.state is SessionState.STARTING and s.kind == "pyspark"
        livy.sessions[s.id]["state"] = "idle"
        st = await c.submit_statement(s.id, "1 + 1")
        assert st.state is StatementState.WAITING
        await c.cancel_statement(s.id, st.id)
        await c.cancel_statement(s.id, 999)  # Livy answers {"msg":"canceled"} for unknown ids too
        with pytest.raises(StatementNotFoundError):
            await c.get_statement(s.id, 999)
        with pytest.raises(SessionNotFoundError) as gone:
            await c.get_session(42)
    assert gone.value.livy_message == "Session '42' not found."


@pytest.mark.anyio
async def test_empty_create_body_follows_the_relative_location() -> None:
    """A gateway that drops the 201 body: the client follows Livy's relative Location."""
    prefix = "/gateway/t/livy/v1"

    def handler(req: Request) -> Reply:
        if req.path.endswith("/version"):
            return Reply(200, '{"version":"0.9.0-incubating"}')
        if req.method == "POST":
            return Reply(201, b"", headers={"Location": "/sessions/5"})
        assert req.path == f"{prefix}/sessions/5"
        return Reply(200, json.dumps({"id": 5, "name": "n", "state": "starting", "kind": "pyspark"}))

    with StandIn(handler) as s:
        async with LivyClient(s.url + prefix) as c:
            session = await c.create_session(kind="pyspark")
    assert session.id == 5


@pytest.mark.anyio
async def test_gateway_prefix_and_sessions_suffix_in_the_url() -> None:
    livy = MiniLivy(prefix="/gateway/sandbox/livy/v1")
    try:
        sid = livy.add_session()
        async with LivyClient(livy.url + "/sessions/") as c:
            assert c.url == livy.url
            assert (await c.get_session(sid)).id == sid
            assert [s.id async for s in c.iter_sessions()] == [sid]
        assert all(r.path.startswith("/gateway/sandbox/livy/v1/") for r in livy.server.requests)
    finally:
        livy.close()


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("version", "sent", "dropped"),
    [
        ("0.7.1-incubating", set(), {"ttl", "idleTimeout"}),
        ("0.8.0-incubating", {"ttl"}, {"idleTimeout"}),
        ("0.9.0-incubating", {"ttl", "idleTimeout"}, set()),
    ],
)
async def test_only_fields_the_version_knows_are_sent(
    version: str, sent: set[str], dropped: set[str]
) -> None:
    livy = MiniLivy(version=version)  # rejects unknown fields with Jackson's bare-string 400
    try:
        async with LivyClient(livy.url) as c:
            s = await c.create_session(kind="pyspark", ttl="8h", idle_timeout="30m", driver_memory="1g")
        body = livy.sessions[s.id]["_request"]
        assert sent <= set(body) and not (dropped & set(body)) and body["driverMemory"] == "1g"
        assert sum(1 for r in livy.server.requests if r.path == "/version") == 1
    finally:
        livy.close()


@pytest.mark.anyio
async def test_jackson_bare_string_400_when_livy_refuses_a_field(livy: MiniLivy) -> None:
    livy.version = "0.7.1-incubating"
    async with LivyClient(livy.url) as c:
        c._version = None
        with pytest.raises(BadRequestError) as info:
            # the stand-in claims 0.7 but we force an unknown field through the raw transport
            await c._transport.request(
                "POST",
                c.url + "/sessions",
                json={"idleTimeout": "1h"},
                idempotent=False,
            )
    assert info.value.body_kind == "string" and 'Unrecognized field "idleTimeout"' in str(info.value)


@pytest.mark.anyio
async def test_idempotent_get_is_retried_on_503_and_drop(livy: MiniLivy) -> None:
    sid = livy.add_session()
    livy.get_faults[f"/sessions/{sid}"] = [503, "drop", 503]
    async with LivyClient(livy.url, retries=3) as c:
        assert (await c.get_session(sid)).id == sid
        assert c.statistics().retries == 3
    assert livy.server.count("GET", f"/sessions/{sid}") == 4


@pytest.mark.anyio
async def test_retries_are_bounded(livy: MiniLivy) -> None:
    sid = livy.add_session()
    livy.get_faults[f"/sessions/{sid}"] = [503] * 10
    async with LivyClient(livy.url, retries=2) as c:
        with pytest.raises(Exception, match="503") as info:
            await c.get_session(sid)
    assert getattr(info.value, "status", None) == 503
    assert livy.server.count("GET", f"/sessions/{sid}") == 3


@pytest.mark.anyio
async def test_delete_whose_answer_was_lost_then_404_is_success() -> None:
    calls: list[str] = []

    def handler(req: Request) -> Reply | str:
        calls.append(req.method)
        if len(calls) == 1:
            return DROP  # deleted, but the answer never arrived
        return Reply(404, '{"msg":"Session \'3\' not found."}')

    with StandIn(handler) as s:
        async with LivyClient(s.url) as c:
            await c.delete_session(3)
            with pytest.raises(SessionNotFoundError):
                await c.delete_session(3)  # a plain 404 on a first attempt is still an error
    assert calls[:2] == ["DELETE", "DELETE"]


@pytest.mark.anyio
async def test_401_names_the_auth_and_kinit() -> None:
    def handler(req: Request) -> Reply:
        return Reply(401, "", headers={"WWW-Authenticate": "Negotiate"}, content_type=None)

    with StandIn(handler) as s:
        async with LivyClient(s.url, auth_description="Kerberos (SPNEGO)") as c:
            with pytest.raises(AuthenticationError) as info:
                await c.list_sessions()
    assert f"Livy at {s.url}/sessions" in str(info.value) and "kinit" in str(info.value)


@pytest.mark.anyio
async def test_connection_refused_and_read_timeout() -> None:
    with StandIn(lambda r: Reply(200, "{}")) as s:
        port = s.port
    async with LivyClient(f"http://127.0.0.1:{port}", retries=1) as c:
        with pytest.raises(ConnectError) as info:
            await c.version()
    assert f"127.0.0.1:{port}/version" in str(info.value)

    with StandIn(lambda r: Reply(200, '{"version":"0.9.0"}', delay=2.0)) as s:
        async with LivyClient(s.url, timeout=0.2, retries=0) as c:
            with pytest.raises(TransportTimeout):
                await c.version()


@pytest.mark.anyio
async def test_explicit_proxy_and_env_proxy() -> None:
    seen: list[str] = []

    def proxy(req: Request) -> Reply:
        seen.append(req.target)
        return Reply(200, '{"version":"0.9.0-incubating"}')

    with StandIn(proxy) as p:
        async with LivyClient("http://livy.example.invalid:8998", proxy=p.url) as c:
            assert (await c.version()).version == "0.9.0-incubating"
        assert seen == ["http://livy.example.invalid:8998/version"]
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("HTTP_PROXY", p.url)
            mp.delenv("NO_PROXY", raising=False)
            mp.delenv("no_proxy", raising=False)
            async with LivyClient("http://other.example.invalid:8998") as c:
                await c.version()
        assert seen[-1] == "http://other.example.invalid:8998/version"


@pytest.mark.anyio
async def test_concurrent_requests_per_host_are_bounded() -> None:
    with StandIn(lambda r: Reply(200, '{"id":1,"state":"idle"}', delay=0.15)) as s:
        async with LivyClient(s.url, max_connections_per_host=2) as c, anyio.create_task_group() as tg:
            for _ in range(6):
                tg.start_soon(c.session_state, 1)
        assert s.max_in_flight == 2 and len(s.requests) == 6


@pytest.mark.anyio
async def test_cookies_are_kept_per_client() -> None:
    def handler(req: Request) -> Reply:
        return Reply(200, '{"version":"0.9.0"}', headers={"Set-Cookie": "KNOXSESSIONID=abc; Path=/"})

    with StandIn(handler) as s:
        async with LivyClient(s.url) as c:
            await c.list_sessions()
            await c.list_sessions()
        assert (
            "cookie" not in s.requests[0].headers and s.requests[1].headers["cookie"] == "KNOXSESSIONID=abc"
        )


def test_tls_options_fail_early_naming_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope\.pem"):
        LivyClient("https://h:8443", verify=str(tmp_path / "nope.pem"))
    with pytest.raises(ConfigError, match=r"client\.crt"):
        LivyClient("https://h:8443", cert=str(tmp_path / "client.crt"))


def test_verify_false_is_logged_loudly() -> None:
    from structlog.testing import capture_logs

    try:
        with capture_logs() as logs:
            LivyClient("https://h:8443", verify=False)
    finally:
        structlog.reset_defaults()  # capture_logs leaves structlog "configured" (printing to stdout)
    assert any(e["log_level"] == "warning" and "DISABLED" in e["event"] for e in logs)


# --------------------------------------------------------------------------- waits


@pytest.mark.anyio
async def test_first_poll_within_10ms_and_output(livy: MiniLivy) -> None:
    sid = livy.add_session()
    livy.statement_script = finish_after(4, text="2")
    updates: list[Statement] = []
    async with LivyClient(livy.url) as c:
        st = await c.run_statement(sid, "1 + 1", on_update=updates.append)
    assert st.state is StatementState.AVAILABLE and st.output is not None and st.output.text == "2"
    post = next(r for r in livy.server.requests if r.method == "POST" and r.path.endswith("/statements"))
    first_get = next(
        r for r in livy.server.requests if r.method == "GET" and r.path.endswith("/statements/0")
    )
    assert first_get.at - post.at < 0.05  # 10 ms plan + loopback round trip and scheduling slack
    assert updates[0].state is StatementState.WAITING and updates[-1].output is not None
    keys = [(u.state, u.progress) for u in updates]
    assert all(a != b for a, b in itertools.pairwise(keys))  # only changes are reported


@pytest.mark.anyio
async def test_error_output_is_available_not_error_state(livy: MiniLivy) -> None:
    sid = livy.add_session()
    output = {
        "status": "error",
        "execution_count": 0,
        "ename": "NameError",
        "evalue": "name 'x' is not defined",
        "traceback": ["Traceback (most recent call last):\n", "NameError: name 'x' is not defined\n"],
    }

    def script(st: dict[str, Any], n: int) -> None:
        if n >= 1:
            st.update(state="available", progress=1.0, output=output)

    livy.statement_script = script
    async with LivyClient(livy.url) as c:
        st = await c.run_statement(sid, "x")
    assert st.state is StatementState.AVAILABLE and st.output is not None and st.output.is_error
    with pytest.raises(Exception, match="NameError"):
        st.output.raise_for_error()


@pytest.mark.anyio
async def test_cancelling_a_wait_cancels_the_statement_on_the_server(livy: MiniLivy) -> None:
    sid = livy.add_session()
    livy.statement_script = finish_after(10_000)
    async with LivyClient(livy.url) as c:
        with anyio.move_on_after(0.3) as scope:
            await c.run_statement(sid, "long_job()")
        assert scope.cancelled_caught
        assert c.statistics().cancels_sent == 1
    assert livy.server.count("POST", f"/sessions/{sid}/statements/0/cancel") == 1
    assert livy.statements[sid][0]["state"] == "cancelled"


@pytest.mark.anyio
async def test_cancelling_while_the_post_is_in_flight_cancels_what_landed(livy: MiniLivy) -> None:
    sid = livy.add_session()
    livy.statement_script = finish_after(10_000)
    async with LivyClient(livy.url) as c:
        await c.submit_statement(sid, "warm_up = 1")
        livy.post_faults["statements"] = [("slow", 1.0)]
        with anyio.move_on_after(0.2) as scope:
            await c.run_statement(sid, "expensive()")
        assert scope.cancelled_caught
    assert [s["code"] for s in livy.statements[sid]] == ["warm_up = 1", "expensive()"]
    assert livy.statements[sid][1]["state"] == "cancelled"
    assert livy.server.count("POST", f"/sessions/{sid}/statements/1/cancel") == 1
    assert livy.server.count("POST", f"/sessions/{sid}/statements/0/cancel") == 0


@pytest.mark.anyio
async def test_wait_timeout_cancels_and_raises(livy: MiniLivy) -> None:
    sid = livy.add_session()
    livy.statement_script = finish_after(10_000)
    async with LivyClient(livy.url) as c:
        with pytest.raises(WaitTimeout, match="cancelled"):
            await c.run_statement(sid, "long_job()", timeout=0.2)
    assert livy.server.count("POST", f"/sessions/{sid}/statements/0/cancel") == 1


@pytest.mark.anyio
async def test_keepalive_posts_connect_while_a_statement_runs(livy: MiniLivy) -> None:
    sid = livy.add_session()
    livy.statement_script = finish_after(40)  # 40 polls of >= 2-7.5 ms: several keep-alives
    async with LivyClient(livy.url, keepalive_interval=0.05, poll=PollSettings(maximum=0.03)) as c:
        started = time.monotonic()
        await c.run_statement(sid, "slow()")
        elapsed = time.monotonic() - started
        keepalives = c.statistics().keepalives
    connects = livy.server.count("POST", f"/sessions/{sid}/connect")
    assert connects == keepalives >= 2
    assert connects <= elapsed / 0.05 + 1


@pytest.mark.anyio
async def test_wait_session_ready_and_gone(livy: MiniLivy) -> None:
    sid = livy.add_session(state="starting")
    async with LivyClient(livy.url) as c:
        async with anyio.create_task_group() as tg:

            async def become_idle() -> None:
                await anyio.sleep(0.1)
                livy.sessions[sid]["state"] = "idle"

            tg.start_soon(become_idle)
            ready = await c.wait_session_ready(sid, timeout=5)
        assert ready.state is SessionState.IDLE
        dead = livy.add_session(state="dead")
        with pytest.raises(Exception, match="is dead") as info:
            await c.wait_session_ready(dead)
        assert getattr(info.value, "state", None) == "dead"
        stuck = livy.add_session(state="starting")
        with pytest.raises(WaitTimeout):
            await c.wait_session_ready(stuck, timeout=0.1)


@pytest.mark.anyio
async def test_log_follow_survives_the_wrapping_buffer(livy: MiniLivy) -> None:
    sid = livy.add_session()
    written = [f"line {i}" for i in range(700)]
    got: list[str] = []
    async with LivyClient(livy.url) as c:

        async def writer() -> None:
            # 70 lines a round, and never more than 140 unread: the 200-line buffer wraps between
            # reads (lines move out of the window) but is never overrun, whatever the machine's load
            for i in range(0, 700, 70):
                with anyio.fail_after(30):
                    while sum(x.startswith("line") for x in got) < i - 70:  # noqa: ASYNC110
                        await anyio.sleep(0.005)
                with livy.lock:
                    livy.session_log[sid][1].extend(written[i : i + 70])
                await anyio.sleep(0.03)
            with anyio.fail_after(30):
                while sum(x.startswith("line") for x in got) < 700:  # noqa: ASYNC110
                    await anyio.sleep(0.005)
            livy.sessions[sid]["state"] = "dead"

        async with anyio.create_task_group() as tg:
            tg.start_soon(writer)
            async for lines in c.follow_session_log(sid, poll_interval=0.02):
                got.extend(lines)
    assert [x for x in got if x.startswith("line")] == written


@pytest.mark.anyio
async def test_listing_tolerates_unknown_states_and_pages() -> None:
    sessions = [{"id": i, "state": "hibernating" if i == 3 else "idle", "kind": "pyspark"} for i in range(5)]

    def handler(req: Request) -> Reply:
        q = req.query
        start, size = int(q["from"]), int(q["size"])
        return Reply(200, json.dumps({"from": start, "total": 5, "sessions": sessions[start : start + size]}))

    with StandIn(handler) as s:
        async with LivyClient(s.url) as c:
            got = [x async for x in c.iter_sessions(page_size=2)]
    assert [x.id for x in got] == [0, 1, 2, 3, 4] and got[3].state == "hibernating"
    assert len(s.requests) == 3


@pytest.mark.anyio
async def test_files_completion_and_stop(livy: MiniLivy, tmp_path: Path) -> None:
    sid = livy.add_session()
    jar = tmp_path / "udfs.jar"
    jar.write_bytes(b"PK\x03\x04jar")
    async with LivyClient(livy.url) as c:
        await c.upload_jar(sid, jar)
        await c.upload_pyfile(sid, jar)
        await c.add_file(sid, "hdfs:///data/lookup.csv")
        assert await c.completion(sid, "spa", kind="spark", cursor=3) == ["spark", "sparkContext"]
        with pytest.raises(ConfigError, match=r"missing\.py"):
            await c.upload_file(sid, tmp_path / "missing.py")
        await c.stop_session(sid)
        assert await c.session_state(sid) == "dead"
    added = livy.sessions[sid]["_added"]
    assert [a[0] for a in added] == ["upload-jar", "upload-pyfile", "add-file"]
    assert b'name="jar"; filename="udfs.jar"' in added[0][1] and b'name="file"' in added[1][1]
    assert json.loads(added[2][1]) == {"uri": "hdfs:///data/lookup.csv"}


@pytest.mark.anyio
async def test_no_proxy_is_honoured(livy: MiniLivy, monkeypatch: pytest.MonkeyPatch) -> None:
    with StandIn(lambda r: Reply(502, "proxy should not be used")) as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        async with LivyClient(livy.url) as c:
            assert (await c.version()).version == "0.9.0-incubating"
        assert proxy.requests == []


@pytest.mark.anyio
async def test_session_gone_while_waiting_for_a_statement(livy: MiniLivy) -> None:
    sid = livy.add_session()
    livy.statement_script = finish_after(10_000)

    def kill() -> None:
        with livy.lock:
            del livy.sessions[sid]

    async with LivyClient(livy.url) as c:
        st = await c.submit_statement(sid, "long()")
        threading.Timer(0.1, kill).start()
        with pytest.raises(SessionNotFoundError) as info:
            await c.wait_statement(sid, st.id)
    assert isinstance(info.value, SessionGoneError)
    assert livy.server.count("POST", f"/sessions/{sid}/statements/0/cancel") == 0  # not a cancellation


@pytest.mark.anyio
async def test_gateway_without_version_route_gets_conservative_fields() -> None:
    created: list[dict[str, Any]] = []

    def handler(req: Request) -> Reply:
        if req.path == "/version":
            return Reply(404, "<html><body>Not Found</body></html>", content_type="text/html")
        created.append(req.json())
        return Reply(201, json.dumps({"id": 0, "state": "starting", "kind": "pyspark"}))

    with StandIn(handler) as s:
        async with LivyClient(s.url) as c:
            await c.create_session(kind="pyspark", idle_timeout="1h", ttl="2h")
            assert str(await c.server_version()) == "0.7.0"
    assert "idleTimeout" not in created[0] and "ttl" not in created[0]
