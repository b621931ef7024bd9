"""What a notification says: subject, in-app title and summary, plain text and HTML.

Everything user-supplied (ticket titles, comments, names, tenant branding) is escaped in
HTML with `html.escape`; a colour is used only if it is a hex colour. Branding is the
tenant's branding section (tenants.settings["branding"], servicedesk/branding: display
name, primary and accent colours checked for contrast, logo); the older
tenants.settings["email"]["branding"] = {"display_name", "accent_color"} still counts
where the section does not say.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import re
import time
import uuid
from dataclasses import dataclass, field
from email.utils import parseaddr
from typing import Any

from servicedesk.notifications import unsubscribe
from servicedesk.notifications.recipients import Recipient, Subject
from servicedesk.platform import mail_links
from servicedesk.platform.config import Settings
from servicedesk.platform.roles import Role
from servicedesk.tickets import states

DEFAULT_ACCENT = "#2563eb"
MUTED = "color:#6b7280"
HEX_COLOUR = re.compile(r"^#(?:[0-9a-fA-F]{3}){1,2}$")
QUOTE_CHARS = 4000
SUMMARY_CHARS = 280
# Account mail: nobody can switch it off, so it carries no List-Unsubscribe or settings
# link (every other event's mail does).
_NO_UNSUBSCRIBE = frozenset(
    {
        "user.invited",
        "user.added",
        "user.mfa_reset",
        "signup.requested",
        "account.password_reset",
        "account.email_verification",
        "account.registration",
        "export.ready",  # the member asked for it: nothing to switch off
        "ci.import_finished",  # likewise
    }
)
# Ticket events that do not invite a reply into the ticket's conversation.
_NO_REPLY_TO = frozenset({"ticket.invitation_created", "user.invited", "mail.held"})
# Why an address that may not be a member hears of an account event (the footer).
_ACCOUNT_FOOTER = {
    "user.invited": "You receive this because someone invited this address.",
    "signup.requested": "You receive this because someone signed up with this address.",
    "user.added": "You receive this because an admin added this address to an organisation.",
    "user.mfa_reset": "You receive this because an admin changed how the account with this"
    " address signs in.",
    "account.password_reset": "You receive this because someone asked to reset the password"
    " of the account with this address.",
    "account.email_verification": "You receive this because someone asked to verify this address.",
    "account.registration": "You receive this because someone registered this address with an"
    " organisation.",
    "export.ready": "You receive this because you asked for this export.",
    "ci.import_finished": "You receive this because you started this import.",
}


@dataclass(frozen=True)
class Branding:
    tenant_name: str
    display_name: str
    accent: str = DEFAULT_ACCENT  # the brand bar
    primary: str = DEFAULT_ACCENT  # the button, under white text
    logo_path: str | None = None  # same-origin address of the logo (web_origin + this)


@dataclass(frozen=True)
class Facts:
    """What the templates may say about one event (shared by its recipients)."""

    event_type: str
    payload: dict[str, Any]
    branding: Branding
    subject: Subject
    actor_name: str | None
    web_origin: str
    tenant_id: uuid.UUID | None = None  # names the member in the unsubscribe token


@dataclass(frozen=True)
class Copy:
    headline: str
    intro: str
    quote: str | None = None
    link: tuple[str, str] | None = None  # (label, url)
    extra: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rendered:
    subject: str
    title: str
    summary: str
    text: str
    html: str
    headers: dict[str, str] = field(default_factory=dict)


def one_line(value: str, limit: int = 200) -> str:
    """Header-safe: no control characters or line breaks, bounded."""
    flat = " ".join("".join(c if c.isprintable() else " " for c in value).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _colour(value: object) -> str | None:
    return value if isinstance(value, str) and HEX_COLOUR.match(value) else None


def branding(name: str, settings: Any, *, slug: str | None = None) -> Branding:
    """From the tenant's name, its settings (the whole tenants.settings object) and its
    slug (which names the public logo address; without it, no logo)."""
    settings = settings if isinstance(settings, dict) else {}
    section = settings.get("branding")
    section = section if isinstance(section, dict) else {}
    email = settings.get("email")
    older = email.get("branding") if isinstance(email, dict) else None
    older = older if isinstance(older, dict) else {}
    display = section.get("display_name") or older.get("display_name")
    accent = _colour(section.get("accent_color")) or _colour(older.get("accent_color"))
    primary = _colour(section.get("primary_color")) or accent or DEFAULT_ACCENT
    logo = section.get("logo_attachment_id")
    return Branding(
        tenant_name=one_line(name),
        display_name=one_line(display if isinstance(display, str) and display.strip() else name),
        accent=accent or DEFAULT_ACCENT,
        primary=primary,
        logo_path=(
            f"/v1/branding/{slug}/logo?v={logo}"
            if slug and isinstance(logo, str) and logo
            else None
        ),
    )


def _secret(settings: Settings) -> bytes | None:
    return mail_links.mail_key(settings)


def token_key(settings: Settings) -> bytes | None:
    """The key that signs reply addresses and unsubscribe links (None: neither is made)."""
    return _secret(settings)


def reply_domain(settings: Settings) -> str:
    if settings.email_reply_domain:
        return settings.email_reply_domain
    return parseaddr(settings.email_sender)[1].rpartition("@")[2] or "servicedesk.local"


def reply_token(ticket_id: uuid.UUID, settings: Settings) -> str | None:
    """First 16 hex characters of HMAC-SHA256(ticket id) under email_token_secret."""
    key = _secret(settings)
    if key is None:
        return None
    return hmac.new(key, str(ticket_id).encode(), hashlib.sha256).hexdigest()[:16]


def reply_address(ticket_id: uuid.UUID, number: str, settings: Settings) -> str | None:
    token = reply_token(ticket_id, settings)
    if token is None:
        return None
    safe_number = re.sub(r"[^A-Za-z0-9-]", "", number)
    return f"reply+{safe_number}.{token}@{reply_domain(settings)}"


def _words(value: Any) -> str:
    return str(value or "").replace("_", " ")


def _status(value: Any, recipient: Recipient) -> str:
    """A status by its name in the app (tickets.states.LABELS), as this reader sees it."""
    staff = recipient.role is not None and Role(recipient.role).is_staff
    return states.label(str(value or ""), staff=staff)


def _ticket_url(facts: Facts, recipient: Recipient, settings: Settings) -> str | None:
    """The ticket in the app; for a requester who cannot sign in otherwise (no password,
    no identity provider), a magic link that opens it without one. An HMAC, so the
    batched consumer writes nothing per mail (platform/mail_links.py)."""
    ticket = facts.subject.ticket
    if ticket is None:
        return None
    if (
        recipient.link_generation is not None
        and recipient.role == Role.REQUESTER.value
        and recipient.user_id is not None
        and facts.tenant_id is not None
    ):
        key = _secret(settings)
        if key is not None:
            token = mail_links.make_token(
                key,
                mail_links.MagicLink(
                    facts.tenant_id,
                    recipient.user_id,
                    ticket.id,
                    expires_at=int(time.time()) + settings.magic_link_ttl_seconds,
                    generation=recipient.link_generation,
                ),
            )
            return f"{facts.web_origin}/m/{token}"
    return f"{facts.web_origin}/tickets/{ticket.id}"


def _comment_quote(facts: Facts) -> str | None:
    comment = facts.subject.comment
    return comment.body[:QUOTE_CHARS] if comment is not None else None


def _sla_copy(facts: Facts) -> Copy:
    p, kind = facts.payload, facts.event_type.removeprefix("sla.")
    target = _words(p.get("target")) or "SLA"
    if kind == "warning":
        return Copy(f"SLA warning: {target}", f"The {target} target of this ticket is due soon.")
    if kind == "breached":
        return Copy(f"SLA breached: {target}", f"The {target} target of this ticket was missed.")
    state = "was missed" if p.get("kind") == "breached" else "is at risk"
    return Copy(
        f"SLA escalation: {target}",
        f"This ticket is escalated to you: its {target} target {state}.",
    )


def _link(label: str, url: object) -> tuple[str, str] | None:
    text = str(url or "")
    return (label, text) if text.startswith(("https://", "http://")) else None


def _signup_copy(facts: Facts) -> Copy:
    """The sign-up confirmation: mail to an address that may have no account yet."""
    p = facts.payload
    org = p.get("organization")
    org = org if isinstance(org, dict) else {}
    name = one_line(str(org.get("name") or "your organisation"))
    intro = f"Confirm this address to create {name} on Servicedesk and sign in as its admin."
    if p.get("existing_account"):
        intro = (
            f"This address already has a Servicedesk account. Confirm to add {name} to it"
            " and sign in as its admin; your password stays as it is (the password given"
            " at sign-up is not used)."
        )
    return Copy(
        "Confirm your new organisation",
        intro,
        link=_link("Confirm and sign in", p.get("confirm_url")),
        extra=(
            f"The link expires at {p.get('expires_at')}.",
            "If you did not sign up, ignore this e-mail: nothing is created without it.",
        ),
    )


def _recovery_copy(facts: Facts) -> Copy:
    """A password-reset or verification link (identity/recovery.py)."""
    p = facts.payload
    expires = f"The link expires at {p.get('expires_at')} and works once."
    if facts.event_type == "account.password_reset":
        return Copy(
            "Reset your password",
            "Someone asked to reset the password of your Servicedesk account. Follow the link"
            " to choose a new one; every session of the account then ends, on every device.",
            link=_link("Choose a new password", p.get("url")),
            extra=(expires, "If you did not ask, ignore this e-mail: your password stays."),
        )
    return Copy(
        "Verify your e-mail address",
        "Follow the link to confirm that this address is yours.",
        link=_link("Verify this address", p.get("url")),
        extra=(expires, "If you did not ask, ignore this e-mail."),
    )


def _registration_copy(facts: Facts) -> Copy:
    """Self-registration as a requester (identity.registration): the same words whether or
    not the address has an account (the request told nobody which)."""
    p = facts.payload
    return Copy(
        f"Confirm your registration with {facts.branding.display_name}",
        f"Confirm this address to join {facts.branding.tenant_name} on Servicedesk and follow"
        " your requests. If this address already has a Servicedesk account, the organisation"
        " is added to it and your password stays as it is.",
        link=_link("Confirm and sign in", p.get("confirm_url")),
        extra=(
            f"The link expires at {p.get('expires_at')}.",
            "If you did not register, ignore this e-mail: nothing is created without it.",
        ),
    )


def _account_copy(facts: Facts) -> Copy:
    """Mail about an account rather than a ticket (no unsubscribe: `_NO_UNSUBSCRIBE`)."""
    if facts.event_type == "signup.requested":
        return _signup_copy(facts)
    if facts.event_type == "account.registration":
        return _registration_copy(facts)
    if facts.event_type.startswith("account."):
        return _recovery_copy(facts)
    if facts.event_type == "user.invited":
        return _invited_copy(facts)
    if facts.event_type == "user.mfa_reset":
        return _mfa_reset_copy(facts)
    return _added_copy(facts)


def _mfa_reset_copy(facts: Facts) -> Copy:
    """`user.mfa_reset`: an admin turned the person's two-step verification off (they lost
    their phone, or someone wants them to think so)."""
    actor = facts.actor_name or "An admin"
    return Copy(
        "Your two-step verification was turned off",
        f"{actor}, an admin of {facts.branding.tenant_name}, turned off two-step verification"
        " for your account: signing in now takes your password alone.",
        link=_link("Sign in", facts.payload.get("login_url") or f"{facts.web_origin}/login"),
        extra=(
            "Set it up again in My profile when you sign in (your organisation may ask you"
            " to at once).",
            f"If you did not ask for this, tell {actor} and change your password.",
        ),
    )


def _invited_copy(facts: Facts) -> Copy:
    p = facts.payload
    return Copy(
        f"You are invited to {facts.branding.display_name}",
        f"You have been invited to join {facts.branding.tenant_name} on Servicedesk"
        f" as {_words(p.get('role')) or 'a member'}.",
        link=_link("Accept the invitation", p.get("accept_url")),
        extra=(
            f"The invitation expires at {p.get('expires_at')}.",
            "If you did not expect it, ignore this e-mail.",
        ),
    )


def _added_copy(facts: Facts) -> Copy:
    """`user.added`: an admin added this person (POST /v1/users). The same words whether the
    address was new (the admin chose the first password) or already had an account (its own
    password is kept), so that nothing about the account depends on what the admin knew."""
    p, actor = facts.payload, facts.actor_name or "An admin"
    role = _words(p.get("role")) or "member"
    article = "an" if role[:1] in "aeiou" else "a"
    tenant = p.get("tenant")
    slug = one_line(str(tenant.get("slug") or "")) if isinstance(tenant, dict) else ""
    choose = f" If you are asked which organisation, choose {slug}." if slug else ""
    return Copy(
        f"You were added to {facts.branding.display_name}",
        f"{actor} added you to {facts.branding.tenant_name} on Servicedesk as {article} {role}.",
        link=_link("Sign in", p.get("login_url") or f"{facts.web_origin}/login"),
        extra=(
            f"Sign in with this e-mail address.{choose}",
            "If you already use Servicedesk with this address, your password stays as it is;"
            f" if not, {actor} can tell you the password they chose for you.",
            f"If you did not expect this, tell {actor} or ignore this e-mail.",
        ),
    )


def _received_copy(facts: Facts, recipient: Recipient) -> Copy:
    """The requester's acknowledgement: they opened it, or someone did for them."""
    ticket = facts.subject.ticket
    quote = ticket.description[:QUOTE_CHARS] if ticket and ticket.description else None
    if recipient.user_id is not None and str(recipient.user_id) == str(
        facts.payload.get("actor_id")
    ):
        intro = "We received your request and will get back to you."
    else:
        intro = f"{facts.actor_name or 'Someone'} opened this request on your behalf."
    extra = ("Reply to this e-mail to add information to the request.",)
    return Copy("Request received", intro, quote, extra=extra)


