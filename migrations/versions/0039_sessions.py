"""Sessions: a sign-in (a refresh-token family) remembers its device and where it was last
used, and the WebSocket connections it opened.

- ``refresh_token_families``: ``user_agent`` and ``ip_address`` (of the sign-in, then of
  the latest refresh), ``last_used_at`` (the sign-in, then every refresh). The person lists
  and revokes them (``/v1/me/sessions``); an admin revokes all of a member's.
- ``realtime_connections.session_id``: the family whose access token opened the socket, so
  that revoking a session forgets (and has the broadcaster close) its connections.

Revision ID: 0039
Revises: 0035
"""

from alembic import op

revision = "0039"
down_revision = "0038"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
ALTER TABLE refresh_token_families
    ADD COLUMN user_agent text CHECK (length(user_agent) <= 512),
    ADD COLUMN ip_address text CHECK (length(ip_address) <= 64),
    ADD COLUMN last_used_at timestamptz;
UPDATE refresh_token_families SET last_used_at = created_at;
ALTER TABLE refresh_token_families ALTER COLUMN last_used_at SET DEFAULT now();
ALTER TABLE refresh_token_families ALTER COLUMN last_used_at SET NOT NULL;
ALTER TABLE realtime_connections ADD COLUMN session_id uuid;
CREATE INDEX ix_realtime_connections_session ON realtime_connections (tenant_id, session_id)
    WHERE session_id IS NOT NULL;
"""
    )


def downgrade() -> None:
    op.execute(
        """
DROP INDEX IF EXISTS ix_realtime_connections_session;
ALTER TABLE realtime_connections DROP COLUMN IF EXISTS session_id;
ALTER TABLE refresh_token_families
    DROP COLUMN IF EXISTS user_agent,
    DROP COLUMN IF EXISTS ip_address,
    DROP COLUMN IF EXISTS last_used_at;
"""
    )
