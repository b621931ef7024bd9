"""LDAP / Active Directory sign-in against a real OpenLDAP (Debian's slapd on 127.0.0.1,
tests/ldap_server.py): LDAPS and StartTLS, certificates checked, RFC 4515 escaping, group
→ role mapping, the directory down; the settings routes' roles and isolation. The service
password lives in the moto server's Secrets Manager."""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from servicedesk.identity import directory
from tests import ldap_server
from tests.conftest import TenantFixture, login, make_tenant, reset_caches
from tests.imap_server import make_pki

# `make test` sets SERVICEDESK_REQUIRE_SLAPD: there a missing slapd fails instead of skipping.
pytestmark = pytest.mark.skipif(
    not ldap_server.available() and not os.environ.get("SERVICEDESK_REQUIRE_SLAPD"),
    reason="slapd is not installed (make slapd)",
)

LDAP = "/v1/settings/ldap"
PASSWORD = "Directory-pass-1"


@pytest.fixture(scope="session")
def slapd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ldap_server.Slapd]:
    server = ldap_server.start(tmp_path_factory.mktemp("slapd"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def ldap_aws(aws_endpoint: str, database: Any) -> Iterator[None]:
    key = "SERVICEDESK_IDENTITY_SECRET_PREFIX"
    previous = os.environ.get(key)
    os.environ[key] = f"servicedesk/test-{uuid.uuid4().hex[:8]}/identity"
    reset_caches()
    yield
    if previous is None:
        os.environ.pop(key, None)
    else:
        os.environ[key] = previous
    reset_caches()


class Directory:
    """Groups and people of one test tenant in the shared slapd (names made unique)."""

    def __init__(self, server: ldap_server.Slapd, domain: str) -> None:
        self.server = server
        self.domain = domain
        self.tag = uuid.uuid4().hex[:8]
        conn = server.admin()
        try:
            self.service = self.server.add_person  # for symmetry in tests
            self.groups = {}
            for name in ("agents", "admins"):
                dn = f"cn={name}-{self.tag},{ldap_server.GROUPS}"
                # groupOfNames needs a member: the service account stands in.
                conn.add(
                    dn,
                    ["groupOfNames"],
                    {"cn": f"{name}-{self.tag}", "member": [ldap_server.SERVICE_DN]},
                )
                self.groups[name] = dn
        finally:
            conn.unbind()

    def person(self, name: str, *, groups: tuple[str, ...] = ()) -> tuple[str, str]:
        """A new person (uid, e-mail) in ``groups``."""
        uid = f"{name}-{self.tag}-{uuid.uuid4().hex[:4]}"
        mail = f"{uid}@{self.domain}"
        conn = self.server.admin()
        try:
            dn = self.server.add_person(conn, uid, PASSWORD, mail=mail)
            for group in groups:
                from ldap3 import MODIFY_ADD

                conn.modify(self.groups[group], {"member": [(MODIFY_ADD, [dn])]})
        finally:
            conn.unbind()
        return uid, mail

    def leave(self, uid: str, group: str) -> None:
        from ldap3 import MODIFY_DELETE

        conn = self.server.admin()
        try:
            dn = f"uid={uid},{ldap_server.PEOPLE}"
            conn.modify(self.groups[group], {"member": [(MODIFY_DELETE, [dn])]})
        finally:
            conn.unbind()


def settings_body(server: ldap_server.Slapd, d: Directory, **over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "enabled": True,
        "host": "127.0.0.1",
        "port": server.ldaps_port,
        "mode": "ldaps",
        "ca_certificate": server.ca_pem,
        "bind_dn": ldap_server.SERVICE_DN,
        "password": ldap_server.SERVICE_PASSWORD,
        "user_search_base": ldap_server.PEOPLE,
        "user_filter": "(&(objectClass=inetOrgPerson)(uid={username}))",
        "group_roles": [
            {"group_dn": d.groups["agents"], "role": "agent"},
            {"group_dn": d.groups["admins"], "role": "admin"},
        ],
        "default_role": "requester",
        "domains": [d.domain],
        "timeout_seconds": 2,
    }
    body.update(over)
    return body


def put(client: Any, org: TenantFixture, body: dict[str, Any]) -> Any:
    etag = client.get(LDAP, headers=org.admin.headers).headers["ETag"]
    return client.put(LDAP, headers={**org.admin.headers, "If-Match": etag}, json=body)


@pytest.fixture(scope="module")
def org(client: Any, ldap_aws: None, slapd: ldap_server.Slapd) -> tuple[TenantFixture, Directory]:
    tenant = make_tenant(client, roles=("agent",))
    d = Directory(slapd, f"{tenant.slug}.corp.test")
    response = put(client, tenant, settings_body(slapd, d))
    assert response.status_code == 200, response.text
    return tenant, d


def me(client: Any, token: str) -> dict[str, Any]:
    response = client.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_settings_never_return_the_password_and_need_if_match(client, org):
    tenant, _ = org
    got = client.get(LDAP, headers=tenant.admin.headers)
    assert got.status_code == 200 and got.headers["ETag"]
    body = got.json()
    assert body["has_password"] is True and body["enabled"] is True
    assert "password" not in body and "password_secret_arn" not in body
    assert ldap_server.SERVICE_PASSWORD not in got.text
    body.pop("has_password")
    assert client.put(LDAP, headers=tenant.admin.headers, json=body).status_code == 428
    stale = client.put(LDAP, headers={**tenant.admin.headers, "If-Match": '"x"'}, json={})
    assert stale.status_code == 412


def test_settings_are_admin_only_and_per_tenant(client, org, ldap_aws):
    tenant, _ = org
    assert client.get(LDAP, headers=tenant.members["agent"].headers).status_code == 403
    assert client.put(LDAP, headers=tenant.members["agent"].headers, json={}).status_code == 403
    test = client.post(
        f"{LDAP}/test", headers=tenant.members["agent"].headers, json={"username": "x"}
    )
    assert test.status_code == 403
    assert client.get(LDAP).status_code == 401
    other = make_tenant(client, roles=())
    theirs = client.get(LDAP, headers=other.admin.headers).json()
    assert theirs["enabled"] is False and theirs["has_password"] is False and theirs["host"] == ""
    refused = client.post(f"{LDAP}/test", headers=other.admin.headers, json={"username": "x"})
    assert refused.status_code == 422 and "host" in refused.text


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("mode", "ldap"),
        ("user_filter", "(uid=admin)"),
        ("user_filter", "(uid={username}"),
        ("ca_certificate", "-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----"),
        ("host", "ldap://dir.example"),
        ("domains", ["not a domain"]),
        ("port", 0),
        ("group_roles", [{"group_dn": "cn=x,dc=y", "role": "owner"}]),
    ],
)
def test_bad_settings_are_refused_naming_the_field(client, org, slapd, field, value):
    tenant, d = org
    response = put(client, tenant, settings_body(slapd, d, **{field: value}))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert field in response.text


