"""The clients compared: each runs one statement on a session that already exists and says when
the result was in its hands.

* ``livyd library``: :meth:`livyd.LivyClient.run_statement`, in this process.
* ``livyd engine``: :class:`livyd.SessionEngine` (the library's per-session queue and poll plan).
* ``livyd daemon``: ``livyd --stdio --standalone``; ``livy/execute`` over JSON-RPC until the
  task's ``livy/output`` arrives (the round trip an editor sees).
* ``livyd exec``: the command, spawned per statement (``livyd exec --session ID CODE``).
* ``pylivy``: PyPI ``livy`` 0.8, ``LivySession.run`` (in a worker thread: it blocks).
* ``sparkmagic``: ``sparkmagic.livyclientlib`` ``Command.execute`` on a ``LivySession`` (thread).
* ``fixed 1 s``: POST, then GET the statement every second, as the legacy script does.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench._rpc import Daemon

LIVYD = str(Path(sys.executable).with_name("livyd"))


class Contender:
    name = "?"

    async def setup(self, url: str, sid: int) -> None:
        self.url, self.sid = url, sid

    async def run(self, code: str) -> float:
        """Run *code*; return the seconds from the call until the result was here."""
        raise NotImplementedError

    async def close(self) -> None:
        """Release what setup took."""


class Library(Contender):
    name = "livyd library"

    async def setup(self, url: str, sid: int) -> None:
        import livyd

        await super().setup(url, sid)
        self.client = livyd.LivyClient(url)
        await self.client.__aenter__()

    async def run(self, code: str) -> float:
        start = time.monotonic()
        st = await self.client.run_statement(self.sid, code)
        took = time.monotonic() - start
        assert st.output is not None and st.output.status == "ok", st
        return took

    async def close(self) -> None:
        await self.client.aclose()


class Engine(Contender):
    """The library's per-session engine (``livyd.SessionEngine``): queue, poll plan, next-at-once."""

    name = "livyd engine"

    async def setup(self, url: str, sid: int) -> None:
        import livyd

        await super().setup(url, sid)
        self.client = livyd.LivyClient(url)
        await self.client.__aenter__()
        self.engine = livyd.SessionEngine(self.client, sid)
        self.task = asyncio.get_running_loop().create_task(self.engine.run())

    async def run(self, code: str) -> float:
        start = time.monotonic()
        job = await self.engine.submit(code).wait()
        took = time.monotonic() - start
        assert job.statement is not None and job.statement.output is not None, job
        assert job.statement.output.status == "ok", job
        return took

    async def close(self) -> None:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)
        await self.client.aclose()


class DaemonContender(Contender):
    name = "livyd daemon"

    def __init__(self, **settings: Any) -> None:
        self.settings = settings

    async def setup(self, url: str, sid: int) -> None:
        await super().setup(url, sid)
        self.tmp = tempfile.mkdtemp(prefix="livyd-bench-daemon-")
        self.daemon = await Daemon.spawn(
            env={"XDG_STATE_HOME": self.tmp, "XDG_CONFIG_HOME": self.tmp}, cwd=self.tmp
        )
        await self.daemon.initialize(
            {"url": url, "stateDir": os.path.join(self.tmp, "state"), **self.settings}, self.tmp
        )
        await self.daemon.request("livy/attachSession", {"sessionId": sid})

    async def run(self, code: str) -> float:
        start = time.monotonic()
        started = await self.daemon.request("livy/execute", {"code": code, "sessionId": self.sid})
        arrived, out = await self.daemon.output(started["taskId"])
        assert out["status"] == "ok", out
        return arrived - start

    async def close(self) -> None:
        await self.daemon.close()
        shutil.rmtree(self.tmp, ignore_errors=True)  # its state dir and output log (GBs over a run)


class Exec(Contender):
    name = "livyd exec"

    async def run(self, code: str) -> float:
        start = time.monotonic()
        proc = await asyncio.create_subprocess_exec(
            LIVYD,
            "exec",
            "--url",
            self.url,
            "--session",
            str(self.sid),
            code,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        _out, err = await proc.communicate()
        took = time.monotonic() - start
        assert proc.returncode == 0, err.decode()[-2000:]
        return took


class PyLivy(Contender):
    name = "pylivy"

    async def setup(self, url: str, sid: int) -> None:
        from livy import LivySession

        await super().setup(url, sid)
        self.session = LivySession(url, sid, echo=False)

    async def run(self, code: str) -> float:
        def call() -> float:
            start = time.monotonic()
            self.session.run(code)
            return time.monotonic() - start

        return await asyncio.to_thread(call)


class _Quiet:
    """sparkmagic's ipython_display, silenced (it draws widgets in a notebook)."""

    def display(self, *args: Any, **kwargs: Any) -> None: ...
    def writeln(self, *args: Any) -> None: ...
    def write(self, *args: Any) -> None: ...
    def send_error(self, *args: Any) -> None: ...
    def html(self, *args: Any) -> None: ...


class Sparkmagic(Contender):
    name = "sparkmagic"

    async def setup(self, url: str, sid: int) -> None:
        from sparkmagic.livyclientlib.endpoint import Endpoint
        from sparkmagic.livyclientlib.livyreliablehttpclient import LivyReliableHttpClient
        from sparkmagic.livyclientlib.livysession import LivySession

        await super().setup(url, sid)
        http = LivyReliableHttpClient.from_endpoint(Endpoint(url, None))
        self.session = LivySession(http, {"kind": "pyspark"}, _Quiet(), session_id=sid)

    async def run(self, code: str) -> float:
        from sparkmagic.livyclientlib.command import Command

        def call() -> float:
            start = time.monotonic()
            ok, _text, _mime = Command(code).execute(self.session)
            assert ok
            return time.monotonic() - start

        return await asyncio.to_thread(call)


class FixedLoop(Contender):
    name = "fixed 1 s"

    async def setup(self, url: str, sid: int) -> None:
        await super().setup(url, sid)
        self.http = httpx.AsyncClient(timeout=60)

    async def run(self, code: str) -> float:
        start = time.monotonic()
        base = f"{self.url}/sessions/{self.sid}/statements"
        st = (await self.http.post(base, json={"code": code})).json()
        while st["state"] not in ("available", "error", "cancelled"):
            await asyncio.sleep(1.0)
            st = (await self.http.get(f"{base}/{st['id']}")).json()
        return time.monotonic() - start

    async def close(self) -> None:
        await self.http.aclose()


def all_contenders(*, exec_too: bool = True) -> list[Contender]:
    found: list[Contender] = [Library(), Engine(), DaemonContender()]
    if exec_too:
        found.append(Exec())
    found += [PyLivy(), Sparkmagic(), FixedLoop()]
    return found
