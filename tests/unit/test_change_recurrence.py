"""Recurring blackout windows expand to wall-clock occurrences in their zone, across
daylight-saving changes, bounded by the window asked about (servicedesk.changes.recurrence)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from servicedesk.changes.recurrence import MAX_OCCURRENCES, bounds, occurrences


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def _weekly(**rule: Any) -> dict[str, Any]:
    return {
        "frequency": "weekly",
        "weekdays": [5],
        "start_time": "22:00",
        "duration_minutes": 360,
        "time_zone": "Europe/London",
        "starts_on": "2027-01-01",
        **rule,
    }


def test_a_weekly_window_keeps_its_local_start_across_the_spring_change() -> None:
    # The UK clocks go forward on Sunday 28 March 2027 at 01:00 UTC.
    found = list(occurrences(_weekly(), _utc(2027, 3, 15), _utc(2027, 4, 10)))
    assert [s for s, _ in found] == [
        _utc(2027, 3, 20, 22),  # 22:00 GMT
        _utc(2027, 3, 27, 22),  # 22:00 GMT, the night the clocks change inside the window
        _utc(2027, 4, 3, 21),  # 22:00 BST
    ]
    # Elapsed duration: six hours even across the change.
    assert all(e - s == timedelta(hours=6) for s, e in found)


def test_the_autumn_change_and_another_zone() -> None:
    # New York falls back on Sunday 7 November 2027 at 06:00 UTC.
    rule = _weekly(weekdays=[0, 6], start_time="01:30", duration_minutes=60)
    rule["time_zone"] = "America/New_York"
    found = [s for s, _ in occurrences(rule, _utc(2027, 11, 1), _utc(2027, 11, 9))]
    assert found == [
        _utc(2027, 11, 1, 5, 30),  # Monday 01:30 EDT
        _utc(2027, 11, 7, 5, 30),  # Sunday 01:30 happens twice: the first (EDT), once
        _utc(2027, 11, 8, 6, 30),  # Monday 01:30 EST
    ]


def test_a_start_in_the_spring_gap_falls_after_it() -> None:
    rule = {
        "frequency": "monthly",
        "nth": -1,
        "weekday": 6,
        "start_time": "01:30",
        "duration_minutes": 120,
        "time_zone": "Europe/London",
        "starts_on": "2027-01-01",
    }
    found = [s for s, _ in occurrences(rule, _utc(2027, 2, 1), _utc(2027, 5, 1))]
    # Last Sundays: 28 Feb (GMT), 28 Mar (01:30 does not exist: 02:30 BST), 25 Apr (BST).
    assert found == [_utc(2027, 2, 28, 1, 30), _utc(2027, 3, 28, 1, 30), _utc(2027, 4, 25, 0, 30)]


def test_monthly_on_a_day_skips_months_without_it_and_until_is_inclusive() -> None:
    rule = {
        "frequency": "monthly",
        "monthday": 31,
        "start_time": "00:00",
        "duration_minutes": 30,
        "time_zone": "UTC",
        "starts_on": "2027-01-01",
        "until": "2027-05-31",
    }
    found = [s.date().isoformat() for s, _ in occurrences(rule, _utc(2026, 1, 1), _utc(2028, 1, 1))]
    assert found == ["2027-01-31", "2027-03-31", "2027-05-31"]
    assert bounds(rule) == (_utc(2027, 1, 1), _utc(2027, 5, 31, 0, 30))
    assert bounds({**rule, "until": None})[1] is None


def test_an_occurrence_that_began_before_the_window_still_overlaps_it() -> None:
    # Saturday 22:00 GMT for six hours reaches into Sunday morning.
    found = list(occurrences(_weekly(), _utc(2027, 3, 21, 3), _utc(2027, 3, 21, 5)))
    assert found == [(_utc(2027, 3, 20, 22), _utc(2027, 3, 21, 4))]
    assert list(occurrences(_weekly(), _utc(2027, 3, 21, 4), _utc(2027, 3, 21, 5))) == []


def test_expansion_is_bounded_by_the_window_and_a_cap() -> None:
    # A series begun decades ago, asked about one week: only that week's occurrence.
    old = _weekly(starts_on="1990-01-06")
    assert len(list(occurrences(old, _utc(2027, 3, 15), _utc(2027, 3, 22)))) == 1
    every_day = _weekly(weekdays=list(range(7)), duration_minutes=1)
    many = list(occurrences(every_day, _utc(2027, 1, 1), _utc(2035, 1, 1)))
    assert len(many) == MAX_OCCURRENCES
    assert list(occurrences(_weekly(), _utc(2026, 1, 1), _utc(2026, 12, 1))) == []  # before it


def test_bounds_are_the_first_and_until_days_windows_even_without_an_occurrence() -> None:
    # Saturdays 22:00 London, from a Friday until a Tuesday: neither end day has one.
    rule = {
        "frequency": "weekly",
        "weekdays": [5],
        "start_time": "22:00",
        "duration_minutes": 120,
        "time_zone": "Europe/London",
        "starts_on": "2027-01-01",
        "until": "2027-07-06",
    }
    first, last = bounds(rule)
    assert (first, last) == (_utc(2027, 1, 1, 22), _utc(2027, 7, 6, 23))
    found = list(occurrences(rule, _utc(2026, 12, 1), _utc(2027, 8, 1)))
    assert found[0][0] == _utc(2027, 1, 2, 22)
    assert found[-1] == (_utc(2027, 7, 3, 21), _utc(2027, 7, 3, 23))
    assert all(first <= s and e <= last for s, e in found)
