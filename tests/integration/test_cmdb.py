"""The CMDB through the API on the real database: classes and attribute schemas, CIs and
their lifecycle, history, relationships and their cycle rules, ticket and user links,
impact over a hand-built graph (exact sets), roles and tenant isolation of every route."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import text

from servicedesk.platform import db
from tests.conftest import make_tenant

pytestmark = pytest.mark.usefixtures("client")


@pytest.fixture(scope="module")
def org(client):
    return make_tenant(client, roles=("agent", "manager", "requester"))


@pytest.fixture(scope="module")
def other(client):
    return make_tenant(client, roles=("manager",))


def _h(org, role: str) -> dict[str, str]:
    return org.members[role].headers


def _classes(client, org) -> dict[str, dict[str, Any]]:
    got = client.get("/v1/ci-classes", headers=_h(org, "manager"))
    assert got.status_code == 200, got.text
    return {c["key"]: c for c in got.json()["items"]}


def _ci(client, org, name: str | None = None, cls: str = "hardware", **body) -> dict[str, Any]:
    class_id = _classes(client, org)[cls]["id"]
    made = client.post(
        "/v1/cis",
        headers=_h(org, "manager"),
        json={"class_id": class_id, "name": name or f"ci-{uuid.uuid4().hex[:8]}", **body},
    )
    assert made.status_code == 201, made.text
    return dict(made.json())


def _relate(client, org, source: str, rel: str, target: str) -> Any:
    return client.post(
        f"/v1/cis/{source}/relationships",
        headers=_h(org, "manager"),
        json={"type": rel, "target_id": target},
    )


def _ticket(client, org) -> dict[str, Any]:
    made = client.post(
        "/v1/tickets",
        headers=_h(org, "requester"),
        json={"title": "Mail is down", "description": "nothing arrives"},
    )
    assert made.status_code == 201, made.text
    return dict(made.json())


def test_builtin_classes_and_a_tenant_class_with_its_schema(client, org):
    keys = list(_classes(client, org))
    assert keys[:5] == [
        "hardware",
        "software",
        "network_device",
        "cloud_resource",
        "business_service",
    ]
    bad = client.post(
        "/v1/ci-classes",
        headers=_h(org, "manager"),
        json={"key": "printer", "name": "Printer", "attributes_schema": {"type": "array"}},
    )
    assert bad.status_code == 422
    assert "attributes_schema.type" in {e["field"] for e in bad.json()["errors"]}
    made = client.post(
        "/v1/ci-classes",
        headers=_h(org, "manager"),
        json={
            "key": "printer",
            "name": "Printer",
            "attributes_schema": {
                "type": "object",
                "properties": {
                    "ppm": {"type": "integer", "minimum": 1},
                    "colour": {"type": "boolean"},
                },
                "required": ["ppm"],
                "additionalProperties": False,
            },
        },
    )
    assert made.status_code == 201, made.text
    assert made.json()["builtin"] is False
    dup = client.post(
        "/v1/ci-classes",
        headers=_h(org, "manager"),
        json={"key": "printer2", "name": "PRINTER"},
    )
    assert dup.status_code == 409 and dup.json()["errors"][0]["field"] == "name"
    refused = client.post(
        "/v1/cis",
        headers=_h(org, "manager"),
        json={"class_id": made.json()["id"], "name": "P1", "attributes": {"ppm": 0, "x": 1}},
    )
    assert refused.status_code == 422
    assert {e["field"] for e in refused.json()["errors"]} == {"attributes.ppm", "attributes.x"}
    ok = _ci(client, org, "P1", cls="printer", attributes={"ppm": 30})
    assert ok["attributes"] == {"ppm": 30}
    # A class in use is not deleted; a built-in one never.
    in_use = client.delete(f"/v1/ci-classes/{made.json()['id']}", headers=_h(org, "manager"))
    assert in_use.status_code == 409
    builtin = _classes(client, org)["hardware"]["id"]
    assert client.delete(f"/v1/ci-classes/{builtin}", headers=_h(org, "manager")).status_code == 409
    unknown = client.post(
        "/v1/cis",
        headers=_h(org, "manager"),
        json={"class_id": str(uuid.uuid4()), "name": "X"},
    )
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "class_id"


def test_lifecycle_transitions_history_and_versions(client, org):
    ci = _ci(client, org, external_id=f"ext-{uuid.uuid4().hex[:6]}")
    url, h = f"/v1/cis/{ci['id']}", _h(org, "manager")
    assert ci["state"] == "ordered" and ci["version"] == 1
    assert client.patch(url, headers=h, json={"state": "in_stock"}).status_code == 428
    stale = client.patch(url, headers={**h, "If-Match": '"7"'}, json={"state": "in_stock"})
    assert stale.status_code == 412
    jump = client.patch(url, headers={**h, "If-Match": '"1"'}, json={"state": "deployed"})
    assert jump.status_code == 422 and jump.json()["errors"][0]["field"] == "state"
    version = 1
    for state in ("in_stock", "deployed", "in_repair", "deployed", "retired", "disposed"):
        moved = client.patch(url, headers={**h, "If-Match": f'"{version}"'}, json={"state": state})
        assert moved.status_code == 200, moved.text
        version = moved.json()["version"]
        assert moved.headers["ETag"] == f'"{version}"'
    final = client.patch(url, headers={**h, "If-Match": f'"{version}"'}, json={"state": "in_stock"})
    assert final.status_code == 422
    named = client.patch(
        url,
        headers={**h, "If-Match": f'"{version}"'},
        json={"name": "Renamed", "attributes": {"cpu": 4}, "location": "DC1"},
    )
    assert named.status_code == 200, named.text
    history = client.get(f"{url}/history?limit=100", headers=_h(org, "agent")).json()["items"]
    fields = [(e["field"], e["old_value"], e["new_value"]) for e in history]
    assert fields[:3] == [
        ("attributes.cpu", None, 4),
        ("location", "", "DC1"),
        ("name", ci["name"], "Renamed"),
    ] or set(fields[:3]) == {
        ("attributes.cpu", None, 4),
        ("location", "", "DC1"),
        ("name", ci["name"], "Renamed"),
    }
    states = [(e["old_value"], e["new_value"]) for e in history if e["field"] == "state"]
    assert states[::-1] == [
        ("ordered", "in_stock"),
        ("in_stock", "deployed"),
        ("deployed", "in_repair"),
        ("in_repair", "deployed"),
        ("deployed", "retired"),
        ("retired", "disposed"),
    ]
    assert all(e["actor_id"] == org.members["manager"].user_id for e in history)
    # The external id is unique per tenant.
    dup = client.post(
        "/v1/cis",
        headers=h,
        json={"class_id": ci["class_id"], "name": "dup", "external_id": ci["external_id"]},
    )
    assert dup.status_code == 409 and dup.json()["errors"][0]["field"] == "external_id"


def test_cycles_are_refused_for_acyclic_types_only(client, org):
    a, b, c = (_ci(client, org)["id"] for _ in range(3))
    for rel in ("depends_on", "runs_on", "contains"):
        assert _relate(client, org, a, rel, b).status_code == 201
        assert _relate(client, org, b, rel, c).status_code == 201
        cycle = _relate(client, org, c, rel, a)
        assert cycle.status_code == 422, cycle.text
        assert cycle.json()["errors"][0]["field"] == "target_id"
    # Another type does not count towards the cycle; connected_to may loop.
    assert _relate(client, org, c, "used_by", a).status_code == 201
    assert _relate(client, org, a, "connected_to", b).status_code == 201
    assert _relate(client, org, b, "connected_to", a).status_code == 201
    selfie = _relate(client, org, a, "connected_to", a)
    assert selfie.status_code == 422 and selfie.json()["errors"][0]["field"] == "target_id"
    again = _relate(client, org, a, "depends_on", b)
    assert again.status_code == 409
    rels = client.get(f"/v1/cis/{a}/relationships", headers=_h(org, "agent")).json()["items"]
    assert len(rels) == 6  # 3 acyclic out, used_by in, connected_to out and in
    first = rels[0]["id"]
    gone = client.delete(f"/v1/cis/{a}/relationships/{first}", headers=_h(org, "manager"))
    assert gone.status_code == 204


def test_impact_over_a_hand_built_graph(client, org):
    # mail (service) depends_on exchange runs_on vm1 runs_on host; web (service)
    # depends_on exchange; backup depends_on host; host contains disk.
    n = {
        name: _ci(client, org, f"{name}-{uuid.uuid4().hex[:4]}", cls=cls)
        for name, cls in [
            ("mail", "business_service"),
            ("web", "business_service"),
            ("exchange", "software"),
            ("vm1", "cloud_resource"),
            ("host", "hardware"),
            ("backup", "software"),
            ("disk", "hardware"),
        ]
    }
    for s, rel, t in [
        ("mail", "depends_on", "exchange"),
        ("web", "depends_on", "exchange"),
        ("exchange", "runs_on", "vm1"),
        ("vm1", "runs_on", "host"),
        ("backup", "depends_on", "host"),
        ("host", "contains", "disk"),
    ]:
        assert _relate(client, org, n[s]["id"], rel, n[t]["id"]).status_code == 201
    by_id = {v["id"]: k for k, v in n.items()}
    ticket = _ticket(client, org)
    linked = client.post(
        f"/v1/tickets/{ticket['id']}/cis",
        headers=_h(org, "agent"),
        json={"ci_id": n["vm1"]["id"]},
    )
    assert linked.status_code == 201, linked.text

    def impact(name: str, direction: str, depth: int = 5) -> dict[str, Any]:
        got = client.get(
            f"/v1/cis/{n[name]['id']}/impact?direction={direction}&depth={depth}",
            headers=_h(org, "agent"),
        )
        assert got.status_code == 200, got.text
        return dict(got.json())

    up = impact("host", "up")
    assert {by_id[r["ci"]["id"]]: r["depth"] for r in up["cis"]} == {
        "vm1": 1,
        "backup": 1,
        "exchange": 2,
        "mail": 3,
        "web": 3,
    }
    assert {by_id[r["ci"]["id"]] for r in up["services"]} == {"mail", "web"}
    assert [t["id"] for t in up["tickets"]] == [ticket["id"]]
    assert up["tickets"][0]["ci_id"] == n["vm1"]["id"]
    shallow = impact("host", "up", 2)
    assert {by_id[r["ci"]["id"]] for r in shallow["cis"]} == {"vm1", "backup", "exchange"}
    assert shallow["services"] == []
    down = impact("mail", "down")
    assert {by_id[r["ci"]["id"]]: r["depth"] for r in down["cis"]} == {
        "exchange": 1,
        "vm1": 2,
        "host": 3,
        "disk": 4,
    }
    both = impact("vm1", "both", 1)
    assert {by_id[r["ci"]["id"]] for r in both["cis"]} == {"exchange", "host"}
    for bad in ("depth=0", "depth=11", "direction=sideways"):
        refused = client.get(f"/v1/cis/{n['vm1']['id']}/impact?{bad}", headers=_h(org, "agent"))
        assert refused.status_code == 422, bad
        assert refused.json()["errors"][0]["field"] == bad.split("=")[0]
    affected = client.get(f"/v1/tickets/{ticket['id']}/affected-services", headers=_h(org, "agent"))
    assert affected.status_code == 200, affected.text
    assert {by_id[r["ci"]["id"]]: r["depth"] for r in affected.json()["services"]} == {
        "mail": 2,
        "web": 2,
    }
    cis = client.get(f"/v1/tickets/{ticket['id']}/cis", headers=_h(org, "agent")).json()
    assert [c["id"] for c in cis["items"]] == [n["vm1"]["id"]]
    on_ci = client.get(f"/v1/cis/{n['vm1']['id']}/tickets", headers=_h(org, "agent")).json()
    assert [t["ticket_id"] for t in on_ci["items"]] == [ticket["id"]]
    unlinked = client.delete(
        f"/v1/tickets/{ticket['id']}/cis/{n['vm1']['id']}", headers=_h(org, "agent")
    )
    assert unlinked.status_code == 204
    assert impact("host", "up")["tickets"] == []


def test_impact_is_cycle_safe(client, org):
    a, b, c = (_ci(client, org)["id"] for _ in range(3))
    for s, t in [(a, b), (b, c), (c, a)]:
        assert _relate(client, org, s, "connected_to", t).status_code == 201
    got = client.get(f"/v1/cis/{a}/impact?direction=both&depth=10", headers=_h(org, "agent"))
    assert got.status_code == 200
    assert {r["ci"]["id"]: r["depth"] for r in got.json()["cis"]} == {b: 1, c: 1}


def test_list_filters_and_pages(client, org):
    tag = uuid.uuid4().hex[:6]
    made = [
        _ci(
            client, org, f"{tag}-{i}", cls="network_device" if i % 2 else "software", location="DC9"
        )
        for i in range(5)
    ]
    h = _h(org, "agent")
    page = client.get(f"/v1/cis?q={tag}&limit=2", headers=h).json()
    assert [c["name"] for c in page["items"]] == [f"{tag}-0", f"{tag}-1"]
    rest = client.get(f"/v1/cis?q={tag}&limit=10&cursor={page['next_cursor']}", headers=h).json()
    assert [c["name"] for c in rest["items"]] == [f"{tag}-{i}" for i in (2, 3, 4)]
    net = _classes(client, org)["network_device"]["id"]
    only = client.get(f"/v1/cis?q={tag}&class_id={net}", headers=h).json()["items"]
    assert {c["id"] for c in only} == {made[1]["id"], made[3]["id"]}
    assert client.get("/v1/cis?state=bogus", headers=h).status_code == 422


def test_user_links(client, org):
    ci = _ci(client, org)
    url = f"/v1/cis/{ci['id']}/users"
    agent = org.members["agent"].user_id
    assert client.post(url, headers=_h(org, "agent"), json={"user_id": agent}).status_code == 403
    made = client.post(url, headers=_h(org, "manager"), json={"user_id": agent})
    assert made.status_code == 201, made.text
    bad = client.post(url, headers=_h(org, "manager"), json={"user_id": str(uuid.uuid4())})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "user_id"
    items = client.get(url, headers=_h(org, "agent")).json()["items"]
    assert [u["user_id"] for u in items] == [agent]
    assert client.delete(f"{url}/{agent}", headers=_h(org, "manager")).status_code == 204


def test_roles_on_every_route(client, org):
    ci = _ci(client, org)
    ticket = _ticket(client, org)
    cls = _classes(client, org)["hardware"]
    rid = str(uuid.uuid4())
    reads = [
        "/v1/ci-classes",
        f"/v1/ci-classes/{cls['id']}",
        "/v1/cis",
        f"/v1/cis/{ci['id']}",
        f"/v1/cis/{ci['id']}/history",
        f"/v1/cis/{ci['id']}/relationships",
        f"/v1/cis/{ci['id']}/tickets",
        f"/v1/cis/{ci['id']}/users",
        f"/v1/cis/{ci['id']}/impact",
        f"/v1/tickets/{ticket['id']}/cis",
        f"/v1/tickets/{ticket['id']}/affected-services",
    ]
    for url in reads:
        assert client.get(url, headers=_h(org, "requester")).status_code == 403, url
        assert client.get(url, headers=_h(org, "agent")).status_code == 200, url
    manager_writes = [
        ("post", "/v1/ci-classes", {"key": "k", "name": "n"}),
        ("patch", f"/v1/ci-classes/{cls['id']}", {"name": "n"}),
        ("delete", f"/v1/ci-classes/{cls['id']}", None),
        ("post", "/v1/cis", {"class_id": cls["id"], "name": "n"}),
        ("patch", f"/v1/cis/{ci['id']}", {"name": "n"}),
        ("delete", f"/v1/cis/{ci['id']}", None),
        ("post", f"/v1/cis/{ci['id']}/relationships", {"type": "depends_on", "target_id": rid}),
        ("delete", f"/v1/cis/{ci['id']}/relationships/{rid}", None),
        ("post", f"/v1/cis/{ci['id']}/users", {"user_id": rid}),
        ("delete", f"/v1/cis/{ci['id']}/users/{rid}", None),
    ]
    for method, url, body in manager_writes:
        for role in ("requester", "agent"):
            kwargs = {"json": body} if body is not None else {}
            got = getattr(client, method)(url, headers=_h(org, role), **kwargs)
            assert got.status_code == 403, (method, url, role)
            assert got.headers["content-type"].startswith("application/problem+json")
    for method, url, body in [
        ("post", f"/v1/tickets/{ticket['id']}/cis", {"ci_id": ci["id"]}),
        ("delete", f"/v1/tickets/{ticket['id']}/cis/{ci['id']}", None),
    ]:
        kwargs = {"json": body} if body is not None else {}
        assert (
            getattr(client, method)(url, headers=_h(org, "requester"), **kwargs).status_code == 403
        )
        assert getattr(client, method)(url, headers=_h(org, "agent"), **kwargs).status_code in (
            201,
            204,
        )


def test_tenant_b_sees_none_of_tenant_a(client, org, other):
    ci = _ci(client, org)
    peer = _ci(client, org)
    assert _relate(client, org, ci["id"], "depends_on", peer["id"]).status_code == 201
    ticket = _ticket(client, org)
    h = _h(other, "manager")
    for url in (
        f"/v1/cis/{ci['id']}",
        f"/v1/cis/{ci['id']}/history",
        f"/v1/cis/{ci['id']}/relationships",
        f"/v1/cis/{ci['id']}/impact",
        f"/v1/cis/{ci['id']}/tickets",
        f"/v1/cis/{ci['id']}/users",
        f"/v1/ci-classes/{ci['class_id']}",
        f"/v1/tickets/{ticket['id']}/cis",
        f"/v1/tickets/{ticket['id']}/affected-services",
    ):
        assert client.get(url, headers=h).status_code == 404, url
    assert (
        client.patch(
            f"/v1/cis/{ci['id']}", headers={**h, "If-Match": '"1"'}, json={"name": "x"}
        ).status_code
        == 404
    )
    assert client.delete(f"/v1/cis/{ci['id']}", headers=h).status_code == 404
    own = _ci(client, other)
    cross = _relate(client, other, own["id"], "depends_on", ci["id"])
    assert cross.status_code == 422 and cross.json()["errors"][0]["field"] == "target_id"
    listed = client.get("/v1/cis?limit=100", headers=h).json()["items"]
    assert [c["id"] for c in listed] == [own["id"]]
    foreign_link = client.post(
        f"/v1/tickets/{ticket['id']}/cis", headers=h, json={"ci_id": own["id"]}
    )
    assert foreign_link.status_code == 404


def test_events_go_through_the_outbox(client, org):
    ci = _ci(client, org)
    peer = _ci(client, org)
    rel = _relate(client, org, ci["id"], "runs_on", peer["id"]).json()
    client.patch(
        f"/v1/cis/{ci['id']}", headers={**_h(org, "manager"), "If-Match": '"1"'}, json={"name": "n"}
    )
    client.delete(f"/v1/cis/{ci['id']}/relationships/{rel['id']}", headers=_h(org, "manager"))
    client.delete(f"/v1/cis/{ci['id']}", headers=_h(org, "manager"))
    with db.transaction() as session:
        db.set_tenant(session, tenant_id=uuid.UUID(org.tenant_id), user_id=None)
        rows = session.execute(
            text("SELECT event_type FROM outbox WHERE aggregate_id = :id ORDER BY created_at, seq"),
            {"id": ci["id"]},
        ).scalars()
        found = list(rows)
    assert found == [
        "ci.created",
        "ci.relationship.created",
        "ci.updated",
        "ci.relationship.deleted",
        "ci.deleted",
    ]


def _import(client, org, body: bytes | str, query: str = "", role: str = "manager") -> Any:
    data = body.encode() if isinstance(body, str) else body
    return client.post(
        f"/v1/cis/import{query}",
        headers={**_h(org, role), "Content-Type": "text/csv"},
        content=data,
    )


def test_import_dry_run_reports_every_row_and_writes_nothing(client, org):
    tag = uuid.uuid4().hex[:6]
    owner = org.members["agent"].email
    csv_text = (
        "external_id,name,class,state,owner_email,attr.cpu\r\n"
        f"{tag}-1,Server one,hardware,deployed,{owner},8\r\n"
        f"{tag}-2,,hardware,,,\r\n"
        f"{tag}-1,Again,hardware,,,\r\n"
        f"{tag}-3,Three,nope,flying,nobody@x.example,\r\n"
        f"{tag}-4,Four,hardware\r\n"
        "\r\n"
    )
    got = _import(client, org, csv_text, "?dry_run=true")
    assert got.status_code == 200, got.text
    report = got.json()
    assert (report["rows"], report["created"], report["failed"], report["written"]) == (
        5,
        1,
        4,
        False,
    )
    assert {(e["row"], e["field"]) for e in report["errors"]} == {
        (3, "name"),
        (4, "external_id"),
        (5, "class"),
        (5, "state"),
        (5, "owner_email"),
        (6, "row"),
    }
    assert client.get(f"/v1/cis?q={tag}-1", headers=_h(org, "agent")).json()["items"] == []
    # Without a dry run: all or nothing.
    refused = _import(client, org, csv_text)
    assert refused.status_code == 422
    assert "rows.3.name" in {e["field"] for e in refused.json()["errors"]}
    assert client.get(f"/v1/cis?q={tag}-1", headers=_h(org, "agent")).json()["items"] == []
    partial = _import(client, org, csv_text, "?partial=true")
    assert partial.status_code == 200, partial.text
    assert (partial.json()["created"], partial.json()["written"]) == (1, True)
    made = client.get(f"/v1/cis?q={tag}-1", headers=_h(org, "agent")).json()["items"]
    assert [(c["name"], c["state"], c["attributes"]) for c in made] == [
        ("Server one", "deployed", {"cpu": "8"})
    ]


def test_import_headers_encoding_and_idempotent_reimport(client, org):
    assert _import(client, org, "name,class\r\nx,hardware\r\n").status_code == 422
    wrong = _import(client, org, "external_id,name,class,colour\r\n")
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "header.4"
    latin = _import(
        client, org, "external_id,name,class\r\ncaf\xe9,Caf\xe9,hardware\r\n".encode("latin-1")
    )
    assert latin.status_code == 422 and latin.json()["errors"][0]["field"] == "file"
    assert _import(client, org, "external_id,name,class\n", role="agent").status_code == 403
    tag = uuid.uuid4().hex[:6]
    first = f"external_id,name,class,location\r\n{tag}-a,{tag}A,software,DC1\r\n{tag}-b,{tag}B,software,DC1\r\n"
    done = _import(client, org, "\ufeff" + first)
    assert done.status_code == 200, done.text
    assert (done.json()["created"], done.json()["updated"]) == (2, 0)
    again = _import(client, org, first).json()
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 2)
    moved = _import(
        client, org, first.replace("DC1\r\n" + f"{tag}-b", "DC2\r\n" + f"{tag}-b")
    ).json()
    assert (moved["created"], moved["updated"], moved["unchanged"]) == (0, 1, 1)
    a = client.get(f"/v1/cis?q={tag}-a", headers=_h(org, "agent")).json()["items"][0]
    assert a["location"] == "DC2" and a["version"] == 2
    history = client.get(f"/v1/cis/{a['id']}/history", headers=_h(org, "agent")).json()["items"]
    assert [(e["field"], e["old_value"], e["new_value"]) for e in history] == [
        ("location", "DC1", "DC2")
    ]
    # A lifecycle move the rules refuse fails its row.
    bad = _import(client, org, f"external_id,name,class,state\r\n{tag}-a,A,software,disposed\r\n")
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "rows.2.state"
    exported = client.get(f"/v1/cis/export?q={tag}", headers=_h(org, "agent"))
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    lines = exported.text.strip().splitlines()
    assert lines[0].startswith("external_id,name,class,state")
    assert len(lines) == 3
    round_trip = _import(client, org, exported.content).json()
    assert (round_trip["created"], round_trip["updated"], round_trip["unchanged"]) == (0, 0, 2)


def test_export_neutralises_formulas(client, org):
    tag = uuid.uuid4().hex[:6]
    _ci(client, org, f"{tag}x", external_id=f"{tag}-f", location="=HYPERLINK(1)")
    exported = client.get(f"/v1/cis/export?q={tag}", headers=_h(org, "agent")).text
    assert "'=HYPERLINK(1)" in exported


def test_discovery_upserts_cis_and_relationships_in_one_transaction(client, org):
    tag = uuid.uuid4().hex[:6]
    inventory = {
        "source": "inventory-script",
        "cis": [
            {
                "external_id": f"{tag}-svc",
                "name": f"{tag} service",
                "class_key": "business_service",
            },
            {"external_id": f"{tag}-app", "name": f"{tag} app", "class_key": "software"},
            {"external_id": f"{tag}-vm", "name": f"{tag} vm", "class_key": "cloud_resource"},
        ],
        "relationships": [
            {"source": f"{tag}-svc", "type": "depends_on", "target": f"{tag}-app"},
            {"source": f"{tag}-app", "type": "runs_on", "target": f"{tag}-vm"},
        ],
    }
    h = _h(org, "manager")
    assert (
        client.post("/v1/cis/discovery", headers=_h(org, "agent"), json=inventory).status_code
        == 403
    )
    first = client.post("/v1/cis/discovery", headers=h, json=inventory)
    assert first.status_code == 200, first.text
    assert first.json() == {
        "created": 3,
        "updated": 0,
        "unchanged": 0,
        "relationships_created": 2,
        "relationships_existing": 0,
    }
    again = client.post("/v1/cis/discovery", headers=h, json=inventory).json()
    assert (again["unchanged"], again["relationships_existing"]) == (3, 2)
    vm = client.get(f"/v1/cis?q={tag}-vm", headers=h).json()["items"][0]
    assert vm["state"] == "deployed"
    impact = client.get(f"/v1/cis/{vm['id']}/impact", headers=h).json()
    assert [s["ci"]["name"] for s in impact["services"]] == [f"{tag} service"]
    # A cycle refuses the whole inventory: the new CI in it is not written either.
    bad = {
        "source": "inventory-script",
        "cis": [{"external_id": f"{tag}-new", "name": "new", "class_key": "hardware"}],
        "relationships": [{"source": f"{tag}-vm", "type": "runs_on", "target": f"{tag}-app"}],
    }
    refused = client.post("/v1/cis/discovery", headers=h, json=bad)
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["field"] == "relationships.0.target"
    assert client.get(f"/v1/cis?q={tag}-new", headers=h).json()["items"] == []
    unknown = client.post(
        "/v1/cis/discovery",
        headers=h,
        json={
            "source": "s",
            "cis": [{"external_id": "x", "name": "x", "class_key": "nope"}],
            "relationships": [{"source": "x", "type": "depends_on", "target": "missing"}],
        },
    )
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "cis.0.class_key"
