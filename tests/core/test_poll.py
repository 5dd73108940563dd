"""The poll planner, driven with explicit times (no clock, no sleeping)."""

from __future__ import annotations

import itertools

import pytest
from pydantic import ValidationError

from livyd._core.poll import PollPlanner, PollSettings


def run(planner: PollPlanner, start: float, observations: list[tuple[str, float]]) -> list[float]:
    """Feed observations at the planned times; return the intervals chosen."""
    now = planner.next_at
    out = []
    for state, progress in observations:
        out.append(planner.observe(now, state=state, progress=progress))
        now = planner.next_at
    return out


def test_first_poll_is_within_a_few_ms_of_submitting() -> None:
    planner = PollPlanner(now=1000.0)
    assert 0 < planner.next_at - 1000.0 <= 0.003
    assert planner.delay(1000.0) == pytest.approx(0.002)
    assert planner.delay(1000.5) == 0.0  # late: never negative


def test_backs_off_exponentially_to_the_cap_and_stays_there() -> None:
    intervals = run(PollPlanner(now=0.0), 0.0, [("running", 0.0)] * 12)
    assert intervals[:4] == pytest.approx([0.004, 0.008, 0.016, 0.032])
    assert max(intervals) == 1.0
    assert intervals[-4:] == [1.0] * 4
    assert all(b >= a for a, b in itertools.pairwise(intervals))


def test_state_change_makes_it_fast_again() -> None:
    planner = PollPlanner(now=0.0)
    run(planner, 0.0, [("waiting", 0.0)] * 10)
    assert planner.interval == 1.0
    assert planner.observe(planner.next_at, state="running", progress=0.0) == pytest.approx(0.002)


def test_moving_progress_is_held_below_the_progress_cap() -> None:
    planner = PollPlanner(now=0.0)
    intervals = run(planner, 0.0, [("running", i / 100) for i in range(20)])
    assert max(intervals) == pytest.approx(0.25)
    assert intervals[-1] == pytest.approx(0.25)
    # once progress stops moving, back-off resumes to the full cap
    more = run(planner, 0.0, [("running", 0.19)] * 5)
    assert more[-1] == 1.0


def test_quiet_waits_grow_further() -> None:
    planner = PollPlanner(PollSettings(maximum=1.0), now=0.0)
    for _ in range(20):
        planner.observe(planner.next_at, state="idle", quiet=True)
    assert planner.interval == 5.0


def test_custom_settings_are_honoured() -> None:
    s = PollSettings(initial=0.005, maximum=0.5, factor=3.0)
    intervals = run(PollPlanner(s, now=0.0), 0.0, [("x", 0.0)] * 6)
    assert intervals[:3] == pytest.approx([0.015, 0.045, 0.135])
    assert intervals[-1] == 0.5


def test_next_poll_time_is_relative_to_the_observation_time() -> None:
    planner = PollPlanner(now=0.0)
    planner.observe(7.0, state="a")
    assert planner.next_at == pytest.approx(7.004)
    assert planner.polls == 1


@pytest.mark.parametrize(
    "kwargs",
    [{"initial": 0}, {"maximum": -1}, {"factor": 0.5}, {"initial": 2.0, "maximum": 1.0}, {"bogus": 1}],
)
def test_bad_settings_are_refused_naming_the_field(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValidationError) as info:
        PollSettings(**kwargs)
    assert any(k in str(info.value) for k in kwargs)
