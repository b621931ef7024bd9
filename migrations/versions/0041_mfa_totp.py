"""Two-step verification (issue 21 point 4): TOTP secrets, recovery codes, MFA throttling.

- ``user_mfa``: one authenticator per person (people are global, like ``users``): the
  TOTP secret encrypted with AES-GCM under a key from settings (``identity/mfa.py``), when
  it was confirmed (NULL: an enrolment not confirmed yet), and the last time step accepted
  (a code is accepted once: a replay in its window is refused by ``last_step``).
- ``user_mfa_recovery_codes``: ten one-time codes per confirmed enrolment, SHA-256 hashed
  (each has 50 random bits; a slow hash adds nothing to that), ``used_at`` once used.
- Both are visible to the person (in any tenant transaction) and, for reading, inside a
  tenant the person belongs to (the admin's "has two-step verification"); only the person
  writes them. An admin's reset goes through ``auth_mfa_admin_reset(user)``, which removes
  the enrolment only of a member of the current tenant who belongs to no other
  organisation (one tenant's admin must not weaken a person's sign-in everywhere).
- ``login_attempts.scope`` gains ``mfa`` (second-step failures per person, keyed by user id).

Revision ID: 0041
Revises: 0040
"""

from alembic import op

from servicedesk.platform.rls import CURRENT_TENANT, CURRENT_USER_ID, definer_function, grant

revision = "0041"
down_revision = "0040"
branch_labels = None
depends_on = None


def _policies(table: str) -> list[str]:
    return [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
        f"""CREATE POLICY tenant_isolation ON {table} FOR SELECT USING (
            {table}.user_id = {CURRENT_USER_ID} AND {CURRENT_TENANT} IS NOT NULL
            OR EXISTS (SELECT 1 FROM memberships m
                       WHERE m.user_id = {table}.user_id AND m.tenant_id = {CURRENT_TENANT}))""",
        f"""CREATE POLICY own_insert ON {table} FOR INSERT
            WITH CHECK (user_id = {CURRENT_USER_ID})""",
        f"""CREATE POLICY own_update ON {table} FOR UPDATE
            USING (user_id = {CURRENT_USER_ID}) WITH CHECK (user_id = {CURRENT_USER_ID})""",
        f"CREATE POLICY own_delete ON {table} FOR DELETE USING (user_id = {CURRENT_USER_ID})",
        f"CREATE POLICY owner_maintenance ON {table} TO CURRENT_USER USING (true) WITH CHECK (true)",
        grant(table, "SELECT, INSERT, UPDATE, DELETE"),
    ]


# 'reset': removed; 'none': nothing to remove; 'shared': the person belongs to another
# organisation too; 'unknown': not a member of the current tenant.
ADMIN_RESET = definer_function(
    "auth_mfa_admin_reset(p_user uuid)",
    "text",
    f"""
    BEGIN
      IF NOT EXISTS (SELECT 1 FROM memberships
                     WHERE user_id = p_user AND tenant_id = {CURRENT_TENANT}) THEN
        RETURN 'unknown';
      END IF;
      IF EXISTS (SELECT 1 FROM memberships
                 WHERE user_id = p_user AND tenant_id <> {CURRENT_TENANT}) THEN
        RETURN 'shared';
      END IF;
      DELETE FROM user_mfa WHERE user_id = p_user;
      IF FOUND THEN
        RETURN 'reset';
      END IF;
      RETURN 'none';
    END
    """,
    language="plpgsql",
    volatility="VOLATILE",
)


def upgrade() -> None:
    op.execute(
        """
CREATE TABLE user_mfa (
    user_id uuid PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    secret bytea NOT NULL,
    confirmed_at timestamptz,
    last_step bigint,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE user_mfa_recovery_codes (
    user_id uuid NOT NULL REFERENCES user_mfa(user_id) ON DELETE CASCADE,
    code_hash bytea NOT NULL,
    used_at timestamptz,
    PRIMARY KEY (user_id, code_hash)
);
ALTER TABLE login_attempts DROP CONSTRAINT login_attempts_scope_check;
ALTER TABLE login_attempts ADD CONSTRAINT login_attempts_scope_check
    CHECK (scope IN ('account', 'address', 'mfa'));
"""
    )
    for statement in [
        *_policies("user_mfa"),
        *_policies("user_mfa_recovery_codes"),
        *ADMIN_RESET,
    ]:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS auth_mfa_admin_reset(uuid)")
    op.execute("DROP TABLE IF EXISTS user_mfa_recovery_codes")
    op.execute("DROP TABLE IF EXISTS user_mfa")
    op.execute("DELETE FROM login_attempts WHERE scope = 'mfa'")
    op.execute("ALTER TABLE login_attempts DROP CONSTRAINT login_attempts_scope_check")
    op.execute(
        "ALTER TABLE login_attempts ADD CONSTRAINT login_attempts_scope_check"
        " CHECK (scope IN ('account', 'address'))"
    )
