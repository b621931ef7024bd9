"""CMDB API schemas."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, field_validator

from servicedesk.platform.schemas import Input, Output, not_null
from servicedesk.platform.storage import UploadForm

State = Literal["ordered", "in_stock", "deployed", "in_repair", "retired", "disposed"]
STATES: tuple[str, ...] = ("ordered", "in_stock", "deployed", "in_repair", "retired", "disposed")
RelationshipType = Literal["depends_on", "runs_on", "connected_to", "contains", "used_by"]
ACYCLIC_TYPES = frozenset({"depends_on", "runs_on", "contains"})
Direction = Literal["up", "down", "both"]
MAX_DEPTH = 10
DEFAULT_DEPTH = 5

ClassKey = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
ClassName = Annotated[str, StringConstraints(min_length=1, max_length=100)]
Description = Annotated[str, StringConstraints(max_length=2000)]
CIName = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Location = Annotated[str, StringConstraints(max_length=200)]
Identifier = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Attributes = Annotated[dict[str, Any], Field(max_length=100)]


class CIClassCreate(Input):
    key: ClassKey = Field(description="Lower-case letters, digits, _; never changes")
    name: ClassName
    description: Description = ""
    attributes_schema: dict[str, Any] = Field(
        default_factory=lambda: {"type": "object", "properties": {}},
        description="The JSON-schema subset of category custom fields (docs/custom-fields.md)"
        " that the attributes of this class's CIs must pass",
    )


class CIClassUpdate(Input):
    name: ClassName | None = None
    description: Description | None = None
    attributes_schema: dict[str, Any] | None = None
    version: int | None = Field(default=None, ge=1, description="Or send If-Match")

    _not_null = field_validator("name", "description", "attributes_schema", mode="before")(not_null)


class CIClassPublic(Output):
    id: uuid.UUID
    key: str
    name: str
    description: str
    attributes_schema: dict[str, Any]
    position: int
    builtin: bool = Field(description="One of the five every tenant has")
    version: int
    created_at: datetime
    updated_at: datetime


class CICreate(Input):
    class_id: uuid.UUID
    name: CIName
    state: State = "ordered"
    owner_id: uuid.UUID | None = Field(default=None, description="An active member")
    location: Location = ""
    serial: Identifier | None = None
    asset_tag: Identifier | None = None
    external_id: Identifier | None = Field(
        default=None, description="Unique per tenant: the key of CSV imports and discovery"
    )
    attributes: Attributes = Field(default_factory=dict)


class CIUpdate(Input):
    class_id: uuid.UUID | None = None
    name: CIName | None = None
    state: State | None = Field(default=None, description="Only the allowed transitions")
    owner_id: uuid.UUID | None = None
    location: Location | None = None
    serial: Identifier | None = None
    asset_tag: Identifier | None = None
    external_id: Identifier | None = None
    attributes: Attributes | None = None
    version: int | None = Field(default=None, ge=1, description="Or send If-Match")

    _not_null = field_validator(
        "class_id", "name", "state", "location", "attributes", mode="before"
    )(not_null)


class CIPublic(Output):
    id: uuid.UUID
    class_id: uuid.UUID
    name: str
    state: State
    owner_id: uuid.UUID | None
    location: str
    serial: str | None
    asset_tag: str | None
    external_id: str | None
    attributes: dict[str, Any]
    version: int
    created_at: datetime
    updated_at: datetime


class RelationshipCreate(Input):
    type: RelationshipType
    target_id: uuid.UUID = Field(description="The other CI (this CI is the source)")


class RelationshipPublic(Output):
    id: uuid.UUID
    source_id: uuid.UUID
    target_id: uuid.UUID
    type: RelationshipType
    created_at: datetime


class HistoryEntry(Output):
    id: int
    ci_id: uuid.UUID
    actor_id: uuid.UUID | None
    at: datetime
    field: str
    old_value: Any = Field(description="The value before (null: none)")
    new_value: Any = Field(description="The value after (null: none)")


class TicketLinkCreate(Input):
    ci_id: uuid.UUID


class UserLinkCreate(Input):
    user_id: uuid.UUID


class UserLink(Output):
    user_id: uuid.UUID
    created_at: datetime


class TicketLink(Output):
    ticket_id: uuid.UUID
    created_at: datetime


class ImpactedCI(Output):
    ci: CIPublic
    depth: int = Field(description="Hops from the starting CI on the shortest path")


class ImpactTicket(Output):
    id: uuid.UUID
    number: str
    title: str
    status: str
    ci_id: uuid.UUID = Field(description="The affected CI it is linked to")


class Impact(Output):
    ci_id: uuid.UUID
    direction: Direction
    depth: int
    cis: list[ImpactedCI] = Field(description="Every CI reached, nearest first")
    services: list[ImpactedCI] = Field(description="The business services among them")
    tickets: list[ImpactTicket] = Field(
        description="Open tickets you may see linked to the CI or any CI reached"
    )


class AffectedServices(Output):
    ticket_id: uuid.UUID
    services: list[ImpactedCI]


class ImportRowError(Output):
    row: int = Field(description="The line of the file (the header is 1)")
    field: str = Field(description="The column (header, row: the row's shape)")
    message: str


class ImportReport(Output):
    rows: int = Field(description="Data rows read (blank lines skipped)")
    created: int
    updated: int
    unchanged: int
    failed: int
    written: bool = Field(description="false on a dry run")
    errors: list[ImportRowError] = Field(description="The first 1000 row errors")


MAX_DISCOVERED_CIS = 1000
MAX_DISCOVERED_RELATIONSHIPS = 5000


class DiscoveredCI(Input):
    external_id: Identifier = Field(description="The CI's key: created if new, else updated")
    name: CIName
    class_key: ClassKey = Field(description="A class key (hardware, software, ...)")
    state: State | None = Field(default=None, description="Default for a new CI: deployed")
    location: Location = ""
    serial: Identifier | None = None
    asset_tag: Identifier | None = None
    attributes: Attributes = Field(default_factory=dict)


class DiscoveredRelationship(Input):
    source: Identifier = Field(description="The source CI's external id")
    type: RelationshipType
    target: Identifier = Field(description="The target CI's external id")


class Discovery(Input):
    source: Annotated[str, StringConstraints(min_length=1, max_length=100)] = Field(
        description="Who reports (a script, an agent): recorded on the event"
    )
    cis: list[DiscoveredCI] = Field(default_factory=list, max_length=MAX_DISCOVERED_CIS)
    relationships: list[DiscoveredRelationship] = Field(
        default_factory=list, max_length=MAX_DISCOVERED_RELATIONSHIPS
    )


class DiscoveryReport(Output):
    created: int
    updated: int
    unchanged: int
    relationships_created: int
    relationships_existing: int


ImportJobStatus = Literal["awaiting_upload", "queued", "running", "done", "failed"]


class ImportJobCreate(Input):
    size: int = Field(
        ge=1, description="The CSV's size in bytes: the upload form admits exactly this size"
    )
    filename: Annotated[str, StringConstraints(max_length=255)] = ""
    dry_run: bool = Field(default=False, description="Check only; write nothing")
    partial: bool = Field(default=False, description="Write the rows that pass")


class ImportJobFromDryRun(Input):
    partial: bool = Field(
        default=False,
        description="Write the rows that pass (required when the dry run found failing rows)",
    )


class ImportJobPublic(Output):
    id: uuid.UUID
    owner_id: uuid.UUID
    status: ImportJobStatus
    dry_run: bool
    partial: bool
    filename: str
    size_bytes: int
    rows_read: int = Field(description="Data rows checked so far (progress)")
    report: ImportReport | None = Field(description="Once done or failed: counts and errors")
    error: str | None = Field(description="Why the job failed as a whole")
    created_at: datetime
    upload_expires_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class ImportJobCreated(ImportJobPublic):
    upload: UploadForm = Field(
        description="POST the fields, then the file as the last field `file`, to url;"
        " then POST /v1/cis/imports/{id}/start"
    )
