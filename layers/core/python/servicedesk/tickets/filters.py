"""The ticket list's filters: one model for every door that filters tickets.

``TicketQuery`` is GET /v1/tickets's query string (with ``TicketListQuery``'s paging), GET
/v1/tickets/export's (``TicketExportQuery``), an export job's and a saved view's ``params``
(``exports.schemas.TicketExportParams``): the same names, limits and 422s everywhere.
``filters()`` turns it into the query layer's ``queries.TicketFilters``; a test checks that
every filter the query layer knows (but the internal ``problem_id``) is offered here. The
web app's drill-down table is typed by the generated schema of this model.

No FastAPI import: the export worker and the saved views check ``params`` with it.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from servicedesk.platform.csvexport import ExportFormat
from servicedesk.platform.pagination import MAX_CURSOR, MAX_LIMIT
from servicedesk.tickets.schemas import Channel, Level, TypeKey
from servicedesk.tickets.states import Status

if TYPE_CHECKING:
    from servicedesk.tickets.queries import TicketFilters

TicketSort = Literal[
    "-created_at", "created_at", "-updated_at", "updated_at", "-priority", "priority", "sla_due"
]
Moment = Annotated[datetime | None, Field(description="ISO 8601 instant")]


class TicketQuery(BaseModel):
    """The filters; ranges are [after, before). Unknown names are 422 naming them."""

    model_config = ConfigDict(extra="forbid")

    status: Annotated[list[Status], Field(max_length=7)] = []
    priority: Annotated[list[Level], Field(max_length=4)] = []
    assignee: Annotated[str | None, Field(max_length=36, description="user id, me or none")] = None
    team_id: Annotated[
        uuid.UUID | Literal["none"] | None, Field(description="team id, or none (no team)")
    ] = None
    requester_id: uuid.UUID | None = None
    category_id: Annotated[
        uuid.UUID | Literal["none"] | None,
        Field(description="category id, or none (no category)"),
    ] = None
    type: Annotated[
        list[TypeKey], Field(max_length=20, description="Ticket type keys (any of them)")
    ] = []
    tag: Annotated[str | None, Field(max_length=50)] = None
    created_after: Moment = None
    created_before: Moment = None
    updated_after: Moment = None
    updated_before: Moment = None
    q: Annotated[str | None, Field(min_length=1, max_length=200, description="Search")] = None
    sla: Annotated[
        list[Literal["breached", "at_risk"]],
        Field(
            max_length=2,
            description="Open SLA targets past due (breached), or past their first warning"
            " (at_risk); both: either",
        ),
    ] = []
    # The report drill-downs' filters (docs/reports.md, "Drill-down").
    channel: Annotated[list[Channel], Field(max_length=3)] = []
    merged: Annotated[
        Literal["include", "exclude", "only"],
        Field(description="Tickets merged into another: include (default), exclude, only"),
    ] = "include"
    reopened: Annotated[bool | None, Field(description="Reopened at least once (or never)")] = None
    one_touch: Annotated[
        bool | None, Field(description="Exactly one public reply and never reopened (or not)")
    ] = None
    first_response_after: Moment = None
    first_response_before: Moment = None
    resolved_after: Annotated[
        datetime | None, Field(description="Resolved or closed now, last resolution at or after")
    ] = None
    resolved_before: Moment = None
    resolution_after: Annotated[
        datetime | None, Field(description="At least one resolution in the range")
    ] = None
    resolution_before: Moment = None
    resolved_by: Annotated[
        uuid.UUID | None, Field(description="... a resolution while assigned to this agent")
    ] = None
    reopen_after: Annotated[
        datetime | None, Field(description="At least one reopen in the range")
    ] = None
    reopen_before: Moment = None
    sla_met_after: Annotated[
        datetime | None, Field(description="An SLA target met in the range")
    ] = None
    sla_met_before: Moment = None
    sla_target: Literal["first_response", "next_response", "resolution"] | None = None
    sla_outcome: Annotated[
        Literal["on_time", "late"] | None,
        Field(description="A met SLA target never breached (on_time) or breached (late)"),
    ] = None
    sla_policy_id: uuid.UUID | None = None
    csat_sent_after: Annotated[
        datetime | None, Field(description="A CSAT survey sent in the range")
    ] = None
    csat_sent_before: Moment = None
    csat_answered_after: Annotated[
        datetime | None, Field(description="A CSAT survey answered in the range")
    ] = None
    csat_answered_before: Moment = None
    open_at: Annotated[
        datetime | None,
        Field(description="In the backlog at this moment (the backlog report's definition)"),
    ] = None

    def filters(self) -> TicketFilters:
        """The query layer's ``queries.TicketFilters`` (enum members as their values)."""
        from servicedesk.tickets.queries import TicketFilters  # the SQL layer, loaded late

        def plain(value: Any) -> Any:
            if isinstance(value, list):
                return [v.value if isinstance(v, enum.Enum) else v for v in value]
            return value

        return TicketFilters(
            **{name: plain(getattr(self, name)) for name in TicketQuery.model_fields}
        )


class TicketListQuery(TicketQuery):
    """GET /v1/tickets: the filters, the order and the page."""

    sort: TicketSort = "-created_at"
    limit: Annotated[int, Field(ge=1, le=MAX_LIMIT, description="Page size (1-100)")] = 25
    cursor: Annotated[
        str | None, Field(max_length=MAX_CURSOR, description="Opaque cursor from a previous page")
    ] = None


class TicketExportQuery(TicketQuery):
    """GET /v1/tickets/export: the filters, the order and the format."""

    sort: TicketSort = "-created_at"
    format: Annotated[ExportFormat, Field(description="json (default) or csv")] = "json"
