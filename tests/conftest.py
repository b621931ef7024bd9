"""Shared fixtures: a real PostgreSQL (embedded, or DATABASE_URL), a fresh migrated database
per test module cloned from a template, the app connected as the application role, and
factories for tenants and users.

Isolation between tests is by data, not by savepoint: every test creates its own tenants
(random slugs), because the code under test commits its own transactions exactly as it
does in production.
"""

from __future__ import annotations

import io
import json
import os
import secrets
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

TEST_PRIVATE_KEY = (
    Ed25519PrivateKey.generate()
    .private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    .decode()
)
os.environ.update(
    {
        "SERVICEDESK_ENVIRONMENT": "test",
        "SERVICEDESK_JWT_PRIVATE_KEY": TEST_PRIVATE_KEY,
        "SERVICEDESK_LOG_LEVEL": "WARNING",
        "POWERTOOLS_METRICS_NAMESPACE": "ServicedeskTest",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        # Every test request comes from the one TestClient address; the per-address sign-up
        # limit has its own test (test_auth.py), which lowers it again.
        "SERVICEDESK_SIGNUP_MAX_PER_ADDRESS": "1000000",
        # argon2id at its cheapest (identity/passwords.py; ignored on Lambda).
        "SERVICEDESK_INSECURE_FAST_PASSWORD_HASHING": "1",
        # The sample WebSocket handshake (events/apigw_websocket_connect.json) is a
        # browser's on the web app at desk.example.com: one of the web app's origins.
        "SERVICEDESK_WEB_EXTRA_ORIGINS": "https://desk.example.com",
        # The test IdP (tests/oidc_idp.py) answers plain http on 127.0.0.1.
        "SERVICEDESK_SSO_ALLOW_HTTP_LOOPBACK": "1",
    }
)
os.environ.setdefault("SERVICEDESK_DATABASE_URL", "postgresql+psycopg://unset@/unset")

PASSWORD = "correct-horse-battery-staple-42"

