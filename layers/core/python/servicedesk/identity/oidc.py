"""The OIDC kind of sign-in provider: authorization code + PKCE (S256), the issuer's
discovery document, the ID token verified with its key set.

Documents are fetched with a timeout and a size cap, https only (plain http only to
127.0.0.1 when ``sso_allow_http_loopback`` says so: tests and the local stack's test IdP),
and kept ``sso_metadata_cache_seconds``. The key set goes through pyjwt's ``PyJWKClient``
(an unknown ``kid`` refetches it, at most once per cooldown), whose fetch is replaced by
the same capped one. ID tokens: RS256 or ES256 only (so ``alg: none`` and an HS256 token
signed with the public key fail before a claim is read); ``iss``, ``aud`` (and ``azp``
with several audiences), ``exp``, ``iat`` and the sign-in's ``nonce`` checked.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import threading
import time
import urllib.parse
from typing import Any, Literal

import jwt
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from servicedesk.identity.sso import Identity, Kind, Pending, Refusal, register
from servicedesk.platform.config import Settings
from servicedesk.platform.errors import ValidationProblem, field_error, validation_errors

ALGORITHMS = ["RS256", "ES256"]
LEEWAY_SECONDS = 60


class OidcConfig(BaseModel):
    """``identity_providers.config`` of an OIDC provider (unknown keys refused)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    issuer: str = Field(
        max_length=500,
        description="The issuer URL; its discovery document is "
        "<issuer>/.well-known/openid-configuration",
    )
    client_id: str = Field(min_length=1, max_length=255)
    scopes: list[str] = Field(default=["openid", "email", "profile"], min_length=1, max_length=20)
    token_auth_method: Literal["client_secret_basic", "client_secret_post", "none"] = Field(
        default="client_secret_basic",
        description="How the client secret goes to the token endpoint (none: PKCE only)",
    )
    email_claim: str = Field(default="email", min_length=1, max_length=100)
    name_claim: str = Field(default="name", min_length=1, max_length=100)

    @field_validator("issuer")
    @classmethod
    def _url(cls, value: str) -> str:
        parsed = urllib.parse.urlsplit(value)
        if parsed.scheme not in ("https", "http") or not parsed.hostname:
            raise ValueError("must be an absolute https URL")
        if parsed.query or parsed.fragment:
            raise ValueError("must have no query or fragment")
        return value.rstrip("/")

    @field_validator("scopes")
    @classmethod
    def _openid(cls, value: list[str]) -> list[str]:
        if "openid" not in value:
            raise ValueError("must include openid")
        if any(not s or " " in s or len(s) > 100 for s in value):
            raise ValueError("each scope is one word")
        return value


class Discovery(BaseModel):
    """The fields of the discovery document we use (the rest is ignored)."""

    model_config = ConfigDict(extra="ignore")

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    id_token_signing_alg_values_supported: list[str] = Field(default=["RS256"])
    code_challenge_methods_supported: list[str] | None = None


class FetchError(Exception):
    """A document could not be fetched or read; the reason is for logs and admins."""


def check_url(url: str, settings: Settings) -> None:
    """https, or http to 127.0.0.1 when the settings allow it (tests, the local stack)."""
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme == "https" and parsed.hostname:
        return
    if parsed.scheme == "http" and settings.sso_http_loopback and parsed.hostname:
        try:
            if ipaddress.ip_address(parsed.hostname).is_loopback:
                return
        except ValueError:
            pass
    raise FetchError(f"not an https URL: {url[:200]}")


_http: dict[float, Any] = {}
_http_lock = threading.Lock()


def _client(timeout: float) -> Any:
    """One ``httpx.Client`` per process (thread-safe; made on first use): making one loads
    the CA bundle, ~70 ms on the loaded 2-core machine, which every sign-in paid
    (docs/benchmarks.md, "SSO sign-in")."""
    client = _http.get(timeout)
    if client is None:
        import httpx

        with _http_lock:
            client = _http.get(timeout)
            if client is None:
                client = _http[timeout] = httpx.Client(timeout=timeout, follow_redirects=False)
    return client


def _request(
    method: str, url: str, settings: Settings, **kwargs: Any
) -> tuple[int, dict[str, Any]]:
    """One request answered with a JSON object, within the timeout and the size cap."""
    import httpx

    check_url(url, settings)
    cap = settings.sso_max_document_bytes
    client = _client(settings.sso_http_timeout_seconds)
    try:
        with client.stream(method, url, headers={"Accept": "application/json"}, **kwargs) as answer:
            body = bytearray()
            for chunk in answer.iter_bytes():
                body += chunk
                if len(body) > cap:
                    raise FetchError(f"{url[:200]}: larger than {cap} bytes")
            status = answer.status_code
    except httpx.HTTPError as exc:
        raise FetchError(f"{url[:200]}: {type(exc).__name__}") from exc
    try:
        data = json.loads(bytes(body))
    except ValueError as exc:
        raise FetchError(f"{url[:200]}: not JSON (status {status})") from exc
    if not isinstance(data, dict):
        raise FetchError(f"{url[:200]}: not a JSON object (status {status})")
    return status, data


