"""Tenancy lives in the database: RLS on every tenant table, and isolation end to end."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from servicedesk.platform.rls import APP_ROLE

# Tables without tenant_id, and why they are safe.
GLOBAL_TABLES = {
    "alembic_version": "migration bookkeeping; the app role may only read it",
    "login_attempts": "pre-authentication throttling, keyed by e-mail hash and address",
    "pending_signups": "sign-ups before their tenant exists; the app role has no grant,"
    " only the auth_signup_* definer functions reach it",
    "account_tokens": "password-reset and verification links, asked for before anyone is"
    " signed in; the app role has no grant, only the auth_account_token_* functions reach it",
    "inbound_hook_events": "dedupe of verified inbound hooks on the provider's own (global) id;"
    " holds no tenant data, the app may only insert and look up",
    "email_suppressions": "undeliverable addresses are undeliverable for every tenant (SES"
    " reputation is per account); no API exposes it, the app may only insert and look up",
}


def test_every_tenant_table_has_forced_rls_and_a_tenant_policy(database):
    with database.connect("owner") as conn:
        tables = conn.execute(
            """
            SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,
                   pg_get_userbyid(c.relowner) AS owner,
                   EXISTS (SELECT 1 FROM information_schema.columns col
                           WHERE col.table_name = c.relname AND col.column_name = 'tenant_id'
                             AND col.is_nullable = 'NO') AS has_tenant,
                   EXISTS (SELECT 1 FROM information_schema.columns col
                           WHERE col.table_name = c.relname AND col.column_name = 'tenant_id') AS has_col
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
            """
        ).fetchall()
        policies = conn.execute(
            "SELECT tablename, qual, with_check, cmd, roles FROM pg_policies WHERE schemaname = 'public'"
        ).fetchall()
    assert tables, "no tables found"
    by_table: dict[str, list[tuple]] = {}
    for policy in policies:
        by_table.setdefault(policy[0], []).append(policy)
    problems = []
    for name, rls, forced, owner, has_tenant, has_col in tables:
        if owner == APP_ROLE:
            problems.append(f"{name}: owned by the application role")
        if name in GLOBAL_TABLES:
            continue
        if has_col and not has_tenant:
            problems.append(f"{name}: tenant_id is nullable")
        if not (rls and forced):
            problems.append(f"{name}: RLS not enabled and forced")
        tenant_policies = [
            p
            for p in by_table.get(name, [])
            if "app.tenant_id" in (p[1] or "") and p[3] in ("ALL", "SELECT")
        ]
        if not tenant_policies:
            problems.append(f"{name}: no policy on current_setting('app.tenant_id')")
        if has_tenant and not any("app.tenant_id" in (p[2] or "") for p in tenant_policies):
            problems.append(f"{name}: tenant policy lacks WITH CHECK")
    assert problems == []


def test_app_role_owns_nothing_and_cannot_bypass_rls(database):
    with database.connect("app") as conn:
        row = conn.execute(
            "SELECT rolbypassrls, rolsuper FROM pg_roles WHERE rolname = current_user"
        ).fetchone()
        assert row == (False, False)
        owned = conn.execute(
            "SELECT count(*) FROM pg_class WHERE relowner = (SELECT oid FROM pg_roles"
            " WHERE rolname = current_user)"
        ).fetchone()
        assert owned == (0,)


def _select_users_as_app(database, tenant_id: str | None) -> list[str]:
    with database.connect("app") as conn:
        with conn.transaction():
            if tenant_id is not None:
                conn.execute("SELECT set_config('app.tenant_id', %s, true)", (tenant_id,))
            return [r[0] for r in conn.execute("SELECT email FROM users").fetchall()]


def test_raw_select_sees_only_the_current_tenant(client, database):
    from tests.conftest import make_tenant

    a = make_tenant(client)
    b = make_tenant(client)
    seen_by_b = _select_users_as_app(database, b.tenant_id)
    assert seen_by_b and all(email.endswith(f"@{b.slug}.example") for email in seen_by_b)
    assert not any(email.endswith(f"@{a.slug}.example") for email in seen_by_b)
    assert _select_users_as_app(database, None) == []
    with database.connect("app") as conn:
        assert conn.execute("SELECT count(*) FROM memberships").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM tenants").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM audit_log").fetchone() == (0,)


def test_app_role_cannot_write_into_another_tenant(client, database):
    from tests.conftest import make_tenant

    a = make_tenant(client, roles=())
    b = make_tenant(client, roles=())
    with database.connect("app") as conn:
        conn.execute("SELECT set_config('app.tenant_id', %s, false)", (b.tenant_id,))
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(
                "INSERT INTO audit_log (tenant_id, action, entity_type) VALUES (%s, 'x', 'y')",
                (a.tenant_id,),
            )


def test_cross_tenant_ids_answer_404(client):
    from tests.conftest import make_tenant

    a = make_tenant(client)
    b = make_tenant(client)
    a_user = a.members["agent"].user_id
    invite = client.post(
        "/v1/users/invitations", headers=a.admin.headers, json={"email": "x@elsewhere.example"}
    )
    assert invite.status_code == 201
    a_invitation = invite.json()["id"]
    calls = [
        ("GET", f"/v1/users/{a_user}", None, {}),
        ("PATCH", f"/v1/users/{a_user}", {"role": "admin", "version": 1}, {}),
        ("DELETE", f"/v1/users/invitations/{a_invitation}", None, {}),
    ]
    for method, path, body, headers in calls:
        response = client.request(method, path, json=body, headers={**b.admin.headers, **headers})
        assert response.status_code == 404, (method, path, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    listed = client.get("/v1/users?limit=100", headers=b.admin.headers).json()["items"]
    assert a_user not in {u["id"] for u in listed}
    # and the untouched record is unchanged for its own tenant
    assert client.get(f"/v1/users/{a_user}", headers=a.admin.headers).json()["role"] == "agent"


def test_audit_log_is_append_only(client, database, tenant):
    with database.connect("app") as conn:
        conn.execute("SELECT set_config('app.tenant_id', %s, false)", (tenant.tenant_id,))
        assert conn.execute("SELECT count(*) FROM audit_log").fetchone()[0] > 0
        for statement in ("UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
            conn.rollback()
            conn.execute("SELECT set_config('app.tenant_id', %s, false)", (tenant.tenant_id,))
    # even the owner cannot rewrite history: the trigger refuses
    with database.connect("owner") as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("DELETE FROM audit_log")


def test_unknown_tenant_context_sees_nothing(database):
    with database.connect("app") as conn:
        conn.execute("SELECT set_config('app.tenant_id', %s, false)", (str(uuid.uuid4()),))
        assert conn.execute("SELECT count(*) FROM users").fetchone() == (0,)
