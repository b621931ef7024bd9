"""My profile (issue 20 item 6): name, time zone and locale; the password change that
ends every other session; the organisation switcher's list, by name."""

from __future__ import annotations

from typing import Any

from tests.conftest import PASSWORD, login, make_tenant
from tests.integration.test_account_recovery import _token_issued

NEW_PASSWORD = "a-brand-new-passphrase-77"


def _fields(response: Any) -> set[str]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return {e["field"].rsplit(".", 1)[-1] for e in response.json()["errors"]}


def test_the_profile_changes_what_me_answers_and_only_the_fields_sent(client, tenant):
    person = tenant.members["requester"]
    me = client.get("/v1/me", headers=person.headers).json()
    assert (me["time_zone"], me["locale"]) == (None, None)
    changed = client.patch(
        "/v1/me",
        json={"time_zone": "Asia/Tokyo", "locale": "en-GB"},
        headers=person.headers,
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["time_zone"], changed.json()["locale"]) == ("Asia/Tokyo", "en-GB")
    assert changed.json()["user"]["name"] == me["user"]["name"]
    renamed = client.patch("/v1/me", json={"name": "Rae"}, headers=person.headers)
    assert renamed.json()["user"]["name"] == "Rae"
    assert renamed.json()["time_zone"] == "Asia/Tokyo"
    cleared = client.patch("/v1/me", json={"time_zone": None}, headers=person.headers)
    assert cleared.json()["time_zone"] is None


def test_bad_profile_input_names_the_field(client, tenant):
    person = tenant.members["agent"]
    assert _fields(
        client.patch("/v1/me", json={"time_zone": "Mars/Olympus"}, headers=person.headers)
    ) == {"time_zone"}
    assert _fields(client.patch("/v1/me", json={"locale": "english"}, headers=person.headers)) == {
        "locale"
    }
    assert _fields(client.patch("/v1/me", json={"name": None}, headers=person.headers)) == {"name"}
    assert _fields(client.patch("/v1/me", json={"role": "admin"}, headers=person.headers)) == {
        "role"
    }
    assert client.patch("/v1/me", json={"name": "X"}).status_code == 401


def test_my_tenants_lists_names_and_marks_the_current_one(client, tenant):
    person = tenant.members["requester"]
    other = make_tenant(client, roles=())
    added = client.post(
        "/v1/users",
        headers=other.admin.headers,
        json={"email": person.email, "name": "R", "role": "agent", "password": PASSWORD},
    )
    assert added.status_code == 201, added.text
    listed = client.get("/v1/me/tenants", headers=person.headers)
    assert listed.status_code == 200
    by_slug = {t["slug"]: t for t in listed.json()}
    assert set(by_slug) == {tenant.slug, other.slug}
    assert by_slug[tenant.slug]["current"] and not by_slug[other.slug]["current"]
    assert by_slug[other.slug]["name"] == f"Org {other.slug}"
    assert by_slug[other.slug]["role"] == "agent"
    # Another person's organisations are not listed.
    assert [
        t["slug"] for t in client.get("/v1/me/tenants", headers=other.admin.headers).json()
    ] == [other.slug]


def test_a_password_change_needs_the_current_one_and_ends_the_other_sessions(client, tenant):
    person = tenant.members["requester"]
    other_session = login(client, person.email)
    cookie = other_session.headers["set-cookie"].split(";", 1)[0].split("=", 1)[1]
    old_access = _token_issued(person.user_id, person.tenant_id, seconds_ago=120)

    wrong = client.post(
        "/v1/me/password",
        json={"current_password": "not-it-at-all-123", "new_password": NEW_PASSWORD},
        headers=person.headers,
    )
    assert _fields(wrong) == {"current_password"}
    weak = client.post(
        "/v1/me/password",
        json={"current_password": PASSWORD, "new_password": "short"},
        headers=person.headers,
    )
    assert _fields(weak) == {"new_password"}
    assert login(client, person.email, PASSWORD).status_code == 200  # nothing changed yet

    client.cookies.clear()
    changed = client.post(
        "/v1/me/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=person.headers,
    )
    assert changed.status_code == 200, changed.text
    assert "sd_refresh=" in changed.headers["set-cookie"]
    new_access = changed.json()["access_token"]
    assert (
        client.get("/v1/me", headers={"Authorization": f"Bearer {new_access}"}).status_code == 200
    )
    # The other sessions ended: its refresh cookie, and access tokens issued before.
    client.cookies.clear()
    refused = client.post("/v1/auth/refresh", headers={"Cookie": f"sd_refresh={cookie}"})
    assert refused.status_code == 401
    assert (
        client.get("/v1/me", headers={"Authorization": f"Bearer {old_access}"}).status_code == 401
    )
    assert login(client, person.email, PASSWORD).status_code == 401
    assert login(client, person.email, NEW_PASSWORD).status_code == 200