_cache: dict[str, tuple[float, Any]] = {}
_cache_lock = threading.Lock()


def _cached(key: str, ttl: float, make: Any) -> Any:
    now = time.monotonic()
    with _cache_lock:
        hit = _cache.get(key)
    if hit is not None and now - hit[0] < ttl:
        return hit[1]
    value = make()
    with _cache_lock:
        _cache[key] = (now, value)
    return value


def forget_cached() -> None:
    """Drop every cached document and key set (tests; a provider changed)."""
    with _cache_lock:
        _cache.clear()


def discover(issuer: str, settings: Settings) -> Discovery:
    """The issuer's discovery document, checked: its issuer is ours, its endpoints are
    https, it offers RS256 or ES256 and (when it says) PKCE S256."""
    url = f"{issuer.rstrip('/')}/.well-known/openid-configuration"

    def fetch() -> Discovery:
        status, data = _request("GET", url, settings)
        if status != 200:
            raise FetchError(f"{url[:200]}: status {status}")
        try:
            found = Discovery.model_validate(data)
        except ValidationError as exc:
            raise DiscoveryProblem(validation_errors(exc.errors(), prefix="discovery.")) from exc
        problems = []
        if found.issuer.rstrip("/") != issuer.rstrip("/"):
            problems.append(field_error("discovery.issuer", "is not the configured issuer"))
        for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            try:
                check_url(getattr(found, name), settings)
            except FetchError:
                problems.append(field_error(f"discovery.{name}", "must be an https URL"))
        if not set(ALGORITHMS) & set(found.id_token_signing_alg_values_supported):
            problems.append(
                field_error(
                    "discovery.id_token_signing_alg_values_supported",
                    "offers neither RS256 nor ES256",
                )
            )
        methods = found.code_challenge_methods_supported
        if methods is not None and "S256" not in methods:
            problems.append(
                field_error("discovery.code_challenge_methods_supported", "does not offer S256")
            )
        if problems:
            raise DiscoveryProblem(problems)
        return found

    found: Discovery = _cached(f"discovery:{url}", settings.sso_metadata_cache_seconds, fetch)
    return found


class DiscoveryProblem(FetchError):
    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__("; ".join(f"{e['field']}: {e['detail']}" for e in errors))
        self.errors = errors


class _CappedJWKClient(jwt.PyJWKClient):
    """PyJWKClient whose fetch is ours (https only, timeout, size cap)."""

    def __init__(self, uri: str, settings: Settings) -> None:
        super().__init__(
            uri,
            cache_keys=True,
            lifespan=max(settings.sso_metadata_cache_seconds, 1),
            timeout=int(settings.sso_http_timeout_seconds),
            cooldown_duration=30.0,
        )
        self._settings = settings

    def fetch_data(self) -> Any:
        try:
            status, data = _request("GET", self.uri, self._settings)
        except FetchError as exc:
            raise jwt.PyJWKClientConnectionError(str(exc)) from exc
        if status != 200:
            raise jwt.PyJWKClientConnectionError(f"key set: status {status}")
        if self.jwk_set_cache is not None:
            self.jwk_set_cache.put(data)
        return data


_clients: dict[str, _CappedJWKClient] = {}


def _jwks(uri: str, settings: Settings) -> _CappedJWKClient:
    with _cache_lock:
        client = _clients.get(uri)
        if client is None:
            client = _clients[uri] = _CappedJWKClient(uri, settings)
        return client


