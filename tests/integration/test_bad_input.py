"""Bad input: problem+json 4xx naming the field or header, and nothing written."""

from __future__ import annotations

import uuid

import pytest

from tests.conftest import PASSWORD


def _count(database, table: str) -> int:
    with database.connect("owner") as conn:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def _problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status and body["type"].startswith("https://")
    assert "Traceback" not in response.text and "psycopg" not in response.text
    return body


def _fields(body: dict) -> set[str]:
    return {e["field"] for e in body.get("errors", [])}


def _signup(**overrides):
    body = {
        "organization_name": "Bad Input Org",
        "slug": f"b-{uuid.uuid4().hex[:8]}",
        "name": "Someone",
        "email": f"b-{uuid.uuid4().hex[:6]}@example.org",
        "password": PASSWORD,
    }
    body.update(overrides)
    return body


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"slug": "Not A Slug"}, "slug"),
        ({"email": "not-an-email"}, "email"),
        ({"name": "x" * 201}, "name"),
        ({"organization_name": 12}, "organization_name"),
        ({"password": ["a"]}, "password"),
        ({"extra_field": 1}, "extra_field"),
    ],
)
def test_invalid_signup_fields_are_named_and_nothing_is_written(client, database, overrides, field):
    before = (_count(database, "tenants"), _count(database, "users"))
    body = _problem(client.post("/v1/signup", json=_signup(**overrides)), 422)
    assert field in _fields(body)
    assert (_count(database, "tenants"), _count(database, "users")) == before


def test_missing_field_is_named(client):
    body = _signup()
    del body["email"]
    assert "email" in _fields(_problem(client.post("/v1/signup", json=body), 422))


def test_malformed_json_is_a_problem(client):
    response = client.post(
        "/v1/auth/login",
        content=b'{"email": "a@b.c", ',
        headers={"Content-Type": "application/json"},
    )
    assert "body" in _fields(_problem(response, 422))


def test_body_over_one_mebibyte_is_refused(client, database):
    before = _count(database, "tenants")
    huge = _signup(name="x" * (1024 * 1024 + 10))
    body = _problem(client.post("/v1/signup", json=huge), 413)
    assert body["header"] == "Content-Length"
    assert _count(database, "tenants") == before


def test_invalid_uuid_in_path_names_the_parameter(client, tenant):
    response = client.get("/v1/users/not-a-uuid", headers=tenant.admin.headers)
    assert "user_id" in _fields(_problem(response, 422))


def test_invalid_query_parameters_are_named(client, tenant):
    response = client.get("/v1/users?limit=1000&cursor=%%%", headers=tenant.admin.headers)
    assert "limit" in _fields(_problem(response, 422))
    bad_cursor = client.get("/v1/users?cursor=bm90LWpzb24", headers=tenant.admin.headers)
    assert "cursor" in _fields(_problem(bad_cursor, 422))


def test_unknown_route_and_method_are_problems(client):
    _problem(client.get("/v1/does-not-exist"), 404)
    body = _problem(client.delete("/v1/health"), 405)
    assert body["type"].endswith("/method-not-allowed")


def test_failed_create_leaves_nothing_half_written(client, database, tenant):
    before = (
        _count(database, "users"),
        _count(database, "memberships"),
        _count(database, "audit_log"),
    )
    response = client.post(
        "/v1/users",
        headers=tenant.admin.headers,
        json={
            "email": f"x-{uuid.uuid4().hex[:6]}@example.org",
            "name": "X",
            "role": "emperor",
            "password": PASSWORD,
        },
    )
    assert "role" in _fields(_problem(response, 422))
    after = (
        _count(database, "users"),
        _count(database, "memberships"),
        _count(database, "audit_log"),
    )
    assert after == before


def test_bad_if_match_and_idempotency_key_headers_are_named(client, tenant):
    user_id = tenant.members["agent"].user_id
    bad = client.patch(
        f"/v1/users/{user_id}",
        json={"role": "agent"},
        headers={**tenant.admin.headers, "If-Match": "garbage"},
    )
    assert "If-Match" in _fields(_problem(bad, 422))
    key = client.post(
        "/v1/users/invitations",
        json={"email": "k@example.org"},
        headers={**tenant.admin.headers, "Idempotency-Key": "bad key!"},
    )
    assert "Idempotency-Key" in _fields(_problem(key, 422))


def test_request_id_is_echoed_when_well_formed(client):
    good = client.get("/v1/health", headers={"X-Request-Id": "req-12345678"})
    assert good.headers["x-request-id"] == "req-12345678"
    bad = client.get("/v1/health", headers={"X-Request-Id": "bad id\twith spaces"})
    assert (
        bad.headers["x-request-id"] != "bad id\twith spaces"
        and len(bad.headers["x-request-id"]) == 32
    )


@pytest.mark.parametrize("field", ["role", "active"])
def test_null_for_a_required_user_field_is_named_not_a_500(client, tenant, field):
    user_id = tenant.members["agent"].user_id
    response = client.patch(
        f"/v1/users/{user_id}", json={field: None, "version": 1}, headers=tenant.admin.headers
    )
    assert field in _fields(_problem(response, 422))
