"""Ticket rules: create, read, edit, transition, assign. No HTTP here, and no commit."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy import update as sql_update

from servicedesk.platform import metrics, outbox
from servicedesk.platform.errors import (
    Conflict,
    Forbidden,
    NotFound,
    ValidationProblem,
    field_error,
)
from servicedesk.platform.permissions import Permission
from servicedesk.platform.roles import STAFF_ROLES, Role
from servicedesk.platform.tenancy import RequestContext
from servicedesk.platform.versioning import check_version, expected_version
from servicedesk.sla import policies as sla_policies
from servicedesk.sla.engine import Clock
from servicedesk.sla.models import Policy
from servicedesk.tickets import numbering, permissions, states, timeline
from servicedesk.tickets import settings as ticket_settings
from servicedesk.tickets.models import Participant, Ticket, TicketInvitation
from servicedesk.tickets.schemas import AssignRequest, Channel, TicketCreate, TicketUpdate
from servicedesk.tickets.settings import TicketSettings
from servicedesk.tickets.visibility import visible


def load_settings(ctx: RequestContext) -> TicketSettings:
    return ticket_settings.SECTION.current(ctx)


def get_visible(ctx: RequestContext, ticket_id: uuid.UUID, *, for_update: bool = False) -> Ticket:
    """The ticket if the caller may see it; 404 otherwise (same rule as the list)."""
    query = select(Ticket).where(
        Ticket.tenant_id == ctx.tenant_id, Ticket.id == ticket_id, visible(ctx, load_settings(ctx))
    )
    if for_update:
        query = query.with_for_update(of=Ticket)
    ticket = ctx.session.scalars(query).one_or_none()
    if ticket is None:
        raise NotFound("no such ticket")
    return ticket


def clock(ctx: RequestContext) -> Clock:
    """The request's SLA clock (calendars and policies cached for the transaction)."""
    cached = ctx.extra.get("sla_clock")
    if not isinstance(cached, Clock):
        cached = Clock(ctx.session, ctx.tenant_id)
        ctx.extra["sla_clock"] = cached
    return cached


def sla_policy_for(ctx: RequestContext, ticket: Ticket) -> Policy | None:
    return sla_policies.applicable(
        ctx,
        priority=ticket.priority,
        category_id=ticket.category_id,
        team_id=ticket.team_id,
        requester_id=ticket.requester_id,
        ticket_type=ticket.type,
    )


def enroll(
    ctx: RequestContext,
    ticket: Ticket,
    user_id: uuid.UUID,
    *,
    kind: str = "participant",
    can_edit: bool = False,
) -> bool:
    """Add a participant (idempotent); cancels their pending invitation. True if added."""
    existing = ctx.session.get(Participant, (ticket.id, user_id))
    if user_id == ticket.requester_id or existing is not None:
        return False
    ctx.session.add(
        Participant(
            tenant_id=ctx.tenant_id,
            ticket_id=ticket.id,
            user_id=user_id,
            kind=kind,
            can_edit=can_edit,
            added_by=ctx.user_id,
        )
    )
    ctx.session.execute(
        sql_update(TicketInvitation)
        .where(
            TicketInvitation.ticket_id == ticket.id,
            TicketInvitation.user_id == user_id,
            TicketInvitation.status == "pending",
        )
        .values(status="cancelled", responded_at=func.now())
    )
    # No push of its own: staff take part as they act (their reply, status, ... is pushed
    # and screens refetch the people with it), a merge is pushed as ticket.merged, and a
    # participant added by hand is pushed by participants.add.
    timeline.event(
        ctx, ticket, "participant_added", payload={"user_id": user_id, "kind": kind}, push=False
    )
    return True


def enroll_staff(ctx: RequestContext, ticket: Ticket) -> None:
    """Staff who act on a ticket take part in it."""
    # The Automation actor (servicedesk.automation) takes part in nothing.
    if ctx.is_staff and ctx.user_id != ticket.assignee_id and not ctx.extra.get("automation"):
        enroll(ctx, ticket, ctx.user_id)


