"""``python -m bench [--quick] [--only NAME,...] [--json PATH]``: run the benchmarks of issue 7.

Every scenario starts the servers it needs (:mod:`bench._serve`), runs its contenders alternated
in one run, prints a markdown section with medians (min–max) and ratios against the named
baselines, and the whole run is written as JSON (default ``bench/results.json``, or
``bench/results-quick.json`` with ``--quick``) with the command and the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

from bench._scenarios import SCENARIOS, Context


def machine() -> dict[str, Any]:
    load = os.getloadavg()
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            mem = f.readline().split(":", 1)[1].strip()
    except OSError:
        pass
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "")
    except OSError:
        pass
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "memory": mem,
        "loadavg_at_start": [round(x, 2) for x in load],
    }


async def run(names: list[str], quick: bool) -> dict[str, Any]:
    ctx = Context(quick=quick)
    out: dict[str, Any] = {
        "command": " ".join(["python -m bench", *sys.argv[1:]]),
        "quick": quick,
        "machine": machine(),
        "started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "scenarios": {},
    }
    try:
        for name in names:
            t0 = time.monotonic()
            print(f"## {name}", flush=True)
            result = await SCENARIOS[name](ctx)
            result["seconds"] = round(time.monotonic() - t0, 1)
            result["loadavg_after"] = [round(x, 2) for x in os.getloadavg()]
            out["scenarios"][name] = result
            print(
                result["markdown"] + f"\n\n({result['seconds']} s, load {result['loadavg_after']})\n",
                flush=True,
            )
    finally:
        await ctx.close()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="fewer rounds, shorter statements (a few minutes)"
    )
    parser.add_argument("--only", default="", help=f"comma-separated scenarios: {', '.join(SCENARIOS)}")
    parser.add_argument("--json", type=Path, default=None, help="where to write the results")
    args = parser.parse_args(argv)
    names = [n for n in args.only.split(",") if n] or list(SCENARIOS)
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario {', '.join(unknown)} (choose from {', '.join(SCENARIOS)})")
    results = asyncio.run(run(names, args.quick))
    path = args.json or Path(__file__).with_name("results-quick.json" if args.quick else "results.json")
    path.write_text(json.dumps(results, indent=1, default=str) + "\n")
    print(f"results written to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
