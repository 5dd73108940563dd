"""The scenarios of issue 7. Each returns a JSON-able dict and a markdown section.

Overhead is the client's wall time minus the statement's own run time on the server (its
started/completed as the server saw them); requests are counted at the server.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import shutil
import signal
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from bench._common import Series, Server, fmt_ms, fmt_num, ratio, table
from bench._contenders import LIVYD, Contender, DaemonContender, Engine, Library, all_contenders
from bench._rpc import Daemon


@dataclass
class Context:
    quick: bool
    servers: dict[str, Server] = field(default_factory=dict)

    async def server(self, kind: str) -> Server:
        if kind not in self.servers:
            self.servers[kind] = await Server.start(kind)
        return self.servers[kind]

    async def close(self) -> None:
        for server in self.servers.values():
            await server.stop()


def sleep_code(seconds: float) -> str:
    return f"import time; time.sleep({seconds:.3f}); 'x' * 4"


async def _measured(server: Server, contender: Contender, code: str) -> tuple[float, int, float]:
    """(overhead s, requests, wall s) of one statement."""
    before = await server.count()
    wall = await contender.run(code)
    after = await server.count()
    started, completed = await server.statement_times(contender.sid)
    return wall - (completed - started), after - before, wall


async def _with_contenders(server: Server, contenders: list[Contender]) -> list[int]:
    sids = []
    for contender in contenders:
        sid = await server.new_session()
        await contender.setup(server.url, sid)
        sids.append(sid)
    return sids


async def _without(server: Server, contenders: list[Contender], sids: list[int]) -> None:
    for contender, sid in zip(contenders, sids, strict=True):
        await contender.close()
        await server.delete_session(sid)


# --------------------------------------------------------------------------- overhead


async def overhead(ctx: Context) -> dict[str, Any]:
    """0 ms, 50 ms and 2 s statements, every contender, alternated; imitation and sandbox."""
    rounds = 3 if ctx.quick else 7
    durations = [0.0, 0.05, 2.0]
    results: dict[str, Any] = {}
    md = []
    for kind in ("imitation", "sandbox"):
        server = await ctx.server(kind)
        contenders = all_contenders()
        sids = await _with_contenders(server, contenders)
        for c in contenders:  # warm-up: connections, imports, the first statement of a REPL
            await c.run(sleep_code(0))
        data: dict[str, dict[str, dict[str, Series]]] = {
            c.name: {str(d): {"overhead": Series(), "requests": Series()} for d in durations}
            for c in contenders
        }
        for r in range(rounds):
            for d in durations:
                order = contenders[r % len(contenders) :] + contenders[: r % len(contenders)]
                for c in order:
                    over, reqs, _wall = await _measured(server, c, sleep_code(d))
                    data[c.name][str(d)]["overhead"].add(over)
                    data[c.name][str(d)]["requests"].add(reqs)
        await _without(server, contenders, sids)
        summary = {
            name: {d: {k: s.summary() for k, s in per.items()} for d, per in by.items()}
            for name, by in data.items()
        }
        rtt = await _round_trip(server)
        results[kind] = summary
        results[f"{kind}: one GET round trip"] = rtt.summary()
        rows = []
        for name, by in summary.items():
            row = [name]
            for d in durations:
                cell = by[str(d)]
                row.append(f"{fmt_ms(cell['overhead'])} [{fmt_num(cell['requests'], 0)} req]")
            base = summary["pylivy"]
            row.append(ratio(by["0.05"]["overhead"]["median"], base["0.05"]["overhead"]["median"]))
            rows.append(row)
        md.append(
            f"**{kind}** ({rounds} rounds, contenders alternated; overhead in ms, median (min–max), "
            "[requests per statement])\n\n"
            + table(["contender", "0 ms", "50 ms", "2 s", "50 ms vs pylivy"], rows)
            + f"\n\none `GET /sessions/N/statements/M` round trip (httpx, keep-alive), right after: "
            f"{fmt_ms(rtt.summary())} ms"
        )
    return {"rounds": rounds, "results": results, "markdown": "\n\n".join(md)}


async def _round_trip(server: Server) -> Series:
    """What one request costs on this machine now (a probe: not counted)."""
    sid = await server.new_session()
    await server.http.post(f"{server.url}/sessions/{sid}/statements", json={"code": "1"})
    await asyncio.sleep(0.5)
    rtt = Series()
    for _ in range(30):
        t0 = time.monotonic()
        (await server.http.get(f"{server.url}/sessions/{sid}/statements/0")).json()
        rtt.add(time.monotonic() - t0)
    await server.delete_session(sid)
    return rtt


# --------------------------------------------------------------------------- spread


def _steady_rate(times: list[float], start: float, end: float, warmup: float) -> float | None:
    """Most requests in any 1 s window inside [start + warmup, end]."""
    inside = [t for t in times if start + warmup <= t <= end]
    if end - (start + warmup) < 1.0:
        return None
    best = 0
    for i, t in enumerate(inside):
        best = max(best, sum(1 for u in inside[i:] if u < t + 1.0))
    return float(best)


async def spread(ctx: Context) -> dict[str, Any]:
    """A seeded list of 0–10 s statements, the same for every contender, one after the other."""
    rng = random.Random(7)
    count, scale = (6, 0.3) if ctx.quick else (10, 1.0)
    durations = [round(rng.uniform(0, 10) * scale, 3) for _ in range(count)]
    server = await ctx.server("imitation")
    contenders = all_contenders(exec_too=False)
    sids = await _with_contenders(server, contenders)
    over = {c.name: Series() for c in contenders}
    reqs = {c.name: Series() for c in contenders}
    steady = {c.name: Series() for c in contenders}
    for i, d in enumerate(durations):
        order = contenders[i % len(contenders) :] + contenders[: i % len(contenders)]
        for c in order:
            since = await server.count()
            o, n, _ = await _measured(server, c, sleep_code(d))
            over[c.name].add(o)
            reqs[c.name].add(n)
            if d >= 4:
                started, completed = await server.statement_times(c.sid)
                times = [t for t, _m, p in await server.requests(since) if p.startswith(f"/sessions/{c.sid}")]
                rate = _steady_rate(times, started, completed, 3.0)
                if rate is not None:
                    steady[c.name].add(rate)
    await _without(server, contenders, sids)
    base = statistics.median(over["pylivy"].values)
    base_req = statistics.median(reqs["pylivy"].values)
    rows = [
        [
            name,
            fmt_ms(over[name].summary()),
            ratio(statistics.median(over[name].values), base),
            fmt_num(reqs[name].summary(), 0),
            ratio(statistics.median(reqs[name].values), base_req),
            fmt_num(steady[name].summary(), 0),
        ]
        for name in over
    ]
    md = f"durations (s, seed 7): {durations}\n\n" + table(
        [
            "contender",
            "overhead ms",
            "vs pylivy",
            "requests/statement",
            "vs pylivy",
            "max req in 1 s (after 3 s of a ≥4 s statement)",
        ],
        rows,
    )
    return {
        "durations": durations,
        "results": {
            name: {
                "overhead": over[name].summary(),
                "requests": reqs[name].summary(),
                "steady_max_per_s": steady[name].summary(),
            }
            for name in over
        },
        "markdown": md,
    }


async def queued(ctx: Context) -> dict[str, Any]:
    """One long statement and ten 0 s ones queued behind it, all submitted at once (library,
    engine, daemon): requests per second while the long one runs, and how soon the rest follow."""
    server = await ctx.server("imitation")
    long_s = 3.0 if ctx.quick else 8.0
    behind = 10
    results: dict[str, Any] = {}
    rows = []
    contenders: list[Contender] = [Library(), Engine(), DaemonContender()]
    for c in contenders:
        sid = await server.new_session()
        await c.setup(server.url, sid)
        since = await server.count()
        start = time.monotonic()
        if isinstance(c, Engine):
            jobs = [c.engine.submit(sleep_code(long_s))] + [
                c.engine.submit(sleep_code(0)) for _ in range(behind)
            ]
            for job in jobs:
                await job.wait()
        elif isinstance(c, Library):  # concurrent run_statement calls: each polls its own statement
            await asyncio.gather(
                c.client.run_statement(sid, sleep_code(long_s)),
                *(c.client.run_statement(sid, sleep_code(0)) for _ in range(behind)),
            )
        else:
            tasks = [await c.daemon.request("livy/execute", {"code": sleep_code(long_s), "sessionId": sid})]
            for _ in range(behind):
                tasks.append(
                    await c.daemon.request("livy/execute", {"code": sleep_code(0), "sessionId": sid})
                )
            for t in tasks:
                await c.daemon.output(t["taskId"])
        end = time.monotonic()
        log = [(t, m, p) for t, m, p in await server.requests(since) if p.startswith(f"/sessions/{sid}")]
        # the long statement, found by its code (concurrent run_statement calls may post it later)
        listed = (await server.http.get(f"{server.url}/sessions/{sid}/statements")).json()["statements"]
        long_id = next(st["id"] for st in listed if st["code"] == sleep_code(long_s))
        first_started, first_completed = await server.statement_times(sid, long_id)
        rate = _steady_rate([t for t, _m, _p in log], first_started, first_completed, 2.0)
        after = [t for t, _m, _p in log if t > first_completed]
        results[c.name] = {
            "requests": len(log),
            "steady_max_per_s": rate,
            "requests_after_long": len(after),
            "tail_s": end - first_completed,
            "total_s": end - start,
        }
        rows.append(
            [
                c.name,
                str(len(log)),
                fmt_num({"n": 1, "median": rate or 0, "min": rate or 0, "max": rate or 0}, 0),
                str(len(after)),
                f"{(end - first_completed) * 1000:.0f}",
            ]
        )
        await c.close()
        await server.delete_session(sid)
    md = f"queued: one {long_s:g} s statement and {behind} × 0 s behind it, submitted at once\n\n" + table(
        [
            "contender",
            "requests in all",
            "max req in 1 s during the long one (after 2 s)",
            f"requests after it finished (ideal {2 * behind})",
            "ms from its end to the last result",
        ],
        rows,
    )
    return {"results": results, "markdown": md}


# --------------------------------------------------------------------------- many sessions


async def _many_round(server: Server, sids: list[int], m: int, pipelined: bool) -> dict[str, Any]:
    """One daemon, *m* 200 ms statements queued on each session; one at a time (each
    ``livy/execute`` awaited before the next is sent) or pipelined (all written at once)."""
    c = DaemonContender()
    await c.setup(server.url, sids[0])
    for sid in sids[1:]:
        await c.daemon.request("livy/attachSession", {"sessionId": sid})
    rss_before = c.daemon.rss_mb()
    before = await server.count()
    latencies: list[float] = []

    async def execute(sid: int) -> str:
        t0 = time.monotonic()
        res = await c.daemon.request("livy/execute", {"code": sleep_code(0.2), "sessionId": sid})
        latencies.append(time.monotonic() - t0)
        return str(res["taskId"])

    order = [sid for _j in range(m) for sid in sids]
    start = time.monotonic()
    if pipelined:
        tasks = list(await asyncio.gather(*(execute(sid) for sid in order)))
    else:
        tasks = [await execute(sid) for sid in order]
    submitted = time.monotonic() - start
    last = 0.0
    for task in tasks:
        arrived, _ = await c.daemon.output(task, timeout=1200)
        last = max(last, arrived)
    total = last - start
    requests = await server.count() - before
    peak = c.daemon.peak_rss_mb()
    await c.close()
    return {"total_s": total, "submitted_s": submitted, "execute_latency": Series(latencies).summary(),
            "requests_per_statement": requests / len(order), "rss_before_mb": rss_before,
            "peak_rss_mb": peak}


async def many(ctx: Context) -> dict[str, Any]:
    """N sessions × M queued 200 ms statements on one daemon, submitted one at a time and pipelined."""
    n, m = (10, 5) if ctx.quick else (50, 20)
    server = await ctx.server("imitation")
    sids = [await server.new_session() for _ in range(n)]
    ideal = m * 0.2
    rows, runs = [], {}
    for name, pipelined in (("one at a time", False), ("pipelined", True)):
        r = runs[name] = await _many_round(server, sids, m, pipelined)
        rows.append([
            f"{n} × {m} × 200 ms, {name}",
            f"{r['total_s']:.2f} s",
            f"{ideal:.1f} s",
            f"{r['total_s'] / ideal:.2f}×",
            f"{r['submitted_s']:.2f} s",
            fmt_ms(r["execute_latency"]),
            f"{r['requests_per_statement']:.1f}",
            f"{r['rss_before_mb']:.0f} / {r['peak_rss_mb']:.0f}",
        ])
    for sid in sids:
        await server.delete_session(sid)
    md = table(
        [
            "sessions × statements",
            "finished in",
            "ideal",
            "ratio",
            "all submitted after",
            "livy/execute answered (ms)",
            "requests/statement",
            "daemon RSS before / peak (MiB)",
        ],
        rows,
    )
    first = runs["one at a time"]
    return {
        "sessions": n,
        "statements": m,
        "ideal_s": ideal,
        "runs": runs,
        # the one-at-a-time run, under the keys earlier results used
        "total_s": first["total_s"],
        "execute_latency": first["execute_latency"],
        "rss_before_mb": first["rss_before_mb"],
        "peak_rss_mb": max(r["peak_rss_mb"] for r in runs.values()),
        "markdown": md,
    }


# --------------------------------------------------------------------------- big output


async def big_output(ctx: Context) -> dict[str, Any]:
    """20 MB through the daemon (limit raised, and the default that cuts it) while livy/status is
    pinged every 10 ms; delivery against a raw HTTP read of the same statement; RSS growth."""
    size = 20_000_000
    rounds = 2 if ctx.quick else 5
    server = await ctx.server("imitation")
    code = f"print('x' * {size}, end='')"
    rows = []
    results: dict[str, Any] = {}
    for label, settings in (
        ("maxOutputBytes 64 MiB", {"maxOutputBytes": 64 * 1024 * 1024}),
        ("default maxOutputBytes", {}),
    ):
        sid = await server.new_session()
        c = DaemonContender(**settings)
        await c.setup(server.url, sid)
        c.daemon.defer_over = 1 << 20
        deliver, raw, stall, growth, parse = Series(), Series(), Series(), Series(), Series()
        async with httpx.AsyncClient(timeout=120, headers={"X-Bench-Probe": "1"}) as http:
            for _ in range(rounds):
                _reset_peak(c.daemon.proc.pid)
                base_rss = c.daemon.rss_mb()
                worst = 0.0
                stop = asyncio.Event()

                async def pinger(daemon: Daemon, stop: asyncio.Event) -> None:
                    nonlocal worst
                    while not stop.is_set():
                        t0 = time.monotonic()
                        await daemon.request("livy/status", {})
                        worst = max(worst, time.monotonic() - t0)
                        await asyncio.sleep(0.01)

                ping = asyncio.create_task(pinger(c.daemon, stop))
                await asyncio.sleep(0.1)
                t0 = time.monotonic()
                started = await c.daemon.request("livy/execute", {"code": code, "sessionId": sid})
                arrived, out, body = await _output_or_big_frame(c.daemon, started["taskId"])
                await asyncio.sleep(0.1)
                stop.set()
                await ping
                if body is not None:  # parsed now, the pings over; the parse counts as delivery
                    p0 = time.monotonic()
                    message = json.loads(body)
                    parse.add(time.monotonic() - p0)
                    arrived += time.monotonic() - p0
                    del body
                    assert message["method"] == "livy/output", message["method"]
                    out = message["params"]
                    assert out["taskId"] == started["taskId"], out["taskId"]
                assert out["status"] == "ok", out["status"]
                text = out["data"].get("text/plain", "")
                if settings:  # the whole output, intact
                    assert len(text) == size and not out.get("truncated"), (len(text), out.get("truncated"))
                else:
                    assert out.get("truncated") and text.startswith("x" * 1000), len(text)
                del text
                started_s, completed_s = await server.statement_times(sid)
                deliver.add(arrived - t0 - (completed_s - started_s))
                stall.add(worst)
                growth.add(c.daemon.peak_rss_mb() - base_rss)
                # the same result over raw HTTP, parsed
                r0 = time.monotonic()
                resp = await http.get(f"{server.url}/sessions/{sid}/statements/{out['statementId']}")
                json.loads(resp.content)
                raw.add(time.monotonic() - r0)
        await c.close()
        shutil.rmtree(c.tmp, ignore_errors=True)  # its state dir holds the 20 MB outputs it logged
        await server.delete_session(sid)
        d, r = deliver.summary(), raw.summary()
        mib = size / 2**20
        results[label] = {
            "delivery": d,
            "raw_http": r,
            "worst_status_ping": stall.summary(),
            "rss_growth_mb": growth.summary(),
            "truncated": bool(out.get("truncated")),
            # the benchmark's own json.loads of a big frame (part of the delivery, as the raw read's is)
            "client_parse": parse.summary(),
            "rounds": {"delivery": deliver.values, "raw_http": raw.values, "worst_status_ping": stall.values,
                       "rss_growth_mb": growth.values},
        }
        rows.append(
            [
                label,
                fmt_ms(d),
                fmt_ms(r),
                ratio(d["median"], r["median"]),
                fmt_ms(stall.summary()),
                f"{fmt_num(growth.summary(), 0)} MiB ({(growth.summary()['median'] or 0) / mib:.1f}×)",
                "yes" if out.get("truncated") else "no",
            ]
        )
    md = f"{size / 1e6:.0f} MB output, {rounds} rounds\n\n" + table(
        [
            "daemon",
            "delivery (ms, minus run time)",
            "raw HTTP GET + json.loads",
            "ratio",
            "worst livy/status latency (ms)",
            "peak RSS growth",
            "cut",
        ],
        rows,
    )
    return {"results": results, "markdown": md}


async def _output_or_big_frame(
    daemon: Daemon, task_id: str
) -> tuple[float, dict[str, Any], bytes | None]:
    """The task's ``livy/output`` as (arrival, params, None), or, when it came as a frame too big
    to parse while pings are timed (:attr:`Daemon.defer_over`), as (arrival, {}, its body)."""
    small = asyncio.ensure_future(daemon.output(task_id))
    big = asyncio.ensure_future(daemon.deferred.get())
    done, _ = await asyncio.wait({small, big}, return_when=asyncio.FIRST_COMPLETED)
    if small in done:
        big.cancel()
        arrived, out = small.result()
        return arrived, out, None
    small.cancel()
    arrived, body = big.result()
    return arrived, {}, body


def _reset_peak(pid: int) -> None:
    """Reset VmHWM (Linux: 5 > /proc/PID/clear_refs), so the peak is this round's."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as refs:
            refs.write("5")
    except OSError:
        pass