def _active_member_role(ctx: RequestContext, user_id: uuid.UUID) -> str | None:
    return ctx.session.execute(
        text("SELECT role FROM memberships WHERE tenant_id = :t AND user_id = :u AND active"),
        {"t": ctx.tenant_id, "u": user_id},
    ).scalar()


def _check_assignee(ctx: RequestContext, user_id: uuid.UUID, field: str = "assignee_id") -> None:
    if _active_member_role(ctx, user_id) not in STAFF_ROLES:
        raise ValidationProblem(
            "the assignee must be an active agent of the tenant",
            errors=[field_error(field, "not an active agent of this tenant")],
        )


def _check_team(ctx: RequestContext, team_id: uuid.UUID, field: str = "team_id") -> None:
    exists = ctx.session.execute(
        text("SELECT 1 FROM teams WHERE tenant_id = :t AND id = :id AND active"),
        {"t": ctx.tenant_id, "id": team_id},
    ).first()
    if exists is None:
        raise ValidationProblem(errors=[field_error(field, "no such active team")])


def _team_active(ctx: RequestContext, team_id: uuid.UUID) -> bool:
    try:
        _check_team(ctx, team_id)
    except ValidationProblem:
        return False
    return True


def assign_on_first_reply(ctx: RequestContext, ticket: Ticket) -> dict[str, Any] | None:
    """The tenant's ``assign_on_first_reply``: the author of the first public reply by staff
    on an unassigned, unlocked ticket becomes its assignee (the same event and notification
    as a manual assignment). Called before the reply sets ``first_response_at``; returns the
    audit's data (the caller records it once the reply is written, so that automation rules
    see both), or None when nothing changed."""
    if (
        ticket.assignee_id is not None
        or ticket.first_response_at is not None
        or ticket.assignment_locked
        or not ctx.role.at_least(Role.AGENT)
        or not load_settings(ctx).assign_on_first_reply
    ):
        return None
    before = {"assignee_id": None, "team_id": ticket.team_id}
    ticket.assignee_id = ctx.user_id
    _bump(ticket)
    after = {"assignee_id": ctx.user_id, "team_id": ticket.team_id}
    timeline.event(ctx, ticket, "assigned", payload={"from": before, "to": after})
    _notify(ctx, ticket, "ticket.assigned", assignee_id=ctx.user_id, team_id=ticket.team_id)
    return {"before": before, "after": after, "reason": "first_reply"}


def check_settings(ctx: RequestContext, value: TicketSettings) -> None:
    """What the settings name must exist: the triage and default teams are active teams."""
    if value.triage_team_id is not None:
        _check_team(ctx, value.triage_team_id, "triage_team_id")
    if value.default_team_id is not None:
        _check_team(ctx, value.default_team_id, "default_team_id")


def _category(ctx: RequestContext, category_id: uuid.UUID) -> Any:
    row = ctx.session.execute(
        text(
            # A deactivated default team routes nothing.
            "SELECT c.id, c.fields_schema, c.default_type, c.approval_flow_id,"
            " CASE WHEN t.active THEN c.default_team_id END AS default_team_id"
            " FROM categories c LEFT JOIN teams t"
            " ON t.tenant_id = c.tenant_id AND t.id = c.default_team_id"
            " WHERE c.tenant_id = :t AND c.id = :id AND c.active"
        ),
        {"t": ctx.tenant_id, "id": category_id},
    ).one_or_none()
    if row is None:
        raise ValidationProblem(errors=[field_error("category_id", "no such active category")])
    return row


def _validate_custom_fields(schema: dict[str, Any] | None, values: dict[str, Any]) -> None:
    from servicedesk.catalog import jsonschema

    if schema is None:
        if values:
            raise ValidationProblem(
                errors=[field_error("custom_fields", "custom fields need a category")]
            )
        return
    errors = jsonschema.validate(schema, values)
    if errors:
        raise ValidationProblem("custom fields do not match the category", errors=errors)


def _without_nulls(values: dict[str, Any]) -> dict[str, Any]:
    """A null custom field is an absent one; do not store it."""
    return {k: v for k, v in values.items() if v is not None}


