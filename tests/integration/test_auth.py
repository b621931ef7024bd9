"""Authentication: login, throttling, refresh rotation, token verification, OIDC."""

from __future__ import annotations

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from tests.conftest import PASSWORD, login, make_tenant, reset_caches


def _refresh_cookie(response) -> str:
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=strict" in cookie
    assert "Path=/v1/auth" in cookie
    return cookie.split(";", 1)[0].split("=", 1)[1]


def _refresh(client, token: str):
    client.cookies.clear()
    return client.post("/v1/auth/refresh", headers={"Cookie": f"sd_refresh={token}"})


def test_login_returns_bearer_token_and_refresh_cookie(client, tenant):
    response = login(client, tenant.members["agent"].email)
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer" and body["expires_in"] > 0
    assert response.headers["cache-control"] == "no-store"
    _refresh_cookie(response)
    header = jwt.get_unverified_header(body["access_token"])
    assert header["alg"] == "EdDSA" and header["kid"]
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert {"sub", "tid", "role", "exp", "iat", "jti"} <= claims.keys()
    assert claims["role"] == "agent"


def test_unknown_email_and_wrong_password_get_the_same_answer(client, tenant):
    unknown = login(client, f"nobody-{uuid.uuid4().hex[:6]}@nowhere.example")
    wrong = login(client, tenant.members["requester"].email, "wrong-password-but-long")
    assert unknown.status_code == wrong.status_code == 401
    strip = lambda r: {k: v for k, v in r.json().items() if k != "instance"}  # noqa: E731
    assert strip(unknown) == strip(wrong)
    assert unknown.headers["content-type"] == "application/problem+json"


def test_repeated_failures_lock_the_account_with_429_and_retry_after(client, tenant):
    email = tenant.members["requester"].email
    for _ in range(5):
        assert login(client, email, "not-the-password-123").status_code == 401
    locked = login(client, email)  # even the right password waits out the lock
    assert locked.status_code == 429
    assert int(locked.headers["retry-after"]) >= 1
    assert locked.json()["type"].endswith("/too-many-requests")
    # another account from the same address is not locked yet
    assert login(client, tenant.members["agent"].email).status_code == 200


def test_refresh_rotates_and_reuse_revokes_the_family(client, tenant):
    first = _refresh_cookie(login(client, tenant.members["agent"].email))
    rotated = _refresh(client, first)
    assert rotated.status_code == 200, rotated.text
    second = _refresh_cookie(rotated)
    assert second != first
    # replaying the first (already rotated) token is theft: the whole family dies
    replay = _refresh(client, first)
    assert replay.status_code == 401
    assert _refresh(client, second).status_code == 401
    # a fresh login still works
    assert login(client, tenant.members["agent"].email).status_code == 200


def test_logout_revokes_the_session(client, tenant):
    cookie = _refresh_cookie(login(client, tenant.members["agent"].email))
    client.cookies.clear()
    out = client.post("/v1/auth/logout", headers={"Cookie": f"sd_refresh={cookie}"})
    assert out.status_code == 204
    assert _refresh(client, cookie).status_code == 401


def test_refresh_without_cookie_is_401(client):
    client.cookies.clear()
    response = client.post("/v1/auth/refresh")
    assert response.status_code == 401 and response.json()["cookie"] == "sd_refresh"


def _claims(tenant, **overrides):
    now = int(time.time())
    claims = {
        "iss": "servicedesk",
        "aud": "servicedesk-api",
        "sub": tenant.admin.user_id,
        "tid": tenant.tenant_id,
        "role": "admin",
        "iat": now,
        "exp": now + 300,
        "jti": uuid.uuid4().hex,
    }
    claims.update(overrides)
    return claims


def _our_key():
    from servicedesk.platform.tokens import get_keyset

    return get_keyset()


