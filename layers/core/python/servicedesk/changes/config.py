"""A tenant's change configuration: its settings (the CAB and emergency approval flows, the
risk questionnaire and its level thresholds; a default row written on first read), the
pre-approved templates of standard changes and the blackout windows. No HTTP, no commit."""

from __future__ import annotations

import uuid
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, or_, select
from sqlalchemy.dialects.postgresql import insert

from servicedesk.approvals import flows
from servicedesk.changes import recurrence, risk
from servicedesk.changes.models import ChangeBlackout, ChangeSettings, ChangeTemplate
from servicedesk.changes.schemas import (
    BlackoutCreate,
    BlackoutUpdate,
    Recurrence,
    SettingsUpdate,
    TemplateCreate,
    TemplateUpdate,
)
from servicedesk.platform import audit, crud
from servicedesk.platform.errors import (
    NotFound,
    ValidationProblem,
    field_error,
    validation_errors,
)
from servicedesk.platform.pagination import TEXT, TIMESTAMP, UUID, Key, Keyset, paginate
from servicedesk.platform.tenancy import RequestContext

BY_NAME = Keyset(
    [
        Key(func.lower(ChangeTemplate.name), TEXT, lambda t: t.name.lower()),
        Key(ChangeTemplate.id, UUID),
    ]
)
BY_START = Keyset([Key(ChangeBlackout.starts_at, TIMESTAMP), Key(ChangeBlackout.id, UUID)])
MAX_BLACKOUTS = 500
MAX_SERIES_YEARS = 10


# -- settings ----------------------------------------------------------------------------


def settings_of(ctx: RequestContext, *, lock: bool = False) -> ChangeSettings:
    """The tenant's settings, the defaults written the first time they are read."""
    ctx.session.execute(
        insert(ChangeSettings)
        .values(
            tenant_id=ctx.tenant_id,
            questions=risk.DEFAULT_QUESTIONS,
            medium_from=risk.DEFAULT_MEDIUM_FROM,
            high_from=risk.DEFAULT_HIGH_FROM,
        )
        .on_conflict_do_nothing(index_elements=["tenant_id"])
    )
    query = select(ChangeSettings).where(ChangeSettings.tenant_id == ctx.tenant_id)
    if lock:
        query = query.with_for_update()
    return ctx.session.scalars(query).one()


def get_settings(ctx: RequestContext) -> ChangeSettings:
    return settings_of(ctx)


def update_settings(
    ctx: RequestContext, *, data: SettingsUpdate, if_match: int | None
) -> ChangeSettings:
    """Flows must be active flows of the tenant (422 naming the field); ``high_from`` above
    ``medium_from``. Changes already assessed keep their score and level."""
    found, diff = crud.changes(
        lambda: settings_of(ctx, lock=True), data, if_match, "change settings", "json"
    )
    after = diff["after"]
    if not after:
        return found
    for field in ("cab_flow_id", "emergency_flow_id"):
        if after.get(field) is not None:
            flows.usable(ctx, uuid.UUID(str(after[field])), field)
    medium = after.get("medium_from", found.medium_from)
    high = after.get("high_from", found.high_from)
    if high <= medium:
        raise ValidationProblem(errors=[field_error("high_from", "must be above medium_from")])
    crud.changed(ctx, found, after, guard=crud.flushed(ctx.session))
    audit.record(
        ctx,
        action="change_settings.updated",
        entity_type="change_settings",
        entity_id=ctx.tenant_id,
        data=diff,
    )
    return found


# -- templates ---------------------------------------------------------------------------


def _unique_name(ctx: RequestContext) -> AbstractContextManager[None]:
    return crud.unique_name(
        ctx.session, constraint="uq_change_templates_name", what="change template"
    )


def list_templates(
    ctx: RequestContext, *, active: bool | None, limit: int, cursor: str | None
) -> tuple[list[ChangeTemplate], str | None]:
    query = select(ChangeTemplate).where(ChangeTemplate.tenant_id == ctx.tenant_id)
    if active is not None:
        query = query.where(ChangeTemplate.active.is_(active))
    return paginate(ctx.session, query, BY_NAME, limit=limit, cursor=cursor)


def get_template(
    ctx: RequestContext, *, template_id: uuid.UUID, lock: bool = False
) -> ChangeTemplate:
    query = select(ChangeTemplate).where(
        ChangeTemplate.tenant_id == ctx.tenant_id, ChangeTemplate.id == template_id
    )
    if lock:
        query = query.with_for_update()
    found = ctx.session.scalars(query).one_or_none()
    if found is None:
        raise NotFound("no such change template")
    return found


def usable_template(ctx: RequestContext, template_id: uuid.UUID) -> ChangeTemplate:
    """An active template of the tenant, or 422 naming ``template_id``."""
    found = ctx.session.scalars(
        select(ChangeTemplate).where(
            ChangeTemplate.tenant_id == ctx.tenant_id, ChangeTemplate.id == template_id
        )
    ).one_or_none()
    if found is None or not found.active:
        raise ValidationProblem(errors=[field_error("template_id", "not an active template")])
    return found


