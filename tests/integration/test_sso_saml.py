"""Per-tenant SAML sign-in over real HTTP against a local scripted IdP (tests/saml_idp.py,
served on 127.0.0.1): the whole flow, the attacks (each refused with nothing written),
IdP-initiated sign-in and the replay cache, linking existing members, and the providers'
configuration (422s, roles, isolation)."""

from __future__ import annotations

import base64
import html
import logging
import re
import urllib.parse
import uuid
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from lxml import etree

from servicedesk.identity.saml_kind import sp_entity_id
from servicedesk.identity.sso import callback_url
from servicedesk.platform.config import get_settings
from tests.conftest import TenantFixture, current_database, make_tenant
from tests.integration.test_sso_oidc import _cookie, _counts, _exchange, _me
from tests.saml_idp import ScriptedIdp, key_and_cert, serve


@pytest.fixture(scope="module")
def idp() -> Iterator[ScriptedIdp]:
    provider = ScriptedIdp()
    server, thread = serve(provider)
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(autouse=True)
def _fresh_idp(idp: ScriptedIdp) -> Iterator[None]:
    yield
    idp.users = {}
    idp.attributes = {}


@pytest.fixture(scope="module")
def org(client: Any, aws_endpoint: str) -> TenantFixture:
    return make_tenant(client, roles=("agent",))


def _acs() -> str:
    return callback_url("saml", get_settings())


def _sp() -> str:
    return sp_entity_id(get_settings())


def _body(idp: ScriptedIdp, **changes: Any) -> dict[str, Any]:
    config = {"metadata_xml": idp.metadata().decode(), **changes.pop("config", {})}
    body: dict[str, Any] = {
        "kind": "saml",
        "name": "Acme SAML",
        "slug": f"saml-{uuid.uuid4().hex[:6]}",
        "domains": ["acme.example"],
        "config": config,
    }
    return {**body, **changes}


def _create(client: Any, org: TenantFixture, idp: ScriptedIdp, **changes: Any) -> dict[str, Any]:
    answer = client.post(
        "/v1/identity-providers", headers=org.admin.headers, json=_body(idp, **changes)
    )
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


@pytest.fixture(scope="module")
def provider(client: Any, org: TenantFixture, idp: ScriptedIdp) -> dict[str, Any]:
    return _create(client, org, idp)


def _person(idp: ScriptedIdp, domain: str = "acme.example") -> str:
    email = f"p-{uuid.uuid4().hex[:8]}@{domain}"
    idp.users = {email: {"name": f"Person {email[:10]}"}}
    return email


FORM_FIELD = re.compile(r"name='(SAMLResponse|RelayState)' value='([^']*)'")


class Flow:
    """One browser's SAML sign-in: start, the IdP's page, the ACS; each step inspectable."""

    def __init__(self, client: Any, org: TenantFixture, slug: str) -> None:
        started = client.get(f"/v1/auth/sso/{org.slug}/{slug}/start", follow_redirects=False)
        assert started.status_code == 302, started.text
        self.client = client
        self.url = str(started.headers["location"])
        self.set_cookie = str(started.headers["set-cookie"])
        self.cookie = _cookie(started, "sd_sso")
        self.query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.url).query))
        request = etree.fromstring(
            zlib.decompress(base64.b64decode(self.query["SAMLRequest"]), -15)
        )
        self.request_id = str(request.get("ID"))

    def at_idp(self) -> tuple[str, str]:
        """The IdP's auto-post page, over HTTP: (SAMLResponse, RelayState)."""
        page = httpx.get(self.url, timeout=5)
        assert page.status_code == 200, page.text
        fields = {k: html.unescape(v) for k, v in FORM_FIELD.findall(page.text)}
        action = re.search(r"action='([^']*)'", page.text)
        assert action is not None and html.unescape(action.group(1)) == _acs()
        return fields["SAMLResponse"], fields["RelayState"]

    def post(
        self, saml_response: str, relay: str | None = "same", cookie: str | None = "same"
    ) -> dict[str, str]:
        """The IdP's form post to our ACS: the landing page's fragment."""
        form = {"SAMLResponse": saml_response}
        state = self.query["RelayState"] if relay == "same" else relay
        if state is not None:
            form["RelayState"] = state
        return acs(self.client, form, self.cookie if cookie == "same" else cookie)


