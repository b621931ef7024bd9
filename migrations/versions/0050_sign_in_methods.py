"""How each session was started, and SSO linking only for one organisation's people.

- ``refresh_token_families.sign_in``: ``password`` (a password, with its second step when
  on; an invitation, a sign-up, a switch from such a session), ``sso`` (an organisation's
  identity provider) or ``directory`` (an organisation's LDAP directory). A session that an
  organisation's own provider or directory vouched for is that organisation's credential:
  it does not switch into another organisation (identity/service.switch_tenant).
- ``auth_sso_link_member``: links an IdP identity to an existing account only when the
  account is an active member of the provider's tenant AND of no other tenant: an
  organisation's IdP must never gain a person who also belongs elsewhere.

Revision ID: 0050
Revises: 0049
"""

from alembic import op

from servicedesk.platform.rls import definer_function

revision = "0050"
down_revision = "0049"
branch_labels = None
depends_on = None

SIGNATURE = "auth_sso_link_member(p_tenant uuid, p_email text, p_issuer text, p_subject text)"
LINK_BODY = """UPDATE users u SET idp_issuer = p_issuer, idp_subject = p_subject,
       email_verified_at = coalesce(u.email_verified_at, now()), updated_at = now()
   WHERE u.email = lower(p_email) AND u.idp_issuer IS NULL AND u.idp_subject IS NULL
     AND EXISTS (SELECT 1 FROM memberships m
                 WHERE m.user_id = u.id AND m.tenant_id = p_tenant AND m.active)
     {other}
   RETURNING u.id"""
ONLY_HERE = (
    "AND NOT EXISTS (SELECT 1 FROM memberships o"
    " WHERE o.user_id = u.id AND o.tenant_id <> p_tenant)"
)


def upgrade() -> None:
    op.execute(
        "ALTER TABLE refresh_token_families ADD COLUMN sign_in text NOT NULL DEFAULT 'password'"
        " CONSTRAINT refresh_token_families_sign_in"
        " CHECK (sign_in IN ('password', 'sso', 'directory'))"
    )
    for statement in definer_function(
        SIGNATURE, "uuid", LINK_BODY.format(other=ONLY_HERE), volatility="VOLATILE"
    ):
        op.execute(statement)


def downgrade() -> None:
    for statement in definer_function(
        SIGNATURE, "uuid", LINK_BODY.format(other=""), volatility="VOLATILE"
    ):
        op.execute(statement)
    op.execute("ALTER TABLE refresh_token_families DROP COLUMN sign_in")
