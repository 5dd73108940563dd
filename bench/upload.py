"""Upload benchmark: livyd's WebHDFS client vs HdfsCLI (PyPI ``hdfs``) vs curl, through the sandbox.

    python bench/upload.py                 # 1 GiB, 3 rounds, contenders alternated
    python bench/upload.py --size-mb 256 --rounds 2

Each upload runs in a fresh subprocess (so peak RSS belongs to that upload alone) against one
sandbox started for the run; the order of the contenders rotates every round. Reported: median
throughput (MiB/s) and its ratio to each baseline, and RSS growth during the upload (peak RSS
after minus peak RSS before, in the uploading process; for curl its peak RSS). Targets (issue 8):
throughput at least HdfsCLI's, RSS growth <= 64 MiB. Then: deploying an unchanged project a
second time sends no file (counted by the workspace). No assertion is timed; the script exits
non-zero only when a target is missed.
"""

from __future__ import annotations

import argparse
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

ROOT = Path(__file__).resolve().parents[1]
USER = "bench"

LIVYD = r"""
import json, resource, sys, time, anyio
from pathlib import Path
from livyd import WebHDFSClient

def rss():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

async def main(url, local, remote):
    async with WebHDFSClient(url, user=USER_NAME) as hdfs:
        await hdfs.upload(remote + ".warm", b"x", overwrite=True)
        before = rss(); t = time.perf_counter()
        await hdfs.upload(remote, Path(local), overwrite=True)
        seconds = time.perf_counter() - t
    print(json.dumps({"seconds": seconds, "growth": rss() - before}))

anyio.run(main, *sys.argv[1:4])
""".replace("USER_NAME", repr(USER))

HDFSCLI = r"""
import json, resource, sys, time
from hdfs import InsecureClient

def rss():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

url, local, remote = sys.argv[1:4]
client = InsecureClient(url.split("/webhdfs/v1")[0], user=USER_NAME)
client.write(remote + ".warm", data=b"x", overwrite=True)
before = rss(); t = time.perf_counter()
client.upload(remote, local, overwrite=True)
seconds = time.perf_counter() - t
print(json.dumps({"seconds": seconds, "growth": rss() - before}))
""".replace("USER_NAME", repr(USER))


def run_python(code: str, url: str, local: Path, remote: str) -> dict[str, float]:
    proc = subprocess.run([sys.executable, "-c", code, url, str(local), remote], capture_output=True,
                          text=True, timeout=1800, cwd=ROOT)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-2000:])
    result: dict[str, float] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def run_curl(url: str, local: Path, remote: str) -> dict[str, float]:
    step1 = subprocess.run(["curl", "-s", "-i", "-X", "PUT",
                            f"{url}{remote}?op=CREATE&overwrite=true&user.name={USER}"],
                           capture_output=True, text=True, timeout=60)
    match = re.search(r"^location:\s*(\S+)", step1.stdout, re.IGNORECASE | re.MULTILINE)
    if not match:
        raise RuntimeError(f"curl step 1 gave no Location: {step1.stdout[:300]}")
    t = time.perf_counter()
    proc = subprocess.Popen(["curl", "-s", "-f", "-o", "/dev/null", "-T", str(local),
                             "-H", "Content-Type: application/octet-stream", match.group(1)])
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t
    if status != 0:
        raise RuntimeError(f"curl step 2 failed with status {status}")
    return {"seconds": seconds, "growth": usage.ru_maxrss * 1024}  # curl: its whole peak RSS