def _assigned_copy(facts: Facts, recipient: Recipient) -> Copy:
    p, actor = facts.payload, facts.actor_name or "Someone"
    if recipient.user_id is not None and str(recipient.user_id) == str(p.get("assignee_id")):
        return Copy("Assigned to you", f"{actor} assigned this ticket to you.")
    if not p.get("assignee_id") and not p.get("team_id"):  # heard by the triage audience
        return Copy("Back in triage", f"{actor} took this ticket off its team and assignee.")
    return Copy("Assigned to your team", f"{actor} assigned this ticket to your team.")


def _notice_copy(facts: Facts) -> Copy:
    """Events about no ticket that point to a page of the app."""
    p = facts.payload
    if facts.event_type == "export.ready":
        what = p.get("report") or "ticket list"
        return Copy(
            "Your export is ready",
            f"The {what} export you asked for ({str(p.get('format') or '').upper()}) is"
            " ready to download until it expires.",
            link=("Download it", f"{facts.web_origin}/exports/{p.get('job_id')}"),
        )
    if facts.event_type == "ci.import_finished":
        return _import_copy(facts)
    return Copy(
        "Mail held for an agent",
        "A message that came in by e-mail waits for a decision: add it to a ticket,"
        " open a ticket with it, or discard it.",
        link=("Open held mail", f"{facts.web_origin}/held-mail"),
    )


