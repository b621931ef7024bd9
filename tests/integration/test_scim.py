"""SCIM 2.0 (RFC 7643/7644), conformance-style: what an identity provider sends, and what
the RFC says the answer is. Real Postgres, the real app, the tenant's real token."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from tests.conftest import PASSWORD, current_database, login, make_tenant

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
LIST = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
SCIM_JSON = "application/scim+json"


@dataclass
class Scim:
    client: Any
    token: str
    tenant: Any

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", "Content-Type": SCIM_JSON}

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(f"/scim/v2{path}", headers=self.headers, params=params)

    def post(self, path: str, body: Any) -> Any:
        return self.client.post(f"/scim/v2{path}", headers=self.headers, json=body)

    def put(self, path: str, body: Any, **headers: str) -> Any:
        return self.client.put(f"/scim/v2{path}", headers={**self.headers, **headers}, json=body)

    def patch(self, path: str, *operations: dict[str, Any], **headers: str) -> Any:
        body = {"schemas": [PATCH], "Operations": list(operations)}
        return self.client.patch(f"/scim/v2{path}", headers={**self.headers, **headers}, json=body)

    def delete(self, path: str) -> Any:
        return self.client.delete(f"/scim/v2{path}", headers=self.headers)

    def user(self, user_name: str | None = None, /, **attributes: Any) -> dict[str, Any]:
        user_name = user_name or f"p-{uuid.uuid4().hex[:10]}@{self.tenant.slug}.example"
        body = {
            "schemas": [USER],
            "userName": user_name,
            "name": {"givenName": "Ada", "familyName": "Lovelace"},
            "emails": [{"value": user_name, "type": "work", "primary": True}],
            "active": True,
            **attributes,
        }
        created = self.post("/Users", body)
        assert created.status_code == 201, created.text
        return dict(created.json())


def owner_rows(sql: str, *params: Any) -> list[Any]:
    with current_database().connect("owner") as connection:
        return list(connection.execute(sql, params).fetchall())


def set_password(email: str, password: str) -> None:
    from servicedesk.identity.passwords import hash_password

    with current_database().connect("owner") as connection:
        connection.execute(
            "UPDATE users SET password_hash = %s WHERE email = %s",
            (hash_password(password), email.lower()),
        )


def enable(client: Any, tenant: Any, *, default_role: str = "requester") -> str:
    admin = tenant.admin.headers
    settings = client.get("/v1/scim/settings", headers=admin)
    assert settings.status_code == 200, settings.text
    changed = client.put(
        "/v1/scim/settings",
        headers={**admin, "If-Match": settings.headers["ETag"]},
        json={"enabled": True, "default_role": default_role},
    )
    assert changed.status_code == 200, changed.text
    made = client.post("/v1/scim/token", headers=admin)
    assert made.status_code == 201, made.text
    return str(made.json()["token"])


@pytest.fixture(scope="module")
def org(client: Any) -> Any:
    return make_tenant(client, roles=("agent",))


@pytest.fixture(scope="module")
def scim(client: Any, org: Any) -> Scim:
    return Scim(client, enable(client, org), org)


def _error(response: Any, status: int, scim_type: str | None = None, names: str = "") -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(SCIM_JSON), response.headers
    body = response.json()
    assert body["schemas"] == [ERROR]
    assert body["status"] == str(status)
    if scim_type is not None:
        assert body.get("scimType") == scim_type, body
    assert names.lower() in body["detail"].lower(), body


# --- Users: create, get, replace, patch, delete (RFC 7644 §3.3-3.6) ------------------


def test_create_answers_201_with_location_etag_and_meta(scim: Scim) -> None:
    name = f"new-{uuid.uuid4().hex[:8]}@{scim.tenant.slug}.example"
    created = scim.post(
        "/Users",
        {"schemas": [USER], "userName": name, "externalId": "ext-1", "displayName": "New One"},
    )
    assert created.status_code == 201, created.text
    assert created.headers["content-type"].startswith(SCIM_JSON)
    body = created.json()
    assert body["userName"] == name and body["active"] is True and body["externalId"] == "ext-1"
    assert body["meta"]["resourceType"] == "User"
    assert created.headers["Location"] == body["meta"]["location"]
    assert body["meta"]["location"].endswith(f"/scim/v2/Users/{body['id']}")
    assert created.headers["ETag"] == body["meta"]["version"] == 'W/"1"'
    again = scim.get(f"/Users/{body['id']}")
    assert again.status_code == 200 and again.json()["userName"] == name


def test_an_existing_user_name_is_409_uniqueness(scim: Scim) -> None:
    person = scim.user()
    twice = scim.post("/Users", {"schemas": [USER], "userName": person["userName"].upper()})
    _error(twice, 409, "uniqueness", "userName")


@pytest.mark.parametrize(
    ("body", "names"),
    [
        ({"schemas": [USER]}, "userName"),
        ({"schemas": [USER], "userName": 42}, "userName"),
        ({"schemas": [USER], "userName": "not an e-mail"}, "userName"),
        ({"schemas": [USER], "userName": "a@b.example", "active": "maybe"}, "active"),
        ({"schemas": [USER], "userName": "a@b.example", "emails": "x"}, "emails"),
        ({"schemas": [USER], "userName": "a@b.example", "shoeSize": 44}, "shoeSize"),
        ({"schemas": [USER], "userName": "a@b.example", "name": {"nick": "x"}}, "name.nick"),
        ({"userName": "a@b.example"}, "schemas"),
    ],
)
def test_wrong_types_and_unknown_attributes_are_400_invalid_value(
    scim: Scim, body: dict[str, Any], names: str
) -> None:
    _error(scim.post("/Users", body), 400, "invalidValue", names)


def test_extension_and_unstored_core_attributes_are_accepted(scim: Scim) -> None:
    person = scim.user(
        title="Engineer",
        phoneNumbers=[{"value": "+1 555", "type": "work"}],
        **{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "IT"}},
    )
    assert "title" not in person


def test_replace_changes_the_attributes_and_the_version(scim: Scim) -> None:
    person = scim.user()
    replaced = scim.put(
        f"/Users/{person['id']}",
        {
            "schemas": [USER],
            "userName": person["userName"],
            "name": {"givenName": "Grace", "familyName": "Hopper"},
            "displayName": "Grace Hopper",
            "active": True,
        },
        **{"If-Match": person["meta"]["version"]},
    )
    assert replaced.status_code == 200, replaced.text
    body = replaced.json()
    assert body["name"] == {"givenName": "Grace", "familyName": "Hopper"}
    assert body["emails"] == [] and body["meta"]["version"] == 'W/"2"'
    stale = scim.put(
        f"/Users/{person['id']}",
        {"schemas": [USER], "userName": person["userName"]},
        **{"If-Match": person["meta"]["version"]},
    )
    _error(stale, 412)


def test_id_and_user_name_cannot_be_changed_by_replace(scim: Scim) -> None:
    person = scim.user()
    other_id = {"schemas": [USER], "id": str(uuid.uuid4()), "userName": person["userName"]}
    _error(scim.put(f"/Users/{person['id']}", other_id), 400, "mutability", "id")
    renamed = {"schemas": [USER], "userName": f"x{person['userName']}"}
    _error(scim.put(f"/Users/{person['id']}", renamed), 400, "mutability", "userName")


def test_patch_paths_add_replace_remove(scim: Scim) -> None:
    person = scim.user()
    path = f"/Users/{person['id']}"
    changed = scim.patch(
        path,
        {"op": "replace", "path": "name.givenName", "value": "Augusta"},
        {"op": "Replace", "path": 'emails[type eq "work"].value', "value": "aug@example.com"},
        {"op": "add", "path": "emails", "value": [{"value": "home@example.com", "type": "home"}]},
        {"op": "add", "path": "displayName", "value": "Augusta Ada"},
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert body["name"]["givenName"] == "Augusta" and body["displayName"] == "Augusta Ada"
    assert {e["type"]: e["value"] for e in body["emails"]} == {
        "work": "aug@example.com",
        "home": "home@example.com",
    }
    removed = scim.patch(
        path,
        {"op": "remove", "path": 'emails[type eq "home"]'},
        {"op": "remove", "path": "displayName"},
    )
    body = removed.json()
    assert [e["type"] for e in body["emails"]] == ["work"] and "displayName" not in body


def test_patch_without_a_path_the_way_entra_sends_it(scim: Scim) -> None:
    person = scim.user()
    changed = scim.patch(
        f"/Users/{person['id']}",
        {"op": "Replace", "value": {"displayName": "From Entra", "name.familyName": "Byron"}},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["displayName"] == "From Entra"
    assert changed.json()["name"]["familyName"] == "Byron"


def test_patch_replace_a_missing_typed_email_adds_it(scim: Scim) -> None:
    person = scim.user(emails=[])
    changed = scim.patch(
        f"/Users/{person['id']}",
        {"op": "replace", "path": 'emails[type eq "work"].value', "value": "w@example.com"},
    )
    assert changed.json()["emails"] == [{"type": "work", "value": "w@example.com"}]


@pytest.mark.parametrize(
    ("operation", "status", "scim_type", "names"),
    [
        ({"op": "replace", "path": "shoeSize", "value": 1}, 400, "invalidPath", "shoeSize"),
        ({"op": "replace", "path": "emails[type eq]", "value": 1}, 400, "invalidPath", "path"),
        ({"op": "jump", "path": "active", "value": True}, 400, "invalidValue", "op"),
        ({"op": "replace", "path": "active", "value": "perhaps"}, 400, "invalidValue", "active"),
        ({"op": "remove"}, 400, "noTarget", "path"),
    ],
)
def test_bad_patch_operations(
    scim: Scim, operation: dict[str, Any], status: int, scim_type: str, names: str
) -> None:
    person = scim.user()
    _error(scim.patch(f"/Users/{person['id']}", operation), status, scim_type, names)


def test_unknown_ids_are_404_in_scim_format(scim: Scim) -> None:
    _error(scim.get(f"/Users/{uuid.uuid4()}"), 404)
    _error(scim.get("/Users/not-a-uuid"), 404)
    _error(scim.get(f"/Groups/{uuid.uuid4()}"), 404)


def test_malformed_json_is_400_invalid_syntax(scim: Scim) -> None:
    sent = scim.client.post("/scim/v2/Users", headers=scim.headers, content=b"{nope")
    _error(sent, 400, "invalidSyntax")


# --- deactivation ends sign-in and every session --------------------------------------


def _signed_in(client: Any, scim: Scim) -> tuple[dict[str, Any], Any]:
    person = scim.user()
    email = person["userName"]
    # Provisioned people sign in with the IdP; a password stands in for that here.
    set_password(email, PASSWORD)
    session = login(client, email)
    assert session.status_code == 200, session.text
    return person, session.json()["access_token"]


def test_active_false_deactivates_and_revokes_sessions(client: Any, scim: Scim) -> None:
    person, token = _signed_in(client, scim)
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.get("/v1/me", headers=bearer).status_code == 200
    off = scim.patch(f"/Users/{person['id']}", {"op": "replace", "path": "active", "value": False})
    assert off.status_code == 200 and off.json()["active"] is False
    assert client.get("/v1/me", headers=bearer).status_code == 401
    assert login(client, person["userName"]).status_code in (401, 403)
    on = scim.patch(f"/Users/{person['id']}", {"op": "replace", "value": {"active": "True"}})
    assert on.json()["active"] is True


def test_delete_deactivates_and_the_user_is_gone(client: Any, scim: Scim) -> None:
    person, token = _signed_in(client, scim)
    gone = scim.delete(f"/Users/{person['id']}")
    assert gone.status_code == 204
    _error(scim.get(f"/Users/{person['id']}"), 404)
    assert client.get("/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    # The IdP may provision the same person again: the membership comes back.
    again = scim.post("/Users", {"schemas": [USER], "userName": person["userName"]})
    assert again.status_code == 201 and again.json()["id"] == person["id"]


# --- list, filter, paging (RFC 7644 §3.4.2) -------------------------------------------


@pytest.fixture(scope="module")
def people(scim: Scim) -> list[dict[str, Any]]:
    tag = uuid.uuid4().hex[:6]
    made = []
    for n, (given, active) in enumerate([("Alan", True), ("Barbara", False), ("Claude", True)]):
        made.append(
            scim.user(
                f"{tag}-{n}-{given.lower()}@{scim.tenant.slug}.example",
                name={"givenName": given, "familyName": "Test"},
                externalId=f"{tag}-{n}",
                active=active,
                emails=[
                    {"value": f"{given.lower()}@work.example", "type": "work"},
                    {"value": f"{given.lower()}@home.example", "type": "home"},
                ],
            )
        )
    return made


def _ids(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["schemas"] == [LIST]
    return [r["id"] for r in body["Resources"]]


@pytest.mark.parametrize(
    ("filter_", "expected"),
    [
        ('userName eq "{0}"', [0]),
        ('USERNAME EQ "{0}"', [0]),
        ('userName sw "{tag}-" and active eq true', [0, 2]),
        ('userName sw "{tag}-" and not (active eq true)', [1]),
        ('userName co "-1-barb" or userName ew "2-claude@{slug}.example"', [1, 2]),
        ('externalId eq "{tag}-2"', [2]),
        ('name.givenName eq "alan" and userName sw "{tag}"', [0]),
        ('emails[type eq "work" and value eq "claude@work.example"]', [2]),
        ('emails.value eq "barbara@home.example"', [1]),
        ('emails co "alan@home"', [0]),
        ('userName sw "{tag}" and (name.givenName gt "B" and name.givenName le "Claude")', [1, 2]),
        ('userName sw "{tag}" and meta.created ge "2000-01-01T00:00:00Z"', [0, 1, 2]),
        ('userName sw "{tag}" and displayName pr', []),
        ('urn:ietf:params:scim:schemas:core:2.0:User:userName eq "{0}"', [0]),
        ('userName sw "{tag}" and name.givenName ne "Alan"', [1, 2]),
    ],
)
def test_filters(
    scim: Scim, people: list[dict[str, Any]], filter_: str, expected: list[int]
) -> None:
    tag = people[0]["externalId"].split("-")[0]
    query = filter_.format(people[0]["userName"], tag=tag, slug=scim.tenant.slug)
    assert _ids(scim.get("/Users", filter=query)) == [people[n]["id"] for n in expected]


@pytest.mark.parametrize(
    "filter_",
    [
        "userName eq",
        'userName zz "x"',
        'shoeSize eq "44"',
        '(userName eq "x"',
        'active eq "yes"',
        'userName eq "x" and',
        'emails[type eq "work"',
        'meta.created gt "yesterday"',
        "(" * 40 + 'userName eq "x"' + ")" * 40,
        " or ".join(['userName eq "x"'] * 60),
        'userName eq "x" $',
    ],
)
def test_invalid_filters_are_400_invalid_filter(scim: Scim, filter_: str) -> None:
    _error(scim.get("/Users", filter=filter_), 400, "invalidFilter", "filter")


def test_a_filter_value_is_never_sql(scim: Scim, people: list[dict[str, Any]]) -> None:
    evil = "x' OR '1'='1"
    assert _ids(scim.get("/Users", filter=f'userName eq "{evil}"')) == []
    assert _ids(scim.get("/Users", filter='userName co "%"')) == []


def test_paging_is_one_based_and_count_is_capped(scim: Scim, people: list[dict[str, Any]]) -> None:
    tag = people[0]["externalId"].split("-")[0]
    query = f'userName sw "{tag}"'
    first = scim.get("/Users", filter=query, startIndex=1, count=2).json()
    assert first["totalResults"] == 3 and first["itemsPerPage"] == 2 and first["startIndex"] == 1
    second = scim.get("/Users", filter=query, startIndex=3, count=2).json()
    assert [r["id"] for r in first["Resources"] + second["Resources"]] == [p["id"] for p in people]
    zero = scim.get("/Users", filter=query, startIndex=0, count=0).json()
    assert zero["startIndex"] == 1 and zero["Resources"] == [] and zero["totalResults"] == 3
    huge = scim.get("/Users", count=100000).json()
    assert huge["itemsPerPage"] <= 200
    _error(scim.get("/Users", count="many"), 400, "invalidValue", "count")


def test_sort_by_and_order(scim: Scim, people: list[dict[str, Any]]) -> None:
    tag = people[0]["externalId"].split("-")[0]
    query = f'userName sw "{tag}"'
    down = scim.get("/Users", filter=query, sortBy="name.givenName", sortOrder="descending")
    assert _ids(down) == [p["id"] for p in reversed(people)]
    _error(scim.get("/Users", sortBy="shoeSize"), 400, "invalidValue", "sortBy")


def test_attributes_and_excluded_attributes(scim: Scim, people: list[dict[str, Any]]) -> None:
    one = scim.get(f"/Users/{people[0]['id']}", attributes="userName,name.givenName").json()
    assert set(one) == {"schemas", "id", "userName", "name"}
    assert one["name"] == {"givenName": "Alan"}
    without = scim.get(f"/Users/{people[0]['id']}", excludedAttributes="emails,id").json()
    assert "emails" not in without and "id" in without


# --- Groups and membership ------------------------------------------------------------


def test_groups_crud_and_membership(scim: Scim, people: list[dict[str, Any]]) -> None:
    name = f"Group {uuid.uuid4().hex[:6]}"
    created = scim.post(
        "/Groups",
        {"schemas": [GROUP], "displayName": name, "members": [{"value": people[0]["id"]}]},
    )
    assert created.status_code == 201, created.text
    group = created.json()
    assert [m["value"] for m in group["members"]] == [people[0]["id"]]
    path = f"/Groups/{group['id']}"
    added = scim.patch(
        path, {"op": "add", "path": "members", "value": [{"value": people[1]["id"]}]}
    )
    assert {m["value"] for m in added.json()["members"]} == {people[0]["id"], people[1]["id"]}
    removed = scim.patch(path, {"op": "remove", "path": f'members[value eq "{people[0]["id"]}"]'})
    assert [m["value"] for m in removed.json()["members"]] == [people[1]["id"]]
    # Entra ID removes a member with a value list, not a filter: only that one goes.
    scim.patch(path, {"op": "add", "path": "members", "value": [{"value": people[2]["id"]}]})
    removed = scim.patch(
        path, {"op": "Remove", "path": "members", "value": [{"value": people[2]["id"]}]}
    )
    assert [m["value"] for m in removed.json()["members"]] == [people[1]["id"]]
    user = scim.get(f"/Users/{people[1]['id']}").json()
    assert {"value": group["id"], "display": name} in user["groups"]
    by_member = scim.get("/Groups", filter=f'members.value eq "{people[1]["id"]}"')
    assert group["id"] in _ids(by_member)
    renamed = scim.patch(path, {"op": "replace", "value": {"displayName": f"{name} 2"}})
    assert renamed.json()["displayName"] == f"{name} 2"
    listed = scim.get("/Groups", filter=f'displayName eq "{name} 2"', excludedAttributes="members")
    assert [g.get("members") for g in listed.json()["Resources"]] == [None]
    _error(
        scim.post("/Groups", {"schemas": [GROUP], "displayName": f"{name} 2"}), 409, "uniqueness"
    )
    unknown = scim.patch(
        path, {"op": "add", "path": "members", "value": [{"value": str(uuid.uuid4())}]}
    )
    _error(unknown, 400, "invalidValue", "members")
    assert scim.delete(path).status_code == 204
    _error(scim.get(path), 404)


def test_a_group_mapped_to_a_team_and_a_role(client: Any, scim: Scim) -> None:
    admin = scim.tenant.admin.headers
    team = client.post("/v1/teams", headers=admin, json={"name": f"T {uuid.uuid4().hex[:6]}"})
    assert team.status_code == 201, team.text
    group = scim.post(
        "/Groups", {"schemas": [GROUP], "displayName": f"Agents {uuid.uuid4().hex[:6]}"}
    ).json()
    mapped = client.put(
        f"/v1/scim/groups/{group['id']}/mapping",
        headers=admin,
        json={"team_id": team.json()["id"], "role": "agent"},
    )
    assert mapped.status_code == 200, mapped.text
    person = scim.user()
    member = client.get(f"/v1/users/{person['id']}", headers=admin).json()
    assert member["role"] == "requester"  # the default role
    scim.patch(
        f"/Groups/{group['id']}",
        {"op": "add", "path": "members", "value": [{"value": person["id"]}]},
    )
    member = client.get(f"/v1/users/{person['id']}", headers=admin).json()
    assert member["role"] == "agent"
    detail = client.get(f"/v1/teams/{team.json()['id']}", headers=admin).json()
    assert person["id"] in [m["user_id"] for m in detail["members"]]
    scim.patch(f"/Groups/{group['id']}", {"op": "replace", "path": "members", "value": []})
    member = client.get(f"/v1/users/{person['id']}", headers=admin).json()
    assert member["role"] == "requester"
    detail = client.get(f"/v1/teams/{team.json()['id']}", headers=admin).json()
    assert person["id"] not in [m["user_id"] for m in detail["members"]]


def test_an_unmapped_group_never_changes_the_desks_role(client: Any, scim: Scim) -> None:
    admin = scim.tenant.admin.headers
    agent = scim.tenant.members["agent"]
    # The agent was a member before SCIM: provisioning them keeps their role.
    person = scim.post("/Users", {"schemas": [USER], "userName": agent.email}).json()
    assert person["id"] == agent.user_id
    group = scim.post(
        "/Groups",
        {
            "schemas": [GROUP],
            "displayName": f"Plain {uuid.uuid4().hex[:6]}",
            "members": [{"value": person["id"]}],
        },
    )
    assert group.status_code == 201
    assert client.get(f"/v1/users/{agent.user_id}", headers=admin).json()["role"] == "agent"


# --- auth, isolation, discovery, events -----------------------------------------------


def test_tokens_missing_wrong_or_revoked_are_401(client: Any) -> None:
    other = make_tenant(client, roles=())
    token = enable(client, other)
    ok = client.get("/scim/v2/Users", headers={"Authorization": f"Bearer {token}"})
    assert ok.status_code == 200
    _error(client.get("/scim/v2/Users"), 401)
    _error(client.get("/scim/v2/Users", headers={"Authorization": "Bearer nope"}), 401)
    # A desk access token is no SCIM token.
    _error(client.get("/scim/v2/Users", headers=other.admin.headers), 401)
    rotated = client.post("/v1/scim/token", headers=other.admin.headers).json()["token"]
    _error(client.get("/scim/v2/Users", headers={"Authorization": f"Bearer {token}"}), 401)
    assert (
        client.get("/scim/v2/Users", headers={"Authorization": f"Bearer {rotated}"}).status_code
        == 200
    )
    assert client.delete("/v1/scim/token", headers=other.admin.headers).status_code == 204
    _error(client.get("/scim/v2/Users", headers={"Authorization": f"Bearer {rotated}"}), 401)


def test_a_token_lapses_with_its_makers_admin_rights(client: Any) -> None:
    """The token acts as the admin who made it: demoted (or deactivated), the token answers
    401 until another admin rotates it."""
    other = make_tenant(client, roles=("admin",))
    second = other.members["admin"]
    enable(client, other)  # the first admin's token; the second admin's replaces it
    token = client.post("/v1/scim/token", headers=second.headers).json()["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.get("/scim/v2/Users", headers=bearer).status_code == 200
    version = client.get(f"/v1/users/{second.user_id}", headers=other.admin.headers).json()
    demoted = client.patch(
        f"/v1/users/{second.user_id}",
        headers={**other.admin.headers, "If-Match": f'"{version["version"]}"'},
        json={"role": "agent"},
    )
    assert demoted.status_code == 200, demoted.text
    _error(client.get("/scim/v2/Users", headers=bearer), 401)
    rotated = client.post("/v1/scim/token", headers=other.admin.headers).json()["token"]
    assert (
        client.get("/scim/v2/Users", headers={"Authorization": f"Bearer {rotated}"}).status_code
        == 200
    )


def test_the_token_is_shown_once_and_stored_hashed(client: Any, org: Any) -> None:
    settings = client.get("/v1/scim/settings", headers=org.admin.headers).json()
    assert "token" not in str(settings.get("token") or {}).lower() or settings["token"]["prefix"]
    stored = owner_rows(
        "SELECT token_hash, token_prefix FROM scim_configs WHERE tenant_id = %s", org.tenant_id
    )
    assert len(stored[0][0]) == 32 and stored[0][1].startswith("scim_")
    assert settings["base_url"].endswith("/scim/v2")


def test_tenant_a_never_sees_tenant_b(
    client: Any, scim: Scim, people: list[dict[str, Any]]
) -> None:
    other = make_tenant(client, roles=())
    theirs = Scim(client, enable(client, other), other)
    assert _ids(theirs.get("/Users")) == []
    assert theirs.get(f"/Users/{people[0]['id']}").status_code == 404
    assert (
        theirs.patch(
            f"/Users/{people[0]['id']}", {"op": "replace", "path": "active", "value": False}
        ).status_code
        == 404
    )
    assert theirs.delete(f"/Users/{people[0]['id']}").status_code == 404
    assert _ids(theirs.get("/Users", filter=f'userName eq "{people[0]["userName"]}"')) == []
    # The same person may be provisioned in B: one identity, two memberships.
    again = theirs.post("/Users", {"schemas": [USER], "userName": people[0]["userName"]})
    assert again.status_code == 201 and again.json()["id"] == people[0]["id"]
    assert scim.get(f"/Users/{people[0]['id']}").json()["name"]["givenName"] == "Alan"


def test_only_admins_manage_scim(client: Any, org: Any) -> None:
    agent = org.members["agent"].headers
    assert client.get("/v1/scim/settings", headers=agent).status_code == 403
    assert client.post("/v1/scim/token", headers=agent).status_code == 403
    assert client.get("/v1/scim/groups", headers=agent).status_code == 403


def test_discovery_documents(scim: Scim) -> None:
    config = scim.get("/ServiceProviderConfig").json()
    assert config["patch"]["supported"] and config["filter"]["supported"]
    assert config["etag"]["supported"] and not config["bulk"]["supported"]
    types = scim.get("/ResourceTypes").json()
    assert {t["id"] for t in types["Resources"]} == {"User", "Group"}
    assert scim.get("/ResourceTypes/user").json()["endpoint"] == "/Users"
    found = scim.get("/Schemas").json()
    assert {s["id"] for s in found["Resources"]} == {USER, GROUP}
    assert scim.get(f"/Schemas/{USER}").json()["name"] == "User"
    _error(scim.get("/Schemas/urn:nope"), 404)


def test_provisioning_writes_outbox_events(scim: Scim) -> None:
    person = scim.user()
    scim.patch(f"/Users/{person['id']}", {"op": "replace", "path": "active", "value": False})
    kinds = [
        r[0]
        for r in owner_rows(
            "SELECT event_type FROM outbox WHERE aggregate_id = %s ORDER BY seq", person["id"]
        )
    ]
    assert kinds[0] == "scim.user.provisioned"
    assert "scim.user.deactivated" in kinds and "session.revoked" not in kinds[:1]


def test_the_rate_limit_answers_429_in_scim_format(client: Any, monkeypatch: Any) -> None:
    from tests.conftest import reset_caches

    other = make_tenant(client, roles=())
    token = enable(client, other)
    monkeypatch.setenv("SERVICEDESK_SCIM_REQUESTS_PER_MINUTE", "2")
    reset_caches()
    try:
        headers = {"Authorization": f"Bearer {token}"}
        for _attempt in range(2):  # a minute may turn between the requests: then once more
            answers = [client.get("/scim/v2/Users", headers=headers) for _ in range(3)]
            if answers[2].status_code == 429:
                break
    finally:
        monkeypatch.delenv("SERVICEDESK_SCIM_REQUESTS_PER_MINUTE")
        reset_caches()
    assert [a.status_code for a in answers[:2]] != [429, 429]
    _error(answers[2], 429)
    assert int(answers[2].headers["Retry-After"]) >= 1


def test_every_scim_route_refuses_without_its_token_and_across_tenants(
    app: Any, client: Any, scim: Scim, people: list[dict[str, Any]]
) -> None:
    """Walks every /scim/v2 route: no token, a desk access token and a bad token are 401 in
    SCIM's format; another tenant's token reaches none of this tenant's ids (404)."""
    import re

    from servicedesk.platform.app import api_routes

    other = make_tenant(client, roles=())
    theirs = enable(client, other)
    group = scim.post("/Groups", {"schemas": [GROUP], "displayName": f"W {uuid.uuid4().hex}"})
    ids = {"name": "User", "schema_id": USER}
    walked = 0
    for route in api_routes(app):
        if not route.path.startswith("/scim/v2"):
            continue
        for method in sorted(route.methods or ()):
            ids["resource_id"] = people[0]["id"] if "/Users/" in route.path else group.json()["id"]
            url = re.sub(r"\{(\w+)\}", lambda m: ids[m.group(1)], route.path)
            body = {
                "schemas": [USER if "Users" in url else GROUP, PATCH],
                "Operations": [{"op": "replace", "path": "displayName", "value": "x"}],
            }
            for headers in (
                {},
                {"Authorization": "Bearer scim_not-a-token"},
                scim.tenant.admin.headers,
            ):
                answer = client.request(method, url, headers=headers, json=body)
                _error(answer, 401)
                assert answer.headers["WWW-Authenticate"].startswith("Bearer")
            if "{resource_id}" in route.path:
                crossed = client.request(
                    method, url, headers={"Authorization": f"Bearer {theirs}"}, json=body
                )
                _error(crossed, 404)
            walked += 1
    assert walked == 17
    assert scim.get(f"/Users/{people[0]['id']}").status_code == 200