def start_sandbox(data_dir: Path) -> tuple[subprocess.Popen[str], str, str]:
    proc = subprocess.Popen([sys.executable, "-m", "livyd.sandbox", "--port", "0", "--webhdfs-port", "0",
                             "--data-dir", str(data_dir)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True, cwd=ROOT)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    m = re.match(r"^livyd sandbox: livy=(\S+) webhdfs=(\S+)$", line.strip())
    if not m:
        proc.kill()
        raise RuntimeError(f"sandbox did not start: {line!r}")
    return proc, m.group(1), m.group(2)


def second_deploy_sends_nothing(webhdfs_url: str, work: Path) -> tuple[int, int]:
    """Deploy a small project twice with a fresh cache; files sent the first and the second time."""
    import anyio

    from livyd import WebHDFSClient
    from livyd._config import DeployConfig
    from livyd._deploy import deploy_project
    from livyd._hdfs import RemoteWorkspace, UploadCache
    from livyd._project import discover_project

    project_dir = work / "project"
    pkg = project_dir / "modules" / "benchpkg"
    pkg.mkdir(parents=True)
    (project_dir / ".git").mkdir()
    for i in range(20):
        (pkg / f"m{i}.py").write_text(f"def f():\n    return {i}\n" * 50)
    (pkg / "__init__.py").write_text("")
    (project_dir / "scripts").mkdir()
    (project_dir / "scripts" / "job.py").write_text("print('job')\n")

    async def go() -> tuple[int, int]:
        async with WebHDFSClient(webhdfs_url, user=USER) as hdfs:
            ws = RemoteWorkspace(hdfs, base_dir=f"/user/{USER}/deploy",
                                 cache=UploadCache(work / "cache.json"))
            project = discover_project(DeployConfig(), cwd=project_dir)
            await deploy_project(project, workspace=ws)
            first = len(ws.sent)
            ws.sent.clear()
            await deploy_project(project, workspace=ws)
            return first, len(ws.sent)

    return anyio.run(go)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mb", type=int, default=1024, help="file size in MiB (default 1024)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds, contenders alternated (default 3)")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = parser.parse_args(argv)
    if shutil.which("curl") is None:
        sys.exit("bench/upload.py needs curl")
    work = Path(tempfile.mkdtemp(prefix="livyd-bench-upload-"))
    data_dir = work / "hdfs"
    data_dir.mkdir()
    sandbox, _, webhdfs = start_sandbox(data_dir)
    try:
        big = work / "big.bin"
        block = os.urandom(1 << 20)
        with big.open("wb") as f:
            for _ in range(args.size_mb):
                f.write(block)
        size = big.stat().st_size
        contenders = {
            "livyd": lambda remote: run_python(LIVYD, webhdfs, big, remote),
            "hdfscli": lambda remote: run_python(HDFSCLI, webhdfs, big, remote),
            "curl": lambda remote: run_curl(webhdfs, big, remote),
        }
        names = list(contenders)
        samples: dict[str, list[dict[str, float]]] = {n: [] for n in names}
        for r in range(args.rounds):
            order = names[r % len(names):] + names[: r % len(names)]
            for name in order:
                result = contenders[name](f"/user/{USER}/{name}.bin")
                samples[name].append(result)
                print(f"round {r + 1} {name:8s} {size / result['seconds'] / 2**20:8.1f} MiB/s  "
                      f"RSS +{result['growth'] / 2**20:.1f} MiB", flush=True)
        throughput = {n: statistics.median(size / s["seconds"] for s in samples[n]) / 2**20 for n in names}
        growth = {n: max(s["growth"] for s in samples[n]) / 2**20 for n in names}
        print(f"\n{args.size_mb} MiB upload through the sandbox's WebHDFS, median of {args.rounds} rounds:")
        for n in names:
            label = "peak RSS" if n == "curl" else "RSS growth"
            print(f"  {n:8s} {throughput[n]:8.1f} MiB/s   {label} {growth[n]:6.1f} MiB")
        ratio_hdfscli = throughput["livyd"] / throughput["hdfscli"]
        ratio_curl = throughput["livyd"] / throughput["curl"]
        print(f"  livyd / HdfsCLI throughput: {ratio_hdfscli:.2f}x   livyd / curl: {ratio_curl:.2f}x")
        first, second = second_deploy_sends_nothing(webhdfs, work)
        print(f"deploy of an unchanged project: first {first} file(s) sent, second {second}")
        ok = ratio_hdfscli >= 1.0 and growth["livyd"] <= 64 and second == 0
        if args.json:
            Path(args.json).write_text(json.dumps({
                "size_mib": args.size_mb, "rounds": args.rounds, "throughput_mib_s": throughput,
                "rss_growth_mib": growth, "ratio_vs_hdfscli": ratio_hdfscli, "ratio_vs_curl": ratio_curl,
                "deploy_files_sent": [first, second], "targets_met": ok}, indent=2))
        print("targets met" if ok else "TARGET MISSED (throughput >= HdfsCLI, RSS growth <= 64 MiB, "
              "second deploy sends nothing)")
        return 0 if ok else 1
    finally:
        sandbox.terminate()
        sandbox.wait(30)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
