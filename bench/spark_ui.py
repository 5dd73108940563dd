"""What watching Spark costs: ``python bench/spark_ui.py [--rounds N] [--startup]``.

Against an embedded sandbox (real local PySpark, its real Spark UI), one session, contenders
alternated round by round in one run:

* **extra requests per second while a statement runs**: the same Spark statement (tasks that
  sleep, several seconds) run with ``on_progress`` (the Spark UI watched) and without (the
  baseline: Livy's statement polls only); the difference in requests the client sent, divided by
  the statement's duration;
* **short statements' round trip**: ``1 + 1`` run with and without ``on_progress``; the median
  round trip of each and their ratio (the watcher never delays a statement poll, and a statement
  shorter than ``start_delay`` costs no Spark UI request);
* **nothing while nothing runs**: requests sent while the session sits idle for a few seconds
  after watched statements (must be 0: the watcher lives only as long as a statement);
* with ``--startup``: the first Spark statement of a fresh session with the Spark UI on (the
  sandbox's default now) against ``spark.ui.enabled=false`` (the previous default).

Prints one line per measure with the ratio against its named baseline.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import anyio

import livyd
from livyd.sandbox import Sandbox

SLOW = "import time\nsc.parallelize(range({n}), {n}).map(lambda x: time.sleep(0.2) or x).count()"


async def requests_during(client: livyd.LivyClient, coro: Any) -> tuple[int, float, Any]:
    before = client.statistics().requests_sent
    t0 = time.perf_counter()
    result = await coro
    return client.statistics().requests_sent - before, time.perf_counter() - t0, result


async def first_spark_statement(client: livyd.LivyClient, conf: dict[str, str]) -> float:
    session = await client.create_session(kind="pyspark", conf=conf)
    try:
        await client.wait_session_ready(session.id, timeout=300)
        t0 = time.perf_counter()
        st = await client.run_statement(session.id, "spark.range(10).count()", timeout=300)
        assert st.output is not None and st.output.text == "10", st
        return time.perf_counter() - t0
    finally:
        await client.delete_session(session.id)


async def main(rounds: int, tasks: int, startup: bool) -> None:
    async with Sandbox() as sb, livyd.LivyClient(sb.livy_url, timeout=120) as client:
        session = await client.create_session(kind="pyspark")
        await client.wait_session_ready(session.id, timeout=300)
        warm = await client.run_statement(session.id, "spark.range(10).count()", timeout=300)
        assert warm.output is not None and warm.output.text == "10"
        # one watched statement first, so the Spark UI's own cold start (JIT) is not measured
        await client.run_statement(session.id, SLOW.format(n=4), on_progress=lambda e: None, timeout=300)

        extra_rates: list[float] = []
        plain_rates: list[float] = []
        watched_rates: list[float] = []
        events_per_run: list[int] = []
        for _ in range(rounds):
            n_plain, t_plain, _ = await requests_during(
                client, client.run_statement(session.id, SLOW.format(n=tasks), timeout=300))
            events: list[Any] = []
            n_watch, t_watch, _ = await requests_during(
                client, client.run_statement(session.id, SLOW.format(n=tasks), on_progress=events.append,
                                             timeout=300))
            plain_rates.append(n_plain / t_plain)
            watched_rates.append(n_watch / t_watch)
            extra_rates.append(n_watch / t_watch - n_plain / t_plain)
            events_per_run.append(len(events))

        short_plain: list[float] = []
        short_watched: list[float] = []
        short_requests: list[int] = []
        for _ in range(rounds * 10):
            _, t, _ = await requests_during(client, client.run_statement(session.id, "1 + 1"))
            short_plain.append(t)
            before = client.statistics().requests_sent
            _, t, _ = await requests_during(client, client.run_statement(session.id, "1 + 1",
                                                                         on_progress=lambda e: None))
            short_watched.append(t)
            short_requests.append(client.statistics().requests_sent - before)

        idle_before = client.statistics().requests_sent
        await anyio.sleep(3.0)
        idle = client.statistics().requests_sent - idle_before

        med = statistics.median
        print(f"statement of {tasks} tasks x 0.2 s, {rounds} rounds alternated:")
        print(f"  requests/s without watching (baseline: Livy's statement polls): {med(plain_rates):.2f}")
        print(f"  requests/s with the Spark UI watched: {med(watched_rates):.2f}  "
              f"(ratio {med(watched_rates) / med(plain_rates):.2f}x baseline)")
        print(f"  extra requests/s while the statement runs: {med(extra_rates):.2f}  "
              f"(events per run: {med(events_per_run):.0f})")
        print(f"short statement '1 + 1', {len(short_plain)} runs each, alternated:")
        print(f"  round trip without watching (baseline): median {med(short_plain) * 1000:.1f} ms")
        print(f"  round trip with on_progress: median {med(short_watched) * 1000:.1f} ms  "
              f"(ratio {med(short_watched) / med(short_plain):.2f}x baseline); requests per run "
              f"{med(short_requests):.0f} (Livy's only: the UI is not read before start_delay)")
        print(f"requests while the session sat idle for 3 s after watched statements: {idle}")
        await client.delete_session(session.id)

        if startup:
            on: list[float] = []
            off: list[float] = []
            for _ in range(rounds):
                off.append(await first_spark_statement(client, {"spark.ui.enabled": "false"}))
                on.append(await first_spark_statement(client, {}))
            print("first Spark statement of a fresh session (JVM start included), alternated:")
            print(f"  Spark UI off (baseline, the previous default): median {med(off):.2f} s")
            print(f"  Spark UI on (the default now): median {med(on):.2f} s  "
                  f"(ratio {med(on) / med(off):.2f}x)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3, help="alternated rounds per measure (default 3)")
    parser.add_argument("--tasks", type=int, default=20, help="tasks of the long statement (default 20)")
    parser.add_argument("--startup", action="store_true", help="also measure the JVM start with/without UI")
    ns = parser.parse_args()
    anyio.run(main, ns.rounds, ns.tasks, ns.startup)