# --------------------------------------------------------------------------- log following


_LINE = re.compile(r"line (\d{8})")


def _loss(lines: list[str]) -> tuple[int, int, int, int]:
    """(lines seen, lost within the range seen, duplicated, gap marks)."""
    numbers = [int(m.group(1)) for line in lines if (m := _LINE.search(line))]
    marks = sum(1 for line in lines if "may be missing" in line)
    if not numbers:
        return 0, 0, 0, marks
    unique = set(numbers)
    lost = (max(unique) - min(unique) + 1) - len(unique)
    return len(numbers), lost, len(numbers) - len(unique), marks


async def log_follow(ctx: Context) -> dict[str, Any]:
    """A session log growing at a fixed rate, followed by the library, the daemon and the CLI."""
    seconds = 4.0 if ctx.quick else 12.0
    server = await ctx.server("imitation")
    rows = []
    results: dict[str, Any] = {}
    for rate in (50.0, 400.0):
        for who in ("livyd library", "livyd daemon", "livyd logs --follow"):
            sid = await server.new_session()
            await server.log_rate(sid, rate)
            since = await server.count()
            lines: list[str] = []
            t0 = time.monotonic()
            if who == "livyd library":
                import livyd

                async with livyd.LivyClient(server.url) as client:

                    async def follow(client: livyd.LivyClient, sid: int, lines: list[str]) -> None:
                        async for batch in client.follow_session_log(sid):
                            lines.extend(batch)

                    task = asyncio.create_task(follow(client, sid, lines))
                    await asyncio.sleep(seconds)
                    task.cancel()
                    await asyncio.gather(task, return_exceptions=True)
            elif who == "livyd daemon":
                c = DaemonContender()
                await c.setup(server.url, sid)
                since = await server.count()
                t0 = time.monotonic()

                def on_log(
                    method: str, params: Any, _now: float, sid: int = sid, lines: list[str] = lines
                ) -> None:
                    if method == "livy/log" and params.get("sessionId") == sid:
                        lines.extend(params["lines"])

                c.daemon.listeners.append(on_log)
                await c.daemon.request("livy/followLog", {"sessionId": sid})
                await asyncio.sleep(seconds)
                await c.daemon.request("livy/unfollowLog", {"sessionId": sid})
                await c.close()
            else:
                proc = await asyncio.create_subprocess_exec(
                    LIVYD,
                    "logs",
                    str(sid),
                    "--follow",
                    "--url",
                    server.url,
                    stdout=asyncio.subprocess.PIPE,
                    stderr=asyncio.subprocess.PIPE,
                )
                await asyncio.sleep(seconds)
                proc.send_signal(signal.SIGINT)  # Ctrl-C: it flushes what it read, then exits
                out, _err = await proc.communicate()
                lines = out.decode(errors="replace").splitlines()
            end = time.monotonic()
            elapsed = end - t0
            timed = [(t, p) for t, _m, p in await server.requests(since) if p.startswith(f"/sessions/{sid}")]
            log_requests = [p for _t, p in timed]
            # lines written from its first read on (a spawned CLI starts reading a second or more late)
            written = int(rate * (end - timed[0][0])) if timed else 0
            await server.delete_session(sid)
            seen, lost, dup, marks = _loss(lines)
            per_s = len(log_requests) / elapsed
            results[f"{who} @ {rate:g}/s"] = {
                "seen": seen,
                "lost": lost,
                "duplicated": dup,
                "gap_marks": marks,
                "requests_per_s": per_s,
                "written_since_first_read": written,
            }
            rows.append(
                [
                    who,
                    f"{rate:g}",
                    str(written),
                    str(seen),
                    str(lost),
                    str(dup),
                    str(marks),
                    f"{per_s:.1f}",
                ]
            )
    md = (
        f"{seconds:g} s of following per row; the 200-line buffer is overrun between two reads only if "
        "a follower waits longer than 200/rate s\n\n"
        + table(
            [
                "follower",
                "lines/s",
                "written since its first read",
                "seen",
                "lost between seen ones",
                "duplicated",
                "gap marks",
                "requests/s",
            ],
            rows,
        )
    )
    return {"results": results, "markdown": md}