def create_template(ctx: RequestContext, *, data: TemplateCreate) -> ChangeTemplate:
    template = ChangeTemplate(id=uuid.uuid4(), tenant_id=ctx.tenant_id, **data.model_dump())
    return crud.created(
        ctx, template, _unique_name(ctx), "change_template", after=data.model_dump(mode="json")
    )


def update_template(
    ctx: RequestContext, *, template_id: uuid.UUID, data: TemplateUpdate, if_match: int | None
) -> ChangeTemplate:
    template, diff = crud.changes(
        lambda: get_template(ctx, template_id=template_id, lock=True),
        data,
        if_match,
        "change template",
    )
    if not diff["after"]:
        return template
    crud.changed(ctx, template, diff["after"], guard=_unique_name(ctx))
    audit.record(
        ctx,
        action="change_template.updated",
        entity_type="change_template",
        entity_id=template_id,
        data={"after": list(diff["after"])},
    )
    return template


def delete_template(ctx: RequestContext, *, template_id: uuid.UUID) -> None:
    """Changes made from it keep their plans (their template_id becomes null)."""
    template = get_template(ctx, template_id=template_id, lock=True)
    ctx.session.delete(template)
    ctx.session.flush()
    audit.record(
        ctx,
        action="change_template.deleted",
        entity_type="change_template",
        entity_id=template_id,
    )


# -- blackout windows --------------------------------------------------------------------


def list_blackouts(
    ctx: RequestContext, *, limit: int, cursor: str | None
) -> tuple[list[ChangeBlackout], str | None]:
    query = select(ChangeBlackout).where(ChangeBlackout.tenant_id == ctx.tenant_id)
    return paginate(ctx.session, query, BY_START, limit=limit, cursor=cursor)


def _window_of(data: BlackoutCreate) -> tuple[datetime, datetime | None, dict[str, Any] | None]:
    """The row's ``starts_at``, ``ends_at`` and ``recurrence``; 422 naming the field that
    does not fit: a one-off window or a recurrence, not both; each frequency's fields."""
    rule = data.recurrence
    if rule is None:
        if data.starts_at is None or data.ends_at is None:
            missing = "starts_at" if data.starts_at is None else "ends_at"
            raise ValidationProblem(
                errors=[
                    field_error(missing, "a window needs starts_at and ends_at (or a recurrence)")
                ]
            )
        if data.ends_at <= data.starts_at:
            raise ValidationProblem(errors=[field_error("ends_at", "must be after starts_at")])
        return data.starts_at, data.ends_at, None
    errors = [
        field_error(name, "not with a recurrence (it has its own times)")
        for name in ("starts_at", "ends_at")
        if getattr(data, name) is not None
    ]
    errors += _rule_errors(rule)
    if errors:
        raise ValidationProblem(errors=errors)
    stored = rule.model_dump(mode="json", exclude_none=True)
    stored["start_time"] = rule.start_time.strftime("%H:%M")
    if rule.weekdays is not None:
        stored["weekdays"] = sorted(set(rule.weekdays))
    first, last = recurrence.bounds(stored)
    return first, last, stored


def _rule_errors(rule: Recurrence) -> list[dict[str, Any]]:
    """What does not fit the frequency: weekly takes weekdays; monthly takes monthday, or
    nth and weekday; until is after starts_on, at most ``MAX_SERIES_YEARS`` on."""
    wrong: list[tuple[str, str]] = []
    monthly = ("monthday", "nth", "weekday")
    if rule.frequency == "weekly":
        if not rule.weekdays:
            wrong.append(("weekdays", "a weekly blackout names its weekdays"))
        wrong += [(n, "monthly only") for n in monthly if getattr(rule, n) is not None]
    else:
        if rule.weekdays is not None:
            wrong.append(("weekdays", "weekly only"))
        if rule.monthday is not None and (rule.nth is not None or rule.weekday is not None):
            wrong.append(("monthday", "either monthday, or nth and weekday"))
        elif rule.monthday is None:
            wrong += [
                (n, "a monthly blackout takes monthday, or nth and weekday")
                for n in ("nth", "weekday")
                if getattr(rule, n) is None
            ]
    if rule.until is not None and rule.until < rule.starts_on:
        wrong.append(("until", "must not be before starts_on"))
    elif rule.until is not None and (rule.until - rule.starts_on).days > 366 * MAX_SERIES_YEARS:
        wrong.append(("until", f"at most {MAX_SERIES_YEARS} years after starts_on"))
    return [field_error(f"recurrence.{name}", message) for name, message in wrong]


