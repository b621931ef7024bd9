"""Approval requests: starting one on a subject, the approvers of a stage, deciding (under
the request's row lock, so two approvers at once give one outcome), and what the caller may
see. No HTTP here, never a commit.

Visibility (one predicate for the inbox and every read, invariant 3): managers and admins
see every request of the tenant; anyone else the requests they asked for, those where they
are (or were) an approver of a started stage, and those where an approver of a started
stage has delegated to them now. Anything else is 404; visible but not an approver of the
current stage is 403.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, any_, exists, func, literal, or_, select, text, update
from sqlalchemy.orm import Session

from servicedesk.approvals import subjects
from servicedesk.approvals.links import DecisionLink, read_token
from servicedesk.approvals.models import (
    ApprovalDecision,
    ApprovalDelegation,
    ApprovalFlow,
    ApprovalRequest,
    ApprovalStage,
)
from servicedesk.approvals.rules import Decision, Outcome, Rule, after_stage, stage_outcome
from servicedesk.platform import audit, db, outbox
from servicedesk.platform.config import get_settings
from servicedesk.platform.constraints import unique_or_conflict
from servicedesk.platform.errors import (
    Conflict,
    Forbidden,
    Gone,
    NotFound,
    ValidationProblem,
    field_error,
)
from servicedesk.platform.mail_links import mail_key
from servicedesk.platform.pagination import TIMESTAMP, UUID, Key, Keyset, paginate
from servicedesk.platform.permissions import Permission
from servicedesk.platform.roles import Role
from servicedesk.platform.tenancy import RequestContext, member_access
from servicedesk.platform.versioning import check_version

NEWEST = Keyset(
    [Key(ApprovalRequest.created_at, TIMESTAMP), Key(ApprovalRequest.id, UUID)], descending=True
)
SEAT_INDEX = "uq_approval_decisions_seat"
PENDING_INDEX = "uq_approval_requests_pending"


def _now() -> datetime:
    return datetime.now(UTC)


# -- approvers ---------------------------------------------------------------------------

RESOLVE = text(
    """
    SELECT m.user_id FROM memberships m
    WHERE m.tenant_id = :t AND m.active AND m.user_id <> :requester AND (
        m.user_id = ANY(CAST(:users AS uuid[]))
        OR m.role = :role
        OR EXISTS (SELECT 1 FROM team_members tm JOIN teams tt
                     ON tt.tenant_id = tm.tenant_id AND tt.id = tm.team_id AND tt.active
                   WHERE tm.tenant_id = :t AND tm.team_id = :team AND tm.user_id = m.user_id
                     AND tm.active)
        OR (:manager AND m.user_id = (SELECT r.manager_id FROM memberships r
                                      WHERE r.tenant_id = :t AND r.user_id = :requester))
    )
    ORDER BY m.user_id
    """
)


def resolve(
    session: Session, tenant_id: uuid.UUID, spec: dict[str, Any], requester: uuid.UUID
) -> list[uuid.UUID]:
    """The active members ``spec`` names, never the requester (no one approves their own)."""
    rows = session.execute(
        RESOLVE,
        {
            "t": tenant_id,
            "requester": requester,
            "users": [str(u) for u in spec.get("users") or []],
            "role": spec.get("role"),
            "team": spec.get("team_id"),
            "manager": bool(spec.get("requester_manager")),
        },
    ).scalars()
    return [uuid.UUID(str(r)) for r in rows]


def fallback(session: Session, tenant_id: uuid.UUID, request: ApprovalRequest) -> list[uuid.UUID]:
    """Who a stage escalates to (and who approves a stage that resolved to nobody): the
    escalation user, else the escalation role's members, else the tenant's admins."""
    for spec in (
        {"users": [request.escalation_user_id]} if request.escalation_user_id else None,
        {"role": request.escalation_role} if request.escalation_role else None,
        {"role": Role.ADMIN.value},
    ):
        if spec:
            found = resolve(session, tenant_id, spec, request.requested_by)
            if found:
                return found
    return []


# -- events ------------------------------------------------------------------------------


def emit(
    session: Session,
    tenant_id: uuid.UUID,
    kind: str,
    request: ApprovalRequest,
    **extra: Any,
) -> None:
    outbox.emit(
        session,
        tenant_id=tenant_id,
        event_type=f"approval.{kind}",
        aggregate_type="approval",
        aggregate_id=request.id,
        payload={
            "approval_id": request.id,
            "subject_type": request.subject_type,
            "subject_id": request.subject_id,
            "title": request.title,
            "state": request.state,
            "requested_by": request.requested_by,
            **extra,
        },
    )


def start_stage(
    session: Session,
    tenant_id: uuid.UUID,
    request: ApprovalRequest,
    stage: ApprovalStage,
    now: datetime,
) -> None:
    """The stage becomes the current one: its approvers resolved now, its due time set,
    the approvers told (``approval.requested``)."""
    approvers = resolve(session, tenant_id, stage.approvers, request.requested_by)
    if not approvers:
        approvers = fallback(session, tenant_id, request)
    stage.approver_ids = approvers
    stage.state = "pending"
    stage.started_at = now
    stage.due_at = now + timedelta(hours=stage.due_hours) if stage.due_hours else None
    request.current_stage = stage.position
    session.flush()
    emit(
        session,
        tenant_id,
        "requested",
        request,
        stage_id=stage.id,
        stage=stage.name,
        approver_ids=approvers,
        user_ids=approvers,  # who the notifications domain tells (its "named" audience)
        due_at=stage.due_at,
    )


def start(
    ctx: RequestContext,
    *,
    subject_type: str,
    subject_id: uuid.UUID,
    flow: ApprovalFlow,
    requested_by: uuid.UUID,
    title: str,
) -> ApprovalRequest:
    """A new pending request on the subject, its stages copied from ``flow``, the first
    one started. A subject has at most one pending request (409 naming ``subject_id``)."""
    now = _now()
    request = ApprovalRequest(
        id=uuid.uuid4(),
        tenant_id=ctx.tenant_id,
        flow_id=flow.id,
        subject_type=subject_type,
        subject_id=subject_id,
        title=title[:300],
        state="pending",
        requested_by=requested_by,
        escalation_role=flow.escalation_role,
        escalation_user_id=flow.escalation_user_id,
    )
    with unique_or_conflict(
        ctx.session,
        {PENDING_INDEX: ("subject_id", "already waits for an approval")},
        title="this subject already has a pending approval",
    ):
        ctx.session.add(request)
    stages = [
        ApprovalStage(
            tenant_id=ctx.tenant_id,
            request_id=request.id,
            position=i,
            name=spec["name"],
            rule=spec.get("rule", "any"),
            quorum=spec.get("quorum"),
            approvers=spec["approvers"],
            due_hours=spec.get("due_hours"),
        )
        for i, spec in enumerate(flow.stages)
    ]
    ctx.session.add_all(stages)
    ctx.session.flush()
    start_stage(ctx.session, ctx.tenant_id, request, stages[0], now)
    audit.record(
        ctx,
        action="approval.requested",
        entity_type="approval",
        entity_id=request.id,
        data={"subject_type": subject_type, "subject_id": str(subject_id), "flow_id": str(flow.id)},
    )
    return request


# -- visibility --------------------------------------------------------------------------


def _delegated_to(user_id: uuid.UUID, at: Any) -> Any:
    """Delegations to ``user_id`` in force at ``at``."""
    return and_(
        ApprovalDelegation.delegate_id == user_id,
        ApprovalDelegation.starts_at <= at,
        ApprovalDelegation.ends_at > at,
    )


def _among(user: Any) -> ColumnElement[bool]:
    """``user`` is one of the stage's approvers."""
    found: ColumnElement[bool] = user == any_(ApprovalStage.approver_ids)
    return found


