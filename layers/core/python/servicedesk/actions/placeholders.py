"""``{{name}}`` placeholders in reply, note and notification templates.

A closed catalogue: a template naming anything else is refused when it is saved, with
every unknown name listed (``unknown``). Rendering is one pass over the template: values
are inserted as plain text and never read again as template (a requester named
``{{ticket.number}}`` stays that text), there is no logic, loops or filters, so a template's
cost is linear in its length. Values that do not apply (no assignee) render empty.
Comments are plain text in the app and escaped in e-mail, so values need no escaping here.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text

from servicedesk.platform.config import get_settings
from servicedesk.platform.tenancy import RequestContext
from servicedesk.tickets import states
from servicedesk.tickets.models import Ticket

PATTERN = re.compile(r"\{\{\s*([a-z_]+(?:\.[a-z_]+)?)\s*\}\}")
# A placeholder-looking run that does not parse ("{{ Ticket.Number }}", "{{ a.b.c }}").
LOOSE = re.compile(r"\{\{([^{}]{0,80})\}\}")
MAX_PLACEHOLDERS = 100


@dataclass(frozen=True)
class Person:
    name: str
    email: str

    @property
    def first_name(self) -> str:
        return self.name.split()[0] if self.name.split() else ""


@dataclass(frozen=True)
class Values:
    """What the placeholders read, loaded once per ticket (``load``)."""

    ticket: Ticket
    requester: Person | None
    assignee: Person | None
    agent: Person | None
    team: str | None
    category: str | None
    tenant: str
    web_origin: str


def _person(attr: str) -> dict[str, Callable[[Values], str]]:
    def get(field: str) -> Callable[[Values], str]:
        def value(v: Values) -> str:
            person: Person | None = getattr(v, attr)
            return getattr(person, field) if person else ""

        return value

    return {f"{attr}.{field}": get(field) for field in ("name", "first_name", "email")}


CATALOGUE: Mapping[str, Callable[[Values], str]] = {
    "ticket.number": lambda v: v.ticket.number,
    "ticket.title": lambda v: v.ticket.title,
    "ticket.status": lambda v: states.label(v.ticket.status, staff=False),
    "ticket.priority": lambda v: v.ticket.priority,
    "ticket.url": lambda v: f"{v.web_origin.rstrip('/')}/tickets/{v.ticket.id}",
    "ticket.category": lambda v: v.category or "",
    "ticket.team": lambda v: v.team or "",
    **_person("requester"),
    **_person("assignee"),
    # The person applying a macro; an automation rule renders "" (no person).
    **_person("agent"),
    "tenant.name": lambda v: v.tenant,
}
# Documented descriptions, for the picker and docs/actions.md.
DESCRIPTIONS: Mapping[str, str] = {
    "ticket.number": "The ticket's number, e.g. SD-1042",
    "ticket.title": "The ticket's title",
    "ticket.status": "Its status as the requester sees it",
    "ticket.priority": "low, medium, high or critical",
    "ticket.url": "A link to the ticket in the app",
    "ticket.category": "Its category's name",
    "ticket.team": "Its team's name",
    "requester.name": "The requester's full name",
    "requester.first_name": "The first word of the requester's name",
    "requester.email": "The requester's e-mail address",
    "assignee.name": "The assignee's full name (empty when unassigned)",
    "assignee.first_name": "The first word of the assignee's name",
    "assignee.email": "The assignee's e-mail address",
    "agent.name": "The person applying the macro",
    "agent.first_name": "The first word of their name",
    "agent.email": "Their e-mail address",
    "tenant.name": "Your organisation's name",
}
assert set(DESCRIPTIONS) == set(CATALOGUE)


def unknown(template: str) -> list[str]:
    """The placeholder names in ``template`` outside the catalogue, in order, once each
    (a malformed ``{{...}}`` is listed as written)."""
    found: list[str] = []
    for match in LOOSE.finditer(template):
        exact = PATTERN.fullmatch(match.group(0))
        name = exact.group(1) if exact else match.group(1).strip()
        if (exact is None or name not in CATALOGUE) and name not in found:
            found.append(name)
    return found


def render(template: str, values: Values) -> str:
    """One pass; unknown names stay as written (``check`` refuses them before save)."""
    cache: dict[str, str] = {}

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        getter = CATALOGUE.get(name)
        if getter is None:
            return match.group(0)
        if name not in cache:
            cache[name] = getter(values)
        return cache[name]

    return PATTERN.sub(substitute, template)


def load(ctx: RequestContext, ticket: Ticket, *, agent_id: uuid.UUID | None) -> Values:
    """The people, team, category and tenant names for ``ticket``, one query."""
    row = ctx.session.execute(
        text(
            "SELECT r.name AS r_name, r.email AS r_email, a.name AS a_name,"
            " a.email AS a_email, g.name AS g_name, g.email AS g_email,"
            " tm.name AS team, c.name AS category, tn.name AS tenant"
            " FROM tenants tn"
            " LEFT JOIN users r ON r.id = :requester"
            " LEFT JOIN users a ON a.id = :assignee"
            " LEFT JOIN users g ON g.id = :agent"
            " LEFT JOIN teams tm ON tm.tenant_id = tn.id AND tm.id = :team"
            " LEFT JOIN categories c ON c.tenant_id = tn.id AND c.id = :category"
            " WHERE tn.id = :t"
        ),
        {
            "t": ctx.tenant_id,
            "requester": ticket.requester_id,
            "assignee": ticket.assignee_id,
            "agent": agent_id,
            "team": ticket.team_id,
            "category": ticket.category_id,
        },
    ).one()

    def person(name: Any, email: Any) -> Person | None:
        return Person(str(name), str(email)) if name is not None else None

    return Values(
        ticket=ticket,
        requester=person(row.r_name, row.r_email),
        assignee=person(row.a_name, row.a_email),
        agent=person(row.g_name, row.g_email),
        team=row.team,
        category=row.category,
        tenant=row.tenant,
        web_origin=get_settings().web_origin,
    )
