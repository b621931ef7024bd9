"""Apply a list of actions to one ticket, through the tickets services.

Each action calls the service a person would (``tickets.service.update``/``transition``/
``assign``, ``tickets.comments.add``), so every change is checked, versioned, written to the
timeline (one entry per change) and emitted through the outbox exactly as if made by hand,
in the caller's transaction.

Two modes:

- ``strict`` (macros): references are checked first and every problem is refused at once
  (422 naming ``actions.<i>.<field>``); an action failing while it runs raises its problem
  with the field under ``actions.<i>``; the caller's transaction rolls back, so the ticket
  is untouched: all or nothing.
- ``lenient`` (automation rules): an action whose reference no longer exists (a deleted
  team, a custom field gone) or that fails is skipped and reported in the outcome (the
  rule's run log), inside its own savepoint, so it never half-applies and never makes a
  500; the others still run.

Side-effect actions (``notify``, ``webhook``) and ``apply_macro`` are handled by the domains
that own them, which ``register`` a handler; an action without one is refused by ``check``.
"""

from __future__ import annotations

import importlib
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import ValidationError
from sqlalchemy import text

from servicedesk.actions import placeholders
from servicedesk.actions.schemas import (
    AddTags,
    Assign,
    Note,
    RemoveTags,
    Reply,
    SetField,
    SetStatus,
)
from servicedesk.platform.errors import (
    ProblemError,
    ValidationProblem,
    field_error,
    validation_errors,
)
from servicedesk.platform.tenancy import RequestContext
from servicedesk.tickets import comments, service, states
from servicedesk.tickets.models import Ticket
from servicedesk.tickets.schemas import MAX_TAGS, AssignRequest, CommentCreate, TicketUpdate

Mode = Literal["strict", "lenient"]
# In ``Run.extra``: each reply/note posted, rendered, in order ({"type", "body"}).
RENDERED = "rendered"
Status = Literal["applied", "unchanged", "skipped"]


@dataclass
class Outcome:
    index: int
    type: str
    status: Status
    detail: str | None = None


@dataclass
class Run:
    """What one apply is about: the ticket, who applies (``agent_id``: the person applying
    a macro; None for an automation rule), and anything a handler needs to pass along."""

    ctx: RequestContext
    ticket_id: uuid.UUID
    agent_id: uuid.UUID | None
    mode: Mode
    extra: dict[str, Any] = field(default_factory=dict)

    def ticket(self) -> Ticket:
        return service.get_visible(self.ctx, self.ticket_id, for_update=True)


Check = Callable[[RequestContext, Any, str], list[dict[str, Any]]]
Apply = Callable[[Run, Any], Status]


@dataclass(frozen=True)
class Handler:
    check: Check
    apply: Apply


HANDLERS: dict[str, Handler] = {}
# Action types whose handler lives in a domain that imports this module (importing it here
# would be a cycle): the domain is imported on first use, so every caller of the executor
# (a macro, an automation rule) finds the handler without importing it itself.
PROVIDERS: dict[str, str] = {"apply_macro": "servicedesk.macros.actions"}


def handler_of(action_type: str) -> Handler | None:
    if action_type not in HANDLERS and action_type in PROVIDERS:
        importlib.import_module(PROVIDERS[action_type])
    return HANDLERS.get(action_type)


def _where(prefix: str, i: int) -> str:
    """``<prefix>.<i>``; a bare ``<i>`` under an empty prefix (a nested list's errors, to
    be put under the outer action by ``_under``)."""
    return f"{prefix}.{i}" if prefix else str(i)


def register(action_type: str, *, check: Check, apply: Apply) -> None:
    """Install the handler of an action type (the owning domain does, when imported)."""
    HANDLERS[action_type] = Handler(check, apply)


def check(
    ctx: RequestContext, actions: Sequence[Any], *, prefix: str = "actions"
) -> list[dict[str, Any]]:
    """Every reference problem of ``actions`` in the tenant, as field errors."""
    errors: list[dict[str, Any]] = []
    for i, action in enumerate(actions):
        errors.extend(_check_one(ctx, action, _where(prefix, i)))
    return errors


def _check_one(ctx: RequestContext, action: Any, where: str) -> list[dict[str, Any]]:
    handler = handler_of(action.type)
    if handler is None:
        return [field_error(f"{where}.type", f"{action.type} is not available here")]
    return handler.check(ctx, action, where)