def test_enabling_needs_the_fields_and_a_password(client, ldap_aws, slapd):
    tenant = make_tenant(client, roles=())
    d = Directory(slapd, f"{tenant.slug}.corp.test")
    body = settings_body(slapd, d, bind_dn="")
    body.pop("password")
    response = put(client, tenant, body)
    assert response.status_code == 422
    names = {e["field"] for e in response.json()["errors"]}
    assert {"bind_dn", "password"} <= names
    unknown_team = settings_body(
        slapd, d, group_teams=[{"group_dn": "cn=a,dc=b", "team_id": str(uuid.uuid4())}]
    )
    response = put(client, tenant, unknown_team)
    assert response.status_code == 422 and "group_teams" in response.text


def test_ldaps_sign_in_provisions_the_person_with_the_mapped_role(client, org):
    tenant, d = org
    _, mail = d.person("ann", groups=("agents",))
    response = login(client, mail, PASSWORD)
    assert response.status_code == 200, response.text
    assert response.headers.get("set-cookie", "").startswith("sd_refresh=")
    mine = me(client, response.json()["access_token"])
    assert mine["user"]["email"] == mail and mine["tenant"]["slug"] == tenant.slug
    assert mine["role"] == "agent" and mine["user"]["name"].startswith("Ann-")
    again = login(client, mail, PASSWORD)  # the same person, not a second one
    assert me(client, again.json()["access_token"])["user"]["id"] == mine["user"]["id"]


