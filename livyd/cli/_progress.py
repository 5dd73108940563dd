"""What Spark does while ``exec``/``run`` wait: live progress bars on stderr, and ``--json`` events.

:class:`SparkProgressView` receives the library's progress events (:mod:`livyd._core.sparkinsight`)
and shows, only when stderr is a terminal (and not with ``--json``), one line for the phase
(session starting, Spark starting, waiting behind others, running) and one line per running
Spark job and active stage: a bar of its tasks, ``done/total``, running and failed counts and the
elapsed time; the job number links to its Spark UI page (terminals that support OSC 8 links).
Warnings (failed tasks, spill, skew, an unreachable Spark UI) are printed above the bars, and
also when stderr is not a terminal. With ``--json`` nothing is drawn: every event goes into the
``events`` list of the one JSON document. After a statement that ran Spark jobs, a terminal gets
one line per job with its Spark UI link.

Like :mod:`livyd.cli._render`, this module writes to the terminal (stderr only).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from livyd.cli._render import Renderer, _isatty

__all__ = ["SparkProgressView", "spark_progress"]

_MAX_LINES = 8


def _clock(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


class SparkProgressView:
    """Collects events; draws them when *live* (a rich Live on stderr) is given."""

    def __init__(self, renderer: Renderer, *, label: str, live: bool) -> None:
        self.renderer = renderer
        self.label = label
        self.events: list[dict[str, Any]] = []
        self._live_enabled = live
        self._live: Any = None
        self._started = time.monotonic()
        self._phase: Any = None
        self._phase_at = time.monotonic()
        self._jobs: dict[int, Any] = {}
        self._stages: dict[tuple[int, int], Any] = {}
        self._progress: float | None = None
        self._statement: str | None = None

    # ------------------------------------------------------------ inputs

    def on_update(self, statement: Any) -> None:
        """A statement poll (livyd's on_update): its id and state for the first line."""
        self._statement = f"statement {statement.id}"

    def on_event(self, event: Any) -> None:
        """One :data:`livyd.ProgressEvent`."""
        self.events.append(event.model_dump(mode="json"))
        kind = event.kind
        if kind == "phase":
            self._phase, self._phase_at = event, time.monotonic()
        elif kind == "job":
            self._jobs[event.job_id] = event
        elif kind == "stage":
            self._stages[(event.stage_id, event.attempt_id)] = event
        elif kind == "livy_progress":
            self._progress = event.progress
        elif kind == "warning" and not self.renderer.json_mode:
            self._warn(event.message + (f" ({event.url})" if event.url else ""))
        if self._live is not None:
            self._live.refresh()

    def _warn(self, message: str) -> None:
        if self._live is not None:
            self._live.console.print(f"livyd: warning: {message}", markup=False, highlight=False)
        else:
            self.renderer.warn(message)

    # ------------------------------------------------------------ drawing

    def render(self) -> Any:
        """The live lines (a rich renderable)."""
        from rich.progress_bar import ProgressBar
        from rich.table import Table
        from rich.text import Text

        grid = Table.grid(padding=(0, 1))
        grid.add_column(no_wrap=True)
        grid.add_column(width=24)
        grid.add_column(no_wrap=True, justify="right")
        grid.add_column(no_wrap=True)
        now = time.monotonic()
        head = self._statement or self.label
        phase = self._phase
        detail = phase.detail if phase is not None else "starting"
        running_jobs = [j for j in self._jobs.values() if j.status == "RUNNING"]
        active = [s for s in self._stages.values() if s.status == "ACTIVE"]
        if not running_jobs:
            bar: Any = ""
            count = ""
            if self._jobs and phase is not None and phase.phase == "running":
                finished = len(self._jobs)
                detail = f"running ({finished} Spark job{'s' if finished != 1 else ''} finished)"
            elif self._progress is not None and phase is not None and phase.phase == "running":
                bar = ProgressBar(total=1.0, completed=self._progress, width=24)
                count = f"{self._progress:.0%}"
            grid.add_row(Text(f"{head}: {detail}", overflow="ellipsis"), bar, count,
                         _clock(now - self._phase_at))
        lines = 0
        for job in sorted(running_jobs, key=lambda j: j.job_id):
            if lines >= _MAX_LINES:
                break
            name = Text(f"{head} job {job.job_id}", style=f"link {job.url}" if job.url else "")
            name.append(f" {job.name}"[:48])
            grid.add_row(name, ProgressBar(total=max(job.num_tasks, 1), completed=job.completed_tasks,
                                           width=24),
                         self._counts(job.completed_tasks, job.num_tasks, job.active_tasks, job.failed_tasks),
                         _clock(job.seconds + (now - self._started - job.elapsed)))
            lines += 1
            for stage in sorted((s for s in active if job.job_id in s.job_ids), key=lambda s: s.stage_id):
                if lines >= _MAX_LINES:
                    break
                label = Text(f"  stage {stage.stage_id}.{stage.attempt_id}",
                             style=f"link {stage.url}" if stage.url else "")
                label.append(f" {stage.name}"[:44])
                grid.add_row(label, ProgressBar(total=max(stage.num_tasks, 1),
                                                completed=stage.completed_tasks, width=24),
                             self._counts(stage.completed_tasks, stage.num_tasks, stage.active_tasks,
                                          stage.failed_tasks),
                             _clock(stage.seconds + (now - self._started - stage.elapsed)))
                lines += 1
        return grid

    @staticmethod
    def _counts(done: int, total: int, running: int, failed: int) -> str:
        text = f"{done}/{total} tasks"
        if running:
            text += f", {running} running"
        if failed:
            text += f", {failed} failed"
        return text

    def summary(self) -> None:
        """After the statement (terminal only): one line per Spark job, with its Spark UI link."""
        if not self._live_enabled or not self._jobs:
            return
        for job in sorted(self._jobs.values(), key=lambda j: j.job_id):
            link = f"  {job.url}" if job.url else ""
            self.renderer.notice(f"job {job.job_id} {job.status.lower()}: {job.name}, {job.num_tasks} tasks, "
                                 f"{job.seconds:.1f} s{link}")


@contextmanager
def spark_progress(renderer: Renderer, label: str) -> Iterator[SparkProgressView]:
    """A :class:`SparkProgressView` drawn on stderr while the block runs (a terminal only, not in
    ``--json`` mode); in ``--json`` mode its events are added to the JSON document."""
    live = not renderer.json_mode and _isatty(renderer.stderr)
    view = SparkProgressView(renderer, label=label, live=live)
    if renderer.json_mode:
        renderer.json_extra["events"] = view.events
    if not live:
        yield view
        return
    from rich.live import Live

    console = renderer._console(renderer.stderr)
    with Live(console=console, transient=True, refresh_per_second=4, redirect_stdout=False,
              redirect_stderr=False, get_renderable=view.render) as live_display:
        view._live = live_display
        try:
            yield view
        finally:
            view._live = None
    view.summary()
