"""Seeing what Spark does for a statement: the Spark UI's REST API, driven while it runs.

:class:`SparkUIClient` reads Spark's monitoring REST API (``<ui>/api/v1/applications/{appId}/...``,
typed in :mod:`livyd._core.sparkapi`) through the Livy client's own transport: the same httpx
client, so the same authentication (Kerberos, Basic, bearer), TLS settings and cookies (a Knox
``KNOXSESSIONID`` or ``hadoop.auth`` cookie obtained for Livy is reused).

:class:`StatementWatcher` is what :meth:`LivyClient.run_statement` (``on_progress=``) and
:meth:`LivyClient.statement_events` run next to their statement polls. The rules:

- nothing is read while nothing runs: the watcher only acts after a statement poll that saw the
  statement ``running``, and only from ``start_delay`` seconds into the run (short statements cost
  no request at all);
- never faster than the statement itself is polled, and on the library's poll plan
  (:class:`~livyd._core.poll.PollPlanner`): ``interval`` seconds apart at first and when a job or
  stage starts or ends, backing off to 4 x ``interval`` while nothing changes (2 x while only task
  counts move);
- the reads happen in a task of their own: the statement's polls (and so its round trip) never
  wait for the Spark UI;
- the UI's address: ``appInfo.sparkUiUrl`` or the profile's ``[spark_ui] url`` template
  (:mod:`livyd._core.sparklinks`); the application id: Livy's ``appId``, else the only application
  the UI serves;
- when the UI cannot be reached, a warning says so once (per client and URL) and Livy's
  ``progress`` is reported instead;
- once the statement has ended, one last read gives the final numbers of its jobs and stages.

:func:`read_log` fetches a driver or executor log page (``appInfo.driverLogUrl``,
``executorLogUrls``) with the same transport, naming the URL and the profile key on failure.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
from pydantic import ConfigDict, TypeAdapter, ValidationError

from livyd._core.poll import PollPlanner, PollSettings
from livyd._core.sparkapi import SparkJob, SparkStage, TaskSummary, parse_spark_time
from livyd._core.sparkinsight import (
    InsightSettings,
    JobTracker,
    LivyProgressEvent,
    PhaseTracker,
    SparkUIEvent,
    unreachable_warning,
)
from livyd._core.sparklinks import expand_link
from livyd._core.urls import join_path
from livyd._exceptions import LivydError, NotFoundError, redact_url
from livyd._logging import get_logger

if TYPE_CHECKING:
    from livyd._client import LivyClient
    from livyd._models import Session, Statement
    from livyd._transport import Transport

__all__ = ["LogUnreachableError", "SparkLog", "SparkUIClient", "StatementInsights", "StatementWatcher",
           "read_log", "spark_logs"]

log = get_logger("livyd.insight")

T = TypeVar("T")
OnProgress = Callable[[Any], Awaitable[None] | None]

# built at their first use (a Spark UI read), not when a statement wait imports this module
_DEFERRED = ConfigDict(defer_build=True)
_JOBS = TypeAdapter(list[SparkJob], config=_DEFERRED)
_STAGES = TypeAdapter(list[SparkStage], config=_DEFERRED)
_APPS = TypeAdapter(list[dict[str, Any]], config=_DEFERRED)
_TASKS = TypeAdapter(list[dict[str, Any]], config=_DEFERRED)
#: How long the last read after the statement ended may take.
FINAL_READ_TIMEOUT = 5.0
UI_KEY = "spark_ui.url"
LOG_KEY = "spark_ui.log_url"


class LogUnreachableError(LivydError):
    """A driver or executor log URL did not answer (a cluster-internal host, usually), or the
    session reports none."""


@dataclass(frozen=True)
class SparkLog:
    """One driver or executor log as read: which, from where, its lines."""

    log: str
    url: str
    lines: list[str]


class SparkUIClient:
    """Spark's monitoring REST API at *ui_url* (the UI's root: ``http://driver:4040`` or a proxy's
    ``.../proxy/<appId>``), for application *app_id*."""

    def __init__(self, transport: Transport, ui_url: str, app_id: str) -> None:
        self._transport = transport
        self.ui_url = ui_url.rstrip("/")
        self.app_id = app_id
        self.requests = 0

    @property
    def api(self) -> str:
        """``<ui>/api/v1/applications/<appId>``."""
        return join_path(f"{self.ui_url}/api/v1", "applications", self.app_id)

    async def _get(self, adapter: TypeAdapter[T], url: str, params: dict[str, Any] | None = None) -> T:
        self.requests += 1
        resp = await self._transport.request("GET", url, params=params)
        try:
            return adapter.validate_json(resp.content)
        except ValidationError:
            kind = (resp.headers.get("content-type") or "no content type").split(";")[0]
            raise LivydError(f"GET {redact_url(url)}: not Spark's REST API ({resp.status_code}, {kind}); "
                             f"is {redact_url(self.ui_url)} the Spark UI?") from None

    @classmethod
    async def discover(cls, transport: Transport, ui_url: str) -> SparkUIClient:
        """The client for the one application a driver's UI serves (local mode: no ``appId``)."""
        probe = SparkUIClient(transport, ui_url, "-")
        apps = await probe._get(_APPS, f"{ui_url.rstrip('/')}/api/v1/applications")
        if not apps or not apps[0].get("id"):
            raise LivydError(f"the Spark UI at {redact_url(ui_url)} lists no application")
        return cls(transport, ui_url, str(apps[0]["id"]))

    async def jobs(self, status: str | None = None) -> list[SparkJob]:
        """``/jobs`` (newest first), optionally only ``running``/``succeeded``/``failed`` ones."""
        return await self._get(_JOBS, f"{self.api}/jobs", {"status": status} if status else None)

    async def job(self, job_id: int) -> SparkJob:
        """One job."""
        adapter: TypeAdapter[SparkJob] = TypeAdapter(SparkJob)
        return await self._get(adapter, f"{self.api}/jobs/{job_id}")

    async def stages(self, status: str | None = None) -> list[SparkStage]:
        """``/stages``, optionally only ``active``/``complete``/``pending``/``failed`` ones."""
        return await self._get(_STAGES, f"{self.api}/stages", {"status": status} if status else None)

    async def stage(self, stage_id: int) -> list[SparkStage]:
        """Every attempt of one stage."""
        return await self._get(_STAGES, f"{self.api}/stages/{stage_id}")

    async def task_summary(self, stage_id: int, attempt_id: int,
                           quantiles: Sequence[float] = (0.5, 1.0)) -> TaskSummary:
        """Quantiles of the finished tasks' metrics of a stage attempt."""
        adapter: TypeAdapter[TaskSummary] = TypeAdapter(TaskSummary)
        return await self._get(adapter, f"{self.api}/stages/{stage_id}/{attempt_id}/taskSummary",
                               {"quantiles": ",".join(f"{q:g}" for q in quantiles)})

    async def running_task_seconds(self, stage_id: int, attempt_id: int, *, wall: float,
                                   length: int = 100) -> list[float]:
        """How long each running task of a stage attempt has been running (from its launch time)."""
        tasks = await self._get(_TASKS, f"{self.api}/stages/{stage_id}/{attempt_id}/taskList",
                                {"status": "running", "length": length})
        out = []
        for task in tasks:
            launched = parse_spark_time(task.get("launchTime"))
            if launched is not None:
                out.append(max(0.0, wall - launched))
        return out