def create(ctx: RequestContext, *, data: TicketCreate, channel: Channel = "web") -> Ticket:
    """Check and prepare everything first; then one statement draws the number and writes
    the ticket with its rows (tickets.numbering), so the tenant's counter stays locked for
    that statement and the commit only. ``channel``: "email" from the mail intake."""
    settings = load_settings(ctx)
    requester_id = ctx.user_id
    staff_only = {"requester_id", "team_id", "assignee_id"} & data.model_fields_set
    if staff_only and not ctx.is_staff:
        field = sorted(staff_only)[0]
        raise Forbidden(errors=[field_error(field, "only staff may set this")])
    if data.requester_id is not None:
        if _active_member_role(ctx, data.requester_id) is None:
            raise ValidationProblem(errors=[field_error("requester_id", "not an active member")])
        requester_id = data.requester_id
    category = _category(ctx, data.category_id) if data.category_id else None
    _validate_custom_fields(category.fields_schema if category else None, data.custom_fields)
    ticket_type = _new_ticket_type(ctx, data.type, category.default_type if category else None)
    team_id = data.team_id or (category.default_team_id if category else None)
    if data.team_id:
        _check_team(ctx, data.team_id)
    if (
        team_id is None
        and settings.default_team_id is not None
        and _team_active(ctx, settings.default_team_id)
    ):
        # The tenant's default; a team archived since is skipped (the ticket goes to triage).
        team_id = settings.default_team_id
    assignee_id = data.assignee_id
    if assignee_id is not None:
        _check_assignee(ctx, assignee_id)
    elif team_id is not None:
        from servicedesk.teams.service import pick_assignee

        assignee_id = pick_assignee(
            ctx.session,
            tenant_id=ctx.tenant_id,
            team_id=team_id,
            open_statuses=states.ACTIVE_STATUSES,
        )
    now = datetime.now(UTC)
    # A service request whose category needs approval waits for it (servicedesk/approvals).
    flow = _approval_flow(ctx, category)
    status = states.Status.PENDING_APPROVAL if flow is not None else states.Status.NEW
    ticket = Ticket(
        id=uuid.uuid4(),
        tenant_id=ctx.tenant_id,
        title=data.title,
        description=data.description,
        status=status.value,
        priority=data.priority or settings.priority_for(data.impact, data.urgency),
        impact=data.impact,
        urgency=data.urgency,
        category_id=data.category_id,
        type=ticket_type,
        requester_id=requester_id,
        assignee_id=assignee_id,
        team_id=team_id,
        tags=data.tags,
        custom_fields=_without_nulls(data.custom_fields),
        channel=channel,
    )
    sla_rows, ticket.sla_due_at = clock(ctx).opening(
        ticket.id, ticket.status, sla_policy_for(ctx, ticket), now
    )
    new = numbering.Numbered(ticket)
    for row in sla_rows:
        new.add_object(row)
    _new_ticket_rows(ctx, new, notify_requester=data.notify_requester is not False)
    created = numbering.insert(ctx.session, new, prefix=settings.number_prefix, year=now.year)
    if flow is not None:
        from servicedesk.approvals import service as approvals

        approvals.start(
            ctx,
            subject_type="ticket",
            subject_id=created.id,
            flow=flow,
            requested_by=requester_id,
            title=f"{created.number} {created.title}",
        )
    timeline.changed(ctx, created, "ticket.created")
    return created


def _approval_flow(ctx: RequestContext, category: Any) -> Any:
    """The active approval flow the ticket's category requires, if any."""
    if category is None or getattr(category, "approval_flow_id", None) is None:
        return None
    from servicedesk.approvals import flows

    return flows.active(ctx, category.approval_flow_id)


def _new_ticket_type(ctx: RequestContext, given: str | None, default: str | None) -> str:
    """The type asked for (one of the tenant's, not archived), else the category's default
    (kept usable by the catalog: a category's default type cannot be archived), else
    incident."""
    from servicedesk.catalog import types

    if given is not None:
        types.check_usable(ctx, given)
        return given
    return default or types.DEFAULT_TYPE


