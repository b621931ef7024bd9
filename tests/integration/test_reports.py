"""Reports over real tickets: made through the API, their moments set in SQL (a DST week in
Europe/Paris), the facts rebuilt from source, every figure hand-computed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from servicedesk.reports import cache
from servicedesk.reports.rebuild import rebuild_tenant
from tests.conftest import Actor, TenantFixture, make_tenant

PARIS = "Europe/Paris"  # CET (+1) until 2026-03-29 01:00 UTC, then CEST (+2)


def Z(text: str) -> datetime:
    return datetime.fromisoformat(text + "+00:00")


@pytest.fixture(scope="module")
def desk(client: Any) -> TenantFixture:
    return make_tenant(client, roles=("agent", "manager", "requester"))


def _ticket(client: Any, actor: Actor, title: str = "Printer") -> dict[str, Any]:
    response = client.post(
        "/v1/tickets", json={"title": title, "priority": "high"}, headers=actor.headers
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def _move(client: Any, actor: Actor, ticket: dict[str, Any], *statuses: str) -> None:
    for to in statuses:
        moved = client.post(
            f"/v1/tickets/{ticket['id']}/transitions", json={"to": to}, headers=actor.headers
        )
        assert moved.status_code == 200, moved.text


def _reply(client: Any, actor: Actor, ticket: dict[str, Any], visibility: str = "public") -> None:
    made = client.post(
        f"/v1/tickets/{ticket['id']}/comments",
        json={"body": "Looking", "visibility": visibility},
        headers=actor.headers,
    )
    assert made.status_code == 201, made.text


def _at(database: Any, ticket: dict[str, Any], created: datetime, statuses: list[datetime]) -> None:
    """Move the ticket's creation and its status changes (in order) to these moments; its
    public replies to one hour after creation (and first_response_at with them)."""
    with database.connect("owner") as conn:
        conn.execute("UPDATE tickets SET created_at = %s WHERE id = %s", (created, ticket["id"]))
        ids = [
            r[0]
            for r in conn.execute(
                "SELECT id FROM ticket_events WHERE ticket_id = %s"
                " AND type IN ('status_changed', 'reopened') ORDER BY id",
                (ticket["id"],),
            )
        ]
        assert len(ids) == len(statuses)
        for event_id, moment in zip(ids, statuses, strict=True):
            conn.execute(
                "UPDATE ticket_events SET created_at = %s WHERE id = %s", (moment, event_id)
            )
        conn.execute(
            "UPDATE ticket_comments SET created_at = %s + interval '1 hour' WHERE ticket_id = %s",
            (created, ticket["id"]),
        )
        conn.execute(
            "UPDATE tickets SET first_response_at = %s + interval '1 hour'"
            " WHERE id = %s AND first_response_at IS NOT NULL",
            (created, ticket["id"]),
        )
        conn.commit()


@pytest.fixture(scope="module")
def week(client: Any, database: Any, desk: TenantFixture) -> dict[str, dict[str, Any]]:
    """A: created Fri 27 Mar 10:00Z, one public reply, resolved Mon 30 Mar 08:00Z.
    B: created Sat 28 Mar 23:30Z (Sun 29 00:30 in Paris), resolved Sun 10:00Z, reopened
    Sun 12:00Z, resolved Tue 31 09:00Z, closed Wed 1 Apr (not a second resolution).
    C: created Mon 30 Mar 09:00Z, merged into A (counts in created only)."""
    requester, agent = desk.members["requester"], desk.members["agent"]
    a, b, c = (_ticket(client, requester, t) for t in ("A", "B", "C"))
    _reply(client, agent, a)
    _reply(client, agent, b, "internal")
    _move(client, agent, a, "in_progress", "resolved")
    _move(client, agent, b, "in_progress", "resolved", "open", "resolved", "closed")
    merged = client.post(
        f"/v1/tickets/{c['id']}/merge", json={"target_id": a["id"]}, headers=agent.headers
    )
    assert merged.status_code == 200, merged.text
    _at(database, a, Z("2026-03-27T10:00:00"), [Z("2026-03-27T11:00:00"), Z("2026-03-30T08:00:00")])
    _at(
        database,
        b,
        Z("2026-03-28T23:30:00"),
        [
            Z("2026-03-29T00:00:00"),
            Z("2026-03-29T10:00:00"),
            Z("2026-03-29T12:00:00"),
            Z("2026-03-31T09:00:00"),
            Z("2026-04-01T09:00:00"),
        ],
    )
    _at(database, c, Z("2026-03-30T09:00:00"), [Z("2026-03-30T10:00:00")])
    import uuid

    rebuild_tenant(uuid.UUID(desk.tenant_id))
    cache.clear()
    return {"a": a, "b": b, "c": c}


def _report(client: Any, actor: Actor, name: str, **params: Any) -> dict[str, Any]:
    response = client.get(f"/v1/reports/{name}", params=params, headers=actor.headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def _by_day(result: dict[str, Any], *keys: str) -> dict[str, tuple[Any, ...]]:
    return {r["bucket"]: tuple(r["values"][k] for k in keys) for r in result["rows"]}


def test_volume_per_local_day_across_the_dst_change(
    client: Any, desk: TenantFixture, week: Any
) -> None:
    manager = desk.members["manager"]
    paris = _report(
        client, manager, "volume", since="2026-03-27", until="2026-03-31", tz=PARIS, interval="day"
    )
    assert _by_day(paris, "created", "resolved", "reopened") == {
        "2026-03-27": (1, 0, 0),
        "2026-03-28": (0, 0, 0),
        "2026-03-29": (1, 1, 1),
        "2026-03-30": (1, 1, 0),
        "2026-03-31": (0, 1, 0),
    }
    assert paris["totals"] == {"created": 3, "resolved": 3, "reopened": 1}
    assert paris["since"].startswith("2026-03-26T23:00:00")  # 27 Mar 00:00 CET
    assert paris["until"].startswith("2026-03-31T22:00:00")  # 1 Apr 00:00 CEST
    utc = _report(client, manager, "volume", since="2026-03-28", until="2026-03-28", tz="UTC")
    assert utc["rows"][0]["values"]["created"] == 1  # B is Saturday's in UTC


def test_resolution_and_first_response_times(client: Any, desk: TenantFixture, week: Any) -> None:
    manager = desk.members["manager"]
    res = _report(
        client, manager, "resolution-time", since="2026-03-27", until="2026-04-05", tz=PARIS
    )
    # A: 27 Mar 10:00 -> 30 Mar 08:00 = 70 h; B (closed now): last resolution 31 Mar 09:00,
    # from 28 Mar 23:30 = 57.5 h. No calendar: business = wall (24x7).
    totals = res["totals"]
    assert totals["count"] == 2
    assert totals["median_wall"] == (70 + 57.5) / 2 * 3600
    assert totals["mean_business"] == totals["mean_wall"] == (70 + 57.5) / 2 * 3600
    frt = _report(
        client, manager, "first-response-time", since="2026-03-27", until="2026-03-31", tz=PARIS
    )
    assert frt["totals"]["count"] == 1 and frt["totals"]["median_business"] == 3600.0
    one = _report(client, manager, "one-touch", since="2026-03-27", until="2026-04-05", tz=PARIS)
    assert one["totals"] == {"resolved": 2, "one_touch": 1, "ratio": 0.5}  # B was reopened
    rate = _report(client, manager, "reopen-rate", since="2026-03-27", until="2026-03-31", tz=PARIS)
    assert rate["totals"] == {"reopened": 1, "resolved": 3, "ratio": pytest.approx(1 / 3)}


def test_backlog_at_the_end_of_each_day(client: Any, desk: TenantFixture, week: Any) -> None:
    manager = desk.members["manager"]
    log = _report(
        client, manager, "backlog", since="2026-03-27", until="2026-04-01", tz=PARIS, interval="day"
    )
    # End of 27: A open. 28: A (B created 29 local). 29: A, B (B reopened). 30: B (A resolved,
    # C merged: never counted). 31: none. 1 Apr: none.
    assert _by_day(log, "open") == {
        "2026-03-27": (1,),
        "2026-03-28": (1,),
        "2026-03-29": (2,),
        "2026-03-30": (1,),
        "2026-03-31": (0,),
        "2026-04-01": (0,),
    }


def test_catalogue_and_roles(client: Any, desk: TenantFixture, week: Any) -> None:
    listed = client.get("/v1/reports", headers=desk.members["manager"].headers)
    assert listed.status_code == 200
    names = {r["name"] for r in listed.json()}
    assert {"volume", "backlog", "sla-compliance", "csat", "agent-performance"} <= names
    for role in ("requester", "agent"):
        headers = desk.members[role].headers
        for path in ("/v1/reports", "/v1/reports/volume", "/v1/reports/dashboard"):
            assert client.get(path, headers=headers).status_code == 403, (role, path)
    assert client.get("/v1/reports/volume", headers=desk.admin.headers).status_code == 200


def test_another_tenant_sees_none_of_these_numbers(
    client: Any, desk: TenantFixture, week: Any
) -> None:
    other = make_tenant(client, roles=("manager",))
    theirs = _report(
        client, other.members["manager"], "volume", since="2026-03-27", until="2026-03-31", tz=PARIS
    )
    assert theirs["totals"] == {"created": 0, "resolved": 0, "reopened": 0}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"since": "2026-03-02", "until": "2026-03-01"}, "until"),
        ({"since": "2024-01-01", "until": "2026-03-01"}, "until"),
        ({"tz": "Mars/Olympus"}, "tz"),
        ({"group_by": "type"}, "group_by"),
        ({"group_by": "colour"}, "group_by"),
        ({"interval": "hour"}, "interval"),
        ({"since": "yesterday"}, "since"),
        ({"teamid": "x"}, "teamid"),
    ],
)
def test_bad_parameters_name_the_field(
    client: Any, desk: TenantFixture, params: dict[str, str], field: str
) -> None:
    response = client.get(
        "/v1/reports/volume", params=params, headers=desk.members["manager"].headers
    )
    assert response.status_code == 422, response.text
    assert field in {e["field"] for e in response.json()["errors"]}, response.json()


def test_csv_has_a_row_per_bucket(client: Any, desk: TenantFixture, week: Any) -> None:
    import csv
    import io

    response = client.get(
        "/v1/reports/volume",
        params={
            "since": "2026-03-27",
            "until": "2026-03-29",
            "tz": PARIS,
            "interval": "day",
            "format": "csv",
        },
        headers=desk.members["manager"].headers,
    )
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["bucket", "group_id", "group", "created", "resolved", "reopened"]
    assert rows[1:] == [
        ["2026-03-27", "", "", "1", "0", "0"],
        ["2026-03-28", "", "", "0", "0", "0"],
        ["2026-03-29", "", "", "1", "1", "1"],
    ]