def apply(
    ctx: RequestContext,
    ticket_id: uuid.UUID,
    actions: Sequence[Any],
    *,
    agent_id: uuid.UUID | None,
    mode: Mode = "strict",
    prefix: str = "actions",
    extra: dict[str, Any] | None = None,
) -> list[Outcome]:
    """Apply ``actions`` in order (see the module's docstring for the two modes)."""
    # ``extra`` is shared, not copied: handlers may leave what they did there (RENDERED).
    run = Run(ctx, ticket_id, agent_id, mode, extra if extra is not None else {})
    if mode == "strict":
        service.get_visible(ctx, ticket_id)  # 404 before 422 for a ticket out of sight
        problems = check(ctx, actions, prefix=prefix)
        if problems:
            raise ValidationProblem(errors=problems)
    outcomes: list[Outcome] = []
    for i, action in enumerate(actions):
        where = _where(prefix, i)
        if mode == "strict":
            try:
                outcomes.append(Outcome(i, action.type, HANDLERS[action.type].apply(run, action)))
            except ProblemError as problem:
                raise _under(problem, where, action.type) from problem
            continue
        problems = _check_one(ctx, action, where)
        if problems:
            outcomes.append(Outcome(i, action.type, "skipped", _sentence(problems)))
            continue
        savepoint = ctx.session.begin_nested()
        try:
            status = HANDLERS[action.type].apply(run, action)
        except ProblemError as problem:
            savepoint.rollback()
            detail = _sentence(problem.errors) if problem.errors else str(problem.detail)
            outcomes.append(Outcome(i, action.type, "skipped", detail))
            continue
        savepoint.commit()
        outcomes.append(Outcome(i, action.type, status))
    return outcomes


def _under(problem: ProblemError, where: str, action_type: str) -> ProblemError:
    """The same problem (status, type), its fields under ``actions.<i>``."""
    errors = [
        {**e, "field": f"{where}.{e.get('field', '')}".rstrip(".")} for e in problem.errors or []
    ] or [field_error(where, str(problem.detail or problem.title))]
    renamed = type(problem)(
        f"{action_type} (action {where.rsplit('.', 1)[-1]}): {problem.detail or problem.title}",
        errors=errors,
        headers=problem.headers,
        **problem.extra,
    )
    return renamed


def _sentence(errors: list[dict[str, Any]] | None) -> str:
    return "; ".join(f"{e.get('field')}: {e.get('detail')}" for e in errors or [])


# ---- set_field -------------------------------------------------------------------------


def _custom_key(name: str) -> str | None:
    return name.removeprefix("custom_fields.") if name.startswith("custom_fields.") else None


def _check_set_field(ctx: RequestContext, action: SetField, where: str) -> list[dict[str, Any]]:
    key = _custom_key(action.field)
    if key is not None:
        known = ctx.session.execute(
            text(
                "SELECT 1 FROM categories WHERE tenant_id = :t AND active"
                " AND fields_schema -> 'properties' ? :key LIMIT 1"
            ),
            {"t": ctx.tenant_id, "key": key},
        ).first()
        if known is None:
            return [field_error(f"{where}.field", f"no active category has the field {key}")]
        return []
    if action.field not in TicketUpdate.model_fields:
        return [field_error(f"{where}.field", f"{action.field} cannot be set here")]
    try:
        data = TicketUpdate.model_validate({action.field: action.value})
    except ValidationError as exc:
        return [
            {**e, "field": f"{where}.value"} for e in validation_errors(exc.errors(), prefix="")
        ]
    if action.field == "category_id" and data.category_id is not None:
        found = ctx.session.execute(
            text("SELECT 1 FROM categories WHERE tenant_id = :t AND id = :id AND active"),
            {"t": ctx.tenant_id, "id": data.category_id},
        ).first()
        if found is None:
            return [field_error(f"{where}.value", "no such active category")]
    return []


def _apply_set_field(run: Run, action: SetField) -> Status:
    ticket = run.ticket()
    key = _custom_key(action.field)
    if key is not None:
        values = dict(ticket.custom_fields or {})
        if action.value is None:
            values.pop(key, None)
        else:
            values[key] = action.value
        data = TicketUpdate(custom_fields=values)
    else:
        data = TicketUpdate.model_validate({action.field: action.value})
    return _update(run, ticket, data)


