"""Password reset and e-mail verification (issue 17 item 9): single-use hashed links, the
same answer for any address, sessions ended on reset, throttles."""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from fastapi.testclient import TestClient

from servicedesk.identity import recovery
from servicedesk.platform import db
from servicedesk.platform.errors import NotFound
from tests.conftest import PASSWORD, current_database, login, make_tenant, reset_caches
from tests.test_support import latest_outbox

NEW_PASSWORD = "a-brand-new-passphrase-77"
_ADDRESSES = itertools.count(1)


@pytest.fixture
def client(app: Any) -> Any:
    """Each test calls from an address of its own. The per-address limit (10 account mails
    an hour) counts every request of the module's tests, which share a database: from one
    shared address, whether a test met the limit depended on the tests run before it."""
    n = next(_ADDRESSES)
    with TestClient(
        app, client=(f"198.18.{n // 250}.{n % 250 + 1}", 40000), raise_server_exceptions=False
    ) as test_client:
        yield test_client


def _forgot(client: Any, email: str) -> Any:
    return client.post("/v1/auth/password/forgot", json={"email": email})


def _reset(client: Any, token: str, password: str = NEW_PASSWORD) -> Any:
    return client.post("/v1/auth/password/reset", json={"token": token, "password": password})


def _reset_token(client: Any, email: str) -> str:
    assert _forgot(client, email).status_code == 202
    mail = latest_outbox(current_database(), "account.password_reset", email)
    assert mail["url"].endswith(f"/reset-password#token={mail['token']}")
    return str(mail["token"])


def _owner(sql: str, *params: Any) -> list[Any]:
    with current_database().connect("owner") as conn:
        cur = conn.execute(sql, params)
        return list(cur.fetchall()) if cur.description else []


def _outbox_rows(event_type: str) -> int:
    return int(_owner("SELECT count(*) FROM outbox WHERE event_type = %s", event_type)[0][0])


def _problem_shape(response: Any) -> tuple[int, Any]:
    body = response.json()
    return response.status_code, [(e["field"], e["detail"]) for e in body.get("errors", [])]


# --- password reset -------------------------------------------------------------------


def test_forgot_password_writes_the_same_outbox_row_and_mails_only_an_account(client, tenant):
    person = tenant.members["requester"].email
    nobody = f"nobody-{uuid.uuid4().hex[:8]}@example.org"
    before = _outbox_rows("account.password_reset")
    known, unknown = _forgot(client, person), _forgot(client, nobody)
    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    assert "token" not in known.text and "set-cookie" not in known.headers
    # The same work for both: one token row and one outbox row each; only the account's
    # row names an address to mail (the consumer mails nobody for the other).
    assert _outbox_rows("account.password_reset") == before + 2
    assert latest_outbox(current_database(), "account.password_reset", person)["token"]
    rows = _owner(
        "SELECT user_id IS NOT NULL FROM account_tokens WHERE email = ANY(%s) ORDER BY email",
        [person, nobody],
    )
    assert sorted(r[0] for r in rows) == [False, True]


def test_reset_sets_the_password_once_and_ends_every_session_in_every_tenant(client, tenant):
    person = tenant.members["requester"]
    # The same person in a second organisation, with a session there too.
    other = make_tenant(client, roles=())
    added = client.post(
        "/v1/users",
        headers=other.admin.headers,
        json={"email": person.email, "name": "R", "role": "agent", "password": PASSWORD},
    )
    assert added.status_code == 201, added.text
    sessions = [login(client, person.email, tenant=slug) for slug in (tenant.slug, other.slug)]
    cookies = [s.headers["set-cookie"].split(";", 1)[0].split("=", 1)[1] for s in sessions]
    old_access = _token_issued(person.user_id, person.tenant_id, seconds_ago=120)
    assert (
        client.get("/v1/me", headers={"Authorization": f"Bearer {old_access}"}).status_code == 200
    )

    token = _reset_token(client, person.email)
    done = _reset(client, token)
    assert done.status_code == 204, done.text

    assert login(client, person.email, PASSWORD, tenant=tenant.slug).status_code == 401
    fresh = login(client, person.email, NEW_PASSWORD, tenant=tenant.slug)
    assert fresh.status_code == 200
    for cookie in cookies:
        client.cookies.clear()
        refused = client.post("/v1/auth/refresh", headers={"Cookie": f"sd_refresh={cookie}"})
        assert refused.status_code == 401
    ended = client.get("/v1/me", headers={"Authorization": f"Bearer {old_access}"})
    assert ended.status_code == 401
    new_access = fresh.json()["access_token"]
    assert (
        client.get("/v1/me", headers={"Authorization": f"Bearer {new_access}"}).status_code == 200
    )
    # Used once.
    again = _reset(client, token, "yet-another-passphrase-1")
    assert again.status_code == 404 and again.json()["errors"][0]["field"] == "token"
    audited = _owner(
        "SELECT tenant_id::text FROM audit_log WHERE action = 'auth.password_reset'"
        " AND entity_id = %s",
        person.user_id,
    )
    assert {r[0] for r in audited} == {tenant.tenant_id, other.tenant_id}


