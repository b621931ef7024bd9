"""The report scheduler (functions/report_scheduler, every 5 minutes): due subscriptions
rendered and handed to the e-mail consumer, and finished exports past their retention
marked expired.

Per tenant, in one transaction (``jobs.for_each_tenant``): the due subscriptions are
claimed with FOR UPDATE SKIP LOCKED (an overlapping run takes others or none); each
delivers one slot, ``due_slot``: the latest of its cadence at or before now, so slots
missed while the scheduler was down or failing are caught up once, by the latest, never in
a burst. It is rendered as its owner (their role now: an owner no longer a manager deactivates the
subscription, with the reason in ``last_error``), the file is written to the exports
bucket under a key of (subscription, slot), and in the claim's transaction each recipient
gets an export job of the file, ``report.delivered`` is written to the outbox, and
``next_run_at`` moves past the slot. A crash before that commit leaves the slot due (the
next run writes the same object again and sends once); after it, the slot is past. The
e-mail consumer also keys each mail on (subscription, slot, recipient) in ``deliveries``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from servicedesk.exports import render, schedule, service, storage, subscriptions
from servicedesk.exports.worker import NotAllowed, owner_context
from servicedesk.platform import db, outbox
from servicedesk.platform.config import get_settings
from servicedesk.platform.errors import ProblemError
from servicedesk.platform.jobs import for_each_tenant
from servicedesk.platform.logging import get_logger
from servicedesk.platform.permissions import Permission
from servicedesk.platform.roles import STAFF_ROLES

DELIVERED = "report.delivered"
# Subscriptions one tenant's run takes at most (the next run takes the rest).
BATCH = 20
NEEDS = Permission.REPORT_READ

_CLAIM = text(
    "SELECT * FROM report_subscriptions WHERE tenant_id = :t AND active AND next_run_at <= :now"
    " ORDER BY next_run_at, id LIMIT :n FOR UPDATE SKIP LOCKED"
)


@dataclass
class Run:
    tenants: int = 0
    delivered: int = 0
    deactivated: int = 0
    failed: int = 0
    caught_up: int = 0
    expired: int = 0
    pruned: int = 0
    failed_tenants: list[str] = field(default_factory=list)


def tenants_due(now: datetime) -> list[uuid.UUID]:
    with db.transaction() as session:
        rows = session.execute(text("SELECT report_tenants_due(:now)"), {"now": now}).scalars()
        return [uuid.UUID(str(t)) for t in rows]


def run(now: datetime | None = None) -> Run:
    now = now or datetime.now(UTC)
    result = Run()
    tenants = tenants_due(now)
    result.tenants = len(tenants)

    def work(session: Session, tenant_id: uuid.UUID) -> dict[str, Any]:
        counts: dict[str, Any] = {"delivered": 0, "deactivated": 0, "failed": 0, "caught_up": 0}
        for row in session.execute(_CLAIM, {"t": tenant_id, "now": now, "n": BATCH}).all():
            outcome = deliver(session, tenant_id, row, now)
            counts[outcome] += 1
            if outcome == "delivered" and due_slot(row, now) > row.next_run_at:
                counts["caught_up"] += 1
        counts["expired"] = service.expire(session)
        counts["events"] = list(session.info.get("outbox_ids", []))
        return counts

    def publish(tenant_id: uuid.UUID, counts: dict[str, Any]) -> None:
        # Out now, after the commit (the sweeper would send them a minute later).
        from servicedesk.platform.publisher import publish_committed

        publish_committed(tenant_id, counts["events"])

    done = for_each_tenant(tenants, work, what="report scheduling", after_commit=publish)
    for counts in done.results:
        result.delivered += counts["delivered"]
        result.deactivated += counts["deactivated"]
        result.failed += counts["failed"]
        result.expired += counts["expired"]
        result.caught_up += counts["caught_up"]
    result.failed_tenants = done.failed_tenants
    result.pruned = prune_processed_events(now)
    return result


def prune_processed_events(now: datetime) -> int:
    """Delete the reports consumer's processed event ids older than the retention setting
    (every tenant's, through a SECURITY DEFINER function); the number deleted."""
    days = get_settings().report_processed_retention_days
    with db.transaction() as session:
        return int(
            session.execute(
                text("SELECT report_prune_processed_events(:before)"),
                {"before": now - timedelta(days=days)},
            ).scalar_one()
        )


def _cadence(row: Any) -> dict[str, Any]:
    """A subscription row's cadence, as schedule.next_run/latest_slot take it."""
    return {
        "frequency": row.frequency,
        "hour": row.hour,
        "weekday": row.weekday,
        "monthday": row.monthday,
        "tz": row.tz,
    }


def due_slot(row: Any, now: datetime) -> datetime:
    """The slot a run at ``now`` delivers for a due subscription: the latest slot of its
    cadence at or before ``now`` (never before ``next_run_at``). Slots missed while the
    scheduler was down or failing are caught up once, by this one, never in a burst; the
    ones before it are not delivered (their periods are in the next report's history)."""
    latest = schedule.latest_slot(**_cadence(row), at=now)
    due: datetime = row.next_run_at
    return max(due, latest)


def _advance(
    session: Session,
    row: Any,
    now: datetime,
    slot: datetime,
    *,
    error: str | None,
    deactivate: bool = False,
) -> None:
    """Past ``slot`` and now (the next slot after both), once."""
    following = schedule.next_run(**_cadence(row), after=max(slot, now))
    session.execute(
        text(
            "UPDATE report_subscriptions SET next_run_at = :n, last_run_at = :slot,"
            " last_error = :e, active = active AND NOT :off WHERE id = :id"
        ),
        {"n": following, "slot": slot, "e": error, "off": deactivate, "id": row.id},
    )


def deliver(session: Session, tenant_id: uuid.UUID, row: Any, now: datetime) -> str:
    """One due subscription's slot (``due_slot``): "delivered", "deactivated" or
    "failed"."""
    slot = due_slot(row, now)
    try:
        result = _render(tenant_id, row, slot)
    except NotAllowed as exc:
        _advance(session, row, now, slot, error=str(exc)[:500], deactivate=True)
        return "deactivated"
    except ProblemError as exc:  # the stored parameters no longer hold (a report renamed...)
        _advance(session, row, now, slot, error=f"invalid parameters: {exc.detail}"[:500])
        return "failed"
    except Exception as exc:  # noqa: BLE001 - recorded on the subscription; the next slot runs
        get_logger().exception("scheduled report failed", extra={"subscription_id": str(row.id)})
        _advance(session, row, now, slot, error=f"rendering failed: {type(exc).__name__}")
        return "failed"
    recipients = _staff(session, tenant_id, list(row.recipients))
    if not recipients:
        _advance(
            session, row, now, slot, error="no recipient is active staff any more", deactivate=True
        )
        return "deactivated"
    data, title = result
    stamp = slot.astimezone(UTC).strftime("%Y%m%dT%H%MZ")
    key = f"reports/{tenant_id}/{row.id}/{stamp}.{row.format}"
    size = storage.upload(key, iter([data]), content_type=storage.MEDIA_TYPES[row.format])
    expires = now + timedelta(days=get_settings().export_retention_days)
    jobs = _jobs(session, tenant_id, row, slot, recipients, key, size, expires)
    outbox.emit(
        session,
        tenant_id=tenant_id,
        event_type=DELIVERED,
        aggregate_type="report_subscription",
        aggregate_id=row.id,
        payload={
            "subscription_id": str(row.id),
            "slot": slot.isoformat(),
            "report": row.report,
            "title": title,
            "format": row.format,
            "s3_key": key,
            "size_bytes": size,
            "frequency": row.frequency,
            "recipients": [{"user_id": str(u), "job_id": str(j)} for u, j in jobs],
        },
    )
    _advance(session, row, now, slot, error=None)
    return "delivered"


def _render(tenant_id: uuid.UUID, row: Any, slot: datetime) -> tuple[bytes, str]:
    """The report for the slot as the owner (own transaction: their user in it)."""
    from servicedesk.reports import registry

    with db.transaction() as reader:
        ctx = owner_context(reader, tenant_id, row.owner_id)
        if not ctx.can(NEEDS):
            raise NotAllowed(f"the owner's role ({ctx.role.value}) may no longer read reports")
        params = subscriptions.delivery_params(row.report, row.params, row.frequency, row.tz, slot)
        result = registry.run_report(ctx, row.report, params)
    return b"".join(render.report_chunks(result, row.format)), result.title


def _staff(session: Session, tenant_id: uuid.UUID, ids: list[uuid.UUID]) -> list[uuid.UUID]:
    found = set(
        session.execute(
            text(
                "SELECT user_id FROM memberships WHERE tenant_id = :t AND active"
                " AND role = ANY(:roles) AND user_id = ANY(CAST(:ids AS uuid[]))"
            ),
            {"t": tenant_id, "roles": [r.value for r in STAFF_ROLES], "ids": ids},
        ).scalars()
    )
    return [u for u in ids if u in found]


def _jobs(
    session: Session,
    tenant_id: uuid.UUID,
    row: Any,
    slot: datetime,
    recipients: list[uuid.UUID],
    key: str,
    size: int,
    expires: datetime,
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """Each recipient's export job of the file (their link when it is too large to attach,
    and their copy in "My exports"); one per (subscription, slot, recipient)."""
    rows = session.execute(
        text(
            "INSERT INTO export_jobs (tenant_id, owner_id, kind, report, params, format, status,"
            " rows_done, s3_key, size_bytes, subscription_id, slot, started_at, finished_at,"
            " expires_at)"
            " SELECT :t, u, 'report', :r, CAST(:p AS jsonb), :f, 'done', 0, :k, :n, :s, :slot,"
            " now(), now(), :x FROM unnest(CAST(:users AS uuid[])) AS u"
            " ON CONFLICT (tenant_id, subscription_id, slot, owner_id)"
            " DO UPDATE SET s3_key = EXCLUDED.s3_key RETURNING owner_id, id"
        ),
        {
            "t": tenant_id,
            "r": row.report,
            "p": _json(row.params),
            "f": row.format,
            "k": key,
            "n": size,
            "s": row.id,
            "slot": slot,
            "x": expires,
            "users": recipients,
        },
    ).all()
    return [(r.owner_id, r.id) for r in rows]


def _json(value: Any) -> str:
    import json

    return json.dumps(value)
