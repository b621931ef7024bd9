"""The SLA business-time calculus against a deliberately naive minute-by-minute oracle.

The oracle applies the definition in servicedesk/sla/business_time.py's docstring literally, one
UTC minute at a time. Every input is minute-aligned and every zone used has minute-aligned
offsets, so a UTC minute is wholly business time or wholly not.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from servicedesk.sla.business_time import (
    BusinessCalendar,
    CalendarError,
    add_business_seconds,
    business_seconds_between,
    business_seconds_between_excluding,
    validate_intervals,
    validate_timezone,
)

MINUTE = timedelta(minutes=1)
HOUR = 3600

# --- the oracle ----------------------------------------------------------------------------


def is_business(cal: BusinessCalendar, u: datetime) -> bool:
    local = u.astimezone(ZoneInfo(cal.tz))
    if local.date() in cal.holidays or (local.month, local.day) in cal.yearly_holidays:
        return False
    minute = local.hour * 60 + local.minute
    return any(start <= minute < end for start, end in cal.week[local.weekday()])


def business_minutes(
    cal: BusinessCalendar,
    start: datetime,
    end: datetime,
    paused: Callable[[datetime], bool] = lambda u: False,
) -> list[datetime]:
    """The UTC minutes in [start, end) that are business time (and not paused)."""
    found = []
    u = start.astimezone(UTC)  # UTC, so that adding a minute is a real minute
    while u < end:
        if is_business(cal, u) and not paused(u):
            found.append(u)
        u += MINUTE
    return found


def oracle(
    cal: BusinessCalendar,
    start: datetime,
    end: datetime,
    paused: Callable[[datetime], bool] = lambda u: False,
) -> int:
    """Business seconds in [start, end), counted a UTC minute at a time."""
    return 60 * len(business_minutes(cal, start, end, paused))


# --- strategies ----------------------------------------------------------------------------

# The zones' offset transitions in 2025-2027 (checked by test_transition_table_is_right).
_NY = [date(2025, 3, 9), date(2025, 11, 2), date(2026, 3, 8), date(2026, 11, 1)]
_NY += [date(2027, 3, 14), date(2027, 11, 7)]
_ANZ_APRIL = [date(2025, 4, 6), date(2026, 4, 5), date(2027, 4, 4)]
TRANSITIONS: dict[str, list[date]] = {
    "Europe/London": [
        *(date(2025, 3, 30), date(2025, 10, 26), date(2026, 3, 29)),
        *(date(2026, 10, 25), date(2027, 3, 28), date(2027, 10, 31)),
    ],
    "America/New_York": _NY,
    "America/St_Johns": _NY,
    "Australia/Lord_Howe": sorted(
        [*_ANZ_APRIL, date(2025, 10, 5), date(2026, 10, 4), date(2027, 10, 3)]
    ),
    "Pacific/Chatham": sorted(
        [*_ANZ_APRIL, date(2025, 9, 28), date(2026, 9, 27), date(2027, 9, 26)]
    ),
    "Asia/Kolkata": [],
    "UTC": [],
}
ZONES = sorted(TRANSITIONS)

# Local clock times around the transitions (01:00, 01:30, 02:00, 02:30, 02:45, 03:00, 03:45)
# and ordinary office hours, so intervals often start, end or straddle a skipped/repeated hour.
INTERESTING_MINUTES = [0, 60, 90, 120, 150, 165, 180, 225, 240, 540, 720, 780, 1020, 1260, 1440]
minute_of_day = st.one_of(st.sampled_from(INTERESTING_MINUTES), st.integers(0, 1440))


@st.composite
def day_intervals(draw: st.DrawFn) -> tuple[tuple[int, int], ...]:
    """Sorted cut points; keep a random subset of the segments between consecutive ones
    (so intervals may touch, as in 09:00-12:00 + 12:00-17:00, but never overlap)."""
    points = sorted(draw(st.sets(minute_of_day, max_size=6)))
    return tuple((a, b) for a, b in pairwise(points) if draw(st.booleans()))


@st.composite
def starts(draw: st.DrawFn, tz: str) -> datetime:
    """A minute-aligned UTC instant, usually within a few days of one of the zone's
    transitions, often at (or a minute either side of) an interesting local clock time."""
    if TRANSITIONS[tz] and draw(st.integers(0, 4)) > 0:
        day = draw(st.sampled_from(TRANSITIONS[tz])) + timedelta(days=draw(st.integers(-3, 2)))
    else:
        day = date(2025, 1, 1) + timedelta(days=draw(st.integers(0, 3 * 365)))
    if draw(st.booleans()):
        minute = draw(st.integers(0, 1439))
        return datetime(day.year, day.month, day.day, tzinfo=UTC) + minute * MINUTE
    minute = draw(st.sampled_from(INTERESTING_MINUTES[:-1])) + draw(st.integers(-1, 1))
    wall = datetime(day.year, day.month, day.day, fold=draw(st.integers(0, 1)))
    wall += max(0, minute) * MINUTE
    return wall.replace(tzinfo=ZoneInfo(tz)).astimezone(UTC)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[BusinessCalendar, datetime, datetime]:
    """(calendar, start, end), minute-aligned, end at most 10 days after start."""
    tz = draw(st.sampled_from(ZONES))
    start = draw(starts(tz))
    near = st.integers(-2, 11).map(lambda n: start.date() + timedelta(days=n))
    holidays = draw(st.frozensets(near, max_size=3))
    yearly = draw(st.frozensets(near.map(lambda d: (d.month, d.day)), max_size=2))
    week = tuple(draw(day_intervals()) for _ in range(7))
    cal = BusinessCalendar(tz, week, holidays, yearly)
    end = start + draw(st.integers(0, 10 * 1440)) * MINUTE
    return cal, start, end


def as_given(data: st.DataObject, cal: BusinessCalendar, moment: datetime) -> datetime:
    """The same instant, sometimes expressed in the calendar's zone rather than UTC."""
    return moment.astimezone(ZoneInfo(cal.tz)) if data.draw(st.booleans()) else moment


