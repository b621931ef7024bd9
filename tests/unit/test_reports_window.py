"""The report range: local days in a zone, inclusive, with their buckets (pure)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from servicedesk.platform.errors import ValidationProblem
from servicedesk.reports.window import ReportParams, resolve

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def test_days_across_the_spring_change_have_23_hours() -> None:
    window = resolve(
        ReportParams(
            since=date(2026, 3, 28), until=date(2026, 3, 30), tz="Europe/Paris", interval="day"
        ),
        now=NOW,
    )
    hours = [(end - start) / timedelta(hours=1) for _, start, end in window.buckets]
    assert hours == [24, 23, 24]
    assert window.start == datetime(2026, 3, 27, 23, 0, tzinfo=UTC)
    assert window.end == datetime(2026, 3, 30, 22, 0, tzinfo=UTC)


def test_weeks_start_on_monday_and_months_on_the_first() -> None:
    weeks = resolve(
        ReportParams(since=date(2026, 3, 4), until=date(2026, 3, 17), interval="week"), now=NOW
    )
    assert [b for b, _, _ in weeks.buckets] == [
        date(2026, 3, 2),
        date(2026, 3, 9),
        date(2026, 3, 16),
    ]
    months = resolve(
        ReportParams(since=date(2026, 1, 31), until=date(2026, 3, 1), interval="month"), now=NOW
    )
    assert [b for b, _, _ in months.buckets] == [
        date(2026, 1, 1),
        date(2026, 2, 1),
        date(2026, 3, 1),
    ]


def test_default_range_is_the_last_30_local_days_including_today() -> None:
    window = resolve(ReportParams(tz="Pacific/Kiritimati"), now=NOW)  # UTC+14: already the 7th
    assert (window.since, window.until) == (date(2026, 11, 8), date(2026, 12, 7))


@pytest.mark.parametrize(
    ("params", "field"),
    [
        (ReportParams(since=date(2026, 3, 2), until=date(2026, 3, 1)), "until"),
        (ReportParams(since=date(2024, 1, 1), until=date(2026, 1, 2)), "until"),
        (ReportParams(tz="Not/AZone"), "tz"),
    ],
)
def test_bad_ranges_zones_and_groupings_name_the_field(params: ReportParams, field: str) -> None:
    with pytest.raises(ValidationProblem) as raised:
        resolve(params, now=NOW)
    assert [e["field"] for e in raised.value.errors] == [field]


def test_grouping_by_ticket_type_is_accepted_since_types_exist() -> None:
    # Refused until issue 20 brought ticket types; now a dimension like the others.
    assert resolve(ReportParams(group_by="type"), now=NOW).since == date(2026, 11, 7)


def test_732_days_is_the_longest_range() -> None:
    first = date(2025, 1, 1)
    window = resolve(ReportParams(since=first, until=first + timedelta(days=731)), now=NOW)
    assert (window.until - window.since).days + 1 == 732
    with pytest.raises(ValidationProblem):
        resolve(ReportParams(since=first, until=first + timedelta(days=732)), now=NOW)
