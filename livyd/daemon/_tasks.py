"""A statement task: what ``livy/execute`` started, as the editors see it.

A :class:`Task` is the daemon's view of a :class:`~livyd.StatementJob` of the library's engine
(which owns the state, the statement and the progress) plus what only editors care about: the
document and range the code came from, the client that started it (progress and diagnostics go
there), its work-done progress token, and its profile.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from livyd._engine import JobState, StatementJob
from livyd.protocol import Range, TaskInfo, TaskState

__all__ = ["Task"]


@dataclass(eq=False)
class Task:
    """A statement task (see the module docstring)."""

    task_id: str
    session_id: int
    job: StatementJob
    uri: str | None = None
    range: Range | None = None
    started_at: float = field(default_factory=time.time)
    progress_token: str | None = None
    #: Which client connection started it (progress and diagnostics go there only).
    origin: int | None = None
    #: The LivyConnection of its session (``LivyConnection.cid``) and that connection's profile.
    cid: int = 0
    profile: str | None = None
    #: The state last notified (what moved since).
    notified_state: TaskState | None = None
    #: Its whole (bounded) output was delivered.
    delivered: bool = False

    def __post_init__(self) -> None:
        self.job.context = self

    @property
    def code(self) -> str:
        """The code as sent."""
        return self.job.code

    @property
    def kind(self) -> str | None:
        """The statement kind asked for."""
        return self.job.kind

    @property
    def state(self) -> TaskState:
        """Where the task is (the engine's job state)."""
        return TaskState(self.job.state.value)

    @property
    def statement_id(self) -> int | None:
        """Livy's statement id once submitted."""
        return self.job.statement_id

    @property
    def progress(self) -> float:
        """0..1."""
        return self.job.progress

    @property
    def message(self) -> str | None:
        """Why (failed tasks, unsafe cancels)."""
        return self.job.message

    @property
    def may_still_run(self) -> bool:
        """Livy marked it cancelled while its code may still run."""
        return self.job.may_still_run

    @property
    def submitting(self) -> bool:
        """Its POST is in flight."""
        return self.job.submitting

    @property
    def finished(self) -> bool:
        """Whether the task reached a final state."""
        return self.job.finished

    def info(self, queued_behind: int = 0) -> TaskInfo:
        """The wire view."""
        first = self.code.strip().splitlines()[0] if self.code.strip() else ""
        return TaskInfo(
            task_id=self.task_id,
            session_id=self.session_id,
            statement_id=self.statement_id,
            state=self.state,
            progress=self.progress,
            queued_behind=queued_behind,
            code_preview=first[:80],
            uri=self.uri,
            range=self.range,
            may_still_run=self.may_still_run,
            profile=self.profile,
        )

    def to_json(self) -> dict[str, Any]:
        """What is persisted."""
        return {
            "taskId": self.task_id,
            "sessionId": self.session_id,
            "code": self.code,
            "kind": self.kind,
            "uri": self.uri,
            "range": self.range.wire() if self.range else None,
            "state": self.state.value,
            "statementId": self.statement_id,
            "submitting": self.submitting,
            "startedAt": self.started_at,
            "profile": self.profile,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Task:
        """Inverse of :meth:`to_json`."""
        job = StatementJob(code=str(d["code"]), kind=d.get("kind"))
        job.state = JobState(d.get("state", "queued"))
        job.statement_id = d.get("statementId")
        job.submitting = bool(d.get("submitting"))
        return cls(
            task_id=str(d["taskId"]),
            session_id=int(d["sessionId"]),
            job=job,
            uri=d.get("uri"),
            range=Range.model_validate(d["range"]) if d.get("range") else None,
            started_at=float(d.get("startedAt") or time.time()),
            profile=d.get("profile"),
        )
