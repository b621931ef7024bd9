"""AWS discovery runs (functions/cmdb_discovery, every minute; docs/cmdb.md, "AWS
discovery").

Per tenant with a source due or a run queued (``discovery_tenants_due``), in short
transactions of its own (``jobs.in_tenant``): runs left ``running`` by a stopped function
are failed; each enabled source due gets a queued run and its next time; then queued runs
are claimed one at a time while the invocation's time budget lasts (FOR UPDATE SKIP
LOCKED: overlapping invocations take others or none). A claimed run reads AWS with no
transaction open (``aws_inventory``), then writes in one transaction through the push
ingestion's upsert (``imports.discover``: CIs by external id = the ARN, relationships by
ARNs, one ``ci.imported`` with source ``aws:<source id>``): the CIs this source created and
did not find again are moved to ``retired`` in the same upsert (only after a complete
walk: a truncated one retires nothing). Any failure is recorded on the run, its writes
rolled back.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Text, Uuid, any_, bindparam, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from servicedesk.cmdb import aws_inventory, imports
from servicedesk.cmdb.aws_inventory import DiscoveryFailed, Inventory
from servicedesk.cmdb.models import CI, CIClass, DiscoveryRun, DiscoverySource
from servicedesk.cmdb.schemas import DiscoveredCI, DiscoveredRelationship, Discovery
from servicedesk.platform import db
from servicedesk.platform.config import get_settings
from servicedesk.platform.errors import ProblemError
from servicedesk.platform.jobs import in_tenant
from servicedesk.platform.logging import get_logger
from servicedesk.platform.roles import Role
from servicedesk.platform.tenancy import RequestContext

CLASS_KEY = "cloud_resource"
# A run still "running" this long after it started was stopped with its function.
STALE = timedelta(minutes=20)
MAX_ERROR = 2000

_REAP = text(
    "UPDATE discovery_runs SET status = 'failed', finished_at = now(),"
    " error = 'interrupted: the run stopped before it finished (it is retried at the next"
    " due time or Run now)' WHERE tenant_id = :t AND status = 'running' AND started_at < :before"
)
_ENQUEUE_DUE = text(
    "INSERT INTO discovery_runs (tenant_id, source_id, trigger)"
    " SELECT tenant_id, id, 'schedule' FROM discovery_sources"
    " WHERE tenant_id = :t AND enabled AND next_run_at <= :now"
    " ON CONFLICT (source_id) WHERE status IN ('queued', 'running') DO NOTHING"
)
_ADVANCE = text(
    "UPDATE discovery_sources SET next_run_at = :now + CASE interval"
    " WHEN 'hourly' THEN interval '1 hour' ELSE interval '1 day' END"
    " WHERE tenant_id = :t AND enabled AND next_run_at <= :now"
)
_CLAIM = text(
    "UPDATE discovery_runs SET status = 'running', started_at = now() WHERE id = ("
    " SELECT id FROM discovery_runs WHERE tenant_id = :t AND status = 'queued'"
    " ORDER BY created_at, id LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING id"
)


@dataclass
class Tick:
    tenants: int = 0
    runs: int = 0
    succeeded: int = 0
    failed: int = 0
    reaped: int = 0
    failed_tenants: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Claimed:
    run_id: uuid.UUID
    source_id: uuid.UUID
    requested_by: uuid.UUID | None
    role_arn: str
    external_id: str
    regions: list[str]
    resource_types: list[str]


def tenants_due(now: datetime) -> list[uuid.UUID]:
    with db.transaction() as session:
        rows = session.execute(text("SELECT discovery_tenants_due(:now)"), {"now": now}).scalars()
        return [uuid.UUID(str(t)) for t in rows]


def tick(now: datetime | None = None, budget_seconds: float | None = None) -> Tick:
    """Every tenant's due sources queued, then queued runs made while time lasts."""
    now = now or datetime.now(UTC)
    deadline = None if budget_seconds is None else time.monotonic() + budget_seconds
    result = Tick()
    for tenant_id in tenants_due(now):
        result.tenants += 1
        prepared = in_tenant(tenant_id, lambda s, t: _prepare(s, t, now), what="discovery queue")
        if prepared.failed:
            result.failed_tenants.append(str(tenant_id))
            continue
        result.reaped += prepared.result or 0
        _run_queued(tenant_id, deadline, result)
    return result


