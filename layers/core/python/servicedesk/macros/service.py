"""Macro rules: who sees and edits which macro, saving (every reference checked, unknown
placeholders listed), applying to a ticket (strict: all or nothing), previewing (the same
application, rolled back) and rendering a canned response. No HTTP here, never a commit.

Visibility (one predicate for the list and every read, invariant 3): staff only (anyone
else: 404 everywhere); ``personal`` macros their owner only; ``team`` macros the team's
active members, managers and admins; ``tenant`` macros all staff. Editing: a personal
macro its owner; team and tenant macros managers and admins. Anything not visible is 404,
visible but not editable 403.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, or_, select, text

from servicedesk.actions import executor
from servicedesk.actions.schemas import MACRO_TYPES, dump
from servicedesk.macros.models import Macro
from servicedesk.macros.schemas import MacroCreate, MacroUpdate, actions_of
from servicedesk.platform import audit, crud, outbox
from servicedesk.platform.errors import (
    Conflict,
    Forbidden,
    NotFound,
    ValidationProblem,
    field_error,
)
from servicedesk.platform.pagination import INTEGER, UUID, Key, Keyset, paginate
from servicedesk.platform.permissions import Permission
from servicedesk.platform.tenancy import RequestContext
from servicedesk.teams.models import TeamMember
from servicedesk.tickets import service as tickets
from servicedesk.tickets.models import Ticket

BY_POSITION = Keyset([Key(Macro.position, INTEGER), Key(Macro.id, UUID)])
NAME_INDEX = "uq_macros_name"
CANNED_TYPES = frozenset({"reply", "note"})
# The ticket fields a preview compares before and after.
PREVIEWED = (
    "title",
    "priority",
    "impact",
    "urgency",
    "category_id",
    "type",
    "custom_fields",
    "tags",
    "status",
    "team_id",
    "assignee_id",
)


def _staff(ctx: RequestContext) -> None:
    """Macros do not exist without ``macro:use`` (404, as something one may not see)."""
    if not ctx.can(Permission.MACRO_USE):
        raise NotFound("no such macro")


def visible(ctx: RequestContext) -> ColumnElement[bool]:
    """The macros the caller may see (staff only; the caller checks ``_staff``)."""
    member = exists().where(
        TeamMember.tenant_id == ctx.tenant_id,
        TeamMember.team_id == Macro.team_id,
        TeamMember.user_id == ctx.user_id,
        TeamMember.active.is_(True),
    )
    team = (
        Macro.scope == "team"
        if ctx.can(Permission.MACRO_MANAGE)
        else and_(Macro.scope == "team", member)
    )
    return and_(
        Macro.tenant_id == ctx.tenant_id,
        or_(
            and_(Macro.scope == "personal", Macro.owner_id == ctx.user_id),
            Macro.scope == "tenant",
            team,
        ),
    )


def may_edit(ctx: RequestContext, macro: Macro) -> bool:
    if macro.scope == "personal":
        return macro.owner_id == ctx.user_id
    return ctx.can(Permission.MACRO_MANAGE)


def _may_create(ctx: RequestContext, scope: str) -> None:
    if scope != "personal" and not ctx.can(Permission.MACRO_MANAGE):
        raise Forbidden(
            f"{scope} macros are made by managers and admins",
            errors=[field_error("scope", "agents make personal macros")],
        )


def list_macros(
    ctx: RequestContext,
    *,
    q: str | None,
    scope: str | None,
    team_id: uuid.UUID | None,
    include_archived: bool | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[dict[str, Any]], str | None]:
    """Visible macros in picker order (position, then id), each with its ``problems``."""
    _staff(ctx)
    query = select(Macro).where(visible(ctx))
    if not include_archived:
        query = query.where(Macro.archived_at.is_(None))
    if scope is not None:
        query = query.where(Macro.scope == scope)
    if team_id is not None:
        query = query.where(Macro.team_id == team_id)
    if q:
        pattern = "%" + q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(func.lower(Macro.name).like(pattern + "%"))
    rows, nxt = paginate(ctx.session, query, BY_POSITION, limit=limit, cursor=cursor)
    return [view(ctx, macro) for macro in rows], nxt


def _find(ctx: RequestContext, macro_id: uuid.UUID, *, lock: bool = False) -> Macro:
    _staff(ctx)
    query = select(Macro).where(visible(ctx), Macro.id == macro_id)
    if lock:
        query = query.with_for_update(of=Macro)
    macro = ctx.session.scalars(query).one_or_none()
    if macro is None:
        raise NotFound("no such macro")
    return macro


def get_macro(ctx: RequestContext, *, macro_id: uuid.UUID) -> dict[str, Any]:
    return view(ctx, _find(ctx, macro_id))


def problems(ctx: RequestContext, macro: Macro) -> list[dict[str, Any]]:
    """The references of ``macro`` that no longer resolve, as field errors."""
    found: list[dict[str, Any]] = []
    if macro.team_id is not None:
        try:
            tickets.check_team(ctx, macro.team_id, "team_id")
        except ValidationProblem as problem:
            found.extend(problem.errors or [])
    found.extend(executor.check(ctx, actions_of(macro.actions)))
    return found


def view(ctx: RequestContext, macro: Macro) -> dict[str, Any]:
    """``macro`` as ``MacroPublic`` reads it."""
    types = {a.get("type") for a in macro.actions}
    return {
        **{c: getattr(macro, c) for c in Macro.__table__.columns.keys()},  # noqa: SIM118
        "actions": actions_of(macro.actions),
        "archived": macro.archived_at is not None,
        "canned": bool(types) and types <= CANNED_TYPES,
        "can_edit": may_edit(ctx, macro),
        "problems": problems(ctx, macro),
    }


def _checked(
    ctx: RequestContext, actions: list[Any], scope: str, team_id: uuid.UUID | None
) -> list[dict[str, Any]]:
    """Save-time checks: the macro's scope and team, its action types, every reference
    and placeholder (all problems at once: 422)."""
    errors: list[dict[str, Any]] = []
    if (scope == "team") != (team_id is not None):
        detail = "a team macro names its team" if scope == "team" else "only team macros have one"
        errors.append(field_error("team_id", detail))
    elif team_id is not None:
        try:
            tickets.check_team(ctx, team_id, "team_id")
        except ValidationProblem as problem:
            errors.extend(problem.errors or [])
    allowed = [a for a in actions if a.type in MACRO_TYPES]
    for i, action in enumerate(actions):
        if action.type not in MACRO_TYPES:
            errors.append(field_error(f"actions.{i}.type", f"a macro cannot {action.type}"))
    if len(allowed) == len(actions):
        errors.extend(executor.check(ctx, actions))
    if errors:
        raise ValidationProblem(errors=errors)
    return dump(actions)


def _emit(ctx: RequestContext, kind: str, macro: Macro) -> None:
    outbox.emit(
        ctx.session,
        tenant_id=ctx.tenant_id,
        event_type=f"macro.{kind}",
        aggregate_type="macro",
        aggregate_id=macro.id,
        payload={
            "macro_id": macro.id,
            "scope": macro.scope,
            "team_id": macro.team_id,
            "owner_id": macro.owner_id,
            "actor_id": ctx.user_id,
        },
    )


def create_macro(ctx: RequestContext, *, data: MacroCreate) -> dict[str, Any]:
    _staff(ctx)
    _may_create(ctx, data.scope)
    stored = _checked(ctx, list(data.actions), data.scope, data.team_id)
    macro = Macro(
        id=uuid.uuid4(),
        tenant_id=ctx.tenant_id,
        scope=data.scope,
        owner_id=ctx.user_id if data.scope == "personal" else None,
        team_id=data.team_id,
        name=data.name,
        description=data.description,
        actions=stored,
        position=data.position,
        created_by=ctx.user_id,
    )
    guard = crud.unique_name(ctx.session, constraint=NAME_INDEX, what="macro")
    after = {**data.model_dump(mode="json", exclude={"actions"}), "actions": stored}
    crud.created(ctx, macro, guard, "macro", after=after)
    _emit(ctx, "created", macro)
    return view(ctx, macro)


def update_macro(
    ctx: RequestContext, *, macro_id: uuid.UUID, data: MacroUpdate, if_match: int | None
) -> dict[str, Any]:
    def lock() -> Macro:
        macro = _find(ctx, macro_id, lock=True)
        if not may_edit(ctx, macro):
            raise Forbidden("you may not change this macro")
        return macro

    macro, _ = crud.changes(lock, MacroUpdate(version=data.version), if_match, "macro")
    sent = data.model_dump(mode="json", exclude_unset=True, exclude={"version", "actions"})
    scope = sent.get("scope", macro.scope)
    team_id = data.team_id if "team_id" in data.model_fields_set else macro.team_id
    if scope != "team" and "team_id" not in data.model_fields_set:
        team_id = None
    if scope != macro.scope:
        _may_create(ctx, scope)
    actions = list(data.actions) if data.actions is not None else actions_of(macro.actions)
    wanted: dict[str, Any] = {
        k: v for k, v in sent.items() if k in ("scope", "name", "description", "position")
    }
    wanted["team_id"] = team_id
    wanted["owner_id"] = ctx.user_id if scope == "personal" else None
    if scope == "personal" and macro.scope == "personal":
        wanted["owner_id"] = macro.owner_id
    if data.actions is not None or "scope" in sent or "team_id" in data.model_fields_set:
        wanted["actions"] = _checked(ctx, actions, scope, team_id)
    if "archived" in sent and sent["archived"] != (macro.archived_at is not None):
        wanted["archived_at"] = func.now() if sent["archived"] else None
    diff = crud.changed_fields(macro, {k: v for k, v in wanted.items() if k != "archived_at"})
    if "archived_at" in wanted:
        diff["before"]["archived"] = macro.archived_at is not None
        diff["after"]["archived"] = sent["archived"]
    after = {k: v for k, v in wanted.items() if k in diff["after"] or k == "archived_at"}
    if not diff["after"]:
        return view(ctx, macro)
    guard = crud.unique_name(ctx.session, constraint=NAME_INDEX, what="macro")
    crud.changed(ctx, macro, after, guard=guard)
    audit.record(ctx, action="macro.updated", entity_type="macro", entity_id=macro.id, data=diff)
    _emit(ctx, "updated", macro)
    return view(ctx, macro)


def delete_macro(ctx: RequestContext, *, macro_id: uuid.UUID) -> None:
    macro = _find(ctx, macro_id, lock=True)
    if not may_edit(ctx, macro):
        raise Forbidden("you may not delete this macro")
    _emit(ctx, "deleted", macro)
    ctx.session.delete(macro)
    ctx.session.flush()
    audit.record(
        ctx,
        action="macro.deleted",
        entity_type="macro",
        entity_id=macro_id,
        data={"before": {"name": macro.name, "scope": macro.scope, "actions": macro.actions}},
    )


# ---- on a ticket ------------------------------------------------------------------------


def _usable(ctx: RequestContext, ticket_id: uuid.UUID, macro_id: uuid.UUID) -> Macro:
    """The macro, visible and not archived, for a ticket the caller sees (404 first)."""
    _staff(ctx)
    tickets.get_visible(ctx, ticket_id)
    macro = _find(ctx, macro_id)
    if macro.archived_at is not None:
        raise Conflict(
            "the macro is archived", errors=[field_error("macro_id", "archived: restore it first")]
        )
    return macro


def apply_macro(
    ctx: RequestContext, *, ticket_id: uuid.UUID, macro_id: uuid.UUID
) -> tuple[Ticket, list[executor.Outcome]]:
    """Every action in order, strictly: a reference that no longer resolves is refused
    before anything runs (422), an action that fails rolls the whole request back (its
    problem names ``actions.<i>``). The macro's usage is counted in the same transaction."""
    macro = _usable(ctx, ticket_id, macro_id)
    outcomes = executor.apply(
        ctx, ticket_id, actions_of(macro.actions), agent_id=ctx.user_id, mode="strict"
    )
    ctx.session.execute(
        text(
            "UPDATE macros SET usage_count = usage_count + 1, last_used_at = now()"
            " WHERE tenant_id = :t AND id = :id"
        ),
        {"t": ctx.tenant_id, "id": macro.id},
    )
    ticket = tickets.get_visible(ctx, ticket_id)
    ctx.session.refresh(ticket)
    return ticket, outcomes


