"""Per-tenant OIDC sign-in over real HTTP against a local test IdP (tests/oidc_idp.py):
the whole flow, the attacks (each refused with nothing written), SSO-only organisations,
and the providers' configuration (roles, isolation, secrets, events)."""

from __future__ import annotations

import time
import urllib.parse
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from servicedesk.platform.config import get_settings
from tests.conftest import PASSWORD, TenantFixture, current_database, login, make_tenant
from tests.oidc_idp import OidcIdP

CLIENT_ID, CLIENT_SECRET = "servicedesk", "idp-client-secret-1"


@pytest.fixture(scope="module")
def idp() -> Iterator[OidcIdP]:
    callback = f"{get_settings().web_origin}/v1/auth/sso/oidc/callback"
    with OidcIdP() as provider:
        provider.add_client(CLIENT_ID, CLIENT_SECRET, [callback])
        yield provider


@pytest.fixture(autouse=True)
def _fresh_idp(idp: OidcIdP) -> Iterator[None]:
    yield
    idp.tamper = None
    idp.discovery_changes = {}
    idp.person = {"sub": "u-1", "email": "ada@example.com", "name": "Ada"}


@pytest.fixture(scope="module")
def org(client: Any, aws_endpoint: str) -> TenantFixture:
    return make_tenant(client, roles=("agent",))


def _provider_body(idp: OidcIdP, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "oidc",
        "name": "Acme SSO",
        "slug": f"acme-{uuid.uuid4().hex[:6]}",
        "domains": ["acme.example"],
        "config": {"issuer": idp.issuer, "client_id": CLIENT_ID},
        "client_secret": CLIENT_SECRET,
    }
    return {**body, **changes}


def _create(client: Any, org: TenantFixture, idp: OidcIdP, **changes: Any) -> dict[str, Any]:
    response = client.post(
        "/v1/identity-providers", headers=org.admin.headers, json=_provider_body(idp, **changes)
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


@pytest.fixture(scope="module")
def provider(client: Any, org: TenantFixture, idp: OidcIdP) -> dict[str, Any]:
    return _create(client, org, idp)


def _person() -> dict[str, Any]:
    tag = uuid.uuid4().hex[:8]
    return {"sub": f"sub-{tag}", "email": f"p-{tag}@acme.example", "name": f"Person {tag}"}


class Flow:
    """One browser's sign-in: start, the IdP, the callback; each step inspectable."""

    def __init__(self, client: Any, org: TenantFixture, slug: str) -> None:
        started = client.get(f"/v1/auth/sso/{org.slug}/{slug}/start", follow_redirects=False)
        assert started.status_code == 302, started.text
        self.client = client
        self.authorize_url = started.headers["location"]
        self.cookie = started.cookies.get("sd_sso") or _cookie(started, "sd_sso")
        self.query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.authorize_url).query))

    def at_idp(self, **query: str) -> str:
        """The IdP's redirect back (its callback URL), after ``query`` changes."""
        url = self.authorize_url
        if query:
            parts = urllib.parse.urlsplit(url)
            changed = {**self.query, **query}
            url = parts._replace(query=urllib.parse.urlencode(changed)).geturl()
        answer = httpx.get(url, follow_redirects=False, timeout=5)
        assert answer.status_code == 302, answer.text
        return str(answer.headers["location"])

    def callback(self, location: str, cookie: str | None = "same") -> dict[str, str]:
        """Follow the IdP's redirect to our callback: the landing page's fragment."""
        parts = urllib.parse.urlsplit(location)
        value = self.cookie if cookie == "same" else cookie
        headers = {"cookie": f"sd_sso={value}"} if value else {}
        answer = self.client.get(
            f"{parts.path}?{parts.query}", headers=headers, follow_redirects=False
        )
        assert answer.status_code == 302, answer.text
        landing = urllib.parse.urlsplit(answer.headers["location"])
        assert landing.path == "/login/sso"
        return dict(urllib.parse.parse_qsl(landing.fragment))


