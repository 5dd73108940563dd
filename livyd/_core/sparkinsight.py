"""What Spark is doing for one statement, as typed events: a sans-IO analyzer.

Livy tells a client one number per statement (``progress``, completed over total tasks of the
statement's job group). Spark itself knows much more, and serves it from the driver's UI
(``/api/v1``, :mod:`.sparkapi`). Livy sets the Spark *job group* of every statement to the
statement id, so the statement's jobs are the ones whose ``jobGroup`` is that id; their stages are
the statement's stages. This module turns what a client can read (session and statement objects,
snapshots of ``/jobs`` and ``/stages``) into events:

- :class:`PhaseEvent`: where the time goes before the first result: the session starting (with
  YARN's application id and state once Livy's log shows them, e.g. ``ACCEPTED`` = waiting for
  resources in a queue), the interpreter starting (YARN runs the application, the driver and its
  interpreter are not ready yet), the local Spark JVM starting (the sandbox starts it on first
  use), the statement waiting behind others, running. Each names the phase it ends and how long
  it took; a phase learning new facts (the application id) is said again, same start time.
- :class:`JobEvent` / :class:`StageEvent`: a job or stage attempt of this statement changed
  (tasks done / running / failed, status), with a link to its page in the Spark UI.
- :class:`InsightWarning`: worth a user's attention: tasks failing (Spark retries them), a stage
  attempt being retried, spill to disk above ``spill_threshold``, skew (a task longer than
  ``skew_factor`` x the stage's median and than ``skew_min_seconds``), and the Spark UI not
  reachable (said once; Livy's ``progress`` is then all there is).
- :class:`LivyProgressEvent`: Livy's own number, when the Spark UI is not in use.

Nothing here does I/O or reads a clock: ``now`` (monotonic seconds) and ``wall`` (epoch seconds,
for Spark's timestamps) are arguments. :mod:`livyd._insight` drives it over the network.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator

from livyd._core.sparkapi import (
    SparkJob,
    SparkStage,
    SparkStageStatus,
    TaskSummary,
    parse_spark_time,
)

__all__ = [
    "GIB",
    "InsightSettings",
    "InsightWarning",
    "JobEvent",
    "JobTracker",
    "LivyProgressEvent",
    "Phase",
    "PhaseEvent",
    "PhaseTracker",
    "ProgressEvent",
    "SparkUIEvent",
    "StageEvent",
    "describe",
    "format_bytes",
    "job_url",
    "parse_size",
    "progress_event_adapter",
    "stage_url",
    "unreachable_warning",
    "yarn_report",
]

GIB = 1 << 30

Phase = Literal["session_starting", "interpreter_starting", "spark_starting", "waiting", "running"]

#: Livy's session log on YARN (spark-submit's ``Client``) reports the application every second:
#: ``Application report for application_1700000000000_0001 (state: ACCEPTED)``.
_YARN_REPORT = re.compile(r"Application report for (application_\d+_\d+) \(state: ([A-Z_]+)\)")
#: What the driver log shows while a local SparkSession starts (the sandbox says so itself;
#: Spark's own first lines follow).
_SPARK_STARTING = ("starting a local SparkSession", "Setting default log level to",
                   "Running Spark version")


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?b?)\s*$", re.IGNORECASE)


def parse_size(value: object) -> object:
    """``"1g"``, ``"512m"``, ``"2 GiB"`` or a number of bytes; anything else is left to pydantic."""
    if isinstance(value, str):
        m = _SIZE.match(value)
        if not m:
            raise ValueError("expected a size such as '1g', '512m' or a number of bytes")
        power = " kmgtp".index(m.group(2).lower() or " ")
        return int(float(m.group(1)) * 1024**power)
    return value


class InsightSettings(BaseModel):
    """How livyd watches Spark for a statement (per profile: ``[spark_ui]`` in livyd.toml).

    The Spark UI is read only while a statement runs: from ``start_delay`` seconds after it
    started running (so short statements cost nothing), at most once per statement poll and at
    most every ``interval`` seconds.
    """

    # defer_build: the schema is built when the model is first used, not at import (start-up)
    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True, defer_build=True)

    enabled: bool = Field(True, description="read the Spark UI while statements run")
    url: str | None = Field(None, description="URL template of the Spark UI (see livyd._core.sparklinks)")
    log_url: str | None = Field(None, description="URL template of driver/executor logs")
    interval: float = Field(0.5, ge=0.05, le=60, description="shortest time between two reads of the "
                            "Spark UI (they back off to 4 x this while nothing changes)")
    start_delay: float = Field(0.25, ge=0, le=60, description="read the UI once a statement ran this long")
    spill_threshold: int = Field(GIB, ge=0, description="bytes spilled to disk by a stage before a "
                                 "warning (default 1 GiB; '1g', '512m' accepted)")
    skew_factor: float = Field(3.0, gt=1.0, description="a task this many times the stage's median ...")
    skew_min_seconds: float = Field(30.0, ge=0, description="... and longer than this is skew")

    @field_validator("spill_threshold", mode="before")
    @classmethod
    def _size(cls, value: object) -> object:
        return parse_size(value)

    @field_validator("url", "log_url")
    @classmethod
    def _template(cls, value: str | None) -> str | None:
        from livyd._core.sparklinks import template_problem

        problem = template_problem(value) if value else None
        if problem:
            raise ValueError(problem)
        return value


class _Event(BaseModel):
    # defer_build: the schema is built when the model is first used, not at import (start-up)
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    #: seconds since the watch began (the statement was submitted or the session created)
    elapsed: float


class PhaseEvent(_Event):
    """The statement (or its session) entered *phase*; *previous* lasted *previous_seconds*."""

    kind: Literal["phase"] = "phase"
    phase: Phase
    detail: str
    app_id: str | None = None
    yarn_state: str | None = None
    previous: Phase | None = None
    previous_seconds: float | None = None


class SparkUIEvent(_Event):
    """The Spark UI of the session answered at *url* (the application *app_id*)."""

    kind: Literal["spark_ui"] = "spark_ui"
    url: str
    app_id: str


class JobEvent(_Event):
    """A Spark job of the statement changed. ``seconds``: how long it ran (so far)."""

    kind: Literal["job"] = "job"
    job_id: int
    name: str
    status: str
    stage_ids: list[int]
    num_tasks: int
    completed_tasks: int
    active_tasks: int
    failed_tasks: int
    killed_tasks: int
    skipped_tasks: int
    seconds: float
    url: str | None = None


class StageEvent(_Event):
    """A stage attempt of the statement's jobs changed."""

    kind: Literal["stage"] = "stage"
    stage_id: int
    attempt_id: int
    job_ids: list[int]
    name: str
    status: str
    num_tasks: int
    completed_tasks: int
    active_tasks: int
    failed_tasks: int
    killed_tasks: int
    seconds: float
    disk_bytes_spilled: int = 0
    memory_bytes_spilled: int = 0
    shuffle_read_bytes: int = 0
    shuffle_write_bytes: int = 0
    input_bytes: int = 0
    url: str | None = None


