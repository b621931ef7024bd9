"""Sign-up by e-mail confirmation, and no route telling whether an address has an account."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import (
    PASSWORD,
    confirm_signup,
    current_database,
    login,
    make_tenant,
    reset_caches,
    signup,
)
from tests.test_support import latest_outbox


def _slug() -> str:
    return f"s-{uuid.uuid4().hex[:10]}"


def _no_session(response: Any) -> None:
    assert "access_token" not in response.text
    assert "set-cookie" not in response.headers


def test_signup_for_an_existing_account_checks_no_password_and_answers_as_for_a_new_one(
    client, tenant
):
    victim = tenant.members["agent"].email
    new = f"new-{uuid.uuid4().hex[:8]}@example.org"
    answers = {
        "existing, right password": signup(client, victim, _slug(), PASSWORD),
        "existing, wrong password": signup(client, victim, _slug(), "wrong-but-long-pass-9"),
        "new address": signup(client, new, _slug(), PASSWORD),
    }
    for label, response in answers.items():
        assert response.status_code == 202, (label, response.text)
        _no_session(response)
    assert {r.json()["email"] for r in answers.values()} == {victim, new}
    shapes = {label: {**r.json(), "email": "*"} for label, r in answers.items()}
    assert len({repr(sorted(s.items())) for s in shapes.values()}) == 1, shapes
    # Nothing exists until the link is followed.
    assert login(client, victim, PASSWORD).json()["access_token"]
    assert login(client, new, PASSWORD).status_code == 401


def test_confirmation_creates_the_organisation_and_signs_the_new_admin_in(client):
    email, slug = f"owner-{uuid.uuid4().hex[:8]}@example.org", _slug()
    assert signup(client, email, slug, organization_name="Acme Ltd", name="Olga").status_code == 202
    mail = latest_outbox(current_database(), "signup.requested", email)
    assert mail["confirm_url"].endswith(f"/signup/confirm#token={mail['token']}")
    assert mail["existing_account"] is False
    confirmed = confirm_signup(client, email)
    assert confirmed.status_code == 201, confirmed.text
    assert "sd_refresh=" in confirmed.headers["set-cookie"]
    token = confirmed.json()["access_token"]
    me = client.get("/v1/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert me["role"] == "admin" and me["tenant"]["slug"] == slug
    assert me["tenant"]["name"] == "Acme Ltd" and me["user"]["name"] == "Olga"
    assert login(client, email).status_code == 200
    # The link works once.
    assert confirm_signup(client, email).status_code == 404


def test_confirmation_for_an_existing_person_adds_the_organisation_and_keeps_their_password(
    client, tenant
):
    person = tenant.members["requester"]
    slug = _slug()
    assert signup(client, person.email, slug, "attacker-chosen-password-1").status_code == 202
    assert latest_outbox(current_database(), "signup.requested", person.email)["existing_account"]
    confirmed = confirm_signup(client, person.email)
    assert confirmed.status_code == 201, confirmed.text
    token = confirmed.json()["access_token"]
    me = client.get("/v1/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert me["user"]["id"] == person.user_id and me["tenant"]["slug"] == slug
    assert me["role"] == "admin"
    # The sign-up password never became theirs; their own works in both tenants.
    assert login(client, person.email, "attacker-chosen-password-1", tenant=slug).status_code == 401
    assert login(client, person.email, tenant=slug).status_code == 200
    assert login(client, person.email, tenant=tenant.slug).json()["access_token"]


def test_a_slug_taken_before_confirmation_is_a_conflict_and_the_link_takes_another(client):
    email, slug = f"late-{uuid.uuid4().hex[:8]}@example.org", _slug()
    assert signup(client, email, slug).status_code == 202
    rival = f"rival-{uuid.uuid4().hex[:8]}@example.org"
    assert signup(client, rival, slug).status_code == 202
    assert confirm_signup(client, rival).status_code == 201
    taken = confirm_signup(client, email)
    assert taken.status_code == 409 and taken.json()["errors"][0]["field"] == "slug"
    other = _slug()
    moved = confirm_signup(client, email, slug=other)
    assert moved.status_code == 201, moved.text
    assert login(client, email, tenant=other).status_code == 200


def test_unknown_or_expired_confirmation_tokens_are_refused(client, database):
    unknown = client.post("/v1/signup/confirm", json={"token": "x" * 43})
    assert unknown.status_code == 404 and unknown.json()["errors"][0]["field"] == "token"
    email = f"slow-{uuid.uuid4().hex[:8]}@example.org"
    assert signup(client, email, _slug()).status_code == 202
    with database.connect("owner") as conn:
        conn.execute(
            "UPDATE pending_signups SET expires_at = now() - interval '1 second' WHERE email = %s",
            (email,),
        )
    assert confirm_signup(client, email).status_code == 404
    assert login(client, email).status_code == 401


def test_signup_refuses_a_taken_slug_and_the_platform_slug(client, tenant):
    for slug in (tenant.slug, "servicedesk"):
        taken = signup(client, f"a-{uuid.uuid4().hex[:6]}@example.org", slug)
        assert taken.status_code == 409 and taken.json()["errors"][0]["field"] == "slug"


def test_signups_are_limited_per_email(client):
    email = f"spam-{uuid.uuid4().hex[:8]}@example.org"
    for _ in range(3):  # signup_max_per_email
        assert signup(client, email, _slug()).status_code == 202
    limited = signup(client, email, _slug())
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) > 3000
    assert signup(client, f"other-{uuid.uuid4().hex[:8]}@example.org", _slug()).status_code == 202


@pytest.fixture
def two_signups_per_address(monkeypatch):
    monkeypatch.setenv("SERVICEDESK_SIGNUP_MAX_PER_ADDRESS", "2")
    reset_caches()
    yield
    monkeypatch.setenv("SERVICEDESK_SIGNUP_MAX_PER_ADDRESS", "1000000")
    reset_caches()


def test_signups_are_limited_per_client_address_whatever_x_forwarded_for_says(
    app, two_signups_per_address
):
    with TestClient(app, client=("198.51.100.7", 40000)) as caller:
        for n in range(2):
            response = caller.post(
                "/v1/signup",
                headers={"X-Forwarded-For": f"203.0.113.{n}"},
                json={
                    "organization_name": "Org",
                    "slug": _slug(),
                    "name": "A",
                    "email": f"addr-{uuid.uuid4().hex[:8]}@example.org",
                    "password": PASSWORD,
                },
            )
            assert response.status_code == 202, response.text
        limited = caller.post(
            "/v1/signup",
            headers={"X-Forwarded-For": "192.0.2.99"},
            json={
                "organization_name": "Org",
                "slug": _slug(),
                "name": "A",
                "email": f"addr-{uuid.uuid4().hex[:8]}@example.org",
                "password": PASSWORD,
            },
        )
        assert limited.status_code == 429, limited.text
    with TestClient(app, client=("198.51.100.8", 40000)) as neighbour:
        response = signup(neighbour, f"n-{uuid.uuid4().hex[:8]}@example.org", _slug())
        assert response.status_code == 202


# --- no route tells whether an address has an account ---------------------------------


def _json_body_properties(schema: dict[str, Any], operation: dict[str, Any]) -> set[str]:
    content = (operation.get("requestBody") or {}).get("content") or {}
    body = (content.get("application/json") or {}).get("schema") or {}
    ref = body.get("$ref", "")
    if ref:
        body = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]
    return set(body.get("properties") or {})


def _email_routes(app: Any) -> set[tuple[str, str]]:
    """Every operation whose JSON body names an e-mail address, from the OpenAPI document."""
    schema = app.openapi()
    return {
        (method.upper(), path)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if "email" in _json_body_properties(schema, operation)
    }


# Volatile or per-address values; everything else in an answer must be equal.
VOLATILE = {"id", "email", "name", "created_at", "expires_at", "instance"}


def _answer(response: Any) -> tuple[int, str, Any, bool]:
    body = response.json()
    if isinstance(body, dict):
        body = {k: (type(v).__name__ if k in VOLATILE else v) for k, v in body.items()}
    return (
        response.status_code,
        response.headers.get("content-type", ""),
        body,
        "set-cookie" in response.headers,
    )


def test_every_route_taking_an_address_answers_the_same_whether_or_not_it_has_an_account(
    client, app
):
    """Walks the OpenAPI document: a new route with an `email` field fails here until it
    is given a request below (and then must answer alike for both kinds of address)."""
    elsewhere = make_tenant(client, roles=("agent",))
    admin = make_tenant(client, roles=()).admin
    # Self-registration where the organisation allows it (identity.registration).
    etag = client.get("/v1/settings/portal", headers=admin.headers).headers["ETag"]
    opened = client.put(
        "/v1/settings/portal",
        headers={**admin.headers, "If-Match": etag},
        json={"self_registration": True},
    )
    assert opened.status_code == 200, opened.text

    def new_address() -> str:
        return f"nobody-{uuid.uuid4().hex[:8]}@example.org"

    def existing_address() -> str:
        # A fresh person with an account in another tenant, so that each request is the
        # first for that address (no previous request changes the answer).
        email = f"someone-{uuid.uuid4().hex[:8]}@example.org"
        created = client.post(
            "/v1/users",
            headers=elsewhere.admin.headers,
            json={"email": email, "name": "Someone", "role": "agent", "password": PASSWORD},
        )
        assert created.status_code == 201, created.text
        return email

    requests = {
        ("POST", "/v1/signup"): lambda email: signup(client, email, _slug(), "a-guess-at-it-123"),
        ("POST", "/v1/auth/login"): lambda email: login(client, email, "a-guess-at-it-123"),
        ("POST", "/v1/users"): lambda email: client.post(
            "/v1/users",
            headers=admin.headers,
            json={"email": email, "name": "Probe", "role": "agent", "password": PASSWORD},
        ),
        ("POST", "/v1/users/invitations"): lambda email: client.post(
            "/v1/users/invitations", headers=admin.headers, json={"email": email}
        ),
        ("POST", "/v1/auth/password/forgot"): lambda email: client.post(
            "/v1/auth/password/forgot", json={"email": email}
        ),
        ("POST", "/v1/auth/verify-email/request"): lambda email: client.post(
            "/v1/auth/verify-email/request", json={"email": email}
        ),
        ("POST", "/v1/signup/requester"): lambda email: client.post(
            "/v1/signup/requester",
            json={"tenant": admin.slug, "name": "Probe", "email": email, "password": PASSWORD},
        ),
    }
    assert _email_routes(app) == set(requests), "a route takes an e-mail: add it here"
    for route, send in requests.items():
        for _ in range(2):
            client.cookies.clear()
            known, unknown = send(existing_address()), send(new_address())
            assert _answer(known) == _answer(unknown), (route, known.text, unknown.text)
            assert known.status_code < 500
