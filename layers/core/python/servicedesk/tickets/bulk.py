"""Bulk actions on the agent queue (``POST /v1/tickets/bulk``): one action over up to
``MAX_TICKETS`` tickets, each row its own savepoint.

A row is done by the very service function its single route calls (``service.assign``,
``service.transition``, ``service.update`` for tags, ``links.merge``), so its rules,
visibility (a ticket the caller may not see is 404), timeline, audit and outbox rows are
the single route's. A row that fails rolls back to its savepoint: nothing of it stays, and
the rows before and after it stand. Errors other than problems (a bug, the database gone)
fail the whole request, which then commits nothing.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from servicedesk.platform.errors import ProblemError, ValidationProblem, field_error
from servicedesk.platform.schemas import Input
from servicedesk.platform.tenancy import RequestContext
from servicedesk.tickets import links, service
from servicedesk.tickets.schemas import MAX_TAGS, AssignRequest, Tag, TicketUpdate
from servicedesk.tickets.states import Status

MAX_TICKETS = 100
Action = Literal["assign", "status", "add_tags", "remove_tags", "merge"]
# What each action needs besides ticket_ids.
NEEDS: dict[str, tuple[str, ...]] = {
    "assign": (),  # assignee_id and/or team_id (null unassigns)
    "status": ("status",),
    "add_tags": ("tags",),
    "remove_tags": ("tags",),
    "merge": ("target_id",),
}
OPTIONS = ("assignee_id", "team_id", "status", "tags", "target_id")


class BulkRequest(Input):
    ticket_ids: Annotated[
        list[uuid.UUID],
        Field(
            min_length=1,
            max_length=MAX_TICKETS,
            description=f"The tickets, at most {MAX_TICKETS}, each once",
        ),
    ]
    action: Action
    assignee_id: uuid.UUID | None = Field(default=None, description="assign: the agent, or null")
    team_id: uuid.UUID | None = Field(default=None, description="assign: the team, or null")
    status: Status | None = Field(default=None, description="status: the status to move to")
    tags: list[Tag] | None = Field(
        default=None, min_length=1, max_length=MAX_TAGS, description="add_tags, remove_tags"
    )
    target_id: uuid.UUID | None = Field(
        default=None, description="merge: the ticket the others are merged into"
    )


class BulkProblem(BaseModel):
    type: str
    title: str
    status: int
    detail: str | None = None
    errors: list[dict[str, Any]] | None = None


class BulkRow(BaseModel):
    ticket_id: uuid.UUID
    ok: bool
    status: int = Field(description="The status the single route would have answered")
    version: int | None = Field(default=None, description="The ticket's version after the change")
    problem: BulkProblem | None = None


class BulkResult(BaseModel):
    action: Action
    succeeded: int
    failed: int
    results: list[BulkRow]


def check(data: BulkRequest) -> None:
    """What pydantic cannot say by field: the options the action needs, and no others."""
    errors = [field_error(name, "required by this action") for name in NEEDS[data.action]]
    errors = [e for e in errors if getattr(data, e["field"]) is None]
    if data.action == "assign" and not {"assignee_id", "team_id"} & data.model_fields_set:
        errors.append(field_error("assignee_id", "assign needs assignee_id or team_id"))
    allowed = set(NEEDS[data.action]) | (
        {"assignee_id", "team_id"} if data.action == "assign" else set()
    )
    for name in OPTIONS:
        if name in data.model_fields_set and name not in allowed:
            errors.append(field_error(name, f"not an option of {data.action}"))
    if data.ticket_ids and len(set(data.ticket_ids)) != len(data.ticket_ids):
        errors.append(field_error("ticket_ids", "lists a ticket twice"))
    if errors:
        raise ValidationProblem(errors=errors)


def run(ctx: RequestContext, data: BulkRequest) -> BulkResult:
    check(data)
    rows = []
    for ticket_id in data.ticket_ids:
        savepoint = ctx.session.begin_nested()
        try:
            version = _one(ctx, data, ticket_id)
            ctx.session.flush()
        except ProblemError as exc:
            savepoint.rollback()
            body = exc.body()
            problem = BulkProblem(
                type=body["type"],
                title=body["title"],
                status=body["status"],
                detail=body.get("detail"),
                errors=body.get("errors"),
            )
            rows.append(BulkRow(ticket_id=ticket_id, ok=False, status=exc.status, problem=problem))
            continue
        savepoint.commit()
        rows.append(BulkRow(ticket_id=ticket_id, ok=True, status=200, version=version))
    done = sum(r.ok for r in rows)
    return BulkResult(action=data.action, succeeded=done, failed=len(rows) - done, results=rows)


def _one(ctx: RequestContext, data: BulkRequest, ticket_id: uuid.UUID) -> int:
    """One row, by the single route's service function; the ticket's new version."""
    if data.action == "status":
        assert data.status is not None
        return service.transition(ctx, ticket_id=ticket_id, to=data.status, version=None).version
    if data.action == "merge":
        assert data.target_id is not None
        return links.merge(ctx, ticket_id=ticket_id, target_id=data.target_id).version
    ticket = service.get_visible(ctx, ticket_id, for_update=True)
    if data.action == "assign":
        # Choosing the rows is the agent's decision to reassign them: their current
        # version, read under the row lock, is the one the change is made against.
        fields = {k: getattr(data, k) for k in {"assignee_id", "team_id"} & data.model_fields_set}
        request = AssignRequest.model_validate({**fields, "version": ticket.version})
        return service.assign(ctx, ticket_id=ticket_id, data=request).version
    assert data.tags is not None
    wanted = [t.lower() for t in data.tags]
    if data.action == "add_tags":
        tags = [*ticket.tags, *(t for t in dict.fromkeys(wanted) if t not in ticket.tags)]
        if len(tags) > MAX_TAGS:
            raise ValidationProblem(
                f"a ticket has at most {MAX_TAGS} tags", errors=[field_error("tags", "too many")]
            )
    else:
        tags = [t for t in ticket.tags if t not in wanted]
    update = TicketUpdate.model_validate({"tags": tags, "version": ticket.version})
    return service.update(ctx, ticket_id=ticket_id, data=update, if_match=None).version
