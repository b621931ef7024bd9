"""The Lambda authorizer (functions/authorizer), invoked with the sample API Gateway events in
``events/``: it refuses every forgery with the exact ``Unauthorized`` API Gateway expects.
Tokens are forged with our own signing key (the test settings'), so no sign-in, database
or server is needed; that it allows tokens issued by sign-in is checked in
tests/integration/test_lambda_handlers.py."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from servicedesk.platform.config import get_settings
from servicedesk.platform.tokens import get_keyset
from tests.events import AUTHORIZE


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(**overrides: Any) -> dict[str, Any]:
    settings = get_settings()
    now = int(time.time())
    claims = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": str(uuid.uuid4()),
        "tid": str(uuid.uuid4()),
        "role": "admin",
        "iat": now,
        "exp": now + 300,
        "jti": uuid.uuid4().hex,
    }
    claims.update(overrides)
    return claims


def _eddsa(key: Ed25519PrivateKey, **overrides: Any) -> str:
    headers = {"kid": get_settings().jwt_key_id}
    return jwt.encode(_claims(**overrides), key, algorithm="EdDSA", headers=headers)


def _unsigned(header: dict[str, Any], signature: bytes = b"", **overrides: Any) -> str:
    signing_input = ".".join(
        _b64url(json.dumps(part, separators=(",", ":")).encode())
        for part in (header, _claims(**overrides))
    )
    return f"{signing_input}.{_b64url(signature)}"


def _hs256(secret: bytes) -> str:
    """HS256 over the token, keyed with ``secret`` (PyJWT refuses to do this with a PEM key)."""
    header = {"alg": "HS256", "typ": "JWT", "kid": get_settings().jwt_key_id}
    unsigned = _unsigned(header).rsplit(".", 1)[0]
    signature = hmac.new(secret, unsigned.encode(), hashlib.sha256).digest()
    return f"{unsigned}.{_b64url(signature)}"


def _our_key() -> Ed25519PrivateKey:
    return get_keyset().private_key


def _public_pem() -> bytes:
    return (
        _our_key()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


def _public_raw() -> bytes:
    return (
        _our_key()
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )


def _alg_none() -> str:
    return _unsigned({"alg": "none", "typ": "JWT", "kid": get_settings().jwt_key_id})


BAD_AUTHORIZATION = {
    "missing": lambda: None,
    "empty bearer": lambda: "Bearer ",
    "not bearer": lambda: f"Basic {_eddsa(_our_key())}",
    "bare token": lambda: _eddsa(_our_key()),
    "garbage": lambda: "Bearer not.a.jwt",
    "garbage base64": lambda: "Bearer eyJhbGciOiJFZERTQSJ9.e30.c2lnbmF0dXJl",
    "other ed25519 key": lambda: f"Bearer {_eddsa(Ed25519PrivateKey.generate())}",
    "expired": lambda: (
        "Bearer " + _eddsa(_our_key(), iat=int(time.time()) - 3600, exp=int(time.time()) - 60)
    ),
    "alg none": lambda: f"Bearer {_alg_none()}",
    "hs256 with public pem": lambda: f"Bearer {_hs256(_public_pem())}",
    "hs256 with raw public key": lambda: f"Bearer {_hs256(_public_raw())}",
    "wrong audience": lambda: f"Bearer {_eddsa(_our_key(), aud='someone-else')}",
    "wrong issuer": lambda: f"Bearer {_eddsa(_our_key(), iss='https://evil.example')}",
    "tampered claims": lambda: _tamper(f"Bearer {_eddsa(_our_key(), role='requester')}"),
}


def _tamper(authorization: str) -> str:
    """Swap in a payload promoting the caller to admin, keeping the original signature."""
    header, _, signature = authorization.removeprefix("Bearer ").split(".")
    payload = _b64url(json.dumps(_claims(role="admin")).encode())
    return f"Bearer {header}.{payload}.{signature}"


def test_forgery_helpers_make_an_acceptable_token_with_our_key(authorizer):
    """Control: the helpers above yield a token the authorizer accepts, so each refusal
    below is for the one thing a case changes."""
    for authorize in AUTHORIZE.values():
        policy = authorize(authorizer, f"Bearer {_eddsa(_our_key())}")
        assert policy["policyDocument"]["Statement"][0]["Effect"] == "Allow"


@pytest.mark.parametrize("kind", sorted(AUTHORIZE))
@pytest.mark.parametrize("case", sorted(BAD_AUTHORIZATION))
def test_authorizer_denies(authorizer, kind, case):
    authorization = BAD_AUTHORIZATION[case]()

    # API Gateway answers 401 only for a plain Exception whose message is exactly this.
    with pytest.raises(Exception, match=r"^Unauthorized$") as refused:
        AUTHORIZE[kind](authorizer, authorization)

    assert type(refused.value) is Exception
    assert str(refused.value) == "Unauthorized"
