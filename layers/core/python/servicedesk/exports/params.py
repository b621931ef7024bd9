"""Validating an export's (or a subscription's) parameters with the rules of the routes
that answer them synchronously: a bad one is 422 naming ``params.<field>``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from servicedesk.exports.schemas import TicketExportParams
from servicedesk.platform.errors import ValidationProblem, validation_errors
from servicedesk.tickets import queries

if TYPE_CHECKING:
    from servicedesk.reports.window import ReportParams


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
        type=list(params.type),
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
    "open_at",
)


def report_params(name: str | None, params: dict[str, Any]) -> ReportParams:
    """The report's ``ReportParams``, checked as GET /v1/reports/{name} checks them
    (``registry.check_params``): an unknown report is 422 naming ``report``, a bad or
    unknown parameter ``params.<name>``."""
    from servicedesk.reports import registry

    checked, _ = registry.check_params(name, params, prefix="params.")
    return checked