def _import_copy(facts: Facts) -> Copy:
    """A CMDB import job ended (servicedesk.cmdb.import_worker)."""
    p = facts.payload
    counts = (
        f"{p.get('rows', 0)} rows: {p.get('created', 0)} created, {p.get('updated', 0)}"
        f" updated, {p.get('unchanged', 0)} unchanged, {p.get('failed', 0)} failing."
    )
    if p.get("status") == "failed":
        title, text_ = "Your CMDB import failed", "Nothing was imported. "
    elif p.get("dry_run"):
        title, text_ = "Your CMDB import check is done", "The dry run wrote nothing. "
    else:
        title, text_ = "Your CMDB import is done", ""
    return Copy(
        title,
        text_ + counts,
        link=("See the report", f"{facts.web_origin}/cmdb/import?job={p.get('job_id')}"),
    )


_TASK_WHAT = {
    "task.created": "created the task",
    "task.updated": "changed the task",
    "task.moved": "moved the task",
    "task.commented": "commented on the task",
}


def _task_copy(facts: Facts) -> Copy:
    """A project task one is assigned to or watches (servicedesk.projects)."""
    p, actor = facts.payload, facts.actor_name or "Someone"
    key, title = one_line(str(p.get("key") or "")), one_line(str(p.get("title") or ""))
    return Copy(
        f"{key}: {title}",
        f"{actor} {_TASK_WHAT[facts.event_type]} {key}.",
        link=(
            "Open the task",
            f"{facts.web_origin}/projects/{p.get('project_id')}?task={p.get('task_id')}",
        ),
    )


