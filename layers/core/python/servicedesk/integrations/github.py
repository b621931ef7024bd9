"""GitHub: inbound webhooks that mention ticket numbers, and issues created from tickets.

Inbound (``POST /v1/hooks/github/{id}``, public: the signature is the
credential). Order (invariant 9): the body's size is capped before it is read; the
integration's webhook secret is looked up by the id in the path; ``X-Hub-Signature-256``
(``sha256=`` HMAC-SHA256 of the raw body) is compared in constant time; only then is any
header other than the signature or the body looked at. GitHub signs no timestamp, so a
replay is refused by its ``X-GitHub-Delivery`` id (unique per integration,
``integration_deliveries``) in the same transaction as what it writes.

References: a ticket is mentioned by its number as the desk shows it, the tenant's prefix,
the year and the sequence (``TCK-2026-000123``; ``tickets/numbering.py``), anywhere in the
issue's or PR's title or body or in the comment. ``issues``, ``issue_comment`` and
``pull_request`` deliveries link each mentioned ticket of the tenant to the issue or PR
(``integration_links``) and write an internal timeline entry (``github_referenced``); a
merged PR moves the tickets to the integration's ``pr_merged_status`` when set and allowed
from their status. Numbers of no ticket of the tenant are ignored; a delivery mentioning
none writes nothing (not even its id).

Outbound: ``POST /v1/tickets/{id}/github-issue`` writes a pending link and the outbox event
``integration.github.issue_requested``; the integrations consumer creates the issue
(``POST {api}/repos/{owner}/{repo}/issues``), and records its number and URL on the link
with an internal timeline entry (``github_issue_created``). A failed call fails the record:
SQS delivers it again, then to the DLQ.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from servicedesk.integrations import service
from servicedesk.integrations.models import Integration, IntegrationLink
from servicedesk.integrations.schemas import HookAnswer
from servicedesk.platform.config import Settings, get_settings
from servicedesk.platform.consumer import Envelope, claim
from servicedesk.platform.errors import (
    BadRequest,
    NotFound,
    Unauthorized,
    ValidationProblem,
    field_error,
)
from servicedesk.platform.tenancy import RequestContext
from servicedesk.tickets import states, timeline
from servicedesk.tickets.models import Ticket

SIGNATURE_HEADER = "X-Hub-Signature-256"
EVENT_HEADER = "X-GitHub-Event"
DELIVERY_HEADER = "X-GitHub-Delivery"
HANDLED = frozenset({"issues", "issue_comment", "pull_request"})
# A ticket number as tickets/numbering.py draws it: PREFIX-YYYY-NNNNNN (six digits or more).
REFERENCE = re.compile(r"(?<![A-Za-z0-9-])([A-Z]{2,8}-[0-9]{4}-[0-9]{6,9})(?![A-Za-z0-9])")
MAX_REFERENCES = 20
ISSUE_REQUESTED = "integration.github.issue_requested"
CHANNEL = "integrations"
API_VERSION = "2022-11-28"


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, header: str | None, body: bytes) -> None:
    """Constant-time comparison of ``X-Hub-Signature-256`` with ours; 401 otherwise."""
    expected = sign(secret, body)
    if header is None or not hmac.compare_digest(expected.encode(), header.strip().encode()):
        raise Unauthorized(
            "missing or invalid X-Hub-Signature-256",
            headers={"WWW-Authenticate": f'{SIGNATURE_HEADER} realm="servicedesk-github"'},
        )


def references(*texts: str | None) -> list[str]:
    """The ticket numbers mentioned, in order of first mention, at most MAX_REFERENCES."""
    found: list[str] = []
    for value in texts:
        for match in REFERENCE.finditer(value or ""):
            if match.group(1) not in found:
                found.append(match.group(1))
    return found[:MAX_REFERENCES]


def _object(event: str, payload: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(link kind, the issue or pull request) of a delivery."""
    if event == "pull_request":
        return "github_pull_request", dict(payload.get("pull_request") or {})
    issue = dict(payload.get("issue") or {})
    kind = "github_pull_request" if issue.get("pull_request") else "github_issue"
    return kind, issue