def visible(ctx: RequestContext) -> ColumnElement[bool]:
    own = ApprovalRequest.tenant_id == ctx.tenant_id
    if ctx.can(Permission.APPROVAL_READ_ALL):
        return own
    seat = exists().where(
        ApprovalStage.tenant_id == ctx.tenant_id,
        ApprovalStage.request_id == ApprovalRequest.id,
        _among(literal(ctx.user_id)),
    )
    decided = exists().where(
        ApprovalDecision.tenant_id == ctx.tenant_id,
        ApprovalDecision.request_id == ApprovalRequest.id,
        ApprovalDecision.approver_id == ctx.user_id,
    )
    delegated = exists().where(
        ApprovalStage.tenant_id == ctx.tenant_id,
        ApprovalStage.request_id == ApprovalRequest.id,
        ApprovalDelegation.tenant_id == ctx.tenant_id,
        _delegated_to(ctx.user_id, func.now()),
        _among(ApprovalDelegation.user_id),
    )
    return and_(own, or_(ApprovalRequest.requested_by == ctx.user_id, seat, decided, delegated))


def awaiting(ctx: RequestContext) -> ColumnElement[bool]:
    """Pending requests whose current stage has a seat the caller may decide now: their
    own or a delegator's, not decided yet."""
    current = and_(
        ApprovalStage.tenant_id == ctx.tenant_id,
        ApprovalStage.request_id == ApprovalRequest.id,
        ApprovalStage.position == ApprovalRequest.current_stage,
        ApprovalStage.state == "pending",
    )

    def undecided(seat: Any) -> ColumnElement[bool]:
        decided = (
            select(ApprovalDecision.id)
            .where(
                ApprovalDecision.stage_id == ApprovalStage.id,
                func.coalesce(ApprovalDecision.on_behalf_of, ApprovalDecision.approver_id) == seat,
            )
            .correlate_except(ApprovalDecision)
        )
        return ~decided.exists()

    mine = and_(_among(literal(ctx.user_id)), undecided(literal(ctx.user_id)))
    theirs = exists().where(
        ApprovalDelegation.tenant_id == ctx.tenant_id,
        _delegated_to(ctx.user_id, func.now()),
        _among(ApprovalDelegation.user_id),
        undecided(ApprovalDelegation.user_id),
    )
    return and_(ApprovalRequest.state == "pending", exists().where(current, or_(mine, theirs)))


