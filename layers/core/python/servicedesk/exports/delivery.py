"""The e-mail consumer's part of scheduled reports: ``report.delivered`` → one mail per
recipient, the file attached when it is small enough (``report_attachment_max_bytes``),
else a link to the recipient's own export of it (GET /v1/exports/{id}/download).

Each mail is claimed in ``deliveries`` under a key of (subscription, slot) and the
recipient, not the event: however many events a slot ever produced, a recipient gets one
mail for it. Recipients are re-checked (active staff now); suppressed addresses skipped.
"""

from __future__ import annotations

import html
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from servicedesk.exports import storage
from servicedesk.notifications import mailer, suppressions, templates
from servicedesk.notifications.templates import Branding, Rendered, one_line
from servicedesk.platform.config import Settings, get_settings
from servicedesk.platform.consumer import SIDE_EFFECTS_BEGUN, Envelope, claim_each, fail_claims
from servicedesk.platform.logging import get_logger
from servicedesk.platform.roles import STAFF_ROLES

EVENT_TYPE = "report.delivered"
_SLOTS = uuid.UUID("6c1e1f0e-3b7a-4d55-9a51-2f1d0f5d7e21")  # namespace of the delivery keys


def slot_key(subscription_id: str, slot: str) -> uuid.UUID:
    """The ``deliveries`` event id of one slot of one subscription."""
    return uuid.uuid5(_SLOTS, f"{subscription_id}:{slot}")


def render_mail(
    *,
    branding: Branding,
    name: str | None,
    title: str,
    frequency: str,
    slot: datetime,
    attached: str | None,
    link: str | None,
) -> Rendered:
    subject = one_line(f"{title}: your {frequency} report")
    greeting = f"Hello {name}," if name else "Hello,"
    when = slot.strftime("%Y-%m-%d %H:%M UTC")
    lead = f"The {frequency} report {title} of {when}"
    intro = lead + (f" is attached ({attached})." if attached else f" is ready: {link}")
    text = "\n".join(
        [
            greeting,
            "",
            intro,
            "",
            "You receive this because a manager subscribed you to this report.",
            "",
            "-- ",
            branding.display_name,
            "",
        ]
    )
    e = html.escape
    ready = (
        f" is attached ({e(attached)})."
        if attached
        else f' is ready. <a href="{e(link or "")}">Download the report</a>'
    )
    body = (
        '<!DOCTYPE html><html><head><meta charset="utf-8"></head>'
        '<body style="font-family:Arial,Helvetica,sans-serif;color:#111827">'
        f'<div style="border-top:4px solid {branding.accent};padding:16px 24px;max-width:640px">'
        f"<p>{e(greeting)}</p><p>{e(lead)}{ready}</p>"
        '<p style="color:#6b7280;font-size:12px">You receive this because a manager subscribed'
        f" you to this report. {e(branding.display_name)}</p>"
        "</div></body></html>"
    )
    return Rendered(subject=subject, title=subject, summary=intro, text=text, html=body)


def send_reports(session: Session, envelopes: list[Envelope]) -> set[uuid.UUID]:
    """The ``report.delivered`` events of one tenant's batch; the ids of those whose mail
    failed (retried for those recipients only)."""
    events = [e for e in envelopes if e.type == EVENT_TYPE]
    if not events:
        return set()
    settings = get_settings()
    failed: set[uuid.UUID] = set()
    for envelope in events:
        if _send_one(session, envelope, settings):
            failed.add(envelope.event_id)
    return failed


def _recipients(session: Session, tenant_id: uuid.UUID, ids: list[str]) -> list[Any]:
    return list(
        session.execute(
            text(
                "SELECT u.id, u.email, u.name FROM memberships m JOIN users u ON u.id = m.user_id"
                " WHERE m.tenant_id = :t AND m.active AND m.role = ANY(:roles)"
                " AND m.user_id = ANY(CAST(:ids AS uuid[])) ORDER BY u.id"
            ),
            {"t": tenant_id, "roles": [r.value for r in STAFF_ROLES], "ids": ids},
        ).all()
    )


def _send_one(session: Session, envelope: Envelope, settings: Settings) -> bool:
    p = envelope.payload
    jobs = {r["user_id"]: r["job_id"] for r in p.get("recipients", [])}
    people = _recipients(session, envelope.tenant_id, sorted(jobs))
    blocked = suppressions.suppressed(session, [r.email for r in people])
    people = [r for r in people if r.email.lower() not in blocked and mailer.sendable(r.email)]
    key = slot_key(str(p["subscription_id"]), str(p["slot"]))
    claimed = claim_each(
        session, envelope.tenant_id, "email", [(key, f"report:{r.id}") for r in people]
    )
    if not claimed:
        return False
    session.info[SIDE_EFFECTS_BEGUN] = True
    tenant = session.execute(
        text("SELECT name, slug, settings FROM tenants WHERE id = :t"), {"t": envelope.tenant_id}
    ).one()
    brand = templates.branding(tenant.name, tenant.settings, slug=tenant.slug)
    size = int(p.get("size_bytes") or 0)
    fmt = str(p["format"])
    filename = f"{p['report']}-{str(p['slot'])[:10]}.{fmt}"
    attachment = None
    if size <= settings.report_attachment_max_bytes:
        attachment = mailer.Attachment(
            filename, storage.MEDIA_TYPES[fmt].split(";")[0], storage.read(str(p["s3_key"]))
        )
    slot = datetime.fromisoformat(str(p["slot"]))
    failures: list[tuple[uuid.UUID, str, str]] = []
    origin = settings.web_origin.rstrip("/")
    for person in people:
        if (key, f"report:{person.id}") not in claimed:
            continue
        link = None if attachment else f"{origin}/exports/{jobs[str(person.id)]}"
        rendered = render_mail(
            branding=brand,
            name=person.name,
            title=str(p.get("title") or p["report"]),
            frequency=str(p.get("frequency") or "scheduled"),
            slot=slot,
            attached=filename if attachment else None,
            link=link,
        )
        outgoing = mailer.Outgoing(
            to=person.email,
            from_name=brand.display_name,
            rendered=rendered,
            event_type=EVENT_TYPE,
            event_id=envelope.event_id,
            tenant_id=envelope.tenant_id,
            attachments=(attachment,) if attachment else (),
        )
        try:
            mailer.send(outgoing, settings)
        except Exception as exc:  # noqa: BLE001 - marked failed; the event is retried for it
            failures.append((key, f"report:{person.id}", type(exc).__name__))
            get_logger().warning("scheduled report e-mail failed", exc_info=True)
    fail_claims(session, "email", failures)
    return bool(failures)