# --------------------------------------------------------------------------- start-up


_BARE_PYGLS = """
from pygls.lsp.server import LanguageServer
server = LanguageServer("bare", "0")
server.start_io()
"""


def _compile_livyd() -> None:
    """Start-up is measured as installed: pip compiles a package's bytecode when it installs it
    (pylivy's, pygls' and httpx's are), but a checkout run with PYTHONDONTWRITEBYTECODE=1 (or
    edited since its last run) compiles livyd's sources again on every start, ~100 ms here that
    no installed livyd pays. So livyd's bytecode is written first, as ``pip install`` would."""
    import compileall

    import livyd

    compileall.compile_dir(os.path.dirname(livyd.__file__), quiet=2, workers=0)


async def _initialize_time(cmd: list[str], env: dict[str, str], cwd: str) -> float:
    start = time.monotonic()
    daemon = await Daemon.spawn(cmd, env=env, cwd=cwd)
    try:
        await daemon.request(
            "initialize",
            {
                "processId": os.getpid(),
                "rootUri": None,
                "capabilities": {},
                "initializationOptions": {"settings": {"url": "http://127.0.0.1:9"}},
            },
            timeout=60,
        )
        return time.monotonic() - start
    finally:
        await daemon.close()


async def startup(ctx: Context) -> dict[str, Any]:
    """``livyd --stdio`` to its initialize result vs a bare pygls server (standalone; through the
    relay to a running shared daemon; and through a relay that has to start the shared daemon)."""
    rounds = 5 if ctx.quick else 15
    _compile_livyd()
    tmp = tempfile.mkdtemp(prefix="lb-", dir="/tmp")
    env = {
        "XDG_RUNTIME_DIR": tmp,
        "XDG_STATE_HOME": tmp,
        "XDG_CONFIG_HOME": tmp,
        "LIVYD_DAEMON_IDLE_EXIT": "30",
    }
    bare = [sys.executable, "-c", _BARE_PYGLS]
    standalone = [sys.executable, "-m", "livyd", "--stdio", "--standalone"]
    relay = [LIVYD, "--stdio"]
    cold = "livyd --stdio (relay, starting the shared daemon)"
    series = {
        "bare pygls": Series(),
        "livyd --stdio --standalone": Series(),
        "livyd --stdio (relay)": Series(),
        cold: Series(),
    }
    await _initialize_time(relay, env, tmp)  # starts the shared daemon
    for r in range(rounds):
        order = [
            ("bare pygls", bare),
            ("livyd --stdio --standalone", standalone),
            ("livyd --stdio (relay)", relay),
            (cold, relay),
        ]
        order = order[r % 4 :] + order[: r % 4]
        for name, cmd in order:
            if name == cold:
                # an editor's first start: no shared daemon yet (a runtime dir of its own), so the
                # relay starts one and waits for its socket; it exits a second after we leave
                fresh = tempfile.mkdtemp(prefix="lb-cold-", dir=tmp)
                cold_env = {**env, "XDG_RUNTIME_DIR": fresh, "LIVYD_DAEMON_IDLE_EXIT": "1"}
                series[name].add(await _initialize_time(cmd, cold_env, tmp))
                continue
            series[name].add(await _initialize_time(cmd, env, tmp))
    base = series["bare pygls"].summary()["median"]
    rows = [
        [name, fmt_ms(s.summary()), f"{((s.summary()['median'] or 0) - (base or 0)) * 1000:+.0f} ms"]
        for name, s in series.items()
    ]
    md = f"{rounds} rounds, alternated; spawn to the initialize result\n\n" + table(
        ["server", "ms", "vs bare pygls"], rows
    )
    return {"results": {k: s.summary() for k, s in series.items()}, "markdown": md}