def list_approvals(
    ctx: RequestContext,
    *,
    scope: str | None,
    state: str | None,
    subject_type: str | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[dict[str, Any]], str | None]:
    """``scope`` ``awaiting`` (default: what waits for the caller's decision),
    ``requested`` (asked for by the caller), ``decided`` (the caller decided on), ``all``
    (everything the caller may see)."""
    query = select(ApprovalRequest).where(visible(ctx))
    chosen = scope or "awaiting"
    if chosen == "awaiting":
        query = query.where(awaiting(ctx))
    elif chosen == "requested":
        query = query.where(ApprovalRequest.requested_by == ctx.user_id)
    elif chosen == "decided":
        query = query.where(
            exists().where(
                ApprovalDecision.tenant_id == ctx.tenant_id,
                ApprovalDecision.request_id == ApprovalRequest.id,
                ApprovalDecision.approver_id == ctx.user_id,
            )
        )
    if state is not None:
        query = query.where(ApprovalRequest.state == state)
    if subject_type is not None:
        query = query.where(ApprovalRequest.subject_type == subject_type)
    rows, nxt = paginate(ctx.session, query, NEWEST, limit=limit, cursor=cursor)
    return views(ctx, rows), nxt


def find(ctx: RequestContext, approval_id: uuid.UUID, *, lock: bool = False) -> ApprovalRequest:
    query = select(ApprovalRequest).where(visible(ctx), ApprovalRequest.id == approval_id)
    if lock:
        query = query.with_for_update(of=ApprovalRequest)
    found = ctx.session.scalars(query).one_or_none()
    if found is None:
        raise NotFound("no such approval")
    return found


def get_approval(ctx: RequestContext, *, approval_id: uuid.UUID) -> dict[str, Any]:
    return views(ctx, [find(ctx, approval_id)])[0]