WarningCode = Literal["task_failures", "stage_retry", "spill", "skew", "spark_ui_unreachable"]


class InsightWarning(_Event):
    """Something a user should look at; each (code, stage attempt) is said once."""

    kind: Literal["warning"] = "warning"
    code: WarningCode
    message: str
    stage_id: int | None = None
    attempt_id: int | None = None
    url: str | None = None


class LivyProgressEvent(_Event):
    """Livy's ``progress`` (completed / total tasks of the statement), when nothing better is known."""

    kind: Literal["livy_progress"] = "livy_progress"
    progress: float


ProgressEvent = Annotated[
    PhaseEvent | SparkUIEvent | JobEvent | StageEvent | InsightWarning | LivyProgressEvent,
    Field(discriminator="kind"),
]

progress_event_adapter: TypeAdapter[ProgressEvent] = TypeAdapter(
    ProgressEvent, config=ConfigDict(defer_build=True)  # built at first use, not at import
)


# --------------------------------------------------------------------------- helpers


def format_bytes(n: float) -> str:
    """``1.5 GiB``-style sizes for messages."""
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"  # pragma: no cover


def job_url(ui: str | None, job_id: int) -> str | None:
    """The Spark UI page of a job."""
    return f"{ui.rstrip('/')}/jobs/job/?id={job_id}" if ui else None


