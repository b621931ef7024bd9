"""Customer satisfaction surveys (issue 19, item 6).

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06

One survey per resolution of a ticket (the resolving ``ticket.status_changed`` event names
it, so a redelivered event makes none twice and a reopen + re-resolve makes a new one).
The e-mail link carries a signed token; only its SHA-256 is stored. Requesters read and
answer only their own surveys; staff read the tenant's; system work (the e-mail consumer,
no user in the transaction) writes them.
"""

from alembic import op

from servicedesk.platform.rls import APP_ROLE, CURRENT_USER_ID, grant, tenant_rls

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

TABLE = """
CREATE TABLE csat_surveys (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    ticket_id uuid NOT NULL,
    requester_id uuid NOT NULL REFERENCES users(id),
    resolution_event_id uuid NOT NULL,
    token_hash bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    question text NOT NULL CHECK (length(question) <= 200),
    sent_at timestamptz,
    expires_at timestamptz NOT NULL,
    answered_at timestamptz,
    rating smallint CHECK (rating BETWEEN 1 AND 5),
    comment text CHECK (length(comment) <= 2000),
    -- set when a later resolution of the ticket replaced this one (one live survey)
    superseded_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, ticket_id, resolution_event_id),
    CHECK ((answered_at IS NULL) = (rating IS NULL)),
    FOREIGN KEY (tenant_id, ticket_id) REFERENCES tickets (tenant_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX ux_csat_surveys_live ON csat_surveys (tenant_id, ticket_id)
    WHERE superseded_at IS NULL;
CREATE INDEX ix_csat_surveys_sent ON csat_surveys (tenant_id, created_at);
"""

STAFF = (
    "EXISTS (SELECT 1 FROM memberships m WHERE m.tenant_id = csat_surveys.tenant_id"
    f" AND m.user_id = {CURRENT_USER_ID} AND m.active AND m.role <> 'requester')"
)
# A requester's own rows; staff all of the tenant's; no user in the transaction: system work.
RULE = f"requester_id = {CURRENT_USER_ID} OR {STAFF} OR {CURRENT_USER_ID} IS NULL"


def upgrade() -> None:
    op.execute(TABLE)
    for statement in tenant_rls("csat_surveys"):
        op.execute(statement)
    op.execute(grant("csat_surveys", "SELECT, INSERT, UPDATE"))
    op.execute(
        f"CREATE POLICY own_rows ON csat_surveys AS RESTRICTIVE TO {APP_ROLE}"
        f" USING ({RULE}) WITH CHECK ({RULE})"
    )


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS csat_surveys")