def for_subject(
    ctx: RequestContext, subject_type: str, subject_id: uuid.UUID
) -> list[dict[str, Any]]:
    """Every request on a subject the caller may already see (newest first)."""
    rows = ctx.session.scalars(
        select(ApprovalRequest)
        .where(
            ApprovalRequest.tenant_id == ctx.tenant_id,
            ApprovalRequest.subject_type == subject_type,
            ApprovalRequest.subject_id == subject_id,
        )
        .order_by(*NEWEST.order_by())
    ).all()
    return views(ctx, list(rows))


# -- reading -----------------------------------------------------------------------------


def _stages(session: Session, request_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[ApprovalStage]]:
    found: dict[uuid.UUID, list[ApprovalStage]] = {i: [] for i in request_ids}
    for stage in session.scalars(
        select(ApprovalStage)
        .where(ApprovalStage.request_id.in_(request_ids))
        .order_by(ApprovalStage.request_id, ApprovalStage.position)
    ):
        found[stage.request_id].append(stage)
    return found


def _decisions(
    session: Session, request_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[ApprovalDecision]]:
    found: dict[uuid.UUID, list[ApprovalDecision]] = {}
    for decision in session.scalars(
        select(ApprovalDecision)
        .where(ApprovalDecision.request_id.in_(request_ids))
        .order_by(ApprovalDecision.created_at, ApprovalDecision.id)
    ):
        found.setdefault(decision.stage_id, []).append(decision)
    return found


def delegators(
    session: Session, tenant_id: uuid.UUID, user_id: uuid.UUID, now: datetime
) -> set[uuid.UUID]:
    """Whose decisions ``user_id`` may take now."""
    return {
        uuid.UUID(str(u))
        for u in session.scalars(
            select(ApprovalDelegation.user_id).where(
                ApprovalDelegation.tenant_id == tenant_id, _delegated_to(user_id, now)
            )
        )
    }


def seats(
    stage: ApprovalStage,
    decisions: list[ApprovalDecision],
    user_id: uuid.UUID,
    delegating: set[uuid.UUID],
) -> list[uuid.UUID]:
    """The undecided seats of ``stage`` that ``user_id`` holds: their own first, then their
    delegators' (in id order)."""
    if stage.state != "pending":
        return []
    decided = {d.seat for d in decisions}
    held = [user_id] if user_id in stage.approver_ids else []
    held += sorted(s for s in delegating if s in stage.approver_ids and s != user_id)
    return [s for s in held if s not in decided]


def views(ctx: RequestContext, requests: list[ApprovalRequest]) -> list[dict[str, Any]]:
    """Each request as ``ApprovalPublic`` reads it (three queries for the page, plus one per
    subject type)."""
    if not requests:
        return []
    ids = [r.id for r in requests]
    stages = _stages(ctx.session, ids)
    decisions = _decisions(ctx.session, ids)
    delegating = delegators(ctx.session, ctx.tenant_id, ctx.user_id, _now())
    summaries = subjects.summaries(ctx.session, ctx.tenant_id, requests)
    out = []
    for request in requests:
        mine: list[uuid.UUID] = []
        stage_views = []
        for stage in stages[request.id]:
            made = decisions.get(stage.id, [])
            if stage.position == request.current_stage and request.state == "pending":
                mine = seats(stage, made, ctx.user_id, delegating)
            stage_views.append(
                {
                    **{c: getattr(stage, c) for c in ApprovalStage.__table__.columns.keys()},  # noqa: SIM118
                    "decisions": made,
                }
            )
        out.append(
            {
                **{c: getattr(request, c) for c in ApprovalRequest.__table__.columns.keys()},  # noqa: SIM118
                "stages": stage_views,
                "subject": summaries.get(request.id),
                "my_seats": mine,
            }
        )
    return out


# -- deciding ----------------------------------------------------------------------------


def _current(session: Session, request: ApprovalRequest) -> ApprovalStage:
    return session.scalars(
        select(ApprovalStage)
        .where(
            ApprovalStage.request_id == request.id,
            ApprovalStage.position == request.current_stage,
        )
        .with_for_update()
    ).one()


