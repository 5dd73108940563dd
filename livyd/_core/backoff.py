"""Retry plans: which requests may be retried, and how long to wait, with injected randomness.

Only *idempotent* requests are retried blindly (GET, and DELETE, where a 404 after an ambiguous
first attempt means the first one worked). A POST that creates something (session, statement,
batch) is never re-sent on a retry plan: the client first establishes whether it landed (see
:mod:`.matching` and ``LivyClient.submit_statement``).

Delays follow "equal jitter" exponential back-off: attempt *n* waits
``d/2 + rand() * d/2`` with ``d = min(cap, base * 2**n)``, so a burst of clients spreads out while
every wait stays at least half the nominal delay. ``rand`` is passed in (``random.random`` in
production, a constant in tests).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["RETRYABLE_STATUS", "RetryPlan", "is_idempotent"]

#: Statuses worth retrying for an idempotent request: a gateway or Livy itself briefly unwell.
RETRYABLE_STATUS = frozenset({429, 502, 503, 504})

_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "DELETE", "PUT"})


def is_idempotent(method: str) -> bool:
    """True for methods that may be repeated without changing the outcome."""
    return method.upper() in _IDEMPOTENT


@dataclass(frozen=True)
class RetryPlan:
    """At most ``retries`` retries; delays from ``base`` doubling up to ``cap`` seconds."""

    retries: int = 3
    base: float = 0.1
    cap: float = 5.0

    def __post_init__(self) -> None:
        if self.retries < 0:
            raise ValueError(f"retries must be >= 0, not {self.retries}")
        if self.base < 0 or self.cap < 0:
            raise ValueError("retry delays must be >= 0")

    def delay(self, attempt: int, rand: Callable[[], float]) -> float | None:
        """Seconds to wait before retry number ``attempt`` (0-based), or ``None`` when exhausted."""
        if attempt >= self.retries:
            return None
        nominal: float = min(self.cap, self.base * float(2 ** attempt))
        r = min(max(float(rand()), 0.0), 1.0)
        return nominal / 2 + r * nominal / 2

    def delays(self, rand: Callable[[], float]) -> list[float]:
        """All delays of the plan, in order."""
        out: list[float] = []
        while (d := self.delay(len(out), rand)) is not None:
            out.append(d)
        return out
