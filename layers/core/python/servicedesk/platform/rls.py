"""SQL for tenant isolation, used by migrations so every tenant table gets the same rule."""

from __future__ import annotations

APP_ROLE = "servicedesk_app"
CURRENT_TENANT = "NULLIF(current_setting('app.tenant_id', true), '')::uuid"
CURRENT_USER_ID = "NULLIF(current_setting('app.user_id', true), '')::uuid"


def tenant_rls(table: str, *, column: str = "tenant_id") -> list[str]:
    """ENABLE + FORCE RLS; rows visible and writable only inside their tenant's transaction.

    The owner role (migrations, and the few SECURITY DEFINER lookups that run before a
    tenant is known) gets its own explicit policy; the application role never does.
    """
    return [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
        f"CREATE POLICY tenant_isolation ON {table} "
        f"USING ({column} = {CURRENT_TENANT}) WITH CHECK ({column} = {CURRENT_TENANT})",
        f"CREATE POLICY owner_maintenance ON {table} TO CURRENT_USER"
        " USING (true) WITH CHECK (true)",
    ]


def grant(table: str, privileges: str) -> str:
    return f"GRANT {privileges} ON {table} TO {APP_ROLE}"


def definer_function(
    signature: str, returns: str, body: str, *, language: str = "sql", volatility: str = "STABLE"
) -> list[str]:
    """A SECURITY DEFINER function with a pinned search_path, callable by the app role only."""
    return [
        f"CREATE OR REPLACE FUNCTION {signature} RETURNS {returns} "
        f"LANGUAGE {language} {volatility} SECURITY DEFINER SET search_path = public, pg_temp "
        f"AS $fn$ {body} $fn$",
        f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC",
        f"GRANT EXECUTE ON FUNCTION {signature} TO {APP_ROLE}",
    ]
