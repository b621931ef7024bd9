"""When scheduled reports run: local wall-clock slots turned into instants, correct across
daylight-saving transitions (Europe/Paris and America/New_York, spring and autumn)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from servicedesk.exports.schedule import latest_slot, next_run, period


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def _daily(hour: int, tz: str, after: datetime) -> datetime:
    return next_run(frequency="daily", hour=hour, weekday=None, monthday=None, tz=tz, after=after)


def test_daily_slot_keeps_its_local_hour_across_spring_forward():
    # Paris: CET (+1) until 2026-03-29 02:00, then CEST (+2).
    first = _daily(9, "Europe/Paris", _utc(2026, 3, 28, 0))
    assert first == _utc(2026, 3, 28, 8)  # 09:00 CET
    second = _daily(9, "Europe/Paris", first)
    assert second == _utc(2026, 3, 29, 7)  # 09:00 CEST: 23 hours later
    assert second - first == timedelta(hours=23)


def test_a_slot_in_the_spring_gap_runs_when_the_clock_jumps():
    # 02:00 does not exist in Paris on 2026-03-29: the slot is 03:00 CEST (01:00 UTC).
    slot = _daily(2, "Europe/Paris", _utc(2026, 3, 28, 12))
    assert slot == _utc(2026, 3, 29, 1)
    assert slot.astimezone(ZoneInfo("Europe/Paris")).hour == 3
    # And the next day it is 02:00 CEST again.
    assert _daily(2, "Europe/Paris", slot) == _utc(2026, 3, 30, 0)


def test_a_slot_in_the_autumn_overlap_runs_once_at_its_first_occurrence():
    # 02:00 happens twice in Paris on 2026-10-25 (CEST, then CET).
    slot = _daily(2, "Europe/Paris", _utc(2026, 10, 24, 12))
    assert slot == _utc(2026, 10, 25, 0)  # 02:00 CEST
    # The second 02:00 (01:00 UTC) is not another slot: the next is the 26th, 02:00 CET.
    assert _daily(2, "Europe/Paris", slot) == _utc(2026, 10, 26, 1)
    assert _daily(2, "Europe/Paris", slot + timedelta(minutes=30)) == _utc(2026, 10, 26, 1)


def test_new_york_spring_forward_and_fall_back():
    before = _daily(8, "America/New_York", _utc(2026, 3, 7, 0))
    assert before == _utc(2026, 3, 7, 13)  # 08:00 EST
    assert _daily(8, "America/New_York", before) == _utc(2026, 3, 8, 12)  # 08:00 EDT
    autumn = _daily(8, "America/New_York", _utc(2026, 10, 31, 13))
    assert autumn == _utc(2026, 11, 1, 13)  # 08:00 EST after the change that night


def test_weekly_slot_is_on_its_weekday():
    # Wednesday 2026-12-02 → the next Monday, 2026-12-07, 08:00 Paris (07:00 UTC).
    slot = next_run(
        frequency="weekly",
        hour=8,
        weekday=0,
        monthday=None,
        tz="Europe/Paris",
        after=_utc(2026, 12, 2, 10),
    )
    assert slot == _utc(2026, 12, 7, 7)
    assert slot.astimezone(ZoneInfo("Europe/Paris")).weekday() == 0


def test_monthly_slot_on_its_day_in_a_zone_ahead_of_utc():
    # Auckland is +13 in December: the 28th at 06:00 local is the 27th, 17:00 UTC.
    slot = next_run(
        frequency="monthly",
        hour=6,
        weekday=None,
        monthday=28,
        tz="Pacific/Auckland",
        after=_utc(2026, 12, 1),
    )
    assert slot == _utc(2026, 12, 27, 17)
    nxt = next_run(
        frequency="monthly", hour=6, weekday=None, monthday=28, tz="Pacific/Auckland", after=slot
    )
    assert nxt.astimezone(ZoneInfo("Pacific/Auckland")).date().isoformat() == "2027-01-28"


def test_the_next_slot_is_strictly_after():
    slot = _daily(9, "UTC", _utc(2026, 5, 1, 9))
    assert slot == _utc(2026, 5, 2, 9)


@pytest.mark.parametrize(
    ("frequency", "slot", "days"),
    [
        ("daily", _utc(2026, 3, 29, 7), (date(2026, 3, 28), date(2026, 3, 28))),
        ("daily", _utc(2026, 3, 28, 23, 30), (date(2026, 3, 28), date(2026, 3, 28))),  # 00:30 local
        ("weekly", _utc(2026, 12, 7, 7), (date(2026, 11, 30), date(2026, 12, 6))),
        ("monthly", _utc(2026, 3, 1, 7), (date(2026, 2, 1), date(2026, 2, 28))),
        ("monthly", _utc(2027, 1, 28, 7), (date(2026, 12, 1), date(2026, 12, 31))),
    ],
)
def test_each_delivery_covers_the_local_days_before_it(frequency, slot, days):
    assert period(frequency, slot, "Europe/Paris") == days


ZONES = ["UTC", "Europe/Paris", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata"]


@given(
    zone=st.sampled_from(ZONES),
    hour=st.integers(0, 23),
    frequency=st.sampled_from(["daily", "weekly", "monthly"]),
    day=st.integers(0, 6),
    monthday=st.integers(1, 28),
    after=st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2030, 1, 1)),
)
def test_slots_are_after_within_a_period_and_at_the_local_hour(
    zone, hour, frequency, day, monthday, after
):
    after = after.replace(tzinfo=UTC)
    slot = next_run(
        frequency=frequency,
        hour=hour,
        weekday=day if frequency == "weekly" else None,
        monthday=monthday if frequency == "monthly" else None,
        tz=zone,
        after=after,
    )
    assert slot > after
    assert slot - after <= timedelta(
        days={"daily": 1, "weekly": 7, "monthly": 31}[frequency], hours=2
    )
    local = slot.astimezone(ZoneInfo(zone))
    # The local hour, or (in a spring gap) the first instant after it.
    assert (
        local.hour == hour
        or (local - timedelta(hours=1)).hour <= hour <= local.hour
        or (local.utcoffset() != (slot - timedelta(hours=3)).astimezone(ZoneInfo(zone)).utcoffset())
    )
    if frequency == "weekly" and local.hour == hour:
        assert local.weekday() == day
    if frequency == "monthly" and local.hour == hour:
        assert local.day == monthday


def test_latest_slot_is_the_last_at_or_before_and_next_run_follows_it():
    def latest(frequency: str, at: datetime, **day: int | None) -> datetime:
        cadence = {"weekday": None, "monthday": None, **day}
        return latest_slot(frequency=frequency, hour=8, tz="Europe/Paris", at=at, **cadence)  # type: ignore[arg-type]

    wednesday = _utc(2026, 3, 18, 12)
    assert latest("weekly", wednesday, weekday=0) == _utc(2026, 3, 16, 7)  # Monday 08:00 CET
    assert latest("weekly", _utc(2026, 3, 16, 7), weekday=0) == _utc(2026, 3, 16, 7)  # at it
    assert latest("daily", _utc(2026, 3, 30, 5, 59)) == _utc(2026, 3, 29, 6)  # 08:00 CEST
    assert latest("monthly", wednesday, monthday=28) == _utc(2026, 2, 28, 7)
    # Spring forward: 02:00 does not exist on 2026-03-29, its slot is the jump (01:00 UTC).
    gap = latest_slot(
        frequency="daily",
        hour=2,
        weekday=None,
        monthday=None,
        tz="Europe/Paris",
        at=_utc(2026, 3, 29, 5),
    )
    assert gap == _utc(2026, 3, 29, 1)
    assert _daily(2, "Europe/Paris", gap) == _utc(2026, 3, 30, 0)