# Property tests judge correctness, not speed: a shared CI machine under load must not fail
# them with Hypothesis's deadline or its "too slow" health check (speed lives in bench/).
hypothesis_settings.register_profile(
    "servicedesk", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
hypothesis_settings.load_profile("servicedesk")


def reset_caches() -> None:
    from servicedesk.platform import aws, config, db, logging, tokens

    if db.get_engine.cache_info().currsize:
        db.get_engine().dispose()
    for cached in (
        config.get_settings,
        db.get_engine,
        tokens.get_keyset,
        logging.get_logger,
    ):
        cached.cache_clear()
    tokens._jwks_client.cache_clear()
    aws.reset()


@pytest.fixture(scope="session")
def pg_admin() -> Iterator[Any]:
    """The admin URL of DATABASE_URL, or of an embedded server private to this run.

    The data directory is our own (not pytest's rotating basetemp, which a concurrent
    pytest run may delete under a live server).
    """
    from local import db as localdb

    if os.environ.get("DATABASE_URL"):
        yield localdb.admin_url(Path("unused"))
        return
    root = Path(tempfile.mkdtemp(prefix="servicedesk-pg-"))
    server = localdb.embedded_server(root / "data")
    url = localdb.admin_url(root / "data")
    # A throwaway server: no test survives a crash of the machine, so nothing is flushed to
    # disk (commits, and the checkpoints of CREATE/DROP DATABASE, cost no fsync).
    with localdb.admin_connect(url) as conn:
        for setting in ("fsync", "synchronous_commit", "full_page_writes"):
            conn.execute(f"ALTER SYSTEM SET {setting} = off")
        conn.execute("SELECT pg_reload_conf()")
    try:
        yield url
    finally:
        server.cleanup()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def template_db(pg_admin: Any) -> Iterator[str]:
    from local import db as localdb

    name = f"sd_template_{os.getpid()}"
    localdb.drop_database(pg_admin, name)
    database = localdb.ensure_database(pg_admin, name)
    localdb.migrate(database)
    yield name
    localdb.drop_database(pg_admin, name)


@dataclass
class TestDatabase:
    admin_url: Any
    name: str
    app_url: Any
    owner_url: Any

    def connect(self, role: str = "app") -> Any:
        import psycopg

        url = self.app_url if role == "app" else self.owner_url
        return psycopg.connect(url.set(drivername="postgresql").render_as_string(False))


_CURRENT: list[TestDatabase] = []


def current_database() -> TestDatabase:
    return _CURRENT[-1]


@pytest.fixture(scope="module")
def database(
    pg_admin: Any, template_db: str, request: pytest.FixtureRequest
) -> Iterator[TestDatabase]:
    from local import db as localdb

    name = f"sd_test_{secrets.token_hex(4)}"
    created = localdb.ensure_database(pg_admin, name, template=template_db)
    previous = os.environ.get("SERVICEDESK_DATABASE_URL")
    os.environ["SERVICEDESK_DATABASE_URL"] = created.app_url.render_as_string(False)
    reset_caches()
    _CURRENT.append(TestDatabase(pg_admin, name, created.app_url, created.owner_url))
    yield _CURRENT[-1]
    _CURRENT.pop()
    reset_caches()
    if previous is not None:
        os.environ["SERVICEDESK_DATABASE_URL"] = previous
    localdb.drop_database(pg_admin, name)


@pytest.fixture(scope="module")
def app(database: TestDatabase) -> Iterator[Any]:
    """The local app; every 412/428 it gives during the module must be declared in the
    OpenAPI document on that route (checked when the module ends)."""
    from local.app import build_app
    from tests.test_support import ResponseTap

    built = build_app()
    tap = ResponseTap(built.middleware_stack or built.build_middleware_stack())
    built.middleware_stack = tap
    yield built
    assert not tap.undeclared(built), tap.undeclared(built)


@pytest.fixture(scope="module")
def client(app: Any) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@dataclass
class Actor:
    """A signed-in user of a tenant, for driving the API."""

    email: str
    user_id: str
    tenant_id: str
    slug: str
    role: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class TenantFixture:
    slug: str
    tenant_id: str
    admin: Actor
    members: dict[str, Actor]


def _me(client: Any, token: str) -> dict[str, Any]:
    response = client.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    return dict(response.json())


def login(client: Any, email: str, password: str = PASSWORD, tenant: str | None = None) -> Any:
    body: dict[str, Any] = {"email": email, "password": password}
    if tenant:
        body["tenant"] = tenant
    return client.post("/v1/auth/login", json=body)


def signup(client: Any, email: str, slug: str, password: str = PASSWORD, **body: Any) -> Any:
    """POST /v1/signup, as the sign-up form sends it."""
    fields = {"organization_name": f"Org {slug}", "slug": slug, "name": "Admin"}
    return client.post("/v1/signup", json={**fields, **body, "email": email, "password": password})


def confirm_signup(client: Any, email: str, **body: Any) -> Any:
    """Follow the newest sign-up link mailed to ``email``. The e-mail consumer does not run
    in these tests, so the link is read where it waits: in the outbox row (as the owner)."""
    from tests.test_support import latest_outbox

    token = latest_outbox(current_database(), "signup.requested", email)["token"]
    return client.post("/v1/signup/confirm", json={"token": token, **body})


def make_tenant(client: Any, *, roles: tuple[str, ...] = ("agent", "requester")) -> TenantFixture:
    """A fresh tenant through the public API (sign-up, then its e-mailed confirmation), with
    one signed-in user per role asked for."""
    slug = f"t-{uuid.uuid4().hex[:10]}"
    admin_email = f"admin@{slug}.example"
    response = signup(client, admin_email, slug)
    assert response.status_code == 202, response.text
    response = confirm_signup(client, admin_email)
    assert response.status_code == 201, response.text
    token = response.json()["access_token"]
    me = _me(client, token)
    admin = Actor(admin_email, me["user"]["id"], me["tenant"]["id"], slug, "admin", token)
    members = {"admin": admin}
    for role in roles:
        email = f"{role}-{secrets.token_hex(3)}@{slug}.example"
        created = client.post(
            "/v1/users",
            headers=admin.headers,
            json={"email": email, "name": role.title(), "role": role, "password": PASSWORD},
        )
        assert created.status_code == 201, created.text
        logged_in = login(client, email)
        assert logged_in.status_code == 200, logged_in.text
        members[role] = Actor(
            email,
            created.json()["id"],
            admin.tenant_id,
            slug,
            role,
            logged_in.json()["access_token"],
        )
    return TenantFixture(slug, admin.tenant_id, admin, members)


@pytest.fixture
def tenant(client: Any) -> TenantFixture:
    return make_tenant(client)


@pytest.fixture(scope="module")
def authorizer() -> Any:
    """functions/authorizer/handler.py (tokens and settings only: no database, no AWS)."""
    from local.app import load_function

    return load_function("authorizer")


@pytest.fixture(scope="session")
def aws_endpoint() -> Iterator[str]:
    """The AWS emulator over real HTTP: AWS_ENDPOINT_URL if set (LocalStack, AWS), else a
    moto server on 127.0.0.1 started for this session."""
    from local import aws

    existing = os.environ.get("AWS_ENDPOINT_URL")
    if existing:
        yield existing
        return
    process, url = aws.start_moto()
    os.environ["AWS_ENDPOINT_URL"] = url
    try:
        yield url
    finally:
        os.environ.pop("AWS_ENDPOINT_URL", None)
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def log_lines(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """What the application's logger prints (its own JSON lines), at DEBUG."""
    from servicedesk.platform.logging import get_logger

    monkeypatch.setenv("SERVICEDESK_LOG_LEVEL", "DEBUG")
    # Slow is 800 ms here (test_logging's /slow sleeps 1 s): a fast request on a loaded CI
    # machine can take 150 ms, and its access line would turn WARNING.
    monkeypatch.setenv("SERVICEDESK_ACCESS_LOG_SLOW_MS", "800")
    reset_caches()
    logger = get_logger()
    logger.setLevel("DEBUG")
    stream = io.StringIO()
    previous = logger.registered_handler.setStream(stream)

    def read() -> list[dict[str, Any]]:
        return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]

    yield read
    logger.registered_handler.setStream(previous)
    monkeypatch.undo()
    reset_caches()