def test_a_user_name_with_the_tenant_signs_in_too(client, org):
    tenant, d = org
    uid, _ = d.person("bo", groups=("admins",))
    response = login(client, uid, PASSWORD, tenant=tenant.slug)
    assert response.status_code == 200, response.text
    assert me(client, response.json()["access_token"])["role"] == "admin"
    assert login(client, uid, PASSWORD).status_code == 422  # a user name needs the tenant
    # The sign-in page learns from the discovery (by slug) that a user name will do.
    asked = client.get("/v1/auth/sso/discover", params={"tenant": tenant.slug})
    assert asked.status_code == 200 and asked.json()["directory_user_names"] is True
    other = make_tenant(client, roles=())
    plain = client.get("/v1/auth/sso/discover", params={"tenant": other.slug}).json()
    unknown = client.get("/v1/auth/sso/discover", params={"tenant": "no-such-org-here"}).json()
    assert plain["directory_user_names"] is False and unknown == plain


def test_starttls_sign_in(client, ldap_aws, slapd):
    tenant = make_tenant(client, roles=())
    d = Directory(slapd, f"{tenant.slug}.corp.test")
    body = settings_body(slapd, d, mode="starttls", port=slapd.ldap_port)
    assert put(client, tenant, body).status_code == 200
    _, mail = d.person("cy")
    response = login(client, mail, PASSWORD)
    assert response.status_code == 200, response.text
    assert me(client, response.json()["access_token"])["role"] == "requester"


def test_wrong_password_and_unknown_person_get_the_same_answer(client, org):
    _, d = org
    _, mail = d.person("di")
    wrong = login(client, mail, "Not-the-password-1")
    unknown = login(client, f"nobody-{uuid.uuid4().hex[:6]}@{d.domain}", PASSWORD)
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["detail"] == unknown.json()["detail"]
    assert wrong.json()["type"] == unknown.json()["type"]


def test_an_empty_password_is_refused_before_any_bind(client, org):
    _, d = org
    _, mail = d.person("ed")
    assert login(client, mail, "").status_code == 422
    # Below the API: an empty password never reaches the server (a closed port would raise).
    closed = directory.LdapSettings(host="127.0.0.1", port=_closed_port(), timeout_seconds=1)
    assert directory.authenticate(closed, "service", "ed", "") == (None, False)


@pytest.mark.parametrize(
    "name",
    ["*", ")(uid=*", "\x00", "*)(|(uid=*", "ann*", "\\2a", "(uid=*)", "a)(objectClass=*"],
)
def test_ldap_injection_in_the_user_name_finds_nobody(client, org, name):
    tenant, d = org
    d.person("inj")
    response = login(client, name, PASSWORD, tenant=tenant.slug)
    assert response.status_code in (401, 422), response.text
    if "\x00" not in name:
        assert response.status_code == 401
    escaped = directory.user_filter(directory.DirectoryFields(), name)
    assert escaped.count("(") == escaped.count(")") == 1


def test_a_certificate_from_another_ca_is_refused(client, ldap_aws, slapd, tmp_path):
    tenant = make_tenant(client, roles=())
    d = Directory(slapd, f"{tenant.slug}.corp.test")
    other_ca = make_pki(tmp_path / "other").ca_file.read_text()
    for mode, port in (("ldaps", slapd.ldaps_port), ("starttls", slapd.ldap_port)):
        body = settings_body(slapd, d, ca_certificate=other_ca, mode=mode, port=port)
        assert put(client, tenant, body).status_code == 200
        tested = client.post(f"{LDAP}/test", headers=tenant.admin.headers, json={"username": "x"})
        assert tested.status_code == 200 and tested.json()["ok"] is False
        assert "TLS" in tested.json()["error"] or "certificate" in tested.json()["error"].lower()
        _, mail = d.person(f"fi{mode}")
        response = login(client, mail, PASSWORD)
        assert response.status_code == 503, response.text
        assert response.headers["Retry-After"]


