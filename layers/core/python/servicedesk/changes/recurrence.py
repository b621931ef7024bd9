"""Recurring blackout windows: the rule (weekly on given weekdays, or monthly on a day or
on the nth weekday; a local start time and a duration, in a named IANA time zone, from a
first day, optionally until a last day) and its occurrences in a window. Pure: no
database, no clock.

Occurrences are wall-clock times in the rule's zone, so a daylight-saving change moves the
instant, never the local start (22:00 stays 22:00). The duration is elapsed time from that
start. A start that falls in a spring-forward gap (02:30 on the night the clock jumps from
02:00 to 03:00) maps through the offset before the gap, to the instant after it (03:30);
one in a fall-back overlap is its first occurrence (fold 0), once.

Expansion is bounded: only the occurrences that can overlap the asked window are produced
(dateutil's rrule, resumed just before it), at most ``MAX_OCCURRENCES`` per rule and call.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dateutil import rrule

MAX_OCCURRENCES = 1000
# Local-time bounds are widened by this much so that no zone offset (at most 14 hours, and
# a DST shift on top) can hide an occurrence at the edge of the window.
MARGIN = timedelta(days=1)
_DAYS = (rrule.MO, rrule.TU, rrule.WE, rrule.TH, rrule.FR, rrule.SA, rrule.SU)


def _rule(recurrence: dict[str, Any], near: datetime) -> rrule.rrule:
    """The rule over naive local datetimes (the zone is applied to each occurrence), started
    at the first day of ``near``'s month when the series began earlier: every rule repeats
    weekly or monthly with interval 1, so that start gives the same occurrences, and rrule
    (which always counts from its start) walks at most a month before the window."""
    starts_on = max(date.fromisoformat(recurrence["starts_on"]), near.date().replace(day=1))
    at = time.fromisoformat(recurrence["start_time"])
    until = recurrence.get("until")
    options: dict[str, Any] = {
        "dtstart": datetime.combine(starts_on, at),
        "until": datetime.combine(date.fromisoformat(until), at) if until else None,
    }
    if recurrence["frequency"] == "weekly":
        days = [_DAYS[d] for d in recurrence["weekdays"]]
        return rrule.rrule(rrule.WEEKLY, byweekday=days, **options)
    if recurrence.get("monthday") is not None:
        return rrule.rrule(rrule.MONTHLY, bymonthday=recurrence["monthday"], **options)
    day = _DAYS[recurrence["weekday"]](recurrence["nth"])
    return rrule.rrule(rrule.MONTHLY, byweekday=day, **options)


def _instant(local: datetime, zone: ZoneInfo) -> datetime:
    return local.replace(tzinfo=zone).astimezone(UTC)


def duration(recurrence: dict[str, Any]) -> timedelta:
    return timedelta(minutes=int(recurrence["duration_minutes"]))


def occurrences(
    recurrence: dict[str, Any], start: datetime, end: datetime
) -> Iterator[tuple[datetime, datetime]]:
    """The occurrences ``[starts_at, ends_at)`` (UTC) overlapping ``[start, end)``, in order."""
    zone = ZoneInfo(recurrence["time_zone"])
    length = duration(recurrence)
    lowest = (start - length).astimezone(zone).replace(tzinfo=None) - MARGIN
    highest = end.astimezone(zone).replace(tzinfo=None) + MARGIN
    for n, local in enumerate(_rule(recurrence, lowest).xafter(lowest, inc=True)):
        if local > highest or n >= MAX_OCCURRENCES:
            return
        begins = _instant(local, zone)
        if begins < end and begins + length > start:
            yield begins, begins + length


def bounds(recurrence: dict[str, Any]) -> tuple[datetime, datetime | None]:
    """The series' outer window: ``start_time`` on ``starts_on`` to ``start_time`` on
    ``until`` plus the duration (None: no ``until``), whether or not those days have an
    occurrence, so every occurrence lies inside. Stored as the row's ``starts_at``/``ends_at``
    so that the window index finds the series a window can meet."""
    zone = ZoneInfo(recurrence["time_zone"])
    at = time.fromisoformat(recurrence["start_time"])
    first = _instant(datetime.combine(date.fromisoformat(recurrence["starts_on"]), at), zone)
    until = recurrence.get("until")
    if not until:
        return first, None
    last = _instant(datetime.combine(date.fromisoformat(until), at), zone)
    return first, last + duration(recurrence)
