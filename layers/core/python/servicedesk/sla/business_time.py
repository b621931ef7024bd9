"""The business-time calculus SLA targets are measured in, and the calendar it runs on.

Definition (the single rule everything here implements). A UTC instant ``u`` is *business
time* on a calendar iff, with ``l = u.astimezone(ZoneInfo(cal.tz))``:

* ``l.date()`` is not a holiday: not in ``cal.holidays`` and ``(l.month, l.day)`` not in
  ``cal.yearly_holidays``; and
* ``l``'s wall-clock minute of the day, ``l.hour * 60 + l.minute``, lies in ``[start, end)``
  of one of the intervals of ``cal.week[l.weekday()]`` (0 = Monday).

Durations are real elapsed time: on a spring-forward day the skipped local hour has no
instants, so it contributes nothing; on a fall-back day the repeated local hour happens twice
and counts twice. Interval bounds are minutes of the day, ``0 <= start < end <= 1440``.

How it is computed. For one local date the business instants are a few UTC ranges: the
date's possible UTC span is split into pieces of constant UTC offset (the zone is sampled
every six hours and each change is bisected to the second), and every interval's naive local
range is intersected with every piece and shifted back by that piece's offset. Those ranges
are cached per (zone, intervals, date), and the functions below walk them day by day, never
minute by minute. All arithmetic is in integer microseconds since the epoch.

Sampling every six hours would miss two offset changes that cancel out within six hours; no
zone in the tz database has ever had offset changes closer together than about four days.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, available_timezones

Interval = tuple[int, int]
Week = tuple[tuple[Interval, ...], ...]

MINUTES_PER_DAY = 1440
DAYS_PER_WEEK = 7
# add_business_seconds gives up (ValueError) rather than walk further than this.
MAX_WALK_DAYS = 20 * 366

_US_PER_S = 1_000_000
_DAY_S = 86_400
_DAY_US = _DAY_S * _US_PER_S
_SAMPLE_STEP_S = 6 * 3600
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_ONE_US = timedelta(microseconds=1)
_ONE_S = timedelta(seconds=1)
_ALL_MONTH_DAYS = 366
# Present in some tz directories but not real zones: "localtime" follows the host's setting.
_PSEUDO_ZONES = frozenset({"localtime", "Factory"})


class CalendarError(ValueError):
    """A calendar definition is invalid; ``errors`` names every problem (``week.<day>.<i>``)."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


# --- validation -------------------------------------------------------------------------


@functools.cache
def _known_zones() -> frozenset[str]:
    return frozenset(available_timezones()) - _PSEUDO_ZONES


def validate_timezone(tz: object) -> bool:
    """Whether ``tz`` is an IANA zone key of the installed tz database (case-sensitive)."""
    return isinstance(tz, str) and tz in _known_zones()


def _checked_interval(interval: object) -> tuple[int, int] | str:
    """The interval's bounds, or what is wrong with it."""
    if not isinstance(interval, Sequence) or isinstance(interval, str) or len(interval) != 2:
        return "must be a [start, end] pair of minutes of the day"
    start, end = interval
    if not isinstance(start, int) or not isinstance(end, int) or bool in (type(start), type(end)):
        return "bounds must be integers (minutes of the day)"
    if not (0 <= start <= MINUTES_PER_DAY and 0 <= end <= MINUTES_PER_DAY):
        return f"out of range: bounds must lie in 0..{MINUTES_PER_DAY}, got [{start}, {end}]"
    if start >= end:
        return f"inverted or empty: start {start} must be before end {end}"
    return start, end


def _day_errors(day: int, intervals: object) -> list[str]:
    if not isinstance(intervals, Sequence) or isinstance(intervals, str):
        return [f"week.{day}: must be a list of [start, end] intervals"]
    errors: list[str] = []
    valid: list[tuple[int, int, int]] = []
    for index, interval in enumerate(intervals):
        checked = _checked_interval(interval)
        if isinstance(checked, str):
            errors.append(f"week.{day}.{index}: {checked}")
        else:
            valid.append((*checked, index))
    valid.sort()
    reach_end, reach_index = -1, -1
    for start, end, index in valid:
        if start < reach_end:
            errors.append(f"week.{day}.{index}: overlaps week.{day}.{reach_index}")
        if end > reach_end:
            reach_end, reach_index = end, index
    return errors


