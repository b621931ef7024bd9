"""Slack: a tenant's own Slack app, installed into its workspace (OAuth v2), its signed
requests (slash command, interactivity, events) and the calls we make to Slack.

Install: an admin enters the app's client id, client secret and signing secret (Secrets
Manager), then ``POST /v1/integrations/{id}/slack/install`` answers Slack's consent URL
with a state: random, stored hashed with the admin who asked, valid
``slack_install_ttl_seconds``, single use. Slack sends the browser back to the public
callback, which refuses an unknown, used or expired state or one whose admin is no longer
an active admin, exchanges the code at ``oauth.v2.access`` and keeps the bot token in the
integration's secret and the workspace (team) id on the row.

Inbound (public routes per integration): the signing secret is found by the integration's
id, then ``X-Slack-Signature`` (``v0=`` HMAC-SHA256 over ``v0:{timestamp}:{raw body}``) is
compared in constant time and a timestamp outside ``slack_signature_window_seconds`` is
refused, before the body is parsed. A request from another workspace than the installed
one is refused (403). Everything that calls Slack back (a modal, a message, an unfurl, the
user's e-mail) is an outbox event ``integration.slack.*`` for the integrations consumer,
which retries it (SQS, then the DLQ); the inbound answer is immediate.

People: a Slack user is the desk account with the same e-mail, read with ``users.info`` and
only when Slack says the address is confirmed (``is_email_confirmed``), with an active
membership in the tenant. They act with their own role and visibility: a ticket opened
with ``/ticket`` is theirs; buttons assign to them or resolve as they may; a thread reply
becomes their comment only when they take part in the ticket (requester, assignee, a
participant, or staff of the tenant); an unfurl shows only tickets they may see.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets as random
import time
import urllib.parse
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from servicedesk.integrations import service
from servicedesk.integrations.models import Integration, IntegrationLink
from servicedesk.platform import audit
from servicedesk.platform.config import Settings, get_settings
from servicedesk.platform.consumer import Envelope, claim
from servicedesk.platform.errors import (
    BadRequest,
    Forbidden,
    NotFound,
    ProblemError,
    Unauthorized,
    ValidationProblem,
    field_error,
)
from servicedesk.platform.roles import Role
from servicedesk.platform.tenancy import RequestContext, member_access
from servicedesk.tickets import timeline
from servicedesk.tickets.models import Ticket

SIGNATURE_HEADER = "X-Slack-Signature"
TIMESTAMP_HEADER = "X-Slack-Request-Timestamp"
SCOPES = "commands,chat:write,users:read,users:read.email,links:read,links:write,channels:history"
MODAL_CALLBACK = "servicedesk_ticket"
INSTALLED = "integration.installed"
INSTALL = "integration.slack.install"
OPEN_MODAL = "integration.slack.open_modal"
CREATE_TICKET = "integration.slack.create_ticket"
ACTION = "integration.slack.action"
REPLY = "integration.slack.reply"
UNFURL = "integration.slack.unfurl"
CHANNEL = "integrations"
# Ticket events a team's channel hears (the outbox routes them to the integrations queue).
NOTIFIED = frozenset(
    {"ticket.created", "ticket.assigned", "ticket.status_changed", "comment.added"}
)
BUTTONS = frozenset({"assign_to_me", "resolve"})


# --- signatures -----------------------------------------------------------------------


def sign(secret: str, timestamp: str, body: bytes) -> str:
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def verify(
    secret: str, headers: Mapping[str, str], body: bytes, *, window: int, now: float
) -> None:
    """Constant-time check of ``X-Slack-Signature``, and a timestamp within ``window``."""
    timestamp = (headers.get(TIMESTAMP_HEADER) or "").strip()
    given = (headers.get(SIGNATURE_HEADER) or "").strip()
    fresh = timestamp.isdigit() and abs(now - int(timestamp)) <= window
    expected = sign(secret, timestamp, body)
    if not (hmac.compare_digest(expected.encode(), given.encode()) and fresh):
        raise Unauthorized(
            "missing, invalid or stale Slack signature",
            headers={"WWW-Authenticate": f'{SIGNATURE_HEADER} realm="servicedesk-slack"'},
        )


# --- install (OAuth v2) ---------------------------------------------------------------


def _state_hash(state: str) -> bytes:
    return hashlib.sha256(state.encode()).digest()


def callback_url(settings: Settings) -> str:
    return f"{settings.web_origin.rstrip('/')}/v1/hooks/slack/oauth/callback"


def start_install(ctx: RequestContext, *, integration_id: uuid.UUID) -> dict[str, str]:
    integration = service.get_integration(ctx, integration_id=integration_id)
    if integration.kind != "slack":
        raise NotFound("no such Slack integration")
    settings = get_settings()
    state = random.token_urlsafe(32)
    ctx.session.execute(
        text(
            "DELETE FROM integration_oauth_states WHERE ctid IN (SELECT ctid"
            " FROM integration_oauth_states WHERE tenant_id = :t AND expires_at < now()"
            " LIMIT :n)"
        ),
        {"t": ctx.tenant_id, "n": service.PRUNE_BATCH},
    )
    ctx.session.execute(
        text(
            "INSERT INTO integration_oauth_states"
            " (state_hash, tenant_id, integration_id, user_id, expires_at)"
            " VALUES (:h, :t, :i, :u, now() + make_interval(secs => :ttl))"
        ),
        {
            "h": _state_hash(state),
            "t": ctx.tenant_id,
            "i": integration.id,
            "u": ctx.user_id,
            "ttl": settings.slack_install_ttl_seconds,
        },
    )
    query = urllib.parse.urlencode(
        {
            "client_id": integration.config["client_id"],
            "scope": SCOPES,
            "redirect_uri": callback_url(settings),
            "state": state,
        }
    )
    return {"authorize_url": f"{settings.slack_authorize_url}?{query}"}


def finish_install(*, state: str, code: str | None, error: str | None) -> str:
    """The callback: where the browser goes next (the admin screen). A bad state is a 400
    problem: nothing is exchanged, nothing written. A good one hands the code to the
    integrations consumer (``integration.slack.install``), which exchanges it at
    ``oauth.v2.access``: the API function reaches no service on the internet."""
    from servicedesk.platform.db import set_tenant, transaction
    from servicedesk.platform.publisher import publish_committed

    settings = get_settings()
    refused = BadRequest(
        "unknown, used or expired install state",
        errors=[field_error("state", "start the installation again")],
    )
    back = f"{settings.web_origin.rstrip('/')}/admin/integrations"
    with transaction() as session:
        digest = _state_hash(state)
        tenant_id = session.execute(
            text("SELECT integration_oauth_tenant(:h)"), {"h": digest}
        ).scalar_one_or_none()
        if tenant_id is None:
            raise refused
        set_tenant(session, tenant_id=tenant_id, user_id=None)
        row = session.execute(
            text(
                "UPDATE integration_oauth_states SET used_at = now()"
                " WHERE state_hash = :h AND used_at IS NULL AND expires_at > now()"
                " RETURNING integration_id, user_id"
            ),
            {"h": digest},
        ).first()
        admin = (
            None
            if row is None
            else session.execute(
                text(
                    "SELECT 1 FROM memberships WHERE tenant_id = :t AND user_id = :u"
                    " AND role = 'admin' AND active"
                ),
                {"t": tenant_id, "u": row.user_id},
            ).first()
        )
        if row is None or admin is None or session.get(Integration, row.integration_id) is None:
            raise refused
        if error or not code:
            return f"{back}?slack=denied"
        service.publish(
            session,
            tenant_id,
            INSTALL,
            row.integration_id,
            {"code": code, "actor_id": str(row.user_id)},
        )
    publish_committed(tenant_id, list(session.info.get("outbox_ids", [])))
    return f"{back}?slack=installing"


def _exchange(session: Session, envelope: Envelope) -> None:
    """The consumer's side of the install: the code for the bot token (kept in the
    integration's secret), the workspace on the row; audited and published."""
    integration_id = uuid.UUID(str(envelope.payload["integration_id"]))
    integration = session.get(Integration, integration_id, with_for_update=True)
    if integration is None:
        return
    settings = get_settings()
    answer = service.call(
        "POST",
        f"{settings.slack_api_url.rstrip('/')}/oauth.v2.access",
        headers={},
        form={
            "client_id": str(integration.config["client_id"]),
            "client_secret": service.read_secret(integration).get("client_secret", ""),
            "code": str(envelope.payload["code"]),
            "redirect_uri": callback_url(settings),
        },
        settings=settings,
    )
    actor = uuid.UUID(str(envelope.payload["actor_id"]))
    ctx = RequestContext(session, envelope.tenant_id, actor, Role.ADMIN)
    team = answer.get("team") or {}
    token = answer.get("access_token")
    if not answer.get("ok") or not isinstance(token, str) or not team.get("id"):
        # A refused code is not retried (it is single use): the admin starts again.
        audit.record(
            ctx,
            action="integration.install_failed",
            entity_type="integration",
            entity_id=integration.id,
            data={"error": str(answer.get("error", "no token"))[:100]},
        )
        return
    taken = session.execute(
        text("SELECT 1 FROM integrations WHERE kind = 'slack' AND external_id = :x AND id <> :i"),
        {"x": str(team["id"]), "i": integration.id},
    ).first()
    if taken is not None:  # this tenant's: RLS shows no other's (the unique index would)
        return
    service.store_secret(integration, bot_token=token)
    integration.external_id = str(team["id"])
    integration.config = {
        **integration.config,
        "team_id": str(team["id"]),
        "team_name": str(team.get("name", ""))[:200],
        "bot_user_id": str(answer.get("bot_user_id", ""))[:64],
    }
    integration.version += 1
    described = {"team_id": team["id"], "team_name": integration.config["team_name"]}
    audit.record(
        ctx, action=INSTALLED, entity_type="integration", entity_id=integration.id, data=described
    )
    service.publish(
        session, envelope.tenant_id, INSTALLED, integration.id, {**described, "actor_id": actor}
    )