def stage_url(ui: str | None, stage_id: int, attempt_id: int) -> str | None:
    """The Spark UI page of a stage attempt."""
    return f"{ui.rstrip('/')}/stages/stage/?id={stage_id}&attempt={attempt_id}" if ui else None


def yarn_report(lines: Iterable[str]) -> tuple[str, str] | None:
    """The last ``(application id, YARN state)`` that spark-submit reported in Livy's log."""
    found: tuple[str, str] | None = None
    for line in lines:
        m = _YARN_REPORT.search(line)
        if m:
            found = (m.group(1), m.group(2))
    return found


def _spark_starting(lines: Iterable[str]) -> bool:
    return any(marker in line for line in lines for marker in _SPARK_STARTING)


# --------------------------------------------------------------------------- phases


class PhaseTracker:
    """Phases before the first result, from session and statement observations.

    Create it when the watch begins (``now``); feed :meth:`observe_session` while the session
    starts or while the statement runs without Spark jobs, and :meth:`observe_statement` after
    each statement poll. Each call returns the events it caused (a phase change only).
    """

    def __init__(self, *, now: float) -> None:
        self.started = now
        self.phase: Phase | None = None
        self._phase_since = now
        self.app_id: str | None = None
        self.yarn_state: str | None = None
        self._spark_marker = False
        self._statement_state: str | None = None
        self._waiting_seen = False

    def _enter(self, now: float, phase: Phase, detail: str, *, again: bool = False) -> list[PhaseEvent]:
        """Enter *phase* (nothing when already in it, unless *again*: same phase, new facts)."""
        if phase == self.phase and not again:
            return []
        if phase == self.phase:
            previous, seconds = None, None
        else:
            previous, seconds = self.phase, (now - self._phase_since if self.phase else None)
            self.phase, self._phase_since = phase, now
        return [PhaseEvent(elapsed=round(now - self.started, 3), phase=phase, detail=detail,
                           app_id=self.app_id, yarn_state=self.yarn_state, previous=previous,
                           previous_seconds=None if seconds is None else round(seconds, 3))]

    def observe_session(self, now: float, *, state: str, app_id: str | None,
                        log: Sequence[str] = ()) -> list[PhaseEvent]:
        """A ``GET /sessions/{id}``: its state, ``appId`` and last log lines."""
        events: list[PhaseEvent] = []
        report = yarn_report(log)
        changed = False
        if report is not None and report != (self.app_id, self.yarn_state):
            self.app_id, self.yarn_state = report
            changed = True
        if app_id and app_id != self.app_id:
            self.app_id = app_id
            changed = True
        if state in ("not_started", "starting", "recovering"):
            phase: Phase = "session_starting"
            detail = "the session is starting"
            if self.yarn_state == "ACCEPTED":
                detail = f"waiting in YARN for resources ({self.app_id}: ACCEPTED)"
            elif self.yarn_state == "RUNNING":
                phase = "interpreter_starting"
                detail = f"YARN application {self.app_id} runs; the driver and interpreter are starting"
            elif self.app_id:
                detail = f"the session is starting ({self.app_id})"
            return self._enter(now, phase, detail, again=changed and self.phase == phase)
        if self._statement_state == "running" and app_id is None and not self._spark_marker \
                and _spark_starting(log):
            self._spark_marker = True
            events += self._enter(now, "spark_starting",
                                  "a local Spark JVM is starting (the first statement touching spark)")
        if self._spark_marker and app_id is not None and self.phase == "spark_starting":
            events += self._enter(now, "running", f"Spark application {app_id} is up; running")
        return events

    def observe_statement(self, now: float, *, state: str) -> list[PhaseEvent]:
        """A statement poll: ``waiting`` (behind others) or ``running``.

        Livy answers every new statement ``waiting``, also when nothing runs before it: only a
        statement still waiting at a later read waits behind something (another client's
        statement; livyd's own queue holds the rest), so the first ``waiting`` is no phase."""
        self._statement_state = state
        if state == "waiting":
            if not self._waiting_seen:
                self._waiting_seen = True
                return []
            return self._enter(now, "waiting", "waiting behind another statement running in the session")
        if state in ("running", "cancelling") and self.phase in (None, "session_starting",
                                                                 "interpreter_starting", "waiting"):
            return self._enter(now, "running", "running")
        return []


