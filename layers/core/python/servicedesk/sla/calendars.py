"""Business calendars: CRUD and conversion to the calendar the SLA maths runs on."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from servicedesk.platform import audit, crud
from servicedesk.platform.crud import unique_name
from servicedesk.platform.errors import Conflict, NotFound, ValidationProblem, field_error
from servicedesk.platform.pagination import TEXT, UUID, Key, Keyset, paginate
from servicedesk.platform.tenancy import RequestContext
from servicedesk.platform.versioning import check_version, expected_version
from servicedesk.sla.business_time import BusinessCalendar, validate_timezone
from servicedesk.sla.models import Calendar, Policy
from servicedesk.sla.schemas import CalendarCreate, CalendarUpdate, WorkInterval

ALWAYS = BusinessCalendar.always()


def _minutes(value: str) -> int:
    hours, minutes = value.split(":")
    return int(hours) * 60 + int(minutes)


def week_minutes(week: list[list[Any]]) -> tuple[tuple[tuple[int, int], ...], ...]:
    days = []
    for day in week:
        intervals = [
            (
                _minutes(i["start"] if isinstance(i, dict) else i.start),
                _minutes(i["end"] if isinstance(i, dict) else i.end),
            )
            for i in day
        ]
        days.append(tuple(sorted(intervals)))
    return tuple(days)


def check(timezone: str, week: list[list[WorkInterval]]) -> None:
    """Unknown zones and overlapping, inverted or empty weeks: 422 naming the field."""
    errors = []
    if not validate_timezone(timezone):
        errors.append(field_error("timezone", "unknown IANA time zone"))
    for d, day in enumerate(week):
        spans = sorted(((_minutes(i.start), _minutes(i.end), n) for n, i in enumerate(day)))
        for start, end, n in spans:
            if start >= end:
                errors.append(field_error(f"week.{d}.{n}", "start must be before end"))
        for (s1, e1, _), (s2, _e2, n2) in itertools.pairwise(spans):
            if s2 < e1 and s1 < e1:
                errors.append(field_error(f"week.{d}.{n2}", "overlaps another interval"))
    if not any(week):
        errors.append(field_error("week", "a calendar needs some working time"))
    if errors:
        raise ValidationProblem("the calendar is not valid", errors=errors)


def to_business(calendar: Calendar | None) -> BusinessCalendar:
    """The stored calendar as the SLA maths sees it; no calendar means 24x7."""
    if calendar is None:
        return ALWAYS
    return BusinessCalendar(
        tz=calendar.timezone,
        week=week_minutes(calendar.week),
        holidays=frozenset(calendar.holidays),
        yearly_holidays=frozenset((int(v[:2]), int(v[3:])) for v in calendar.yearly_holidays),
    )


def _get(ctx: RequestContext, calendar_id: uuid.UUID, *, lock: bool = False) -> Calendar:
    query = select(Calendar).where(Calendar.tenant_id == ctx.tenant_id, Calendar.id == calendar_id)
    if lock:
        query = query.with_for_update()
    found = ctx.session.scalars(query).one_or_none()
    if found is None:
        raise NotFound("no such calendar")
    return found


UNIQUE_NAME = "uq_business_calendars_name"
BY_NAME = Keyset([Key(Calendar.name, TEXT), Key(Calendar.id, UUID)])


def list_calendars(
    ctx: RequestContext, *, limit: int, cursor: str | None
) -> tuple[list[Calendar], str | None]:
    query = select(Calendar).where(Calendar.tenant_id == ctx.tenant_id)
    return paginate(ctx.session, query, BY_NAME, limit=limit, cursor=cursor)


def get(ctx: RequestContext, calendar_id: uuid.UUID) -> Calendar:
    return _get(ctx, calendar_id)


def create(ctx: RequestContext, *, data: CalendarCreate) -> Calendar:
    check(data.timezone, data.week)
    calendar = Calendar(
        id=uuid.uuid4(),
        tenant_id=ctx.tenant_id,
        name=data.name,
        timezone=data.timezone,
        week=[[i.model_dump() for i in day] for day in data.week],
        holidays=sorted(set(data.holidays)),
        yearly_holidays=sorted(set(data.yearly_holidays)),
    )
    guard = unique_name(ctx.session, constraint=UNIQUE_NAME, what="calendar")
    return crud.created(ctx, calendar, guard, "calendar", action="sla.calendar_created")


def update(
    ctx: RequestContext, *, calendar_id: uuid.UUID, data: CalendarUpdate, if_match: int | None
) -> Calendar:
    calendar = _get(ctx, calendar_id, lock=True)
    check_version(calendar.version, expected_version(data.version, if_match), what="calendar")
    changes = data.model_dump(exclude_unset=True, exclude={"version"})
    if "week" in changes or "timezone" in changes:
        week = (
            data.week
            if data.week is not None
            else [[WorkInterval.model_validate(i) for i in day] for day in calendar.week]
        )
        check(data.timezone or calendar.timezone, week)
    from servicedesk.sla.engine import Clock

    clock = Clock(ctx.session, ctx.tenant_id)
    now = datetime.now(UTC)
    users = list(
        ctx.session.scalars(
            select(Policy.id).where(
                Policy.tenant_id == ctx.tenant_id, Policy.calendar_id == calendar.id
            )
        )
    )
    running = clock.running_under(policy_ids=users) if users else []
    for target in running:
        clock.settle(target, now)  # business time so far counts on the old calendar
    after = {
        name: sorted(set(value)) if name in ("holidays", "yearly_holidays") else value
        for name, value in changes.items()
    }
    guard = unique_name(ctx.session, constraint=UNIQUE_NAME, what="calendar")
    crud.changed(ctx, calendar, after, guard=guard)
    audit.record(
        ctx,
        action="sla.calendar_updated",
        entity_type="calendar",
        entity_id=calendar.id,
        data={"fields": sorted(changes)},
    )
    ctx.session.flush()
    ctx.session.refresh(calendar)
    clock.rules_changed(running, now)  # and from now on on the new one
    return calendar


def delete(ctx: RequestContext, *, calendar_id: uuid.UUID) -> None:
    calendar = _get(ctx, calendar_id, lock=True)
    in_use = ctx.session.scalars(
        select(Policy.name).where(
            Policy.tenant_id == ctx.tenant_id, Policy.calendar_id == calendar.id
        )
    ).first()
    if in_use is not None:
        raise Conflict(
            f"the calendar is used by the policy {in_use!r}",
            errors=[field_error("calendar_id", "in use by an SLA policy")],
        )
    ctx.session.delete(calendar)
    audit.record(ctx, action="sla.calendar_deleted", entity_type="calendar", entity_id=calendar_id)
