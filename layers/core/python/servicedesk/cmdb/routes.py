"""CMDB API: CI classes, configuration items, their relationships, history, links and
impact; the CIs of a ticket and its affected services. Thin: parse, call, shape.

Roles (docs/cmdb.md): agents read everything and link CIs to the tickets they can see;
managers and admins write classes, CIs, relationships and user links. Requesters are
refused (403) on every route.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from servicedesk.cmdb import discovery_routes, imports, service
from servicedesk.cmdb.schemas import (
    DEFAULT_DEPTH,
    MAX_DEPTH,
    AffectedServices,
    CIClassCreate,
    CIClassPublic,
    CIClassUpdate,
    CICreate,
    CIPublic,
    CIUpdate,
    Direction,
    Discovery,
    DiscoveryReport,
    HistoryEntry,
    Impact,
    ImportReport,
    RelationshipCreate,
    RelationshipPublic,
    State,
    TicketLink,
    TicketLinkCreate,
    UserLink,
    UserLinkCreate,
)
from servicedesk.platform.context import Ctx
from servicedesk.platform.csvexport import export_response, openapi_responses
from servicedesk.platform.endpoints import Once, Resource, listing, operation, route
from servicedesk.platform.errors import ValidationProblem, field_error
from servicedesk.platform.rbac import Permission

router = APIRouter(prefix="/v1", tags=["cmdb"])
# The CIs of a ticket: under /v1/tickets, hence served by the tickets function.
ticket_router = APIRouter(prefix="/v1", tags=["cmdb"])

Depth = Annotated[int, Query(ge=1, le=MAX_DEPTH, description=f"Hops to follow (1-{MAX_DEPTH})")]

classes = Resource(
    router,
    "/ci-classes",
    "class_id",
    "ci_class",
    CIClassPublic,
    Permission.CMDB_READ,
    Permission.CMDB_WRITE,
)
classes.list("List the CI classes (built-in first, then in creation order)", service.list_classes)
classes.create(
    "Add a CI class with its attribute schema (its key never changes)",
    CIClassCreate,
    service.create_class,
)
classes.get("Get a CI class", service.get_class)
classes.update(
    "Rename, describe or change the attribute schema of a CI class (needs If-Match or version)",
    CIClassUpdate,
    service.update_class,
)
classes.delete("Delete a tenant-defined CI class that no CI uses", service.delete_class)

cis = Resource(router, "/cis", "ci_id", "ci", CIPublic, Permission.CMDB_READ, Permission.CMDB_WRITE)
cis.list(
    "List configuration items by name, filtered",
    service.list_cis,
    query={
        "class_id": uuid.UUID | None,
        "state": State | None,
        "owner_id": uuid.UUID | None,
        "location": Annotated[str | None, Query(max_length=200, description="Exact, any case")],
        "q": Annotated[
            str | None,
            Query(
                max_length=200, description="Name prefix, or exact external id, serial or asset tag"
            ),
        ],
    },
)
cis.create("Create a configuration item", CICreate, service.create_ci)

CSV_BODY = {
    "requestBody": {
        "required": True,
        "content": {"text/csv": {"schema": {"type": "string"}}},
    },
    "x-max-body-bytes": imports.MAX_BODY_BYTES,
    # Over it, the 413 names the file and points to the import job.
    "x-too-large": {
        "field": "file",
        "detail": "too large for one request: use an import job (POST /v1/cis/imports)",
    },
}


async def _csv(request: Request) -> bytes:
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("text/csv"):
        raise ValidationProblem(errors=[field_error("content-type", "must be text/csv")])
    return await request.body()


@route(
    router.post,
    "/cis/import",
    Permission.CMDB_WRITE,
    "Import CIs from CSV (upsert by external id): a dry run reports every row's errors;"
    " otherwise all rows or none, unless partial. At most 6 MB: larger files go through"
    " an import job (POST /v1/cis/imports)",
    openapi_extra=CSV_BODY,
)
def import_cis(
    ctx: Ctx,
    data: Annotated[bytes, Depends(_csv)],
    dry_run: Annotated[bool, Query(description="Check only; write nothing")] = False,
    partial: Annotated[bool, Query(description="Write the rows that pass")] = False,
) -> ImportReport:
    return ImportReport.model_validate(imports.run(ctx, data, dry_run=dry_run, partial=partial))


@route(
    router.post,
    "/cis/discovery",
    Permission.CMDB_WRITE,
    "Ingest an inventory (scripts, agents): CIs upserted by external id and relationships by"
    " external ids, in one transaction; any error writes nothing",
)
def discover_cis(body: Discovery, ctx: Ctx) -> DiscoveryReport:
    return DiscoveryReport.model_validate(imports.discover(ctx, body))


@route(
    router.get,
    "/cis/export",
    Permission.CMDB_READ,
    "Export the CIs of a filter (the list's) as CSV, streamed; the import reads it back",
    responses=openapi_responses("The CIs, CSV with a header row", imports.EXPORT_HEADER),
)
def export_cis(
    ctx: Ctx,
    class_id: uuid.UUID | None = None,
    state: State | None = None,
    owner_id: uuid.UUID | None = None,
    location: Annotated[str | None, Query(max_length=200)] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    header, rows = imports.export(
        ctx, service.filtered(ctx, class_id, state, owner_id, location, q)
    )
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return export_response("csv", f"cis-{stamp}", header, rows)


# Before /cis/{ci_id}: matched in the order added.
discovery_routes.add_routes(router)
cis.get("Get a configuration item", service.get_ci)
cis.update(
    "Change a configuration item (lifecycle moves as allowed; needs If-Match or version)",
    CIUpdate,
    service.update_ci,
)
cis.delete(
    "Delete a configuration item with its relationships, links and history (retire it to"
    " keep them)",
    service.delete_ci,
)

listing(
    router,
    "/cis/{ci_id}/history",
    Permission.CMDB_READ,
    "The changes of a configuration item, newest first (one entry per field)",
    HistoryEntry,
    service.list_history,
)
listing(
    router,
    "/cis/{ci_id}/relationships",
    Permission.CMDB_READ,
    "The relationships of a configuration item, as source or target",
    RelationshipPublic,
    service.list_relationships,
    limit=100,
)


@route(
    router.post,
    "/cis/{ci_id}/relationships",
    Permission.CMDB_WRITE,
    "Relate this CI (source) to another (target); depends_on, runs_on and contains refuse cycles",
    status_code=201,
)
def create_relationship(
    ci_id: uuid.UUID, body: RelationshipCreate, ctx: Ctx, once: Once
) -> RelationshipPublic:
    return once(
        body,
        lambda: RelationshipPublic.model_validate(
            service.create_relationship(ctx, ci_id=ci_id, data=body)
        ),
    )


operation(
    router.delete,
    "/cis/{ci_id}/relationships/{relationship_id}",
    Permission.CMDB_WRITE,
    "Remove a relationship of this CI",
    service.delete_relationship,
)

listing(
    router,
    "/cis/{ci_id}/tickets",
    Permission.CMDB_READ,
    "The tickets linked to a configuration item that you may see, newest link first",
    TicketLink,
    service.list_ci_tickets,
)
listing(
    router,
    "/cis/{ci_id}/users",
    Permission.CMDB_READ,
    "The users linked to a configuration item",
    UserLink,
    service.list_ci_users,
)
operation(
    router.post,
    "/cis/{ci_id}/users",
    Permission.CMDB_WRITE,
    "Link a user (an active member) to a configuration item; linking twice keeps one link",
    service.link_user,
    public=UserLink,
    body=UserLinkCreate,
)
operation(
    router.delete,
    "/cis/{ci_id}/users/{user_id}",
    Permission.CMDB_WRITE,
    "Unlink a user from a configuration item",
    service.unlink_user,
)


@route(
    router.get,
    "/cis/{ci_id}/impact",
    Permission.CMDB_READ,
    "What a configuration item reaches: CIs with their depth, the business services among"
    " them, the open tickets linked to them (up: the CIs relying on it; down: what it relies"
    " on)",
)
def get_impact(
    ci_id: uuid.UUID, ctx: Ctx, direction: Direction = "up", depth: Depth = DEFAULT_DEPTH
) -> Impact:
    return Impact.model_validate(service.impact(ctx, ci_id=ci_id, direction=direction, depth=depth))


# --- on a ticket (served by the tickets function, which owns the prefix) -----------

listing(
    ticket_router,
    "/tickets/{ticket_id}/cis",
    Permission.CMDB_READ,
    "The configuration items linked to a ticket you may see",
    CIPublic,
    service.list_ticket_cis,
    tags=["cmdb"],
)
operation(
    ticket_router.post,
    "/tickets/{ticket_id}/cis",
    Permission.CMDB_LINK,
    "Link a configuration item to a ticket you may see; linking twice keeps one link",
    service.link_ticket,
    public=CIPublic,
    body=TicketLinkCreate,
)
operation(
    ticket_router.delete,
    "/tickets/{ticket_id}/cis/{ci_id}",
    Permission.CMDB_LINK,
    "Unlink a configuration item from a ticket",
    service.unlink_ticket,
)


@route(
    ticket_router.get,
    "/tickets/{ticket_id}/affected-services",
    Permission.CMDB_READ,
    "The business services the ticket's CIs are or support (upward, within depth)",
)
def get_affected_services(
    ticket_id: uuid.UUID, ctx: Ctx, depth: Depth = DEFAULT_DEPTH
) -> AffectedServices:
    return AffectedServices.model_validate(
        service.affected_services(ctx, ticket_id=ticket_id, depth=depth)
    )
