"""The manager dashboard: tiles for now, today and recent days in the caller's time zone.

Counts come from the reports (``run_report``, so the same definitions and cache) and, for
the backlog and the SLA tiles, from the facts and the open SLA targets. Each tile carries
the ticket-list query (``GET /v1/tickets``) listing what it counts; a value with commas is a
repeated parameter (``status=new,open`` means ``status=new&status=open``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field
from sqlalchemy import text

from servicedesk.platform.errors import ValidationProblem, field_error
from servicedesk.platform.tenancy import RequestContext
from servicedesk.reports import drilldown
from servicedesk.reports.query import labels
from servicedesk.reports.registry import run_report
from servicedesk.reports.window import ReportParams, local_midnight
from servicedesk.sla.business_time import validate_timezone

ACTIVE = drilldown.ACTIVE
# Open now, as the backlog counts it: active, not merged into another ticket.
OPEN = {"status": ACTIVE, "merged": "exclude"}


class Tile(BaseModel):
    key: str
    label: str
    value: float | int | None
    unit: str = "count"
    drilldown: dict[str, str] | None = None


class Slice(BaseModel):
    id: str | None
    label: str
    value: int
    drilldown: dict[str, str] | None = None


class DayCount(BaseModel):
    day: date
    created: int
    resolved: int
    drilldown: dict[str, str] | None = Field(None, description="The tickets created that day")
    resolved_drilldown: dict[str, str] | None = Field(
        None, description="The tickets with a resolution that day"
    )


class Dashboard(BaseModel):
    tz: str
    generated_at: datetime
    tiles: list[Tile]
    backlog_by_priority: list[Slice]
    backlog_by_team: list[Slice]
    created_vs_resolved: list[DayCount] = Field(description="The last 14 local days")


def _day_range(day: date, zone: ZoneInfo, prefix: str = "created") -> dict[str, str]:
    """The local day [00:00, next 00:00) in ``zone`` as UTC instants."""
    return drilldown.between(
        prefix, local_midnight(day, zone), local_midnight(day + timedelta(days=1), zone)
    )


def build(ctx: RequestContext, *, tz: str) -> Dashboard:
    if not validate_timezone(tz):
        raise ValidationProblem(errors=[field_error("tz", "unknown time zone")])
    zone = ZoneInfo(tz)
    now = datetime.now(UTC)
    today = now.astimezone(zone).date()
    volume = run_report(
        ctx,
        "volume",
        ReportParams(since=today - timedelta(days=13), until=today, tz=tz, interval="day"),
    )
    by_day = {r.bucket: r.values for r in volume.rows}
    first = run_report(
        ctx,
        "first-response-time",
        ReportParams(since=today - timedelta(days=6), until=today, tz=tz),
    )
    csat = run_report(
        ctx, "csat", ReportParams(since=today - timedelta(days=29), until=today, tz=tz)
    )
    open_rows = ctx.session.execute(
        text(
            "SELECT priority, team_id::text AS team, assignee_id IS NULL AS unassigned,"
            " count(*) AS n FROM report_ticket_facts WHERE tenant_id = :t AND NOT merged"
            " AND status IN ('new', 'open', 'in_progress', 'pending') GROUP BY 1, 2, 3"
        ),
        {"t": ctx.tenant_id},
    ).all()
    sla = ctx.session.execute(
        text(
            "SELECT count(DISTINCT ticket_id) FILTER (WHERE breached_at IS NOT NULL) AS breached,"
            " count(DISTINCT ticket_id) FILTER (WHERE breached_at IS NULL"
            " AND paused_since IS NULL AND warn_at[1] <= now()) AS at_risk"
            " FROM ticket_sla_targets WHERE tenant_id = :t AND met_at IS NULL"
        ),
        {"t": ctx.tenant_id},
    ).one()
    today_values = by_day.get(today, {})
    tiles = [
        Tile(
            key="open",
            label="Open now",
            value=sum(int(r.n) for r in open_rows),
            drilldown=dict(OPEN),
        ),
        Tile(
            key="unassigned",
            label="Unassigned open",
            value=sum(int(r.n) for r in open_rows if r.unassigned),
            drilldown={**OPEN, "assignee": "none"},
        ),
        Tile(
            key="created_today",
            label="Created today",
            value=today_values.get("created", 0),
            drilldown=_day_range(today, zone),
        ),
        Tile(
            key="resolved_today",
            label="Resolved today",
            value=today_values.get("resolved", 0),
            drilldown=_day_range(today, zone, "resolution"),
        ),
        Tile(
            key="sla_at_risk",
            label="SLA at risk",
            value=int(sla.at_risk),
            drilldown={"sla": "at_risk"},
        ),
        Tile(
            key="sla_breached",
            label="SLA breached",
            value=int(sla.breached),
            drilldown={"sla": "breached"},
        ),
        Tile(
            key="median_first_response_7d",
            label="Median first response, business (7 days)",
            value=first.totals.get("median_business"),
            unit="seconds",
            drilldown=first.totals_drilldowns.get("count"),
        ),
        Tile(
            key="csat_score_30d",
            label="CSAT score (30 days)",
            value=csat.totals.get("score"),
            unit="ratio",
            drilldown=csat.totals_drilldowns.get("answered"),
        ),
    ]
    priorities: dict[str, int] = {}
    teams: dict[str | None, int] = {}
    for r in open_rows:
        priorities[r.priority] = priorities.get(r.priority, 0) + int(r.n)
        teams[r.team] = teams.get(r.team, 0) + int(r.n)
    team_labels = labels(ctx.session, "team", set(teams))
    order = ("critical", "high", "medium", "low")
    return Dashboard(
        tz=tz,
        generated_at=now,
        tiles=tiles,
        backlog_by_priority=[
            Slice(id=p, label=p, value=priorities[p], drilldown={**OPEN, "priority": p})
            for p in order
            if p in priorities
        ],
        backlog_by_team=sorted(
            (
                Slice(
                    id=t,
                    label=team_labels[t],
                    value=n,
                    drilldown={**OPEN, "team_id": t or "none"},
                )
                for t, n in teams.items()
            ),
            key=lambda s: (-s.value, s.label),
        ),
        created_vs_resolved=[
            DayCount(
                day=r.bucket,
                created=int(r.values.get("created") or 0),
                resolved=int(r.values.get("resolved") or 0),
                drilldown=_day_range(r.bucket, zone),
                resolved_drilldown=_day_range(r.bucket, zone, "resolution"),
            )
            for r in volume.rows
            if r.bucket is not None
        ],
    )
