"""Validating an export's (or a subscription's) parameters with the rules of the routes
that answer them synchronously: a bad one is 422 naming ``params.<field>``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from servicedesk.exports.schemas import TicketExportParams
from servicedesk.platform.errors import ValidationProblem, validation_errors

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


def report_params(name: str | None, params: dict[str, Any]) -> ReportParams:
    """The report's ``ReportParams``, checked as GET /v1/reports/{name} checks them
    (``registry.check_params``): an unknown report is 422 naming ``report``, a bad or
    unknown parameter ``params.<name>``."""
    from servicedesk.reports import registry

    checked, _ = registry.check_params(name, params, prefix="params.")
    return checked