def validate_config(raw: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """The configuration as stored: the model's (422 naming ``config.<field>``), and the
    issuer's discovery document fetched and checked now (422 naming the field of the
    document that is wrong, or ``config.issuer`` when it cannot be fetched)."""
    try:
        config = OidcConfig.model_validate(raw)
    except ValidationError as exc:
        raise ValidationProblem(errors=validation_errors(exc.errors(), prefix="config.")) from exc
    try:
        check_url(config.issuer, settings)
        discover(config.issuer, settings)
    except DiscoveryProblem as exc:
        raise ValidationProblem(
            "the issuer's discovery document is not usable", errors=exc.errors
        ) from exc
    except FetchError as exc:
        raise ValidationProblem(
            "the issuer's discovery document could not be fetched",
            errors=[field_error("config.issuer", str(exc))],
        ) from exc
    return config.model_dump()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def code_challenge(verifier: str) -> str:
    return _b64(hashlib.sha256(verifier.encode()).digest())


def _discovered(oidc: OidcConfig, settings: Settings) -> Discovery:
    """The provider's discovery document during a sign-in (a ``Refusal`` when it fails)."""
    try:
        return discover(oidc.issuer, settings)
    except FetchError as exc:
        raise Refusal("discovery", str(exc)) from exc


class OidcKind(Kind):
    name = "oidc"

    def validate_config(
        self, raw: dict[str, Any], settings: Settings, previous: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        return validate_config(raw, settings)

    def start(self, config: dict[str, Any], pending: Pending, settings: Settings) -> str:
        oidc = OidcConfig.model_validate(config)
        found = _discovered(oidc, settings)
        query = {
            "response_type": "code",
            "client_id": oidc.client_id,
            "redirect_uri": pending.redirect_uri,
            "scope": " ".join(oidc.scopes),
            "state": pending.state,
            "nonce": pending.nonce,
            "code_challenge": code_challenge(pending.code_verifier),
            "code_challenge_method": "S256",
        }
        separator = "&" if "?" in found.authorization_endpoint else "?"
        return f"{found.authorization_endpoint}{separator}{urllib.parse.urlencode(query)}"

    def finish(
        self,
        config: dict[str, Any],
        secret: str | None,
        pending: Pending,
        params: dict[str, str],
        settings: Settings,
    ) -> Identity:
        oidc = OidcConfig.model_validate(config)
        if params.get("error"):
            raise Refusal("idp_error", str(params.get("error"))[:100])
        code = params.get("code")
        if not code:
            raise Refusal("no_code", "the callback carries no code")
        found = _discovered(oidc, settings)
        issuer = params.get("iss")
        if issuer is not None and issuer.rstrip("/") != found.issuer.rstrip("/"):
            # RFC 9207: the answer comes from another IdP than the one this sign-in went to.
            raise Refusal("idp_issuer", "the callback's iss is not the provider's issuer")
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": pending.redirect_uri,
            "code_verifier": pending.code_verifier,
            "client_id": oidc.client_id,
        }
        auth = None
        if oidc.token_auth_method == "client_secret_post" and secret is not None:  # noqa: S105
            form["client_secret"] = secret
        elif oidc.token_auth_method == "client_secret_basic" and secret is not None:  # noqa: S105
            auth = (
                urllib.parse.quote(oidc.client_id, safe=""),
                urllib.parse.quote(secret, safe=""),
            )
        try:
            status, answer = _request("POST", found.token_endpoint, settings, data=form, auth=auth)
        except FetchError as exc:
            raise Refusal("token_endpoint", str(exc)) from exc
        raw = answer.get("id_token")
        if status != 200 or not isinstance(raw, str):
            raise Refusal("token_endpoint", f"status {status}, error {answer.get('error')!r}")
        claims = verify_id_token(raw, oidc, found, pending.nonce, settings)
        email = claims.get(oidc.email_claim)
        if not isinstance(email, str) or "@" not in email:
            raise Refusal("no_email", f"the ID token has no {oidc.email_claim}")
        if claims.get("email_verified") is False:
            raise Refusal("email_unverified", "the IdP says the e-mail is not verified")
        name = claims.get(oidc.name_claim)
        return Identity(
            issuer=str(claims["iss"]),
            subject=str(claims["sub"]),
            email=email,
            name=name if isinstance(name, str) and name.strip() else None,
            claims=claims,
        )


def verify_id_token(
    raw: str, oidc: OidcConfig, found: Discovery, nonce: str, settings: Settings
) -> dict[str, Any]:
    try:
        header = jwt.get_unverified_header(raw)
        if header.get("alg") not in ALGORITHMS:
            raise Refusal("id_token", f"algorithm {header.get('alg')!r} refused")
        key = _jwks(found.jwks_uri, settings).get_signing_key_from_jwt(raw)
        claims: dict[str, Any] = jwt.decode(
            raw,
            key.key,
            algorithms=ALGORITHMS,
            audience=oidc.client_id,
            issuer=found.issuer,
            options={"require": ["iss", "sub", "aud", "exp", "iat", "nonce"]},
            leeway=LEEWAY_SECONDS,
        )
    except (jwt.InvalidTokenError, jwt.PyJWKClientError) as exc:
        raise Refusal("id_token", f"{type(exc).__name__}: {exc}") from exc
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if len(audiences) > 1 and claims.get("azp") != oidc.client_id:
        raise Refusal("id_token", "several audiences and azp is not the client")
    if claims.get("iat", 0) > time.time() + LEEWAY_SECONDS:
        raise Refusal("id_token", "issued in the future")
    if claims.get("nonce") != nonce:
        raise Refusal("id_token", "nonce mismatch")
    return claims


register(OidcKind())