def validate_intervals(week: Sequence[object]) -> list[str]:
    """Every problem with a week of working intervals, each naming ``week.<day>.<index>``.

    Reports a week that is not 7 days long, intervals that are not integer pairs, out of
    range (outside 0..1440), inverted or empty (start >= end), or overlapping another interval
    of the same day (touching, e.g. 09:00-12:00 and 12:00-17:00, is fine). Order within a day
    does not matter here; ``BusinessCalendar.build`` sorts.
    """
    if len(week) != DAYS_PER_WEEK:
        return [f"week: expected {DAYS_PER_WEEK} days (Monday first), got {len(week)}"]
    errors: list[str] = []
    for day, intervals in enumerate(week):
        errors.extend(_day_errors(day, intervals))
    return errors


def _yearly_errors(yearly_holidays: Iterable[tuple[int, int]]) -> list[str]:
    errors: list[str] = []
    for month_day in sorted(yearly_holidays):
        try:
            date(2000, *month_day)  # a leap year, so (2, 29) is allowed
        except (TypeError, ValueError):
            errors.append(f"yearly_holidays: {month_day!r} is not a valid (month, day)")
    return errors


def calendar_errors(
    tz: object,
    week: Sequence[object],
    yearly_holidays: Iterable[tuple[int, int]] = (),
) -> list[str]:
    """Every problem with a calendar definition (empty when it is valid)."""
    errors = [] if validate_timezone(tz) else [f"tz: unknown time zone {tz!r}"]
    return errors + validate_intervals(week) + _yearly_errors(yearly_holidays)


def _is_canonical(week: Sequence[object]) -> bool:
    return isinstance(week, tuple) and all(
        isinstance(day, tuple)
        and all(isinstance(interval, tuple) for interval in day)
        and tuple(sorted(day)) == day
        for day in week
    )


# --- the calendar ----------------------------------------------------------------------


@dataclass(frozen=True)
class BusinessCalendar:
    """A time zone, weekly working intervals (Monday first) and holidays. Frozen, hashable.

    The constructor wants the canonical form (tuples, each day's intervals sorted) and raises
    ``CalendarError`` otherwise; ``build`` accepts loose input and normalises it.
    """

    tz: str
    week: Week
    holidays: frozenset[date] = frozenset()
    yearly_holidays: frozenset[tuple[int, int]] = frozenset()

    def __post_init__(self) -> None:
        errors = calendar_errors(self.tz, self.week, self.yearly_holidays)
        if not errors and not _is_canonical(self.week):
            errors.append("week: must be tuples, each day's intervals sorted by start")
        if errors:
            raise CalendarError(errors)

    @classmethod
    def always(cls) -> BusinessCalendar:
        """24x7 in UTC: every instant is business time."""
        return cls("UTC", (((0, MINUTES_PER_DAY),),) * DAYS_PER_WEEK)

    @classmethod
    def build(
        cls,
        tz: str,
        week: Sequence[Sequence[Sequence[int]]],
        holidays: Iterable[date] = (),
        yearly_holidays: Iterable[tuple[int, int]] = (),
    ) -> BusinessCalendar:
        """Validate and normalise loose input (lists, unsorted days); raises CalendarError."""
        yearly = frozenset((month, day) for month, day in yearly_holidays)
        errors = calendar_errors(tz, week, yearly)
        if errors:
            raise CalendarError(errors)
        canonical = tuple(tuple(sorted((s, e) for s, e in day)) for day in week)
        return cls(tz, canonical, frozenset(holidays), yearly)

    @property
    def never_works(self) -> bool:
        """True when no instant can be business time (checked before walking for one)."""
        return not any(self.week) or len(self.yearly_holidays) >= _ALL_MONTH_DAYS


