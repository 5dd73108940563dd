"""Retry plans with injected randomness."""

from __future__ import annotations

import pytest

from livyd._core.backoff import RETRYABLE_STATUS, RetryPlan, is_idempotent


def test_delays_double_and_are_capped_with_equal_jitter() -> None:
    plan = RetryPlan(retries=8, base=0.1, cap=1.0)
    low = plan.delays(lambda: 0.0)
    high = plan.delays(lambda: 1.0)
    assert len(low) == len(high) == 8
    assert high[:4] == pytest.approx([0.1, 0.2, 0.4, 0.8])
    assert high[4:] == pytest.approx([1.0] * 4)
    assert low == pytest.approx([h / 2 for h in high])


def test_jitter_stays_within_bounds_even_for_odd_random_sources() -> None:
    plan = RetryPlan(retries=3, base=1.0, cap=10.0)
    assert plan.delay(0, lambda: 7.0) == pytest.approx(1.0)
    assert plan.delay(0, lambda: -3.0) == pytest.approx(0.5)


def test_plan_is_bounded() -> None:
    assert RetryPlan(retries=0).delay(0, lambda: 0.5) is None
    assert RetryPlan(retries=2).delay(2, lambda: 0.5) is None
    with pytest.raises(ValueError, match="retries"):
        RetryPlan(retries=-1)


def test_idempotence_and_retryable_statuses() -> None:
    assert is_idempotent("get") and is_idempotent("DELETE")
    assert not is_idempotent("POST")
    assert {502, 503, 504} <= RETRYABLE_STATUS
    assert 500 not in RETRYABLE_STATUS  # "Session is in state starting" must not be retried blindly