# --------------------------------------------------------------------------- jobs and stages


class JobTracker:
    """The statement's Spark jobs and stages, from snapshots of the Spark UI's REST API.

    :meth:`observe` takes ``/jobs`` (all of them: only those whose ``jobGroup`` is the statement
    id are kept) and the stage attempts just read (``/stages?status=active`` plus any stage
    refreshed with :meth:`stages_to_refresh`); it returns events for what changed and the
    warnings the new numbers trigger.
    """

    def __init__(self, statement_id: int, settings: InsightSettings | None = None, *, now: float,
                 ui_url: str | None = None) -> None:
        self.group = str(statement_id)
        self.settings = settings or InsightSettings()
        self.started = now
        self.ui_url = ui_url
        self.jobs: dict[int, SparkJob] = {}
        self.stages: dict[tuple[int, int], SparkStage] = {}
        self._job_seen: dict[int, float] = {}
        self._stage_seen: dict[tuple[int, int], float] = {}
        self._last_job: dict[int, tuple[object, ...]] = {}
        self._last_stage: dict[tuple[int, int], tuple[object, ...]] = {}
        self._warned: set[tuple[str, int, int]] = set()
        self._skew_checked: dict[tuple[int, int], float] = {}
        self._ever_active: set[int] = set()

    # ------------------------------------------------------------ planning

    def stage_ids(self) -> set[int]:
        """Every stage id of the statement's jobs."""
        return {s for job in self.jobs.values() for s in job.stage_ids}

    def stages_to_refresh(self, active: Iterable[SparkStage]) -> list[int]:
        """Stages of ours seen running before that are not running now and whose final numbers we
        have not read yet: read ``/stages/{id}`` once for each."""
        running = {s.stage_id for s in active}
        final = {k[0] for k, s in self.stages.items() if s.status.is_final}
        return sorted(self._ever_active - running - final)

    def plan_key(self) -> tuple[tuple[tuple[int, str], ...], tuple[tuple[int, int, str], ...]]:
        """What the poll planner treats as a state change: the jobs' and stage attempts' statuses."""
        return (tuple(sorted((j, str(job.status)) for j, job in self.jobs.items())),
                tuple(sorted((k[0], k[1], str(s.status)) for k, s in self.stages.items())))

    def tasks_done(self) -> int:
        """Completed tasks over the statement's jobs (the planner's "progress")."""
        return sum(job.num_completed_tasks for job in self.jobs.values())

    def stages_unfinished(self) -> list[int]:
        """Stages of ours whose final numbers are not known (read once more at the end)."""
        final = {k[0] for k, s in self.stages.items() if s.status.is_final}
        return sorted(self.stage_ids() - final)

    def skew_candidates(self, now: float) -> list[tuple[int, int]]:
        """Running stage attempts old enough for skew (``skew_min_seconds``) whose task times are
        worth reading now (at most once per ``skew_min_seconds / 2`` each)."""
        out: list[tuple[int, int]] = []
        s = self.settings
        for key, stage in self.stages.items():
            if stage.status != SparkStageStatus.ACTIVE or ("skew", *key) in self._warned:
                continue
            if now - self._stage_seen.get(key, now) < s.skew_min_seconds:
                continue
            if now - self._skew_checked.get(key, -1e18) < max(s.skew_min_seconds / 2, 1.0):
                continue
            out.append(key)
        return out

    # ------------------------------------------------------------ observations

    def note_jobs(self, now: float, jobs: Iterable[SparkJob]) -> None:
        """Learn the statement's jobs (and so its stage ids) from ``/jobs``, without events."""
        for job in jobs:
            if job.job_group == self.group:
                self.jobs[job.job_id] = job
                self._job_seen.setdefault(job.job_id, now)

    def observe(self, now: float, jobs: Iterable[SparkJob], stages: Iterable[SparkStage],
                *, wall: float | None = None) -> list[JobEvent | StageEvent | InsightWarning]:
        """A round of ``/jobs`` and stage attempts read at *now* (*wall*: epoch seconds, for
        the elapsed time of running jobs from Spark's own submission times)."""
        events: list[JobEvent | StageEvent | InsightWarning] = []
        self.note_jobs(now, jobs)
        wanted = self.stage_ids()
        for stage in stages:
            if stage.stage_id not in wanted:
                continue
            key = (stage.stage_id, stage.attempt_id)
            self.stages[key] = stage
            self._stage_seen.setdefault(key, now)
            if stage.status == SparkStageStatus.ACTIVE:
                self._ever_active.add(stage.stage_id)
        for key in sorted(self.stages):
            stage = self.stages[key]
            if stage.stage_id not in wanted:
                continue
            stage_sig: tuple[object, ...] = (stage.status, stage.num_complete_tasks, stage.num_active_tasks,
                                             stage.num_failed_tasks, stage.num_killed_tasks,
                                             stage.disk_bytes_spilled)
            if self._last_stage.get(key) != stage_sig:
                self._last_stage[key] = stage_sig
                events.append(self._stage_event(now, stage, wall))
            events += self._stage_warnings(now, stage)
        for job_id in sorted(self.jobs):
            job = self.jobs[job_id]
            job_sig: tuple[object, ...] = (job.status, job.num_completed_tasks, job.num_active_tasks,
                                           job.num_failed_tasks, job.num_killed_tasks, job.num_skipped_tasks,
                                           job.num_tasks)
            if self._last_job.get(job_id) != job_sig:
                self._last_job[job_id] = job_sig
                events.append(self._job_event(now, job, wall))
        return events

    def observe_task_times(self, now: float, stage_id: int, attempt_id: int, summary: TaskSummary,
                           running_seconds: Sequence[float] = ()) -> list[InsightWarning]:
        """Task durations of a running stage attempt: the finished tasks' ``summary`` (median, max)
        and how long the still-running tasks have been running. Skew is a task longer than
        ``skew_factor`` x the median and than ``skew_min_seconds``."""
        key = (stage_id, attempt_id)
        self._skew_checked[key] = now
        median_ms = summary.at(0.5)
        if not median_ms or ("skew", stage_id, attempt_id) in self._warned:
            return []
        longest = max([*(x * 1000 for x in running_seconds), summary.at(1.0) or 0.0])
        s = self.settings
        if longest > s.skew_factor * median_ms and longest > s.skew_min_seconds * 1000:
            self._warned.add(("skew", stage_id, attempt_id))
            return [InsightWarning(
                elapsed=round(now - self.started, 3), code="skew", stage_id=stage_id, attempt_id=attempt_id,
                url=stage_url(self.ui_url, stage_id, attempt_id),
                message=(f"stage {stage_id}: a task ran {longest / 1000:.0f} s, "
                         f"{longest / median_ms:.0f}x the median of {median_ms / 1000:.1f} s (skew: a few "
                         "keys hold most of the data; salt the key or repartition)"))]
        return []

    # ------------------------------------------------------------ events

    def _seconds(self, now: float, seen: float, start: str | None, end: str | None,
                 wall: float | None) -> float:
        begin, finish = parse_spark_time(start), parse_spark_time(end)
        if begin is not None and finish is not None:
            return round(max(0.0, finish - begin), 3)
        if begin is not None and wall is not None:
            return round(max(0.0, wall - begin), 3)
        return round(now - seen, 3)

    def _job_event(self, now: float, job: SparkJob, wall: float | None) -> JobEvent:
        return JobEvent(
            elapsed=round(now - self.started, 3), job_id=job.job_id, name=job.name, status=str(job.status),
            stage_ids=list(job.stage_ids), num_tasks=job.num_tasks, completed_tasks=job.num_completed_tasks,
            active_tasks=job.num_active_tasks, failed_tasks=job.num_failed_tasks,
            killed_tasks=job.num_killed_tasks, skipped_tasks=job.num_skipped_tasks,
            seconds=self._seconds(now, self._job_seen[job.job_id], job.submission_time, job.completion_time,
                                  wall),
            url=job_url(self.ui_url, job.job_id))

    def _stage_event(self, now: float, stage: SparkStage, wall: float | None) -> StageEvent:
        key = (stage.stage_id, stage.attempt_id)
        return StageEvent(
            elapsed=round(now - self.started, 3), stage_id=stage.stage_id, attempt_id=stage.attempt_id,
            job_ids=sorted(j for j, job in self.jobs.items() if stage.stage_id in job.stage_ids),
            name=stage.name, status=str(stage.status), num_tasks=stage.num_tasks,
            completed_tasks=stage.num_complete_tasks, active_tasks=stage.num_active_tasks,
            failed_tasks=stage.num_failed_tasks, killed_tasks=stage.num_killed_tasks,
            seconds=self._seconds(now, self._stage_seen[key],
                                  stage.first_task_launched_time or stage.submission_time,
                                  stage.completion_time, wall),
            disk_bytes_spilled=stage.disk_bytes_spilled, memory_bytes_spilled=stage.memory_bytes_spilled,
            shuffle_read_bytes=stage.shuffle_read_bytes, shuffle_write_bytes=stage.shuffle_write_bytes,
            input_bytes=stage.input_bytes, url=stage_url(self.ui_url, stage.stage_id, stage.attempt_id))

    def _warn(self, now: float, code: WarningCode, stage: SparkStage, message: str) -> list[InsightWarning]:
        key = (code, stage.stage_id, stage.attempt_id)
        if key in self._warned:
            return []
        self._warned.add(key)
        return [InsightWarning(elapsed=round(now - self.started, 3), code=code, message=message,
                               stage_id=stage.stage_id, attempt_id=stage.attempt_id,
                               url=stage_url(self.ui_url, stage.stage_id, stage.attempt_id))]

    def _stage_warnings(self, now: float, stage: SparkStage) -> list[InsightWarning]:
        out: list[InsightWarning] = []
        if stage.num_failed_tasks > 0:
            reason = f": {stage.failure_reason.splitlines()[0][:200]}" if stage.failure_reason else ""
            out += self._warn(now, "task_failures", stage,
                              f"stage {stage.stage_id}: {stage.num_failed_tasks} task attempt(s) failed and "
                              f"are retried (spark.task.maxFailures){reason}")
        if stage.attempt_id > 0:
            out += self._warn(now, "stage_retry", stage,
                              f"stage {stage.stage_id} runs again (attempt {stage.attempt_id + 1}): an "
                              "executor was lost or shuffle output could not be fetched")
        threshold = self.settings.spill_threshold
        if stage.disk_bytes_spilled > threshold:
            out += self._warn(now, "spill", stage,
                              f"stage {stage.stage_id} spilled {format_bytes(stage.disk_bytes_spilled)} to "
                              f"disk (over {format_bytes(threshold)}): more memory per task "
                              "(spark.executor.memory) or more partitions would avoid it")
        return out