class StatementWatcher:
    """Watches one statement's Spark jobs while it runs and sends :data:`ProgressEvent`\\ s to *emit*.

    Used by the client's wait loop: :meth:`saw` after every statement poll, :meth:`run` in a task
    next to the loop, :meth:`finish` once the statement ended.
    """

    def __init__(self, client: LivyClient, session_id: int | str, statement_id: int, emit: OnProgress,
                 settings: InsightSettings | None = None, *, now: float) -> None:
        self.client = client
        self.session_id = session_id
        self.statement_id = statement_id
        self.settings = settings or client.insight_settings
        self._emit = emit
        self.phases = PhaseTracker(now=now)
        self.jobs = JobTracker(statement_id, self.settings, now=now)
        self._latest: Statement | None = None
        self._polled = anyio.Event()
        self._running_since: float | None = None
        interval = self.settings.interval
        self._plan_settings = PollSettings(initial=interval, maximum=4 * interval,
                                           progress_maximum=2 * interval)
        self._plan: PollPlanner | None = None
        self._ui: SparkUIClient | None = None
        self._ui_failed = not self.settings.enabled
        self._rounds = 0
        self._last_progress: float | None = None
        self.requests = 0

    async def _send(self, events: Sequence[Any]) -> None:
        for event in events:
            result = self._emit(event)
            if result is not None:
                await result

    def _elapsed(self, now: float) -> float:
        return now - self.phases.started

    # ---------------------------------------------------------------- driven by the wait loop

    async def saw(self, statement: Statement) -> None:
        """A statement poll's result: phase changes and (without the UI) Livy's progress."""
        now = anyio.current_time()
        self._latest = statement
        state = str(statement.state)
        await self._send(self.phases.observe_statement(now, state=state))
        if state in ("running", "cancelling") and self._running_since is None:
            self._running_since = now
        if self._rounds == 0 or self._ui_failed:  # until the UI answered (a cold UI takes seconds)
            progress = round(float(statement.progress), 4)
            if progress != self._last_progress and state not in ("waiting",):
                self._last_progress = progress
                await self._send([LivyProgressEvent(elapsed=round(self._elapsed(now), 3), progress=progress)])
        self._polled.set()

    async def run(self) -> None:
        """Read the Spark UI after statement polls (see the module docstring for the rules).

        Never raises: a failure to reach the UI is reported once and the UI left alone; anything
        else (a livyd bug, a callback that raised) is logged and ends the watching, never the
        statement's wait."""
        try:
            await self._run()
        except Exception as exc:
            self._ui_failed = True
            log.error("spark_ui.watcher_failed", error=repr(exc), statement=self.statement_id)

    async def _run(self) -> None:
        while True:
            await self._polled.wait()
            self._polled = anyio.Event()
            st = self._latest
            if st is None or str(st.state) not in ("running", "cancelling") or self._ui_failed:
                continue
            now = anyio.current_time()
            assert self._running_since is not None
            if now - self._running_since < self.settings.start_delay:
                continue
            if self._plan is not None and now < self._plan.next_at:
                continue
            await self._round(now)
            done = anyio.current_time()
            if self._plan is None:
                self._plan = PollPlanner(self._plan_settings, now=done)
            self._plan.observe(done, state=self.jobs.plan_key(), progress=self.jobs.tasks_done())

    async def finish(self, statement: Statement) -> None:
        """The statement ended: one last read (bounded) for the final numbers, if the UI was used."""
        self._latest = statement
        if self._ui is None or self._ui_failed or self._rounds == 0:
            return
        with anyio.move_on_after(FINAL_READ_TIMEOUT, shield=True):
            try:
                await self._round(anyio.current_time(), final=True)
            except Exception as exc:  # the statement is done: its result matters more
                log.error("spark_ui.final_read_failed", error=repr(exc), statement=self.statement_id)

    # ---------------------------------------------------------------- the reads

    async def _resolve(self, now: float) -> SparkUIClient | None:
        """Find the UI (GET the session: appInfo, appId, its log tail for the phases)."""
        self.requests += 1
        session: Session = await self.client.get_session(self.session_id)
        await self._send(self.phases.observe_session(now, state=str(session.state), app_id=session.app_id,
                                                     log=session.log))
        ui_url = expand_link(self.settings.url, reported=session.app_info.spark_ui_url,
                             livy_url=self.client.url, app_id=session.app_id, key=UI_KEY)
        if not ui_url:
            return None
        memo = self.client._spark_ui_unreachable
        if ui_url in memo:
            self._ui_failed = True
            return None
        transport = self.client._transport
        try:
            if session.app_id:
                ui = SparkUIClient(transport, ui_url, session.app_id)
            else:
                ui = await SparkUIClient.discover(transport, ui_url)
                self.requests += 1
        except LivydError as exc:
            await self._unreachable(now, ui_url, exc)
            return None
        shown = redact_url(ui.ui_url)  # events never carry a URL's userinfo
        await self._send([SparkUIEvent(elapsed=round(self._elapsed(now), 3), url=shown, app_id=ui.app_id)])
        self.jobs.ui_url = shown
        return ui

    async def _unreachable(self, now: float, url: str, exc: LivydError) -> None:
        self._ui_failed = True
        memo = self.client._spark_ui_unreachable
        if url in memo:
            return
        memo.add(url)
        reason = str(exc).split(": ", 1)[-1] if ": " in str(exc) else str(exc)
        log.info("spark_ui.unreachable", url=redact_url(url), error=str(exc))
        await self._send([unreachable_warning(self._elapsed(now), redact_url(url), reason,
                                              key=None if self.settings.url else UI_KEY)])
        if self._latest is not None:  # Livy's number from now on
            self._last_progress = round(float(self._latest.progress), 4)
            await self._send([LivyProgressEvent(elapsed=round(self._elapsed(now), 3),
                                                progress=self._last_progress)])

    async def _read_jobs(self, ui: SparkUIClient, *, full: bool) -> list[SparkJob]:
        """The first and the last read take all of ``/jobs`` (a session retains up to 1000);
        the reads in between only the running ones, plus each job of ours that stopped running
        since (``/jobs/{id}``), so a long session's history is not sent twice a second."""
        if full:
            return await ui.jobs()
        running = await ui.jobs(status="running")
        now_running = {j.job_id for j in running}
        ended = [job_id for job_id, job in self.jobs.jobs.items()
                 if str(job.status) == "RUNNING" and job_id not in now_running]
        return running + [await ui.job(job_id) for job_id in ended]

    async def _round(self, now: float, *, final: bool = False) -> None:
        try:
            if self._ui is None:
                self._ui = await self._resolve(now)
                if self._ui is None:
                    return
            ui = self._ui
            before = ui.requests
            try:
                try:
                    jobs = await self._read_jobs(ui, full=final or self._rounds == 0)
                except NotFoundError:
                    if self._rounds:
                        raise
                    # The UI does not know Livy's appId (a proxy or recovered session that names the
                    # application differently): use the one application that UI serves.
                    ui = self._ui = await SparkUIClient.discover(self.client._transport, ui.ui_url)
                    jobs = await self._read_jobs(ui, full=True)
                active = [] if final else await ui.stages(status="active")
                refreshed: list[SparkStage] = []
                self.jobs.note_jobs(now, jobs)  # the stage ids of new jobs first
                wanted = self.jobs.stages_unfinished() if final else self.jobs.stages_to_refresh(active)
                for stage_id in wanted:
                    refreshed += await ui.stage(stage_id)
                wall = time.time()
                now = anyio.current_time()  # the numbers are as of now, not of the round's start
                events: list[Any] = list(self.jobs.observe(now, jobs, [*active, *refreshed], wall=wall))
                if not final:
                    for stage_id, attempt_id in self.jobs.skew_candidates(now):
                        summary = await ui.task_summary(stage_id, attempt_id)
                        running = await ui.running_task_seconds(stage_id, attempt_id, wall=wall)
                        events += self.jobs.observe_task_times(now, stage_id, attempt_id, summary, running)
            finally:
                self.requests += ui.requests - before
            self._rounds += 1
            await self._send(events)
        except LivydError as exc:
            if self._ui is not None:
                await self._unreachable(now, self._ui.ui_url, exc)
            else:  # the session itself could not be read: try again at the next round
                log.debug("spark_ui.session_read_failed", error=str(exc))