def _cookie(response: Any, name: str) -> str:
    for header in response.headers.get_list("set-cookie"):
        if header.startswith(f"{name}="):
            return str(header.split(";")[0].split("=", 1)[1])
    raise AssertionError(f"no {name} cookie")


def _exchange(client: Any, code: str) -> Any:
    return client.post("/v1/auth/sso/exchange", json={"code": code})


def _counts(org: TenantFixture) -> tuple[int, int, int, int]:
    """Users, memberships and sessions of the tenant, and every IdP-linked account."""
    with current_database().connect("owner") as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM memberships WHERE tenant_id = %(t)s),"
            " (SELECT count(*) FROM refresh_token_families WHERE tenant_id = %(t)s),"
            " (SELECT count(*) FROM users WHERE idp_issuer IS NOT NULL),"
            " (SELECT count(*) FROM audit_log WHERE tenant_id = %(t)s"
            "  AND action = 'auth.sso_login')",
            {"t": org.tenant_id},
        ).fetchone()
    return tuple(row)  # type: ignore[return-value]


def _sign_in(client: Any, org: TenantFixture, slug: str) -> dict[str, Any]:
    flow = Flow(client, org, slug)
    landing = flow.callback(flow.at_idp())
    assert "code" in landing, landing
    answer = _exchange(client, landing["code"])
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def _me(client: Any, token: str) -> dict[str, Any]:
    answer = client.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


# --- the flow --------------------------------------------------------------------------


def test_sign_in_provisions_the_person_and_issues_a_session_like_a_password_sign_in(
    client: Any, org: TenantFixture, idp: OidcIdP, provider: dict[str, Any]
) -> None:
    idp.person = _person()
    flow = Flow(client, org, provider["slug"])
    # state, nonce and PKCE S256 go to the IdP; the verifier never does.
    assert flow.query["code_challenge_method"] == "S256"
    assert flow.query["state"] and flow.query["nonce"] and flow.query["code_challenge"]
    assert flow.query["redirect_uri"] == provider["redirect_uri"]
    assert flow.authorize_url.startswith(f"{idp.issuer}/authorize?")
    location = flow.at_idp()
    landing = flow.callback(location)
    answer = _exchange(client, landing["code"])
    assert answer.status_code == 200, answer.text
    assert "sd_refresh=" in answer.headers["set-cookie"]
    me = _me(client, answer.json()["access_token"])
    assert me["user"]["email"] == idp.person["email"]
    assert me["role"] == "requester" and me["tenant"]["slug"] == org.slug
    # The token endpoint got the verifier and the client's secret (basic auth).
    assert idp.token_requests[-1]["code_verifier"]
    # The session is one of the person's sessions, with its device.
    sessions = client.get(
        "/v1/me/sessions", headers={"Authorization": f"Bearer {answer.json()['access_token']}"}
    )
    assert [s["current"] for s in sessions.json()] == [True]
    # The code is single use.
    again = _exchange(client, landing["code"])
    assert again.status_code == 401 and again.json()["errors"][0]["field"] == "code"
    # A second sign-in of the same person finds the same account.
    again_tokens = _sign_in(client, org, provider["slug"])
    assert _me(client, again_tokens["access_token"])["user"]["id"] == me["user"]["id"]


def test_state_reuse_and_a_replayed_callback_are_refused(
    client: Any, org: TenantFixture, idp: OidcIdP, provider: dict[str, Any]
) -> None:
    idp.person = _person()
    flow = Flow(client, org, provider["slug"])
    location = flow.at_idp()
    assert "code" in flow.callback(location)
    before = _counts(org)
    assert flow.callback(location) == {"error": "state"}
    assert _counts(org) == before


