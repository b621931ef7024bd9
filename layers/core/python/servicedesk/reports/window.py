"""A report's parameters: local date range, time zone, buckets, grouping and filters."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from servicedesk.platform.errors import ValidationProblem, field_error
from servicedesk.reports.schemas import GroupBy, Interval
from servicedesk.sla.business_time import validate_timezone
from servicedesk.tickets.schemas import Channel

MAX_SPAN_DAYS = 732
DEFAULT_DAYS = 30
FILTERS = ("team_id", "assignee_id", "category_id", "priority", "channel", "type")


class ReportFilters(BaseModel):
    """The parameters every report takes, and the one definition of them: ``ReportParams``
    adds the range and grouping; the two routes that keep their earlier answers
    (``reports.routes``) add their own range and grouping to these. Unknown parameters are
    refused (``extra="forbid"``): a query string, an export job's or a subscription's
    ``params`` with one is 422 naming it."""

    model_config = ConfigDict(extra="forbid")

    tz: str = Field("UTC", max_length=64, description="IANA time zone of the days")
    interval: Interval | None = Field(None, description="Buckets: day, week or month")
    team_id: uuid.UUID | None = Field(None, description="Only this team's tickets")
    assignee_id: uuid.UUID | None = Field(None, description="Only this agent's tickets")
    category_id: uuid.UUID | None = Field(None, description="Only this category's tickets")
    priority: Literal["low", "medium", "high", "critical"] | None = None
    channel: Channel | None = None
    type: str | None = Field(
        None,
        pattern=r"^[a-z][a-z0-9_]{0,39}$",
        description="Only tickets of this type (its key, GET /v1/ticket-types)",
    )

    def filters(self) -> dict[str, str]:
        return {n: str(v) for n in FILTERS if (v := getattr(self, n)) is not None}


class ReportParams(ReportFilters):
    """What a report is asked for; validated by ``resolve`` (problems name the field) and
    by ``registry.check_params`` (what the named report offers)."""

    since: date | None = Field(None, description="First local day (YYYY-MM-DD), inclusive")
    until: date | None = Field(None, description="Last local day (YYYY-MM-DD), inclusive")
    group_by: GroupBy | None = Field(None, description="One row per group")


@dataclass(frozen=True)
class Window:
    """The resolved range: UTC instants of [since 00:00, until+1 00:00) local, and buckets."""

    since: date
    until: date
    tz: str
    start: datetime
    end: datetime
    interval: Interval | None
    buckets: list[tuple[date, datetime, datetime]]  # first local day, UTC start, UTC end

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def period_start(day: date, interval: Interval) -> date:
    if interval == "week":
        return day - timedelta(days=day.weekday())
    if interval == "month":
        return day.replace(day=1)
    return day


def next_period(day: date, interval: Interval) -> date:
    if interval == "week":
        return day + timedelta(days=7)
    if interval == "month":
        return (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return day + timedelta(days=1)


def resolve(params: ReportParams, *, now: datetime | None = None) -> Window:
    """Check the range, zone and grouping; 422 naming the field otherwise."""
    if not validate_timezone(params.tz):
        raise ValidationProblem(errors=[field_error("tz", "unknown time zone")])
    zone = ZoneInfo(params.tz)
    today = (now or datetime.now(UTC)).astimezone(zone).date()
    until = params.until or today
    since = params.since or until - timedelta(days=DEFAULT_DAYS - 1)
    if until < since:
        raise ValidationProblem(errors=[field_error("until", "must not be before since")])
    if (until - since).days + 1 > MAX_SPAN_DAYS:
        raise ValidationProblem(
            errors=[field_error("until", f"at most {MAX_SPAN_DAYS} days from since")]
        )
    start, end = local_midnight(since, zone), local_midnight(until + timedelta(days=1), zone)
    buckets: list[tuple[date, datetime, datetime]] = []
    if params.interval is not None:
        day = period_start(since, params.interval)
        while day <= until:
            following = next_period(day, params.interval)
            buckets.append((day, local_midnight(day, zone), local_midnight(following, zone)))
            day = following
    return Window(since, until, params.tz, start, end, params.interval, buckets)
