"""Notification rules: the e-mail consumer's work, the in-app inbox and preferences.

No HTTP here and no commit: the consumer's record transaction (platform.consumer) and the
request transaction (platform.context) commit.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, delete, func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from servicedesk.notifications import (
    mailer,
    recipients,
    suppressions,
    templates,
    unsubscribe,
)
from servicedesk.notifications import settings as defaults_section
from servicedesk.notifications.models import Notification, NotificationPreference
from servicedesk.notifications.schemas import (
    CHANNELS,
    EVENT_TYPES,
    PreferenceItem,
    PreferenceKey,
)
from servicedesk.platform import db
from servicedesk.platform.config import Settings, get_settings
from servicedesk.platform.consumer import (
    SIDE_EFFECTS_BEGUN,
    Envelope,
    claim_each,
    fail_claims,
    record_references,
)
from servicedesk.platform.errors import NotFound
from servicedesk.platform.logging import get_logger
from servicedesk.platform.pagination import TIMESTAMP, UUID, Key, Keyset, paginate
from servicedesk.platform.roles import Role
from servicedesk.platform.tenancy import RequestContext

# --- the e-mail consumer ------------------------------------------------------------


@dataclass(frozen=True)
class _Mail:
    envelope: Envelope
    key: str  # the deliveries key of the recipient
    outgoing: mailer.Outgoing


@dataclass
class _Batch:
    """What the events of one batch come to: in-app rows and e-mails, in event order."""

    in_app: list[dict[str, Any]] = field(default_factory=list)
    mails: list[_Mail] = field(default_factory=list)


def process_batch(session: Session, envelopes: list[Envelope]) -> set[uuid.UUID]:
    """The events of one tenant (an SQS batch's, platform.consumer.sqs_batch_handler), in
    the transaction of the batch: an in-app row and an e-mail per recipient, as their
    preferences allow; the ids of the events whose e-mails did not all go out.

    Reads are shared by the batch (recipients.Lookup; preferences and suppressions in one
    statement each), the in-app rows are one statement, and the e-mails are claimed in one
    statement before any is sent (`consumer.claim_each`): a redelivered or concurrent copy
    of an event finds them claimed (or waits for this commit, then does), so none goes out
    twice. A send that raises is marked failed (`consumer.fail_claims`) after the others
    had their chance, and its event is retried for it alone. Addresses that hard-bounced
    or complained are not mailed at all.
    """
    events = list({e.event_id: e for e in envelopes}.values())  # a duplicate counts once
    if not events:
        return set()
    lookup = recipients.Lookup(session, events[0].tenant_id)
    lookup.prefetch(events)
    settings = get_settings()
    resolved = []
    for envelope in events:
        if envelope.type in recipients.RULES:
            subject = recipients.subject_of(session, envelope)
            found = recipients.resolve(session, envelope, subject, lookup=lookup)
            resolved.append((envelope, subject, found))
    members = {r.user_id for _, _, found in resolved for r in found if r.user_id}
    prefs = preferences_for(
        session, lookup.tenant_id, sorted(members), sorted({e.type for e in events})
    )
    undeliverable = suppressions.suppressed(session, [r.email for _, _, f in resolved for r in f])
    origins = _origins(
        session, lookup.tenant_id, {s.ticket.id for _, s, f in resolved if f and s.ticket}
    )
    batch = _Batch()
    for envelope, subject, found in resolved:
        if found:
            origin = origins.get(subject.ticket.id) if subject.ticket else None
            _plan(lookup, envelope, subject, found, settings, prefs, undeliverable, batch, origin)
    if batch.in_app:
        # The inbox lists newest first: a microsecond apart in event order, as when each
        # event had a transaction of its own. Written sorted by the unique key, so that
        # concurrent copies of a batch lock in one order.
        stamped = [
            {**row, "created_at": func.now() + timedelta(microseconds=n)}
            for n, row in enumerate(batch.in_app)
        ]
        rows = sorted(stamped, key=lambda r: (str(r["event_id"]), str(r["user_id"])))
        session.execute(
            insert(Notification)
            .values(rows)
            .on_conflict_do_nothing(index_elements=["event_id", "user_id"])
        )
    return _mail_each(session, lookup.tenant_id, batch.mails, settings)


def _plan(
    lookup: recipients.Lookup,
    envelope: Envelope,
    subject: recipients.Subject,
    found: list[recipients.Recipient],
    settings: Settings,
    prefs: dict[tuple[uuid.UUID, str, str], bool],
    undeliverable: set[str],
    batch: _Batch,
    origin: str | None = None,
) -> None:
    """One event's in-app rows and e-mails, added to the batch's."""
    rule = recipients.RULES[envelope.type]
    tenant = lookup.tenant()
    # A member who never chose for this event's e-mail follows the tenant's default.
    email_default = defaults_section.from_tenant_settings(tenant.settings).email(envelope.type)
    brand = templates.branding(tenant.name, tenant.settings, slug=tenant.slug)
    actor = str(envelope.payload.get("actor_id") or "")
    actor_id = recipients._uuid(actor)
    facts = templates.Facts(
        event_type=envelope.type,
        payload=envelope.payload,
        branding=brand,
        subject=subject,
        actor_name=lookup.actor(actor_id)[1] if actor_id is not None else None,
        web_origin=settings.web_origin.rstrip("/"),
        tenant_id=envelope.tenant_id,
    )
    ticket_id = subject.ticket.id if subject.ticket else None
    task_link = _task_link(envelope)
    for recipient in found:
        rendered = templates.render(facts, recipient, settings)
        member = recipient.user_id
        in_app = rule.in_app and str(member) != actor  # no inbox entry for one's own act
        if member is not None and in_app and prefs.get((member, envelope.type, "in_app"), True):
            batch.in_app.append(
                {
                    "tenant_id": envelope.tenant_id,
                    "user_id": member,
                    "event_id": envelope.event_id,
                    "event_type": envelope.type,
                    "ticket_id": ticket_id,
                    **task_link,
                    "title": rendered.title,
                    "body": rendered.summary,
                }
            )
        if member is not None and not prefs.get((member, envelope.type, "email"), email_default):
            continue
        if recipient.email.lower() in undeliverable or not mailer.sendable(recipient.email):
            continue
        mail = mailer.Outgoing(
            to=recipient.email,
            from_name=brand.display_name,
            rendered=rendered,
            event_type=envelope.type,
            event_id=envelope.event_id,
            tenant_id=envelope.tenant_id,
            ticket_id=ticket_id,
            message_id=(
                mailer.message_id_for(envelope.event_id, recipient.key, settings)
                if ticket_id is not None
                else None
            ),
            origin=origin,
        )
        batch.mails.append(_Mail(envelope, recipient.key, mail))


def _task_link(envelope: Envelope) -> dict[str, uuid.UUID | None]:
    """The project and task a ``task.*`` event names (servicedesk.projects.tasks.emit), both
    or neither; the bell opens the task from them."""
    project_id = recipients._uuid(envelope.payload.get("project_id"))
    task_id = recipients._uuid(envelope.payload.get("task_id"))
    if not envelope.type.startswith("task.") or project_id is None or task_id is None:
        return {"project_id": None, "task_id": None}
    return {"project_id": project_id, "task_id": task_id}


def _mail_each(
    session: Session, tenant_id: uuid.UUID, mails: list[_Mail], settings: Settings
) -> set[uuid.UUID]:
    """Claim, then send in order; every mail gets its chance, whoever fails before it. The
    ids of the events with a failed mail."""
    claimed = claim_each(session, tenant_id, "email", [(m.envelope.event_id, m.key) for m in mails])
    session.info[SIDE_EFFECTS_BEGUN] = bool(claimed)
    sent: list[tuple[uuid.UUID, str, str]] = []
    failed: list[tuple[uuid.UUID, str, str]] = []
    for mail in mails:
        key = (mail.envelope.event_id, mail.key)
        if key not in claimed:
            continue  # done before (a redelivery)
        claimed.discard(key)
        try:
            sent.append((*key, mailer.send(mail.outgoing, settings)))
        except Exception as exc:  # noqa: BLE001 - marked failed below; the event is retried
            failed.append((*key, type(exc).__name__))
            get_logger().warning(
                "notification e-mail failed; the event will be retried for it",
                exc_info=True,
                extra={"event_id": str(mail.envelope.event_id), "event_type": mail.envelope.type},
            )
    fail_claims(session, "email", failed)
    record_references(session, "email", [s for s in sent if s[2]])
    _record_message_ids(session, tenant_id, mails, {(e, k) for e, k, _ in sent})
    if sent:  # one line for the batch: a line per mail cost as much as building the mail
        get_logger().info(
            "notification e-mails sent",
            extra={"sent": len(sent), "event_ids": sorted({str(e) for e, _, _ in sent})},
        )
    return {event_id for event_id, _, _ in failed}


def _origins(
    session: Session, tenant_id: uuid.UUID, ticket_ids: set[uuid.UUID]
) -> dict[uuid.UUID, str]:
    """The Message-ID of the first mail each ticket received (the requester's own, when
    the ticket came in by e-mail): the batch's ticket mails thread under it. One query."""
    if not ticket_ids:
        return {}
    rows = session.execute(
        text(
            "SELECT DISTINCT ON (ticket_id) ticket_id, message_id FROM mail_message_ids"
            " WHERE tenant_id = :t AND ticket_id = ANY(CAST(:ids AS uuid[])) AND direction = 'in'"
            " ORDER BY ticket_id, created_at, message_id"
        ),
        {"t": tenant_id, "ids": sorted(ticket_ids)},
    )
    return {row.ticket_id: row.message_id for row in rows}


def _record_message_ids(
    session: Session,
    tenant_id: uuid.UUID,
    mails: list[_Mail],
    sent: set[tuple[uuid.UUID, str]],
) -> None:
    """Every ticket mail's Message-ID, so that a reply threads by its headers and our own
    mail coming back is known (servicedesk.mail): one statement for the batch."""
    rows = sorted(
        {
            (m.outgoing.message_id, m.outgoing.ticket_id)
            for m in mails
            if m.outgoing.message_id
            and m.outgoing.ticket_id is not None
            and (m.envelope.event_id, m.key) in sent
        },
        key=str,
    )
    if rows:
        session.execute(
            text(
                "INSERT INTO mail_message_ids (tenant_id, message_id, ticket_id, direction)"
                " SELECT :t, k.m, k.ticket, 'out' FROM unnest(CAST(:ids AS text[]),"
                " CAST(:tickets AS uuid[])) AS k(m, ticket) ON CONFLICT DO NOTHING"
            ),
            {"t": tenant_id, "ids": [m for m, _ in rows], "tickets": [t for _, t in rows]},
        )


# --- preferences --------------------------------------------------------------------


def preferences_of(
    session: Session, tenant_id: uuid.UUID, user_ids: list[uuid.UUID], event_type: str
) -> dict[tuple[uuid.UUID, str], bool]:
    """Stored choices for one event type; a missing (user, channel) means on."""
    found = preferences_for(session, tenant_id, user_ids, [event_type])
    return {(user, channel): on for (user, _, channel), on in found.items()}


def preferences_for(
    session: Session, tenant_id: uuid.UUID, user_ids: list[uuid.UUID], event_types: list[str]
) -> dict[tuple[uuid.UUID, str, str], bool]:
    """Stored choices by (user, event type, channel); a missing one means on."""
    if not user_ids or not event_types:
        return {}
    rows = session.execute(
        select(
            NotificationPreference.user_id,
            NotificationPreference.event_type,
            NotificationPreference.channel,
            NotificationPreference.enabled,
        ).where(
            NotificationPreference.tenant_id == tenant_id,
            NotificationPreference.user_id.in_(user_ids),
            NotificationPreference.event_type.in_(event_types),
        )
    ).all()
    return {(r.user_id, r.event_type, r.channel): r.enabled for r in rows}


def get_preferences(ctx: RequestContext) -> list[PreferenceItem]:
    """Every (event type, channel), stored or default."""
    keys = ("event_type", "channel", "enabled")
    return [
        PreferenceItem.model_validate({k: row[k] for k in keys}) for row in preference_rows(ctx)
    ]


def preference_rows(ctx: RequestContext) -> list[dict[str, Any]]:
    """Every (event type, channel): the value in force, the tenant's default for it, and
    whether the person chose it themselves (``customised``) or follows the default."""
    stored = {
        (p.event_type, p.channel): p.enabled
        for p in ctx.session.scalars(
            select(NotificationPreference).where(
                NotificationPreference.tenant_id == ctx.tenant_id,
                NotificationPreference.user_id == ctx.user_id,
            )
        )
    }
    tenant = defaults_section.SECTION.current(ctx)
    rows = []
    for e in EVENT_TYPES:
        for c in CHANNELS:
            default = tenant.email(e) if c == "email" else True
            rows.append(
                {
                    "event_type": e,
                    "channel": c,
                    "enabled": stored.get((e, c), default),
                    "tenant_default": default,
                    "customised": (e, c) in stored,
                }
            )
    return rows


def set_preferences(ctx: RequestContext, items: list[PreferenceItem]) -> list[PreferenceItem]:
    """Upsert the listed choices; unlisted ones stay as they are."""
    for item in items:
        statement = insert(NotificationPreference).values(
            tenant_id=ctx.tenant_id,
            user_id=ctx.user_id,
            event_type=item.event_type,
            channel=item.channel,
            enabled=item.enabled,
        )
        ctx.session.execute(
            statement.on_conflict_do_update(
                index_elements=["tenant_id", "user_id", "event_type", "channel"],
                set_={"enabled": statement.excluded.enabled},
            )
        )
    return get_preferences(ctx)


def reset_preferences(ctx: RequestContext, items: list[PreferenceKey]) -> None:
    """Forget the listed choices: those pairs follow the tenant's default again."""
    for item in items:
        ctx.session.execute(
            delete(NotificationPreference).where(
                NotificationPreference.tenant_id == ctx.tenant_id,
                NotificationPreference.user_id == ctx.user_id,
                NotificationPreference.event_type == item.event_type,
                NotificationPreference.channel == item.channel,
            )
        )


def unsubscribe_by_token(session: Session, token: str) -> PreferenceItem:
    """RFC 8058 one-click: switch off the e-mail the signed token names, for the member it
    names. A token that is forged, malformed, or for someone no longer a member is 404."""
    key = templates.token_key(get_settings())
    what = unsubscribe.read_token(key, token) if key is not None else None
    if what is None:
        raise NotFound("this unsubscribe link is not valid")
    db.set_tenant(session, tenant_id=what.tenant_id, user_id=what.user_id)
    row = session.execute(
        text("SELECT role, active FROM memberships WHERE tenant_id = :t AND user_id = :u"),
        {"t": what.tenant_id, "u": what.user_id},
    ).one_or_none()
    if row is None or not row.active:
        raise NotFound("this unsubscribe link is not valid")
    ctx = RequestContext(
        session=session, tenant_id=what.tenant_id, user_id=what.user_id, role=Role(row.role)
    )
    item = PreferenceItem(event_type=what.event_type, channel="email", enabled=False)
    set_preferences(ctx, [item])
    get_logger().info("unsubscribed by link", extra={"event_type": what.event_type})
    return item


# --- the in-app inbox ---------------------------------------------------------------


def _mine(ctx: RequestContext) -> tuple[ColumnElement[bool], ...]:
    """A user only ever sees their own notifications (RLS keeps the tenant)."""
    return (Notification.tenant_id == ctx.tenant_id, Notification.user_id == ctx.user_id)


NEWEST_FIRST = Keyset(
    [Key(Notification.created_at, TIMESTAMP), Key(Notification.id, UUID)], descending=True
)


def list_notifications(
    ctx: RequestContext, *, unread: bool | None, limit: int, cursor: str | None
) -> tuple[list[Notification], str | None]:
    query = select(Notification).where(*_mine(ctx))
    if unread is True:
        query = query.where(Notification.read_at.is_(None))
    elif unread is False:
        query = query.where(Notification.read_at.is_not(None))
    return paginate(ctx.session, query, NEWEST_FIRST, limit=limit, cursor=cursor)


def unread_count(ctx: RequestContext) -> int:
    return int(
        ctx.session.execute(
            select(func.count())
            .select_from(Notification)
            .where(*_mine(ctx), Notification.read_at.is_(None))
        ).scalar_one()
    )


def mark_read(ctx: RequestContext, *, notification_id: uuid.UUID) -> Notification:
    """Idempotent: a notification read before keeps its first read time."""
    found = ctx.session.scalars(
        select(Notification)
        .where(*_mine(ctx), Notification.id == notification_id)
        .with_for_update()
    ).one_or_none()
    if found is None:
        raise NotFound("no such notification")
    if found.read_at is None:
        found.read_at = ctx.session.execute(select(func.now())).scalar_one()
        ctx.session.flush()
    return found


def mark_all_read(ctx: RequestContext) -> int:
    result = ctx.session.execute(
        update(Notification)
        .where(*_mine(ctx), Notification.read_at.is_(None))
        .values(read_at=func.now())
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
