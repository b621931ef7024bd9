"""Self-registration of requesters (issue 20 point 6): the tenant's switch and domains, the
same answer whoever owns the address, the confirmation, and the settings' roles."""

from __future__ import annotations

import uuid
from typing import Any

from tests.conftest import PASSWORD, current_database, login, make_tenant
from tests.test_support import latest_outbox

PORTAL = "/v1/settings/portal"


def _set_portal(client: Any, admin: Any, **value: Any) -> Any:
    etag = client.get(PORTAL, headers=admin.headers).headers["ETag"]
    return client.put(PORTAL, headers={**admin.headers, "If-Match": etag}, json=value)


def _register(client: Any, slug: str, email: str, password: str = PASSWORD, **extra: Any) -> Any:
    body = {"tenant": slug, "name": "Rita", "email": email, "password": password, **extra}
    return client.post("/v1/signup/requester", json=body)


def _confirm(client: Any, email: str) -> Any:
    token = latest_outbox(current_database(), "account.registration", email)["token"]
    return client.post("/v1/signup/requester/confirm", json={"token": token})


def _fields(response: Any) -> set[str]:
    assert response.headers["content-type"].startswith("application/problem+json")
    return {e["field"] for e in response.json()["errors"]}


def test_registration_is_off_by_default_and_says_so_as_for_an_unknown_slug(client, tenant):
    assert client.get(PORTAL, headers=tenant.admin.headers).json() == {
        "self_registration": False,
        "allowed_domains": [],
    }
    off = _register(client, tenant.slug, f"x-{uuid.uuid4().hex[:6]}@example.org")
    unknown = _register(client, "no-such-org-at-all", f"x-{uuid.uuid4().hex[:6]}@example.org")
    assert off.status_code == unknown.status_code == 403
    assert _fields(off) == _fields(unknown) == {"tenant"}
    assert off.json()["detail"] == unknown.json()["detail"]