def _copy(facts: Facts, recipient: Recipient) -> Copy:  # noqa: C901, PLR0911 - one branch per event
    p, actor = facts.payload, facts.actor_name or "Someone"
    ticket = facts.subject.ticket
    match facts.event_type:
        case "ticket.received":
            return _received_copy(facts, recipient)
        case "ticket.created":
            quote = ticket.description[:QUOTE_CHARS] if ticket and ticket.description else None
            return Copy("New ticket", f"{actor} opened a new ticket.", quote)
        case "ticket.assigned":
            return _assigned_copy(facts, recipient)
        case "ticket.status_changed":
            before, after = (
                _status(p.get("status_from"), recipient),
                _status(p.get("status_to"), recipient),
            )
            return Copy(f"Status: {after}", f"{actor} changed the status from {before} to {after}.")
        case "automation.notify":
            # An automation rule's message (servicedesk.automation.side_effects): its
            # subject and body were rendered from the rule's templates when it fired.
            return Copy(
                one_line(str(p.get("subject") or "Automation")),
                str(p.get("body") or "")[: SUMMARY_CHARS * 20],
            )
        case "comment.public":
            return Copy("New reply", f"{actor} replied:", _comment_quote(facts))
        case "comment.internal":
            return Copy(
                "Internal note",
                f"{actor} added an internal note (staff only):",
                _comment_quote(facts),
            )
        case "ticket.invitation_created":
            return Copy(
                "Invitation to a ticket",
                f"{actor} invited you to take part in this ticket. Accept or decline the"
                " invitation in Servicedesk.",
                link=("Open your invitations", f"{facts.web_origin}/ticket-invitations"),
            )
        case (
            "signup.requested"
            | "user.invited"
            | "user.added"
            | "user.mfa_reset"
            | "account.password_reset"
            | "account.email_verification"
            | "account.registration"
        ):
            return _account_copy(facts)
        case "mail.held" | "export.ready" | "ci.import_finished":
            return _notice_copy(facts)
        case "task.created" | "task.updated" | "task.moved" | "task.commented":
            return _task_copy(facts)
        case _:
            return _sla_copy(facts)