def _check_type_change(ctx: RequestContext, ticket: Ticket, new_type: str) -> None:
    """Staff set the type; a linked problem stays a problem, a linked incident an incident."""
    from servicedesk.catalog import types

    if new_type == ticket.type:
        return
    if not ctx.is_staff:
        raise Forbidden(errors=[field_error("type", "only staff may change the type")])
    types.check_usable(ctx, new_type)
    linked = ctx.session.execute(
        text(
            "SELECT 1 FROM ticket_links WHERE tenant_id = :t AND kind = 'problem_of'"
            " AND (source_id = :id OR target_id = :id) LIMIT 1"
        ),
        {"t": ctx.tenant_id, "id": ticket.id},
    ).first()
    if linked is not None:
        message = f"the ticket is linked as {ticket.type}; unlink its problem/incidents first"
        raise Conflict(message, errors=[field_error("type", message)])


def _new_ticket_rows(
    ctx: RequestContext, new: numbering.Numbered, *, notify_requester: bool
) -> None:
    """A new ticket's timeline, participant, audit and outbox rows, as timeline.event,
    enroll_staff, timeline.audited and outbox.emit write them for other changes, with the
    number left for numbering.insert to fill in."""
    ticket, number = new.ticket, new.placeholder
    # The channel says how it came in: "assistant" (the assistant's create_ticket tool)
    # reads "created by the assistant" in the timeline.
    created = {"number": number, "channel": ticket.channel}
    events = [timeline.new_event(ctx, ticket.id, "created", payload=created)]
    if ticket.assignee_id is not None:
        assigned = {"assignee_id": ticket.assignee_id, "team_id": ticket.team_id}
        events.append(timeline.new_event(ctx, ticket.id, "assigned", payload=assigned))
    # Staff opening a ticket for someone else take part in it (enroll_staff); a new ticket
    # has no participants or invitations yet.
    if ticket.requester_id != ctx.user_id and ctx.is_staff and ctx.user_id != ticket.assignee_id:
        new.add_object(
            Participant(
                tenant_id=ctx.tenant_id,
                ticket_id=ticket.id,
                user_id=ctx.user_id,
                kind="participant",
                can_edit=False,
                added_by=ctx.user_id,
            )
        )
        enrolled = {"user_id": ctx.user_id, "kind": "participant"}
        events.append(timeline.new_event(ctx, ticket.id, "participant_added", payload=enrolled))
    for event in events:
        new.add_object(event)
    locks = dict.fromkeys(("priority_locked", "category_locked", "assignment_locked"), False)
    new.add(
        "audit_log",
        {
            "tenant_id": ctx.tenant_id,
            "actor_user_id": ctx.user_id,
            "action": "ticket.created",
            "entity_type": "ticket",
            "entity_id": str(ticket.id),
            "data": {
                "number": number,
                "after": _snapshot(ticket, set(TRACKED) - set(locks)) | locks,
            },
            "request_id": ctx.request_id,
        },
    )
    kinds = ["ticket.created"]
    if notify_requester:
        # The requester's acknowledgement, whoever opened the ticket (e-mail only).
        kinds.append("ticket.received")
    for kind in kinds:
        event_id = uuid.uuid4()
        new.add(
            "outbox",
            {
                "id": event_id,
                "tenant_id": ctx.tenant_id,
                "event_type": kind,
                "aggregate_type": "ticket",
                "aggregate_id": str(ticket.id),
                "payload": {"ticket_id": ticket.id, "number": number, "actor_id": ctx.user_id},
            },
        )
        # Published once the request has committed, like outbox.emit's.
        ctx.session.info.setdefault("outbox_ids", []).append(event_id)
        metrics.business_event(ctx.session, event_id, kind, {})  # as outbox.emit does


TRACKED = (
    "title",
    "description",
    "status",
    "priority",
    "impact",
    "urgency",
    "category_id",
    "type",
    "assignee_id",
    "team_id",
    "tags",
    "custom_fields",
    "priority_locked",
    "category_locked",
    "assignment_locked",
)