def acs(client: Any, form: dict[str, str], cookie: str | None = None) -> dict[str, str]:
    headers = {"content-type": "application/x-www-form-urlencoded"}
    if cookie:
        headers["cookie"] = f"sd_sso={cookie}"
    answer = client.post(
        "/v1/auth/sso/saml/callback",
        content=urllib.parse.urlencode(form),
        headers=headers,
        follow_redirects=False,
    )
    assert answer.status_code == 302, answer.text
    landing = urllib.parse.urlsplit(answer.headers["location"])
    assert landing.path == "/login/sso"
    return dict(urllib.parse.parse_qsl(landing.fragment))


def _sign_in(client: Any, org: TenantFixture, slug: str) -> dict[str, Any]:
    flow = Flow(client, org, slug)
    saml_response, relay = flow.at_idp()
    landing = flow.post(saml_response, relay)
    assert "code" in landing, landing
    answer = _exchange(client, landing["code"])
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def _forged(
    idp: ScriptedIdp,
    flow: Flow | None,
    *,
    email: str,
    response: dict[str, Any] | None = None,
    **assertion: Any,
) -> etree._Element:
    in_response_to = flow.request_id if flow is not None else None
    made = idp.assertion(
        email=email,
        sp_entity_id=_sp(),
        acs_url=_acs(),
        in_response_to=in_response_to,
        **assertion,
    )
    return idp.response(made, acs_url=_acs(), in_response_to=in_response_to, **(response or {}))


# --- the flow --------------------------------------------------------------------------


def test_sign_in_provisions_the_person_and_issues_a_session(
    client: Any, org: TenantFixture, idp: ScriptedIdp, provider: dict[str, Any]
) -> None:
    email = _person(idp)
    flow = Flow(client, org, provider["slug"])
    # The AuthnRequest goes to the metadata's SSO URL; its ID is the nonce's, RelayState
    # the state; the cookie is SameSite=None when secure (the IdP posts cross-site).
    assert flow.url.startswith(idp.sso_url + "?")
    assert flow.request_id.startswith("_") and flow.query["RelayState"]
    same_site = "none" if get_settings().cookie_secure else "lax"
    assert f"samesite={same_site}" in flow.set_cookie.lower()
    assert provider["redirect_uri"] == _acs()
    assert provider["sp_entity_id"] == _sp()
    assert provider["config"]["entity_id"] == idp.entity_id
    assert "metadata_xml" not in provider["config"]
    saml_response, relay = flow.at_idp()
    landing = flow.post(saml_response, relay)
    answer = _exchange(client, landing["code"])
    assert answer.status_code == 200, answer.text
    me = _me(client, answer.json()["access_token"])
    assert me["user"]["email"] == email and me["role"] == "requester"
    assert me["tenant"]["slug"] == org.slug
    # A second sign-in of the same person finds the same account.
    again = _sign_in(client, org, provider["slug"])
    assert _me(client, again["access_token"])["user"]["id"] == me["user"]["id"]


def test_jit_role_from_a_mapped_attribute(
    client: Any, org: TenantFixture, idp: ScriptedIdp
) -> None:
    mapped = _create(client, org, idp, role_claim="groups", role_map={"desk-managers": "manager"})
    _person(idp)
    idp.attributes = {"groups": ["staff", "desk-managers"]}
    tokens = _sign_in(client, org, mapped["slug"])
    assert _me(client, tokens["access_token"])["role"] == "manager"


def test_sp_metadata_names_our_entity_and_acs(client: Any) -> None:
    answer = client.get("/v1/auth/sso/saml/metadata")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/samlmetadata+xml")
    root = etree.fromstring(answer.content)
    assert root.get("entityID") == _sp()
    acs_el = root.find(".//{urn:oasis:names:tc:SAML:2.0:metadata}AssertionConsumerService")
    assert acs_el is not None and acs_el.get("Location") == _acs()


# --- attacks: each refused, nothing written --------------------------------------------------