# --- inbound --------------------------------------------------------------------------


def receive(
    kind: str,
    integration_id: uuid.UUID,
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: float | None = None,
) -> Any:
    """A signed Slack request: ``commands``, ``interactions`` or ``events``."""
    from servicedesk.platform.db import transaction
    from servicedesk.platform.publisher import publish_committed

    settings = get_settings()
    with transaction() as session:
        found = service.inbound(session, integration_id, "slack")
        secret = found.secret.get("signing_secret")
        if not secret:
            raise NotFound("no such integration")
        verify(
            secret,
            headers,
            body,
            window=settings.slack_signature_window_seconds,
            now=time.time() if now is None else now,
        )
        # Verified: the body may be read now.
        answer = _HANDLERS[kind](session, found, headers, body)
    publish_committed(found.tenant_id, list(session.info.get("outbox_ids", [])))
    return answer


def _form(body: bytes) -> dict[str, str]:
    try:
        pairs = urllib.parse.parse_qsl(body.decode("utf-8"), max_num_fields=50)
    except (UnicodeDecodeError, ValueError) as exc:
        raise ValidationProblem(errors=[field_error("body", "not a URL-encoded form")]) from exc
    return dict(pairs)


def _json_object(raw: str | bytes, field: str) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise ValidationProblem(errors=[field_error(field, "malformed JSON")]) from exc
    if not isinstance(value, dict):
        raise ValidationProblem(errors=[field_error(field, "must be a JSON object")])
    return value


