"""Notification rules: the e-mail consumer's work, the in-app inbox and preferences.

No HTTP here and no commit: the consumer's record transaction (platform.consumer) and the
request transaction (platform.context) commit.
"""

from __future__ import annotations

import functools
import uuid

from sqlalchemy import ColumnElement, func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from servicedesk.notifications import mailer, recipients, suppressions, templates, unsubscribe
from servicedesk.notifications.models import Notification, NotificationPreference
from servicedesk.notifications.schemas import CHANNELS, EVENT_TYPES, PreferenceItem
from servicedesk.platform import db
from servicedesk.platform.config import Settings, get_settings
from servicedesk.platform.consumer import Envelope, Incomplete, deliver_once
from servicedesk.platform.errors import NotFound
from servicedesk.platform.logging import get_logger
from servicedesk.platform.pagination import TIMESTAMP, UUID, Key, Keyset, paginate
from servicedesk.platform.roles import Role
from servicedesk.platform.tenancy import RequestContext

# --- the e-mail consumer ------------------------------------------------------------


def process(session: Session, envelope: Envelope) -> None:
    """One event: an in-app row and an e-mail per recipient, as their preferences allow.

    In-app rows are unique per (event, user) and written in the record's transaction. Each
    e-mail is delivered once per (event, recipient) in a transaction of its own
    (`deliver_once`), after the reads it needs: a failure for one recipient leaves the
    others mailed and recorded, the in-app rows commit, and the retry of the record mails
    only the recipients not mailed yet. Addresses that hard-bounced or complained are not
    mailed at all.
    """
    rule = recipients.RULES.get(envelope.type)
    if rule is None:
        return
    subject = recipients.subject_of(session, envelope)
    found = recipients.resolve(session, envelope, subject)
    if not found:
        return
    settings = get_settings()
    brand = templates.branding(session, envelope.tenant_id)
    facts = templates.Facts(
        event_type=envelope.type,
        payload=envelope.payload,
        branding=brand,
        subject=subject,
        actor_name=_actor_name(session, envelope),
        web_origin=settings.web_origin.rstrip("/"),
        tenant_id=envelope.tenant_id,
    )
    prefs = preferences_of(
        session, envelope.tenant_id, [r.user_id for r in found if r.user_id], envelope.type
    )
    undeliverable = suppressions.suppressed(session, [r.email for r in found])
    actor = str(envelope.payload.get("actor_id") or "")
    outgoing: list[tuple[str, mailer.Outgoing]] = []
    for recipient in found:
        rendered = templates.render(facts, recipient, settings)
        member = recipient.user_id
        in_app = rule.in_app and str(member) != actor  # no inbox entry for one's own act
        if member is not None and in_app and prefs.get((member, "in_app"), True):
            _in_app(session, envelope, member, subject, rendered)
        if member is not None and not prefs.get((member, "email"), True):
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
            ticket_id=subject.ticket.id if subject.ticket else None,
        )
        outgoing.append((recipient.key, mail))
    _mail_each(envelope, outgoing, settings)


def _mail_each(
    envelope: Envelope, outgoing: list[tuple[str, mailer.Outgoing]], settings: Settings
) -> None:
    """Every recipient gets their chance, whoever fails before them; `Incomplete` after."""
    failed: list[Exception] = []
    for key, mail in outgoing:
        try:
            sent = deliver_once(
                envelope,
                channel="email",
                recipient=key,
                send=functools.partial(mailer.send, mail, settings),
            )
        except Exception as exc:  # noqa: BLE001 - raised below, after the other recipients
            failed.append(exc)
            get_logger().warning(
                "notification e-mail failed; the event will be retried for it",
                exc_info=True,
                extra={"event_id": str(envelope.event_id), "event_type": envelope.type},
            )
            continue
        if sent:
            get_logger().info(
                "notification e-mail sent",
                extra={"event_id": str(envelope.event_id), "event_type": envelope.type},
            )
    if failed:
        raise Incomplete(f"{len(failed)} of {len(outgoing)} e-mails failed") from failed[0]


def _actor_name(session: Session, envelope: Envelope) -> str | None:
    actor = envelope.payload.get("actor_id")
    if not actor:
        return None
    name = session.execute(text("SELECT name FROM users WHERE id = :u"), {"u": actor}).scalar()
    return str(name) if name else None


def _in_app(
    session: Session,
    envelope: Envelope,
    user_id: uuid.UUID,
    subject: recipients.Subject,
    rendered: templates.Rendered,
) -> None:
    session.execute(
        insert(Notification)
        .values(
            tenant_id=envelope.tenant_id,
            user_id=user_id,
            event_id=envelope.event_id,
            event_type=envelope.type,
            ticket_id=subject.ticket.id if subject.ticket else None,
            title=rendered.title,
            body=rendered.summary,
        )
        .on_conflict_do_nothing(index_elements=["event_id", "user_id"])
    )


# --- preferences --------------------------------------------------------------------


def preferences_of(
    session: Session, tenant_id: uuid.UUID, user_ids: list[uuid.UUID], event_type: str
) -> dict[tuple[uuid.UUID, str], bool]:
    """Stored choices for one event type; a missing (user, channel) means on."""
    if not user_ids:
        return {}
    rows = session.execute(
        select(
            NotificationPreference.user_id,
            NotificationPreference.channel,
            NotificationPreference.enabled,
        ).where(
            NotificationPreference.tenant_id == tenant_id,
            NotificationPreference.user_id.in_(user_ids),
            NotificationPreference.event_type == event_type,
        )
    ).all()
    return {(r.user_id, r.channel): r.enabled for r in rows}


def get_preferences(ctx: RequestContext) -> list[PreferenceItem]:
    """Every (event type, channel), stored or default."""
    stored = {
        (p.event_type, p.channel): p.enabled
        for p in ctx.session.scalars(
            select(NotificationPreference).where(
                NotificationPreference.tenant_id == ctx.tenant_id,
                NotificationPreference.user_id == ctx.user_id,
            )
        )
    }
    return [
        PreferenceItem.model_validate(
            {"event_type": e, "channel": c, "enabled": stored.get((e, c), True)}
        )
        for e in EVENT_TYPES
        for c in CHANNELS
    ]


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