def _seat(
    ctx: RequestContext,
    stage: ApprovalStage,
    made: list[ApprovalDecision],
    on_behalf_of: uuid.UUID | None,
) -> uuid.UUID:
    """The seat the caller decides, or the refusal: decided already (409), not an
    approver of this stage (403)."""
    delegating = delegators(ctx.session, ctx.tenant_id, ctx.user_id, _now())
    held = seats(stage, made, ctx.user_id, delegating)
    decided = {d.seat for d in made}
    if on_behalf_of is not None:
        if on_behalf_of in held:
            return on_behalf_of
        if on_behalf_of in decided and (on_behalf_of in delegating or on_behalf_of == ctx.user_id):
            raise Conflict(
                "this approver decided already",
                errors=[field_error("on_behalf_of", "decided already")],
            )
        raise Forbidden(
            "you do not decide for this approver",
            errors=[field_error("on_behalf_of", "no delegation from this approver in force")],
        )
    if held:
        return held[0]
    could = {ctx.user_id, *delegating} & set(stage.approver_ids)
    if could & decided:
        raise Conflict("you decided already", errors=[field_error("decision", "decided already")])
    raise Forbidden(
        "you are not an approver of the current stage",
        errors=[field_error("decision", "not an approver of the current stage")],
    )


def decide(
    ctx: RequestContext,
    *,
    approval_id: uuid.UUID,
    decision: str,
    comment: str = "",
    stage_id: uuid.UUID | None = None,
    on_behalf_of: uuid.UUID | None = None,
    version: int | None = None,
    if_match: int | None = None,
    channel: str = "web",
) -> dict[str, Any]:
    """Record the caller's decision on the current stage and apply its outcome. The
    request row is locked first: two approvers at once are serialized, and the second
    reads the first's decision (one outcome)."""
    request = find(ctx, approval_id, lock=True)
    if request.state != "pending":
        raise Conflict(
            f"the approval is {request.state} already",
            errors=[field_error("decision", f"the approval is {request.state}")],
        )
    expected = version if version is not None else if_match
    if expected is not None:
        check_version(request.version, expected, what="approval")
    stage = _current(ctx.session, request)
    if stage_id is not None and stage_id != stage.id:
        raise Conflict(
            "that stage is not the current one",
            errors=[field_error("stage_id", "not the current stage")],
        )
    if decision == Decision.REJECT and not comment.strip():
        raise ValidationProblem(errors=[field_error("comment", "a rejection gives its reason")])
    made = list(
        ctx.session.scalars(select(ApprovalDecision).where(ApprovalDecision.stage_id == stage.id))
    )
    seat = _seat(ctx, stage, made, on_behalf_of)
    row = ApprovalDecision(
        tenant_id=ctx.tenant_id,
        request_id=request.id,
        stage_id=stage.id,
        approver_id=ctx.user_id,
        on_behalf_of=None if seat == ctx.user_id else seat,
        decision=decision,
        comment=comment,
        channel=channel,
    )
    with unique_or_conflict(
        ctx.session,
        {SEAT_INDEX: ("decision", "decided already")},
        title="this approver decided already",
    ):
        ctx.session.add(row)
    made.append(row)
    audit.record(
        ctx,
        action="approval.decided",
        entity_type="approval",
        entity_id=request.id,
        data={
            "stage": stage.position,
            "decision": decision,
            "on_behalf_of": str(row.on_behalf_of) if row.on_behalf_of else None,
            "channel": channel,
        },
    )
    emit(
        ctx.session,
        ctx.tenant_id,
        "decided",
        request,
        stage_id=stage.id,
        stage=stage.name,
        decision=decision,
        approver_id=ctx.user_id,
        on_behalf_of=row.on_behalf_of,
        comment=comment,
    )
    outcome = stage_outcome(
        Rule(stage.rule),
        stage.quorum,
        stage.approver_ids,
        {d.seat: Decision(d.decision) for d in made},
    )
    if outcome is not Outcome.PENDING:
        _advance(ctx, request, stage, outcome, comment)
    ctx.session.flush()
    return views(ctx, [request])[0]


