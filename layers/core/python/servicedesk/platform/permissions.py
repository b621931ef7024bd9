"""The permission catalogue: one permission per distinct thing a route or a service check
authorizes (issue 21, point 5).

Each permission has a description and its *floor*: the lowest built-in role that held it
when roles were a fixed ladder. A built-in role's permission set is every permission whose
floor is at or below it, so the four built-in roles answer every route exactly as the
ladder did (tests/unit/test_route_permissions.py checks each route against a snapshot taken
before the change). A custom role (``identity/roles.py``) is any non-empty set of them.

The web app reads the catalogue from ``GET /v1/roles/permissions`` and the caller's own set
from ``GET /v1/me`` (``permissions``).
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass

from servicedesk.platform.roles import ROLES, Role


@dataclass(frozen=True)
class Grant:
    floor: Role
    area: str
    description: str


class Permission(enum.StrEnum):
    # Every member: the desk itself and their own account.
    DESK_ACCESS = "desk:access"
    ATTACHMENT_USE = "attachment:use"
    ASSISTANT_USE = "assistant:use"
    # Tickets.
    TICKET_READ = "ticket:read"
    TICKET_CREATE = "ticket:create"
    TICKET_UPDATE = "ticket:update"
    TICKET_INVITE = "ticket:invite"
    COMMENT_CREATE = "comment:create"
    CSAT_RESPOND = "csat:respond"
    TICKET_READ_TEAM = "ticket:read_team"
    TICKET_READ_ALL = "ticket:read_all"
    TICKET_WORK = "ticket:work"
    TICKET_CLOSE = "ticket:close"
    TICKET_ASSIGN = "ticket:assign"
    TICKET_BULK = "ticket:bulk"
    TICKET_EXPORT = "ticket:export"
    TICKET_LINK = "ticket:link"
    TICKET_MERGE = "ticket:merge"
    TICKET_PARTICIPANTS = "ticket:participants"
    TICKET_LOCK = "ticket:lock"
    COMMENT_INTERNAL = "comment:internal"
    COMMENT_MODERATE = "comment:moderate"
    MAIL_TRIAGE = "mail:triage"
    MAIL_LOG = "mail:log"
    # Knowledge base.
    KB_READ = "kb:read"
    KB_WRITE = "kb:write"
    KB_INSIGHTS = "kb:insights"
    KB_PUBLISH = "kb:publish"
    KB_MANAGE = "kb:manage"
    # Macros and views.
    MACRO_USE = "macro:use"
    MACRO_MANAGE = "macro:manage"
    VIEW_SHARE_TENANT = "view:share_tenant"
    # People and configuration.
    DIRECTORY_READ = "directory:read"
    CONFIG_READ = "config:read"
    TEAM_MANAGE = "team:manage"
    CATEGORY_MANAGE = "category:manage"
    SLA_MANAGE = "sla:manage"
    AUTOMATION_READ = "automation:read"
    REPORT_READ = "report:read"
    REPORT_SCHEDULE = "report:schedule"
    CHANGE_READ = "change:read"
    CHANGE_CREATE = "change:create"
    CHANGE_MANAGE = "change:manage"
    CHANGE_APPROVE = "change:approve"
    CHANGE_SETTINGS_MANAGE = "change_settings:manage"
    APPROVAL_DECIDE = "approval:decide"
    APPROVAL_READ_ALL = "approval:read_all"
    APPROVAL_FLOW_MANAGE = "approval_flow:manage"
    CMDB_READ = "cmdb:read"
    CMDB_LINK = "cmdb:link"
    CMDB_WRITE = "cmdb:write"
    PROJECT_USE = "project:use"
    PROJECT_CREATE = "project:create"
    PROJECT_READ_ALL = "project:read_all"
    PROJECT_MANAGE_ALL = "project:manage_all"
    INTEGRATION_MANAGE = "integration:manage"
    INTEGRATION_USE = "integration:use"
    # Administration.
    AUTOMATION_MANAGE = "automation:manage"
    TICKET_TYPE_MANAGE = "ticket_type:manage"
    WEBHOOK_MANAGE = "webhook:manage"
    MAIL_MANAGE = "mail:manage"
    ADMIN_USERS = "admin:users"
    ADMIN_ROLES = "admin:roles"
    ADMIN_SETTINGS = "admin:settings"
    ADMIN_IDENTITY = "admin:identity"
    AUDIT_READ = "audit:read"

    @property
    def grant(self) -> Grant:
        return CATALOGUE[self]

    @property
    def floor(self) -> Role:
        return CATALOGUE[self].floor


_R, _A, _M, _AD = Role.REQUESTER, Role.AGENT, Role.MANAGER, Role.ADMIN
P = Permission
CATALOGUE: dict[Permission, Grant] = {
    P.DESK_ACCESS: Grant(
        _R,
        "account",
        "Sign in and use what every member has: own profile, sessions, two-step "
        "verification, notifications, saved views, the desk's public settings",
    ),
    P.ATTACHMENT_USE: Grant(_R, "account", "Upload, download and remove own attachments"),
    P.ASSISTANT_USE: Grant(_R, "account", "Talk to the assistant"),
    P.TICKET_READ: Grant(
        _R,
        "tickets",
        "Read the tickets one may see: own and participating (more with read_team"
        " / read_all), their comments, events, attachments, SLA, ticket types and categories",
    ),
    P.TICKET_CREATE: Grant(_R, "tickets", "Open a ticket"),
    P.TICKET_UPDATE: Grant(_R, "tickets", "Edit a ticket one may edit, move its status"),
    P.TICKET_INVITE: Grant(_R, "tickets", "Invite people to a ticket, answer or leave"),
    P.COMMENT_CREATE: Grant(_R, "tickets", "Reply on a ticket, edit or remove own replies"),
    P.CSAT_RESPOND: Grant(_R, "tickets", "Answer the satisfaction survey of own tickets"),
    P.TICKET_READ_TEAM: Grant(
        _A,
        "tickets",
        "See the tickets of one's teams, untriaged and assigned ones (or all, "
        "by the tenant's agents_see_all setting)",
    ),
    P.TICKET_READ_ALL: Grant(_M, "tickets", "See every ticket of the organisation"),
    P.TICKET_WORK: Grant(
        _A,
        "tickets",
        "Work tickets as staff: edit any visible ticket, set priority and "
        "category locks, move any status but resolve/close",
    ),
    P.TICKET_CLOSE: Grant(
        _A, "tickets", "Resolve, close or cancel any visible ticket (requesters close their own)"
    ),
    P.TICKET_ASSIGN: Grant(_A, "tickets", "Assign tickets to agents and teams"),
    P.TICKET_BULK: Grant(_A, "tickets", "Change many tickets at once"),
    P.TICKET_EXPORT: Grant(_A, "tickets", "Export tickets (CSV, export jobs)"),
    P.TICKET_LINK: Grant(_A, "tickets", "Link and unlink tickets"),
    P.TICKET_MERGE: Grant(_A, "tickets", "Merge tickets"),
    P.TICKET_PARTICIPANTS: Grant(_A, "tickets", "Add participants to a ticket directly"),
    P.TICKET_LOCK: Grant(_AD, "tickets", "Lock or unlock a ticket's assignment"),
    P.COMMENT_INTERNAL: Grant(_A, "tickets", "Read and write internal notes and events"),
    P.COMMENT_MODERATE: Grant(_AD, "tickets", "Edit or remove anyone's comments"),
    P.MAIL_TRIAGE: Grant(_A, "mail", "Read tickets' mail and triage held mail"),
    P.MAIL_LOG: Grant(_M, "mail", "Read the mail log and logged (refused) mail"),
    P.KB_READ: Grant(_R, "kb", "Read, search and rate published articles"),
    P.KB_WRITE: Grant(_A, "kb", "Write and submit articles, attach files, link tickets"),
    P.KB_INSIGHTS: Grant(_A, "kb", "Read articles' feedback and the search report"),
    P.KB_PUBLISH: Grant(
        _M, "kb", "Publish without review, approve or reject, archive and restore articles"
    ),
    P.KB_MANAGE: Grant(_M, "kb", "Manage knowledge-base categories"),
    P.MACRO_USE: Grant(_A, "macros", "Use and make personal macros"),
    P.MACRO_MANAGE: Grant(_M, "macros", "Make and edit team and organisation macros"),
    P.VIEW_SHARE_TENANT: Grant(
        _AD, "macros", "Share views with the organisation and with any team"
    ),
    P.DIRECTORY_READ: Grant(_A, "people", "Read the people and teams of the organisation"),
    P.CONFIG_READ: Grant(
        _A, "configuration", "Read SLA policies, calendars, ticket and mail settings"
    ),
    P.TEAM_MANAGE: Grant(_M, "people", "Create and edit teams and their members"),
    P.CATEGORY_MANAGE: Grant(_M, "configuration", "Manage ticket categories"),
    P.SLA_MANAGE: Grant(_M, "configuration", "Manage SLA policies and business calendars"),
    P.AUTOMATION_READ: Grant(_M, "configuration", "Read automation rules and their runs"),
    P.REPORT_READ: Grant(_M, "reports", "Read reports and export them"),
    P.REPORT_SCHEDULE: Grant(_M, "reports", "Subscribe to scheduled reports"),
    P.CHANGE_READ: Grant(_A, "changes", "Read changes, their calendar, templates and settings"),
    P.CHANGE_CREATE: Grant(_A, "changes", "Raise a change request"),
    P.CHANGE_MANAGE: Grant(
        _A, "changes", "Edit changes, move their states, record the review, link tickets"
    ),
    P.CHANGE_APPROVE: Grant(_M, "changes", "Approve changes"),
    P.CHANGE_SETTINGS_MANAGE: Grant(
        _M, "changes", "Manage change settings, the risk questionnaire, templates and blackouts"
    ),
    P.APPROVAL_DECIDE: Grant(
        _R, "approvals", "See and decide the approvals one is asked for; delegate one's own"
    ),
    P.APPROVAL_READ_ALL: Grant(_M, "approvals", "See every approval of the organisation"),
    P.APPROVAL_FLOW_MANAGE: Grant(_M, "approvals", "Create and edit approval flows"),
    P.CMDB_READ: Grant(_A, "cmdb", "Read configuration items"),
    P.CMDB_LINK: Grant(_A, "cmdb", "Link configuration items to the tickets one may see"),
    P.CMDB_WRITE: Grant(_M, "cmdb", "Create and edit configuration items"),
    P.PROJECT_USE: Grant(
        _A, "projects", "Work in the projects one is a member of (by one's project role)"
    ),
    P.PROJECT_CREATE: Grant(_A, "projects", "Create projects (the creator becomes their owner)"),
    P.PROJECT_READ_ALL: Grant(_M, "projects", "See every project of the organisation"),
    P.PROJECT_MANAGE_ALL: Grant(
        _AD, "projects", "Manage every project as its owner would, member or not"
    ),
    P.INTEGRATION_MANAGE: Grant(
        _AD, "administration", "Connect, configure and disconnect GitHub and Slack"
    ),
    P.INTEGRATION_USE: Grant(
        _A, "tickets", "Create GitHub issues from tickets and read a ticket's integration links"
    ),
    P.AUTOMATION_MANAGE: Grant(_AD, "configuration", "Create, edit and order automation rules"),
    P.TICKET_TYPE_MANAGE: Grant(_AD, "configuration", "Manage ticket types"),
    P.WEBHOOK_MANAGE: Grant(_AD, "administration", "Manage webhooks"),
    P.MAIL_MANAGE: Grant(_AD, "mail", "Manage mail addresses, mailboxes and inbound hooks"),
    P.ADMIN_USERS: Grant(
        _AD, "administration", "Add, invite and edit members; reset their MFA and sessions"
    ),
    P.ADMIN_ROLES: Grant(_AD, "administration", "Manage custom roles"),
    P.ADMIN_SETTINGS: Grant(_AD, "administration", "Change the organisation's settings"),
    P.ADMIN_IDENTITY: Grant(
        _AD, "administration", "Manage sign-in providers, SCIM and the LDAP directory"
    ),
    P.AUDIT_READ: Grant(_AD, "administration", "Read the organisation's audit log"),
}
del P

assert set(CATALOGUE) == set(Permission), "every permission has a grant"

# Each built-in role's permissions: every permission whose floor it reaches. Read-only.
BUILTIN: dict[Role, frozenset[Permission]] = {
    role: frozenset(p for p in Permission if role.at_least(p.floor)) for role in ROLES
}


def builtin(role: Role) -> frozenset[Permission]:
    return BUILTIN[role]


# What a custom role's team scope limits to its team's tickets (``RequestContext.can_on``
# and the visibility rule); its other permissions hold everywhere.
TEAM_SCOPED: frozenset[Permission] = frozenset(
    {
        Permission.TICKET_READ_TEAM,
        Permission.TICKET_READ_ALL,
        Permission.TICKET_WORK,
        Permission.TICKET_CLOSE,
        Permission.TICKET_ASSIGN,
        Permission.COMMENT_INTERNAL,
    }
)


@dataclass(frozen=True)
class Access:
    """What a member may do: their permissions and, for a team-scoped custom role, the
    team its ``TEAM_SCOPED`` permissions are limited to."""

    permissions: frozenset[Permission]
    team_id: uuid.UUID | None = None


def access(role: Role, custom: list[str] | None, team_id: uuid.UUID | None) -> Access:
    """A member's access read with their membership (see ``held``)."""
    return Access(held(role, custom), team_id if custom is not None else None)


def held(role: Role, custom: list[str] | None) -> frozenset[Permission]:
    """A member's permissions: their custom role's (``custom``, as stored; a name the
    catalogue no longer has grants nothing), else their built-in role's."""
    if custom is None:
        return BUILTIN[role]
    return frozenset(p for p in parse(custom) if p is not None)


def parse(values: list[str]) -> list[Permission | None]:
    """Each value as a permission, or None where the catalogue has no such name."""
    known = {p.value: p for p in Permission}
    return [known.get(v) for v in values]
