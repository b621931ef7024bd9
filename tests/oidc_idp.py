"""A small OpenID Connect provider on 127.0.0.1, for the tests and the e2e stack.

It speaks the real protocol over a real socket: the discovery document, the key set
(JWKS), an authorization endpoint that signs the configured person in at once and
redirects back with a code, and a token endpoint that checks the client's secret (basic or
post), the code (single use, bound to its client and redirect URI) and the PKCE verifier
(S256) before it answers with an ID token signed by its own RSA or EC key (made with
``cryptography`` at start). What a test wants to break, it breaks here:

- ``person``: the claims of whoever signs in next (sub, email, name, groups ...);
- ``discovery_changes``: keys replaced (or removed with ``None``) in the discovery document;
- ``tamper``: a function of (claims, sign) returning the ID token to hand out instead, where
  ``sign(claims, alg=..., key=..., kid=...)`` signs with the IdP's key (or another);
- ``clients``: client id -> (secret or None, allowed redirect URIs).

Another process (the e2e tests) sets the next person with ``POST /_test/person`` (JSON
claims): a test IdP's door, which no real provider has.

    with OidcIdP() as idp:
        idp.add_client("desk", "s3cret", ["http://127.0.0.1:8000/v1/auth/sso/oidc/callback"])
        config = {"issuer": idp.issuer, "client_id": "desk"}

``python -m tests.oidc_idp --port 0 --client desk:s3cret:<redirect uri>`` runs it alone
(scripts/e2e_stack.py starts it in a thread of its own with ``--sso``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

Signer = Callable[..., str]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@dataclass
class Grant:
    client_id: str
    redirect_uri: str
    challenge: str
    method: str
    nonce: str | None
    person: dict[str, Any]
    used: bool = False


@dataclass
class OidcIdP:
    host: str = "127.0.0.1"
    port: int = 0
    person: dict[str, Any] = field(
        default_factory=lambda: {"sub": "u-1", "email": "ada@example.com", "name": "Ada"}
    )
    discovery_changes: dict[str, Any] = field(default_factory=dict)
    tamper: Callable[[dict[str, Any], Signer], str] | None = None
    token_lifetime: int = 300
    clients: dict[str, tuple[str | None, list[str]]] = field(default_factory=dict)
    # What happened, for the tests to read: every token request's form, the tokens issued.
    token_requests: list[dict[str, str]] = field(default_factory=list)
    issued: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.ec_key = ec.generate_private_key(ec.SECP256R1())
        self.grants: dict[str, Grant] = {}
        self.lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None
        self.thread: threading.Thread | None = None

    # --- life ---------------------------------------------------------------------------

    def start(self) -> OidcIdP:
        idp = self

        class Handler(_Handler):
            provider = idp

        self.server = ThreadingHTTPServer((self.host, self.port), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def __enter__(self) -> OidcIdP:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def issuer(self) -> str:
        return f"http://{self.host}:{self.port}"

    def add_client(self, client_id: str, secret: str | None, redirect_uris: list[str]) -> None:
        self.clients[client_id] = (secret, redirect_uris)

    # --- documents ----------------------------------------------------------------------

    def discovery(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256", "ES256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": [
                "client_secret_basic",
                "client_secret_post",
            ],
        }
        for key, value in self.discovery_changes.items():
            if value is None:
                document.pop(key, None)
            else:
                document[key] = value
        return document

    def jwks(self) -> dict[str, Any]:
        rsa_jwk = jwt.algorithms.RSAAlgorithm.to_jwk(self.rsa_key.public_key(), as_dict=True)
        ec_jwk = jwt.algorithms.ECAlgorithm.to_jwk(self.ec_key.public_key(), as_dict=True)
        return {
            "keys": [
                {**rsa_jwk, "kid": "rsa-1", "use": "sig", "alg": "RS256"},
                {**ec_jwk, "kid": "ec-1", "use": "sig", "alg": "ES256"},
            ]
        }

    def public_pem(self) -> bytes:
        return self.rsa_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def sign(
        self, claims: dict[str, Any], *, alg: str = "RS256", key: Any = None, kid: str | None = None
    ) -> str:
        """An ID token: RS256 / ES256 with the IdP's keys (or ``key``); ``none`` unsigned;
        ``HS256`` keyed with ``key`` bytes (the public key's PEM, for the confusion attack)."""
        if alg == "none":
            header = {"alg": "none", "typ": "JWT", "kid": kid or "rsa-1"}
            parts = [_b64(json.dumps(p).encode()) for p in (header, claims)]
            return ".".join([*parts, ""])
        if alg == "HS256":
            header = {"alg": "HS256", "typ": "JWT", "kid": kid or "rsa-1"}
            signing_input = ".".join(_b64(json.dumps(p).encode()) for p in (header, claims))
            mac = hmac.new(key or self.public_pem(), signing_input.encode(), hashlib.sha256)
            return f"{signing_input}.{_b64(mac.digest())}"
        signing_key = key or (self.ec_key if alg == "ES256" else self.rsa_key)
        chosen_kid = kid or ("ec-1" if alg == "ES256" else "rsa-1")
        return jwt.encode(claims, signing_key, algorithm=alg, headers={"kid": chosen_kid})

    def claims_for(self, grant: Grant) -> dict[str, Any]:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": grant.client_id,
            "iat": now,
            "exp": now + self.token_lifetime,
            **grant.person,
        }
        if grant.nonce is not None:
            claims["nonce"] = grant.nonce
        return claims

    # --- endpoints ----------------------------------------------------------------------

    def authorize(self, query: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        client = self.clients.get(query.get("client_id", ""))
        redirect_uri = query.get("redirect_uri", "")
        if client is None or redirect_uri not in client[1]:
            return 400, {}, b"unknown client or redirect_uri"
        if query.get("response_type") != "code" or "openid" not in query.get("scope", ""):
            return 400, {}, b"response_type=code and scope openid are required"
        code = secrets.token_urlsafe(24)
        with self.lock:
            self.grants[code] = Grant(
                client_id=query["client_id"],
                redirect_uri=redirect_uri,
                challenge=query.get("code_challenge", ""),
                method=query.get("code_challenge_method", ""),
                nonce=query.get("nonce"),
                person=dict(self.person),
            )
        back = {"code": code, "state": query.get("state", "")}
        location = f"{redirect_uri}?{urllib.parse.urlencode(back)}"
        return 302, {"Location": location}, b""

    def token(self, form: dict[str, str], authorization: str | None) -> tuple[int, dict[str, Any]]:
        self.token_requests.append(dict(form))
        client_id, secret = form.get("client_id", ""), form.get("client_secret")
        if authorization and authorization.lower().startswith("basic "):
            decoded = base64.b64decode(authorization[6:]).decode()
            raw_id, _, raw_secret = decoded.partition(":")
            client_id = urllib.parse.unquote(raw_id)
            secret = urllib.parse.unquote(raw_secret)
        client = self.clients.get(client_id)
        if client is None or (client[0] is not None and client[0] != secret):
            return 401, {"error": "invalid_client"}
        with self.lock:
            grant = self.grants.get(form.get("code", ""))
            if grant is None or grant.used or grant.client_id != client_id:
                return 400, {"error": "invalid_grant"}
            grant.used = True
        if grant.redirect_uri != form.get("redirect_uri"):
            return 400, {"error": "invalid_grant", "error_description": "redirect_uri"}
        verifier = form.get("code_verifier", "")
        expected = _b64(hashlib.sha256(verifier.encode()).digest())
        if grant.method != "S256" or not hmac.compare_digest(expected, grant.challenge):
            return 400, {"error": "invalid_grant", "error_description": "PKCE verifier"}
        claims = self.claims_for(grant)
        id_token = self.tamper(claims, self.sign) if self.tamper else self.sign(claims)
        self.issued.append(id_token)
        return 200, {
            "access_token": secrets.token_urlsafe(16),
            "token_type": "Bearer",
            "expires_in": 300,
            "id_token": id_token,
        }


class _Handler(BaseHTTPRequestHandler):
    provider: OidcIdP

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, data: Any) -> None:
        self._send(status, json.dumps(data).encode(), {"Content-Type": "application/json"})

    def do_GET(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        if url.path == "/.well-known/openid-configuration":
            self._json(200, self.provider.discovery())
        elif url.path == "/jwks":
            self._json(200, self.provider.jwks())
        elif url.path == "/authorize":
            status, headers, body = self.provider.authorize(query)
            self._send(status, body, headers)
        else:
            self._send(404, b"not found")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if urllib.parse.urlsplit(self.path).path == "/_test/person":
            # The e2e tests (another process) choose who signs in next.
            self.provider.person = dict(json.loads(raw))
            self._send(204, b"")
            return
        form = dict(urllib.parse.parse_qsl(raw.decode()))
        if urllib.parse.urlsplit(self.path).path != "/token":
            self._send(404, b"not found")
            return
        status, data = self.provider.token(form, self.headers.get("Authorization"))
        self._json(status, data)


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--client", action="append", default=[], help="id:secret:redirect_uri")
    parser.add_argument("--email", default="ada@example.com")
    args = parser.parse_args(argv)
    idp = OidcIdP(port=args.port)
    idp.person = {"sub": "u-1", "email": args.email, "name": args.email.split("@")[0]}
    for spec in args.client:
        client_id, secret, redirect = spec.split(":", 2)
        idp.add_client(client_id, secret or None, [redirect])
    idp.start()
    print(idp.issuer, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        idp.stop()


if __name__ == "__main__":
    main()