def _advance(
    ctx: RequestContext,
    request: ApprovalRequest,
    stage: ApprovalStage,
    outcome: Outcome,
    comment: str,
) -> None:
    now = _now()
    stage.state = outcome.value
    stage.decided_at = now
    count = ctx.session.scalar(select(func.count()).where(ApprovalStage.request_id == request.id))
    step = after_stage(outcome, stage.position, int(count or 0))
    request.version += 1
    request.updated_at = now
    if step.start is not None:
        following = ctx.session.scalars(
            select(ApprovalStage).where(
                ApprovalStage.request_id == request.id, ApprovalStage.position == step.start
            )
        ).one()
        start_stage(ctx.session, ctx.tenant_id, request, following, now)
        return
    finish(ctx, request, step.state, comment)


def finish(ctx: RequestContext, request: ApprovalRequest, state: str, reason: str) -> None:
    """End the request (approved, rejected, cancelled): waiting stages are cancelled, the
    event written, the subject told."""
    now = _now()
    request.state = state
    request.decided_at = now
    request.updated_at = now
    ctx.session.execute(
        update(ApprovalStage)
        .where(
            ApprovalStage.request_id == request.id,
            ApprovalStage.state.in_(("waiting", "pending")),
        )
        .values(state="cancelled")
    )
    ctx.session.flush()
    audit.record(
        ctx, action=f"approval.{state}", entity_type="approval", entity_id=request.id, data=None
    )
    emit(ctx.session, ctx.tenant_id, state, request, reason=reason)
    if state != "cancelled":
        subjects.decided(ctx, request, state, reason)


def cancel_for_subject(ctx: RequestContext, subject_type: str, subject_id: uuid.UUID) -> None:
    """The subject no longer needs its pending approval (a ticket cancelled meanwhile)."""
    request = ctx.session.scalars(
        select(ApprovalRequest)
        .where(
            ApprovalRequest.tenant_id == ctx.tenant_id,
            ApprovalRequest.subject_type == subject_type,
            ApprovalRequest.subject_id == subject_id,
            ApprovalRequest.state == "pending",
        )
        .with_for_update()
    ).one_or_none()
    if request is not None:
        request.version += 1
        finish(ctx, request, "cancelled", "the subject was cancelled")


# -- e-mailed decision links -------------------------------------------------------------

_INVALID = "this link is not valid"


def _link_context(session: Session, token: str) -> tuple[DecisionLink, RequestContext]:
    """The link's approver, in their tenant transaction: 404 forged or no longer a member,
    410 expired."""
    key = mail_key(get_settings())
    link = read_token(key, token) if key is not None else None
    if link is None:
        raise NotFound(_INVALID)
    if link.expired:
        raise Gone("this link has expired; open the approval in Servicedesk")
    db.set_tenant(session, tenant_id=link.tenant_id, user_id=link.approver_id)
    # The approver's permissions read now (a custom role's, else the built-in role's).
    member = member_access(session, link.tenant_id, link.approver_id)
    if member is None:
        raise NotFound(_INVALID)
    role, granted = member
    return link, RequestContext.of(session, link.tenant_id, link.approver_id, role, granted)


def show_link(session: Session, token: str) -> dict[str, Any]:
    """The confirmation page: what the link would decide (reading records nothing)."""
    link, ctx = _link_context(session, token)
    found = views(ctx, [find(ctx, link.approval_id)])[0]
    stage = next((s for s in found["stages"] if s["id"] == link.stage_id), None)
    if stage is None:
        raise NotFound(_INVALID)
    return {
        "approval_id": link.approval_id,
        "title": found["title"],
        "decision": link.decision,
        "stage": stage["name"],
        "state": found["state"],
        "decided": any(d.seat == link.approver_id for d in stage["decisions"]),
        "expires_at": datetime.fromtimestamp(link.expires_at, UTC),
        "subject": found["subject"],
    }


def decide_by_link(session: Session, token: str, *, comment: str) -> dict[str, Any]:
    """The link's decision, once, as its approver, on its stage only (409 otherwise)."""
    link, ctx = _link_context(session, token)
    decide(
        ctx,
        approval_id=link.approval_id,
        decision=link.decision,
        comment=comment,
        stage_id=link.stage_id,
        channel="email",
    )
    return show_link(session, token)