def _snapshot(ticket: Ticket, fields: tuple[str, ...] | set[str] = TRACKED) -> dict[str, Any]:
    return {name: getattr(ticket, name) for name in fields}


def _notify(ctx: RequestContext, ticket: Ticket, event_type: str, **extra: Any) -> None:
    outbox.emit(
        ctx.session,
        tenant_id=ctx.tenant_id,
        event_type=event_type,
        aggregate_type="ticket",
        aggregate_id=ticket.id,
        payload={"ticket_id": ticket.id, "number": ticket.number, "actor_id": ctx.user_id, **extra},
    )


def _check_locks(ctx: RequestContext, ticket: Ticket, changes: dict[str, Any]) -> None:
    for lock in ("priority_locked", "category_locked"):
        if lock in changes and not ctx.can_on(Permission.TICKET_WORK, ticket.team_id):
            raise Forbidden(errors=[field_error(lock, "agents and above set locks")])
    if "assignment_locked" in changes and not ctx.can(Permission.TICKET_LOCK):
        raise Forbidden(errors=[field_error("assignment_locked", "admins set this lock")])
    guarded = {
        "priority": ticket.priority_locked,
        "impact": ticket.priority_locked,
        "urgency": ticket.priority_locked,
        "category_id": ticket.category_locked,
    }
    if ctx.is_staff:
        return
    for field, locked in guarded.items():
        if locked and field in changes:
            raise Conflict(
                f"{field} is locked on this ticket", errors=[field_error(field, "locked")]
            )


def update(
    ctx: RequestContext, *, ticket_id: uuid.UUID, data: TicketUpdate, if_match: int | None
) -> Ticket:
    ticket = get_visible(ctx, ticket_id, for_update=True)
    check_version(ticket.version, expected_version(data.version, if_match), what="ticket")
    if not permissions.may_edit(ctx, ticket):
        raise Forbidden("you may not edit this ticket")
    changes = data.model_dump(exclude_unset=True, exclude={"version"})
    _check_locks(ctx, ticket, changes)
    if "type" in changes:
        _check_type_change(ctx, ticket, changes["type"])
    if "category_id" in changes or "custom_fields" in changes:
        category_id = changes.get("category_id", ticket.category_id)
        category = _category(ctx, category_id) if category_id else None
        values = changes.get("custom_fields", ticket.custom_fields)
        _validate_custom_fields(category.fields_schema if category else None, values)
    if ("impact" in changes or "urgency" in changes) and "priority" not in changes:
        impact = changes.get("impact", ticket.impact)
        urgency = changes.get("urgency", ticket.urgency)
        if impact and urgency:
            changes["priority"] = load_settings(ctx).priority_for(impact, urgency)
    if "custom_fields" in changes:
        changes["custom_fields"] = _without_nulls(changes["custom_fields"])
    changed = {k for k, v in changes.items() if getattr(ticket, k) != v}
    if not changed:
        return ticket
    before = _snapshot(ticket, changed)
    for name in changed:
        setattr(ticket, name, changes[name])
    _bump(ticket)
    if changed & {"priority", "category_id", "type"}:
        clock(ctx).reclassified(ticket, sla_policy_for(ctx, ticket), datetime.now(UTC))
    after = _snapshot(ticket, changed)
    _field_events(ctx, ticket, before, after)
    enroll_staff(ctx, ticket)
    timeline.audited(ctx, ticket, "ticket.updated", before=before, after=after)
    _notify(ctx, ticket, "ticket.updated", fields=sorted(changed), values=_live_values(after))
    ctx.session.flush()
    return ticket


# Field values a ``ticket.updated`` frame may carry: small scalars, all shown by the ticket's
# own read to whoever may see it. Text (description) and custom field values are named only;
# screens refetch them through the REST API.
LIVE_VALUES = frozenset(
    {
        "title",
        "priority",
        "impact",
        "urgency",
        "category_id",
        "type",
        "priority_locked",
        "category_locked",
        "assignment_locked",
    }
)


def _live_values(after: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in after.items() if k in LIVE_VALUES}