def test_a_person_who_leaves_the_group_loses_the_role_at_next_sign_in(client, org):
    _, d = org
    uid, mail = d.person("gus", groups=("admins",))
    first = login(client, mail, PASSWORD)
    assert me(client, first.json()["access_token"])["role"] == "admin"
    d.leave(uid, "admins")
    second = login(client, mail, PASSWORD)
    assert second.status_code == 200, second.text
    assert me(client, second.json()["access_token"])["role"] == "requester"


def test_the_test_route_reports_what_it_found_without_a_password(client, org):
    tenant, d = org
    uid, mail = d.person("hal", groups=("agents",))
    tested = client.post(f"{LDAP}/test", headers=tenant.admin.headers, json={"username": uid})
    assert tested.status_code == 200, tested.text
    found = tested.json()
    assert found["ok"] and found["found"] and found["email"] == mail
    assert found["role"] == "agent" and d.groups["agents"] in found["groups"]
    nobody = client.post(f"{LDAP}/test", headers=tenant.admin.headers, json={"username": "*"})
    assert nobody.json() == {**nobody.json(), "ok": True, "found": False}


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def silent_server() -> Iterator[int]:
    """Accepts connections and never answers (a firewall that drops, a hung server)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        sock.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(sock.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield int(sock.getsockname()[1])
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    sock.close()


@pytest.mark.parametrize("mode", ["ldaps", "starttls"])
def test_the_directory_unreachable_is_a_clear_503_without_a_hang(
    client, ldap_aws, slapd, silent_server, mode
):
    tenant = make_tenant(client, roles=())
    d = Directory(slapd, f"{tenant.slug}.corp.test")
    for port in (_closed_port(), silent_server):
        body = settings_body(slapd, d, port=port, mode=mode, timeout_seconds=1)
        assert put(client, tenant, body).status_code == 200
        started = time.monotonic()
        response = login(client, f"someone@{d.domain}", PASSWORD)
        assert response.status_code == 503, response.text
        assert "directory" in response.json()["detail"]
        assert time.monotonic() - started < 5


def test_a_password_account_of_another_organisation_is_not_routed_to_the_directory(
    client, org, ldap_aws
):
    """A tenant listing a domain must not receive another organisation's people's passwords."""
    _, d = org
    other = make_tenant(client, roles=())
    email = f"pat-{uuid.uuid4().hex[:6]}@{d.domain}"
    created = client.post(
        "/v1/users",
        headers=other.admin.headers,
        json={"email": email, "name": "Pat", "role": "agent", "password": "Local-password-9"},
    )
    assert created.status_code == 201, created.text
    response = login(client, email, "Local-password-9")
    assert response.status_code == 200, response.text
    assert me(client, response.json()["access_token"])["tenant"]["slug"] == other.slug


def test_groups_map_to_teams_and_the_audit_row_holds_no_password(client, ldap_aws, slapd, database):
    tenant = make_tenant(client, roles=())
    d = Directory(slapd, f"{tenant.slug}.corp.test")
    team = client.post("/v1/teams", headers=tenant.admin.headers, json={"name": "Desk"})
    assert team.status_code == 201, team.text
    team_id = team.json()["id"]
    body = settings_body(
        slapd, d, group_teams=[{"group_dn": d.groups["agents"], "team_id": team_id}]
    )
    assert put(client, tenant, body).status_code == 200
    uid, mail = d.person("ivy", groups=("agents",))
    signed_in = login(client, mail, PASSWORD)
    assert signed_in.status_code == 200, signed_in.text
    user_id = me(client, signed_in.json()["access_token"])["user"]["id"]

    def members() -> set[str]:
        got = client.get(f"/v1/teams/{team_id}", headers=tenant.admin.headers)
        return {m["user_id"] for m in got.json()["members"]}

    assert user_id in members()
    d.leave(uid, "agents")
    assert login(client, mail, PASSWORD).status_code == 200
    assert user_id not in members()

    with database.connect("owner") as conn:
        rows = conn.execute(
            "SELECT data::text FROM audit_log WHERE tenant_id = %s"
            " AND action = 'settings.ldap_updated'",
            (tenant.tenant_id,),
        ).fetchall()
    assert rows and all(ldap_server.SERVICE_PASSWORD not in r[0] for r in rows)


def test_a_requester_in_a_team_group_joins_no_team(client, ldap_aws, slapd, database):
    """Group → team goes through the teams API's rules (teams/service.follow_groups): only
    staff join teams (a requester would otherwise be picked by round-robin assignment);
    the join of an agent is audited like an admin's."""
    tenant = make_tenant(client, roles=())
    d = Directory(slapd, f"{tenant.slug}.corp.test")
    team_id = client.post("/v1/teams", headers=tenant.admin.headers, json={"name": "Desk"}).json()[
        "id"
    ]
    body = settings_body(
        slapd,
        d,
        group_roles=[{"group_dn": d.groups["admins"], "role": "admin"}],
        group_teams=[{"group_dn": d.groups["agents"], "team_id": team_id}],
    )
    assert put(client, tenant, body).status_code == 200
    _, mail = d.person("rex", groups=("agents",))
    signed_in = login(client, mail, PASSWORD)
    assert signed_in.status_code == 200, signed_in.text
    assert me(client, signed_in.json()["access_token"])["role"] == "requester"
    got = client.get(f"/v1/teams/{team_id}", headers=tenant.admin.headers).json()
    assert got["members"] == []
    # An admin of the directory (staff) in the same group joins, audited as the API does.
    _, boss = d.person("una", groups=("agents", "admins"))
    user_id = me(client, login(client, boss, PASSWORD).json()["access_token"])["user"]["id"]
    got = client.get(f"/v1/teams/{team_id}", headers=tenant.admin.headers).json()
    assert [m["user_id"] for m in got["members"]] == [user_id]
    with database.connect("owner") as conn:
        audited = conn.execute(
            "SELECT count(*) FROM audit_log WHERE tenant_id = %s AND action = 'team.member_added'",
            (tenant.tenant_id,),
        ).fetchone()
    assert audited[0] == 1