PROPERTY = settings(
    max_examples=250,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)


# --- properties ----------------------------------------------------------------------------


@PROPERTY
@given(st.data(), scenarios())
def test_business_seconds_between_equals_the_oracle(
    data: st.DataObject, scenario: tuple[BusinessCalendar, datetime, datetime]
) -> None:
    cal, start, end = scenario
    got = business_seconds_between(cal, as_given(data, cal, start), end)
    assert got == oracle(cal, start, end)
    assert business_seconds_between(cal, end, start) == 0


@PROPERTY
@given(st.data(), scenarios())
def test_add_business_seconds_is_the_earliest_instant_reaching_the_target(
    data: st.DataObject, scenario: tuple[BusinessCalendar, datetime, datetime]
) -> None:
    """The earliest t with oracle(start, t) == target is just after the target's last
    business minute; draw targets that often end exactly where a run of business time does."""
    cal, start, horizon = scenario
    minutes = business_minutes(cal, start, horizon)
    run_ends = [n + 1 for n, m in enumerate(minutes) if minutes[n + 1 : n + 2] != [m + MINUTE]]
    count = data.draw(st.one_of(st.integers(0, len(minutes)), st.sampled_from([0, *run_ends])))
    target = count * 60
    given_start = as_given(data, cal, start)
    if cal.never_works:
        with pytest.raises(ValueError, match="no working time"):
            add_business_seconds(cal, given_start, 60)

    t = add_business_seconds(cal, given_start, target)

    # Compared in UTC: under PEP 495 an aware datetime in a fold or gap (a local start such
    # as 01:00 on a fall-back night) never equals one in another zone, even at the same
    # instant.
    assert t.astimezone(UTC) == (minutes[count - 1] + MINUTE if count else start)
    assert oracle(cal, start, t) == target
    if target:
        assert oracle(cal, start, t - MINUTE) < target
    else:
        assert t is given_start


