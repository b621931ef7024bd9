"""Account recovery: password reset, e-mail verification, magic links for requesters.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05

`account_tokens` holds the hashed single-use tokens of password resets and e-mail
verifications. Like `pending_signups` (0011) it is global (nobody is signed in when a
token is asked for or used) and the app role reaches it only through SECURITY DEFINER
functions. Every request stores a row, also for an address without an account, so that
the per-address and per-client throttles count it and the request does the same work.

`users` gains `email_verified_at` (existing people are verified when they joined by an
invitation, confirmed a sign-up or came from an identity provider) and `link_generation`
(signed into every magic link; bumped when the person sets a password, which ends their
magic links). `memberships` gains `sessions_revoked_at`: access tokens issued before it are
refused, so a reset ends every session at once rather than when the access token expires.
It is set on every membership of the person, so the per-request principal statement reads
it from the row it reads anyway (a join to `users` there made it about 1.5 times as slow).
"""

from alembic import op

from servicedesk.platform.rls import CURRENT_USER_ID, definer_function

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

SCHEMA = """
ALTER TABLE users
    ADD COLUMN email_verified_at timestamptz,
    ADD COLUMN link_generation integer NOT NULL DEFAULT 0;
ALTER TABLE memberships ADD COLUMN sessions_revoked_at timestamptz;

CREATE TABLE account_tokens (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    purpose text NOT NULL CHECK (purpose IN ('password_reset', 'email_verification')),
    token_hash bytea NOT NULL UNIQUE,
    -- NULL when the address had no account: the row still counts for the throttle.
    user_id uuid REFERENCES users(id),
    email text NOT NULL CHECK (email = lower(email) AND length(email) <= 254),
    address text,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at timestamptz
);
CREATE INDEX ix_account_tokens_email ON account_tokens (purpose, email, created_at DESC);
CREATE INDEX ix_account_tokens_address ON account_tokens (purpose, address, created_at DESC);
CREATE INDEX ix_account_tokens_user ON account_tokens (user_id) WHERE used_at IS NULL;
ALTER TABLE account_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE account_tokens FORCE ROW LEVEL SECURITY;
CREATE POLICY owner_maintenance ON account_tokens TO CURRENT_USER USING (true) WITH CHECK (true);
"""

# Who is verified already: a person who accepted an invitation or confirmed a sign-up
# followed a link mailed to the address; an identity provider vouches for its users. An
# account an admin created with a password (POST /v1/users) proved nothing.
BACKFILL = """
UPDATE users u SET email_verified_at = coalesce(
    (SELECT min(i.accepted_at) FROM user_invitations i
     WHERE i.email = u.email AND i.accepted_at IS NOT NULL),
    (SELECT min(a.created_at) FROM audit_log a
     WHERE a.action = 'tenant.signup' AND a.entity_id = u.id::text),
    CASE WHEN u.idp_subject IS NOT NULL THEN u.created_at END)
WHERE u.email_verified_at IS NULL
"""