def test_the_login_lockout_counts_directory_attempts(client, org):
    """The password sign-in's throttle (PasswordGate) applies: after the account's limit of
    wrong passwords, even the right one waits (429 with Retry-After), and the directory is
    not asked meanwhile."""
    _, d = org
    _, mail = d.person("jo")
    for _ in range(5):
        assert login(client, mail, "Wrong-password-1").status_code == 401
    locked = login(client, mail, PASSWORD)
    assert locked.status_code == 429 and int(locked.headers["retry-after"]) >= 1


def test_an_sso_only_organisation_does_not_sign_in_through_its_directory(client, ldap_aws, slapd):
    """SSO-only means its identity providers only: the directory's bind is not tried (the
    password sign-in's rule answers: the same 401 as a wrong password)."""
    tenant = make_tenant(client, roles=())
    d = Directory(slapd, f"{tenant.slug}.corp.test")
    assert put(client, tenant, settings_body(slapd, d)).status_code == 200
    _, mail = d.person("fi", groups=("agents",))
    assert login(client, mail, PASSWORD).status_code == 200  # the directory works
    security = client.get("/v1/settings/security", headers=tenant.admin.headers)
    answer = client.put(
        "/v1/settings/security",
        headers={**tenant.admin.headers, "If-Match": security.headers["etag"]},
        json={**security.json(), "sso_only": True},
    )
    assert answer.status_code == 200, answer.text
    refused = login(client, mail, PASSWORD)
    wrong = login(client, mail, "Not-the-password-1")
    assert refused.status_code == wrong.status_code == 401
    assert refused.json()["detail"] == wrong.json()["detail"]