def _required(values: Mapping[str, Any], name: str, field: str | None = None) -> str:
    value = values.get(name)
    if not isinstance(value, str) or not value or len(value) > 3000:
        raise ValidationProblem(errors=[field_error(field or name, "required")])
    return value


def _same_team(found: service.Inbound, team_id: str | None) -> None:
    if found.external_id is None:
        raise Forbidden("the Slack app is not installed yet")
    if team_id != found.external_id:
        raise Forbidden(
            "this request comes from another Slack workspace",
            errors=[field_error("team_id", "not the installed workspace")],
        )


def _command(
    session: Session, found: service.Inbound, headers: Mapping[str, str], body: bytes
) -> dict[str, Any]:
    form = _form(body)
    _same_team(found, form.get("team_id"))
    command = _required(form, "command")
    if command != "/ticket":
        return {"response_type": "ephemeral", "text": f"Unknown command {command[:40]}"}
    service.publish(
        session,
        found.tenant_id,
        OPEN_MODAL,
        found.integration_id,
        {
            "trigger_id": _required(form, "trigger_id"),
            "slack_user": _required(form, "user_id"),
            "channel": form.get("channel_id", ""),
            "text": form.get("text", "")[:200],
        },
    )
    return {"response_type": "ephemeral", "text": "Opening the ticket form..."}