def test_state_mismatch_and_another_browser_are_refused_with_nothing_written(
    client: Any, org: TenantFixture, idp: OidcIdP, provider: dict[str, Any]
) -> None:
    idp.person = _person()
    flow = Flow(client, org, provider["slug"])
    location = flow.at_idp()
    before = _counts(org)
    forged = location.replace(f"state={urllib.parse.quote(flow.query['state'])}", "state=forged")
    assert flow.callback(forged) == {"error": "state"}
    assert flow.callback(location, cookie="another-browser") == {"error": "state"}
    assert flow.callback(location, cookie=None) == {"error": "state"}
    assert _counts(org) == before
    # The right browser still finishes it (the refusals did not use the state up).
    assert "code" in flow.callback(location)


def test_what_idps_add_to_the_callback_is_accepted_and_a_foreign_iss_refused(
    client: Any, org: TenantFixture, idp: OidcIdP, provider: dict[str, Any]
) -> None:
    extra = "&session_state=abc.def&scope=openid+email&authuser=0&prompt=consent"
    idp.person = _person()
    flow = Flow(client, org, provider["slug"])
    location = flow.at_idp()
    ours = f"&iss={urllib.parse.quote(idp.issuer, safe='')}"
    assert "code" in flow.callback(location + extra + ours)
    # RFC 9207: an answer naming another issuer (a mix-up) is refused, nothing written.
    idp.person = _person()
    flow = Flow(client, org, provider["slug"])
    before = _counts(org)
    assert flow.callback(flow.at_idp() + "&iss=https%3A%2F%2Fevil.example") == {
        "error": "idp_issuer"
    }
    assert _counts(org) == before
    # A parameter no IdP sends is still a 422 naming it.
    unknown = client.get("/v1/auth/sso/oidc/callback?state=x&colour=red", follow_redirects=False)
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "colour"


def test_wrong_pkce_verifier_is_refused_by_the_token_endpoint(
    client: Any, org: TenantFixture, idp: OidcIdP, provider: dict[str, Any]
) -> None:
    idp.person = _person()
    flow = Flow(client, org, provider["slug"])
    before = _counts(org)
    # An attacker's code, bound to another challenge, injected into our sign-in.
    location = flow.at_idp(code_challenge="A" * 43)
    assert flow.callback(location) == {"error": "token_endpoint"}
    assert _counts(org) == before


def _attack(
    client: Any,
    org: TenantFixture,
    idp: OidcIdP,
    slug: str,
    tamper: Callable[[dict[str, Any], Any], str],
) -> dict[str, str]:
    idp.person = _person()
    idp.tamper = tamper
    before = _counts(org)
    flow = Flow(client, org, slug)
    landing = flow.callback(flow.at_idp())
    assert _counts(org) == before
    return landing


OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)