def preview_macro(
    ctx: RequestContext, *, ticket_id: uuid.UUID, macro_id: uuid.UUID
) -> dict[str, Any]:
    """What applying the saved macro would do (``simulate``)."""
    macro = _usable(ctx, ticket_id, macro_id)
    return simulate(ctx, ticket_id, actions_of(macro.actions))


def preview_draft(
    ctx: RequestContext, *, ticket_id: uuid.UUID, actions: list[Any]
) -> dict[str, Any]:
    """What a macro being edited would do to a ticket (the editor's live preview): the
    save-time checks of its actions (422 listing each), then ``simulate``."""
    _staff(ctx)
    tickets.get_visible(ctx, ticket_id)
    errors = [
        field_error(f"actions.{i}.type", f"a macro cannot {a.type}")
        for i, a in enumerate(actions)
        if a.type not in MACRO_TYPES
    ]
    if errors:
        raise ValidationProblem(errors=errors)
    return simulate(ctx, ticket_id, list(actions))


def simulate(ctx: RequestContext, ticket_id: uuid.UUID, actions: list[Any]) -> dict[str, Any]:
    """Apply ``actions`` strictly inside a savepoint, note what changed and what was
    posted, and roll the savepoint back: the same checks and rendering as the application,
    so a preview cannot disagree with it, and nothing is written (the outbox rows, timeline
    entries and comments go with the savepoint)."""
    ticket = tickets.get_visible(ctx, ticket_id)
    before = {f: _plain(getattr(ticket, f, None)) for f in PREVIEWED}
    extra: dict[str, Any] = {}
    savepoint = ctx.session.begin_nested()
    try:
        outcomes = executor.apply(
            ctx, ticket_id, actions, agent_id=ctx.user_id, mode="strict", extra=extra
        )
        ctx.session.flush()
        ctx.session.refresh(ticket)
        after = {f: _plain(getattr(ticket, f, None)) for f in PREVIEWED}
    finally:
        savepoint.rollback()
    ctx.session.expire_all()
    changes = [
        {"field": f, "before": before[f], "after": after[f]}
        for f in PREVIEWED
        if before[f] != after[f]
    ]
    return {
        "changes": changes,
        "comments": list(extra.get(executor.RENDERED, [])),
        "outcomes": [vars(o) for o in outcomes],
    }


def _plain(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, list):
        return list(value)
    if isinstance(value, dict):
        return dict(value)
    return value


def render_macro(
    ctx: RequestContext, *, ticket_id: uuid.UUID, macro_id: uuid.UUID
) -> dict[str, Any]:
    """A canned response's text for the composer: each reply/note rendered for the ticket
    and the caller; nothing written. A macro that does more is not a canned response."""
    from servicedesk.actions import placeholders

    macro = _usable(ctx, ticket_id, macro_id)
    actions = actions_of(macro.actions)
    if not actions or any(a.type not in CANNED_TYPES for a in actions):
        raise ValidationProblem(
            "not a canned response",
            errors=[field_error("macro_id", "only a macro of replies and notes can be inserted")],
        )
    ticket = tickets.get_visible(ctx, ticket_id)
    values = placeholders.load(ctx, ticket, agent_id=ctx.user_id)
    return {
        "items": [
            {"type": a.type, "body": placeholders.render(a.body, values)[:50000]} for a in actions
        ]
    }


def get_placeholders(ctx: RequestContext) -> None:
    """The catalogue is staff's (404 to anyone else)."""
    _staff(ctx)