FUNCTIONS = [
    # Requests in the window for this purpose, per e-mail and per client address, and
    # when the oldest of each leaves it (for Retry-After).
    *definer_function(
        "auth_account_token_recent(p_purpose text, p_email text, p_address text,"
        " p_window_seconds integer)",
        "TABLE(by_email bigint, email_oldest timestamptz, by_address bigint,"
        " address_oldest timestamptz)",
        """SELECT count(*) FILTER (WHERE email = lower(p_email)),
                  min(created_at) FILTER (WHERE email = lower(p_email)),
                  count(*) FILTER (WHERE address = p_address),
                  min(created_at) FILTER (WHERE address = p_address)
           FROM account_tokens
           WHERE purpose = p_purpose
             AND created_at > now() - make_interval(secs => p_window_seconds)
             AND (email = lower(p_email) OR address = p_address)""",
    ),
    # A new token for whoever has the address (or nobody); rows expired for a week are
    # forgotten on the way. Returns whether the address has an account and whether it is
    # verified, and nothing else about it.
    *definer_function(
        "auth_account_token_create(p_purpose text, p_token_hash bytea, p_email text,"
        " p_address text, p_expires_at timestamptz)",
        "TABLE(id uuid, has_account boolean, verified boolean)",
        """DELETE FROM account_tokens WHERE expires_at < now() - interval '7 days';
           INSERT INTO account_tokens (purpose, token_hash, user_id, email, address, expires_at)
           SELECT p_purpose, p_token_hash, u.id, lower(p_email), p_address, p_expires_at
           FROM (SELECT 1) one LEFT JOIN users u ON u.email = lower(p_email)
           RETURNING id, user_id IS NOT NULL,
               coalesce((SELECT v.email_verified_at IS NOT NULL FROM users v
                         WHERE v.id = account_tokens.user_id), false)""",
        volatility="VOLATILE",
    ),
    # Use a token once: marks it used and names its person, or returns nothing (unknown,
    # used, expired at p_now, for an address that had no account, or the person's address
    # changed since). The UPDATE locks the row: of two concurrent uses exactly one wins.
    *definer_function(
        "auth_account_token_claim(p_purpose text, p_token_hash bytea, p_now timestamptz)",
        "TABLE(user_id uuid, email text)",
        """UPDATE account_tokens t SET used_at = now()
           WHERE t.purpose = p_purpose AND t.token_hash = p_token_hash
             AND t.used_at IS NULL AND t.expires_at > p_now AND t.user_id IS NOT NULL
             AND EXISTS (SELECT 1 FROM users u WHERE u.id = t.user_id AND u.email = t.email)
           RETURNING t.user_id, t.email""",
        volatility="VOLATILE",
    ),
    # The caller's own new password (app.user_id: set from verified claims or a claimed
    # token, never from input): ends every session in every tenant, every magic link and
    # every other outstanding reset link. Returns the person's tenants for the audit.
    *definer_function(
        "auth_set_own_password(p_password_hash text)",
        "SETOF uuid",
        f"""UPDATE users SET password_hash = p_password_hash,
                  link_generation = link_generation + 1,
                  email_verified_at = coalesce(email_verified_at, now()),
                  updated_at = now()
           WHERE id = {CURRENT_USER_ID};
           UPDATE memberships SET sessions_revoked_at = now()
           WHERE user_id = {CURRENT_USER_ID};
           UPDATE refresh_token_families SET revoked_at = now(), revoked_reason = 'password'
           WHERE user_id = {CURRENT_USER_ID} AND revoked_at IS NULL;
           UPDATE account_tokens SET used_at = now()
           WHERE user_id = {CURRENT_USER_ID} AND purpose = 'password_reset'
             AND used_at IS NULL;
           SELECT tenant_id FROM memberships WHERE user_id = {CURRENT_USER_ID}""",
        volatility="VOLATILE",
    ),
    # Following a link mailed to the address proves control of it.
    *definer_function(
        "auth_mark_own_email_verified()",
        "SETOF uuid",
        f"""UPDATE users SET email_verified_at = now(), updated_at = now()
           WHERE id = {CURRENT_USER_ID} AND email_verified_at IS NULL;
           SELECT tenant_id FROM memberships WHERE user_id = {CURRENT_USER_ID}""",
        volatility="VOLATILE",
    ),
    # An identity provider vouches for the addresses of its users.
    *definer_function(
        "auth_provision_external_user(p_issuer text, p_subject text, p_email text, p_name text)",
        "uuid",
        """INSERT INTO users (email, name, idp_issuer, idp_subject, email_verified_at)
           VALUES (lower(p_email), p_name, p_issuer, p_subject, now())
           ON CONFLICT (idp_issuer, idp_subject)
           DO UPDATE SET email = EXCLUDED.email, name = EXCLUDED.name, updated_at = now(),
               email_verified_at = CASE WHEN users.email = EXCLUDED.email
                   THEN coalesce(users.email_verified_at, now()) ELSE now() END
           RETURNING id""",
        volatility="VOLATILE",
    ),
]

PREVIOUS_PROVISION = definer_function(
    "auth_provision_external_user(p_issuer text, p_subject text, p_email text, p_name text)",
    "uuid",
    """INSERT INTO users (email, name, idp_issuer, idp_subject)
       VALUES (lower(p_email), p_name, p_issuer, p_subject)
       ON CONFLICT (idp_issuer, idp_subject)
       DO UPDATE SET email = EXCLUDED.email, name = EXCLUDED.name, updated_at = now()
       RETURNING id""",
    volatility="VOLATILE",
)


def upgrade() -> None:
    op.execute(SCHEMA)
    op.execute(BACKFILL)
    for statement in FUNCTIONS:
        op.execute(statement)


def downgrade() -> None:
    for signature in (
        "auth_account_token_recent(text, text, text, integer)",
        "auth_account_token_create(text, bytea, text, text, timestamptz)",
        "auth_account_token_claim(text, bytea, timestamptz)",
        "auth_set_own_password(text)",
        "auth_mark_own_email_verified()",
    ):
        op.execute(f"DROP FUNCTION IF EXISTS {signature}")
    for statement in PREVIOUS_PROVISION:
        op.execute(statement)
    op.execute("DROP TABLE IF EXISTS account_tokens")
    op.execute("ALTER TABLE memberships DROP COLUMN sessions_revoked_at")
    op.execute("ALTER TABLE users DROP COLUMN email_verified_at, DROP COLUMN link_generation")
