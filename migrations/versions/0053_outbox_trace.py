"""Each outbox row keeps the trace of the transaction that wrote it.

``outbox.trace``: the X-Ray trace header in force when the row was written, taken from the
transaction-local ``app.trace`` that ``platform.db.set_tenant`` sets beside the tenant and
user (every writer of outbox rows, whichever statement it uses, gets it by default). The
publisher puts it on the row's SQS messages; so does the sweeper when it republishes what
a crash or a failed send left behind, so a late event still belongs to its request's
trace. NULL where no trace was in force (the publisher then uses its own).

Revision ID: 0053
Revises: 0052
"""

from alembic import op

revision = "0053"
down_revision = "0052"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A volatile default with no rewrite: PostgreSQL 11+ adds the column in place (existing
    # rows read NULL); the CHECK bounds what a setting could put there.
    op.execute(
        "ALTER TABLE outbox ADD COLUMN trace text"
        " DEFAULT nullif(current_setting('app.trace', true), '')"
        " CONSTRAINT outbox_trace_length CHECK (length(trace) <= 256)"
    )


def downgrade() -> None:
    op.execute("ALTER TABLE outbox DROP COLUMN trace")
