"""AWS discovery sources of a tenant and their runs (docs/cmdb.md, "AWS discovery").

No HTTP here and no commit. The external id a source's role must require is generated
here, 32 random bytes, and never taken from the client: a tenant cannot point a source at
another customer's role, whose trust policy names another external id (the confused
deputy). "Run now" queues a run; the scheduled function (functions/cmdb_discovery)
starts queued runs and the due sources' within a minute. One queued or running run per
source, decided by the database (a partial unique index): a second Run now is 409.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from servicedesk.cmdb.discovery_schemas import DiscoverySourceCreate, DiscoverySourceUpdate
from servicedesk.cmdb.models import DiscoveryRun, DiscoverySource
from servicedesk.platform import audit, crud
from servicedesk.platform.constraints import unique_or_conflict
from servicedesk.platform.errors import NotFound
from servicedesk.platform.pagination import TIMESTAMP, UUID, Key, Keyset, paginate
from servicedesk.platform.tenancy import RequestContext

NAME_INDEX = "uq_discovery_sources_name"
ACTIVE_RUN_INDEX = "uq_discovery_runs_active"
ENTITY = "discovery_source"


def new_external_id() -> str:
    return secrets.token_hex(32)


def create_source(ctx: RequestContext, *, data: DiscoverySourceCreate) -> DiscoverySource:
    source = DiscoverySource(
        tenant_id=ctx.tenant_id,
        created_by=ctx.user_id,
        external_id=new_external_id(),
        next_run_at=datetime.now(UTC),
        **data.model_dump(),
    )
    return crud.created(
        ctx,
        source,
        crud.unique_name(ctx.session, constraint=NAME_INDEX, what="discovery source"),
        ENTITY,
        after=data.model_dump(mode="json"),
    )


BY_CREATION = Keyset([Key(DiscoverySource.created_at, TIMESTAMP), Key(DiscoverySource.id, UUID)])


def list_sources(
    ctx: RequestContext, *, limit: int, cursor: str | None
) -> tuple[list[DiscoverySource], str | None]:
    query = select(DiscoverySource).where(DiscoverySource.tenant_id == ctx.tenant_id)
    return paginate(ctx.session, query, BY_CREATION, limit=limit, cursor=cursor)


def get_source(ctx: RequestContext, *, source_id: uuid.UUID, lock: bool = False) -> DiscoverySource:
    source = ctx.session.get(DiscoverySource, source_id, with_for_update=lock or None)
    if source is None or source.tenant_id != ctx.tenant_id:
        raise NotFound("no such discovery source")
    return source


def update_source(
    ctx: RequestContext, *, source_id: uuid.UUID, data: DiscoverySourceUpdate, if_match: int | None
) -> DiscoverySource:
    source, diff = crud.changes(
        lambda: get_source(ctx, source_id=source_id, lock=True),
        data,
        if_match,
        "discovery source",
    )
    after = diff["after"]
    if not after:
        return source
    if after.get("enabled") is True or "interval" in after:
        # Re-enabled or re-paced: due at once, then at the new pace.
        after["next_run_at"] = datetime.now(UTC)
    crud.changed(
        ctx,
        source,
        after,
        guard=crud.unique_name(ctx.session, constraint=NAME_INDEX, what="discovery source"),
    )
    audit.record(
        ctx,
        action=f"{ENTITY}.updated",
        entity_type=ENTITY,
        entity_id=source_id,
        data={"before": _jsonable(diff["before"]), "after": _jsonable(after)},
    )
    return source


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in values.items()}


def delete_source(ctx: RequestContext, *, source_id: uuid.UUID) -> None:
    """The source and its runs; the CIs it made stay (they are the tenant's CMDB now)."""
    source = get_source(ctx, source_id=source_id, lock=True)
    ctx.session.delete(source)
    ctx.session.flush()
    audit.record(ctx, action=f"{ENTITY}.deleted", entity_type=ENTITY, entity_id=source_id)


def queue_run(
    ctx: RequestContext, *, source_id: uuid.UUID, trigger: str = "manual"
) -> DiscoveryRun:
    """A queued run of the source (409 naming ``source_id`` while one is queued or
    running)."""
    get_source(ctx, source_id=source_id)
    run = DiscoveryRun(
        tenant_id=ctx.tenant_id,
        source_id=source_id,
        trigger=trigger,
        requested_by=ctx.user_id,
    )
    with unique_or_conflict(
        ctx.session,
        {ACTIVE_RUN_INDEX: ("source_id", "a run of this source is queued or running")},
        title="this source is already being discovered",
    ):
        ctx.session.add(run)
    ctx.session.refresh(run)
    audit.record(
        ctx,
        action="discovery_run.requested",
        entity_type=ENTITY,
        entity_id=source_id,
        data={"run_id": str(run.id)},
    )
    return run


NEWEST_FIRST = Keyset([Key(DiscoveryRun.created_at, TIMESTAMP), Key(DiscoveryRun.id, UUID)], True)


def list_runs(
    ctx: RequestContext, *, source_id: uuid.UUID, limit: int, cursor: str | None
) -> tuple[list[DiscoveryRun], str | None]:
    get_source(ctx, source_id=source_id)
    query = select(DiscoveryRun).where(
        DiscoveryRun.tenant_id == ctx.tenant_id, DiscoveryRun.source_id == source_id
    )
    return paginate(ctx.session, query, NEWEST_FIRST, limit=limit, cursor=cursor)
