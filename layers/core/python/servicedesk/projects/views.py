"""Tasks as the API shows them: key, column category, assignee and watchers, what blocks
them, their ticket links (the tickets the caller may see). One query per kind for a page."""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Any

from sqlalchemy import select, text

from servicedesk.platform.tenancy import RequestContext
from servicedesk.projects import access
from servicedesk.projects.models import Project, ProjectColumn, Task

_BLOCKERS = text(
    """
    SELECT d.successor_id, p.id AS task_id, pr.key || '-' || p.number AS key, p.title,
           c.category <> 'done' AS open
    FROM task_dependencies d
    JOIN project_tasks p ON p.id = d.predecessor_id
    JOIN projects pr ON pr.id = p.project_id
    JOIN project_columns c ON c.id = p.column_id
    WHERE d.successor_id = ANY(CAST(:ids AS uuid[]))
    ORDER BY p.number
    """
)
_WATCHERS = text(
    "SELECT task_id, user_id FROM task_watchers WHERE task_id = ANY(CAST(:ids AS uuid[]))"
)


def _ticket_links(ctx: RequestContext, ids: list[str]) -> dict[uuid.UUID, list[dict[str, Any]]]:
    from servicedesk.projects.models import TaskTicketLink
    from servicedesk.tickets.models import Ticket
    from servicedesk.tickets.service import load_settings
    from servicedesk.tickets.visibility import visible

    rows = ctx.session.execute(
        select(TaskTicketLink.task_id, Ticket.id, Ticket.number, Ticket.title, TaskTicketLink.waits)
        .join(Ticket, Ticket.id == TaskTicketLink.ticket_id)
        .where(TaskTicketLink.task_id.in_(ids), visible(ctx, load_settings(ctx)))
        .order_by(TaskTicketLink.created_at, Ticket.id)
    )
    found: dict[uuid.UUID, list[dict[str, Any]]] = defaultdict(list)
    for task_id, ticket_id, number, title, waits in rows:
        found[task_id].append(
            {"ticket_id": ticket_id, "number": number, "subject": title, "waits": waits}
        )
    return found


def tasks(ctx: RequestContext, found: list[Task]) -> list[dict[str, Any]]:
    if not found:
        return []
    ids = [str(t.id) for t in found]
    project_ids = {t.project_id for t in found}
    keys = dict(
        ctx.session.execute(
            select(Project.id, Project.key).where(Project.id.in_(project_ids))
        ).all()
    )
    categories = dict(
        ctx.session.execute(
            select(ProjectColumn.id, ProjectColumn.category).where(
                ProjectColumn.project_id.in_(project_ids)
            )
        ).all()
    )
    blockers: dict[uuid.UUID, list[dict[str, Any]]] = defaultdict(list)
    for row in ctx.session.execute(_BLOCKERS, {"ids": ids}).mappings():
        blockers[row["successor_id"]].append(
            {k: row[k] for k in ("task_id", "key", "title", "open")}
        )
    watchers: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    for task_id, user_id in ctx.session.execute(_WATCHERS, {"ids": ids}):
        watchers[task_id].append(user_id)
    people = access.users(
        ctx,
        {t.assignee_id for t in found if t.assignee_id}
        | {u for users in watchers.values() for u in users},
    )
    links = _ticket_links(ctx, ids)
    out = []
    for t in found:
        out.append(
            {
                **{c.key: getattr(t, c.key) for c in Task.__table__.columns},
                "key": f"{keys[t.project_id]}-{t.number}",
                "status_category": categories[t.column_id],
                "estimate_days": float(t.estimate_days),
                "assignee": people.get(t.assignee_id) if t.assignee_id else None,
                "watchers": sorted(
                    (people[u] for u in watchers[t.id]), key=lambda p: (p["name"].lower(), p["id"])
                ),
                "blocked_by": blockers[t.id],
                "ticket_links": links[t.id],
            }
        )
    return out


def task(ctx: RequestContext, found: Task) -> dict[str, Any]:
    return tasks(ctx, [found])[0]