def _bump(ticket: Ticket) -> None:
    ticket.version += 1
    ticket.updated_at = datetime.now(UTC)


def _field_events(
    ctx: RequestContext, ticket: Ticket, before: dict[str, Any], after: dict[str, Any]
) -> None:
    for name in sorted(after):
        if name == "category_id":
            timeline.event(
                ctx, ticket, "category_changed", payload={"from": before[name], "to": after[name]}
            )
        elif name.endswith("_locked"):
            kind = "locked" if after[name] else "unlocked"
            timeline.event(ctx, ticket, kind, payload={"lock": name.removesuffix("_locked")})
        elif name == "custom_fields":
            timeline.event(
                ctx,
                ticket,
                "custom_field_changed",
                payload={"from": before[name], "to": after[name]},
            )
        else:
            timeline.event(
                ctx, ticket, f"{name}_changed", payload={"from": before[name], "to": after[name]}
            )


def allowed_transitions(ctx: RequestContext, ticket: Ticket) -> frozenset[states.Status]:
    current = states.Status(ticket.status)
    # A cancelled ticket is stamped closed_at when it is cancelled (apply_status).
    finished = ticket.resolved_at if current is states.Status.RESOLVED else ticket.closed_at
    is_requester = ticket.requester_id == ctx.user_id
    allowed = states.allowed(
        current,
        staff=ctx.can_on(Permission.TICKET_WORK, ticket.team_id),
        is_requester=is_requester,
        finished_at=finished,
        now=datetime.now(UTC),
        reopen_window_days=load_settings(ctx).reopen_window_days,
    )
    team = ticket.team_id
    if ctx.can_on(Permission.TICKET_CLOSE, team) or not ctx.can_on(Permission.TICKET_WORK, team):
        return allowed
    # Staff without ticket:close move any status but the finishing ones (a requester's own
    # ticket still closes and cancels by the requester's rule).
    own = states.allowed(
        current,
        staff=False,
        is_requester=is_requester,
        finished_at=finished,
        now=datetime.now(UTC),
        reopen_window_days=load_settings(ctx).reopen_window_days,
    )
    return frozenset(s for s in allowed if s not in states.FINISHED_STATUSES or s in own)


def apply_status(
    ctx: RequestContext,
    ticket: Ticket,
    target: states.Status,
    *,
    problem: Ticket | None = None,
) -> None:
    """Move the ticket and keep the lifecycle timestamps true. ``problem``: moved with the
    problem it is an incident of (its timeline entry names it)."""
    previous = ticket.status
    now = datetime.now(UTC)
    ticket.status = target.value
    ticket.status_changed_at = now
    if target is states.Status.RESOLVED:
        ticket.resolved_at = now
    elif target is states.Status.CLOSED:
        ticket.closed_at = now
        ticket.resolved_at = ticket.resolved_at or now
    elif target is states.Status.CANCELLED:
        # When it finished, for the requester's reopen window; never resolved.
        ticket.closed_at = now
    elif target is states.Status.OPEN and previous in states.FINISHED_STATUSES:
        ticket.resolved_at = None
        ticket.closed_at = None
    _bump(ticket)
    if previous in states.APPROVAL_STATUSES and target is states.Status.CANCELLED:
        from servicedesk.approvals import service as approvals

        approvals.cancel_for_subject(ctx, "ticket", ticket.id)
    clock(ctx).status_changed(ticket, previous, now, finished=states.FINISHED_STATUSES)
    kind = (
        "reopened"
        if previous in states.FINISHED_STATUSES and target is states.Status.OPEN
        else "status_changed"
    )
    moved: dict[str, Any] = {"from": previous, "to": target.value}
    if problem is not None:
        moved |= {"problem_id": problem.id, "problem_number": problem.number}
    timeline.event(ctx, ticket, kind, payload=moved)
    _notify(ctx, ticket, "ticket.status_changed", status_from=previous, status_to=target.value)
    # Last: automation rules run from here (timeline.changed), after this change's event.
    timeline.audited(
        ctx,
        ticket,
        "ticket.status_changed",
        before={"status": previous},
        after={"status": target.value},
        **({"problem_id": problem.id} if problem is not None else {}),
    )