def describe(event: _Event) -> str:
    """One line for people about an event (editors' progress messages, logs)."""
    if isinstance(event, PhaseEvent):
        took = (f" ({event.previous.replace('_', ' ')} took {event.previous_seconds:.1f} s)"
                if event.previous and event.previous_seconds is not None else "")
        return event.detail + took
    if isinstance(event, SparkUIEvent):
        return f"Spark UI of {event.app_id}: {event.url}"
    if isinstance(event, JobEvent | StageEvent):
        what = (f"job {event.job_id}" if isinstance(event, JobEvent)
                else f"stage {event.stage_id}.{event.attempt_id}")
        counts = f"{event.completed_tasks}/{event.num_tasks} tasks"
        if event.active_tasks:
            counts += f", {event.active_tasks} running"
        if event.failed_tasks:
            counts += f", {event.failed_tasks} failed"
        return f"{what} {event.name}: {counts} ({event.status.lower()}, {event.seconds:.0f} s)"
    if isinstance(event, InsightWarning):
        return event.message
    if isinstance(event, LivyProgressEvent):
        return f"{event.progress:.0%} of the statement's tasks done"
    return event.__class__.__name__  # pragma: no cover


def unreachable_warning(elapsed: float, url: str, reason: str, *, key: str | None = None) -> InsightWarning:
    """The one warning said when the Spark UI cannot be reached (then Livy's progress is used)."""
    hint = (f"; if it is a cluster-internal address, set {key} in livyd.toml (a URL template such as "
            "'{gateway}/yarn/proxy/{app_id}')") if key else ""
    return InsightWarning(elapsed=round(elapsed, 3), code="spark_ui_unreachable", url=url,
                          message=f"the Spark UI at {url} cannot be reached ({reason}); showing Livy's "
                                  f"progress only{hint}")
