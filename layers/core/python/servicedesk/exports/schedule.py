"""When a scheduled report runs: its slots are wall-clock times in the subscription's time
zone (``hour`` o'clock; every day, on ``weekday`` (0 = Monday) or on ``monthday`` (1-28,
every month has it)), turned into instants per date, so a daylight-saving change moves
the instant, never the local hour.

At a spring-forward gap the hour that does not exist runs at the instant the clock jumps
to (02:00 → 03:00 local); at a fall-back overlap the hour that happens twice runs at its
first occurrence, once.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

Frequency = Literal["daily", "weekly", "monthly"]


def _matches(day: date, frequency: Frequency, weekday: int | None, monthday: int | None) -> bool:
    if frequency == "weekly":
        return day.weekday() == weekday
    if frequency == "monthly":
        return day.day == monthday
    return True


def slot_at(day: date, hour: int, zone: ZoneInfo) -> datetime:
    """The instant of ``hour`` o'clock local on ``day`` (fold 0: the first of a repeated
    hour; a skipped hour maps through UTC to the instant after the gap)."""
    local = datetime.combine(day, time(hour), tzinfo=zone)
    return local.astimezone(UTC)


def next_run(
    *,
    frequency: Frequency,
    hour: int,
    weekday: int | None,
    monthday: int | None,
    tz: str,
    after: datetime,
) -> datetime:
    """The first slot strictly after ``after`` (UTC)."""
    zone = ZoneInfo(tz)
    day = after.astimezone(zone).date() - timedelta(days=1)
    for _ in range(70):  # a monthly slot is at most 31 days away
        if _matches(day, frequency, weekday, monthday):
            instant = slot_at(day, hour, zone)
            if instant > after:
                return instant
        day += timedelta(days=1)
    raise ValueError("no slot within 70 days")  # unreachable with monthday <= 28


def latest_slot(
    *,
    frequency: Frequency,
    hour: int,
    weekday: int | None,
    monthday: int | None,
    tz: str,
    at: datetime,
) -> datetime:
    """The last slot at or before ``at`` (UTC): the one a run at ``at`` catches up."""
    zone = ZoneInfo(tz)
    day = at.astimezone(zone).date() + timedelta(days=1)
    for _ in range(70):
        if _matches(day, frequency, weekday, monthday):
            instant = slot_at(day, hour, zone)
            if instant <= at:
                return instant
        day -= timedelta(days=1)
    raise ValueError("no slot within 70 days")  # unreachable with monthday <= 28


def period(frequency: Frequency, slot: datetime, tz: str) -> tuple[date, date]:
    """The local days a delivery at ``slot`` reports on (both inclusive, as reports take
    them): the day before, the seven days before, or the calendar month before."""
    day = slot.astimezone(ZoneInfo(tz)).date()
    if frequency == "daily":
        return day - timedelta(days=1), day - timedelta(days=1)
    if frequency == "weekly":
        return day - timedelta(days=7), day - timedelta(days=1)
    last = day.replace(day=1) - timedelta(days=1)
    return last.replace(day=1), last