def _modal_values(view: dict[str, Any]) -> tuple[str, str]:
    state = ((view.get("state") or {}).get("values")) or {}
    title = ((state.get("title") or {}).get("value") or {}).get("value") or ""
    description = ((state.get("description") or {}).get("value") or {}).get("value") or ""
    return str(title).strip(), str(description).strip()


def _interaction(
    session: Session, found: service.Inbound, headers: Mapping[str, str], body: bytes
) -> dict[str, Any] | None:
    payload = _json_object(_required(_form(body), "payload"), "payload")
    _same_team(found, (payload.get("team") or {}).get("id"))
    user = _required(payload.get("user") or {}, "id", "user.id")
    if payload.get("type") == "view_submission":
        return _submission(session, found, user, dict(payload.get("view") or {}))
    if payload.get("type") == "block_actions":
        _pressed(session, found, user, payload)
    return None


def _submission(
    session: Session, found: service.Inbound, user: str, view: dict[str, Any]
) -> dict[str, Any] | None:
    """The /ticket modal submitted: its errors at once, else the ticket (the consumer)."""
    if view.get("callback_id") != MODAL_CALLBACK:
        return None
    title, description = _modal_values(view)
    if not 1 <= len(title) <= 200:
        return {"response_action": "errors", "errors": {"title": "1 to 200 characters"}}
    view_id = _required(view, "id", "view.id")
    if service.first_delivery(session, found, f"view:{view_id}"):
        service.publish(
            session,
            found.tenant_id,
            CREATE_TICKET,
            found.integration_id,
            {
                "slack_user": user,
                "title": title,
                "description": description[:10000],
                "channel": str(view.get("private_metadata") or "")[:64],
            },
        )
    return None


def _pressed(session: Session, found: service.Inbound, user: str, payload: dict[str, Any]) -> None:
    """A button of a ticket's announcement: done by the consumer as the Slack user."""
    actions = payload.get("actions") or []
    action = actions[0] if actions and isinstance(actions[0], dict) else {}
    name = action.get("action_id")
    if name not in BUTTONS:
        return
    try:
        ticket_id = uuid.UUID(str(action.get("value")))
    except ValueError as exc:
        raise ValidationProblem(errors=[field_error("actions.value", "not a ticket")]) from exc
    delivery = f"action:{user}:{action.get('action_ts') or payload.get('trigger_id')}"
    if not service.first_delivery(session, found, delivery[:200]):
        return
    message = payload.get("message") or {}
    service.publish(
        session,
        found.tenant_id,
        ACTION,
        found.integration_id,
        {
            "slack_user": user,
            "action": name,
            "ticket_id": ticket_id,
            "channel": (payload.get("channel") or {}).get("id") or "",
            "thread_ts": message.get("thread_ts") or message.get("ts") or "",
        },
    )


def _event(
    session: Session, found: service.Inbound, headers: Mapping[str, str], body: bytes
) -> dict[str, Any] | None:
    payload = _json_object(body, "body")
    if payload.get("type") == "url_verification":
        return {"challenge": str(payload.get("challenge", ""))[:200]}
    if payload.get("type") != "event_callback":
        return None
    _same_team(found, payload.get("team_id"))
    event_id = _required(payload, "event_id")
    event = dict(payload.get("event") or {})
    if event.get("type") == "message":
        thread = event.get("thread_ts")
        if (
            not thread
            or thread == event.get("ts")
            or event.get("bot_id")
            or event.get("subtype")
            or not event.get("user")
        ):
            return None  # not a person's reply in a thread
        channel = str(event.get("channel", ""))
        link = session.scalar(
            select(IntegrationLink).where(
                IntegrationLink.integration_id == found.integration_id,
                IntegrationLink.kind == "slack_thread",
                IntegrationLink.external_id == f"{channel}:{thread}",
            )
        )
        if link is None or not service.first_delivery(session, found, event_id):
            return None
        service.publish(
            session,
            found.tenant_id,
            REPLY,
            found.integration_id,
            {
                "slack_user": str(event["user"]),
                "ticket_id": link.ticket_id,
                "text": str(event.get("text", ""))[:10000],
                "ts": str(event.get("ts", "")),
            },
        )
    elif event.get("type") == "link_shared":
        links = [str(item.get("url", ""))[:500] for item in (event.get("links") or [])[:10]]
        if not links or not service.first_delivery(session, found, event_id):
            return None
        service.publish(
            session,
            found.tenant_id,
            UNFURL,
            found.integration_id,
            {
                "slack_user": str(event.get("user", "")),
                "channel": str(event.get("channel", "")),
                "message_ts": str(event.get("message_ts", "")),
                "unfurl_id": str(event.get("unfurl_id", "")),
                "source": str(event.get("source", "")),
                "links": links,
            },
        )
    return None