def transition(
    ctx: RequestContext,
    *,
    ticket_id: uuid.UUID,
    to: states.Status,
    version: int | None,
    resolve_incidents: bool = False,
) -> Ticket:
    ticket = get_visible(ctx, ticket_id, for_update=True)
    if resolve_incidents:
        _check_resolving_incidents(ctx, ticket, to)
    if version is not None:
        check_version(ticket.version, version, what="ticket")
    allowed = allowed_transitions(ctx, ticket)
    if to not in allowed and _close_withheld(ctx, ticket, to):
        raise Forbidden(
            f"moving a ticket to {to.value} needs the ticket:close permission",
            errors=[field_error("to", "needs ticket:close")],
        )
    if to not in allowed:
        raise Conflict(
            f"cannot move a {ticket.status} ticket to {to.value}",
            errors=[field_error("to", "transition not allowed")],
            allowed=sorted(s.value for s in allowed),
        )
    apply_status(ctx, ticket, to)
    enroll_staff(ctx, ticket)
    if resolve_incidents:
        _move_incidents(ctx, ticket, to)
    ctx.session.flush()
    return ticket


def _close_withheld(ctx: RequestContext, ticket: Ticket, to: states.Status) -> bool:
    """Staff whose role withholds ``ticket:close`` asking for a finishing move the staff
    rule allows: a 403 naming the permission rather than the 409 of an impossible move."""
    return (
        to in states.FINISHED_STATUSES
        and to in states.GRAPH[states.Status(ticket.status)]
        and ctx.can_on(Permission.TICKET_WORK, ticket.team_id)
        and not ctx.can_on(Permission.TICKET_CLOSE, ticket.team_id)
    )


def _check_resolving_incidents(ctx: RequestContext, ticket: Ticket, to: states.Status) -> None:
    if not ctx.is_staff:
        raise Forbidden(errors=[field_error("resolve_incidents", "staff only")])
    if ticket.type != "problem":
        raise ValidationProblem(
            errors=[field_error("resolve_incidents", "only a problem has incidents to resolve")]
        )
    if to not in states.RESOLVED_STATUSES:
        raise ValidationProblem(
            errors=[field_error("resolve_incidents", "only when moving to resolved or closed")]
        )


def _move_incidents(ctx: RequestContext, problem: Ticket, to: states.Status) -> None:
    """The problem's incidents that the caller may move to ``to`` now, moved (each with
    its own timeline entry naming the problem); the others are left as they are."""
    incident_ids = ctx.session.scalars(
        text(
            "SELECT target_id FROM ticket_links WHERE tenant_id = :t AND source_id = :p"
            " AND kind = 'problem_of' ORDER BY target_id"
        ),
        {"t": ctx.tenant_id, "p": problem.id},
    ).all()
    if not incident_ids:
        return
    incidents = ctx.session.scalars(
        select(Ticket)
        .where(
            Ticket.tenant_id == ctx.tenant_id,
            Ticket.id.in_(incident_ids),
            Ticket.merged_into_id.is_(None),
            visible(ctx, load_settings(ctx)),
        )
        .order_by(Ticket.id)
        .with_for_update(of=Ticket)
    ).all()
    for incident in incidents:
        if to in allowed_transitions(ctx, incident):
            apply_status(ctx, incident, to, problem=problem)
            enroll_staff(ctx, incident)


def incident_counts(ctx: RequestContext, tickets: list[Ticket]) -> dict[uuid.UUID, int]:
    """Staff: how many incidents each problem among ``tickets`` links (one query)."""
    problems = [t.id for t in tickets if t.type == "problem"]
    if not ctx.is_staff or not problems:
        return {}
    counts = dict.fromkeys(problems, 0)
    for row in ctx.session.execute(
        text(
            "SELECT source_id, count(*) AS n FROM ticket_links WHERE tenant_id = :t"
            " AND kind = 'problem_of' AND source_id = ANY(:ids) GROUP BY source_id"
        ),
        {"t": ctx.tenant_id, "ids": problems},
    ):
        counts[row.source_id] = int(row.n)
    return counts