class StatementInsights:
    """A :class:`StatementWatcher` per statement of one session, for code that polls statements
    itself (a :class:`~livyd.SessionEngine` listener, the daemon): hand every statement read to
    :meth:`polled`; *emit* gets ``(statement_id, event)``. The watchers run in *task_group*; a
    statement's watcher ends (after its last read) when a read shows the statement finished.

    ::

        class Listener(EngineListener):
            async def job_changed(self, job):
                await insights.polled(job.statement)
            async def job_finished(self, job):
                await insights.polled(job.statement)
    """

    def __init__(self, client: LivyClient, session_id: int | str,
                 emit: Callable[[int, Any], Awaitable[None] | None], task_group: Any,
                 settings: InsightSettings | None = None) -> None:
        self.client = client
        self.session_id = session_id
        self._emit = emit
        self._tg = task_group
        self.settings = settings
        self._watchers: dict[int, tuple[StatementWatcher, anyio.CancelScope]] = {}

    async def polled(self, statement: Statement | None) -> None:
        """A statement as just read from Livy (``None`` is ignored)."""
        if statement is None:
            return
        entry = self._watchers.get(statement.id)
        if entry is None:
            if statement.state.is_terminal:
                return
            sid = statement.id

            def emit(event: Any) -> Awaitable[None] | None:
                return self._emit(sid, event)

            watcher = StatementWatcher(self.client, self.session_id, sid, emit, self.settings,
                                       now=anyio.current_time())
            scope = anyio.CancelScope()
            entry = self._watchers[sid] = (watcher, scope)
            self._tg.start_soon(self._run, watcher, scope)
        watcher, scope = entry
        if statement.state.is_terminal:
            del self._watchers[statement.id]
            scope.cancel()
            await watcher.finish(statement)
        else:
            await watcher.saw(statement)

    def stop(self, statement_id: int | None) -> None:
        """Stop watching a statement without a last read (its session ended under it)."""
        entry = self._watchers.pop(statement_id, None) if statement_id is not None else None
        if entry is not None:
            entry[1].cancel()

    @staticmethod
    async def _run(watcher: StatementWatcher, scope: anyio.CancelScope) -> None:
        with scope:
            await watcher.run()

    def close(self) -> None:
        """Stop every watcher (the session ended, or nobody listens any more)."""
        for _, scope in self._watchers.values():
            scope.cancel()
        self._watchers.clear()


