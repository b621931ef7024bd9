"""Realtime: the staff triage queue channel (``queue:untriaged``).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26

New and (re)assigned tickets that belong to no team reached no team channel, so agents
watching their queues only saw them at the next refetch. Staff may now subscribe to
``queue:untriaged``; the subscriptions' channel check admits it.
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

UUID_RE = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def _check(pattern: str) -> None:
    op.execute(
        "ALTER TABLE realtime_subscriptions"
        " DROP CONSTRAINT IF EXISTS realtime_subscriptions_channel_check"
    )
    op.execute(
        "ALTER TABLE realtime_subscriptions ADD CONSTRAINT realtime_subscriptions_channel_check"
        f" CHECK (channel ~ '{pattern}')"
    )


def upgrade() -> None:
    _check(f"^((ticket|team|user):{UUID_RE}|queue:untriaged)$")


def downgrade() -> None:
    op.execute("DELETE FROM realtime_subscriptions WHERE channel = 'queue:untriaged'")
    _check(f"^(ticket|team|user):{UUID_RE}$")