def _token_issued(user_id: str, tenant_id: str, *, seconds_ago: int) -> str:
    """One of our access tokens, issued a while ago (a session older than a reset)."""
    from servicedesk.platform.config import get_settings
    from servicedesk.platform.tokens import ALGORITHM, get_keyset

    settings, keys = get_settings(), get_keyset()
    now = int(time.time())
    claims = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": user_id,
        "tid": tenant_id,
        "role": "requester",
        "iat": now - seconds_ago,
        "exp": now + 600,
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, keys.private_key, algorithm=ALGORITHM, headers={"kid": keys.kid})


def test_an_unknown_used_or_expired_link_gets_one_answer(client, tenant):
    email = tenant.members["agent"].email
    used = _reset_token(client, email)
    assert _reset(client, used).status_code == 204
    expired = _reset_token(client, email)
    with pytest.raises(NotFound) as refused, db.transaction() as session:
        recovery.reset(
            session,
            token=expired,
            password="password-after-expiry-1",
            request_id=None,
            now=datetime.now(UTC) + timedelta(hours=1, seconds=1),  # the setting: one hour
        )
    assert [e["field"] for e in refused.value.errors] == ["token"]
    answers = {
        "unknown": _reset(client, "x" * 43),
        "used": _reset(client, used),
    }
    with db.transaction() as session:  # a second short of the hour still works
        recovery.reset(
            session,
            token=expired,
            password="password-before-expiry-1",
            request_id=None,
            now=datetime.now(UTC) + timedelta(minutes=59, seconds=50),
        )
    answers["used after working"] = _reset(client, expired)
    shapes = {label: _problem_shape(r) for label, r in answers.items()}
    assert len(set(map(repr, shapes.values()))) == 1, shapes
    assert shapes["unknown"][0] == 404


def test_a_password_breaking_the_rules_is_refused_and_the_link_still_works(client, tenant):
    email = tenant.members["agent"].email
    token = _reset_token(client, email)
    weak = _reset(client, token, "short")
    assert weak.status_code == 422 and weak.json()["errors"][0]["field"] == "password"
    assert _reset(client, token, email).status_code == 422  # the address as a password
    assert _reset(client, token).status_code == 204
    assert login(client, email, NEW_PASSWORD).status_code == 200


def test_of_two_concurrent_resets_with_one_link_exactly_one_wins(client, tenant):
    email = tenant.members["agent"].email
    token = _reset_token(client, email)
    outcome: list[Any] = []

    def second() -> None:
        try:
            with db.transaction() as session:
                recovery.reset(
                    session, token=token, password="second-passphrase-22", request_id=None
                )
            outcome.append("reset")
        except NotFound as exc:
            outcome.append(exc)

    with db.transaction() as session:
        recovery.reset(session, token=token, password="first-passphrase-11", request_id=None)
        worker = threading.Thread(target=second)
        worker.start()
        worker.join(timeout=0.5)
        # The claim locks the token row: the second use waits for the first to commit.
        assert worker.is_alive()
    worker.join(timeout=10)
    [result] = outcome
    assert isinstance(result, NotFound)
    assert login(client, email, "first-passphrase-11").status_code == 200
    assert login(client, email, "second-passphrase-22").status_code == 401


def test_an_identity_provider_person_may_add_a_password_by_reset(client, tenant):
    email = f"sso-{uuid.uuid4().hex[:8]}@example.org"
    _owner(
        "WITH u AS (INSERT INTO users (email, name, idp_issuer, idp_subject, email_verified_at)"
        " VALUES (%s, 'Sso', 'https://idp.example', %s, now()) RETURNING id)"
        " INSERT INTO memberships (tenant_id, user_id, role) SELECT %s, id, 'requester' FROM u",
        email,
        uuid.uuid4().hex,
        tenant.tenant_id,
    )
    assert _reset(client, _reset_token(client, email)).status_code == 204
    assert login(client, email, NEW_PASSWORD).status_code == 200


def test_reset_requests_are_limited_per_email(client):
    email = f"spam-{uuid.uuid4().hex[:8]}@example.org"
    for _ in range(3):  # account_mail_max_per_email
        assert _forgot(client, email).status_code == 202
    limited = _forgot(client, email)
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) > 3000
    assert _forgot(client, f"other-{uuid.uuid4().hex[:8]}@example.org").status_code == 202
    # Each kind of link has its own count.
    assert client.post("/v1/auth/verify-email/request", json={"email": email}).status_code == 202