@PROPERTY
@given(st.data(), scenarios())
def test_excluding_pauses_equals_the_oracle(
    data: st.DataObject, scenario: tuple[BusinessCalendar, datetime, datetime]
) -> None:
    cal, start, end = scenario
    span = int((end - start) / MINUTE)
    edge = st.integers(-1440, span + 1440).map(lambda n: start + n * MINUTE)
    pause = st.tuples(edge, st.one_of(st.none(), edge))
    pauses = data.draw(st.lists(pause, max_size=4))

    def paused(u: datetime) -> bool:
        return any(p_start <= u < (end if p_end is None else p_end) for p_start, p_end in pauses)

    got = business_seconds_between_excluding(cal, start, end, pauses)
    assert got == oracle(cal, start, end, paused)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.data(), scenarios())
def test_add_then_measure_round_trips_to_the_microsecond(
    data: st.DataObject, scenario: tuple[BusinessCalendar, datetime, datetime]
) -> None:
    """Not against the oracle (nothing here is minute-aligned, and targets reach years
    ahead): add and measure agree, and the result is the earliest such instant."""
    cal, start, _ = scenario
    start += timedelta(microseconds=data.draw(st.integers(0, 59_999_999)))
    within_three_years = business_seconds_between(cal, start, start + timedelta(days=3 * 365))
    if not within_three_years:
        return
    seconds = data.draw(st.integers(1, min(within_three_years, 10_000 * HOUR)))
    t = add_business_seconds(cal, start, seconds)
    assert business_seconds_between(cal, start, t) == seconds
    assert business_seconds_between(cal, start, t - timedelta(microseconds=1)) == seconds - 1


def test_transition_table_is_right() -> None:
    """The dates the start strategy clusters around are exactly each zone's 2025-2027
    changes (as the local date just after the change)."""
    for tz, dates in TRANSITIONS.items():
        zone = ZoneInfo(tz)
        changes = []
        u = datetime(2025, 1, 1, tzinfo=UTC)
        while u.year < 2028:
            if (u + MINUTE * 60).astimezone(zone).utcoffset() != u.astimezone(zone).utcoffset():
                changes.append((u + MINUTE * 60).astimezone(zone).date())
            u += MINUTE * 60
        assert changes == dates, tz


# --- the named traps -----------------------------------------------------------------------


def every_day(*intervals: tuple[int, int]) -> BusinessCalendar:
    return BusinessCalendar("UTC", (tuple(intervals),) * 7)


def in_zone(tz: str, cal: BusinessCalendar) -> BusinessCalendar:
    return BusinessCalendar(tz, cal.week, cal.holidays, cal.yearly_holidays)


def local(
    tz: str, year: int, month: int, day: int, hour: int = 0, minute: int = 0, fold: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(tz), fold=fold)


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


NIGHT_SHIFT = every_day((0, 360))  # 00:00-06:00 every day, straddling every DST change


@pytest.mark.parametrize(
    ("tz", "day", "hours"),
    [
        ("America/New_York", date(2025, 3, 9), 5),  # 02:00 -> 03:00
        ("America/New_York", date(2025, 11, 2), 7),  # 02:00 -> 01:00
        ("Europe/London", date(2025, 3, 30), 5),  # 01:00 -> 02:00
        ("Europe/London", date(2025, 10, 26), 7),  # 02:00 -> 01:00
        ("Australia/Lord_Howe", date(2025, 10, 5), 5.5),  # 02:00 -> 02:30
        ("Australia/Lord_Howe", date(2025, 4, 6), 6.5),  # 02:00 -> 01:30
        ("Asia/Kolkata", date(2025, 3, 9), 6),
    ],
)
def test_a_shift_spanning_a_dst_change_lasts_what_the_clock_on_the_wall_says(
    tz: str, day: date, hours: float
) -> None:
    cal = in_zone(tz, NIGHT_SHIFT)
    midnight = local(tz, day.year, day.month, day.day)
    noon = local(tz, day.year, day.month, day.day, 12)
    assert business_seconds_between(cal, midnight, noon) == hours * HOUR
    assert add_business_seconds(cal, midnight, int(hours * HOUR)) == local(
        tz, day.year, day.month, day.day, 6
    )