# --- per-date business ranges ----------------------------------------------------------


def _offset_s(zone: ZoneInfo, epoch_s: int) -> int:
    offset = datetime.fromtimestamp(epoch_s, zone).utcoffset()
    assert offset is not None
    return offset // _ONE_S


def _first_change(zone: ZoneInfo, lo: int, hi: int, offset: int) -> int:
    """A second in (lo, hi] where the offset first differs from ``offset`` (it does at hi)."""
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _offset_s(zone, mid) == offset:
            lo = mid
        else:
            hi = mid
    return hi


@functools.lru_cache(maxsize=4096)
def _offset_pieces(tz: str, ordinal: int) -> tuple[tuple[int, int, int], ...]:
    """``(utc_start_s, utc_end_s, offset_s)`` pieces of constant UTC offset that cover every
    instant whose local date could be ``ordinal``: UTC [local midnight - 1 day, + 2 days)."""
    zone = ZoneInfo(tz)
    midnight = (ordinal - _EPOCH_ORDINAL) * _DAY_S
    lo, hi = midnight - _DAY_S, midnight + 2 * _DAY_S
    pieces: list[tuple[int, int, int]] = []
    piece_start, offset = lo, _offset_s(zone, lo)
    known = lo  # the latest second known to have ``offset``
    for sample in range(lo + _SAMPLE_STEP_S, hi + 1, _SAMPLE_STEP_S):
        sample_offset = _offset_s(zone, sample)
        while sample_offset != offset:
            change = _first_change(zone, known, sample, offset)
            pieces.append((piece_start, change, offset))
            piece_start = known = change
            offset = _offset_s(zone, change)
        known = sample
    pieces.append((piece_start, hi, offset))
    return tuple(pieces)


@functools.lru_cache(maxsize=8192)
def _local_day_ranges(
    tz: str, intervals: tuple[Interval, ...], ordinal: int
) -> tuple[tuple[int, int], ...]:
    """Sorted, disjoint UTC ranges (epoch microseconds) of the local date's working intervals."""
    midnight = (ordinal - _EPOCH_ORDINAL) * _DAY_S
    found: list[tuple[int, int]] = []
    for piece_start, piece_end, offset in _offset_pieces(tz, ordinal):
        for start_min, end_min in intervals:
            lo = max(piece_start, midnight + start_min * 60 - offset)
            hi = min(piece_end, midnight + end_min * 60 - offset)
            if lo < hi:
                found.append((lo, hi))
    found.sort()
    merged: list[tuple[int, int]] = []
    for lo, hi in found:
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(hi, merged[-1][1]))
        else:
            merged.append((lo, hi))
    return tuple((lo * _US_PER_S, hi * _US_PER_S) for lo, hi in merged)


def _day_ranges(cal: BusinessCalendar, ordinal: int) -> tuple[tuple[int, int], ...]:
    day = date.fromordinal(ordinal)
    if day in cal.holidays or (day.month, day.day) in cal.yearly_holidays:
        return ()
    intervals = cal.week[day.weekday()]
    if not intervals:
        return ()
    return _local_day_ranges(cal.tz, intervals, ordinal)


def _to_us(moment: datetime) -> int:
    if moment.utcoffset() is None:
        raise ValueError("business-time arithmetic needs aware datetimes")
    return (moment - _EPOCH) // _ONE_US


def _utc_ordinal(epoch_us: int) -> int:
    return _EPOCH_ORDINAL + epoch_us // _DAY_US


def _business_us(cal: BusinessCalendar, start_us: int, end_us: int) -> int:
    if end_us <= start_us:
        return 0
    total = 0
    # A UTC offset is under a day, so an instant's local date is its UTC date +- 1.
    for ordinal in range(_utc_ordinal(start_us) - 1, _utc_ordinal(end_us) + 2):
        for lo, hi in _day_ranges(cal, ordinal):
            overlap = min(hi, end_us) - max(lo, start_us)
            if overlap > 0:
                total += overlap
    return total


