"""Export API shapes. ``params`` is validated per kind by the same rules as the synchronous
routes (``TicketExportParams`` is the ticket list's query model; a report's by
``reports.registry.ReportParams``)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from servicedesk.tickets.filters import TicketQuery, TicketSort

ExportKind = Literal["report", "tickets"]
JobFormat = Literal["csv", "json", "pdf"]
JobStatus = Literal["queued", "running", "done", "failed", "expired"]


class TicketExportParams(TicketQuery):
    """An export job's (or a saved view's) ``params``: the ticket list's filters
    (``tickets.filters.TicketQuery``) and its order, as a JSON object."""

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