_HANDLERS = {"commands": _command, "interactions": _interaction, "events": _event}


# --- the consumer's side: calls to Slack ------------------------------------------------


class Slack:
    """One installed integration, as the consumer calls Slack with it."""

    def __init__(self, session: Session, integration: Integration) -> None:
        self.session = session
        self.integration = integration
        self.settings = get_settings()
        self.token = service.read_secret(integration).get("bot_token", "")

    def api(self, method: str, body: dict[str, Any]) -> dict[str, Any]:
        answer = service.call(
            "POST",
            f"{self.settings.slack_api_url.rstrip('/')}/{method}",
            headers={"Authorization": f"Bearer {self.token}"},
            json_body=body,
            settings=self.settings,
        )
        if not answer.get("ok"):
            raise service.CallFailed(f"Slack {method}: {str(answer.get('error'))[:80]}")
        return answer

    def person(self, slack_user: str) -> RequestContext | None:
        """The desk account of a Slack user: same confirmed e-mail, active member."""
        from servicedesk.mail.people import member
        from servicedesk.platform.db import set_tenant

        if not slack_user:
            return None
        answer = self.api("users.info", {"user": slack_user})
        user = answer.get("user") or {}
        email = (user.get("profile") or {}).get("email")
        if not isinstance(email, str) or not email or user.get("is_email_confirmed") is not True:
            return None
        found = member(self.session, self.integration.tenant_id, email)
        if found is None or not found.active:
            return None
        set_tenant(self.session, tenant_id=self.integration.tenant_id, user_id=found.user_id)
        # Their permissions read now (a custom role's, else the built-in role's).
        granted = member_access(self.session, self.integration.tenant_id, found.user_id)
        if granted is None:
            return None
        return RequestContext.of(
            self.session,
            self.integration.tenant_id,
            found.user_id,
            granted[0],
            granted[1],
            request_id=f"slack:{self.integration.id}",
        )

    def tell(self, channel: str, user: str, message: str) -> None:
        if channel and user:
            self.api("chat.postEphemeral", {"channel": channel, "user": user, "text": message})


def _installed(session: Session, integration_id: uuid.UUID) -> Integration | None:
    found = session.get(Integration, integration_id)
    if found is None or not found.enabled or found.external_id is None:
        return None
    return found


def ticket_url(ticket_id: object, settings: Settings) -> str:
    return f"{settings.web_origin.rstrip('/')}/tickets/{ticket_id}"


def _modal(text_value: str, channel: str) -> dict[str, Any]:
    def field(block: str, label: str, multiline: bool, initial: str = "") -> dict[str, Any]:
        element: dict[str, Any] = {
            "type": "plain_text_input",
            "action_id": "value",
            "multiline": multiline,
        }
        if initial:
            element["initial_value"] = initial
        return {
            "type": "input",
            "block_id": block,
            "label": {"type": "plain_text", "text": label},
            "element": element,
            "optional": multiline,
        }

    return {
        "type": "modal",
        "callback_id": MODAL_CALLBACK,
        "private_metadata": channel,
        "title": {"type": "plain_text", "text": "New ticket"},
        "submit": {"type": "plain_text", "text": "Open"},
        "blocks": [
            field("title", "Title", False, text_value),
            field("description", "Description", True),
        ],
    }


def _announcement(ticket: Ticket, settings: Settings) -> dict[str, Any]:
    url = ticket_url(ticket.id, settings)
    return {
        "text": f"{ticket.number}: {ticket.title}",
        "blocks": [
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": f"*<{url}|{ticket.number}>* {ticket.title}"},
            },
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "action_id": "assign_to_me",
                        "text": {"type": "plain_text", "text": "Assign to me"},
                        "value": str(ticket.id),
                    },
                    {
                        "type": "button",
                        "action_id": "resolve",
                        "text": {"type": "plain_text", "text": "Resolve"},
                        "value": str(ticket.id),
                    },
                ],
            },
        ],
    }