def assign(ctx: RequestContext, *, ticket_id: uuid.UUID, data: AssignRequest) -> Ticket:
    """Manual assignment. Of two agents taking the same ticket at once, one wins; the
    other, whose view is now stale, gets 409."""
    ticket = get_visible(ctx, ticket_id, for_update=True)
    if not ctx.can_on(Permission.TICKET_ASSIGN, ticket.team_id):
        raise Forbidden(
            "assigning this ticket needs ticket:assign for its team",
            errors=[field_error("ticket_id", "outside the role's team")],
        )
    if ticket.assignment_locked and not ctx.can(Permission.TICKET_LOCK):
        raise Conflict(
            "assignment is locked on this ticket", errors=[field_error("assignee_id", "locked")]
        )
    if data.version is not None and data.version != ticket.version:
        raise Conflict(
            "the ticket was assigned or changed meanwhile; reload",
            current_version=ticket.version,
            assignee_id=str(ticket.assignee_id),
        )
    fields = data.model_fields_set - {"version"}
    assignee = data.assignee_id if "assignee_id" in fields else ticket.assignee_id
    if data.version is None and ticket.assignee_id is not None and assignee != ticket.assignee_id:
        raise Conflict(
            "the ticket already has an assignee; send its version to reassign",
            current_version=ticket.version,
            assignee_id=str(ticket.assignee_id),
        )
    if assignee is not None and assignee != ticket.assignee_id:
        _check_assignee(ctx, assignee)
    team = data.team_id if "team_id" in fields else ticket.team_id
    if team is not None and team != ticket.team_id:
        _check_team(ctx, team)
    if (assignee, team) == (ticket.assignee_id, ticket.team_id):
        return ticket
    before = {"assignee_id": ticket.assignee_id, "team_id": ticket.team_id}
    ticket.assignee_id, ticket.team_id = assignee, team
    _bump(ticket)
    if team != before["team_id"]:
        clock(ctx).reclassified(ticket, sla_policy_for(ctx, ticket), datetime.now(UTC))
    after = {"assignee_id": assignee, "team_id": team}
    timeline.event(ctx, ticket, "assigned", payload={"from": before, "to": after})
    enroll_staff(ctx, ticket)
    _notify(ctx, ticket, "ticket.assigned", assignee_id=assignee, team_id=team)
    timeline.audited(ctx, ticket, "ticket.assigned", before=before, after=after)
    ctx.session.flush()
    return ticket


def survey_scheduled_for(ctx: RequestContext, ticket_id: uuid.UUID) -> datetime | None:
    """When the ticket's CSAT survey waiting for its delayed mail (``delay_minutes``) is due to
    be sent, for staff (a requester sees nothing before the mail); None when no survey is
    pending: none made, already queued or sent, answered, replaced, cancelled, or the
    ticket no longer resolved or closed (the sender will cancel it). Read here, not through
    ``servicedesk.csat`` (which imports tickets): the table is csat's (docs/csat.md)."""
    if not ctx.is_staff:
        return None
    due: datetime | None = ctx.session.execute(
        text(
            "SELECT s.send_after FROM csat_surveys s JOIN tickets t"
            " ON t.tenant_id = s.tenant_id AND t.id = s.ticket_id"
            " WHERE s.tenant_id = :tn AND s.ticket_id = :t AND s.send_after IS NOT NULL"
            " AND s.superseded_at IS NULL AND s.cancelled_at IS NULL AND s.sent_at IS NULL"
            " AND s.answered_at IS NULL AND t.status IN ('resolved', 'closed')"
            " ORDER BY s.send_after DESC LIMIT 1"
        ),
        {"tn": ctx.tenant_id, "t": ticket_id},
    ).scalar_one_or_none()
    return due


# The reference checks, also for the actions executor (servicedesk.actions).
check_assignee = _check_assignee
check_team = _check_team
active_member_role = _active_member_role
