"""The sans-IO Spark insight analyzer, driven with literal Spark REST snapshots and explicit times."""

from __future__ import annotations

from typing import Any

import pytest

from livyd._core.sparkapi import SparkJob, SparkStage, TaskSummary, parse_spark_time
from livyd._core.sparkinsight import (
    GIB,
    InsightSettings,
    JobTracker,
    PhaseTracker,
    parse_size,
    progress_event_adapter,
    yarn_report,
)
from livyd._core.sparklinks import expand_link, gateway_root, parse_executor_log_urls
from livyd._exceptions import ConfigError

UI = "http://127.0.0.1:4040"


def job(job_id: int, group: str, stages: list[int], **counts: Any) -> SparkJob:
    return SparkJob.model_validate({"jobId": job_id, "name": f"count at <stdin>:{job_id}", "jobGroup": group,
                                    "stageIds": stages, "status": counts.pop("status", "RUNNING"),
                                    "submissionTime": "2026-01-01T10:00:00.000GMT", **counts})


def stage(stage_id: int, attempt: int = 0, **fields: Any) -> SparkStage:
    return SparkStage.model_validate({"stageId": stage_id, "attemptId": attempt, "name": f"map at {stage_id}",
                                      "status": fields.pop("status", "ACTIVE"), **fields})


def test_spark_json_parses_with_unknown_fields_and_times() -> None:
    raw = {"jobId": 0, "name": "collect", "stageIds": [0, 1], "jobGroup": "7", "status": "SUCCEEDED",
           "numTasks": 6, "numCompletedTasks": 6, "jobTags": [], "killedTasksSummary": {}, "newInSpark9": 1}
    j = SparkJob.model_validate(raw)
    assert (j.job_group, j.num_tasks, str(j.status)) == ("7", 6, "SUCCEEDED")
    assert str(SparkJob.model_validate({**raw, "status": "PAUSED"}).status) == "PAUSED"  # unknown kept
    assert parse_spark_time("1970-01-01T00:01:00.250GMT") == 60.25
    assert parse_spark_time("garbage") is None and parse_spark_time(None) is None


def test_only_the_statements_job_group_counts() -> None:
    tracker = JobTracker(7, now=0.0, ui_url=UI)
    jobs = [job(3, "7", [4, 5], numTasks=10, numCompletedTasks=2, numActiveTasks=1),
            job(2, "6", [3], numTasks=99), job(1, None, [2])]  # type: ignore[arg-type]
    events = tracker.observe(1.0, jobs, [stage(4, numTasks=4, numCompleteTasks=2, numActiveTasks=1),
                                          stage(3, numTasks=99)])
    kinds = [(e.kind, getattr(e, "job_id", getattr(e, "stage_id", None))) for e in events]
    assert kinds == [("stage", 4), ("job", 3)]
    job_event = events[1]
    assert job_event.url == f"{UI}/jobs/job/?id=3"
    assert (job_event.num_tasks, job_event.completed_tasks, job_event.active_tasks) == (10, 2, 1)
    assert events[0].url == f"{UI}/stages/stage/?id=4&attempt=0" and events[0].job_ids == [3]
    # nothing changed: no events
    assert tracker.observe(2.0, jobs, [stage(4, numTasks=4, numCompleteTasks=2, numActiveTasks=1)]) == []
    # the stage left the active list: read it once more for its final numbers
    assert tracker.stages_to_refresh([]) == [4]
    assert tracker.stages_unfinished() == [4, 5]


def test_elapsed_uses_sparks_times_when_known() -> None:
    tracker = JobTracker(1, now=100.0)
    start = parse_spark_time("2026-01-01T10:00:00.000GMT")
    assert start is not None
    running = tracker.observe(105.0, [job(0, "1", [0], numTasks=2)], [], wall=start + 12.5)
    assert running[0].seconds == 12.5
    done = tracker.observe(106.0, [job(0, "1", [0], numTasks=2, status="SUCCEEDED",
                                       completionTime="2026-01-01T10:00:03.500GMT")], [])
    assert done[0].seconds == 3.5 and done[0].status == "SUCCEEDED"


