"""Validating an export's (or a subscription's) parameters with the rules of the routes
that answer them synchronously: a bad one is 422 naming ``params.<field>``."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

from servicedesk.exports.schemas import TicketExportParams
from servicedesk.platform.errors import ValidationProblem, field_error, validation_errors
from servicedesk.tickets import queries


def _checked(model: type[BaseModel], params: dict[str, Any]) -> BaseModel:
    try:
        return model.model_validate(params)
    except ValidationError as exc:
        errors = validation_errors(exc.errors(), prefix="params.")
        raise ValidationProblem(errors=errors) from exc


def ticket_params(params: dict[str, Any]) -> TicketExportParams:
    checked = _checked(TicketExportParams, params)
    assert isinstance(checked, TicketExportParams)
    return checked


def ticket_filters(params: TicketExportParams) -> queries.TicketFilters:
    """The ticket list's filters, as GET /v1/tickets builds them from its query."""
    return queries.TicketFilters(
        status=[s.value for s in params.status],
        priority=list(params.priority),
        assignee=params.assignee,
        team_id=params.team_id,
        requester_id=params.requester_id,
        category_id=params.category_id,
        tag=params.tag,
        created_after=params.created_after,
        created_before=params.created_before,
        updated_after=params.updated_after,
        updated_before=params.updated_before,
        q=params.q,
        sla=list(params.sla),
        channel=list(params.channel),
        **{name: getattr(params, name) for name in DRILL_FIELDS},
    )


# The drill-down filters passed as they are (tickets.queries.TicketFilters).
DRILL_FIELDS = (
    "merged",
    "reopened",
    "one_touch",
    "first_response_after",
    "first_response_before",
    "resolved_after",
    "resolved_before",
    "resolution_after",
    "resolution_before",
    "resolved_by",
    "reopen_after",
    "reopen_before",
    "sla_met_after",
    "sla_met_before",
    "sla_target",
    "sla_outcome",
    "sla_policy_id",
    "csat_sent_after",
    "csat_sent_before",
    "csat_answered_after",
    "csat_answered_before",
)


def report_params(name: str | None, params: dict[str, Any]) -> Any:
    """The report's ``ReportParams``, checked as GET /v1/reports/{name} checks them (the
    range, time zone, grouping and interval the report offers), or 422 naming the field:
    an unknown report is ``report``, a bad or unknown parameter ``params.<name>``."""
    from servicedesk.reports import registry, window

    if not name or name not in registry.CATALOGUE:
        raise ValidationProblem(
            errors=[field_error("report", f"one of {', '.join(sorted(registry.CATALOGUE))}")]
        )
    unknown = sorted(set(params) - set(registry.ReportParams.model_fields))
    if unknown:
        raise ValidationProblem(
            errors=[field_error(f"params.{n}", "is not a parameter") for n in unknown]
        )
    checked = _checked(registry.ReportParams, params)
    info = registry.CATALOGUE[name]
    group_by, interval = getattr(checked, "group_by", None), getattr(checked, "interval", None)
    if group_by is not None and group_by not in info.group_by and name != "agent-performance":
        raise ValidationProblem(
            errors=[field_error("params.group_by", f"one of {', '.join(info.group_by)}")]
        )
    if interval is not None and interval not in info.intervals:
        raise ValidationProblem(
            errors=[field_error("params.interval", f"not available for {name}")]
        )
    try:
        window.resolve(checked)  # type: ignore[arg-type]
    except ValidationProblem as exc:
        for error in exc.errors or []:
            error["field"] = f"params.{error['field']}"
            error["pointer"] = f"/params{error['pointer']}"
        raise
    return checked