def _ranges_from(cal: BusinessCalendar, start_us: int) -> Iterator[tuple[int, int]]:
    """Business ranges ending after ``start_us``, in UTC order, for at most MAX_WALK_DAYS."""
    first = _utc_ordinal(start_us) - 1
    pending: list[tuple[int, int]] = []
    for ordinal in range(first, first + MAX_WALK_DAYS):
        pending.extend(r for r in _day_ranges(cal, ordinal) if r[1] > start_us)
        pending.sort()
        # Later local dates begin after this date's UTC midnight (offsets are under a day),
        # so anything starting before it is in final order even if a zone's dates overlap.
        boundary = (ordinal - _EPOCH_ORDINAL) * _DAY_US
        ready = 0
        while ready < len(pending) and pending[ready][0] < boundary:
            ready += 1
        yield from pending[:ready]
        del pending[:ready]


# --- public calculus -------------------------------------------------------------------


def business_seconds_between(cal: BusinessCalendar, start: datetime, end: datetime) -> int:
    """Business seconds in ``[start, end)`` (aware datetimes; 0 when ``end <= start``).

    Computed to the microsecond and floored to whole seconds.
    """
    return _business_us(cal, _to_us(start), _to_us(end)) // _US_PER_S


def add_business_seconds(cal: BusinessCalendar, start: datetime, seconds: int) -> datetime:
    """The earliest instant ``t >= start`` with ``business_seconds_between(start, t) == seconds``.

    The result is in UTC. For ``seconds == 0`` it is ``start`` itself, unchanged, even outside
    business time: zero business seconds have elapsed at ``start`` already, so rolling forward
    to the next opening would not be the *earliest* such instant. For a positive target it is
    the end of the business time that completes it, so it can be a closing time (17:00). Raises
    ValueError for a negative target, a calendar with no working time, or a target not reached
    within MAX_WALK_DAYS of ``start``.
    """
    if seconds < 0:
        raise ValueError("seconds must not be negative")
    start_us = _to_us(start)
    if seconds == 0:
        return start
    if cal.never_works:
        raise ValueError("the calendar has no working time")
    remaining = seconds * _US_PER_S
    for lo, hi in _ranges_from(cal, start_us):
        available = hi - max(lo, start_us)
        if available >= remaining:
            return _EPOCH + timedelta(microseconds=hi - available + remaining)
        remaining -= available
    raise ValueError(f"target not reached within {MAX_WALK_DAYS} days of {start.isoformat()}")


def _merged_pauses(
    start_us: int, end_us: int, pauses: Iterable[tuple[datetime, datetime | None]]
) -> list[tuple[int, int]]:
    clipped = sorted(
        (max(start_us, _to_us(p_start)), end_us if p_end is None else min(end_us, _to_us(p_end)))
        for p_start, p_end in pauses
    )
    merged: list[tuple[int, int]] = []
    for lo, hi in clipped:
        if lo >= hi:
            continue
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(hi, merged[-1][1]))
        else:
            merged.append((lo, hi))
    return merged


def business_seconds_between_excluding(
    cal: BusinessCalendar,
    start: datetime,
    end: datetime,
    pauses: Iterable[tuple[datetime, datetime | None]],
) -> int:
    """Business seconds in ``[start, end)`` outside every pause.

    A pause ``(p_start, p_end)`` covers ``[p_start, p_end)``; ``p_end=None`` means still
    paused, i.e. until ``end``. Pauses may overlap each other and stick out of the range;
    an inverted pause covers nothing. Floored to whole seconds like the others.
    """
    start_us, end_us = _to_us(start), _to_us(end)
    if end_us <= start_us:
        return 0
    total = _business_us(cal, start_us, end_us)
    for lo, hi in _merged_pauses(start_us, end_us, pauses):
        total -= _business_us(cal, lo, hi)
    return total // _US_PER_S


def is_business_time(cal: BusinessCalendar, at: datetime) -> bool:
    """Whether the instant ``at`` is business time (the microsecond from it is)."""
    at_us = _to_us(at)
    return _business_us(cal, at_us, at_us + 1) > 0