APPROVAL_EVENTS = frozenset({"approval.requested", "approval.escalated"})


def _approval_copy(facts: Facts, recipient: Recipient, settings: Settings) -> Copy:
    """An approver's mail: what waits for them, the page, and their own signed approve
    and reject links (each opens a confirmation page; nothing is recorded by opening)."""
    from servicedesk.approvals import links

    p = facts.payload
    approval_id = str(p.get("approval_id") or "")
    title = one_line(str(p.get("title") or "A request"))
    stage = one_line(str(p.get("stage") or ""))
    headline = {
        "approval.escalated": "Approval escalated to you",
    }.get(facts.event_type, "Reminder: approval needed" if p.get("reminder") else "Approval needed")
    intro = f"{title} waits for your decision" + (f" ({stage})." if stage else ".")
    extra: tuple[str, ...] = ()
    key = mail_links.mail_key(settings)
    stage_id = _uuid_or_none(p.get("stage_id"))
    if key and recipient.user_id and facts.tenant_id and stage_id and approval_id:
        tokens = links.links_for(
            key, facts.tenant_id, recipient.user_id, uuid.UUID(approval_id), stage_id
        )
        extra = tuple(
            f"{label}: {facts.web_origin}/approval-links/{tokens[decision]}"
            for decision, label in (("approve", "Approve"), ("reject", "Reject"))
        )
    return Copy(
        headline,
        intro,
        link=("Open the approval", f"{facts.web_origin}/approvals/{approval_id}"),
        extra=extra,
    )


