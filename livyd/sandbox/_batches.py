"""Batches: one OS process per batch, in its own process group, with Livy's states and log.

A batch is ``spark-submit`` of a file (livy-rest.md section 9). The sandbox runs:

* ``.py`` files with pyspark's own ``bin/spark-submit`` (``--master local[1]``, UI off, every
  listener on 127.0.0.1) when pyspark is installed, else with plain ``python``; ``pyFiles`` go to
  ``--py-files`` (or ``PYTHONPATH``), ``files`` are copied into the batch's working directory
  (and passed as ``--files``), ``args`` follow the file;
* ``.jar`` files with ``--class className`` through spark-submit only; without pyspark the create
  is refused with 400 naming the missing extra.

``--batch-launcher python`` forces plain Python even with pyspark installed (fast tests);
``spark-submit`` forces spark-submit.

States (5.3): ``starting`` until the process runs, ``running``, then ``success`` (exit 0),
``dead`` (non-zero exit, or the launch failed) or ``killed`` (DELETE). The process is started
with ``start_new_session=True`` so that DELETE can signal the whole tree (spark-submit starts a
JVM which starts Python): SIGTERM to the group, then SIGKILL after a grace period.
Stdout and stderr feed the 200-line ring buffers of the batch log. Finished batches are removed
``--state-retain`` seconds later; batches never time out for inactivity.
"""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import anyio
import structlog
from anyio.abc import ByteReceiveStream, Process, TaskGroup

from livyd.sandbox._logbuffer import LogBuffer
from livyd.sandbox._resources import Staged
from livyd.sandbox._sessions import SandboxOptions, find_by_key, prepare_workdir, run_all_shielded

__all__ = ["Batch", "BatchManager", "find_spark_submit"]

log = structlog.get_logger()

KILL_GRACE = 5.0


def find_spark_submit() -> str | None:
    """pyspark's bundled ``bin/spark-submit``, or None when pyspark is not installed."""
    import importlib.util

    spec = importlib.util.find_spec("pyspark")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = Path(location) / "bin" / "spark-submit"
        if candidate.exists():
            return str(candidate)
    return None


class Batch:
    """One batch job and its process."""

    def __init__(self, *, id: int, request: dict[str, Any], owner: str | None, proxy_user: str | None,
                 command: list[str], env: dict[str, str], cwd: Path, files: list[Staged]) -> None:
        self.id = id
        self.request = request
        self.name: str | None = request.get("name")
        self.owner = owner
        self.proxy_user = proxy_user
        self.state = "starting"
        self.command = command
        self.env = env
        self.cwd = cwd
        self._files = files
        self.log = LogBuffer()
        self.process: Process | None = None
        self.finished_at: float | None = None
        self._killed = False
        self.done = anyio.Event()

    @property
    def active(self) -> bool:
        """Not yet success / dead / killed."""
        return self.state in ("starting", "running")

    async def run(self) -> None:
        """Launch, stream the output into the log, and record the outcome."""
        try:
            await anyio.to_thread.run_sync(prepare_workdir, self.cwd, self._files)
            self.process = await anyio.open_process(
                self.command, stdin=subprocess.DEVNULL, cwd=str(self.cwd), env=self.env,
                start_new_session=True,
            )
        except Exception as exc:
            self.log.add_line("stderr", f"Failed to launch the batch: {exc}")
            self._finish("dead")
            return
        if not self._killed:
            self.state = "running"
        log.info("batch running", batch=self.id, pid=self.process.pid)
        process = self.process
        async with anyio.create_task_group() as tg:
            if process.stdout is not None:
                tg.start_soon(self._pump, process.stdout, "stdout")
            if process.stderr is not None:
                tg.start_soon(self._pump, process.stderr, "stderr")
            code = await process.wait()
        self.log.flush()
        if self._killed:
            self._finish("killed")
        else:
            self._finish("success" if code == 0 else "dead")

    async def _pump(self, stream: ByteReceiveStream, name: str) -> None:
        decoder_buffer = b""
        try:
            async for chunk in stream:
                decoder_buffer += chunk
                *lines, decoder_buffer = decoder_buffer.split(b"\n")
                for line in lines:
                    self.log.add_line(name, line.decode("utf-8", "replace"))
        except (anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError):
            pass
        if decoder_buffer:
            self.log.add_line(name, decoder_buffer.decode("utf-8", "replace"))

    def _finish(self, state: str) -> None:
        if self.active:
            self.state = state
            self.finished_at = time.monotonic()
        self.done.set()

    async def kill(self) -> None:
        """Kill the whole process tree; the batch ends ``killed``."""
        if not self.active:
            return
        self._killed = True
        process = self.process
        if process is None or process.returncode is not None:
            self._finish("killed")
            return
        for sig in (signal.SIGTERM, signal.SIGKILL):  # SIGKILL only if the grace period passes
            _signal_group(process.pid, sig)
            with anyio.move_on_after(KILL_GRACE, shield=True):
                await self.done.wait()
            if self.done.is_set():
                break
        self._finish("killed")


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


