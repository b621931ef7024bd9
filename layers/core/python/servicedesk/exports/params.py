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
    )


def report_params(name: str | None, params: dict[str, Any]) -> Any:
    """The report's ``ReportParams`` (reports.registry), or 422 naming the field: an unknown
    report is ``report``, a bad parameter ``params.<name>``."""
    from servicedesk.reports import registry

    if not name or name not in registry.CATALOGUE:
        raise ValidationProblem(
            errors=[field_error("report", f"is not a report: one of {sorted(registry.CATALOGUE)}")]
        )
    return _checked(registry.ReportParams, params)
