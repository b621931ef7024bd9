"""Saved queue views and presence on a ticket's room (issue 20 items 7-8).

Revision ID: 0032
Revises: 0030
Create Date: 2026-12-06

``saved_views``: a named set of the ticket list's filters (the JSON form of GET
/v1/tickets' query, ``exports.schemas.TicketExportParams``), personal (its owner only),
shared with a team (its members and admins) or with the tenant (its staff). Who reads and
writes which is decided in ``servicedesk.views.service`` (one predicate for the list and
the direct read); RLS keeps it inside the tenant. Names are unique per owner, ignoring case.

``realtime_subscriptions.presence_state``/``presence_at``: an agent viewing or editing the
ticket of that subscription, and when they last said so (a heartbeat; expired after
``realtime.service.PRESENCE_TTL``), as ``typing_at`` is for typing.
"""

from alembic import op

from servicedesk.platform.rls import grant, tenant_rls

revision = "0032"
down_revision = "0030"
branch_labels = None
depends_on = None

VIEWS = """
CREATE TABLE saved_views (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    owner_id uuid NOT NULL REFERENCES users(id),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    scope text NOT NULL CHECK (scope IN ('personal', 'team', 'tenant')),
    team_id uuid REFERENCES teams(id),
    filters jsonb NOT NULL DEFAULT '{}'::jsonb,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((scope = 'team') = (team_id IS NOT NULL))
);
CREATE UNIQUE INDEX uq_saved_views_owner_name ON saved_views (tenant_id, owner_id, lower(name));
CREATE INDEX ix_saved_views_scope ON saved_views (tenant_id, scope, team_id);
"""

PRESENCE = """
ALTER TABLE realtime_subscriptions
    ADD COLUMN presence_state text CHECK (presence_state IN ('viewing', 'editing')),
    ADD COLUMN presence_at timestamptz
"""


def upgrade() -> None:
    op.execute(VIEWS)
    for statement in tenant_rls("saved_views"):
        op.execute(statement)
    op.execute(grant("saved_views", "SELECT, INSERT, UPDATE, DELETE"))
    op.execute(PRESENCE)


def downgrade() -> None:
    op.execute(
        "ALTER TABLE realtime_subscriptions DROP COLUMN IF EXISTS presence_state,"
        " DROP COLUMN IF EXISTS presence_at"
    )
    op.execute("DROP TABLE IF EXISTS saved_views")