@pytest.fixture
def two_per_address(monkeypatch):
    monkeypatch.setenv("SERVICEDESK_ACCOUNT_MAIL_MAX_PER_ADDRESS", "2")
    reset_caches()
    yield
    monkeypatch.delenv("SERVICEDESK_ACCOUNT_MAIL_MAX_PER_ADDRESS")
    reset_caches()


def test_reset_requests_are_limited_per_client_address(app, two_per_address):
    with TestClient(app, client=("198.51.100.21", 40000)) as caller:
        for n in range(2):
            sent = caller.post(
                "/v1/auth/password/forgot",
                headers={"X-Forwarded-For": f"203.0.113.{n}"},
                json={"email": f"addr-{uuid.uuid4().hex[:8]}@example.org"},
            )
            assert sent.status_code == 202, sent.text
        limited = _forgot(caller, f"addr-{uuid.uuid4().hex[:8]}@example.org")
        assert limited.status_code == 429 and int(limited.headers["retry-after"]) > 0
    with TestClient(app, client=("198.51.100.22", 40000)) as neighbour:
        assert _forgot(neighbour, f"n-{uuid.uuid4().hex[:8]}@example.org").status_code == 202


# --- e-mail verification --------------------------------------------------------------


def _verified(email: str) -> bool:
    return bool(
        _owner("SELECT email_verified_at IS NOT NULL FROM users WHERE email = %s", email)[0][0]
    )


def test_sign_up_and_invitation_verify_an_address_and_an_admin_created_one_does_not(client, tenant):
    assert _verified(tenant.admin.email)  # confirmed its sign-up link
    assert not _verified(tenant.members["agent"].email)  # POST /v1/users: proves nothing
    from tests.test_support import accept_latest_invitation

    invited = f"inv-{uuid.uuid4().hex[:8]}@example.org"
    sent = client.post(
        "/v1/users/invitations", headers=tenant.admin.headers, json={"email": invited}
    )
    assert sent.status_code == 201
    accepted = accept_latest_invitation(client, tenant, invited, name="Inv", password=PASSWORD)
    assert accepted.status_code == 200, accepted.text
    assert _verified(invited)


def test_an_unverified_address_is_verified_by_its_link_once(client, tenant):
    email = tenant.members["agent"].email
    asked = client.post("/v1/auth/verify-email/request", json={"email": email})
    assert asked.status_code == 202
    mail = latest_outbox(current_database(), "account.email_verification", email)
    assert mail["url"].endswith(f"/verify-email#token={mail['token']}")
    assert not _verified(email)
    done = client.post("/v1/auth/verify-email", json={"token": mail["token"]})
    assert done.status_code == 204, done.text
    assert _verified(email)
    again = client.post("/v1/auth/verify-email", json={"token": mail["token"]})
    assert again.status_code == 404 and again.json()["errors"][0]["field"] == "token"
    # Verified now: another request answers alike and mails nobody.
    before = _outbox_rows("account.email_verification")
    assert client.post("/v1/auth/verify-email/request", json={"email": email}).status_code == 202
    assert _outbox_rows("account.email_verification") == before + 1
    assert latest_outbox(current_database(), "account.email_verification", email) == mail


def test_a_reset_link_verifies_the_address_too(client, tenant):
    email = tenant.members["agent"].email
    assert not _verified(email)
    assert _reset(client, _reset_token(client, email)).status_code == 204
    assert _verified(email)


def test_the_migration_backfill_verifies_invited_signed_up_and_idp_people_only(client, tenant):
    """0015's data migration, run again over people made through the API."""
    import importlib.util
    from pathlib import Path

    from tests.test_support import accept_latest_invitation

    path = Path(__file__).resolve().parents[2] / "migrations/versions/0015_account_recovery.py"
    spec = importlib.util.spec_from_file_location("migration_0015", path)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)

    invited = f"inv-{uuid.uuid4().hex[:8]}@example.org"
    sent = client.post(
        "/v1/users/invitations", headers=tenant.admin.headers, json={"email": invited}
    )
    assert sent.status_code == 201
    assert accept_latest_invitation(client, tenant, invited, name="I", password=PASSWORD).is_success
    sso = f"sso-{uuid.uuid4().hex[:8]}@example.org"
    _owner(
        "INSERT INTO users (email, name, idp_issuer, idp_subject) VALUES (%s, 'S', 'iss', %s)",
        sso,
        uuid.uuid4().hex,
    )
    people = {
        tenant.admin.email: True,  # confirmed the sign-up
        invited: True,
        sso: True,
        tenant.members["agent"].email: False,  # created by an admin with a password
    }
    _owner("UPDATE users SET email_verified_at = NULL WHERE email = ANY(%s)", list(people))
    _owner(migration.BACKFILL)
    assert {email: _verified(email) for email in people} == people
