"""Access tokens: EdDSA-signed JWTs we issue, and JWTs from an external OIDC issuer.

Only this module decodes tokens. Algorithms are pinned per issuer, so ``alg=none`` and
HS256-signed-with-the-public-key forgeries fail before any claim is read.
"""

from __future__ import annotations

import dataclasses
import functools
import time
import uuid
from dataclasses import dataclass
from typing import Any, Literal

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from servicedesk.platform.config import Settings, get_settings, resolve_secret

ALGORITHM = "EdDSA"
REQUIRED_CLAIMS = ["exp", "iat", "sub", "tid", "role", "jti", "iss", "aud"]


class InvalidToken(Exception):
    """The token is not one we accept; the reason is for logs, never for the client."""


@dataclass(frozen=True, slots=True)
class Claims:
    """Verified identity claims, from our own token or from an external issuer."""

    kind: Literal["internal", "external"]
    subject: str
    tenant: str | None  # internal: tenant id; external: tenant slug (if the token names one)
    role: str | None
    issuer: str
    email: str | None = None
    name: str | None = None
    expires_at: int | None = None
    issued_at: int | None = None
    # "ticket:<id>": a magic-link session limited to one ticket (platform.rbac refuses it
    # on every route that does not declare it accepts one).
    scope: str | None = None
    # "sid": the session (refresh-token family) our token was issued for; revoking the
    # session refuses its access tokens at once (platform.tenancy.resolve_principal).
    session_id: str | None = None

    def to_context(self) -> dict[str, str]:
        """Flat string map for the API Gateway authorizer context."""
        out = {"kind": self.kind, "sub": self.subject, "iss": self.issuer}
        for key, value in (
            ("tenant", self.tenant),
            ("role", self.role),
            ("email", self.email),
            ("name", self.name),
            ("scope", self.scope),
            ("sid", self.session_id),
        ):
            if value is not None:
                out[key] = value
        if self.expires_at is not None:
            out["exp"] = str(self.expires_at)
        if self.issued_at is not None:
            out["iat"] = str(self.issued_at)
        return out

    @classmethod
    def from_context(cls, ctx: dict[str, Any]) -> Claims:
        kind = ctx.get("kind")
        if kind not in ("internal", "external") or not ctx.get("sub"):
            raise InvalidToken("authorizer context without a principal")
        exp, iat = ctx.get("exp"), ctx.get("iat")
        return cls(
            kind=kind,
            subject=str(ctx["sub"]),
            tenant=ctx.get("tenant"),
            role=ctx.get("role"),
            issuer=str(ctx.get("iss", "")),
            email=ctx.get("email"),
            name=ctx.get("name"),
            expires_at=int(exp) if exp else None,
            issued_at=int(iat) if iat else None,
            scope=ctx.get("scope"),
            session_id=ctx.get("sid"),
        )

    @property
    def ticket_scope(self) -> uuid.UUID | None:
        """The one ticket a scoped session may reach; raises on a scope we do not know."""
        if self.scope is None:
            return None
        kind, _, value = self.scope.partition(":")
        if kind != "ticket":
            raise InvalidToken("unknown scope")
        try:
            return uuid.UUID(value)
        except ValueError as exc:
            raise InvalidToken("malformed scope") from exc


