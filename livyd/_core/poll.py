"""The poll planner: when to ask Livy again, as a sans-IO object driven with explicit times.

Livy pushes nothing: statement state, progress and output are only learnt by polling, and every
``GET .../statements/{id}`` costs Livy an RPC to the driver. So the plan is:

- the first poll comes ``initial`` seconds (default 2 ms) after submitting: trivial statements
  finish almost at once (Livy answers a new statement ``waiting`` even when its code takes no
  time), so the first poll is what a trivial statement costs over the wire's own round trips;
- with no change, the interval grows by ``factor`` up to ``maximum`` (default 1 s);
- a *state* change (``waiting`` → ``running``, ``starting`` → ``idle``) makes it fast again
  (back to ``initial``): the end is often near;
- while only *progress* moves, the interval keeps growing but is held at ``progress_maximum``
  (default ``maximum / 4``), so a progress bar stays lively without a request every 10 ms;
- a *quiet* observation (an idle session whose log we follow) lets it grow to ``quiet_maximum``.

The planner never reads a clock and never sleeps: the caller passes ``now`` (any monotonic
seconds) and sleeps for :meth:`PollPlanner.delay`. That is what makes it testable exactly.
"""

from __future__ import annotations

from collections.abc import Hashable

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["PollPlanner", "PollSettings"]

_UNSET: object = object()


class PollSettings(BaseModel):
    """How waits poll (seconds). Defaults: 2 ms first, doubling to 1 s."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    initial: float = Field(0.002, gt=0, le=60, description="delay of the first poll")
    maximum: float = Field(1.0, gt=0, le=600, description="cap of the back-off")
    factor: float = Field(2.0, ge=1.0, le=10.0, description="growth per unchanged poll")
    progress_maximum: float | None = Field(None, gt=0, description="cap while progress moves "
                                           "(default maximum / 4)")
    quiet_maximum: float | None = Field(None, gt=0, description="cap for quiet waits "
                                        "(default 5 x maximum)")

    @model_validator(mode="after")
    def _check(self) -> PollSettings:
        if self.maximum < self.initial:
            raise ValueError(f"poll maximum ({self.maximum}) must be >= initial ({self.initial})")
        return self

    @property
    def progress_cap(self) -> float:
        """Effective cap while progress moves."""
        cap = self.progress_maximum if self.progress_maximum is not None else self.maximum / 4
        return min(max(cap, self.initial), self.maximum)

    @property
    def quiet_cap(self) -> float:
        """Effective cap for quiet waits."""
        return max(self.quiet_maximum if self.quiet_maximum is not None else self.maximum * 5, self.maximum)


class PollPlanner:
    """Plans the polls of one wait. Create it when the wait starts (right after submitting)."""

    def __init__(self, settings: PollSettings | None = None, *, now: float) -> None:
        self.settings = settings or PollSettings()
        self._interval = self.settings.initial
        self._next_at = now + self._interval
        self._state: object = _UNSET
        self._progress: object = _UNSET
        self.polls = 0

    @property
    def interval(self) -> float:
        """The current interval (the one that led to :attr:`next_at`)."""
        return self._interval

    @property
    def next_at(self) -> float:
        """When the next poll is due (same time base as ``now``)."""
        return self._next_at

    def delay(self, now: float) -> float:
        """Seconds to sleep from *now* until the next poll (never negative)."""
        return max(0.0, self._next_at - now)

    def observe(
        self, now: float, *, state: Hashable, progress: Hashable = None, quiet: bool = False
    ) -> float:
        """Record what a poll at *now* saw; return the delay until the next poll."""
        s = self.settings
        self.polls += 1
        first = self._state is _UNSET
        state_changed = not first and state != self._state
        progress_changed = not first and not state_changed and progress != self._progress
        self._state, self._progress = state, progress
        if state_changed:
            self._interval = s.initial
        elif progress_changed:
            self._interval = min(self._interval * s.factor, s.progress_cap)
        elif quiet:
            self._interval = min(self._interval * s.factor, s.quiet_cap)
        else:
            self._interval = min(self._interval * s.factor, s.maximum)
        self._next_at = now + self._interval
        return self._interval