def create_blackout(ctx: RequestContext, *, data: BlackoutCreate) -> ChangeBlackout:
    count = ctx.session.scalar(
        select(func.count()).where(ChangeBlackout.tenant_id == ctx.tenant_id)
    )
    if int(count or 0) >= MAX_BLACKOUTS:
        raise ValidationProblem(
            errors=[field_error("name", f"at most {MAX_BLACKOUTS} blackout windows")]
        )
    starts_at, ends_at, rule = _window_of(data)
    blackout = ChangeBlackout(
        id=uuid.uuid4(),
        tenant_id=ctx.tenant_id,
        name=data.name,
        starts_at=starts_at,
        ends_at=ends_at,
        recurrence=rule,
    )
    return crud.created(
        ctx,
        blackout,
        crud.flushed(ctx.session),
        "change_blackout",
        after=data.model_dump(mode="json", exclude_none=True),
    )


def _blackout(ctx: RequestContext, blackout_id: uuid.UUID, *, lock: bool = False) -> ChangeBlackout:
    query = select(ChangeBlackout).where(
        ChangeBlackout.tenant_id == ctx.tenant_id, ChangeBlackout.id == blackout_id
    )
    if lock:
        query = query.with_for_update()
    found = ctx.session.scalars(query).one_or_none()
    if found is None:
        raise NotFound("no such blackout window")
    return found


def _edited(found: ChangeBlackout, data: BlackoutUpdate) -> BlackoutCreate:
    """The window as it would be after ``data``, as a creation's body (its checks)."""
    sent = data.model_dump(exclude_unset=True, exclude={"version"})
    window: dict[str, Any] = (
        {"recurrence": found.recurrence}
        if found.recurrence is not None
        else {"starts_at": found.starts_at, "ends_at": found.ends_at}
    )
    if "recurrence" in sent and sent["recurrence"] is not None:
        window = {}
    elif {"starts_at", "ends_at"} & set(sent):
        window.pop("recurrence", None)
        window.setdefault("starts_at", found.starts_at)
        window.setdefault("ends_at", found.ends_at)
    values = {"name": found.name, **window, **sent}
    try:
        return BlackoutCreate.model_validate(values)
    except ValidationError as exc:
        raise ValidationProblem(errors=validation_errors(exc.errors())) from exc


def update_blackout(
    ctx: RequestContext, *, blackout_id: uuid.UUID, data: BlackoutUpdate, if_match: int | None
) -> ChangeBlackout:
    """Checked as a new window (422 naming the field); the version read is required (428)
    and must be current (412)."""
    found, _ = crud.changes(
        lambda: _blackout(ctx, blackout_id, lock=True), data, if_match, "blackout window"
    )
    edited = _edited(found, data)
    starts_at, ends_at, rule = _window_of(edited)
    diff = crud.changed_fields(
        found,
        {"name": edited.name, "starts_at": starts_at, "ends_at": ends_at, "recurrence": rule},
    )
    if not diff["after"]:
        return found
    crud.changed(ctx, found, diff["after"], guard=crud.flushed(ctx.session))
    audit.record(
        ctx,
        action="change_blackout.updated",
        entity_type="change_blackout",
        entity_id=blackout_id,
        data={"changed": sorted(diff["after"])},
    )
    return found


def delete_blackout(ctx: RequestContext, *, blackout_id: uuid.UUID) -> None:
    found = _blackout(ctx, blackout_id, lock=True)
    ctx.session.delete(found)
    ctx.session.flush()
    audit.record(
        ctx,
        action="change_blackout.deleted",
        entity_type="change_blackout",
        entity_id=blackout_id,
    )


@dataclass(frozen=True)
class Occurrence:
    """A blackout window in time (``schemas.BlackoutWindow``)."""

    id: uuid.UUID
    name: str
    starts_at: datetime
    ends_at: datetime
    recurring: bool


def blackouts_over(
    ctx: RequestContext, start: datetime, end: datetime, *, limit: int = 50
) -> list[Occurrence]:
    """The blackout windows overlapping ``[start, end)``, earliest first: the one-off windows
    and the occurrences of the recurring ones (each series expanded over this window only,
    at most ``limit`` per series)."""
    rows = ctx.session.scalars(
        select(ChangeBlackout)
        .where(
            ChangeBlackout.tenant_id == ctx.tenant_id,
            ChangeBlackout.starts_at < end,
            or_(ChangeBlackout.ends_at.is_(None), ChangeBlackout.ends_at > start),
        )
        .order_by(ChangeBlackout.starts_at, ChangeBlackout.id)
    )
    found: list[Occurrence] = []
    for row in rows:
        if row.recurrence is None:
            assert row.ends_at is not None  # the table's check: only a series may be open
            found.append(Occurrence(row.id, row.name, row.starts_at, row.ends_at, False))
            continue
        # Each series yields in order: its first ``limit`` are all the overall first
        # ``limit`` can hold, so a long window never expands more than that per series.
        found += [
            Occurrence(row.id, row.name, begins, ends, True)
            for begins, ends in islice(recurrence.occurrences(row.recurrence, start, end), limit)
        ]
    found.sort(key=lambda o: (o.starts_at, str(o.id)))
    return found[:limit]
