"""Typed models of Spark's monitoring REST API (``/api/v1``), the subset livyd reads.

Spark serves these from the driver's UI (``sc.uiWebUrl``, ``appInfo.sparkUiUrl`` in Livy) and,
through YARN's web proxy or a Knox gateway, under a prefix. Field names follow Spark's JSON
(camelCase, aliases here), unknown fields are kept (Spark adds some in every release), and every
counter defaults to 0 so an older Spark (2.x has no ``jobGroup`` before 2.2, no
``numCompletedIndices`` before 2.3) still parses.

Endpoints (relative to ``<ui>/api/v1/applications/{appId}``):

- ``/jobs`` (newest first): :class:`SparkJob` (``jobGroup`` is Livy's statement id);
- ``/stages?status=active``: the running :class:`SparkStage` attempts;
- ``/stages/{id}``: every attempt of one stage;
- ``/stages/{id}/{attempt}/taskSummary?quantiles=0.5,1.0``: :class:`TaskSummary` (median, max).

Timestamps are Spark's ``2024-05-01T10:00:00.000GMT``; :func:`parse_spark_time` turns them into
epoch seconds.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel

from livyd._core.tolerant import UpperTolerantEnum

__all__ = [
    "SparkJob",
    "SparkJobStatus",
    "SparkStage",
    "SparkStageStatus",
    "TaskSummary",
    "parse_spark_time",
]




class SparkJobStatus(UpperTolerantEnum):
    """``JobExecutionStatus``."""

    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    UNKNOWN = "UNKNOWN"


class SparkStageStatus(UpperTolerantEnum):
    """``StageStatus``."""

    ACTIVE = "ACTIVE"
    COMPLETE = "COMPLETE"
    FAILED = "FAILED"
    PENDING = "PENDING"
    SKIPPED = "SKIPPED"

    @property
    def is_final(self) -> bool:
        """The stage attempt will not change any more."""
        return self.value in ("COMPLETE", "FAILED", "SKIPPED")


class _SparkModel(BaseModel):
    # defer_build: the schema is built when the model is first used, not at import (start-up)
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="allow", frozen=True, defer_build=True
    )


class SparkJob(_SparkModel):
    """One element of ``/jobs``."""

    job_id: int
    name: str = ""
    description: str | None = None
    submission_time: str | None = None
    completion_time: str | None = None
    stage_ids: list[int] = Field(default_factory=list)
    job_group: str | None = None
    status: SparkJobStatus = SparkJobStatus.UNKNOWN
    num_tasks: int = 0
    num_active_tasks: int = 0
    num_completed_tasks: int = 0
    num_skipped_tasks: int = 0
    num_failed_tasks: int = 0
    num_killed_tasks: int = 0
    num_completed_indices: int = 0
    num_active_stages: int = 0
    num_completed_stages: int = 0
    num_skipped_stages: int = 0
    num_failed_stages: int = 0


class SparkStage(_SparkModel):
    """One stage attempt (``/stages``; ``details`` and task lists are not read)."""

    stage_id: int
    attempt_id: int = 0
    status: SparkStageStatus = SparkStageStatus.PENDING
    name: str = ""
    num_tasks: int = 0
    num_active_tasks: int = 0
    num_complete_tasks: int = 0
    num_failed_tasks: int = 0
    num_killed_tasks: int = 0
    num_completed_indices: int = 0
    submission_time: str | None = None
    first_task_launched_time: str | None = None
    completion_time: str | None = None
    failure_reason: str | None = None
    memory_bytes_spilled: int = 0
    disk_bytes_spilled: int = 0
    input_bytes: int = 0
    output_bytes: int = 0
    shuffle_read_bytes: int = 0
    shuffle_write_bytes: int = 0

    @field_validator("memory_bytes_spilled", "disk_bytes_spilled", "input_bytes", "output_bytes",
                     "shuffle_read_bytes", "shuffle_write_bytes", mode="before")
    @classmethod
    def _bytes(cls, v: Any) -> Any:
        return 0 if v is None else v


class TaskSummary(_SparkModel):
    """``taskSummary``: per-metric values at the requested ``quantiles`` (ms for ``duration``)."""

    quantiles: list[float] = Field(default_factory=list)
    duration: list[float] = Field(default_factory=list)
    executor_run_time: list[float] = Field(default_factory=list)

    def at(self, quantile: float, metric: str = "duration") -> float | None:
        """The value of *metric* at *quantile*, or ``None`` when Spark did not report it."""
        values: list[float] = getattr(self, metric, [])
        for q, value in zip(self.quantiles, values, strict=False):
            if abs(q - quantile) < 1e-9:
                return float(value)
        return None


def parse_spark_time(text: str | None) -> float | None:
    """Spark's ``2024-05-01T10:00:00.000GMT`` (``yyyy-MM-dd'T'HH:mm:ss.SSSz``) as epoch seconds.

    >>> parse_spark_time("1970-01-01T00:00:01.500GMT")
    1.5
    """
    if not text:
        return None
    raw = text.strip()
    for suffix in ("GMT", "UTC", "Z"):
        if raw.endswith(suffix):
            raw = raw[: -len(suffix)]
            break
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()
