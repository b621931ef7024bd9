"""Reports API: the catalogue, every report as JSON or CSV, the manager dashboard.

Managers and admins only (agents and requesters get 403, as the SLA report always did).
``/v1/reports/sla-compliance`` and ``/v1/reports/csat`` keep their earlier answers when
called as before (date-times, no ``tz``/``interval``/filters); with ``tz`` (or ``interval``,
a filter, or plain dates) they answer the ``ReportResult`` of ``GET /v1/reports/{name}``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import Field

from servicedesk.csat import report as csat_legacy
from servicedesk.csat.schemas import CsatReport
from servicedesk.platform.context import Ctx
from servicedesk.platform.csvexport import export_response, openapi_responses
from servicedesk.platform.errors import ValidationProblem, field_error
from servicedesk.platform.rbac import Permission, requires
from servicedesk.reports import dashboard
from servicedesk.reports.registry import CATALOGUE, run_report
from servicedesk.reports.schemas import GroupBy, ReportInfo, ReportResult
from servicedesk.reports.window import FILTERS, ReportFilters, ReportParams
from servicedesk.sla import reports as sla_legacy
from servicedesk.sla.schemas import ComplianceReport

router = APIRouter(prefix="/v1", tags=["reports"])
MANAGER = [requires(Permission.REPORT_READ)]
ReportFormat = Literal["json", "csv", "pdf"]
# The two routes that keep their earlier answers keep their earlier formats.
LegacyFormat = Literal["json", "csv"]
FORMAT_HELP = "json (default), csv, or pdf (title block, chart, paginated table)"
Name = Literal[
    "volume",
    "backlog",
    "first-response-time",
    "resolution-time",
    "sla-compliance",
    "reopen-rate",
    "one-touch",
    "agent-performance",
    "csat",
]
# Parameters only the new answers know: their presence selects the ReportResult on the two
# routes that keep their earlier shape.
NEW_ONLY = ("tz", "interval", *FILTERS)


def _dated(value: str | None, name: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationProblem(errors=[field_error(name, "a date, YYYY-MM-DD")]) from None


class ReportQuery(ReportParams):
    """GET /v1/reports/{name}'s query string: the report's parameters and the format.
    Unknown parameters are 422 naming them (``extra="forbid"``)."""

    format: ReportFormat = Field("json", description=FORMAT_HELP)

    def params(self) -> ReportParams:
        return ReportParams(**self.model_dump(exclude={"format"}))


class _LegacyQuery(ReportFilters):
    """The query of the two routes that keep their earlier answers: the filters of every
    report (``ReportFilters``), a range of date-times (or dates) and the earlier formats."""

    since: str | None = Field(None, max_length=40, description="Date-time (or local day)")
    until: str | None = Field(None, max_length=40, description="Date-time (or local day)")
    format: LegacyFormat = Field("json", description="json (default) or csv")

    def params(self, group_by: str | None) -> ReportParams:
        return ReportParams(
            **self.model_dump(include=set(ReportFilters.model_fields)),
            since=_dated(self.since, "since"),
            until=_dated(self.until, "until"),
            group_by=group_by,
        )


class SlaQuery(_LegacyQuery):
    group_by: GroupBy = "policy"


class CsatQuery(_LegacyQuery):
    group_by: Literal["team", "agent", "none", "category", "priority", "channel", "type"] = "none"


def csv_rows(result: ReportResult) -> tuple[list[str], Iterator[list[Any]]]:
    """One CSV row per ReportRow: bucket, group, then each measure."""
    header = ["bucket", "group_id", "group", *(m.key for m in result.measures)]

    def rows() -> Iterator[list[Any]]:
        for row in result.rows:
            yield [
                row.bucket.isoformat() if row.bucket else "",
                row.group.id if row.group and row.group.id else "",
                row.group.label if row.group else "",
                *(row.values.get(m.key) for m in result.measures),
            ]

    return header, rows()


def render(result: ReportResult, fmt: ReportFormat) -> ReportResult | Response:
    if fmt == "json":
        return result
    name = f"{result.report}-{result.since:%Y%m%d}-{result.until:%Y%m%d}"
    if fmt == "pdf":
        from servicedesk.reports import pdf  # reportlab: loaded by the PDF requests only

        return Response(
            pdf.render(result),
            media_type=pdf.MEDIA_TYPE,
            headers={"Content-Disposition": f'attachment; filename="{name}.pdf"'},
        )
    header, rows = csv_rows(result)
    return export_response("csv", name, header, rows)


def _with_pdf(responses: dict[int | str, dict[str, Any]]) -> dict[int | str, dict[str, Any]]:
    responses[200]["content"]["application/pdf"] = {
        "schema": {"type": "string", "format": "binary"}
    }
    return responses


@router.get(
    "/reports",
    dependencies=MANAGER,
    summary="The report catalogue: names, measures, groupings, intervals, filters",
    response_model=list[ReportInfo],
)
def catalogue(ctx: Ctx) -> list[ReportInfo]:
    return list(CATALOGUE.values())


@router.get(
    "/reports/dashboard",
    dependencies=MANAGER,
    summary="The manager dashboard's tiles (now, today and recent days in tz)",
    response_model=dashboard.Dashboard,
)
def get_dashboard(
    ctx: Ctx,
    tz: Annotated[str, Query(max_length=64, description="IANA time zone of 'today'")] = "UTC",
) -> dashboard.Dashboard:
    return dashboard.build(ctx, tz=tz)


def _legacy_range(since: str | None, until: str | None) -> tuple[datetime, datetime]:
    def parse(name: str, value: str | None) -> datetime | None:
        if value is None:
            return None
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise ValidationProblem(errors=[field_error(name, "not a date-time")]) from None
        if moment.tzinfo is None:
            raise ValidationProblem(errors=[field_error(name, "needs a time zone")])
        return moment

    end = parse("until", until) or datetime.now(UTC)
    start = parse("since", since) or end - timedelta(days=30)
    if start >= end:
        raise ValidationProblem(errors=[field_error("since", "must be before until")])
    if end - start > timedelta(days=366):
        raise ValidationProblem(errors=[field_error("since", "at most one year at a time")])
    return start, end


def _wants_result(request: Request) -> bool:
    query = request.query_params
    if any(name in query for name in NEW_ONLY):
        return True
    return any(len(query.get(n) or "x" * 11) == 10 for n in ("since", "until"))


LEGACY_NOTE = (
    " Called with tz (or interval, a filter, or plain dates): the ReportResult of"
    " GET /v1/reports/{name}; otherwise the earlier answer, described here."
)


@router.get(
    "/reports/sla-compliance",
    dependencies=MANAGER,
    summary="SLA met/breached per policy, team or priority over a date range (JSON or CSV)",
    description="SLA compliance." + LEGACY_NOTE,
    response_model=ComplianceReport,
    responses=openapi_responses("The report; format=csv: one row per group and target"),
)
def sla_compliance(
    ctx: Ctx,
    request: Request,
    query: Annotated[SlaQuery, Query()],
) -> ComplianceReport | Response:
    group_by, format = query.group_by, query.format
    if _wants_result(request) or group_by not in sla_legacy.GROUPS:
        result = run_report(ctx, "sla-compliance", query.params(group_by))
        return _as_response(result, format)
    start, end = _legacy_range(query.since, query.until)
    rows = sla_legacy.compliance(ctx, group_by=group_by, since=start, until=end)  # type: ignore[arg-type]
    report = ComplianceReport(group_by=group_by, since=start, until=end, rows=rows)
    if format == "json":
        return report
    return export_response(
        "csv",
        f"sla-compliance-{start:%Y%m%d}-{end:%Y%m%d}",
        (group_by, "target", "met", "breached", "compliance"),
        ((r.group, r.target, r.met, r.breached, r.compliance) for r in report.rows),
    )


@router.get(
    "/reports/csat",
    dependencies=MANAGER,
    summary="Satisfaction: score, average, response rate, by team or agent",
    description="CSAT." + LEGACY_NOTE,
    response_model=CsatReport,
    responses=openapi_responses("The report; format=csv with tz: one row per bucket/group"),
)
def csat_report(
    ctx: Ctx,
    request: Request,
    query: Annotated[CsatQuery, Query()],
) -> CsatReport | Response:
    group_by, format = query.group_by, query.format
    grouping = None if group_by == "none" else group_by
    if _wants_result(request) or format != "json" or grouping not in (None, "team", "agent"):
        result = run_report(ctx, "csat", query.params(grouping))
        return _as_response(result, format)
    start, end = _legacy_range(query.since, query.until)
    total, rows = csat_legacy.summary(ctx, group_by=group_by, since=start, until=end)  # type: ignore[arg-type]
    return CsatReport(group_by=group_by, since=start, until=end, total=total, rows=rows)


def _as_response(result: ReportResult, fmt: ReportFormat) -> Response:
    rendered = render(result, fmt)
    if isinstance(rendered, Response):
        return rendered
    return JSONResponse(rendered.model_dump(mode="json"))


@router.get(
    "/reports/{name}",
    dependencies=MANAGER,
    summary="A report over local days in tz, by period and group, filtered (JSON, CSV or PDF)",
    response_model=ReportResult,
    responses=_with_pdf(
        openapi_responses("The report; format=csv: one row per bucket and group; pdf")
    ),
)
def get_report(
    name: Name,
    ctx: Ctx,
    query: Annotated[ReportQuery, Query()],
) -> ReportResult | Response:
    return render(run_report(ctx, name, query.params()), query.format)
