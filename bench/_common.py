"""What every scenario uses: the server processes, their request counts, and the statistics."""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

PROBE = {"X-Bench-Probe": "1"}
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@dataclass
class Server:
    """A server process from :mod:`bench._serve` (``sandbox`` or ``imitation``)."""

    kind: str
    url: str
    proc: asyncio.subprocess.Process
    http: httpx.AsyncClient

    @classmethod
    async def start(cls, kind: str) -> Server:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench._serve",
            kind,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": ROOT},
        )
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), 60)).decode().strip()
        if not line.startswith("ready "):
            raise RuntimeError(f"bench server {kind} did not start: {line!r}")
        return cls(kind, line.split()[1], proc, httpx.AsyncClient(timeout=120, headers=PROBE))

    async def stop(self) -> None:
        await self.http.aclose()
        if self.proc.stdin is not None:
            self.proc.stdin.close()  # the server exits when its stdin closes
        try:
            await asyncio.wait_for(self.proc.wait(), 20)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()

    async def count(self) -> int:
        return int((await self.http.get(f"{self.url}/__bench/count")).json()["count"])

    async def requests(self, since: int = 0) -> list[tuple[float, str, str]]:
        rows = (await self.http.get(f"{self.url}/__bench/requests", params={"since": since})).json()[
            "requests"
        ]
        return [(float(t), str(m), str(p)) for t, m, p in rows]

    async def statement_times(self, session_id: int, statement_id: int | None = None) -> tuple[float, float]:
        """(started, completed) of a statement on the monotonic clock (the newest one by default)."""
        params: dict[str, Any] = {"session": session_id}
        if statement_id is not None:
            params["id"] = statement_id
        body = (await self.http.get(f"{self.url}/__bench/statement", params=params)).json()
        return float(body["started"]), float(body["completed"])

    async def new_session(self, kind: str = "pyspark") -> int:
        """A session made by the benchmark itself (not counted), waited until idle."""
        sid = int((await self.http.post(f"{self.url}/sessions", json={"kind": kind})).json()["id"])
        deadline = time.monotonic() + 120
        while (await self.http.get(f"{self.url}/sessions/{sid}")).json()["state"] != "idle":
            if time.monotonic() > deadline:
                raise RuntimeError(f"session {sid} on the {self.kind} never became idle")
            await asyncio.sleep(0.05)
        return sid

    async def delete_session(self, sid: int) -> None:
        await self.http.delete(f"{self.url}/sessions/{sid}")

    async def log_rate(self, sid: int, rate: float) -> None:
        await self.http.post(f"{self.url}/__bench/log-rate", params={"session": sid, "rate": rate})


@dataclass
class Series:
    """Samples of one measure for one contender."""

    values: list[float] = field(default_factory=list)

    def add(self, value: float) -> None:
        self.values.append(value)

    def summary(self) -> dict[str, float | int | None]:
        if not self.values:
            return {"n": 0, "median": None, "min": None, "max": None}
        return {
            "n": len(self.values),
            "median": statistics.median(self.values),
            "min": min(self.values),
            "max": max(self.values),
        }


def fmt_ms(summary: dict[str, Any]) -> str:
    """``median (min–max)`` in milliseconds, from a summary in seconds."""
    if not summary.get("n"):
        return "–"
    return f"{summary['median'] * 1000:.1f} ({summary['min'] * 1000:.1f}–{summary['max'] * 1000:.1f})"


def fmt_num(summary: dict[str, Any], digits: int = 1) -> str:
    if not summary.get("n"):
        return "–"
    if summary["min"] == summary["max"]:
        return f"{summary['median']:.{digits}f}"
    return f"{summary['median']:.{digits}f} ({summary['min']:.{digits}f}–{summary['max']:.{digits}f})"


def ratio(value: float | None, baseline: float | None) -> str:
    if value is None or baseline is None or baseline <= 0:
        return "–"
    return f"{value / baseline:.2f}×"


def table(headers: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)