def _json(body: bytes) -> dict[str, Any]:
    try:
        raw = json.loads(body)
    except ValueError as exc:
        raise ValidationProblem(errors=[field_error("body", "malformed JSON")]) from exc
    if not isinstance(raw, dict):
        raise ValidationProblem(errors=[field_error("body", "must be a JSON object")])
    return raw


def _number_of(item: dict[str, Any]) -> int:
    number = item.get("number")
    if not isinstance(number, int) or isinstance(number, bool) or number < 1:
        raise ValidationProblem(errors=[field_error("body.number", "missing or not a number")])
    return number


def _text(value: Any, limit: int = 65536) -> str:
    return value[:limit] if isinstance(value, str) else ""


def receive(integration_id: uuid.UUID, headers: Mapping[str, str], body: bytes) -> HookAnswer:
    """One webhook delivery, its signature checked first; see the module's docstring."""
    from servicedesk.platform.db import transaction
    from servicedesk.platform.publisher import publish_committed

    with transaction() as session:
        found = service.inbound(session, integration_id, "github")
        secret = found.secret.get("webhook_secret")
        if not secret:
            raise NotFound("no such integration")
        verify(secret, headers.get(SIGNATURE_HEADER), body)
        # Verified: now the other headers and the body may be read.
        answer = _apply(session, found, headers, body)
    publish_committed(found.tenant_id, list(session.info.get("outbox_ids", [])))
    return answer


def _delivery_id(headers: Mapping[str, str]) -> str:
    value = (headers.get(DELIVERY_HEADER) or "").strip()
    if not 1 <= len(value) <= 200:
        raise BadRequest(
            f"{DELIVERY_HEADER} is required",
            errors=[field_error(DELIVERY_HEADER, "missing or longer than 200 characters")],
        )
    return value


def _apply(
    session: Session, found: service.Inbound, headers: Mapping[str, str], body: bytes
) -> HookAnswer:
    delivery = _delivery_id(headers)
    event = (headers.get(EVENT_HEADER) or "").strip()
    if event not in HANDLED:
        return HookAnswer(accepted=True, reason=f"event {event or '(none)'} not handled")
    payload = _json(body)
    kind, item = _object(event, payload)
    number = _number_of(item)
    comment = dict(payload.get("comment") or {}) if event == "issue_comment" else {}
    mentioned = references(
        _text(item.get("title")), _text(item.get("body")), _text(comment.get("body"))
    )
    tickets = (
        session.scalars(
            select(Ticket).where(Ticket.tenant_id == found.tenant_id, Ticket.number.in_(mentioned))
        ).all()
        if mentioned
        else []
    )
    if not tickets:
        return HookAnswer(accepted=True, reason="no ticket of this organisation is mentioned")
    if not service.first_delivery(session, found, delivery):
        return HookAnswer(accepted=True, duplicate=True, reason="delivery already received")
    action = _text(payload.get("action"), 40)
    merged = event == "pull_request" and action == "closed" and bool(item.get("merged"))
    url = _text(item.get("html_url"), 500) or None
    title = _text(item.get("title"), 256) or None
    for ticket in sorted(tickets, key=lambda t: t.number):
        link_id, new = service.link(
            session,
            tenant_id=found.tenant_id,
            integration_id=found.integration_id,
            ticket_id=ticket.id,
            kind=kind,
            external_id=str(number),
            url=url,
            title=title,
        )
        described = {
            "integration_id": found.integration_id,
            "kind": kind,
            "github_number": number,
            "title": title,
            "url": url,
            "event": event,
            "action": action,
            "merged": merged,
        }
        timeline.system_event(
            session,
            tenant_id=found.tenant_id,
            ticket_id=ticket.id,
            type_="github_referenced",
            payload=described,
        )
        if new:
            service.publish(
                session,
                found.tenant_id,
                service.LINKED,
                found.integration_id,
                {"ticket_id": ticket.id, "number": ticket.number, "link_id": link_id, **described},
            )
        if merged and found.config.get("pr_merged_status"):
            _move(session, found, ticket, states.Status(found.config["pr_merged_status"]), number)
    return HookAnswer(accepted=True, linked=sorted(t.number for t in tickets))