def _wrapped(idp: ScriptedIdp, flow: Flow, email: str) -> str:
    """A validly signed response for the person, with the attacker's assertion put first."""
    signed = _forged(idp, flow, email=email)
    evil = idp.assertion(
        email="admin@acme.example",
        sp_entity_id=_sp(),
        acs_url=_acs(),
        in_response_to=flow.request_id,
    )
    signed.find("{urn:oasis:names:tc:SAML:2.0:protocol}Status").addnext(evil)
    return ScriptedIdp.encode(signed)


def _tampered(idp: ScriptedIdp, flow: Flow, email: str) -> str:
    """The signed assertion's NameID changed after signing."""
    signed = _forged(idp, flow, email=email)
    name_id = signed.find(".//{urn:oasis:names:tc:SAML:2.0:assertion}NameID")
    name_id.text = "admin@acme.example"
    return ScriptedIdp.encode(signed)


XXE = (
    b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    b'<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">&x;</samlp:Response>'
)
OTHER_KEY, OTHER_CERT = key_and_cert("Rogue IdP")

ATTACKS: dict[str, Any] = {
    "unsigned_assertion": lambda idp, flow, email: ScriptedIdp.encode(
        _forged(idp, flow, email=email, response={"sign_assertion": False})
    ),
    "unsigned_assertion_in_signed_response": lambda idp, flow, email: ScriptedIdp.encode(
        _forged(idp, flow, email=email, response={"sign_assertion": False, "sign_response": True})
    ),
    "signed_by_another_key": lambda idp, flow, email: ScriptedIdp.encode(
        _forged(idp, flow, email=email, response={"key_pem": OTHER_KEY, "cert_pem": OTHER_CERT})
    ),
    "wrapping": _wrapped,
    "tampered_name_id": _tampered,
    "wrong_audience": lambda idp, flow, email: ScriptedIdp.encode(
        _forged(idp, flow, email=email, audience="https://other-sp.example")
    ),
    "wrong_recipient": lambda idp, flow, email: ScriptedIdp.encode(
        _forged(idp, flow, email=email, recipient="https://evil.example/acs")
    ),
    "expired": lambda idp, flow, email: ScriptedIdp.encode(
        _forged(idp, flow, email=email, now=datetime.now(UTC) - timedelta(hours=1))
    ),
    "another_request": lambda idp, flow, email: ScriptedIdp.encode(
        idp.response(
            idp.assertion(email=email, sp_entity_id=_sp(), acs_url=_acs(), in_response_to="_other"),
            acs_url=_acs(),
            in_response_to="_other",
        )
    ),
    "xxe": lambda idp, flow, email: ScriptedIdp.encode(XXE),
}


