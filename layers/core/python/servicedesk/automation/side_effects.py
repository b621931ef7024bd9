"""The ``notify`` and ``webhook`` actions (automation rules only), registered with the
actions executor. Both leave through the outbox, in the rule's transaction: nothing is sent
unless the change that fired the rule commits.

- ``notify``: the recipients (``requester``, ``assignee``, ``team``, ``participants`` or
  user ids) are resolved to people when the rule fires, the subject and body rendered from
  their templates (servicedesk.actions.placeholders); the outbox event
  ``automation.notify`` reaches the e-mail consumer, which writes the in-app notification
  and sends the e-mail as each recipient's preferences allow (they may switch
  ``automation.notify`` off like any other notification).
- ``webhook``: the outbox event ``automation.webhook`` reaches the webhook consumer, which
  delivers it to that one endpoint (signed, logged and retried like every delivery).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import text

from servicedesk.actions import executor, placeholders
from servicedesk.actions.executor import Run, Status, check_template
from servicedesk.actions.schemas import Notify, Webhook
from servicedesk.platform import outbox
from servicedesk.platform.errors import field_error
from servicedesk.platform.tenancy import RequestContext

NOTIFY_EVENT = "automation.notify"
WEBHOOK_EVENT = "automation.webhook"


def _check_notify(ctx: RequestContext, action: Notify, where: str) -> list[dict[str, Any]]:
    errors = check_template(action.subject, f"{where}.subject")
    errors += check_template(action.body, f"{where}.body")
    ids = [r for r in action.to if isinstance(r, uuid.UUID)]
    if ids:
        active = {
            str(u)
            for u in ctx.session.execute(
                text(
                    "SELECT user_id FROM memberships WHERE tenant_id = :t AND active"
                    " AND user_id = ANY(:ids)"
                ),
                {"t": ctx.tenant_id, "ids": ids},
            ).scalars()
        }
        for i, recipient in enumerate(action.to):
            if isinstance(recipient, uuid.UUID) and str(recipient) not in active:
                errors.append(field_error(f"{where}.to.{i}", "not an active member"))
    return errors


def _recipients(run: Run, action: Notify) -> list[uuid.UUID]:
    ticket = run.ticket()
    found: list[uuid.UUID] = []
    for recipient in action.to:
        if isinstance(recipient, uuid.UUID):
            found.append(recipient)
        elif recipient == "requester":
            found.append(ticket.requester_id)
        elif recipient == "assignee" and ticket.assignee_id is not None:
            found.append(ticket.assignee_id)
        elif recipient == "team" and ticket.team_id is not None:
            found.extend(
                run.ctx.session.execute(
                    text(
                        "SELECT user_id FROM team_members WHERE tenant_id = :t"
                        " AND team_id = :team AND active ORDER BY user_id"
                    ),
                    {"t": run.ctx.tenant_id, "team": ticket.team_id},
                ).scalars()
            )
        elif recipient == "participants":
            found.extend(
                run.ctx.session.execute(
                    text(
                        "SELECT user_id FROM ticket_participants WHERE tenant_id = :t"
                        " AND ticket_id = :k ORDER BY user_id"
                    ),
                    {"t": run.ctx.tenant_id, "k": ticket.id},
                ).scalars()
            )
    return list(dict.fromkeys(found))


def _apply_notify(run: Run, action: Notify) -> Status:
    ticket = run.ticket()
    people = _recipients(run, action)
    if not people:
        return "unchanged"
    values = placeholders.load(run.ctx, ticket, agent_id=None)
    outbox.emit(
        run.ctx.session,
        tenant_id=run.ctx.tenant_id,
        event_type=NOTIFY_EVENT,
        aggregate_type="ticket",
        aggregate_id=ticket.id,
        payload={
            "ticket_id": ticket.id,
            "number": ticket.number,
            "actor_id": run.ctx.user_id,
            "rule_id": run.extra.get("rule_id"),
            "user_ids": people,
            "subject": placeholders.render(action.subject, values)[:200],
            "body": placeholders.render(action.body, values)[:50000],
        },
    )
    return "applied"


def _check_webhook(ctx: RequestContext, action: Webhook, where: str) -> list[dict[str, Any]]:
    found = ctx.session.execute(
        text("SELECT 1 FROM webhook_endpoints WHERE tenant_id = :t AND id = :id AND active"),
        {"t": ctx.tenant_id, "id": action.webhook_id},
    ).first()
    return [] if found else [field_error(f"{where}.webhook_id", "no such active webhook")]


def _apply_webhook(run: Run, action: Webhook) -> Status:
    ticket = run.ticket()
    outbox.emit(
        run.ctx.session,
        tenant_id=run.ctx.tenant_id,
        event_type=WEBHOOK_EVENT,
        aggregate_type="ticket",
        aggregate_id=ticket.id,
        payload={
            "webhook_id": action.webhook_id,
            "rule_id": run.extra.get("rule_id"),
            "rule_name": run.extra.get("rule_name"),
            "ticket_id": ticket.id,
            "number": ticket.number,
            "ticket": {
                "title": ticket.title,
                "status": ticket.status,
                "priority": ticket.priority,
                "team_id": ticket.team_id,
                "assignee_id": ticket.assignee_id,
                "requester_id": ticket.requester_id,
                "category_id": ticket.category_id,
                "tags": list(ticket.tags or []),
                "version": ticket.version,
            },
        },
    )
    return "applied"


executor.register("notify", check=_check_notify, apply=_apply_notify)
executor.register("webhook", check=_check_webhook, apply=_apply_webhook)
