"""Issue 19 point 7: every report number's drilldown, followed through ``GET /v1/tickets``
(paged to the end), lists exactly the tickets it counts.

A seeded tenant (tests/reports/dataset.py: reopens, merges, reassignments, SLA targets,
CSAT) and a second one in the same span (RLS). For every report of the catalogue and
several shapes (total, interval, each grouping, filters), each row's and the totals'
drilldowns:

- a count of tickets (created, open, the durations' count, one-touch): the list has that
  many tickets;
- a count of moments (resolutions, reopens, SLA targets met, surveys): every listed ticket
  has at least one such moment in the drilldown's range, and their moments add up to the
  count (read from the source tables as the owner).

An agent following a drilldown sees the manager's list less what the visibility rule
keeps from them.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from servicedesk.reports import rebuild
from tests.conftest import TestDatabase, login
from tests.reports import dataset

TODAY = datetime.now(UTC).date()
SPAN = 120
SHAPE = dataset.Shape(
    tickets=300,
    seed=77,
    start=datetime(TODAY.year, TODAY.month, TODAY.day, tzinfo=UTC) - timedelta(days=SPAN),
    days=SPAN,
    horizon=datetime.now(UTC) - timedelta(minutes=5),
)
OTHER = dataset.Shape(
    tickets=120,
    seed=78,
    start=SHAPE.start,
    days=SPAN,
    horizon=SHAPE.horizon,
)
# Measures that count moments rather than tickets, and the source that holds them.
MOMENTS = {
    ("volume", "resolved"),
    ("volume", "reopened"),
    ("reopen-rate", "resolved"),
    ("reopen-rate", "reopened"),
    ("agent-performance", "handled"),
    ("csat", "sent"),
    ("csat", "answered"),
    ("agent-performance", "csat_count"),
}


@dataclass
class Seeded:
    people: dataset.People
    other: dataset.People
    headers: dict[str, str]
    conn: Any
    lists: dict[tuple[tuple[str, str], ...], list[str]]


def _headers(client: Any, email: str, slug: str) -> dict[str, str]:
    response = login(client, email, dataset.PASSWORD, tenant=slug)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture(scope="module")
def seeded(database: TestDatabase, client: Any) -> Iterator[Seeded]:
    with database.connect("owner") as conn:
        people = dataset.seed(conn, SHAPE)
        other = dataset.seed(conn, OTHER)
        conn.commit()
    rebuild.rebuild_tenant(people.tenant_id)
    rebuild.rebuild_tenant(other.tenant_id)
    conn = database.connect("owner")
    yield Seeded(people, other, _headers(client, people.manager_email, people.slug), conn, lists={})
    conn.close()


def follow(client: Any, headers: dict[str, str], drill: dict[str, str]) -> list[str]:
    """Every ticket id of the list, paging to the end."""
    query: list[tuple[str, str]] = []
    for key, value in drill.items():
        query += [(key, v) for v in value.split(",")]
    ids: list[str] = []
    cursor: str | None = None
    while True:
        page = query + [("limit", "100")] + ([("cursor", cursor)] if cursor else [])
        response = client.get("/v1/tickets", params=page, headers=headers)
        assert response.status_code == 200, (drill, response.text)
        body = response.json()
        ids += [t["id"] for t in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            return ids


def _cached(client: Any, seeded: Seeded, drill: dict[str, str]) -> list[str]:
    key = tuple(sorted(drill.items()))
    if key not in seeded.lists:
        seeded.lists[key] = follow(client, seeded.headers, drill)
    return seeded.lists[key]


def moments(conn: Any, report: str, measure: str, drill: dict[str, str], ids: list[str]) -> int:
    """The moments the measure counts on these tickets in the drilldown's range."""
    p: dict[str, Any] = {"ids": [uuid.UUID(i) for i in ids]}
    if measure in ("resolved", "handled", "reopened"):
        prefix = "reopen" if measure == "reopened" else "resolution"
        p.update(a=drill[f"{prefix}_after"], b=drill[f"{prefix}_before"])
        p["kind"] = "reopened" if measure == "reopened" else "resolved"
        sql = (
            "SELECT count(*) FROM report_events WHERE ticket_id = ANY(:ids) AND kind = :kind"
            " AND at >= CAST(:a AS timestamptz) AND at < CAST(:b AS timestamptz)"
        )
        if "resolved_by" in drill:
            sql += " AND agent_id = CAST(:agent AS uuid)"
            p["agent"] = drill["resolved_by"]
        return _scalar(conn, sql, p)
    column = "sent_at" if measure == "sent" else "answered_at"
    prefix = "csat_sent" if measure == "sent" else "csat_answered"
    p.update(a=drill[f"{prefix}_after"], b=drill[f"{prefix}_before"])
    return _scalar(
        conn,
        f"SELECT count(*) FROM csat_surveys WHERE ticket_id = ANY(:ids) AND {column} >= "
        f"CAST(:a AS timestamptz) AND {column} < CAST(:b AS timestamptz)",
        p,
    )