def test_spring_forward_target_lands_after_the_skipped_hour() -> None:
    cal = in_zone("America/New_York", NIGHT_SHIFT)
    start = utc(2025, 3, 9, 5)  # 00:00 EST
    assert add_business_seconds(cal, start, 2 * HOUR) == utc(2025, 3, 9, 7)  # 03:00 EDT


def test_fall_back_repeated_hour_counts_twice() -> None:
    tz = "America/New_York"
    cal = in_zone(tz, every_day((60, 120)))  # 01:00-02:00, which happens twice on 2025-11-02
    first = local(tz, 2025, 11, 2, 1)
    second = local(tz, 2025, 11, 2, 1, fold=1)
    assert second - first == timedelta(0)  # same-zone datetime arithmetic is wall-clock!
    assert second.astimezone(UTC) - first.astimezone(UTC) == timedelta(hours=1)
    assert business_seconds_between(cal, first, local(tz, 2025, 11, 2, 3)) == 2 * HOUR
    assert add_business_seconds(cal, first, 90 * 60) == utc(2025, 11, 2, 6, 30)  # 01:30 EST
    assert business_seconds_between(cal, second, local(tz, 2025, 11, 2, 3)) == HOUR


WEEKDAYS_9_TO_5: tuple[tuple[tuple[int, int], ...], ...] = (((540, 1020),),) * 5 + ((), ())


def test_friday_evening_target_crosses_the_weekend_and_christmas() -> None:
    tz = "America/New_York"
    cal = BusinessCalendar(tz, WEEKDAYS_9_TO_5, yearly_holidays=frozenset({(12, 25), (12, 26)}))
    start = local(tz, 2025, 12, 19, 16, 30)  # Friday
    # Fri 0.5h + Mon/Tue/Wed 8h each = 24.5h; Thu 25 + Fri 26 holidays, weekend; Mon 29 0.5h.
    due = add_business_seconds(cal, start, 25 * HOUR)
    assert due == local(tz, 2025, 12, 29, 9, 30)
    assert due.tzinfo is UTC
    assert business_seconds_between(cal, start, due) == 25 * HOUR
    dated = BusinessCalendar(tz, WEEKDAYS_9_TO_5, holidays=frozenset({date(2025, 12, 22)}))
    # Fri 0.5h; Mon 22 is a holiday; Tue 8h.
    assert add_business_seconds(dated, start, 8 * HOUR + 1800) == local(tz, 2025, 12, 23, 17)


def test_split_shift() -> None:
    cal = every_day((540, 720), (780, 1020))
    monday = (2025, 6, 2)
    assert add_business_seconds(cal, utc(*monday, 11, 30), HOUR) == utc(*monday, 13, 30)
    assert add_business_seconds(cal, utc(*monday, 11, 30), 30 * 60) == utc(*monday, 12)
    assert add_business_seconds(cal, utc(*monday, 12, 15), 60) == utc(*monday, 13, 1)
    assert business_seconds_between(cal, utc(*monday, 8), utc(*monday, 18)) == 7 * HOUR
    touching = every_day((540, 720), (720, 1020))
    assert business_seconds_between(touching, utc(*monday, 8), utc(*monday, 18)) == 8 * HOUR