async def spark_logs(client: LivyClient, session_id: int | str, *, driver: bool = True,
                     executors: bool = False, tail: int | None = None) -> list[SparkLog]:
    """The session's driver log (``appInfo.driverLogUrl``) and/or every executor's
    (``executorLogUrls``, Livy 0.9+), beyond Livy's 200 lines, through the profile's
    ``spark_ui.log_url`` template when set; the last *tail* lines of each.

    Raises :class:`LogUnreachableError` saying what the session does not report, or which URL did
    not answer and the profile key that would make it reachable.
    """
    from livyd._core.sparklinks import expand_link, parse_executor_log_urls

    session = await client.get_session(session_id)
    template = client.insight_settings.log_url
    info = session.app_info
    wanted: list[tuple[str, str]] = []
    if driver:
        if not info.driver_log_url:
            raise LogUnreachableError(
                f"session {session_id} reports no driver log (appInfo.driverLogUrl is null: the session "
                "may still be starting, or this Livy does not know it)")
        wanted.append(("driver", info.driver_log_url))
    if executors:
        found = parse_executor_log_urls(info.executor_log_urls)
        if not found:
            raise LogUnreachableError(
                f"session {session_id} reports no executor logs (appInfo.executorLogUrls is null: Livy "
                "older than 0.9, local mode where the driver runs the tasks (see --driver), or no "
                "executors yet)")
        wanted += [(f"executor {name}", url) for name, url in found]
    out = []
    for label, reported in wanted:
        url = expand_link(template, reported=reported, livy_url=client.url, app_id=session.app_id,
                          key=LOG_KEY) or reported
        lines = (await read_log(client, url, what=label, templated=bool(template))).splitlines()
        out.append(SparkLog(label, redact_url(url), lines if tail is None else lines[-tail:] if tail else []))
    return out


async def read_log(client: LivyClient, url: str, *, what: str, key: str = LOG_KEY,
                   templated: bool = False) -> str:
    """The text of a driver or executor log page at *url*, through the Livy client's transport.

    Raises :class:`LogUnreachableError` naming the URL and (unless a template made it) the
    profile key that would make it reachable.
    """
    try:
        resp = await client._transport.request("GET", url, headers={"Accept": "text/plain, text/html, */*"})
    except LivydError as exc:
        hint = (f"; the URL comes from {key} in livyd.toml: check that template" if templated else
                f"; if it is a cluster-internal address, set {key} in livyd.toml to a URL template "
                "through your gateway, e.g. "
                "'{gateway}/yarn/nodemanager{path}?scheme={scheme}&host={host}&port={port}'")
        raise LogUnreachableError(f"the {what} log at {redact_url(url)} cannot be read "
                                  f"({str(exc).split(': ', 1)[-1]}){hint}") from exc
    return resp.text