def sla_targets(conn: Any, drill: dict[str, str], ids: list[str]) -> int:
    sql = (
        "SELECT count(*) FROM ticket_sla_targets WHERE ticket_id = ANY(:ids)"
        " AND met_at >= CAST(:a AS timestamptz) AND met_at < CAST(:b AS timestamptz)"
        + (" AND breached_at IS NULL" if drill["sla_outcome"] == "on_time" else "")
        + (" AND breached_at IS NOT NULL" if drill["sla_outcome"] == "late" else "")
    )
    p: dict[str, Any] = {
        "ids": [uuid.UUID(i) for i in ids],
        "a": drill["sla_met_after"],
        "b": drill["sla_met_before"],
    }
    if "sla_target" in drill:
        sql += " AND target = :target"
        p["target"] = drill["sla_target"]
    if "sla_policy_id" in drill:
        sql += " AND policy_id = CAST(:policy AS uuid)"
        p["policy"] = drill["sla_policy_id"]
    return _scalar(conn, sql, p)


def _rows(conn: Any, sql: str, p: dict[str, Any]) -> list[Any]:
    """``:name`` parameters on the owner's psycopg connection."""
    return list(conn.execute(re.sub(r"(?<!:):(\w+)", r"%(\1)s", sql), p).fetchall())


def _scalar(conn: Any, sql: str, p: dict[str, Any]) -> int:
    return int(_rows(conn, sql, p)[0][0])


def shapes(people: dataset.People) -> list[dict[str, str]]:
    since = (SHAPE.start + timedelta(days=1)).date().isoformat()
    until = TODAY.isoformat()
    whole = {"since": since, "until": until}
    return [
        {**whole, "tz": "UTC"},
        {**whole, "tz": "Europe/Paris", "interval": "month"},
        {**whole, "tz": "America/New_York", "group_by": "team"},
        {**whole, "tz": "UTC", "group_by": "agent"},
        {**whole, "tz": "Asia/Kolkata", "group_by": "category"},
        {**whole, "tz": "UTC", "group_by": "priority"},
        {**whole, "tz": "UTC", "group_by": "channel"},
        {
            **whole,
            "tz": "Europe/Paris",
            "interval": "month",
            "team_id": str(people.teams[0]),
            "priority": "high",
        },
        {**whole, "tz": "UTC", "channel": "email", "assignee_id": str(people.agents[0])},
        {
            "since": (TODAY - timedelta(days=20)).isoformat(),
            "until": TODAY.isoformat(),
            "tz": "America/St_Johns",
            "interval": "week",
        },
    ]


