"""User management: roles, versions, invitations, idempotency, the caller."""

from __future__ import annotations

import uuid

from tests.conftest import PASSWORD, login, make_tenant
from tests.test_support import accept_latest_invitation


def _new_user(client, tenant, role="requester", **headers):
    email = f"u-{uuid.uuid4().hex[:8]}@{tenant.slug}.example"
    return client.post(
        "/v1/users",
        headers={**tenant.admin.headers, **headers},
        json={"email": email, "name": "New Person", "role": role, "password": PASSWORD},
    )


def test_me_names_user_tenant_and_role(client, tenant):
    me = client.get("/v1/me", headers=tenant.members["requester"].headers).json()
    assert me["role"] == "requester"
    assert me["tenant"]["slug"] == tenant.slug
    assert me["user"]["email"] == tenant.members["requester"].email


def test_roles_gate_user_management(client, tenant):
    requester, agent = tenant.members["requester"], tenant.members["agent"]
    assert client.get("/v1/users", headers=requester.headers).status_code == 403
    assert client.get("/v1/users", headers=agent.headers).status_code == 200
    denied = client.post(
        "/v1/users",
        headers=agent.headers,
        json={"email": "x@y.example", "name": "X", "password": PASSWORD},
    )
    assert denied.status_code == 403
    assert denied.headers["content-type"] == "application/problem+json"


def test_list_users_pages_with_cursor(client):
    tenant = make_tenant(client, roles=())
    for _ in range(4):
        assert _new_user(client, tenant).status_code == 201
    seen, cursor = [], None
    while True:
        url = "/v1/users?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(url, headers=tenant.admin.headers).json()
        seen.extend(u["email"] for u in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 5 and seen == sorted(seen)
    filtered = client.get("/v1/users?role=admin", headers=tenant.admin.headers).json()
    assert [u["role"] for u in filtered["items"]] == ["admin"]


def test_patch_needs_the_current_version(client, tenant):
    user = _new_user(client, tenant).json()
    path = f"/v1/users/{user['id']}"
    missing = client.patch(path, json={"role": "agent"}, headers=tenant.admin.headers)
    assert missing.status_code == 428
    ok = client.patch(
        path, json={"role": "agent"}, headers={**tenant.admin.headers, "If-Match": '"1"'}
    )
    assert ok.status_code == 200 and ok.json()["role"] == "agent" and ok.json()["version"] == 2
    assert ok.headers["etag"] == '"2"'
    stale = client.patch(path, json={"role": "manager", "version": 1}, headers=tenant.admin.headers)
    assert stale.status_code == 412 and stale.json()["current_version"] == 2
    assert client.get(path, headers=tenant.admin.headers).json()["role"] == "agent"


def test_last_admin_cannot_be_demoted(client):
    tenant = make_tenant(client, roles=())
    path = f"/v1/users/{tenant.admin.user_id}"
    response = client.patch(
        path, json={"role": "agent", "version": 1}, headers=tenant.admin.headers
    )
    assert response.status_code == 409


def test_create_user_with_idempotency_key_replays_without_a_second_user(client, tenant):
    key = {"Idempotency-Key": f"create-{uuid.uuid4().hex}"}
    email = f"idem-{uuid.uuid4().hex[:6]}@{tenant.slug}.example"
    body = {"email": email, "name": "Idem", "role": "agent", "password": PASSWORD}
    first = client.post("/v1/users", headers={**tenant.admin.headers, **key}, json=body)
    again = client.post("/v1/users", headers={**tenant.admin.headers, **key}, json=body)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    other = client.post(
        "/v1/users", headers={**tenant.admin.headers, **key}, json={**body, "name": "Different"}
    )
    assert other.status_code == 422 and other.json()["errors"][0]["field"] == "Idempotency-Key"


def test_a_member_cannot_be_created_twice(client, tenant):
    response = client.post(
        "/v1/users",
        headers=tenant.admin.headers,
        json={"email": tenant.members["agent"].email, "name": "Dup", "password": PASSWORD},
    )
    assert response.status_code == 409 and response.json()["errors"][0]["field"] == "email"


def test_a_person_from_another_tenant_is_added_keeping_their_own_name_and_password(client):
    home, other = make_tenant(client, roles=("agent",)), make_tenant(client, roles=())
    person = home.members["agent"]
    added = client.post(
        "/v1/users",
        headers=other.admin.headers,
        json={
            "email": person.email,
            "name": "Renamed",
            "role": "requester",
            "password": "admin-chosen-password-7",
        },
    )
    assert added.status_code == 201, added.text
    assert added.json()["id"] == person.user_id and added.json()["name"] == "Agent"
    assert added.json()["role"] == "requester"
    assert login(client, person.email, "admin-chosen-password-7", other.slug).status_code == 401
    assert login(client, person.email, PASSWORD, other.slug).status_code == 200


def test_invitation_flow_creates_account_once(client, tenant):
    email = f"invitee-{uuid.uuid4().hex[:6]}@example.org"
    invited = client.post(
        "/v1/users/invitations",
        headers=tenant.admin.headers,
        json={"email": email, "role": "agent"},
    )
    assert invited.status_code == 201
    assert "token" not in invited.json()
    weak = accept_latest_invitation(client, tenant, email, name="Invitee", password="password1234")
    assert weak.status_code == 422 and weak.json()["errors"][0]["field"] == "password"
    accepted = accept_latest_invitation(client, tenant, email, name="Invitee", password=PASSWORD)
    assert accepted.status_code == 200, accepted.text
    token = accepted.json()["access_token"]
    me = client.get("/v1/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert me["role"] == "agent" and me["user"]["email"] == email
    again = accept_latest_invitation(client, tenant, email, name="Invitee", password=PASSWORD)
    assert again.status_code == 404
    assert login(client, email).status_code == 200


def test_revoked_invitation_cannot_be_accepted(client, tenant):
    email = f"revoked-{uuid.uuid4().hex[:6]}@example.org"
    invited = client.post(
        "/v1/users/invitations", headers=tenant.admin.headers, json={"email": email}
    )
    revoke = client.delete(
        f"/v1/users/invitations/{invited.json()['id']}", headers=tenant.admin.headers
    )
    assert revoke.status_code == 204
    listed = client.get("/v1/users/invitations", headers=tenant.admin.headers).json()["items"]
    assert any(i["id"] == invited.json()["id"] and i["revoked_at"] for i in listed)
    response = accept_latest_invitation(client, tenant, email, name="X", password=PASSWORD)
    assert response.status_code == 404


def test_signup_refuses_taken_slug_and_weak_password(client, tenant):
    taken = client.post(
        "/v1/signup",
        json={
            "organization_name": "Dup",
            "slug": tenant.slug,
            "name": "A",
            "email": f"a-{uuid.uuid4().hex[:6]}@example.org",
            "password": PASSWORD,
        },
    )
    assert taken.status_code == 409 and taken.json()["errors"][0]["field"] == "slug"
    for weak in ("short", "password123456", "aaaaaaaaaaaaaaaa"):
        response = client.post(
            "/v1/signup",
            json={
                "organization_name": "Weak",
                "slug": f"w-{uuid.uuid4().hex[:8]}",
                "name": "A",
                "email": f"w-{uuid.uuid4().hex[:6]}@example.org",
                "password": weak,
            },
        )
        assert response.status_code == 422, weak
        assert response.json()["errors"][0]["field"] == "password"