def process(session: Session, envelope: Envelope) -> None:
    """The integrations consumer's Slack work: a job of ours, or a ticket event to announce."""
    if envelope.type in NOTIFIED:
        _notify(session, envelope)
        return
    integration_id = uuid.UUID(str(envelope.payload["integration_id"]))
    if not claim(session, envelope, channel=CHANNEL, recipient=f"slack:{integration_id}"):
        return
    if envelope.type == INSTALL:
        _exchange(session, envelope)
        return
    integration = _installed(session, integration_id)
    if integration is None:
        return  # disconnected or disabled meanwhile: nothing to say to Slack
    slack = Slack(session, integration)
    payload = envelope.payload
    if envelope.type == OPEN_MODAL:
        slack.api(
            "views.open",
            {
                "trigger_id": payload["trigger_id"],
                "view": _modal(payload.get("text", ""), payload.get("channel", "")),
            },
        )
    elif envelope.type == CREATE_TICKET:
        _create_ticket(slack, payload)
    elif envelope.type == ACTION:
        _button(slack, payload)
    elif envelope.type == REPLY:
        _reply(slack, payload)
    elif envelope.type == UNFURL:
        _unfurl(slack, payload)


def _create_ticket(slack: Slack, payload: dict[str, Any]) -> None:
    from servicedesk.tickets import service as tickets
    from servicedesk.tickets.schemas import TicketCreate

    ctx = slack.person(payload["slack_user"])
    if ctx is None:
        slack.tell(payload["channel"], payload["slack_user"], "No desk account has your e-mail.")
        return
    try:
        with ctx.session.begin_nested():
            data = TicketCreate(title=payload["title"], description=payload["description"])
            ticket = tickets.create(ctx, data=data, channel="slack")
    except ProblemError as exc:
        slack.tell(payload["channel"], payload["slack_user"], f"Not opened: {exc.title}")
        return
    url = ticket_url(ticket.id, slack.settings)
    slack.tell(payload["channel"], payload["slack_user"], f"Opened <{url}|{ticket.number}>")


def _button(slack: Slack, payload: dict[str, Any]) -> None:
    from servicedesk.tickets import service as tickets
    from servicedesk.tickets import states
    from servicedesk.tickets.schemas import AssignRequest

    ctx = slack.person(payload["slack_user"])
    ticket_id = uuid.UUID(str(payload["ticket_id"]))
    if ctx is None or not ctx.is_staff:
        slack.tell(payload["channel"], payload["slack_user"], "Only the desk's staff can do that.")
        return
    try:
        with ctx.session.begin_nested():
            if payload["action"] == "assign_to_me":
                current = tickets.get_visible(ctx, ticket_id)
                tickets.assign(
                    ctx,
                    ticket_id=ticket_id,
                    data=AssignRequest(assignee_id=ctx.user_id, version=current.version),
                )
                done = "assigned to you"
            else:
                tickets.transition(
                    ctx, ticket_id=ticket_id, to=states.Status.RESOLVED, version=None
                )
                done = "resolved"
    except ProblemError as exc:
        slack.tell(payload["channel"], payload["slack_user"], f"Not done: {exc.title}")
        return
    slack.tell(payload["channel"], payload["slack_user"], f"The ticket is {done}.")


def _reply(slack: Slack, payload: dict[str, Any]) -> None:
    from servicedesk.tickets import comments
    from servicedesk.tickets import service as tickets
    from servicedesk.tickets.schemas import CommentCreate

    ctx = slack.person(payload["slack_user"])
    if ctx is None or not payload.get("text"):
        return
    ticket_id = uuid.UUID(str(payload["ticket_id"]))
    try:
        with ctx.session.begin_nested():
            ticket = tickets.get_visible(ctx, ticket_id)
            if not (ctx.is_staff or _participant(ctx, ticket)):
                return
            visibility = "internal" if ctx.is_staff else "public"
            comments.add(
                ctx,
                ticket_id=ticket_id,
                data=CommentCreate(body=payload["text"], visibility=visibility),
            )
    except ProblemError:
        return  # not theirs to comment on (closed, locked, ...): the thread keeps it


def _participant(ctx: RequestContext, ticket: Ticket) -> bool:
    if ctx.user_id in (ticket.requester_id, ticket.assignee_id):
        return True
    row = ctx.session.execute(
        text("SELECT 1 FROM ticket_participants WHERE ticket_id = :t AND user_id = :u"),
        {"t": ticket.id, "u": ctx.user_id},
    ).first()
    return row is not None


