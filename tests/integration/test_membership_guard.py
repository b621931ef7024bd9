"""Every way a membership's role or active flag changes goes through one guard
(identity/memberships.py): the admin API, SCIM PATCH ``active`` and a SCIM group mapped to
a role refuse to leave the tenant without an admin (409 naming the field); an SSO
``role_map`` claim and an LDAP group mapping let the last admin sign in, still an admin.
Real HTTP, real Postgres, the local OIDC IdP and slapd."""

from __future__ import annotations

from typing import Any

import pytest

from tests import ldap_server
from tests.conftest import TenantFixture, current_database, login, make_tenant
from tests.integration.test_ldap import PASSWORD as LDAP_PASSWORD
from tests.integration.test_ldap import Directory, ldap_aws, put, settings_body, slapd
from tests.integration.test_scim import GROUP, Scim, enable
from tests.integration.test_sso_oidc import CLIENT_ID, CLIENT_SECRET, _me, _sign_in, idp

__all__ = ["idp", "ldap_aws", "slapd"]  # fixtures, imported for pytest

pytestmark = pytest.mark.skipif(
    not ldap_server.available(), reason="slapd is not installed (make slapd)"
)


def _admins(tenant: TenantFixture) -> list[str]:
    with current_database().connect("owner") as conn:
        rows = conn.execute(
            "SELECT user_id::text FROM memberships WHERE tenant_id = %s AND role = 'admin'"
            " AND active ORDER BY 1",
            (tenant.tenant_id,),
        ).fetchall()
    return [r[0] for r in rows]


def _names(response: Any, status: int, field: str) -> None:
    assert response.status_code == status, response.text
    assert field in response.text, response.text


def test_no_path_leaves_a_tenant_without_an_admin(
    client: Any, idp: Any, ldap_aws: None, slapd: ldap_server.Slapd
) -> None:
    tenant = make_tenant(client, roles=())
    admin = tenant.admin
    only = [admin.user_id]
    path = f"/v1/users/{admin.user_id}"

    # The admin API: 409 problem+json naming the field.
    for body, field in (({"role": "agent"}, "role"), ({"active": False}, "active")):
        refused = client.patch(path, headers=admin.headers, json={**body, "version": 1})
        _names(refused, 409, field)
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["errors"][0]["field"] == field
    assert _admins(tenant) == only

    # SCIM: the admin is provisioned (an existing member keeps the role), then PATCH
    # active=false and a group mapped to a lower role are 409 in SCIM's format.
    scim = Scim(client, enable(client, tenant), tenant)
    person = scim.user(admin.email)
    assert person["id"] == admin.user_id
    deactivate = scim.patch(
        f"/Users/{admin.user_id}", {"op": "replace", "path": "active", "value": False}
    )
    _names(deactivate, 409, "active")
    assert deactivate.json()["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    group = scim.post("/Groups", {"schemas": [GROUP], "displayName": "Agents"}).json()
    mapped = client.put(
        f"/v1/scim/groups/{group['id']}/mapping", headers=admin.headers, json={"role": "agent"}
    )
    assert mapped.status_code == 200, mapped.text
    joined = scim.patch(
        f"/Groups/{group['id']}",
        {"op": "add", "path": "members", "value": [{"value": admin.user_id}]},
    )
    _names(joined, 409, "members")
    assert _admins(tenant) == only
    # The admin's own mapping screen: a group the admin is in, mapped to a lower role, is a
    # problem+json 409 naming the role (not SCIM's format: this is the desk's API).
    admins = scim.post(
        "/Groups",
        {"schemas": [GROUP], "displayName": "Admins", "members": [{"value": admin.user_id}]},
    ).json()
    demoting = client.put(
        f"/v1/scim/groups/{admins['id']}/mapping", headers=admin.headers, json={"role": "agent"}
    )
    _names(demoting, 409, "role")
    assert demoting.headers["content-type"].startswith("application/problem+json")
    assert _admins(tenant) == only

    # SSO: the provider maps the admin's claim to agent; the sign-in goes on, still admin.
    provider = client.post(
        "/v1/identity-providers",
        headers=admin.headers,
        json={
            "kind": "oidc",
            "name": "Guard SSO",
            "slug": "guard",
            "domains": [admin.email.rpartition("@")[2]],
            "config": {"issuer": idp.issuer, "client_id": CLIENT_ID},
            "client_secret": CLIENT_SECRET,
            "role_claim": "groups",
            "role_map": {"desk-agents": "agent"},
        },
    )
    assert provider.status_code == 201, provider.text
    idp.person = {
        "sub": f"sub-{tenant.slug}",
        "email": admin.email,
        "name": "Admin",
        "groups": ["desk-agents"],
    }
    tokens = _sign_in(client, tenant, provider.json()["slug"])
    assert _me(client, tokens["access_token"])["role"] == "admin"
    assert _admins(tenant) == only

    # LDAP: a directory admin signs in, becomes the only admin (the first one is demoted),
    # leaves the admins group and signs in again: still admin.
    d = Directory(slapd, f"{tenant.slug}.corp.test")
    assert put(client, tenant, settings_body(slapd, d)).status_code == 200
    uid, mail = d.person("boss", groups=("admins",))
    signed_in = login(client, mail, LDAP_PASSWORD)
    assert signed_in.status_code == 200, signed_in.text
    boss = _me(client, signed_in.json()["access_token"])
    boss_headers = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}
    version = client.get(path, headers=boss_headers).json()["version"]
    demoted = client.patch(path, headers=boss_headers, json={"role": "agent", "version": version})
    assert demoted.status_code == 200, demoted.text
    assert _admins(tenant) == [boss["user"]["id"]]
    d.leave(uid, "admins")
    again = login(client, mail, LDAP_PASSWORD)
    assert again.status_code == 200, again.text
    assert _me(client, again.json()["access_token"])["role"] == "admin"
    assert _admins(tenant) == [boss["user"]["id"]]
    with current_database().connect("owner") as conn:
        kept = conn.execute(
            "SELECT data->>'wanted_role' FROM audit_log WHERE tenant_id = %s"
            " AND action = 'membership.last_admin_kept' ORDER BY id",
            (tenant.tenant_id,),
        ).fetchall()
    assert [r[0] for r in kept] == ["agent", "requester"]  # SSO, then LDAP


