"""CSAT rules: the survey a resolution sends, its answer by link or in the portal, and what
staff see of it. No HTTP here and no commit."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from servicedesk.csat import links
from servicedesk.csat import mail as survey_mail
from servicedesk.csat.settings import SECTION, CsatSettings
from servicedesk.notifications import mailer, suppressions, templates
from servicedesk.platform import db, outbox
from servicedesk.platform.config import Settings, get_settings
from servicedesk.platform.consumer import SIDE_EFFECTS_BEGUN, Envelope, claim_each, fail_claims
from servicedesk.platform.errors import (
    Conflict,
    Forbidden,
    Gone,
    NotFound,
    ValidationProblem,
    field_error,
)
from servicedesk.platform.logging import get_logger
from servicedesk.platform.roles import Role
from servicedesk.platform.tenancy import RequestContext

EVENT_TYPE = "csat.survey"  # the mail's event header and its deliveries channel key
# The CSAT sender's event: a delayed survey is due (servicedesk.csat.sender).
DUE_EVENT = "csat.survey_due"
# A survey mailed (servicedesk.reports.consumer counts it).
SENT_EVENT = "csat.sent"
_INVALID = "this survey link is not valid"
# The ratings each scale takes: good is stored as 5 and bad as 1.
RATINGS: dict[str, frozenset[int]] = {
    "1-5": frozenset(range(1, 6)),
    "good-bad": frozenset({1, 5}),
}

_COLUMNS = (
    "s.id, s.tenant_id, s.ticket_id, s.requester_id, s.question, s.sent_at, s.expires_at,"
    " s.answered_at, s.rating, s.comment, s.superseded_at, s.scale, s.send_after,"
    " s.cancelled_at, t.number, t.title"
)
# The survey its requester may see and answer: not replaced by a later resolution, not
# cancelled (reopened before a delayed mail went out), and not still waiting for its mail.
_LIVE = "s.superseded_at IS NULL AND s.cancelled_at IS NULL AND s.send_after IS NULL"


@dataclass(frozen=True)
class Survey:
    id: uuid.UUID
    tenant_id: uuid.UUID
    ticket_id: uuid.UUID
    requester_id: uuid.UUID
    question: str
    sent_at: datetime | None
    expires_at: datetime
    answered_at: datetime | None
    rating: int | None
    comment: str | None
    superseded_at: datetime | None
    scale: str
    send_after: datetime | None
    cancelled_at: datetime | None
    number: str
    title: str

    @property
    def expired(self) -> bool:
        return self.expires_at <= datetime.now(UTC)


def _survey(
    session: Session, where: str, params: dict[str, Any], *, lock: bool = False
) -> Survey | None:
    row = session.execute(
        text(
            f"SELECT {_COLUMNS} FROM csat_surveys s JOIN tickets t"
            f" ON t.tenant_id = s.tenant_id AND t.id = s.ticket_id WHERE {where}"
            + (" FOR UPDATE OF s" if lock else "")
        ),
        params,
    ).one_or_none()
    return Survey(**row._mapping) if row is not None else None


# --- the survey a resolution sends (the e-mail consumer) -------------------------------


def is_resolution(envelope: Envelope) -> bool:
    return (
        envelope.type == "ticket.status_changed" and envelope.payload.get("status_to") == "resolved"
    )


def is_due(envelope: Envelope) -> bool:
    return envelope.type == DUE_EVENT


def send_surveys(session: Session, envelopes: list[Envelope]) -> set[uuid.UUID]:
    """The e-mail consumer's part (in the batch's transaction, one tenant's events): for
    each resolution, the survey row (once per resolution) and, without a delay, its mail
    to the requester; for each ``csat.survey_due`` (the CSAT sender's, once a delayed
    survey is due), that survey's mail. Every mail is claimed in ``deliveries`` first, so
    a redelivery mails nobody twice. The ids of events whose mail failed."""
    resolutions = [e for e in envelopes if is_resolution(e)]
    due = [e for e in envelopes if is_due(e)]
    if not resolutions and not due:
        return set()
    tenant_id = (resolutions or due)[0].tenant_id
    config = SECTION.load(session, tenant_id)
    settings = get_settings()
    key = templates.token_key(settings)
    if key is None:
        get_logger().warning("no mail key: CSAT surveys are not sent")
        return set()
    planned: list[Planned] = []
    if config.enabled:
        delay = timedelta(minutes=config.delay_minutes)
        for envelope in resolutions:
            created = _create(
                session,
                envelope,
                config,
                key,
                send_after=envelope.created_at + delay if delay else None,
            )
            if created is None or delay:
                continue  # a delayed survey is mailed once the CSAT sender finds it due
            found = _outgoing(session, *created, key, settings)
            if found is not None:
                planned.append(found)
    if due:
        planned += _due_mails(session, tenant_id, due, config, key, settings)
    return deliver(session, tenant_id, planned, settings)


_DUE_ROWS = text(
    "SELECT s.id, s.ticket_id, s.requester_id, s.resolution_event_id, s.question, s.scale,"
    " s.created_at, s.sent_at, s.answered_at, s.superseded_at, s.cancelled_at, t.status,"
    " t.resolved_at, t.number, t.title, u.email, u.name, n.name AS tenant,"
    " n.settings AS tenant_settings FROM csat_surveys s"
    " JOIN tickets t ON t.tenant_id = s.tenant_id AND t.id = s.ticket_id"
    " JOIN users u ON u.id = s.requester_id JOIN tenants n ON n.id = s.tenant_id"
    " WHERE s.tenant_id = :tn AND s.id = ANY(:ids) FOR UPDATE OF s"
)


def reopened(row: Any) -> bool:
    """Not resolved any more, or resolved again since the survey was made (that
    resolution's survey replaces it)."""
    return (
        row.status not in ("resolved", "closed")
        or row.resolved_at is None
        or row.resolved_at > row.created_at
    )


def _due_mails(
    session: Session,
    tenant_id: uuid.UUID,
    envelopes: list[Envelope],
    config: CsatSettings,
    key: bytes,
    settings: Settings,
) -> list[Planned]:
    """The mails of due delayed surveys, in a few statements however many: a survey
    answered, replaced, cancelled or sent meanwhile gets none; one whose ticket was
    reopened meanwhile is cancelled. The link is valid ``expires_days`` from now."""
    by_survey = {uuid.UUID(str(e.payload["survey_id"])): e for e in envelopes}
    rows = session.execute(_DUE_ROWS, {"tn": tenant_id, "ids": list(by_survey)}).all()
    live = [
        r
        for r in rows
        if r.sent_at is None
        and r.answered_at is None
        and r.superseded_at is None
        and r.cancelled_at is None
    ]
    cancel = [r.id for r in live if reopened(r)]
    if cancel:
        session.execute(
            text("UPDATE csat_surveys SET cancelled_at = now() WHERE id = ANY(:ids)"),
            {"ids": cancel},
        )
    live = [r for r in live if r.id not in set(cancel)]
    blocked = suppressions.suppressed(session, [r.email for r in live])
    live = [r for r in live if mailer.sendable(r.email) and r.email.lower() not in blocked]
    if not live:
        return []
    expires = int(time.time()) + config.expires_days * 86400
    planned: list[Planned] = []
    hashes: list[bytes] = []
    for r in live:
        survey = Created(
            event_id=r.resolution_event_id,
            tenant_id=tenant_id,
            ticket_id=r.ticket_id,
            survey_id=r.id,
            requester_id=r.requester_id,
            expires=expires,
            question=r.question,
            scale=r.scale,
        )
        token = links.make_token(key, links.SurveyLink(tenant_id, r.requester_id, r.id, expires))
        hashes.append(links.token_hash(token))
        facts = MailFacts(r.number, r.title, r.email, r.name, r.tenant, r.tenant_settings)
        envelope_id = by_survey[r.id].event_id
        planned.append(plan_mail(survey, facts, token, settings, envelope_id=envelope_id))
    session.execute(
        text(
            "UPDATE csat_surveys s SET token_hash = k.h, expires_at = to_timestamp(:x)"
            " FROM unnest(CAST(:ids AS uuid[]), CAST(:hashes AS bytea[])) AS k(id, h)"
            " WHERE s.id = k.id"
        ),
        {"ids": [r.id for r in live], "hashes": hashes, "x": expires},
    )
    return planned


@dataclass(frozen=True)
class Planned:
    """A survey mail to send: its claim key in ``deliveries`` is (the resolving event,
    ``csat:<survey>``), whichever event asks for it, so no survey is mailed twice;
    ``envelope_id`` is the event retried when the send fails."""

    event_id: uuid.UUID
    survey_id: uuid.UUID
    outgoing: mailer.Outgoing
    envelope_id: uuid.UUID


def deliver(
    session: Session, tenant_id: uuid.UUID, planned: list[Planned], settings: Settings
) -> set[uuid.UUID]:
    """Claim each mail in ``deliveries`` (a mail claimed before is not sent again), send it
    and mark its survey sent; the event ids of the mails that failed (their claims are
    marked failed, so a retry claims them again)."""
    claimed = claim_each(
        session, tenant_id, "email", [(p.event_id, f"csat:{p.survey_id}") for p in planned]
    )
    if claimed:
        session.info[SIDE_EFFECTS_BEGUN] = True
    failed: list[tuple[uuid.UUID, str, str]] = []
    retry: set[uuid.UUID] = set()
    sent: list[uuid.UUID] = []
    for plan in planned:
        claim = (plan.event_id, f"csat:{plan.survey_id}")
        if claim not in claimed:
            continue
        try:
            mailer.send(plan.outgoing, settings)
        except Exception as exc:  # noqa: BLE001 - marked failed; the event is retried for it
            failed.append((*claim, type(exc).__name__))
            retry.add(plan.envelope_id)
            get_logger().warning("CSAT survey e-mail failed", exc_info=True)
            continue
        sent.append(plan.survey_id)
    if sent:
        # Marked sent, and a ``csat.sent`` per survey for the reports consumer (the csat
        # report counts surveys by sending time), in one statement.
        events = session.execute(
            text(
                "WITH sent AS (UPDATE csat_surveys SET sent_at = now(), send_after = NULL"
                " WHERE id = ANY(:s) AND sent_at IS NULL RETURNING id, ticket_id)"
                " INSERT INTO outbox (tenant_id, event_type, aggregate_type, aggregate_id,"
                f" payload) SELECT :tn, '{SENT_EVENT}', 'ticket', sent.ticket_id::text,"
                " jsonb_build_object('survey_id', sent.id, 'ticket_id', sent.ticket_id)"
                " FROM sent ORDER BY sent.id RETURNING id"
            ),
            {"s": sent, "tn": tenant_id},
        ).scalars()
        session.info.setdefault("outbox_ids", []).extend(uuid.UUID(str(e)) for e in events)
    fail_claims(session, "email", failed)
    return retry


@dataclass(frozen=True)
class Created:
    """A resolution's survey row, unanswered and live, with what its mail needs."""

    event_id: uuid.UUID
    tenant_id: uuid.UUID
    ticket_id: uuid.UUID
    survey_id: uuid.UUID
    requester_id: uuid.UUID
    expires: int  # the token's expiry, epoch seconds
    question: str
    scale: str


def _create(
    session: Session,
    envelope: Envelope,
    config: CsatSettings,
    key: bytes,
    *,
    send_after: datetime | None,
) -> tuple[Created, MailFacts] | None:
    """The resolution's survey (made now, or found when the event comes again); None when
    the ticket is no longer resolved, or the survey was answered, replaced or cancelled."""
    ticket_id = uuid.UUID(str(envelope.payload["ticket_id"]))
    ticket = session.execute(
        text(
            "SELECT t.status, t.requester_id, t.number, t.title, u.email, u.name,"
            " n.name AS tenant, n.settings AS tenant_settings FROM tickets t"
            " JOIN users u ON u.id = t.requester_id JOIN tenants n ON n.id = t.tenant_id"
            " WHERE t.tenant_id = :tn AND t.id = :t"
        ),
        {"tn": envelope.tenant_id, "t": ticket_id},
    ).one_or_none()
    if ticket is None or ticket.status not in ("resolved", "closed"):
        return None  # reopened (or gone) before the survey went out
    expires = int(time.time()) + config.expires_days * 86400
    survey_id = uuid.uuid4()
    token = links.make_token(
        key, links.SurveyLink(envelope.tenant_id, ticket.requester_id, survey_id, expires)
    )
    # One live survey per ticket: a new resolution's replaces an unanswered earlier one.
    session.execute(
        text(
            "UPDATE csat_surveys SET superseded_at = now(), send_after = NULL"
            " WHERE tenant_id = :tn AND ticket_id = :t"
            " AND superseded_at IS NULL AND resolution_event_id <> :e"
        ),
        {"tn": envelope.tenant_id, "t": ticket_id, "e": envelope.event_id},
    )
    session.execute(
        text(
            "INSERT INTO csat_surveys (id, tenant_id, ticket_id, requester_id, resolution_event_id,"
            " token_hash, question, scale, expires_at, send_after) VALUES (:id, :tn, :t, :r, :e,"
            " :h, :q, :sc, to_timestamp(:x), :due)"
            " ON CONFLICT (tenant_id, ticket_id, resolution_event_id) DO NOTHING"
        ),
        {
            "id": survey_id,
            "tn": envelope.tenant_id,
            "t": ticket_id,
            "r": ticket.requester_id,
            "e": envelope.event_id,
            "h": links.token_hash(token),
            "q": config.question,
            "sc": config.scale,
            "x": expires,
            "due": send_after,
        },
    )
    row = session.execute(
        text(
            "SELECT id, requester_id, extract(epoch FROM expires_at)::bigint AS x, answered_at,"
            " superseded_at, cancelled_at, question, scale FROM csat_surveys"
            " WHERE tenant_id = :tn AND ticket_id = :t AND resolution_event_id = :e"
        ),
        {"tn": envelope.tenant_id, "t": ticket_id, "e": envelope.event_id},
    ).one()
    if row.answered_at is not None or row.superseded_at is not None or row.cancelled_at:
        return None
    survey = Created(
        event_id=envelope.event_id,
        tenant_id=envelope.tenant_id,
        ticket_id=ticket_id,
        survey_id=row.id,
        requester_id=row.requester_id,
        expires=int(row.x),
        question=row.question,
        scale=row.scale,
    )
    facts = MailFacts(
        ticket.number,
        ticket.title,
        ticket.email,
        ticket.name,
        ticket.tenant,
        ticket.tenant_settings,
    )
    return survey, facts


@dataclass(frozen=True)
class MailFacts:
    """What a survey mail says besides its link: the ticket, its requester, the tenant."""

    number: str
    title: str
    email: str
    name: str | None
    tenant: str
    tenant_settings: dict[str, Any] | None


def _outgoing(
    session: Session, survey: Created, facts: MailFacts, key: bytes, settings: Settings
) -> Planned | None:
    """The consumer's survey mail, its link the one the row was made with (the same for a
    redelivered event); None when its requester cannot be mailed."""
    if not mailer.sendable(facts.email) or suppressions.suppressed(session, [facts.email]):
        return None
    token = links.make_token(
        key,
        links.SurveyLink(survey.tenant_id, survey.requester_id, survey.survey_id, survey.expires),
    )
    return plan_mail(survey, facts, token, settings)


def plan_mail(
    survey: Created,
    facts: MailFacts,
    token: str,
    settings: Settings,
    *,
    envelope_id: uuid.UUID | None = None,
) -> Planned:
    """The survey's mail; ``envelope_id``: the event that asked for it (the resolution's
    when None)."""
    envelope_id = envelope_id or survey.event_id
    brand = templates.branding(facts.tenant, facts.tenant_settings)
    rendered = survey_mail.render(
        branding=brand,
        recipient_name=facts.name,
        number=facts.number,
        title=facts.title,
        question=survey.question,
        scale=survey.scale,
        token=token,
        web_origin=settings.web_origin.rstrip("/"),
    )
    outgoing = mailer.Outgoing(
        to=facts.email,
        from_name=brand.display_name,
        rendered=rendered,
        event_type=EVENT_TYPE,
        event_id=survey.event_id,
        tenant_id=survey.tenant_id,
        ticket_id=survey.ticket_id,
    )
    return Planned(survey.event_id, survey.survey_id, outgoing, envelope_id)


# --- answering ---------------------------------------------------------------------------


def _by_token(session: Session, token: str, *, lock: bool = False) -> Survey:
    """The survey a genuine link names, in its requester's tenant transaction; 404 when the
    link is forged or names nothing, 410 when it expired or a later resolution replaced it."""
    key = templates.token_key(get_settings())
    link = links.read_token(key, token) if key is not None else None
    if link is None:
        raise NotFound(_INVALID)
    if link.expires_at <= time.time():
        raise Gone("this survey has expired")
    db.set_tenant(session, tenant_id=link.tenant_id, user_id=link.requester_id)
    survey = _survey(
        session,
        "s.tenant_id = :tn AND s.id = :s AND s.token_hash = :h",
        {"tn": link.tenant_id, "s": link.survey_id, "h": links.token_hash(token)},
        lock=lock,
    )
    if survey is None or survey.send_after is not None:
        raise NotFound(_INVALID)  # a delayed survey's link is made when it is mailed
    if survey.superseded_at is not None or survey.cancelled_at is not None or survey.expired:
        raise Gone("this survey has expired")
    return survey


def show_by_token(session: Session, token: str) -> Survey:
    """What the survey page shows; reading records nothing (mail scanners open links)."""
    return _by_token(session, token)


def answer_by_token(session: Session, token: str, *, rating: int, comment: str | None) -> Survey:
    survey = _by_token(session, token, lock=True)
    role = session.execute(
        text("SELECT role FROM memberships WHERE tenant_id = :t AND user_id = :u AND active"),
        {"t": survey.tenant_id, "u": survey.requester_id},
    ).scalar_one_or_none()
    if role is None:
        raise NotFound(_INVALID)
    ctx = RequestContext(
        session=session, tenant_id=survey.tenant_id, user_id=survey.requester_id, role=Role(role)
    )
    return _record(ctx, survey, rating=rating, comment=comment)


def _record(ctx: RequestContext, survey: Survey, *, rating: int, comment: str | None) -> Survey:
    """Once: a second answer is 409 and changes nothing. A good/bad survey takes 5 (good)
    or 1 (bad) only."""
    if survey.answered_at is not None:
        raise Conflict(
            "this survey was already answered", errors=[field_error("rating", "already answered")]
        )
    if rating not in RATINGS[survey.scale]:
        raise ValidationProblem(
            errors=[field_error("rating", "a good/bad survey takes 5 (good) or 1 (bad)")]
        )
    from servicedesk.tickets import timeline  # answering only: the mailers need none of it

    row = ctx.session.execute(
        text(
            "UPDATE csat_surveys SET rating = :r, comment = :c, answered_at = now()"
            " WHERE id = :s AND answered_at IS NULL RETURNING answered_at"
        ),
        {"r": rating, "c": comment or None, "s": survey.id},
    ).one()
    ctx.session.add(
        timeline.new_event(
            ctx, survey.ticket_id, "csat_rated", payload={"rating": rating}, visibility="internal"
        )
    )
    outbox.emit(
        ctx.session,
        tenant_id=survey.tenant_id,
        event_type="csat.rated",
        aggregate_type="ticket",
        aggregate_id=survey.ticket_id,
        payload={
            "ticket_id": survey.ticket_id,
            "number": survey.number,
            "survey_id": survey.id,
            "rating": rating,
            "comment": comment or None,
            "actor_id": ctx.user_id,
        },
    )
    return Survey(
        **{
            **survey.__dict__,
            "rating": rating,
            "comment": comment or None,
            "answered_at": row.answered_at,
        }
    )


def for_ticket(ctx: RequestContext, ticket_id: uuid.UUID) -> Survey:
    """The ticket's live survey: staff see any visible ticket's, a requester only the
    survey sent to them (RLS keeps the rest out); 404 when there is none."""
    from servicedesk.tickets import service as tickets

    tickets.get_visible(ctx, ticket_id)
    survey = _survey(
        ctx.session,
        f"s.tenant_id = :tn AND s.ticket_id = :t AND {_LIVE}",
        {"tn": ctx.tenant_id, "t": ticket_id},
    )
    if survey is None or (not ctx.is_staff and survey.requester_id != ctx.user_id):
        raise NotFound("this ticket has no survey")
    return survey


def answer_for_ticket(
    ctx: RequestContext, ticket_id: uuid.UUID, *, rating: int, comment: str | None
) -> Survey:
    """The portal's answer: the requester the survey was sent to, signed in."""
    from servicedesk.tickets import service as tickets

    tickets.get_visible(ctx, ticket_id)
    survey = _survey(
        ctx.session,
        f"s.tenant_id = :tn AND s.ticket_id = :t AND {_LIVE}",
        {"tn": ctx.tenant_id, "t": ticket_id},
        lock=True,
    )
    if survey is None:
        raise NotFound("this ticket has no survey")
    if survey.requester_id != ctx.user_id:
        raise Forbidden(
            "only the requester answers the survey",
            errors=[field_error("rating", "not your survey")],
        )
    if survey.expired:
        raise Gone("this survey has expired")
    return _record(ctx, survey, rating=rating, comment=comment)