def _prepare(session: Session, tenant_id: uuid.UUID, now: datetime) -> int:
    reaped = getattr(session.execute(_REAP, {"t": tenant_id, "before": now - STALE}), "rowcount", 0)
    session.execute(_ENQUEUE_DUE, {"t": tenant_id, "now": now})
    session.execute(_ADVANCE, {"t": tenant_id, "now": now})
    return int(reaped or 0)


def _run_queued(tenant_id: uuid.UUID, deadline: float | None, result: Tick) -> None:
    minimum = get_settings().discovery_min_run_seconds
    while deadline is None or deadline - time.monotonic() >= minimum:
        claimed = in_tenant(tenant_id, _claim, what="discovery claim")
        if claimed.failed:
            result.failed_tenants.append(str(tenant_id))
            return
        if claimed.result is None:
            return
        result.runs += 1
        if execute(tenant_id, claimed.result, deadline):
            result.succeeded += 1
        else:
            result.failed += 1


def _claim(session: Session, tenant_id: uuid.UUID) -> Claimed | None:
    run_id = session.execute(_CLAIM, {"t": tenant_id}).scalar_one_or_none()
    if run_id is None:
        return None
    run = session.get(DiscoveryRun, run_id)
    assert run is not None
    source = session.get(DiscoverySource, run.source_id)
    assert source is not None
    return Claimed(
        run_id=run.id,
        source_id=source.id,
        requested_by=run.requested_by,
        role_arn=source.role_arn,
        external_id=source.external_id,
        regions=list(source.regions),
        resource_types=list(source.resource_types),
    )


def execute(tenant_id: uuid.UUID, claimed: Claimed, deadline: float | None) -> bool:
    """One claimed run: AWS read, then the write; the outcome recorded on the run."""
    try:
        credentials = aws_inventory.assume(claimed.role_arn, claimed.external_id, tenant_id)
        inventory = aws_inventory.read(
            credentials,
            role_arn=claimed.role_arn,
            regions=claimed.regions,
            resource_types=claimed.resource_types,
            limit=get_settings().discovery_max_resources,
            deadline=deadline,
        )
    except DiscoveryFailed as exc:
        _finish(tenant_id, claimed.run_id, error=str(exc))
        return False
    outcome = in_tenant(
        tenant_id, lambda s, t: _write(s, t, claimed, inventory), what="discovery write"
    )
    if outcome.failed:
        _finish(tenant_id, claimed.run_id, error="internal error while writing the CIs")
        return False
    return outcome.result is None


def _finish(tenant_id: uuid.UUID, run_id: uuid.UUID, *, error: str) -> None:
    def work(session: Session, _: uuid.UUID) -> None:
        run = session.get(DiscoveryRun, run_id)
        if run is not None:
            run.status, run.error = "failed", error[:MAX_ERROR]
            run.finished_at = datetime.now(UTC)

    in_tenant(tenant_id, work, what="discovery record")


def _write(
    session: Session, tenant_id: uuid.UUID, claimed: Claimed, inventory: Inventory
) -> str | None:
    """The inventory written and the run succeeded, or (its writes rolled back) the run
    failed with the problem: answered as the error, None on success."""
    run = session.get(DiscoveryRun, claimed.run_id)
    assert run is not None
    ctx = RequestContext(session, tenant_id, claimed.requested_by, Role.ADMIN)  # type: ignore[arg-type]
    try:
        with session.begin_nested():
            counts = apply(ctx, claimed.source_id, inventory)
    except ProblemError as exc:
        details = "; ".join(f"{e['field']}: {e['detail']}" for e in (exc.errors or [])[:5])
        run.status, run.finished_at = "failed", datetime.now(UTC)
        run.error = f"{exc.detail or exc.title}{': ' + details if details else ''}"[:MAX_ERROR]
        return run.error
    for key, value in counts.items():
        setattr(run, key, value)
    run.status, run.finished_at = "succeeded", datetime.now(UTC)
    session.execute(
        text("UPDATE discovery_sources SET last_success_at = now() WHERE id = :s"),
        {"s": claimed.source_id},
    )
    get_logger().info("discovery run succeeded", extra={"run_id": str(claimed.run_id), **counts})
    return None


