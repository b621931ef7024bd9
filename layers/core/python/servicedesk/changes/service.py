"""Change requests: creating (from a template for standard changes), editing while in draft
or assessment (plans, window, affected CIs, risk answers), moving through the states (the
approval opened on the approvals engine, blackout windows refused for all but emergency
changes), the post-implementation review, ticket links, and the read model with its CIs,
tickets, collisions and approvals. No HTTP here, never a commit.

Who: staff with ``change:read`` see every change of the tenant (requesters hold no change
permission); writes need ``change:create`` / ``change:manage``.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, Select, bindparam, func, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.types import Text

from servicedesk.approvals import service as approvals
from servicedesk.approvals.flows import active as active_flow
from servicedesk.approvals.models import ApprovalFlow
from servicedesk.changes import config, risk, states
from servicedesk.changes.collisions import collisions
from servicedesk.changes.models import Change, ChangeCI, ChangeTicket
from servicedesk.changes.schemas import ChangeCreate, ChangeUpdate
from servicedesk.platform import audit, outbox
from servicedesk.platform.errors import Conflict, NotFound, ValidationProblem, field_error
from servicedesk.platform.pagination import TIMESTAMP, UUID, Key, Keyset, paginate
from servicedesk.platform.tenancy import RequestContext
from servicedesk.platform.versioning import check_version, expected_version
from servicedesk.tickets import service as tickets

NEWEST = Keyset([Key(Change.created_at, TIMESTAMP), Key(Change.id, UUID)], descending=True)
S = states.State
MAX_CALENDAR_DAYS = 92
MAX_CALENDAR_ROWS = 500
MAX_WORDS = 8
# The newest text matches the search returns (migration 0056): bounded like the tickets'.
SEARCH_WINDOW = 2000
MIN_WORD = 3
NUMBER = re.compile(r"(?:chg-?)?(\d{1,9})", re.IGNORECASE)
WORD = re.compile(r"\w+")


# -- events ------------------------------------------------------------------------------


def emit(ctx: RequestContext, kind: str, change: Change, **extra: Any) -> None:
    outbox.emit(
        ctx.session,
        tenant_id=ctx.tenant_id,
        event_type=f"change.{kind}",
        aggregate_type="change",
        aggregate_id=change.id,
        payload={
            "change_id": change.id,
            "number": change.number,
            "title": change.title,
            "type": change.type,
            "state": change.state,
            "risk_level": change.risk_level,
            "planned_start": change.planned_start,
            "planned_end": change.planned_end,
            **extra,
        },
    )


# -- reading -----------------------------------------------------------------------------


def find(ctx: RequestContext, change_id: uuid.UUID, *, lock: bool = False) -> Change:
    query = select(Change).where(Change.tenant_id == ctx.tenant_id, Change.id == change_id)
    if lock:
        query = query.with_for_update()
    found = ctx.session.scalars(query).one_or_none()
    if found is None:
        raise NotFound("no such change")
    return found


def list_changes(
    ctx: RequestContext,
    *,
    state: str | None,
    type: str | None,
    risk_level: str | None,
    ticket_id: uuid.UUID | None,
    ci_id: uuid.UUID | None,
    limit: int,
    cursor: str | None,
    q: str | None = None,
) -> tuple[list[Change], str | None]:
    query: Select[Any] = select(Change).where(Change.tenant_id == ctx.tenant_id)
    if q is not None and q.strip():
        query = query.where(Change.id.in_(_matching(q)))
    if state is not None:
        query = query.where(Change.state == state)
    if type is not None:
        query = query.where(Change.type == type)
    if risk_level is not None:
        query = query.where(Change.risk_level == risk_level)
    if ticket_id is not None:
        query = query.where(
            Change.id.in_(select(ChangeTicket.change_id).where(ChangeTicket.ticket_id == ticket_id))
        )
    if ci_id is not None:
        query = query.where(
            Change.id.in_(select(ChangeCI.change_id).where(ChangeCI.ci_id == ci_id))
        )
    return paginate(ctx.session, query, NEWEST, limit=limit, cursor=cursor)


def _search_terms(q: str) -> tuple[list[str], int | None]:
    """``LIKE`` patterns for the words of ``q`` (at least 3 characters: a shorter one has no
    trigram to find it by; at most 8, longest first, the index condition) and the number
    ``q`` names (``CHG-12``, ``chg12`` or ``12``). Nothing to search by is 422 naming ``q``."""
    text_ = q.strip()
    number = NUMBER.fullmatch(text_)
    words = sorted(
        {w.lower() for w in WORD.findall(text_) if len(w) >= MIN_WORD}, key=lambda w: (-len(w), w)
    )
    if number is not None and text_[:1].isalpha():
        words = []
    if not words and number is None:
        raise ValidationProblem(
            errors=[field_error("q", f"a change number or words of {MIN_WORD} characters or more")]
        )
    patterns = ["%" + w.replace("_", "\\_") + "%" for w in words]
    return patterns[:MAX_WORDS], int(number.group(1)) if number else None


def _matching(q: str) -> Any:
    """The ids of the changes ``q`` finds, from ``change_search_candidates`` (migration 0056:
    the trigram index, which RLS keeps from the app role's own ``LIKE``)."""
    words, number = _search_terms(q)
    candidates = func.change_search_candidates(
        bindparam("q_words", words, type_=ARRAY(Text)),
        bindparam("q_number", number, type_=Integer),
        bindparam("q_window", SEARCH_WINDOW, type_=Integer),
    ).table_valued("change_id")
    return select(candidates.c.change_id)


_CIS = text(
    """
    SELECT ci.id, ci.name, cl.key AS class_key FROM change_cis cc
    JOIN cis ci ON ci.tenant_id = cc.tenant_id AND ci.id = cc.ci_id
    JOIN ci_classes cl ON cl.tenant_id = ci.tenant_id AND cl.id = ci.class_id
    WHERE cc.tenant_id = :t AND cc.change_id = :c ORDER BY lower(ci.name), ci.id
    """
)
_TICKETS = text(
    """
    SELECT t.id, t.number, t.title, t.status, t.type FROM change_tickets ct
    JOIN tickets t ON t.tenant_id = ct.tenant_id AND t.id = ct.ticket_id
    WHERE ct.tenant_id = :t AND ct.change_id = :c ORDER BY ct.created_at, t.id
    """
)


def ci_ids_of(session: Session, change_id: uuid.UUID) -> list[uuid.UUID]:
    return list(session.scalars(select(ChangeCI.ci_id).where(ChangeCI.change_id == change_id)))


def view(ctx: RequestContext, change: Change) -> dict[str, Any]:
    """The change with its CIs, tickets, collisions, blackout overlaps, approvals and the
    states a person may move it to."""
    args = {"t": ctx.tenant_id, "c": change.id}
    ci_ids = ci_ids_of(ctx.session, change.id)
    found = {c.key: getattr(change, c.key) for c in Change.__table__.columns}
    start, end = change.planned_start, change.planned_end
    live = states.State(change.state) not in states.FINISHED
    return {
        **found,
        "cis": [dict(r) for r in ctx.session.execute(_CIS, args).mappings()],
        "tickets": [dict(r) for r in ctx.session.execute(_TICKETS, args).mappings()],
        "collisions": collisions(ctx.session, ctx.tenant_id, change.id, ci_ids, start, end)
        if live
        else [],
        "blackouts": config.blackouts_over(ctx, start, end) if live and start and end else [],
        "approvals": approvals.for_subject(ctx, "change", change.id),
        "allowed_states": sorted(
            states.allowed(states.Type(change.type), states.State(change.state))
        ),
    }


def get_change(ctx: RequestContext, *, change_id: uuid.UUID) -> dict[str, Any]:
    return view(ctx, find(ctx, change_id))


def calendar(ctx: RequestContext, *, start: datetime, end: datetime) -> dict[str, Any]:
    """Changes whose planned window overlaps ``[start, end)`` (at most 92 days) and the
    blackout windows over it."""
    if end <= start:
        raise ValidationProblem(errors=[field_error("to", "must be after from")])
    if (end - start).days > MAX_CALENDAR_DAYS:
        raise ValidationProblem(errors=[field_error("to", f"at most {MAX_CALENDAR_DAYS} days")])
    rows = ctx.session.scalars(
        select(Change)
        .where(
            Change.tenant_id == ctx.tenant_id,
            Change.planned_start < end,
            Change.planned_end > start,
            Change.state != S.CANCELLED.value,
        )
        .order_by(Change.planned_start, Change.number)
        .limit(MAX_CALENDAR_ROWS)
    ).all()
    blackouts = config.blackouts_over(ctx, start, end, limit=MAX_CALENDAR_ROWS)
    return {"changes": list(rows), "blackouts": blackouts}


# -- writing -----------------------------------------------------------------------------


def _next_number(ctx: RequestContext) -> int:
    ctx.session.execute(
        text("SELECT pg_advisory_xact_lock(hashtext('changes:' || :t))"), {"t": str(ctx.tenant_id)}
    )
    last = ctx.session.scalar(
        select(func.max(Change.number)).where(Change.tenant_id == ctx.tenant_id)
    )
    return int(last or 0) + 1


def _check_cis(ctx: RequestContext, ci_ids: list[uuid.UUID]) -> list[uuid.UUID]:
    wanted = list(dict.fromkeys(ci_ids))
    if not wanted:
        return []
    found = set(
        ctx.session.execute(
            text("SELECT id FROM cis WHERE tenant_id = :t AND id = ANY(CAST(:ids AS uuid[]))"),
            {"t": ctx.tenant_id, "ids": [str(i) for i in wanted]},
        ).scalars()
    )
    missing = [i for i, ci in enumerate(wanted) if ci not in found]
    if missing:
        raise ValidationProblem(
            errors=[field_error(f"ci_ids.{i}", "no such configuration item") for i in missing]
        )
    return wanted


def _set_cis(ctx: RequestContext, change: Change, ci_ids: list[uuid.UUID]) -> None:
    ctx.session.execute(
        text("DELETE FROM change_cis WHERE tenant_id = :t AND change_id = :c"),
        {"t": ctx.tenant_id, "c": change.id},
    )
    ctx.session.add_all(
        ChangeCI(tenant_id=ctx.tenant_id, change_id=change.id, ci_id=ci) for ci in ci_ids
    )
    ctx.session.flush()


def create_change(ctx: RequestContext, *, data: ChangeCreate) -> dict[str, Any]:
    fields = data.model_dump(exclude={"ci_ids", "ticket_ids"})
    if data.template_id is not None:
        template = config.usable_template(ctx, data.template_id)
        for plan in ("implementation_plan", "backout_plan", "test_plan"):
            fields[plan] = fields[plan] or getattr(template, plan)
        fields["description"] = fields["description"] or template.description
    ci_ids = _check_cis(ctx, data.ci_ids)
    ticket_ids = list(dict.fromkeys(data.ticket_ids))
    for i, ticket_id in enumerate(ticket_ids):
        try:
            tickets.get_visible(ctx, ticket_id)
        except NotFound:
            raise ValidationProblem(
                errors=[field_error(f"ticket_ids.{i}", "no such ticket")]
            ) from None
    change = Change(
        id=uuid.uuid4(),
        tenant_id=ctx.tenant_id,
        number=_next_number(ctx),
        requested_by=ctx.user_id,
        state=S.DRAFT.value,
        **fields,
    )
    ctx.session.add(change)
    ctx.session.flush()
    _set_cis(ctx, change, ci_ids)
    ctx.session.add_all(
        ChangeTicket(tenant_id=ctx.tenant_id, change_id=change.id, ticket_id=t) for t in ticket_ids
    )
    ctx.session.flush()
    ctx.session.refresh(change)
    audit.record(
        ctx,
        action="change.created",
        entity_type="change",
        entity_id=change.id,
        data={"after": data.model_dump(mode="json")},
    )
    emit(ctx, "created", change, ci_ids=ci_ids, ticket_ids=ticket_ids)
    return view(ctx, change)


def _locked(
    ctx: RequestContext, change_id: uuid.UUID, body_version: int | None, if_match: int | None
) -> Change:
    """The change, locked, at the version the client read (428 without one, 412 stale)."""
    expected = expected_version(body_version, if_match)
    change = find(ctx, change_id, lock=True)
    check_version(change.version, expected, what="change")
    return change


def _saved(
    ctx: RequestContext, change: Change, action: str, data: dict[str, Any], event: str, **extra: Any
) -> None:
    """The change written as its next version, audited (``action``) and announced
    (``change.<event>``)."""
    change.version += 1
    change.updated_at = func.now()
    ctx.session.flush()
    ctx.session.refresh(change)
    audit.record(ctx, action=action, entity_type="change", entity_id=change.id, data=data)
    emit(ctx, event, change, **extra)


def update_change(
    ctx: RequestContext, *, change_id: uuid.UUID, data: ChangeUpdate, if_match: int | None
) -> dict[str, Any]:
    """Edits in draft or assessment only (409 naming ``state``); risk answers are scored
    against the tenant's questionnaire (422 naming ``risk_answers.<key>``)."""
    change = _locked(ctx, change_id, data.version, if_match)
    sent = data.model_dump(exclude_unset=True, exclude={"version"})
    if not sent:
        return view(ctx, change)
    if states.State(change.state) not in states.EDITABLE:
        raise Conflict(
            "a change is edited in draft or assessment only",
            errors=[field_error("state", f"is {change.state}")],
        )
    start = sent.get("planned_start", change.planned_start)
    end = sent.get("planned_end", change.planned_end)
    if start is not None and end is not None and end <= start:
        raise ValidationProblem(errors=[field_error("planned_end", "must be after planned_start")])
    changed = sorted(sent)
    if "ci_ids" in sent:
        _set_cis(ctx, change, _check_cis(ctx, sent.pop("ci_ids")))
    if "risk_answers" in sent:
        settings = config.settings_of(ctx)
        score = risk.score(settings.questions, sent["risk_answers"])
        sent["risk_score"] = score
        sent["risk_level"] = risk.level(score, settings.medium_from, settings.high_from)
    for key, value in sent.items():
        setattr(change, key, value)
    _saved(ctx, change, "change.updated", {"changed": changed}, "updated", changed=changed)
    return view(ctx, change)


def _check_window(ctx: RequestContext, change: Change) -> None:
    """A change to be approved or scheduled has a planned window; outside every blackout
    window unless it is an emergency (422 naming ``planned_start``)."""
    if change.planned_start is None or change.planned_end is None:
        raise ValidationProblem(
            errors=[field_error("planned_start", "plan the start and end first")]
        )
    if change.type == states.Type.EMERGENCY.value:
        return
    found = config.blackouts_over(ctx, change.planned_start, change.planned_end, limit=1)
    if found:
        raise ValidationProblem(
            errors=[
                field_error(
                    "planned_start",
                    f"the window overlaps the blackout {found[0].name!r}; only an emergency"
                    " change may be scheduled in it",
                )
            ]
        )


def _flow_for(ctx: RequestContext, change: Change) -> ApprovalFlow:
    """The CAB flow (normal changes) or the emergency flow, else the CAB flow's first stage
    alone (expedited). No flow configured: 409 naming the setting."""
    settings = config.settings_of(ctx)
    cab = active_flow(ctx, settings.cab_flow_id) if settings.cab_flow_id else None
    if change.type == states.Type.EMERGENCY.value:
        emergency = (
            active_flow(ctx, settings.emergency_flow_id) if settings.emergency_flow_id else None
        )
        if emergency is not None:
            return emergency
        if cab is not None:
            expedited = ApprovalFlow(
                id=cab.id,
                stages=cab.stages[:1],
                escalation_role=cab.escalation_role,
                escalation_user_id=cab.escalation_user_id,
            )
            return expedited
        field = "emergency_flow_id"
    else:
        if cab is not None:
            return cab
        field = "cab_flow_id"
    raise Conflict(
        "no approval flow is configured for this type of change (change settings)",
        errors=[field_error(field, "not configured")],
    )


def move(ctx: RequestContext, change: Change, target: states.State, reason: str) -> None:
    before = change.state
    change.state = target.value
    if reason:
        change.reason = reason
    data = {"from": before, "to": target.value, "reason": reason}
    _saved(
        ctx,
        change,
        "change.state_changed",
        data,
        "state_changed",
        previous_state=before,
        reason=reason,
    )


def transition(
    ctx: RequestContext,
    *,
    change_id: uuid.UUID,
    state: str,
    reason: str,
    version: int | None,
    if_match: int | None,
) -> dict[str, Any]:
    """A person's move (``states.allowed``; else 409 naming ``state``). Into approval: the
    risk assessed (normal and emergency), the window planned and clear of blackouts, an
    approval request opened on the tenant's flow. Standard changes are scheduled directly.
    Cancelling a change in approval cancels its approval. Closing needs the review."""
    change = _locked(ctx, change_id, version, if_match)
    target = states.State(state)
    current = states.State(change.state)
    kind = states.Type(change.type)
    if not states.can_move(kind, current, target):
        raise Conflict(
            f"a {kind.value} change in {current.value} cannot move to {target.value}",
            errors=[field_error("state", f"not allowed from {current.value}")],
        )
    if target in (S.CANCELLED, S.FAILED) and not reason:
        raise ValidationProblem(errors=[field_error("reason", "say why")])
    if target is S.CLOSED and change.review_outcome is None:
        raise ValidationProblem(
            errors=[field_error("review_outcome", "record the post-implementation review first")]
        )
    if target in states.SCHEDULING:
        _check_window(ctx, change)
    if target is S.APPROVAL:
        if change.risk_level is None:
            raise ValidationProblem(errors=[field_error("risk_answers", "assess the risk first")])
        flow = _flow_for(ctx, change)
        move(ctx, change, target, reason)
        approvals.start(
            ctx,
            subject_type="change",
            subject_id=change.id,
            flow=flow,
            requested_by=change.requested_by,
            title=f"CHG-{change.number}: {change.title}",
        )
        return view(ctx, change)
    if current is S.APPROVAL and target is S.CANCELLED:
        approvals.cancel_for_subject(ctx, "change", change.id)
    move(ctx, change, target, reason)
    return view(ctx, change)


def set_review(
    ctx: RequestContext,
    *,
    change_id: uuid.UUID,
    outcome: str,
    notes: str,
    version: int | None,
    if_match: int | None,
) -> dict[str, Any]:
    """The post-implementation review, in review only (409 naming ``state``)."""
    change = _locked(ctx, change_id, version, if_match)
    if change.state != S.REVIEW.value:
        raise Conflict(
            "the review is recorded while the change is in review",
            errors=[field_error("state", f"is {change.state}")],
        )
    change.review_outcome = outcome
    change.review_notes = notes
    changed = ["review_notes", "review_outcome"]
    _saved(ctx, change, "change.reviewed", {"outcome": outcome}, "updated", changed=changed)
    return view(ctx, change)


def link_ticket(
    ctx: RequestContext, *, change_id: uuid.UUID, ticket_id: uuid.UUID
) -> dict[str, Any]:
    """Link an incident or problem the caller may see (404 otherwise); linking twice is a
    no-op."""
    change = find(ctx, change_id, lock=True)
    ticket = tickets.get_visible(ctx, ticket_id)
    inserted = ctx.session.execute(
        text(
            "INSERT INTO change_tickets (tenant_id, change_id, ticket_id) VALUES (:t, :c, :k)"
            " ON CONFLICT DO NOTHING RETURNING ticket_id"
        ),
        {"t": ctx.tenant_id, "c": change.id, "k": ticket.id},
    ).first()
    if inserted is not None:
        audit.record(
            ctx,
            action="change.ticket_linked",
            entity_type="change",
            entity_id=change.id,
            data={"ticket_id": str(ticket.id)},
        )
        emit(ctx, "updated", change, changed=["tickets"], ticket_id=ticket.id)
    return view(ctx, change)


def unlink_ticket(ctx: RequestContext, *, change_id: uuid.UUID, ticket_id: uuid.UUID) -> None:
    change = find(ctx, change_id, lock=True)
    removed = ctx.session.execute(
        text(
            "DELETE FROM change_tickets WHERE tenant_id = :t AND change_id = :c"
            " AND ticket_id = :k RETURNING ticket_id"
        ),
        {"t": ctx.tenant_id, "c": change.id, "k": ticket_id},
    ).first()
    if removed is None:
        raise NotFound("the ticket is not linked to this change")
    audit.record(
        ctx,
        action="change.ticket_unlinked",
        entity_type="change",
        entity_id=change.id,
        data={"ticket_id": str(ticket_id)},
    )
    emit(ctx, "updated", change, changed=["tickets"], ticket_id=ticket_id)
