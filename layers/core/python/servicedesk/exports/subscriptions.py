"""Scheduled report subscriptions: a manager's report delivered by e-mail on a cadence.

No HTTP here and no commit. Parameters are checked as the report route checks them (the
range is set per delivery: the period before it); recipients must be active staff of the
tenant (a report is staff data). ``next_run_at`` is the next local slot (``schedule``).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text

from servicedesk.exports import params as checks
from servicedesk.exports import schedule
from servicedesk.exports.models import ReportSubscription
from servicedesk.exports.subscription_schemas import (
    SubscriptionCreate,
    SubscriptionUpdate,
    check_cadence,
)
from servicedesk.platform import audit, crud
from servicedesk.platform.errors import NotFound, ValidationProblem, field_error
from servicedesk.platform.pagination import TIMESTAMP, UUID, Key, Keyset, paginate
from servicedesk.platform.roles import STAFF_ROLES
from servicedesk.platform.tenancy import RequestContext

SET_PER_DELIVERY = ("since", "until")
CADENCE = ("frequency", "hour", "weekday", "monthday", "tz")


def delivery_params(
    report: str, params: dict[str, Any], frequency: Any, tz: str, slot: datetime
) -> Any:
    """The report's parameters for the delivery at ``slot``: the stored ones, the period
    before the slot, the subscription's time zone; checked (422 naming ``params.<x>``)."""
    since, until = schedule.period(frequency, slot, tz)
    full = {**params, "since": since.isoformat(), "until": until.isoformat(), "tz": tz}
    if "tz" in params:
        raise ValidationProblem(errors=[field_error("params.tz", "is the subscription's tz")])
    return checks.report_params(report, full)


def _check_params(report: str, params: dict[str, Any], frequency: Any, tz: str) -> None:
    for name in SET_PER_DELIVERY:
        if name in params:
            raise ValidationProblem(
                errors=[field_error(f"params.{name}", "is set per delivery (the period before it)")]
            )
    delivery_params(report, params, frequency, tz, datetime.now(UTC))


def _check_recipients(ctx: RequestContext, recipients: list[uuid.UUID]) -> None:
    wanted = sorted(set(recipients))
    staff = set(
        ctx.session.execute(
            text(
                "SELECT user_id FROM memberships WHERE tenant_id = :t AND active"
                " AND role = ANY(:roles) AND user_id = ANY(CAST(:ids AS uuid[]))"
            ),
            {"t": ctx.tenant_id, "roles": [r.value for r in STAFF_ROLES], "ids": wanted},
        ).scalars()
    )
    outside = [str(u) for u in wanted if u not in staff]
    if outside:
        raise ValidationProblem(
            errors=[
                field_error(
                    "recipients",
                    f"not active staff of this organisation: {', '.join(outside)}",
                )
            ]
        )


def _cadence_error(exc: ValueError) -> ValidationProblem:
    message = str(exc)
    name = message.split(" ", 1)[0]
    return ValidationProblem(errors=[field_error(name, message.split(" ", 1)[1])])


def _next(sub: ReportSubscription | SubscriptionCreate, after: datetime) -> datetime:
    return schedule.next_run(
        frequency=sub.frequency,  # type: ignore[arg-type]
        hour=sub.hour,
        weekday=sub.weekday,
        monthday=sub.monthday,
        tz=sub.tz,
        after=after,
    )


def create_subscription(ctx: RequestContext, *, data: SubscriptionCreate) -> ReportSubscription:
    try:
        check_cadence(data.frequency, data.weekday, data.monthday)
    except ValueError as exc:
        raise _cadence_error(exc) from exc
    _check_params(data.report, data.params, data.frequency, data.tz)
    _check_recipients(ctx, data.recipients)
    sub = ReportSubscription(
        tenant_id=ctx.tenant_id,
        owner_id=ctx.user_id,
        report=data.report,
        params=data.params,
        format=data.format,
        frequency=data.frequency,
        hour=data.hour,
        weekday=data.weekday,
        monthday=data.monthday,
        tz=data.tz,
        recipients=sorted(set(data.recipients)),
        active=data.active,
        next_run_at=_next(data, datetime.now(UTC)),
    )
    return crud.created(
        ctx,
        sub,
        crud.flushed(ctx.session),
        "report_subscription",
        after=data.model_dump(mode="json"),
    )


BY_CREATION = Keyset(
    [Key(ReportSubscription.created_at, TIMESTAMP), Key(ReportSubscription.id, UUID)]
)


def list_subscriptions(
    ctx: RequestContext, *, limit: int, cursor: str | None
) -> tuple[list[ReportSubscription], str | None]:
    query = select(ReportSubscription).where(ReportSubscription.tenant_id == ctx.tenant_id)
    return paginate(ctx.session, query, BY_CREATION, limit=limit, cursor=cursor)


def get_subscription(
    ctx: RequestContext, *, subscription_id: uuid.UUID, lock: bool = False
) -> ReportSubscription:
    sub = ctx.session.get(ReportSubscription, subscription_id, with_for_update=lock or None)
    if sub is None or sub.tenant_id != ctx.tenant_id:
        raise NotFound("no such report subscription")
    return sub


def _merged_cadence(
    sub: ReportSubscription, after: dict[str, Any], data: SubscriptionUpdate
) -> dict[str, Any]:
    """The cadence and parameters after the change, checked; a new frequency drops the
    other frequency's day unless it is sent."""
    merged = {k: after.get(k, getattr(sub, k)) for k in (*CADENCE, "params")}
    if "frequency" in after:
        for day in ("weekday", "monthday"):
            if day not in data.model_fields_set:
                merged[day] = None
                after[day] = None
    try:
        check_cadence(merged["frequency"], merged["weekday"], merged["monthday"])
    except ValueError as exc:
        raise _cadence_error(exc) from exc
    return merged


def update_subscription(
    ctx: RequestContext,
    *,
    subscription_id: uuid.UUID,
    data: SubscriptionUpdate,
    if_match: int | None,
) -> ReportSubscription:
    sub, diff = crud.changes(
        lambda: get_subscription(ctx, subscription_id=subscription_id, lock=True),
        data,
        if_match,
        "report subscription",
        "json",
    )
    after = diff["after"]
    if not after:
        return sub
    merged = _merged_cadence(sub, after, data)
    if "params" in after or "tz" in after or "frequency" in after:
        _check_params(sub.report, merged["params"], merged["frequency"], merged["tz"])
    if "recipients" in after:
        _check_recipients(ctx, [uuid.UUID(str(u)) for u in after["recipients"]])
        after["recipients"] = sorted({uuid.UUID(str(u)) for u in after["recipients"]})
    if any(k in after for k in CADENCE) or after.get("active") is True:
        for key in CADENCE:
            setattr(sub, key, merged[key])
        after["next_run_at"] = _next(sub, datetime.now(UTC))
    if after.get("active") is True:
        after["last_error"] = None
    crud.changed(ctx, sub, after, guard=crud.flushed(ctx.session))
    audit.record(
        ctx,
        action="report_subscription.updated",
        entity_type="report_subscription",
        entity_id=subscription_id,
        data={k: v for k, v in diff.items()},
    )
    return sub


def delete_subscription(ctx: RequestContext, *, subscription_id: uuid.UUID) -> None:
    sub = get_subscription(ctx, subscription_id=subscription_id, lock=True)
    ctx.session.delete(sub)
    ctx.session.flush()
    audit.record(
        ctx,
        action="report_subscription.deleted",
        entity_type="report_subscription",
        entity_id=subscription_id,
    )
