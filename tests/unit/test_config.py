from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from servicedesk.platform.config import Settings


def test_placeholder_secrets_are_refused_outside_dev():
    with pytest.raises(ValidationError, match="placeholder"):
        Settings(environment="prod", jwt_private_key="changeme", database_url="postgresql://x/y")
    with pytest.raises(ValidationError, match="placeholder"):
        Settings(environment="prod", database_url="changeme", jwt_private_key=None)


def test_a_function_without_a_signing_key_fails_where_it_signs(monkeypatch):
    from servicedesk.platform import config, tokens

    monkeypatch.setenv("SERVICEDESK_ENVIRONMENT", "prod")
    monkeypatch.delenv("SERVICEDESK_JWT_PRIVATE_KEY", raising=False)
    config.get_settings.cache_clear()
    tokens.get_keyset.cache_clear()
    try:
        assert config.get_settings().jwt_private_key is None  # cold start is fine
        with pytest.raises(RuntimeError, match="no JWT signing key"):
            tokens.get_keyset()
    finally:
        monkeypatch.undo()
        config.get_settings.cache_clear()
        tokens.get_keyset.cache_clear()


def test_dev_needs_no_secrets():
    assert Settings(environment="dev", jwt_private_key=None, database_url=None).is_dev


def test_symmetric_oidc_algorithms_are_refused():
    with pytest.raises(ValidationError, match="symmetric"):
        Settings(environment="dev", oidc_algorithms="HS256,RS256")
    assert Settings(environment="dev", oidc_algorithms="RS256, ES256").oidc_algorithms == [
        "RS256",
        "ES256",
    ]


def test_iam_auth_puts_a_fresh_token_in_the_connection_password(monkeypatch):
    """The do_connect hook asks RDS for a token per connection (signed locally by botocore)."""
    from sqlalchemy import event

    from servicedesk.platform.db import make_engine, use_iam_auth

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    engine = make_engine("postgresql+psycopg://servicedesk_app@proxy.example:5432/servicedesk")
    use_iam_auth(engine, region="eu-west-1")
    captured: dict = {}
    event.listen(engine, "do_connect", lambda d, r, a, params: captured.update(params) or None)
    with pytest.raises(Exception):  # noqa: B017 - nothing listens at proxy.example
        engine.connect()
    assert "X-Amz-Signature=" in captured["password"] and captured["sslmode"] == "require"


def test_background_mode_is_the_local_runtimes_and_off_by_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SERVICEDESK_PUBLISH_IN_BACKGROUND", raising=False)
    assert Settings().publish_in_background is False  # AWS: a Lambda may freeze after answering
    asgi = (Path(__file__).resolve().parents[2] / "local" / "asgi.py").read_text()
    assert 'setdefault("SERVICEDESK_PUBLISH_IN_BACKGROUND", "1")' in asgi