class BatchManager:
    """All batches: their own id counter (separate from sessions), runners and retention."""

    def __init__(self, options: SandboxOptions, task_group: TaskGroup) -> None:
        self.options = options
        self._tg = task_group
        self.batches: dict[int, Batch] = {}
        self._ids = itertools.count()
        self.spark_submit = find_spark_submit() if options.batch_launcher != "python" else None
        if options.batch_launcher == "spark-submit" and self.spark_submit is None:
            raise ValueError("--batch-launcher spark-submit: pyspark is not installed "
                             "(pip install 'livyd[spark]')")

    def allocate_id(self) -> int:
        """Consume the next batch id (one per creation attempt)."""
        return next(self._ids)

    def lookup(self, key: str) -> Batch | None:
        """By id (all digits) or by name."""
        return find_by_key(self.batches, key)

    def build_command(self, *, batch_id: int, file: Path, class_name: str | None, args: list[str],
                      py_files: list[Path], files: list[Staged], jars: list[Path],
                      conf: dict[str, str], name: str | None) -> tuple[list[str], dict[str, str]]:
        """The argv and environment for a batch.

        :raises ValueError: a ``.jar`` without spark-submit, or a file that is neither .py nor .jar.
        """
        python = self.options.python
        env = dict(os.environ)
        env.update({"PYTHONUNBUFFERED": "1", "SPARK_LOCAL_IP": "127.0.0.1",
                    "PYSPARK_PYTHON": python, "PYSPARK_DRIVER_PYTHON": python})
        is_jar = file.suffix == ".jar"
        if is_jar and self.spark_submit is None:
            raise ValueError(f"file: {file.name!r} is a .jar: running it needs spark-submit, which comes "
                             "with pyspark (pip install 'livyd[spark]')")
        if not is_jar and file.suffix != ".py":
            raise ValueError(f"file: {file.name!r} is neither a .py nor a .jar file; the sandbox runs "
                             "Python files (and jars with spark-submit)")
        if self.spark_submit is not None:
            cmd = [self.spark_submit, "--master", "local[1]", "--name", name or f"livy-batch-{batch_id}",
                   "--conf", "spark.ui.enabled=false", "--conf", "spark.driver.host=127.0.0.1",
                   "--conf", "spark.driver.bindAddress=127.0.0.1"]
            # Small and quick local JVM defaults (recipes.md section 4), unless the batch sets them.
            defaults = {"spark.driver.memory": "512m", "spark.sql.shuffle.partitions": "1",
                        "spark.driver.extraJavaOptions": "-XX:+UseSerialGC -XX:TieredStopAtLevel=1"}
            for key, value in defaults.items():
                if key not in conf:
                    cmd += ["--conf", f"{key}={value}"]
            for key, value in conf.items():
                cmd += ["--conf", f"{key}={value}"]
            if class_name:
                cmd += ["--class", class_name]
            if jars:
                cmd += ["--jars", ",".join(map(str, jars))]
            if py_files:
                cmd += ["--py-files", ",".join(map(str, py_files))]
            if files:
                cmd += ["--files", ",".join(str(f.path) for f in files)]
            cmd += [str(file), *args]
            return cmd, env
        paths = [str(p) for p in py_files]
        if env.get("PYTHONPATH"):
            paths.append(env["PYTHONPATH"])
        if paths:
            env["PYTHONPATH"] = os.pathsep.join(paths)
        return [python, str(file), *args], env

    def add(self, batch: Batch) -> None:
        """Register *batch* and start its runner."""
        self.batches[batch.id] = batch
        self._tg.start_soon(self._run_batch, batch)

    async def _run_batch(self, batch: Batch) -> None:
        try:
            await batch.run()
        except Exception as exc:
            log.exception("batch runner crashed", batch=batch.id, error=str(exc))
            batch._finish("dead")

    async def delete(self, batch: Batch) -> None:
        """Kill (if running) and forget *batch*."""
        await batch.kill()
        self.batches.pop(batch.id, None)

    async def collect(self) -> None:
        """Remove batches finished more than ``state_retain`` seconds ago."""
        now = time.monotonic()
        for batch in list(self.batches.values()):
            if batch.finished_at is not None and now - batch.finished_at > self.options.state_retain:
                self.batches.pop(batch.id, None)

    async def aclose(self) -> None:
        """Kill every running batch."""
        await run_all_shielded([batch.kill for batch in self.batches.values()])


def default_python() -> str:
    """The interpreter sessions and batches use unless ``--python`` says otherwise."""
    return sys.executable