_PYLIVY_SCRIPT = """
import sys
from livy import LivySession
print(LivySession(sys.argv[1], int(sys.argv[2]), echo=False).run(sys.argv[3]).text)
"""


async def exec_vs_pylivy(ctx: Context) -> dict[str, Any]:
    """``livyd exec`` of a trivial statement on a running session vs the equivalent pylivy script
    (end to end, sandbox), and spawn-to-first-request of ``livyd exec`` vs the bare imports."""
    rounds = 5 if ctx.quick else 15
    _compile_livyd()
    server = await ctx.server("sandbox")
    sid = await server.new_session()
    await server.http.post(f"{server.url}/sessions/{sid}/statements", json={"code": "1"})
    cmds = {
        "livyd exec": [LIVYD, "exec", "--url", server.url, "--session", str(sid), "1 + 1"],
        "pylivy script": [sys.executable, "-c", _PYLIVY_SCRIPT, server.url, str(sid), "1 + 1"],
        "python -c 'import httpx, pydantic, anyio'": [sys.executable, "-c", "import httpx, pydantic, anyio"],
    }
    total = {k: Series() for k in cmds}
    first = {k: Series() for k in cmds}
    reqs = {k: Series() for k in cmds}
    for r in range(rounds):
        names = list(cmds)
        names = names[r % len(names) :] + names[: r % len(names)]
        for name in names:
            since = await server.count()
            start = time.monotonic()
            proc = await asyncio.create_subprocess_exec(
                *cmds[name], stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
            )
            _out, err = await proc.communicate()
            end = time.monotonic()
            assert proc.returncode == 0, err.decode()[-2000:]
            log = await server.requests(since)
            total[name].add(end - start)
            reqs[name].add(len(log))
            if log:
                first[name].add(log[0][0] - start)
    await server.delete_session(sid)
    imports = total["python -c 'import httpx, pydantic, anyio'"].summary()["median"] or 0
    rows = [
        [name, fmt_ms(total[name].summary()), fmt_ms(first[name].summary()), fmt_num(reqs[name].summary(), 0)]
        for name in cmds
    ]
    exec_total = total["livyd exec"].summary()["median"] or 0
    pyl_total = total["pylivy script"].summary()["median"] or 0
    exec_first = first["livyd exec"].summary()["median"] or 0
    md = (
        f"{rounds} rounds, alternated, sandbox, an idle session\n\n"
        + table(["command", "end to end (ms)", "spawn → first request (ms)", "requests"], rows)
        + f"\n\npylivy script / livyd exec: {pyl_total / exec_total:.2f}× (target ≥ 3×); "
        f"livyd exec spawn → first request minus the bare imports' whole run: "
        f"{(exec_first - imports) * 1000:+.0f} ms (target ≤ +50 ms)"
    )
    return {
        "results": {
            name: {
                "total": total[name].summary(),
                "first_request": first[name].summary(),
                "requests": reqs[name].summary(),
            }
            for name in cmds
        },
        "speedup_vs_pylivy": pyl_total / exec_total,
        "first_request_minus_imports_s": exec_first - imports,
        "markdown": md,
    }


SCENARIOS = {
    "overhead": overhead,
    "spread": spread,
    "queued": queued,
    "many": many,
    "bigoutput": big_output,
    "logs": log_follow,
    "startup": startup,
    "exec": exec_vs_pylivy,
}