def test_warnings_failed_tasks_retry_and_spill_each_once() -> None:
    settings = InsightSettings(spill_threshold=GIB)
    tracker = JobTracker(1, settings, now=0.0)
    jobs = [job(0, "1", [2])]
    events = tracker.observe(1.0, jobs, [stage(2, numTasks=4, numFailedTasks=1, diskBytesSpilled=GIB // 2)])
    warnings = [e for e in events if e.kind == "warning"]
    assert [w.code for w in warnings] == ["task_failures"]
    assert "1 task attempt(s) failed" in warnings[0].message
    events = tracker.observe(2.0, jobs, [stage(2, numTasks=4, numFailedTasks=2, diskBytesSpilled=3 * GIB),
                                         stage(2, 1, numTasks=4)])
    codes = sorted(e.code for e in events if e.kind == "warning")
    assert codes == ["spill", "stage_retry"]
    spill = next(e for e in events if e.kind == "warning" and e.code == "spill")
    assert "3.0 GiB" in spill.message and "1.0 GiB" in spill.message
    # said once per stage attempt
    again = tracker.observe(3.0, jobs, [stage(2, numTasks=4, numFailedTasks=3, diskBytesSpilled=4 * GIB)])
    assert not [e for e in again if e.kind == "warning"]


def test_skew_needs_both_the_factor_and_the_minimum_duration() -> None:
    tracker = JobTracker(1, InsightSettings(skew_factor=3, skew_min_seconds=30), now=0.0)
    jobs = [job(0, "1", [0])]
    tracker.observe(0.0, jobs, [stage(0, numTasks=100)])
    assert tracker.skew_candidates(10.0) == []  # not running long enough to matter
    assert tracker.skew_candidates(31.0) == [(0, 0)]
    summary = TaskSummary.model_validate({"quantiles": [0.5, 1.0], "duration": [2000.0, 5000.0]})
    # a running task of 20 s: 10x the median but under 30 s -> nothing
    assert tracker.observe_task_times(31.0, 0, 0, summary, [20.0]) == []
    assert tracker.skew_candidates(31.5) == []  # checked just now
    # a running task of 45 s: 22x the median and over 30 s -> skew, said once
    warnings = tracker.observe_task_times(60.0, 0, 0, summary, [45.0, 1.0])
    assert [w.code for w in warnings] == ["skew"] and "45 s" in warnings[0].message
    assert tracker.observe_task_times(90.0, 0, 0, summary, [80.0]) == []
    assert tracker.skew_candidates(200.0) == []
    # evenly slow tasks are not skew
    even = JobTracker(1, now=0.0)
    even.observe(0.0, jobs, [stage(0)])
    slow = TaskSummary.model_validate({"quantiles": [0.5, 1.0], "duration": [40000.0, 60000.0]})
    assert even.observe_task_times(60.0, 0, 0, slow, [50.0]) == []


def test_phases_from_livys_yarn_log_lines() -> None:
    tracker = PhaseTracker(now=0.0)
    first = tracker.observe_session(0.5, state="starting", app_id=None, log=["stdout: "])
    assert [(e.phase, e.detail) for e in first] == [("session_starting", "the session is starting")]
    log = ["INFO Client: Application report for application_17_0042 (state: ACCEPTED)"]
    queued = tracker.observe_session(2.0, state="starting", app_id=None, log=log)
    assert queued[0].phase == "session_starting" and queued[0].app_id == "application_17_0042"
    assert "waiting in YARN for resources" in queued[0].detail and queued[0].yarn_state == "ACCEPTED"
    assert tracker.observe_session(3.0, state="starting", app_id=None, log=log) == []  # nothing new
    now_running = [*log, "Application report for application_17_0042 (state: RUNNING)"]
    running = tracker.observe_session(9.0, state="starting", app_id="application_17_0042", log=now_running)
    assert running[0].phase == "interpreter_starting" and running[0].yarn_state == "RUNNING"
    assert "driver and interpreter" in running[0].detail
    assert running[0].previous == "session_starting" and running[0].previous_seconds == 8.5  # new facts
    # (the application id at 2.0) did not restart the phase
    ran = tracker.observe_statement(20.0, state="running")
    assert ran[0].phase == "running" and ran[0].previous == "interpreter_starting"
    assert ran[0].previous_seconds == 11.0
    assert yarn_report(["nothing"]) is None


def test_phases_waiting_then_spark_starting_then_running() -> None:
    quick = PhaseTracker(now=0.0)
    assert quick.observe_statement(0.0, state="waiting") == []  # Livy's answer to every POST
    assert quick.observe_statement(0.01, state="running")[0].previous is None  # nothing was ahead
    tracker = PhaseTracker(now=0.0)
    assert tracker.observe_statement(0.0, state="waiting") == []
    (behind,) = tracker.observe_statement(0.5, state="waiting")  # still waiting: something runs
    assert behind.phase == "waiting" and "behind another statement" in behind.detail
    assert tracker.observe_statement(1.5, state="running")[0].previous_seconds == 1.0
    starting = tracker.observe_session(1.5, state="busy", app_id=None,
                                       log=["stderr: WARNING:livyd.replworker:livyd sandbox: starting a "
                                            "local SparkSession"])
    assert [e.phase for e in starting] == ["spark_starting"]
    up = tracker.observe_session(7.5, state="busy", app_id="local-1")
    assert up[0].phase == "running" and up[0].previous == "spark_starting" and up[0].previous_seconds == 6.0


def test_events_round_trip_as_json() -> None:
    tracker = JobTracker(1, now=0.0)
    (event,) = tracker.observe(0.0, [job(0, "1", [])], [])
    again = progress_event_adapter.validate_python(event.model_dump(mode="json"))
    assert again == event


def test_settings_sizes_and_templates() -> None:
    assert parse_size("1g") == GIB and parse_size("512m") == 512 * 1024**2 and parse_size(10) == 10
    assert InsightSettings(spill_threshold="2 GiB").spill_threshold == 2 * GIB  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="expected a size"):
        InsightSettings(spill_threshold="lots")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"unknown placeholder \{appid\}"):
        InsightSettings(url="{gateway}/yarn/proxy/{appid}")


def test_link_templates_through_a_gateway() -> None:
    livy = "https://knox:8443/gateway/dev/livy/v1"
    assert gateway_root(livy) == "https://knox:8443/gateway/dev"
    assert gateway_root("https://knox/gateway/dev/livy") == "https://knox/gateway/dev"
    ui = expand_link("{gateway}/yarn/proxy/{app_id}", reported="http://rm:8088/proxy/application_1_2/",
                     livy_url=livy, app_id="application_1_2", key="spark_ui.url")
    assert ui == "https://knox:8443/gateway/dev/yarn/proxy/application_1_2"
    assert expand_link("{gateway}/yarn/proxy/{app_id}", reported=None, livy_url=livy, app_id=None,
                       key="spark_ui.url") is None  # not known yet
    assert expand_link(None, reported="http://rm:8088/proxy/a/", livy_url=livy, app_id="a",
                       key="spark_ui.url") == "http://rm:8088/proxy/a"
    nm = "http://nm7:8042/node/containerlogs/container_1_2_01_000001/alice"
    log = expand_link("{gateway}/yarn/nodemanager{path}?scheme={scheme}&host={host}&port={port}",
                      reported=nm, livy_url=livy, app_id="a", key="spark_ui.log_url")
    assert log == ("https://knox:8443/gateway/dev/yarn/nodemanager/node/containerlogs/container_1_2_01_000001/"
                   "alice?scheme=http&host=nm7&port=8042")
    with pytest.raises(ConfigError, match=r"spark_ui\.url"):
        expand_link("{nope}", reported=None, livy_url=livy, app_id=None, key="spark_ui.url")


def test_executor_log_urls_of_livy_09() -> None:
    value = "executor-1#http://nm1:8042/node/containerlogs/c1/u;executor-2#http://nm2:8042/node/containerlogs/c2/u"
    assert parse_executor_log_urls(value) == [("executor-1", "http://nm1:8042/node/containerlogs/c1/u"),
                                              ("executor-2", "http://nm2:8042/node/containerlogs/c2/u")]
    assert parse_executor_log_urls(None) == [] and parse_executor_log_urls("") == []