def test_twenty_four_seven() -> None:
    cal = BusinessCalendar.always()
    start = datetime(2025, 3, 30, 0, 59, 59, 250_000, tzinfo=ZoneInfo("Europe/London"))
    # Not start + 5s: that is wall-clock arithmetic, landing in London's skipped hour (and
    # a datetime in a gap or fold never compares equal to one in another zone).
    assert add_business_seconds(cal, start, 5) == start.astimezone(UTC) + timedelta(seconds=5)
    # 400 wall-clock days from GMT into BST are an hour short of 400 real days.
    assert business_seconds_between(cal, start, start + timedelta(days=400)) == 400 * 86_400 - HOUR
    assert add_business_seconds(cal, start, 0) is start  # zero: start itself, as given


def test_zero_target_is_start_even_outside_business_time() -> None:
    cal = BusinessCalendar("UTC", WEEKDAYS_9_TO_5)
    saturday = utc(2025, 6, 7, 3)
    assert add_business_seconds(cal, saturday, 0) is saturday
    assert add_business_seconds(cal, saturday, 1) == utc(2025, 6, 9, 9, 0, 1)


def test_ten_thousand_business_hours_is_quick() -> None:
    cal = BusinessCalendar("America/New_York", WEEKDAYS_9_TO_5)
    begun = time.perf_counter()
    due = add_business_seconds(cal, utc(2030, 1, 1), 10_000 * HOUR)
    assert time.perf_counter() - begun < 1.0
    assert business_seconds_between(cal, utc(2030, 1, 1), due) == 10_000 * HOUR


def test_no_working_time_raises() -> None:
    start = utc(2025, 1, 1)
    for cal in (
        BusinessCalendar("UTC", ((),) * 7),
        BusinessCalendar(
            "UTC",
            WEEKDAYS_9_TO_5,
            yearly_holidays=frozenset((d.month, d.day) for d in _every_day_of(2024)),
        ),
    ):
        assert cal.never_works
        with pytest.raises(ValueError, match="no working time"):
            add_business_seconds(cal, start, 1)
        assert add_business_seconds(cal, start, 0) is start
        assert business_seconds_between(cal, start, start + timedelta(days=30)) == 0


def test_unreachable_target_gives_up_after_the_walk_limit() -> None:
    # Only Mondays work, and every Monday of the next 25 years is a dated holiday.
    mondays = frozenset(date(2025, 1, 6) + timedelta(weeks=n) for n in range(25 * 53))
    cal = BusinessCalendar("UTC", (((540, 1020),),) + ((),) * 6, holidays=mondays)
    with pytest.raises(ValueError, match="not reached"):
        add_business_seconds(cal, utc(2025, 1, 1), 1)


def _every_day_of(year: int) -> list[date]:
    first = date(year, 1, 1)
    return [first + timedelta(days=n) for n in range((date(year + 1, 1, 1) - first).days)]


def test_naive_datetimes_and_negative_targets_are_refused() -> None:
    cal = BusinessCalendar.always()
    with pytest.raises(ValueError, match="aware"):
        business_seconds_between(cal, datetime(2025, 1, 1), utc(2025, 1, 2))
    with pytest.raises(ValueError, match="negative"):
        add_business_seconds(cal, utc(2025, 1, 1), -1)


def test_pauses_overlap_each_other_and_the_edges() -> None:
    cal = BusinessCalendar("UTC", WEEKDAYS_9_TO_5)
    monday, tuesday = (2025, 6, 2), (2025, 6, 3)
    start, end = utc(*monday, 10), utc(*tuesday, 12)  # 7h + 3h = 10h
    assert business_seconds_between_excluding(cal, start, end, []) == 10 * HOUR
    pauses: list[tuple[datetime, datetime | None]] = [
        (utc(*monday, 8), utc(*monday, 11)),  # sticks out before start: 1h
        (utc(*monday, 10, 30), utc(*monday, 12)),  # overlaps the previous: +1h
        (utc(*monday, 16), utc(*tuesday, 10)),  # across the night: 1h + 1h
        (utc(*tuesday, 11), None),  # open: until end, 1h
        (utc(*tuesday, 11, 30), utc(*tuesday, 11)),  # inverted: nothing
    ]
    assert business_seconds_between_excluding(cal, start, end, pauses) == 5 * HOUR