def _move(
    session: Session,
    found: service.Inbound,
    ticket: Ticket,
    target: states.Status,
    number: int,
) -> None:
    """A merged PR's status change, as the tenant's automation actor (staff's transitions),
    when the ticket's status allows it; otherwise nothing (the timeline says it merged)."""
    from servicedesk.automation.engine import actor_context
    from servicedesk.tickets import service as tickets

    ctx = actor_context(session, found.tenant_id)
    ctx.extra["integration"] = "github"
    if ticket.status == target.value or target not in tickets.allowed_transitions(ctx, ticket):
        return
    with session.begin_nested():
        tickets.apply_status(ctx, ticket, target)
        session.flush()


# --- outbound: an issue from a ticket ------------------------------------------------------


def request_issue(
    ctx: RequestContext, *, ticket_id: uuid.UUID, integration_id: uuid.UUID, title: str | None
) -> IntegrationLink:
    """A pending link and the event the consumer creates the issue from (202)."""
    from servicedesk.tickets.service import get_visible

    ticket = get_visible(ctx, ticket_id)
    integration = ctx.session.get(Integration, integration_id)
    if (
        integration is None
        or integration.tenant_id != ctx.tenant_id
        or integration.kind != "github"
        or not integration.enabled
    ):
        raise ValidationProblem(
            errors=[field_error("integration_id", "no enabled GitHub integration with this id")]
        )
    title = title or f"{ticket.number}: {ticket.title}"[:256]
    link_id, _ = service.link(
        ctx.session,
        tenant_id=ctx.tenant_id,
        integration_id=integration.id,
        ticket_id=ticket.id,
        kind="github_issue",
        external_id=f"request:{uuid.uuid4()}",
        url=None,
        title=title,
        status="pending",
        created_by=ctx.user_id,
    )
    settings = get_settings()
    body = (
        f"Opened from service desk ticket {ticket.number}.\n\n"
        f"{settings.web_origin.rstrip('/')}/tickets/{ticket.id}"
    )
    service.publish(
        ctx.session,
        ctx.tenant_id,
        ISSUE_REQUESTED,
        integration.id,
        {
            "link_id": link_id,
            "ticket_id": ticket.id,
            "number": ticket.number,
            "title": title,
            "body": body,
            "actor_id": ctx.user_id,
        },
    )
    ctx.session.flush()
    link = ctx.session.get(IntegrationLink, link_id)
    assert link is not None
    return link


def api_base(config: dict[str, Any], settings: Settings) -> str:
    return str(config.get("api_url") or settings.github_api_url).rstrip("/")


def create_issue(session: Session, envelope: Envelope) -> None:
    """The consumer's side of ``request_issue``: once per event (claimed), retried by SQS
    when GitHub fails (the claim rolls back with the record's transaction)."""
    payload = envelope.payload
    link_id = uuid.UUID(str(payload["link_id"]))
    if not claim(session, envelope, channel=CHANNEL, recipient=str(link_id)):
        return
    link = session.get(IntegrationLink, link_id, with_for_update=True)
    if link is None or link.status != "pending":
        return  # the ticket or the integration was deleted meanwhile, or it is done
    integration = session.get(Integration, link.integration_id)
    if integration is None or not integration.enabled:
        link.status = "failed"
        link.data = {**link.data, "error": "the integration is disabled"}
        return
    settings = get_settings()
    token = service.read_secret(integration).get("token", "")
    owner, repo = integration.config["owner"], integration.config["repo"]
    answer = service.call(
        "POST",
        f"{api_base(integration.config, settings)}/repos/{owner}/{repo}/issues",
        headers={
            "Authorization": f"Bearer {token}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": API_VERSION,
        },
        json_body={"title": payload["title"], "body": payload["body"]},
        settings=settings,
    )
    number = answer.get("number")
    if not isinstance(number, int):
        raise service.CallFailed("GitHub's answer has no issue number")
    link.external_id = str(number)
    link.url = _text(answer.get("html_url"), 500) or None
    link.status = "linked"
    described = {
        "integration_id": integration.id,
        "kind": "github_issue",
        "github_number": number,
        "title": link.title,
        "url": link.url,
    }
    timeline.system_event(
        session,
        tenant_id=envelope.tenant_id,
        ticket_id=link.ticket_id,
        type_="github_issue_created",
        payload=described,
    )
    service.publish(
        session,
        envelope.tenant_id,
        service.LINKED,
        integration.id,
        {"ticket_id": link.ticket_id, "number": payload.get("number"), "link_id": link.id}
        | described,
    )