def _current(ctx: RequestContext, where: Any) -> dict[str, dict[str, Any]]:
    rows = ctx.session.execute(
        select(
            CI.id,
            CI.external_id,
            CI.name,
            CI.state,
            CI.location,
            CI.serial,
            CI.asset_tag,
            CI.attributes,
            CIClass.key,
        )
        .join(CIClass, CIClass.id == CI.class_id)
        .where(CI.tenant_id == ctx.tenant_id, where)
    ).all()
    return {row.external_id: row._asdict() for row in rows}


def apply(ctx: RequestContext, source_id: uuid.UUID, inventory: Inventory) -> dict[str, Any]:
    """The inventory through ``imports.discover``, the gone CIs of this source retired;
    the run's counts."""
    arns = list(inventory.resources)
    existing = _current(ctx, CI.external_id == any_(bindparam(None, arns, type_=ARRAY(Text))))
    owned: dict[str, dict[str, Any]] = {}
    if not inventory.truncated:
        owned_ids = list(
            ctx.session.execute(
                text("SELECT ci_id FROM discovery_source_cis WHERE source_id = :s"),
                {"s": source_id},
            ).scalars()
        )
        owned = _current(ctx, CI.id == any_(bindparam(None, owned_ids, type_=ARRAY(Uuid))))
    items = [_item(resource, existing.get(arn)) for arn, resource in inventory.resources.items()]
    gone = [
        row
        for arn, row in owned.items()
        if arn not in inventory.resources and row["state"] not in ("retired", "disposed")
    ]
    items += [
        DiscoveredCI(
            external_id=row["external_id"],
            name=row["name"],
            class_key=row["key"],
            state="retired",
            location=row["location"],
            serial=row["serial"],
            asset_tag=row["asset_tag"],
            attributes=row["attributes"],
        )
        for row in gone
    ]
    relationships = [
        DiscoveredRelationship(source=s, type=kind, target=t)
        for s, kind, t in inventory.relationships
    ]
    # Built, not validated: the payload caps are the push endpoint's body limits; a run's
    # cap is discovery_max_resources. Each item was validated above.
    data = Discovery.model_construct(
        source=f"aws:{source_id}", cis=items, relationships=relationships
    )
    report = imports.discover(ctx, data)
    new = [arn for arn in arns if arn not in existing]
    if new:
        ctx.session.execute(
            text(
                "INSERT INTO discovery_source_cis (tenant_id, source_id, ci_id)"
                " SELECT :t, :s, id FROM cis WHERE tenant_id = :t AND external_id = ANY(:arns)"
                " ON CONFLICT DO NOTHING"
            ),
            {"t": ctx.tenant_id, "s": source_id, "arns": new},
        )
    return {
        "resources": len(arns),
        "created": report["created"],
        "updated": report["updated"] - len(gone),
        "unchanged": report["unchanged"],
        "retired": len(gone),
        "relationships": report["relationships_created"],
        "skipped": inventory.skipped,
        "truncated": inventory.truncated,
    }


def _item(resource: aws_inventory.Resource, current: dict[str, Any] | None) -> DiscoveredCI:
    """A resource as an inventory item: AWS decides the name, class and attributes; what
    people keep on the CI (location, serial, asset tag, state) stays as it is."""
    kept = current or {}
    return DiscoveredCI(
        external_id=resource.arn,
        name=resource.name,
        class_key=CLASS_KEY,
        location=kept.get("location", ""),
        serial=kept.get("serial"),
        asset_tag=kept.get("asset_tag"),
        attributes={
            "service": resource.service,
            "resource_type": resource.resource_type,
            "region": resource.region,
            "account_id": resource.account_id,
            "tags": resource.tags,
        },
    )