# What the log says of each (the reason; never the response).
DETAILS = {
    "another_request": "InResponseTo does not match",
    "expired": "the assertion has expired",
    "signed_by_another_key": "signature invalid",
    "tampered_name_id": "signature invalid: InvalidDigest",
    "unsigned_assertion": "the assertion is not signed",
    "unsigned_assertion_in_signed_response": "the assertion is not signed",
    "wrapping": "exactly one assertion",
    "wrong_audience": "another audience",
    "wrong_recipient": "no bearer SubjectConfirmation for our ACS URL",
    "xxe": "DOCTYPE",
}


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_forged_responses_are_refused_with_nothing_written(
    client: Any,
    org: TenantFixture,
    idp: ScriptedIdp,
    provider: dict[str, Any],
    attack: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    email = _person(idp)
    flow = Flow(client, org, provider["slug"])
    forged = ATTACKS[attack](idp, flow, email)
    before = _counts(org)
    with caplog.at_level(logging.WARNING):
        assert flow.post(forged) == {"error": "assertion"}
    assert _counts(org) == before
    refused = [r for r in caplog.records if r.getMessage() == "sso sign-in refused"]
    assert len(refused) == 1 and DETAILS[attack] in getattr(refused[0], "detail", "")
    assert forged[:200] not in " ".join(str(r.__dict__) for r in caplog.records)


def test_the_same_response_twice_state_mismatch_and_another_browser_are_refused(
    client: Any, org: TenantFixture, idp: ScriptedIdp, provider: dict[str, Any]
) -> None:
    _person(idp)
    flow = Flow(client, org, provider["slug"])
    saml_response, _relay = flow.at_idp()
    before = _counts(org)
    assert flow.post(saml_response, relay="forged-state") == {"error": "state"}
    assert flow.post(saml_response, cookie="another-browser") == {"error": "state"}
    assert flow.post(saml_response, cookie=None) == {"error": "state"}
    assert _counts(org) == before
    # The right browser still finishes it; the same response again is refused.
    assert "code" in flow.post(saml_response)
    after = _counts(org)
    assert flow.post(saml_response) == {"error": "state"}
    assert _counts(org) == after


def test_the_acs_form_is_checked(client: Any) -> None:
    def post(body: str, media: str = "application/x-www-form-urlencoded") -> Any:
        return client.post(
            "/v1/auth/sso/saml/callback",
            content=body,
            headers={"content-type": media},
            follow_redirects=False,
        )

    for answer, field in (
        (post("RelayState=x"), "SAMLResponse"),
        (post('{"SAMLResponse": "x"}', "application/json"), "content-type"),
        (post("SAMLResponse=a&SAMLResponse=b"), "SAMLResponse"),
        (post("SAMLResponse=" + "A" * (600 * 1024)), "SAMLResponse"),
    ):
        assert answer.status_code in (413, 422), answer.text
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert answer.json()["errors"][0]["field"] == field


# --- IdP-initiated and the replay cache -------------------------------------------------------


def test_idp_initiated_only_when_allowed_and_never_twice(client: Any, org: TenantFixture) -> None:
    own = ScriptedIdp(entity_id=f"https://idp-{uuid.uuid4().hex[:6]}.example/saml")
    closed = ScriptedIdp(entity_id=f"https://idp-{uuid.uuid4().hex[:6]}.example/saml")
    created = _create(client, org, own, config={"allow_idp_initiated": True})
    _create(client, org, closed)
    email = f"p-{uuid.uuid4().hex[:8]}@acme.example"
    unsolicited = ScriptedIdp.encode(_forged(own, None, email=email))
    before = _counts(org)
    refused = ScriptedIdp.encode(_forged(closed, None, email=email))
    assert acs(client, {"SAMLResponse": refused}) == {"error": "unsolicited"}
    assert _counts(org) == before
    landing = acs(client, {"SAMLResponse": unsolicited})
    assert "code" in landing, landing
    assert _exchange(client, landing["code"]).status_code == 200
    with current_database().connect("owner") as conn:
        cached = conn.execute(
            "SELECT count(*) FROM sso_assertions WHERE provider_id = %s", (created["id"],)
        ).fetchone()[0]
    assert cached == 1
    after = _counts(org)
    # The same assertion again: the replay cache refuses it.
    assert acs(client, {"SAMLResponse": unsolicited}) == {"error": "assertion"}
    assert _counts(org) == after
    # A solicited response (InResponseTo) posted without its sign-in is refused too.
    solicited = ScriptedIdp.encode(
        own.response(
            own.assertion(email=email, sp_entity_id=_sp(), acs_url=_acs(), in_response_to="_x"),
            acs_url=_acs(),
            in_response_to="_x",
        )
    )
    assert acs(client, {"SAMLResponse": solicited}) == {"error": "assertion"}


# --- linking existing members ---------------------------------------------------------------


def test_an_existing_member_of_the_tenant_is_linked_and_audited(
    client: Any, org: TenantFixture, idp: ScriptedIdp
) -> None:
    linking = _create(client, org, idp, domains=[f"{org.slug}.example"], jit_enabled=False)
    member = org.members["agent"]
    idp.users = {member.email: {"name": "Agent"}}
    tokens = _sign_in(client, org, linking["slug"])
    me = _me(client, tokens["access_token"])
    assert me["user"]["id"] == member.user_id and me["role"] == "agent"
    with current_database().connect("owner") as conn:
        linked = conn.execute(
            "SELECT count(*) FROM audit_log WHERE tenant_id = %s AND action = 'auth.sso_linked'"
            " AND entity_id = %s",
            (org.tenant_id, member.user_id),
        ).fetchone()[0]
        issuer = conn.execute(
            "SELECT idp_issuer FROM users WHERE id = %s", (member.user_id,)
        ).fetchone()[0]
    assert linked == 1 and issuer == idp.entity_id


def test_a_member_of_another_tenant_is_never_linked(
    client: Any, org: TenantFixture, idp: ScriptedIdp
) -> None:
    other = make_tenant(client, roles=("agent",))
    stranger = other.members["agent"]
    grabbing = _create(client, org, idp, domains=[f"{other.slug}.example"])
    idp.users = {stranger.email: {"name": "Stranger"}}
    before = _counts(org)
    flow = Flow(client, org, grabbing["slug"])
    assert flow.post(*flow.at_idp()) == {"error": "existing_account"}
    assert _counts(org) == before
    # Nor one of this tenant outside the provider's domains.
    plain = _create(client, org, idp, domains=["acme.example"])
    idp.users = {org.admin.email: {"name": "Admin"}}
    flow = Flow(client, org, plain["slug"])
    assert flow.post(*flow.at_idp()) == {"error": "existing_account"}
    assert _counts(org) == before


def test_a_member_of_this_and_another_tenant_is_never_linked(
    client: Any, org: TenantFixture, idp: ScriptedIdp
) -> None:
    """A person of two organisations: one organisation's IdP (its admin's to configure)
    must not gain the account the other organisation trusts too."""
    other = make_tenant(client, roles=("agent",))
    both = other.members["agent"]
    added = client.post(
        "/v1/users",
        headers=org.admin.headers,
        json={"email": both.email, "name": "Both", "password": "Ignored-password-9"},
    )
    assert added.status_code == 201, added.text
    grabbing = _create(client, org, idp, domains=[f"{other.slug}.example"], jit_enabled=False)
    idp.users = {both.email: {"name": "Both"}}
    before = _counts(org)
    flow = Flow(client, org, grabbing["slug"])
    # Not linked (before migration 0050 it was: the person is this tenant's member too);
    # with JIT off there is nothing else the sign-in could do.
    assert flow.post(*flow.at_idp()) == {"error": "not_provisioned"}
    assert _counts(org) == before


def test_a_session_the_idp_started_does_not_switch_organisations(
    client: Any, org: TenantFixture, idp: ScriptedIdp
) -> None:
    """The IdP vouched for the person in its own organisation only: switching into another
    organisation of the same account from that session is refused (403 naming tenant); a
    password session of a person of two organisations still switches."""
    jit = _create(client, org, idp, jit_enabled=True)
    email = f"sam-{uuid.uuid4().hex[:6]}@{org.slug}.example"
    idp.users = {email: {"name": "Sam"}}
    tokens = _sign_in(client, org, jit["slug"])
    other = make_tenant(client, roles=())
    added = client.post(
        "/v1/users",
        headers=other.admin.headers,
        json={"email": email, "name": "Sam", "password": "Ignored-password-9"},
    )
    assert added.status_code == 201, added.text
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    switched = client.post("/v1/auth/switch-tenant", headers=bearer, json={"tenant": other.slug})
    assert switched.status_code == 403, switched.text
    assert switched.json()["errors"][0]["field"] == "tenant"
    # A password session switches as before.
    both = make_tenant(client, roles=("agent",)).members["agent"]
    joined = client.post(
        "/v1/users",
        headers=org.admin.headers,
        json={"email": both.email, "name": "Both", "password": "Ignored-password-9"},
    )
    assert joined.status_code == 201, joined.text
    moved = client.post("/v1/auth/switch-tenant", headers=both.headers, json={"tenant": org.slug})
    assert moved.status_code == 200, moved.text


# --- configuration ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"metadata_xml": "<not-xml"}, "config.metadata_xml"),
        ({"metadata_xml": XXE.decode()}, "config.metadata_xml"),
        (
            {
                "metadata_xml": '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:'
                'metadata" entityID="x"/>'
            },
            "config.metadata_xml",
        ),
        ({"metadata_xml": None}, "config.metadata_xml"),
        ({"colour": "red"}, "config.colour"),
        ({"require_signed_assertion": "maybe"}, "config.require_signed_assertion"),
        ({"sign_requests": True}, "config.sign_requests"),
    ],
)
def test_bad_saml_configuration_is_a_422_naming_the_field(
    client: Any, org: TenantFixture, idp: ScriptedIdp, config: dict[str, Any], field: str
) -> None:
    before = _counts(org)
    answer = client.post(
        "/v1/identity-providers", headers=org.admin.headers, json=_body(idp, config=config)
    )
    assert answer.status_code == 422, answer.text
    assert field in [e["field"] for e in answer.json()["errors"]], answer.json()
    assert _counts(org) == before