def _entries(body: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    for row in body["rows"]:
        yield f"row {row['bucket']} {row['group']}", row["values"], row["drilldowns"]
    yield "totals", body["totals"], body["totals_drilldowns"]


def test_every_drilldown_lists_what_its_number_counts(client: Any, seeded: Seeded) -> None:
    catalogue = client.get("/v1/reports", headers=seeded.headers).json()
    names = [r["name"] for r in catalogue]
    assert len(names) >= 9
    checked: dict[str, int] = {}
    nonzero = repeated = 0
    failures: list[str] = []
    tenant_ids = _tenant_ids(seeded)
    for info in catalogue:
        name = info["name"]
        for shape in shapes(seeded.people):
            query = dict(shape)
            if name == "agent-performance":
                query.pop("interval", None)
                query.pop("group_by", None)
            elif query.get("group_by") not in (None, *info["group_by"]):
                continue
            response = client.get(f"/v1/reports/{name}", params=query, headers=seeded.headers)
            assert response.status_code == 200, (name, query, response.text)
            body = response.json()
            for where, values, drills in _entries(body):
                for measure, drill in drills.items():
                    ids = _cached(client, seeded, drill)
                    assert len(set(ids)) == len(ids)
                    assert set(ids) <= tenant_ids, "another tenant's ticket"
                    count = values[measure]
                    if name == "sla-compliance":
                        got = sla_targets(seeded.conn, drill, ids)
                    elif (name, measure) in MOMENTS:
                        got = moments(seeded.conn, name, measure, drill, ids)
                    else:
                        got = len(ids)
                    nonzero += bool(count)
                    repeated += (name, measure) in MOMENTS and len(ids) < count
                    if got != count or (count == 0 and ids):
                        failures.append(f"{name} {query} {where} {measure}: {got} != {count}")
                    checked[name] = checked.get(name, 0) + 1
    assert not failures, "\n".join(failures[:30])
    # Every report gave drilldowns.
    assert set(checked) == set(names), checked
    assert nonzero > 500, nonzero
    assert repeated > 0  # some ticket counted twice in a row (resolved twice): listed once


def test_every_count_row_has_a_drilldown(client: Any, seeded: Seeded) -> None:
    """The rows' first count links (agent-performance's replies do not); backlog's past
    periods by the moment they end (``open_at``), the period ending now by status."""
    for name in ("volume", "first-response-time", "resolution-time", "one-touch", "csat"):
        body = client.get(
            f"/v1/reports/{name}",
            params={"tz": "Europe/Paris", "interval": "week", "group_by": "team"},
            headers=seeded.headers,
        ).json()
        assert body["rows"]
        assert all(r["drilldown"] for r in body["rows"]), name
    backlog = client.get(
        "/v1/reports/backlog", params={"interval": "week"}, headers=seeded.headers
    ).json()
    assert backlog["rows"][-1]["drilldown"]["status"] == "new,open,in_progress,pending"
    assert all("open_at" in r["drilldowns"]["open"] for r in backlog["rows"][:-1])
    assert backlog["totals_drilldowns"]["open"]["status"] == "new,open,in_progress,pending"


def _tenant_ids(seeded: Seeded) -> set[str]:
    rows = _rows(
        seeded.conn,
        "SELECT id::text FROM tickets WHERE tenant_id = :t",
        {"t": seeded.people.tenant_id},
    )
    return {r[0] for r in rows}


def test_a_drilldown_never_lists_another_tenants_tickets(client: Any, seeded: Seeded) -> None:
    """The other tenant has tickets in the same span; its manager following this tenant's
    drilldowns sees only its own, and this tenant's team is nobody's there."""
    other = _headers(client, seeded.other.manager_email, seeded.other.slug)
    mine = _tenant_ids(seeded)
    body = client.get(
        "/v1/reports/volume",
        params={"since": SHAPE.start.date().isoformat(), "group_by": "team"},
        headers=seeded.headers,
    ).json()
    for row in body["rows"]:
        ids = follow(client, other, row["drilldowns"]["created"])
        assert not set(ids) & mine
        if row["group"]["id"] is not None:
            assert ids == []


def _visible_to(seeded: Seeded, agent: uuid.UUID, ids: list[str]) -> set[str]:
    """The visibility rule of tickets/visibility.py, restated: their teams', no team,
    assigned to them, or taking part."""
    rows = _rows(
        seeded.conn,
        (
            "SELECT t.id::text FROM tickets t WHERE t.id = ANY(:ids) AND (t.team_id IS NULL"
            " OR t.assignee_id = :a OR t.team_id IN (SELECT team_id FROM team_members"
            " WHERE user_id = :a AND active) OR EXISTS (SELECT 1 FROM ticket_participants p"
            " WHERE p.ticket_id = t.id AND p.user_id = :a))"
        ),
        {"ids": [uuid.UUID(i) for i in ids], "a": agent},
    )
    return {r[0] for r in rows}


def test_an_agent_following_a_drilldown_sees_only_what_they_may(
    client: Any, seeded: Seeded
) -> None:
    agent = seeded.people.agents[0]
    index = seeded.people.agents.index(agent) + 1
    headers = _headers(
        client, f"agent{index}-{seeded.people.slug}@dataset.example", seeded.people.slug
    )
    body = client.get(
        "/v1/reports/resolution-time",
        params={"since": SHAPE.start.date().isoformat(), "interval": "month"},
        headers=seeded.headers,
    ).json()
    hidden = 0
    for row in body["rows"]:
        drill = row["drilldowns"]["count"]
        everything = follow(client, seeded.headers, drill)
        theirs = follow(client, headers, drill)
        assert set(theirs) == _visible_to(seeded, agent, everything)
        hidden += len(everything) - len(theirs)
    assert hidden > 0  # the rule kept something from them


@pytest.mark.parametrize("tz", ["UTC", "Europe/Paris"])
def test_every_dashboard_number_drills_down(client: Any, seeded: Seeded, tz: str) -> None:
    """Each tile and slice that shows a count lists that many tickets (resolutions: their
    moments add up); the median and the score list the tickets they are computed over."""
    board = client.get("/v1/reports/dashboard", params={"tz": tz}, headers=seeded.headers)
    assert board.status_code == 200, board.text
    body = board.json()
    tiles = {t["key"]: t for t in body["tiles"]}
    assert all(t["drilldown"] for t in tiles.values()), tiles
    for key in ("open", "unassigned", "created_today", "sla_at_risk", "sla_breached"):
        assert len(follow(client, seeded.headers, tiles[key]["drilldown"])) == tiles[key]["value"]
    resolved = tiles["resolved_today"]["drilldown"]
    ids = follow(client, seeded.headers, resolved)
    assert (
        moments(seeded.conn, "volume", "resolved", resolved, ids)
        == tiles["resolved_today"]["value"]
    )
    week = client.get(
        "/v1/reports/first-response-time",
        # The dashboard's 7 days end on the zone's today (not UTC's: from 23:00 UTC,
        # Paris is a day ahead).
        params={
            "tz": tz,
            "since": (datetime.now(ZoneInfo(tz)).date() - timedelta(days=6)).isoformat(),
        },
        headers=seeded.headers,
    ).json()
    median = tiles["median_first_response_7d"]["drilldown"]
    assert len(follow(client, seeded.headers, median)) == week["totals"]["count"]
    for part in ("backlog_by_priority", "backlog_by_team"):
        assert body[part]
        for s in body[part]:
            assert len(follow(client, seeded.headers, s["drilldown"])) == s["value"], s
    for day in body["created_vs_resolved"]:
        assert len(follow(client, seeded.headers, day["drilldown"])) == day["created"]
        drill = day["resolved_drilldown"]
        ids = follow(client, seeded.headers, drill)
        assert moments(seeded.conn, "volume", "resolved", drill, ids) == day["resolved"]


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("team_id", "nobody"),
        ("merged", "maybe"),
        ("resolved_after", "yesterday"),
        ("sla_outcome", "soon"),
        ("sla_target", "x"),
        ("channel", "fax"),
        ("one_touch", "perhaps"),
        ("resolved_by", "me"),
        ("open_at", "yesterday"),
    ],
)
def test_bad_drill_filters_are_422_naming_the_field(
    client: Any, seeded: Seeded, param: str, value: str
) -> None:
    response = client.get("/v1/tickets", params={param: value}, headers=seeded.headers)
    assert response.status_code == 422, response.text
    assert param in response.text


def test_no_team_and_no_category_are_filters(client: Any, seeded: Seeded) -> None:
    for param, column in (("team_id", "team_id"), ("category_id", "category_id")):
        ids = follow(client, seeded.headers, {param: "none"})
        want = _scalar(
            seeded.conn,
            f"SELECT count(*) FROM tickets WHERE tenant_id = :t AND {column} IS NULL",
            {"t": seeded.people.tenant_id},
        )
        assert len(ids) == want > 0
