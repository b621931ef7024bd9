"""The SLA clock (pause, resume, policy change mid-ticket) against a minute-by-minute oracle.

A history of events is applied to one target with the engine's own arithmetic
(`sla.engine.settle` / `schedule`, exactly what the ticket hooks call); the oracle replays
the same history a UTC minute at a time, counting business minutes under whichever
calendar was in force while the clock ran. The due time must be the oracle's.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from servicedesk.sla.business_time import BusinessCalendar
from servicedesk.sla.engine import rebudget, schedule, settle
from servicedesk.sla.models import SlaTarget
from tests.unit.test_sla_business_time import MINUTE, ZONES, day_intervals, is_business, starts

Event = tuple[int, str, tuple[BusinessCalendar, int] | None]  # (minute offset, action, switch)


@st.composite
def calendars(draw: st.DrawFn, tz: str) -> BusinessCalendar:
    week = tuple(draw(day_intervals()) for _ in range(7))
    if not any(week):
        week = (((540, 1020),),) * 5 + ((), ())
    return BusinessCalendar(tz, week, frozenset(), frozenset())


@st.composite
def histories(draw: st.DrawFn) -> tuple[datetime, BusinessCalendar, int, list[Event]]:
    tz = draw(st.sampled_from(ZONES))
    start = draw(starts(tz))
    cal = draw(calendars(tz))
    budget = draw(st.integers(1, 16 * 60))  # minutes
    offsets = sorted(draw(st.lists(st.integers(1, 4 * 1440), max_size=6, unique=True)))
    events: list[Event] = []
    for offset in offsets:
        action = draw(st.sampled_from(["pause", "resume", "switch"]))
        switch = None
        if action == "switch":
            switch = (draw(calendars(tz)), draw(st.integers(1, 16 * 60)))
        events.append((offset, action, switch))
    events.append((offsets[-1] + 1 if offsets else 1, "resume", None))
    return start, cal, budget, events


def engine_due(
    start: datetime, cal: BusinessCalendar, budget: int, events: list[Event]
) -> datetime:
    target = SlaTarget(
        budget_seconds=budget * 60,
        elapsed_seconds=0,
        clock_at=start,
        paused_since=None,
        met_at=None,
    )
    for offset, action, switch in events:
        now = start + offset * MINUTE
        if action == "pause" and target.paused_since is None:
            settle(target, cal, now)
            target.paused_since = now
        elif action == "resume" and target.paused_since is not None:
            target.paused_since, target.clock_at = None, now
        elif action == "switch" and switch is not None:
            settle(target, cal, now)
            cal = switch[0]
            rebudget(target, switch[1] * 60, now)
    schedule(target, cal, [])
    assert target.due_at is not None
    return target.breached_at or target.due_at


def oracle_due(
    start: datetime, cal: BusinessCalendar, budget: int, events: list[Event]
) -> datetime:
    """Walk minute by minute: the first instant the time spent reaches the budget in force."""
    plan = {start + offset * MINUTE: (action, switch) for offset, action, switch in events}
    elapsed, paused, u = 0, False, start
    while True:
        if u in plan:
            action, switch = plan[u]
            paused = True if action == "pause" else False if action == "resume" else paused
            if switch is not None:
                cal, budget = switch
        if elapsed >= budget:
            return u
        if not paused and is_business(cal, u):
            elapsed += 1
        u += MINUTE
        # A calendar may open a few minutes a week: 265 minutes at 4 a week is 464 days.
        assert u - start < timedelta(days=5 * 366), "oracle walked too far"


@settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(histories())
def test_due_time_after_pauses_and_policy_changes_equals_the_oracle(
    history: tuple[datetime, BusinessCalendar, int, list[Event]],
) -> None:
    start, cal, budget, events = history
    assert engine_due(start, cal, budget, events) == oracle_due(start, cal, budget, events)


def test_elapsed_time_carries_over_a_policy_change() -> None:
    always = BusinessCalendar.always()
    start = datetime.fromisoformat("2026-03-02T09:00:00+00:00")
    # 40 of 50 minutes spent, then a policy with 60: 20 more minutes, not 60
    assert engine_due(start, always, 50, [(40, "switch", (always, 60))]) == start + 60 * MINUTE
    # 40 minutes spent, then a policy with 30: missed at the moment it applies
    assert engine_due(start, always, 50, [(40, "switch", (always, 30))]) == start + 40 * MINUTE
    # missed at 30 minutes under the first policy: a more lenient one does not undo that
    assert engine_due(start, always, 30, [(40, "switch", (always, 60))]) == start + 30 * MINUTE
