"""The SAML kind of sign-in provider (issue 21 point 1, SAML half), and linking members.

- ``sso_assertions``: the replay cache of SAML assertions: an assertion id is recorded
  (``INSERT ... ON CONFLICT DO NOTHING``: a conflict is a replay) until the assertion
  expires; expired rows are deleted as new ones come in. Primary key (provider, assertion
  id): ids are the IdP's, unique per IdP.
- ``auth_saml_unsolicited(issuer)``: the enabled SAML providers that accept IdP-initiated
  sign-in from this IdP entity id (an unsolicited response names no tenant; its Issuer
  finds the provider, whose certificates then verify it).
- ``auth_sso_link_member(tenant, email, issuer, subject)``: links an IdP identity to the
  existing account of this address when that account is linked to no IdP yet and is an
  active member of the tenant (the caller checks the provider's domains). Returns the
  account's id, or null (no such account, or not this tenant's active member).

Revision ID: 0045
Revises: 0044
"""

from alembic import op

from servicedesk.platform.rls import definer_function, grant, tenant_rls

revision = "0045"
down_revision = "0044"
branch_labels = None
depends_on = None

FUNCTIONS = [
    *definer_function(
        "auth_saml_unsolicited(p_issuer text)",
        "TABLE(tenant_id uuid, provider_id uuid)",
        """SELECT p.tenant_id, p.id FROM identity_providers p
           WHERE p.kind = 'saml' AND p.enabled
             AND p.config ->> 'entity_id' = p_issuer
             AND coalesce((p.config ->> 'allow_idp_initiated')::boolean, false)
           ORDER BY p.created_at, p.id
           LIMIT 2""",
    ),
    *definer_function(
        "auth_sso_link_member(p_tenant uuid, p_email text, p_issuer text, p_subject text)",
        "uuid",
        """UPDATE users u SET idp_issuer = p_issuer, idp_subject = p_subject,
               email_verified_at = coalesce(u.email_verified_at, now()), updated_at = now()
           WHERE u.email = lower(p_email) AND u.idp_issuer IS NULL AND u.idp_subject IS NULL
             AND EXISTS (SELECT 1 FROM memberships m
                         WHERE m.user_id = u.id AND m.tenant_id = p_tenant AND m.active)
           RETURNING u.id""",
        volatility="VOLATILE",
    ),
]


def upgrade() -> None:
    op.execute(
        """
CREATE TABLE sso_assertions (
    tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    provider_id uuid NOT NULL REFERENCES identity_providers(id) ON DELETE CASCADE,
    assertion_id text NOT NULL CHECK (length(assertion_id) BETWEEN 1 AND 256),
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (provider_id, assertion_id)
);
CREATE INDEX sso_assertions_expiry ON sso_assertions (provider_id, expires_at);
"""
    )
    for statement in [
        *tenant_rls("sso_assertions"),
        grant("sso_assertions", "SELECT, INSERT, DELETE"),
        *FUNCTIONS,
    ]:
        op.execute(statement)


def downgrade() -> None:
    for signature in (
        "auth_saml_unsolicited(text)",
        "auth_sso_link_member(uuid, text, text, text)",
    ):
        op.execute(f"DROP FUNCTION IF EXISTS {signature}")
    op.execute("DROP TABLE IF EXISTS sso_assertions")