def test_two_admins_demoting_each_other_at_once_leave_one_admin(client: Any) -> None:
    """The guard locks the tenant's active admins before it counts them: the second
    demotion waits for the first, then sees one admin left and is refused."""
    import threading
    import uuid

    from servicedesk.identity import memberships
    from servicedesk.platform import db
    from servicedesk.platform.roles import Role
    from servicedesk.platform.tenancy import RequestContext

    tenant = make_tenant(client, roles=("admin",))
    first, second = tenant.admin, tenant.members["admin"]
    assert first.user_id != second.user_id and len(_admins(tenant)) == 2
    tenant_id = uuid.UUID(tenant.tenant_id)

    def ctx(session: Any, actor: Any) -> RequestContext:
        db.set_tenant(session, tenant_id=tenant_id, user_id=uuid.UUID(actor.user_id))
        return RequestContext(session, tenant_id, uuid.UUID(actor.user_id), Role.ADMIN)

    outcome: list[object] = []

    def demote_first() -> None:
        try:
            with db.transaction() as session:
                memberships.set_role(ctx(session, second), uuid.UUID(first.user_id), Role.AGENT)
            outcome.append("demoted")
        except memberships.LastAdmin as exc:
            outcome.append(exc)

    with db.transaction() as session:
        memberships.set_role(ctx(session, first), uuid.UUID(second.user_id), Role.AGENT)
        worker = threading.Thread(target=demote_first)
        worker.start()
        worker.join(timeout=0.5)
        assert worker.is_alive(), "the second demotion must wait for the first's locks"
    worker.join(timeout=10)
    assert len(outcome) == 1 and isinstance(outcome[0], memberships.LastAdmin), outcome
    assert outcome[0].field == "role"
    assert _admins(tenant) == [first.user_id]