def test_a_new_person_registers_confirms_and_is_a_requester(client, tenant):
    assert _set_portal(client, tenant.admin, self_registration=True).status_code == 200
    email = f"emp-{uuid.uuid4().hex[:8]}@example.org"
    accepted = _register(client, tenant.slug, email)
    assert accepted.status_code == 202, accepted.text
    assert "access_token" not in accepted.text and "set-cookie" not in accepted.headers
    mail = latest_outbox(current_database(), "account.registration", email)
    assert mail["confirm_url"].endswith(f"/register/confirm#token={mail['token']}")
    assert mail["organization"]["slug"] == tenant.slug
    assert login(client, email).status_code == 401  # nothing exists before the link
    confirmed = _confirm(client, email)
    assert confirmed.status_code == 201, confirmed.text
    token = confirmed.json()["access_token"]
    me = client.get("/v1/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert me["role"] == "requester" and me["tenant"]["slug"] == tenant.slug
    assert me["user"]["name"] == "Rita"
    assert login(client, email).status_code == 200
    # The link works once; an organisation sign-up's confirmation does not take it.
    assert _confirm(client, email).status_code == 404
    assert client.post("/v1/signup/confirm", json={"token": mail["token"]}).status_code == 404


def test_the_answer_is_the_same_whoever_owns_the_address(client, tenant):
    other = make_tenant(client, roles=("agent",))
    assert _set_portal(client, tenant.admin, self_registration=True).status_code == 200
    known = other.members["agent"].email
    member = tenant.members["requester"].email
    new = f"new-{uuid.uuid4().hex[:8]}@example.org"
    answers = {
        "account elsewhere": _register(client, tenant.slug, known, "attacker-chosen-pass-1"),
        "member already": _register(client, tenant.slug, member),
        "new": _register(client, tenant.slug, new),
    }
    for label, response in answers.items():
        assert response.status_code == 202, (label, response.text)
    shapes = {label: {**r.json(), "email": "*"} for label, r in answers.items()}
    assert len({repr(sorted(s.items())) for s in shapes.values()}) == 1, shapes
    # The existing person joins as a requester and keeps their own password.
    joined = _confirm(client, known)
    assert joined.status_code == 201, joined.text
    assert login(client, known, "attacker-chosen-pass-1", tenant=tenant.slug).status_code == 401
    signed_in = login(client, known, tenant=tenant.slug)
    assert signed_in.status_code == 200
    me = client.get(
        "/v1/me", headers={"Authorization": f"Bearer {signed_in.json()['access_token']}"}
    ).json()
    assert me["role"] == "requester"
    # Their role elsewhere is untouched.
    assert login(client, known, tenant=other.slug).status_code == 200
    # A member already: told so once the link proved the address (never a new role).
    assert _confirm(client, member).status_code == 409


def test_allowed_domains_narrow_who_may_register(client, tenant):
    saved = _set_portal(
        client, tenant.admin, self_registration=True, allowed_domains=["Example.COM", "corp.test"]
    )
    assert saved.status_code == 200, saved.text
    assert saved.json()["allowed_domains"] == ["example.com", "corp.test"]
    refused = _register(client, tenant.slug, f"a-{uuid.uuid4().hex[:6]}@elsewhere.org")
    assert refused.status_code == 403 and _fields(refused) == {"email"}
    assert "example.com" in refused.json()["errors"][0]["detail"]
    email = f"b-{uuid.uuid4().hex[:6]}@corp.test"
    assert _register(client, tenant.slug, email).status_code == 202
    # Turned off before the link is followed: refused, and the link is kept for later.
    assert _set_portal(client, tenant.admin, self_registration=False).status_code == 200
    late = _confirm(client, email)
    assert late.status_code == 403 and _fields(late) == {"tenant"}
    assert _set_portal(client, tenant.admin, self_registration=True).status_code == 200
    assert _confirm(client, email).status_code == 201


def test_bad_settings_and_bad_registrations_name_the_field(client, tenant):
    bad = _set_portal(client, tenant.admin, self_registration=True, allowed_domains=["not a dom"])
    assert bad.status_code == 422 and _fields(bad) == {"allowed_domains.0"}
    unknown = _set_portal(client, tenant.admin, self_registration="maybe")
    assert unknown.status_code == 422 and _fields(unknown) == {"self_registration"}
    assert _set_portal(client, tenant.admin, self_registration=True).status_code == 200
    weak = _register(client, tenant.slug, f"w-{uuid.uuid4().hex[:6]}@example.org", "short")
    assert weak.status_code == 422 and _fields(weak) == {"password"}
    no_email = _register(client, tenant.slug, "not-an-address")
    assert no_email.status_code == 422 and _fields(no_email) == {"email"}
    no_slug = _register(client, "NOT A SLUG", "a@example.org")
    assert no_slug.status_code == 422 and _fields(no_slug) == {"tenant"}


def test_registrations_are_throttled_with_the_sign_ups(client, tenant):
    assert _set_portal(client, tenant.admin, self_registration=True).status_code == 200
    email = f"t-{uuid.uuid4().hex[:8]}@example.org"
    statuses = [_register(client, tenant.slug, email).status_code for _ in range(4)]
    assert statuses == [202, 202, 202, 429]


def test_only_admins_read_and_change_the_portal_settings(client, tenant):
    for role in ("agent", "requester"):
        headers = tenant.members[role].headers
        assert client.get(PORTAL, headers=headers).status_code == 403
        put = client.put(
            PORTAL, headers={**headers, "If-Match": '"x"'}, json={"self_registration": True}
        )
        assert put.status_code == 403
    assert client.get(PORTAL).status_code == 401


def test_the_setting_belongs_to_its_tenant(client, tenant):
    other = make_tenant(client, roles=())
    assert _set_portal(client, tenant.admin, self_registration=True).status_code == 200
    assert client.get(PORTAL, headers=other.admin.headers).json()["self_registration"] is False
    email = f"i-{uuid.uuid4().hex[:6]}@example.org"
    assert _register(client, other.slug, email).status_code == 403
    assert client.get(f"/v1/branding/{tenant.slug}").json()["self_registration"] is True
    assert client.get(f"/v1/branding/{other.slug}").json()["self_registration"] is False