class KeySet:
    """Our signing key and the public keys we accept, by ``kid``."""

    def __init__(self, private_pem: str, kid: str) -> None:
        key = load_pem_private_key(private_pem.encode(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("jwt_private_key must be an Ed25519 private key in PEM")
        self.private_key = key
        self.kid = kid
        self.public_keys: dict[str, Ed25519PublicKey] = {kid: key.public_key()}

    def jwks(self) -> dict[str, Any]:
        keys = []
        for kid, public in self.public_keys.items():
            jwk = jwt.algorithms.OKPAlgorithm.to_jwk(public, as_dict=True)
            keys.append({**jwk, "kid": kid, "use": "sig", "alg": ALGORITHM})
        return {"keys": keys}


@functools.cache
def get_keyset() -> KeySet:
    settings = get_settings()
    pem = resolve_secret(settings.jwt_private_key, settings.jwt_private_key_secret_arn)
    if pem is None:
        if not settings.is_dev:
            raise RuntimeError("no JWT signing key configured")
        # Dev without a configured key: an ephemeral key (tokens die with the process).
        from cryptography.hazmat.primitives import serialization

        pem = (
            Ed25519PrivateKey.generate()
            .private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            .decode()
        )
    return KeySet(pem, settings.jwt_key_id)


def issue_access_token(
    *,
    user_id: uuid.UUID,
    tenant_id: uuid.UUID,
    role: str,
    settings: Settings | None = None,
    scope: str | None = None,
    session_id: uuid.UUID | None = None,
) -> tuple[str, int]:
    settings = settings or get_settings()
    keys = get_keyset()
    now = int(time.time())
    ttl = settings.access_token_ttl_seconds
    claims = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": str(user_id),
        "tid": str(tenant_id),
        "role": role,
        "iat": now,
        "exp": now + ttl,
        "jti": uuid.uuid4().hex,
    }
    if scope is not None:
        claims["scope"] = scope
    if session_id is not None:
        claims["sid"] = str(session_id)
    token = jwt.encode(claims, keys.private_key, algorithm=ALGORITHM, headers={"kid": keys.kid})
    return token, ttl


def verify_token(token: str) -> Claims:
    """Verify one of our access tokens or a token from the configured OIDC issuer."""
    settings = get_settings()
    header = _external_or_header(token, settings)
    if header is None:
        return _verify_external(token, settings)
    return _verify_internal(token, header, settings)


async def verify_token_async(token: str) -> Claims:
    """``verify_token`` for the event loop: our own tokens verify in memory (an EdDSA
    check, no I/O) without a thread hop; an external issuer's may fetch its key set, so
    that runs in a worker thread."""
    settings = get_settings()
    header = _external_or_header(token, settings)
    if header is None:
        from starlette.concurrency import run_in_threadpool

        return await run_in_threadpool(_verify_external, token, settings)
    return _verify_internal(token, header, settings)


def _external_or_header(token: str, settings: Settings) -> dict[str, Any] | None:
    """None for a token of the configured OIDC issuer, else the (unverified) header."""
    try:
        header = jwt.get_unverified_header(token)
        unverified = jwt.decode(token, options={"verify_signature": False})
    except jwt.InvalidTokenError as exc:
        raise InvalidToken(f"malformed token: {exc}") from exc
    issuer = unverified.get("iss")
    if settings.oidc_issuer and issuer == settings.oidc_issuer:
        return None
    return header


def _verify_internal(token: str, header: dict[str, Any], settings: Settings) -> Claims:
    key = get_keyset().public_keys.get(str(header.get("kid")))
    if key is None:
        raise InvalidToken("unknown kid")
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options={"require": REQUIRED_CLAIMS},
            leeway=5,
        )
    except jwt.InvalidTokenError as exc:
        raise InvalidToken(str(exc)) from exc
    try:
        uuid.UUID(str(claims["sub"]))
        uuid.UUID(str(claims["tid"]))
    except ValueError as exc:
        raise InvalidToken("sub and tid must be UUIDs") from exc
    scope = claims.get("scope")
    verified = Claims(
        kind="internal",
        subject=str(claims["sub"]),
        tenant=str(claims["tid"]),
        role=str(claims["role"]),
        issuer=str(claims["iss"]),
        expires_at=int(claims["exp"]),
        issued_at=int(claims["iat"]),
        scope=str(scope) if scope is not None else None,
    )
    sid = claims.get("sid")
    if sid is not None:
        try:
            sid = str(uuid.UUID(str(sid)))
        except ValueError as exc:
            raise InvalidToken("sid must be a UUID") from exc
        verified = dataclasses.replace(verified, session_id=sid)
    _ = verified.ticket_scope  # a scope we cannot read is a token we do not accept
    return verified


@functools.cache
def _jwks_client(url: str, lifespan: int, cooldown: float) -> jwt.PyJWKClient:
    # PyJWKClient refetches the set when it meets an unknown kid (key rotation).
    return jwt.PyJWKClient(
        url, cache_keys=True, lifespan=max(lifespan, 1), timeout=5, cooldown_duration=cooldown
    )


def _verify_external(token: str, settings: Settings) -> Claims:
    assert settings.oidc_jwks_url and settings.oidc_issuer
    try:
        client = _jwks_client(
            settings.oidc_jwks_url,
            settings.oidc_jwks_cache_seconds,
            settings.oidc_jwks_refetch_cooldown_seconds,
        )
        signing_key = client.get_signing_key_from_jwt(token)
        claims = jwt.decode(
            token,
            signing_key.key,
            algorithms=settings.oidc_algorithms,
            audience=settings.oidc_audience,
            issuer=settings.oidc_issuer,
            options={"require": ["exp", "iat", "sub", "iss", "aud"]},
            leeway=30,
        )
    except (jwt.InvalidTokenError, jwt.PyJWKClientError) as exc:
        raise InvalidToken(str(exc)) from exc
    tenant = claims.get(settings.oidc_tenant_claim) or settings.oidc_default_tenant
    role = claims.get(settings.oidc_role_claim)
    return Claims(
        kind="external",
        subject=str(claims["sub"]),
        tenant=str(tenant) if tenant else None,
        role=str(role) if isinstance(role, str) else None,
        issuer=str(claims["iss"]),
        email=claims.get("email"),
        name=claims.get("name"),
        expires_at=int(claims["exp"]),
    )
