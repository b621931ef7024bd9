"""LDAP / Active Directory sign-in (issue 21 point 2): which tenants sign an e-mail domain in.

The directory's settings live in ``tenants.settings -> 'ldap'`` (identity/directory.py);
before the sign-in knows its tenant, ``auth_ldap_tenants(domain)`` names the tenants whose
enabled directory lists that domain (the tenants table is under RLS, the login has no
tenant yet). A GIN index is not worth it: one row per tenant, read by a sequential scan
of a small table.

Revision ID: 0044
Revises: 0041
"""

from alembic import op

from servicedesk.platform.rls import definer_function

revision = "0044"
down_revision = "0043"
branch_labels = None
depends_on = None

LDAP_TENANTS = definer_function(
    "auth_ldap_tenants(p_domain text)",
    "TABLE(tenant_id uuid, tenant_slug text)",
    """SELECT t.id, t.slug FROM tenants t
       WHERE (t.settings -> 'ldap' ->> 'enabled') = 'true'
         AND (t.settings -> 'ldap' -> 'domains') ? lower(p_domain)
       ORDER BY t.slug""",
)


def upgrade() -> None:
    for statement in LDAP_TENANTS:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS auth_ldap_tenants(text)")