@pytest.mark.parametrize(
    "forge",
    ["expired", "other_key", "alg_none", "hs256_public_key", "wrong_audience", "garbage", "no_kid"],
)
def test_forged_and_expired_tokens_are_refused(client, tenant, forge):
    keys = _our_key()
    headers = {"kid": keys.kid}
    if forge == "expired":
        token = jwt.encode(
            _claims(tenant, exp=int(time.time()) - 60),
            keys.private_key,
            algorithm="EdDSA",
            headers=headers,
        )
    elif forge == "other_key":
        token = jwt.encode(
            _claims(tenant),
            ed25519.Ed25519PrivateKey.generate(),
            algorithm="EdDSA",
            headers=headers,
        )
    elif forge == "alg_none":
        token = jwt.encode(_claims(tenant), None, algorithm="none", headers=headers)
    elif forge == "hs256_public_key":
        public = keys.public_keys[keys.kid].public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        import base64
        import hashlib
        import hmac

        def b64(data: bytes) -> str:
            return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

        head = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": keys.kid}).encode())
        body = b64(json.dumps(_claims(tenant)).encode())
        signature = hmac.new(public, f"{head}.{body}".encode(), hashlib.sha256).digest()
        token = f"{head}.{body}.{b64(signature)}"
    elif forge == "wrong_audience":
        token = jwt.encode(
            _claims(tenant, aud="someone-else"),
            keys.private_key,
            algorithm="EdDSA",
            headers=headers,
        )
    elif forge == "no_kid":
        token = jwt.encode(_claims(tenant), keys.private_key, algorithm="EdDSA")
    else:
        token = "not.a.jwt"
    response = client.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401, forge
    assert response.json()["header"] == "Authorization"
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize("header", [None, "", "Basic abc", "Bearer", "Bearer    ", "token"])
def test_missing_or_malformed_authorization_header_is_401(client, header):
    headers = {} if header is None else {"Authorization": header}
    response = client.get("/v1/me", headers=headers)
    assert response.status_code == 401
    assert response.json()["header"] == "Authorization"


def test_deactivated_user_is_refused_at_once(client, tenant):
    agent = tenant.members["agent"]
    current = client.get(f"/v1/users/{agent.user_id}", headers=tenant.admin.headers)
    patched = client.patch(
        f"/v1/users/{agent.user_id}",
        json={"active": False},
        headers={**tenant.admin.headers, "If-Match": current.headers["etag"]},
    )
    assert patched.status_code == 200, patched.text
    assert client.get("/v1/me", headers=agent.headers).status_code == 401
    assert login(client, agent.email).status_code == 401