def test_an_edit_may_omit_the_metadata(client: Any, org: TenantFixture, idp: ScriptedIdp) -> None:
    created = _create(client, org, idp)
    changed = client.patch(
        f"/v1/identity-providers/{created['id']}",
        headers={**org.admin.headers, "If-Match": '"1"'},
        json={"config": {"allow_idp_initiated": False, "email_attribute": "mail"}},
    )
    assert changed.status_code == 200, changed.text
    config = changed.json()["config"]
    assert config["certificates"] == created["config"]["certificates"]
    assert config["email_attribute"] == "mail"


def test_only_admins_manage_saml_providers_and_only_their_own(
    client: Any, org: TenantFixture, idp: ScriptedIdp, provider: dict[str, Any]
) -> None:
    agent = org.members["agent"]
    assert (
        client.post("/v1/identity-providers", headers=agent.headers, json=_body(idp)).status_code
        == 403
    )
    other = make_tenant(client, roles=())
    path = f"/v1/identity-providers/{provider['id']}"
    assert client.get(path, headers=other.admin.headers).status_code == 404
    assert client.delete(path, headers=other.admin.headers).status_code == 404
    assert client.get(path, headers=org.admin.headers).json()["kind"] == "saml"


# --- SSO-only organisations: no password joins but admins' ------------------------------------