def _update(run: Run, ticket: Ticket, data: TicketUpdate) -> Status:
    version = ticket.version
    service.update(run.ctx, ticket_id=ticket.id, data=data, if_match=version)
    return "applied" if ticket.version != version else "unchanged"


# ---- tags --------------------------------------------------------------------------------


def _no_check(ctx: RequestContext, action: Any, where: str) -> list[dict[str, Any]]:
    return []


def _apply_tags(run: Run, action: AddTags | RemoveTags) -> Status:
    ticket = run.ticket()
    current = list(ticket.tags or [])
    if isinstance(action, AddTags):
        wanted = current + [t for t in action.tags if t not in current]
    else:
        wanted = [t for t in current if t not in action.tags]
    if len(wanted) > MAX_TAGS:
        raise ValidationProblem(
            errors=[field_error("tags", f"a ticket has at most {MAX_TAGS} tags")]
        )
    return _update(run, ticket, TicketUpdate(tags=wanted))


# ---- status --------------------------------------------------------------------------------


def _apply_status(run: Run, action: SetStatus) -> Status:
    ticket = run.ticket()
    if ticket.status == action.status.value:
        return "unchanged"
    service.transition(run.ctx, ticket_id=ticket.id, to=states.Status(action.status), version=None)
    return "applied"


# ---- assignment ------------------------------------------------------------------------------


def _check_assign(ctx: RequestContext, action: Assign, where: str) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = []
    for name, checker in (("team_id", service.check_team), ("assignee_id", service.check_assignee)):
        value = getattr(action, name)
        if value is not None:
            try:
                checker(ctx, value, f"{where}.{name}")
            except ValidationProblem as problem:
                errors.extend(problem.errors or [])
    return errors


def _apply_assign(run: Run, action: Assign) -> Status:
    from servicedesk.teams.schemas import AssignmentStrategy
    from servicedesk.teams.service import pick_assignee

    ticket = run.ticket()
    fields = action.model_fields_set - {"type", "assignee_rule"}
    team = action.team_id if "team_id" in fields else ticket.team_id
    request: dict[str, Any] = {k: getattr(action, k) for k in fields}
    rule = action.assignee_rule
    if rule == "current_user":
        if run.agent_id is None:
            raise ValidationProblem(
                errors=[field_error("assignee_rule", "no person applies this action")]
            )
        request["assignee_id"] = run.agent_id
    elif rule is not None:
        if team is None:
            raise ValidationProblem(
                errors=[field_error("assignee_rule", "the ticket has no team to pick from")]
            )
        strategy = None if rule == "team_rule" else AssignmentStrategy(rule)
        request["assignee_id"] = pick_assignee(
            run.ctx.session,
            tenant_id=run.ctx.tenant_id,
            team_id=team,
            open_statuses=states.ACTIVE_STATUSES,
            strategy=strategy,
        )
    version = ticket.version
    service.assign(
        run.ctx, ticket_id=ticket.id, data=AssignRequest(**request, version=ticket.version)
    )
    return "applied" if ticket.version != version else "unchanged"


# ---- reply and note ----------------------------------------------------------------------------


def check_template(template: str, where: str) -> list[dict[str, Any]]:
    names = placeholders.unknown(template)
    if not names:
        return []
    return [
        {
            **field_error(where, "unknown placeholders: " + ", ".join(names)),
            "unknown": names,
        }
    ]


def _check_comment(ctx: RequestContext, action: Reply | Note, where: str) -> list[dict[str, Any]]:
    return check_template(action.body, f"{where}.body")


def _apply_comment(run: Run, action: Reply | Note) -> Status:
    ticket = run.ticket()
    values = placeholders.load(run.ctx, ticket, agent_id=run.agent_id)
    body = placeholders.render(action.body, values)[:50000]
    visibility: Literal["public", "internal"] = "public" if action.type == "reply" else "internal"
    comments.add(run.ctx, ticket_id=ticket.id, data=CommentCreate(body=body, visibility=visibility))
    run.extra.setdefault(RENDERED, []).append({"type": action.type, "body": body})
    return "applied"


register("set_field", check=_check_set_field, apply=_apply_set_field)
register("add_tags", check=_no_check, apply=_apply_tags)
register("remove_tags", check=_no_check, apply=_apply_tags)
register("set_status", check=_no_check, apply=_apply_status)
register("assign", check=_check_assign, apply=_apply_assign)
register("reply", check=_check_comment, apply=_apply_comment)
register("note", check=_check_comment, apply=_apply_comment)
