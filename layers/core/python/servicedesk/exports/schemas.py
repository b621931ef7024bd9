"""Export API shapes. ``params`` is validated per kind by the same rules as the synchronous
routes (``TicketExportParams`` mirrors the ticket list's query parameters; a report's by
``reports.registry.ReportParams``)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from servicedesk.tickets.schemas import Channel, Level, TypeKey
from servicedesk.tickets.states import Status

ExportKind = Literal["report", "tickets"]
JobFormat = Literal["csv", "json", "pdf"]
JobStatus = Literal["queued", "running", "done", "failed", "expired"]
TicketSort = Literal[
    "-created_at", "created_at", "-updated_at", "updated_at", "-priority", "priority", "sla_due"
]


class TicketExportParams(BaseModel):
    """The ticket list's filters (GET /v1/tickets/export), as a JSON object."""

    model_config = ConfigDict(extra="forbid")

    status: Annotated[list[Status], Field(max_length=7)] = []
    priority: Annotated[list[Level], Field(max_length=4)] = []
    assignee: Annotated[str | None, Field(max_length=36, description="user id, me or none")] = None
    team_id: uuid.UUID | Literal["none"] | None = None
    requester_id: uuid.UUID | None = None
    category_id: uuid.UUID | Literal["none"] | None = None
    type: Annotated[list[TypeKey], Field(max_length=20)] = []
    tag: Annotated[str | None, Field(max_length=50)] = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    updated_after: datetime | None = None
    updated_before: datetime | None = None
    q: Annotated[str | None, Field(min_length=1, max_length=200)] = None
    sla: Annotated[list[Literal["breached", "at_risk"]], Field(max_length=2)] = []
    # The report drill-downs' filters (GET /v1/tickets, docs/reports.md "Drill-down").
    channel: Annotated[list[Channel], Field(max_length=3)] = []
    merged: Literal["include", "exclude", "only"] = "include"
    reopened: bool | None = None
    one_touch: bool | None = None
    first_response_after: datetime | None = None
    first_response_before: datetime | None = None
    resolved_after: datetime | None = None
    resolved_before: datetime | None = None
    resolution_after: datetime | None = None
    resolution_before: datetime | None = None
    resolved_by: uuid.UUID | None = None
    reopen_after: datetime | None = None
    reopen_before: datetime | None = None
    sla_met_after: datetime | None = None
    sla_met_before: datetime | None = None
    sla_target: Literal["first_response", "next_response", "resolution"] | None = None
    sla_outcome: Literal["on_time", "late"] | None = None
    sla_policy_id: uuid.UUID | None = None
    csat_sent_after: datetime | None = None
    csat_sent_before: datetime | None = None
    csat_answered_after: datetime | None = None
    csat_answered_before: datetime | None = None
    open_at: datetime | None = None
    sort: TicketSort = "-created_at"


class ExportCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: ExportKind
    report: Annotated[
        str | None, Field(max_length=100, description="The report's name (kind report)")
    ] = None
    format: JobFormat = "csv"
    params: dict[str, Any] = Field(
        default_factory=dict,
        description="kind tickets: the ticket list's filters and sort; kind report: the"
        " report's since, until, tz, interval, group_by and filters",
    )


class ExportJobPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kind: ExportKind
    report: str | None
    format: JobFormat
    params: dict[str, Any]
    status: JobStatus
    rows_done: int
    rows_total: int | None
    size_bytes: int | None
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    expires_at: datetime | None


class ExportDownload(BaseModel):
    url: str = Field(description="A presigned S3 GET, valid until expires_at")
    expires_at: datetime
    filename: str