# --- validation ----------------------------------------------------------------------------


def test_validate_intervals_names_each_bad_interval() -> None:
    week: list[list[tuple[int, int]]] = [[] for _ in range(7)]
    week[0] = [(540, 720), (700, 1020)]  # overlap
    week[2] = [(600, 600), (700, 650)]  # empty, inverted
    week[4] = [(-5, 60), (1380, 1441)]  # out of range
    week[6] = [(0, 1440), (60, 120), (720, 780)]  # both inside the whole day
    errors = validate_intervals(week)
    assert [e.split(":")[0] for e in errors] == [
        "week.0.1",
        "week.2.0",
        "week.2.1",
        "week.4.0",
        "week.4.1",
        "week.6.1",
        "week.6.2",
    ]
    assert "overlaps week.0.0" in errors[0]
    assert "inverted" in errors[1]
    assert "out of range" in errors[3]
    assert validate_intervals(week[:6]) == ["week: expected 7 days (Monday first), got 6"]
    assert validate_intervals([[(540, 720), (720, 1020)]] + [[]] * 6) == []


def test_validate_timezone() -> None:
    for tz in ("UTC", "Europe/London", "Pacific/Chatham", "America/St_Johns"):
        assert validate_timezone(tz), tz
    for bad in ("Mars/Olympus_Mons", "europe/london", "", "../etc/passwd", "localtime", None):
        assert not validate_timezone(bad), bad


def test_the_constructor_refuses_invalid_calendars_and_build_normalises() -> None:
    with pytest.raises(CalendarError) as caught:
        BusinessCalendar("Mars/Olympus_Mons", (((540, 1020), (1000, 1100)),) + ((),) * 6)
    assert caught.value.errors == [
        "tz: unknown time zone 'Mars/Olympus_Mons'",
        caught.value.errors[1],
    ]
    assert caught.value.errors[1].startswith("week.0.1: overlaps week.0.0")
    with pytest.raises(CalendarError, match="sorted"):
        BusinessCalendar("UTC", (((780, 1020), (540, 720)),) + ((),) * 6)
    with pytest.raises(CalendarError, match="tuples"):
        BusinessCalendar("UTC", (([540, 1020],),) + ((),) * 6)  # type: ignore[arg-type]
    with pytest.raises(CalendarError, match=r"week\.3: must be a list"):
        BusinessCalendar.build("UTC", [[], [], [], 9, [], [], []])  # type: ignore[list-item]
    with pytest.raises(CalendarError, match=r"\(2, 30\)"):
        BusinessCalendar.build("UTC", [[]] * 7, yearly_holidays=[(2, 30)])
    built = BusinessCalendar.build("UTC", [[[780, 1020], [540, 720]]] + [[]] * 6, [], [(2, 29)])
    assert built.week[0] == ((540, 720), (780, 1020))
    assert built == BusinessCalendar("UTC", built.week, yearly_holidays=frozenset({(2, 29)}))
    assert hash(built) == hash(BusinessCalendar.build("UTC", built.week, (), [(2, 29)]))


def test_a_zero_target_from_an_ambiguous_local_start_is_that_same_instant():
    """01:00 on St. John's fall-back night happens twice; a zero target returns the given
    datetime itself, the same instant as its UTC form (found by the property test above)."""
    cal = BusinessCalendar("America/St_Johns", ((),) * 7, frozenset(), frozenset())
    local = datetime(2025, 11, 2, 1, 0, tzinfo=ZoneInfo("America/St_Johns"))  # fold=0: NDT
    assert add_business_seconds(cal, local, 0) is local
    assert local.astimezone(UTC) == datetime(2025, 11, 2, 3, 30, tzinfo=UTC)