def test_sso_only_refuses_invitations_and_registrations_except_for_admins(
    client: Any, aws_endpoint: str
) -> None:
    from tests.conftest import PASSWORD
    from tests.integration.test_registration import _confirm, _register, _set_portal
    from tests.test_support import latest_outbox

    strict = make_tenant(client, roles=())
    assert _set_portal(client, strict.admin, self_registration=True).status_code == 200
    tag = uuid.uuid4().hex[:8]
    agent, admin, early = (f"{who}-{tag}@x.example" for who in ("agent", "admin", "early"))
    tokens = {}
    for email, role in ((agent, "agent"), (admin, "admin")):
        invited = client.post(
            "/v1/users/invitations",
            headers=strict.admin.headers,
            json={"email": email, "role": role},
        )
        assert invited.status_code == 201, invited.text
        tokens[email] = latest_outbox(current_database(), "user.invited", email)["token"]
    assert _register(client, strict.slug, early).status_code == 202
    security = client.get("/v1/settings/security", headers=strict.admin.headers)
    switched = client.put(
        "/v1/settings/security",
        headers={**strict.admin.headers, "If-Match": security.headers["etag"]},
        json={**security.json(), "sso_only": True},
    )
    assert switched.status_code == 200, switched.text

    def accept(email: str) -> Any:
        body = {"token": tokens[email], "name": "New", "password": PASSWORD}
        return client.post("/v1/auth/accept-invitation", json=body)

    def accounts() -> int:
        with current_database().connect("owner") as conn:
            return int(
                conn.execute(
                    "SELECT count(*) FROM users WHERE email = ANY(%s)", ([agent, early],)
                ).fetchone()[0]
            )

    refused = accept(agent)
    assert refused.status_code == 403, refused.text
    assert refused.json()["errors"][0]["field"] == "token"
    registered = _register(client, strict.slug, f"late-{tag}@x.example")
    assert registered.status_code == 403 and registered.json()["errors"][0]["field"] == "tenant"
    confirmed = _confirm(client, early)
    assert confirmed.status_code == 403 and confirmed.json()["errors"][0]["field"] == "token"
    assert accounts() == 0
    # Break-glass: an admin's invitation still works with a password.
    assert accept(admin).status_code in (200, 201)