def test_user_in_two_tenants_names_one_and_can_switch(client):
    a = make_tenant(client, roles=())
    b = make_tenant(client, roles=())
    email = f"shared-{uuid.uuid4().hex[:6]}@example.org"
    created = client.post(
        "/v1/users",
        headers=a.admin.headers,
        json={"email": email, "name": "Shared", "role": "agent", "password": PASSWORD},
    )
    assert created.status_code == 201
    from tests.test_support import accept_latest_invitation

    invited = client.post(
        "/v1/users/invitations", headers=b.admin.headers, json={"email": email, "role": "requester"}
    )
    assert invited.status_code == 201, invited.text
    accepted = accept_latest_invitation(client, b, email, password=PASSWORD)
    assert accepted.status_code == 200, accepted.text

    ambiguous = login(client, email)
    assert ambiguous.status_code == 400
    assert sorted(ambiguous.json()["tenants"]) == sorted([a.slug, b.slug])
    # ... and by name, for the sign-in page's choice (issue 20: names, not slugs).
    named = {o["slug"]: o["name"] for o in ambiguous.json()["organisations"]}
    assert named == {a.slug: f"Org {a.slug}", b.slug: f"Org {b.slug}"}
    in_a = login(client, email, tenant=a.slug)
    assert in_a.status_code == 200
    token = in_a.json()["access_token"]
    switched = client.post(
        "/v1/auth/switch-tenant",
        json={"tenant": b.slug},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert switched.status_code == 200, switched.text
    me = client.get(
        "/v1/me", headers={"Authorization": f"Bearer {switched.json()['access_token']}"}
    )
    assert me.json()["tenant"]["slug"] == b.slug and me.json()["role"] == "requester"
    foreign = client.post(
        "/v1/auth/switch-tenant",
        json={"tenant": "no-such-tenant"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert foreign.status_code == 404


class _JWKS:
    """An OIDC issuer's key set served over real HTTP on loopback."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = "kid-1"
        jwks_payload = {"keys": [self._jwk()]}
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = json.dumps({"keys": [outer._jwk()]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        del jwks_payload
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/jwks.json"

    def _jwk(self) -> dict:
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        return {**jwk, "kid": self.kid, "use": "sig", "alg": "RS256"}

    def rotate(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = "kid-2"

    def token(self, **claims: object) -> str:
        now = int(time.time())
        body = {
            "iss": "https://idp.example/realm",
            "aud": "servicedesk",
            "iat": now,
            "exp": now + 300,
            **claims,
        }
        return jwt.encode(body, self.key, algorithm="RS256", headers={"kid": self.kid})

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def oidc(monkeypatch):
    issuer = _JWKS()
    monkeypatch.setenv("SERVICEDESK_OIDC_ISSUER", "https://idp.example/realm")
    monkeypatch.setenv("SERVICEDESK_OIDC_AUDIENCE", "servicedesk")
    monkeypatch.setenv("SERVICEDESK_OIDC_JWKS_URL", issuer.url)
    monkeypatch.setenv("SERVICEDESK_OIDC_JWKS_REFETCH_COOLDOWN_SECONDS", "0")
    reset_caches()
    yield issuer
    issuer.close()
    monkeypatch.delenv("SERVICEDESK_OIDC_ISSUER")
    reset_caches()


def test_oidc_token_provisions_user_just_in_time(client, oidc, tenant):
    subject = uuid.uuid4().hex
    token = oidc.token(
        sub=subject,
        email=f"{subject[:8]}@corp.example",
        name="Jit User",
        servicedesk_tenant=tenant.slug,
    )
    me = client.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200, me.text
    assert me.json()["role"] == "requester" and me.json()["tenant"]["slug"] == tenant.slug
    # the same person again: same user, role from the mapped claim
    again = oidc.token(
        sub=subject,
        email=f"{subject[:8]}@corp.example",
        servicedesk_tenant=tenant.slug,
        servicedesk_role="agent",
    )
    me2 = client.get("/v1/me", headers={"Authorization": f"Bearer {again}"})
    assert me2.json()["user"]["id"] == me.json()["user"]["id"]
    assert me2.json()["role"] == "agent"
    # key rotation at the issuer: an unknown kid makes us refetch the key set
    oidc.rotate()
    rotated = oidc.token(
        sub=subject, email=f"{subject[:8]}@corp.example", servicedesk_tenant=tenant.slug
    )
    assert client.get("/v1/me", headers={"Authorization": f"Bearer {rotated}"}).status_code == 200


def test_oidc_token_for_wrong_audience_or_unknown_tenant_is_refused(client, oidc, tenant):
    wrong_aud = oidc.token(
        sub="s1", email="s1@corp.example", aud="other", servicedesk_tenant=tenant.slug
    )
    assert client.get("/v1/me", headers={"Authorization": f"Bearer {wrong_aud}"}).status_code == 401
    no_tenant = oidc.token(sub="s2", email="s2@corp.example", servicedesk_tenant="no-such-org")
    assert client.get("/v1/me", headers={"Authorization": f"Bearer {no_tenant}"}).status_code == 401
    takeover = oidc.token(
        sub="s3", email=tenant.members["agent"].email, servicedesk_tenant=tenant.slug
    )
    assert client.get("/v1/me", headers={"Authorization": f"Bearer {takeover}"}).status_code == 401


# --- every password check shares login's throttling and lockout ----------------------------


def _depends_on(dependant, call) -> bool:
    return any(d.call is call or _depends_on(d, call) for d in dependant.dependencies)


def _password_routes(app) -> set[tuple[str, str]]:
    """Routes whose handler can check a password: those given the PasswordCheck gate."""
    from servicedesk.identity.routes import password_gate
    from servicedesk.platform.app import api_routes

    return {
        (method, route.path)
        for route in api_routes(app)
        if _depends_on(route.dependant, password_gate)
        for method in route.methods
    }


def _existing_person_invited(client, password_holder):
    """An invitation into a second tenant for a person who already has an account."""
    from tests.conftest import current_database
    from tests.test_support import latest_outbox

    other = make_tenant(client, roles=())
    invited = client.post(
        "/v1/users/invitations",
        headers=other.admin.headers,
        json={"email": password_holder.email, "role": "agent"},
    )
    assert invited.status_code == 201, invited.text
    return latest_outbox(current_database(), "user.invited", password_holder.email)["token"]


def test_every_route_that_checks_a_password_shares_the_login_lockout(client, app):
    """Walks the routes: each one with the gate is driven with wrong passwords until the
    account locks, and then the account is locked for login too (and the other way). Each
    route's attempts come from an address of their own, so that only the account's count
    (not the shared test address's) decides."""
    from fastapi.testclient import TestClient

    def login_attempt(caller, actor, password):
        return login(caller, actor.email, password)

    def invitation_attempt(caller, actor, password):
        token = _existing_person_invited(client, actor)
        return caller.post(
            "/v1/auth/accept-invitation", json={"token": token, "password": password}
        )

    def password_change_attempt(caller, actor, password):
        # Signed in already: a wrong current password is a field error (422), not a 401.
        return caller.post(
            "/v1/me/password",
            json={"current_password": password, "new_password": "a-brand-new-passphrase-77"},
            headers=actor.headers,
        )

    def mfa_off_attempt(caller, actor, password):
        # Turning two-step verification off with the password: a field error too.
        return caller.request(
            "DELETE", "/v1/me/mfa", json={"password": password}, headers=actor.headers
        )

    def recovery_codes_attempt(caller, actor, password):
        # New recovery codes with the password: a field error too (checked before "not on").
        return caller.post(
            "/v1/me/mfa/recovery-codes", json={"password": password}, headers=actor.headers
        )

    attempts = {
        ("POST", "/v1/auth/login"): login_attempt,
        ("POST", "/v1/auth/accept-invitation"): invitation_attempt,
        ("POST", "/v1/me/password"): password_change_attempt,
        ("DELETE", "/v1/me/mfa"): mfa_off_attempt,
        ("POST", "/v1/me/mfa/recovery-codes"): recovery_codes_attempt,
    }
    refused_with = {
        ("POST", "/v1/me/password"): 422,
        ("DELETE", "/v1/me/mfa"): 422,
        ("POST", "/v1/me/mfa/recovery-codes"): 422,
    }
    assert _password_routes(app) == set(attempts), "a route checks passwords: add it here"
    for n, (route, attempt) in enumerate(attempts.items()):
        with TestClient(app, client=(f"192.0.2.{n + 1}", 50000)) as caller:
            # Locked through this route: login refuses even the right password.
            actor = make_tenant(client, roles=("requester",)).members["requester"]
            for _ in range(5):  # login_max_failures_account
                refused = attempt(caller, actor, "not-the-password-123")
                assert refused.status_code == refused_with.get(route, 401), (route, refused.text)
            assert attempt(caller, actor, PASSWORD).status_code == 429, route
            locked = login(caller, actor.email)
            assert locked.status_code == 429 and int(locked.headers["retry-after"]) >= 1, route
            # Locked through login: this route refuses even the right password.
            actor = make_tenant(client, roles=("requester",)).members["requester"]
            for _ in range(5):
                assert login(caller, actor.email, "not-the-password-123").status_code == 401
            assert attempt(caller, actor, PASSWORD).status_code == 429, route


# --- the client address is the platform's, never a header's -------------------------------


@pytest.fixture
def low_address_limit(monkeypatch):
    monkeypatch.setenv("SERVICEDESK_LOGIN_MAX_FAILURES_ADDRESS", "3")
    reset_caches()
    yield 3
    monkeypatch.delenv("SERVICEDESK_LOGIN_MAX_FAILURES_ADDRESS")
    reset_caches()


def _spray(send, limit: int) -> list[int]:
    """Wrong passwords for distinct (unknown) accounts, each claiming another address."""
    statuses = []
    for n in range(limit + 1):
        email = f"spray-{uuid.uuid4().hex[:8]}@example.org"
        statuses.append(send(email, f"198.51.100.{n + 1}"))
    return statuses


def test_x_forwarded_for_does_not_escape_the_address_limit_on_the_local_server(
    database, low_address_limit
):
    """The real server as `make dev` starts it (local/serve.py), on a real socket."""
    import os
    import socket
    import subprocess
    from pathlib import Path

    import httpx

    from local.serve import uvicorn_command

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    root = Path(__file__).resolve().parents[2]
    env = {
        **os.environ,
        "PYTHONPATH": f"{root / 'layers/core/python'}{os.pathsep}{root}",
        "SERVICEDESK_DATABASE_URL": database.app_url.render_as_string(False),
    }
    server = subprocess.Popen(
        uvicorn_command(port, quiet=True),
        cwd=root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                if httpx.get(f"{base}/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise AssertionError("the local server did not start")

        def send(email: str, forwarded: str) -> int:
            return httpx.post(
                f"{base}/v1/auth/login",
                json={"email": email, "password": "not-the-password-123"},
                headers={"X-Forwarded-For": forwarded},
                timeout=10,
            ).status_code

        assert _spray(send, low_address_limit) == [401] * low_address_limit + [429]
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")
def test_x_forwarded_for_does_not_escape_the_address_limit_on_lambda(database, low_address_limit):
    """The identity function with API Gateway's event: sourceIp is the address."""
    from local.app import load_function
    from tests.events import invoke, load_event, set_header, set_json_body

    identity = load_function("identity")

    def event(email: str, forwarded: str, source_ip: str = "203.0.113.10") -> dict:
        sample = set_json_body(
            load_event("apigw_rest_post_login"),
            {"email": email, "password": "not-the-password-123"},
        )
        set_header(sample, "X-Forwarded-For", f"{forwarded}, {source_ip}")
        sample["requestContext"]["identity"]["sourceIp"] = source_ip
        return sample

    def send(email: str, forwarded: str) -> int:
        return int(invoke(identity, event(email, forwarded))["statusCode"])

    assert _spray(send, low_address_limit) == [401] * low_address_limit + [429]
    # Another source address is counted on its own.
    other = invoke(identity, event("fresh@example.org", "192.0.2.1", source_ip="203.0.113.77"))
    assert other["statusCode"] == 401