def _unfurl(slack: Slack, payload: dict[str, Any]) -> None:
    from servicedesk.tickets import service as tickets

    ctx = slack.person(payload.get("slack_user", ""))
    if ctx is None:
        return
    prefix = f"{slack.settings.web_origin.rstrip('/')}/tickets/"
    unfurls: dict[str, Any] = {}
    for url in payload.get("links", []):
        if not url.startswith(prefix):
            continue
        try:
            ticket_id = uuid.UUID(url[len(prefix) :].split("?")[0].split("/")[0])
            ticket = tickets.get_visible(ctx, ticket_id)
        except (ValueError, ProblemError):
            continue  # not a ticket, or not one this person may see: no preview
        unfurls[url] = {
            "blocks": [
                {
                    "type": "section",
                    "text": {
                        "type": "mrkdwn",
                        "text": f"*{ticket.number}* {ticket.title}\nStatus: {ticket.status}",
                    },
                }
            ]
        }
    if unfurls:
        body: dict[str, Any] = {"unfurls": unfurls}
        if payload.get("unfurl_id"):
            body |= {"unfurl_id": payload["unfurl_id"], "source": payload.get("source") or ""}
        else:
            body |= {"channel": payload["channel"], "ts": payload["message_ts"]}
        slack.api("chat.unfurl", body)


# --- ticket notifications to a team's channel ---------------------------------------------


def _notify(session: Session, envelope: Envelope) -> None:
    ticket_id = envelope.payload.get("ticket_id")
    if ticket_id is None:
        return
    for integration in session.scalars(
        select(Integration).where(
            Integration.tenant_id == envelope.tenant_id,
            Integration.kind == "slack",
            Integration.enabled,
            Integration.external_id.is_not(None),
        )
    ).all():
        if not claim(session, envelope, channel=CHANNEL, recipient=f"slack:{integration.id}"):
            continue
        _notify_one(session, integration, envelope, uuid.UUID(str(ticket_id)))


def _notify_one(
    session: Session, integration: Integration, envelope: Envelope, ticket_id: uuid.UUID
) -> None:
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        return
    channels = integration.config.get("channels") or {}
    channel = channels.get(str(ticket.team_id)) or integration.config.get("default_channel")
    if not channel:
        return
    slack = Slack(session, integration)
    thread = session.scalar(
        select(IntegrationLink).where(
            IntegrationLink.integration_id == integration.id,
            IntegrationLink.ticket_id == ticket.id,
            IntegrationLink.kind == "slack_thread",
        )
    )
    if thread is None:
        answer = slack.api(
            "chat.postMessage", {"channel": channel, **_announcement(ticket, slack.settings)}
        )
        ts = str(answer.get("ts", ""))
        service.link(
            session,
            tenant_id=ticket.tenant_id,
            integration_id=integration.id,
            ticket_id=ticket.id,
            kind="slack_thread",
            external_id=f"{channel}:{ts}",
            url=None,
            title=ticket.title,
            data={"channel": channel, "thread_ts": ts},
        )
        timeline.system_event(
            session,
            tenant_id=ticket.tenant_id,
            ticket_id=ticket.id,
            type_="slack_thread_started",
            payload={"integration_id": integration.id, "channel": channel, "thread_ts": ts},
        )
        if envelope.type == "ticket.created":
            return
    else:
        channel, ts = thread.data.get("channel", channel), thread.data.get("thread_ts", "")
    slack.api(
        "chat.postMessage",
        {"channel": channel, "thread_ts": ts, "text": _line(session, envelope, ticket)},
    )


def _line(session: Session, envelope: Envelope, ticket: Ticket) -> str:
    payload = envelope.payload
    if envelope.type == "ticket.status_changed":
        return f"Status: {payload.get('status_from')} → {payload.get('status_to')}"
    if envelope.type == "ticket.assigned":
        return "Assigned" if payload.get("assignee_id") else "Unassigned"
    if envelope.type == "comment.added":
        if payload.get("visibility") != "public":
            return "An internal note was added."
        body = session.execute(
            text("SELECT body FROM ticket_comments WHERE id = :c"), {"c": payload.get("comment_id")}
        ).scalar_one_or_none()
        return f"New reply: {str(body or '')[:500]}"
    return f"{ticket.number} updated"