ATTACKS: dict[str, Callable[[dict[str, Any], Any], str]] = {
    "alg_none": lambda claims, sign: sign(claims, alg="none"),
    "hs256_with_the_public_key": lambda claims, sign: sign(claims, alg="HS256"),
    "wrong_issuer": lambda claims, sign: sign({**claims, "iss": "https://evil.example"}),
    "wrong_audience": lambda claims, sign: sign({**claims, "aud": "another-client"}),
    "expired": lambda claims, sign: sign(
        {**claims, "exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200}
    ),
    "no_nonce": lambda claims, sign: sign({k: v for k, v in claims.items() if k != "nonce"}),
    "key_not_in_jwks": lambda claims, sign: sign(claims, key=OTHER_KEY, kid="rogue"),
    "known_kid_other_key": lambda claims, sign: sign(claims, key=OTHER_KEY, kid="rsa-1"),
    "several_audiences_without_azp": lambda claims, sign: sign(
        {**claims, "aud": [claims["aud"], "other"]}
    ),
}


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_forged_id_tokens_are_refused_with_nothing_written(
    client: Any, org: TenantFixture, idp: OidcIdP, provider: dict[str, Any], attack: str
) -> None:
    landing = _attack(client, org, idp, provider["slug"], ATTACKS[attack])
    assert landing == {"error": "id_token"}


def test_es256_tokens_are_accepted(
    client: Any, org: TenantFixture, idp: OidcIdP, provider: dict[str, Any]
) -> None:
    idp.person = _person()
    idp.tamper = lambda claims, sign: sign(claims, alg="ES256")
    assert _sign_in(client, org, provider["slug"])["access_token"]


def test_a_replayed_id_token_fails_on_its_nonce(
    client: Any, org: TenantFixture, idp: OidcIdP, provider: dict[str, Any]
) -> None:
    idp.person = _person()
    _sign_in(client, org, provider["slug"])
    captured = idp.issued[-1]  # valid, signed, but for the previous sign-in's nonce
    landing = _attack(client, org, idp, provider["slug"], lambda claims, sign: captured)
    assert landing == {"error": "id_token"}


def test_an_address_of_a_password_account_is_not_taken_over(
    client: Any, org: TenantFixture, idp: OidcIdP, provider: dict[str, Any]
) -> None:
    idp.person = {"sub": "attacker", "email": org.members["agent"].email, "name": "Mallory"}
    before = _counts(org)
    flow = Flow(client, org, provider["slug"])
    assert flow.callback(flow.at_idp()) == {"error": "existing_account"}
    assert _counts(org) == before


# --- roles ----------------------------------------------------------------------------------


def test_the_desks_role_wins_unless_the_provider_maps_the_claim(
    client: Any, org: TenantFixture, idp: OidcIdP
) -> None:
    plain = _create(client, org, idp, default_role="agent")
    mapped = _create(client, org, idp, role_claim="groups", role_map={"desk-managers": "manager"})
    person = {**_person(), "groups": ["desk-managers"], "servicedesk_role": "admin"}
    idp.person = person
    tokens = _sign_in(client, org, plain["slug"])
    me = _me(client, tokens["access_token"])
    assert me["role"] == "agent"  # the default; the unmapped claim is ignored
    # An admin changes the role in the desk; a sign-in without a map keeps it.
    user = client.get(f"/v1/users/{me['user']['id']}", headers=org.admin.headers).json()
    changed = client.patch(
        f"/v1/users/{user['id']}",
        headers={**org.admin.headers, "If-Match": f'"{user["version"]}"'},
        json={"role": "requester"},
    )
    assert changed.status_code == 200, changed.text
    assert _me(client, _sign_in(client, org, plain["slug"])["access_token"])["role"] == "requester"
    # Through the provider with an explicit map, the mapped claim sets it.
    assert _me(client, _sign_in(client, org, mapped["slug"])["access_token"])["role"] == "manager"


def test_without_jit_only_existing_members_sign_in(
    client: Any, org: TenantFixture, idp: OidcIdP
) -> None:
    closed = _create(client, org, idp, jit_enabled=False)
    idp.person = _person()
    before = _counts(org)
    flow = Flow(client, org, closed["slug"])
    assert flow.callback(flow.at_idp()) == {"error": "not_provisioned"}
    assert _counts(org) == before


# --- configuration ------------------------------------------------------------------------


def test_a_malformed_discovery_document_is_a_422_naming_its_field(
    client: Any, org: TenantFixture
) -> None:
    with OidcIdP() as broken:
        broken.discovery_changes = {"jwks_uri": None}
        answer = client.post(
            "/v1/identity-providers", headers=org.admin.headers, json=_provider_body(broken)
        )
        assert answer.status_code == 422, answer.text
        assert [e["field"] for e in answer.json()["errors"]] == ["discovery.jwks_uri"]
    with OidcIdP() as wrong:
        wrong.discovery_changes = {
            "issuer": "https://elsewhere.example",
            "id_token_signing_alg_values_supported": ["HS256"],
            "token_endpoint": "ftp://x",
        }
        answer = client.post(
            "/v1/identity-providers", headers=org.admin.headers, json=_provider_body(wrong)
        )
        assert answer.status_code == 422, answer.text
        assert {e["field"] for e in answer.json()["errors"]} == {
            "discovery.issuer",
            "discovery.token_endpoint",
            "discovery.id_token_signing_alg_values_supported",
        }
    unreachable = client.post(
        "/v1/identity-providers",
        headers=org.admin.headers,
        json=_provider_body(
            OidcIdP(port=1), config={"issuer": "http://127.0.0.1:1", "client_id": "x"}
        ),
    )
    assert unreachable.status_code == 422
    assert unreachable.json()["errors"][0]["field"] == "config.issuer"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        (
            {"config": {"issuer": "https://x.example", "client_id": "a", "colour": "red"}},
            "config.colour",
        ),
        ({"config": {"client_id": "a"}}, "config.issuer"),
        ({"config": {"issuer": "ftp://x", "client_id": "a"}}, "config.issuer"),
        (
            {"config": {"issuer": "https://x.example", "client_id": "a", "scopes": ["email"]}},
            "config.scopes",
        ),
        ({"slug": "Not A Slug"}, "slug"),
        ({"domains": ["not a domain"]}, "domains.0"),
        ({"role_map": {"x": "owner"}, "role_claim": "groups"}, "role_map.x"),
        ({"kind": "ldap"}, "kind"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_bad_provider_configuration_is_a_422_naming_the_field(
    client: Any, org: TenantFixture, idp: OidcIdP, changes: dict[str, Any], field: str
) -> None:
    answer = client.post(
        "/v1/identity-providers", headers=org.admin.headers, json=_provider_body(idp, **changes)
    )
    assert answer.status_code == 422, answer.text
    assert field in [e["field"] for e in answer.json()["errors"]], answer.json()


def test_providers_keep_their_secret_and_publish_events(
    client: Any, org: TenantFixture, idp: OidcIdP, aws_endpoint: str
) -> None:
    import boto3

    created = _create(client, org, idp)
    assert created["has_secret"] is True and "client_secret" not in created
    assert CLIENT_SECRET not in str(created)
    with current_database().connect("owner") as conn:
        arn = conn.execute(
            "SELECT secret_arn FROM identity_providers WHERE id = %s", (created["id"],)
        ).fetchone()[0]
        events = [
            r[0]
            for r in conn.execute(
                "SELECT event_type FROM outbox WHERE aggregate_id = %s ORDER BY created_at",
                (created["id"],),
            )
        ]
    secrets = boto3.client("secretsmanager", endpoint_url=aws_endpoint)
    assert secrets.get_secret_value(SecretId=arn)["SecretString"] == CLIENT_SECRET
    assert events == ["identity_provider.created"]
    path = f"/v1/identity-providers/{created['id']}"
    stale = client.patch(
        path, headers={**org.admin.headers, "If-Match": '"99"'}, json={"enabled": False}
    )
    assert stale.status_code == 412
    missing = client.patch(path, headers=org.admin.headers, json={"enabled": False})
    assert missing.status_code == 428
    changed = client.patch(
        path,
        headers={**org.admin.headers, "If-Match": '"1"'},
        json={"enabled": False, "client_secret": "rotated-secret"},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["enabled"] is False and changed.json()["version"] == 2
    assert secrets.get_secret_value(SecretId=arn)["SecretString"] == "rotated-secret"
    # A disabled provider is neither offered nor started.
    offers = client.get("/v1/auth/sso/discover", params={"tenant": org.slug}).json()
    assert created["slug"] not in [o["provider"] for o in offers["providers"]]
    assert client.get(f"/v1/auth/sso/{org.slug}/{created['slug']}/start").status_code == 404
    assert client.delete(path, headers=org.admin.headers).status_code == 204
    with current_database().connect("owner") as conn:
        events = [
            r[0]
            for r in conn.execute(
                "SELECT event_type FROM outbox WHERE aggregate_id = %s ORDER BY created_at",
                (created["id"],),
            )
        ]
    assert events == [
        "identity_provider.created",
        "identity_provider.updated",
        "identity_provider.deleted",
    ]
    with pytest.raises(secrets.exceptions.ResourceNotFoundException):
        secrets.get_secret_value(SecretId=arn)


def test_only_admins_manage_providers_and_only_their_own(
    client: Any, org: TenantFixture, idp: OidcIdP, provider: dict[str, Any]
) -> None:
    agent = org.members["agent"]
    assert client.get("/v1/identity-providers", headers=agent.headers).status_code == 403
    assert (
        client.post(
            "/v1/identity-providers", headers=agent.headers, json=_provider_body(idp)
        ).status_code
        == 403
    )
    other = make_tenant(client, roles=())
    path = f"/v1/identity-providers/{provider['id']}"
    assert client.get(path, headers=other.admin.headers).status_code == 404
    assert (
        client.patch(
            path, headers={**other.admin.headers, "If-Match": '"1"'}, json={"enabled": False}
        ).status_code
        == 404
    )
    assert client.delete(path, headers=other.admin.headers).status_code == 404
    assert client.get("/v1/identity-providers", headers=other.admin.headers).json()["items"] == []
    listed = client.get("/v1/identity-providers", headers=org.admin.headers).json()["items"]
    assert provider["id"] in [p["id"] for p in listed]


# --- discovery and SSO-only -----------------------------------------------------------------


def test_discovery_by_domain_or_tenant_says_nothing_about_accounts(
    client: Any, org: TenantFixture, provider: dict[str, Any]
) -> None:
    known = client.get("/v1/auth/sso/discover", params={"email": "ada@ACME.example"})
    unknown = client.get("/v1/auth/sso/discover", params={"email": "nobody-ever@acme.example"})
    assert known.status_code == unknown.status_code == 200
    assert known.json() == unknown.json()
    offer = next(o for o in known.json()["providers"] if o["provider"] == provider["slug"])
    assert offer["start_url"] == f"/v1/auth/sso/{org.slug}/{provider['slug']}/start"
    by_tenant = client.get("/v1/auth/sso/discover", params={"tenant": org.slug}).json()
    assert provider["slug"] in [o["provider"] for o in by_tenant["providers"]]
    none = client.get("/v1/auth/sso/discover", params={"email": "x@elsewhere.example"})
    assert none.json() == {"providers": [], "directory_user_names": False}
    bad = client.get("/v1/auth/sso/discover")
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "email"
    assert client.get(f"/v1/auth/sso/{org.slug}/nope/start").status_code == 404
    assert client.get(f"/v1/auth/sso/no-such-org/{provider['slug']}/start").status_code == 404
    outside = client.get(
        f"/v1/auth/sso/{org.slug}/{provider['slug']}/start",
        params={"return_to": "https://evil.example/"},
    )
    assert outside.status_code == 422 and outside.json()["errors"][0]["field"] == "return_to"


def test_sso_only_refuses_passwords_and_reset_mail_except_for_admins(
    client: Any, idp: OidcIdP, aws_endpoint: str
) -> None:
    from tests.test_support import latest_outbox

    strict = make_tenant(client, roles=("agent",))
    agent = strict.members["agent"]
    security = client.get("/v1/settings/security", headers=strict.admin.headers)
    answer = client.put(
        "/v1/settings/security",
        headers={**strict.admin.headers, "If-Match": security.headers["etag"]},
        json={**security.json(), "sso_only": True},
    )
    assert answer.status_code == 200, answer.text
    refused = login(client, agent.email)
    wrong = login(client, agent.email, "not-the-password-at-all")
    unknown = login(client, f"nobody-{uuid.uuid4().hex[:6]}@x.example")
    assert refused.status_code == wrong.status_code == unknown.status_code == 401
    assert refused.json()["detail"] == wrong.json()["detail"] == unknown.json()["detail"]
    # Break-glass: the admin keeps the password.
    assert login(client, strict.admin.email, PASSWORD).status_code == 200
    # No reset mail for the agent (the answer is the same); the admin still gets one.
    for email in (agent.email, strict.admin.email):
        sent = client.post("/v1/auth/password/forgot", json={"email": email})
        assert sent.status_code == 202
    with pytest.raises(AssertionError, match=r"no account\.password_reset"):
        latest_outbox(current_database(), "account.password_reset", agent.email)
    assert latest_outbox(current_database(), "account.password_reset", strict.admin.email)
