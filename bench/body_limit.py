"""Sandbox memory under an oversized statement POST: the body limit vs no limit (issue 11, item 8).

    python bench/body_limit.py                  # a 300 MiB POST, 2 rounds, contenders alternated
    python bench/body_limit.py --size-mb 100 --rounds 3

Each round starts two fresh sandboxes (peak RSS only grows, so a sandbox measures one POST): one
with the default limit (``--max-body-bytes``, 32 MiB) and one whose limit is set beyond the body
(the behaviour before the limit: the whole body is held in memory). The same POST
/sessions/0/statements body is streamed (chunked, so the sending process stays small) to each,
in alternating order, and the sandbox's peak RSS (``VmHWM`` in /proc) is read before and after.
Reported per contender: the status answered, the peak RSS
growth (median over rounds) and its ratio to the baseline (no limit). Target: the limited
sandbox grows by less than 64 MiB. Nothing is timed; the script exits non-zero only when the
target is missed.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import httpx  # noqa: E402
from support import SandboxProcess, start_sandbox  # noqa: E402

MIB = 1024 * 1024


def peak_rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc (Linux only)")


def body(size: int) -> Iterator[bytes]:
    yield b'{"code": "x = \''
    chunk = b"a" * MIB
    sent = 0
    while sent < size:
        piece = chunk[: min(MIB, size - sent)]
        sent += len(piece)
        yield piece
    yield b"'\"}"


def one(sb: SandboxProcess, size: int) -> tuple[int, int]:
    before = peak_rss(sb.proc.pid)
    try:
        resp = httpx.post(f"{sb.livy_url}/sessions/0/statements", content=body(size),
                          headers={"X-Requested-By": "bench", "Content-Type": "application/json"},
                          timeout=600)
        status = resp.status_code
    except httpx.HTTPError:
        status = 0  # the server answered 413 and closed while the body was still being sent
    return status, peak_rss(sb.proc.pid) - before


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size-mb", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    size = args.size_mb * MIB
    names = ["limit (32 MiB default)", "no limit (baseline)"]
    growth: dict[str, list[int]] = {name: [] for name in names}
    statuses: dict[str, set[int]] = {name: set() for name in names}
    for r in range(args.rounds):
        for name in (names if r % 2 == 0 else names[::-1]):
            data = Path(tempfile.mkdtemp(prefix="livyd-bench-"))
            extra = () if name == names[0] else ("--max-body-bytes", str(size * 4))
            sb = start_sandbox(*extra, data_dir=data)
            try:
                status, grew = one(sb, size)
            finally:
                sb.stop()
                shutil.rmtree(data, ignore_errors=True)
            statuses[name].add(status)
            growth[name].append(grew)
    base = statistics.median(growth["no limit (baseline)"]) or 1
    print(f"POST of {args.size_mb} MiB to /sessions/0/statements, {args.rounds} rounds, alternated")
    for name, values in growth.items():
        med = statistics.median(values)
        print(f"  {name:24} status {sorted(statuses[name])}  peak RSS growth {med / MIB:8.1f} MiB  "
              f"({med / base:.3f} x baseline)")
    limited = statistics.median(growth["limit (32 MiB default)"])
    ok = limited < 64 * MIB
    print(f"target: limited sandbox grows < 64 MiB: {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