def _uuid_or_none(value: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None


def render(facts: Facts, recipient: Recipient, settings: Settings) -> Rendered:
    if facts.event_type in APPROVAL_EVENTS:
        copy = _approval_copy(facts, recipient, settings)
    else:
        copy = _copy(facts, recipient)
    ticket = facts.subject.ticket
    if ticket is not None:
        subject = one_line(f"[{ticket.number}] {copy.headline}: {ticket.title}")
        title = one_line(f"{ticket.number} {copy.headline}: {ticket.title}")
    else:
        subject = title = one_line(copy.headline)
    link = copy.link
    if link is None and ticket is not None:
        url = _ticket_url(facts, recipient, settings)
        link = ("View the ticket", url) if url else None
    summary = copy.intro + (f" {one_line(copy.quote, SUMMARY_CHARS)}" if copy.quote else "")
    headers: dict[str, str] = {}
    if ticket is not None and facts.event_type not in _NO_REPLY_TO:
        address = reply_address(ticket.id, ticket.number, settings)
        if address:
            headers["Reply-To"] = address
    token = _unsubscribe_token(facts, recipient, settings)
    headers.update(_unsubscribe_headers(facts, token))
    greeting = f"Hello {recipient.name}," if recipient.name else "Hello,"
    footer = (
        f"You receive this because of your notification settings: {settings_url(facts)}"
        if facts.event_type not in _NO_UNSUBSCRIBE
        else _ACCOUNT_FOOTER.get(facts.event_type, "")
    )
    if token is not None:
        footer += f" Stop these e-mails: {facts.web_origin}/unsubscribe?token={token}"
    return Rendered(
        subject=subject,
        title=title,
        summary=summary,
        text=_text(facts, recipient, copy, greeting, link, footer),
        html=_html(facts, recipient, copy, greeting, link, footer),
        headers=headers,
    )


def settings_url(facts: Facts) -> str:
    """The app's notification settings page (web/src/app/router.tsx has this route)."""
    return f"{facts.web_origin}/settings/notifications"


def _unsubscribe_token(facts: Facts, recipient: Recipient, settings: Settings) -> str | None:
    """A member's signed one-click token for this kind of e-mail (None for an address that
    is not a member, for mail nobody can switch off, or without a signing key)."""
    key = _secret(settings)
    if key is None or recipient.user_id is None or facts.tenant_id is None:
        return None
    if facts.event_type in _NO_UNSUBSCRIBE:
        return None
    what = unsubscribe.Unsubscribe(facts.tenant_id, recipient.user_id, facts.event_type)
    return unsubscribe.make_token(key, what)


def _unsubscribe_headers(facts: Facts, token: str | None) -> dict[str, str]:
    """RFC 8058: the one-click link when there is a token, else the settings page."""
    if facts.event_type in _NO_UNSUBSCRIBE:
        return {}
    if token is None:
        return {"List-Unsubscribe": f"<{settings_url(facts)}>"}
    return {
        "List-Unsubscribe": f"<{facts.web_origin}/v1/notifications/unsubscribe?token={token}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def _text(
    facts: Facts,
    recipient: Recipient,
    copy: Copy,
    greeting: str,
    link: tuple[str, str] | None,
    footer: str,
) -> str:
    lines = [greeting, "", copy.intro, ""]
    if copy.quote:
        lines += [f"> {line}" for line in copy.quote.splitlines() or [""]] + [""]
    ticket = facts.subject.ticket
    if ticket is not None:
        lines += [f"{ticket.number}: {ticket.title} ({_status(ticket.status, recipient)})"]
    if link is not None:
        lines += [f"{link[0]}: {link[1]}"]
    lines += list(copy.extra)
    lines += ["", "-- ", facts.branding.display_name, footer, ""]
    return "\n".join(lines)


def _html(
    facts: Facts,
    recipient: Recipient,
    copy: Copy,
    greeting: str,
    link: tuple[str, str] | None,
    footer: str,
) -> str:
    e, accent, primary = html.escape, facts.branding.accent, facts.branding.primary
    parts = [
        '<!DOCTYPE html><html><head><meta charset="utf-8"></head>',
        '<body style="font-family:Arial,Helvetica,sans-serif;color:#111827;margin:0;padding:0">',
        f'<div style="border-top:4px solid {accent};padding:16px 24px;max-width:640px">',
    ]
    if facts.branding.logo_path:
        logo = e(facts.web_origin + facts.branding.logo_path)
        parts.append(
            f'<p style="margin:0 0 8px"><img src="{logo}" alt="{e(facts.branding.display_name)}"'
            ' height="40" style="height:40px;width:auto"></p>'
        )
    parts += [
        f'<p style="{MUTED};font-size:13px;margin:0 0 16px">{e(facts.branding.display_name)}</p>',
        f"<p>{e(greeting)}</p>",
        f"<p>{e(copy.intro)}</p>",
    ]
    if copy.quote:
        parts.append(
            f'<blockquote style="border-left:3px solid {accent};margin:0 0 16px;padding:4px 12px;'
            f'white-space:pre-wrap">{e(copy.quote)}</blockquote>'
        )
    ticket = facts.subject.ticket
    if ticket is not None:
        parts.append(
            f"<p><strong>{e(ticket.number)}</strong>: {e(ticket.title)}"
            f' <span style="color:#6b7280">({e(_status(ticket.status, recipient))})</span></p>'
        )
    if link is not None:
        parts.append(
            f'<p><a href="{e(link[1])}" style="background:{primary};color:#ffffff;padding:8px 16px;'
            f'text-decoration:none;border-radius:4px;display:inline-block">{e(link[0])}</a></p>'
        )
    parts += [f"<p>{e(line)}</p>" for line in copy.extra]
    parts.append(f'<p style="{MUTED};font-size:12px;margin-top:24px">{e(footer)}</p>')
    parts.append("</div></body></html>")
    return "".join(parts)
