"""Issue 19 acceptance: every report over HTTP equals the independent oracle
(tests/reports/oracle.py) on a seeded dataset (tests/reports/dataset.py) that spans the
daylight-saving changes of Europe/Paris and America/New_York, with SLA pauses, reopens,
merges, reassignments and CSAT, for several ranges, time zones, intervals, groupings and
filters. Floats to 1e-6.

The report facts are rebuilt from source (``servicedesk.reports.rebuild``, as the one
command an operator runs), since the dataset is written in bulk, not through the outbox.
"""

from __future__ import annotations

import csv
import io
import math
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from servicedesk.reports import rebuild
from tests.conftest import TestDatabase, login
from tests.reports import dataset
from tests.reports.oracle import Expected, Oracle, Query

REPORTS = (
    "volume",
    "backlog",
    "first-response-time",
    "resolution-time",
    "sla-compliance",
    "reopen-rate",
    "one-touch",
    "csat",
)
TODAY = datetime.now(UTC).date()
SHAPE = dataset.Shape(
    tickets=700,
    seed=2019,
    start=datetime(TODAY.year, TODAY.month, TODAY.day, tzinfo=UTC) - timedelta(days=330),
    days=330,
    horizon=datetime.now(UTC) - timedelta(minutes=5),
)


# The four departures the first comparison found (the creation's 'assigned' payload, the
# backlog of a partial last period, merged tickets' surveys, the 'assistant' channel) are
# fixed (h-fix); each keeps its own test below. The oracle's variants stay for diagnosis.
VARIANTS: frozenset[str] = frozenset()


@dataclass
class Seeded:
    people: dataset.People
    headers: dict[str, str]
    conn: Any

    def oracle(self, variants: frozenset[str] = VARIANTS) -> Oracle:
        return Oracle(self.conn, self.people.tenant_id, datetime.now(UTC), variants=variants)


@pytest.fixture(scope="module")
def seeded(database: TestDatabase, client: Any) -> Iterator[Seeded]:
    with database.connect("owner") as conn:
        people = dataset.seed(conn, SHAPE)
        conn.commit()
    rebuild.rebuild_tenant(people.tenant_id)
    response = login(client, people.manager_email, dataset.PASSWORD, tenant=people.slug)
    assert response.status_code == 200, response.text
    headers = {"Authorization": f"Bearer {response.json()['access_token']}"}
    conn = database.connect("owner")
    yield Seeded(people, headers, conn)
    conn.close()


def _dst_window(zone: str, month_range: tuple[int, int]) -> tuple[date, date]:
    """About five weeks around the first change of ``zone`` in the span whose month is
    inside ``month_range`` (spring: 3-4, autumn: 10-11)."""
    for change in dataset.dst_changes(zone, SHAPE.start, SHAPE.end):
        if month_range[0] <= change.month <= month_range[1]:
            return change.date() - timedelta(days=17), change.date() + timedelta(days=17)
    return SHAPE.start.date(), SHAPE.start.date() + timedelta(days=34)


def queries(people: dataset.People) -> list[Query]:
    whole = (SHAPE.start.date(), TODAY)
    spring = _dst_window("Europe/Paris", (3, 4))
    autumn = _dst_window("America/New_York", (10, 11))
    team, agent, category = people.teams[0], people.agents[0], people.categories[1]
    return [
        Query(*whole, "UTC"),
        Query(*whole, "Europe/Paris", "month"),
        Query(*spring, "Europe/Paris", "day"),
        Query(*spring, "America/New_York", "week", "team"),
        Query(*autumn, "America/New_York", "day"),
        Query(*autumn, "Europe/Paris", "week", "agent"),
        Query(*whole, "America/New_York", "month", "category", {"priority": "high"}),
        Query(*whole, "UTC", None, "priority", {"team_id": str(team)}),
        Query(*whole, "Europe/Paris", None, "channel", {"assignee_id": str(agent)}),
        Query(*spring, "UTC", "week", None, {"category_id": str(category), "channel": "web"}),
        # Half-hour offsets (no whole-UTC-hour boundaries), one of them with its own DST.
        Query(*spring, "America/St_Johns", "day", "priority"),
        Query(*autumn, "Asia/Kolkata", "week"),
    ]


def params(q: Query) -> dict[str, str]:
    out = {"since": q.since.isoformat(), "until": q.until.isoformat(), "tz": q.tz}
    if q.interval:
        out["interval"] = q.interval
    if q.group_by:
        out["group_by"] = q.group_by
    return {**out, **q.filters}


def _same(got: Any, want: Any) -> bool:
    if want is None or got is None:
        return got is None and want is None
    return math.isclose(float(got), float(want), rel_tol=1e-9, abs_tol=1e-6)


def differences(name: str, q: Query, body: dict[str, Any], want: Expected) -> list[tuple[str, str]]:
    """Every cell and total where the API and the oracle disagree (missing cells are zero
    counts and null figures on either side)."""
    units = {m["key"]: m["unit"] for m in body["measures"]}
    zero = {k: (0 if u == "count" else None) for k, u in units.items()}
    got: dict[tuple[date | None, str | None], dict[str, Any]] = {}
    for row in body["rows"]:
        bucket = date.fromisoformat(row["bucket"]) if row["bucket"] else None
        group = row["group"]["id"] if row["group"] else None
        got[(bucket, group)] = row["values"]
        if row["group"] and row["group"]["label"] != want.labels.get(group, row["group"]["label"]):
            return [("label", f"{group}: {row['group']['label']!r} != {want.labels[group]!r}")]
    out = []
    for key in sorted(set(got) | set(want.rows), key=str):
        mine, theirs = want.rows.get(key, zero), got.get(key, zero)
        for measure in sorted(set(mine) & set(units)):
            if not _same(theirs.get(measure, zero[measure]), mine.get(measure)):
                out.append(
                    (measure, f"{key}: api {theirs.get(measure)} oracle {mine.get(measure)}")
                )
    for measure in sorted(set(want.totals) & set(body["totals"])):
        if not _same(body["totals"][measure], want.totals[measure]):
            detail = f"api {body['totals'][measure]} oracle {want.totals[measure]}"
            out.append((f"totals.{measure}", detail))
    return out


def check(
    client: Any, seeded: Seeded, name: str, q: Query, variants: frozenset[str] = VARIANTS
) -> list[tuple[str, str]]:
    response = client.get(f"/v1/reports/{name}", params=params(q), headers=seeded.headers)
    assert response.status_code == 200, (name, q, response.text)
    oracle = seeded.oracle(variants)
    if name == "sla-compliance" and q.group_by is None:
        # The path of the earlier SLA report keeps its default grouping, by policy.
        q = Query(q.since, q.until, q.tz, q.interval, "policy", q.filters)
    return differences(name, q, response.json(), oracle.report(name, q))


def summary(failures: list[tuple[Query, str, str]]) -> str:
    """One line per disagreeing measure: how often, and its first case."""
    first: dict[str, tuple[int, str]] = {}
    for q, measure, detail in failures:
        count, example = first.get(measure, (0, ""))
        where = f"{q.tz} {q.since}..{q.until} {q.interval} {q.group_by} {q.filters}"
        first[measure] = (count + 1, example or f"{where}: {detail}")
    return "\n".join(f"{m}: {n} cells, e.g. {e}" for m, (n, e) in sorted(first.items()))


@pytest.mark.parametrize("name", REPORTS)
def test_report_equals_the_oracle(client: Any, seeded: Seeded, name: str) -> None:
    failures = [
        (q, measure, detail)
        for q in queries(seeded.people)
        for measure, detail in check(client, seeded, name, q)
    ]
    assert not failures, summary(failures)


def test_agent_performance_equals_the_oracle(client: Any, seeded: Seeded) -> None:
    failures = []
    for asked in queries(seeded.people):
        q = Query(asked.since, asked.until, asked.tz, None, "agent", asked.filters)
        failures += [(q, m, d) for m, d in check(client, seeded, "agent-performance", q)]
    assert not failures, summary(failures)


def test_the_dataset_gives_every_report_something_to_count(seeded: Seeded) -> None:
    """The comparison is not between two empty answers."""
    oracle = seeded.oracle(frozenset())
    whole = Query(SHAPE.start.date(), TODAY, "UTC")
    figures = {
        "volume": "reopened",
        "backlog": "open",
        "first-response-time": "count",
        "resolution-time": "count",
        "sla-compliance": "late",
        "reopen-rate": "reopened",
        "one-touch": "one_touch",
        "csat": "answered",
    }
    for name, measure in figures.items():
        assert (oracle.report(name, whole).totals[measure] or 0) > 0, name
    handled = oracle.report("agent-performance", whole)
    assert sum(int(v["handled"] or 0) for v in handled.rows.values()) > 0
    assert uuid.UUID(str(next(iter(handled.rows))[1]))


DASHBOARD_TILES = {
    "open": "open",
    "unassigned": "unassigned_open",
    "created_today": "created_today",
    "resolved_today": "resolved_today",
    "sla_at_risk": "sla_at_risk",
    "sla_breached": "sla_breached",
    "median_first_response_7d": "median_first_response_business_7d",
    "csat_score_30d": "csat_score_30d",
}


@pytest.mark.parametrize("tz", ["UTC", "America/New_York"])
def test_dashboard_equals_the_oracle(client: Any, seeded: Seeded, tz: str) -> None:
    response = client.get("/v1/reports/dashboard", params={"tz": tz}, headers=seeded.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    want = seeded.oracle().dashboard(tz)
    tiles = {t["key"]: t["value"] for t in body["tiles"]}
    wrong = [
        f"{key}: api {tiles.get(key)} oracle {want[mine]}"
        for key, mine in DASHBOARD_TILES.items()
        if not _same(tiles.get(key), want[mine])
    ]
    priorities = {s["id"]: s["value"] for s in body["backlog_by_priority"]}
    teams = {s["id"]: s["value"] for s in body["backlog_by_team"]}
    days = {
        date.fromisoformat(d["day"]): (d["created"], d["resolved"])
        for d in body["created_vs_resolved"]
    }
    if priorities != want["backlog_by_priority"]:
        wrong.append(f"backlog_by_priority: api {priorities} oracle {want['backlog_by_priority']}")
    if teams != want["backlog_by_team"]:
        wrong.append(f"backlog_by_team: api {teams} oracle {want['backlog_by_team']}")
    if days != want["created_vs_resolved"]:
        wrong.append(f"created_vs_resolved: api {days} oracle {want['created_vs_resolved']}")
    assert not wrong, "\n".join(wrong)
    assert want["open"] and want["created_vs_resolved"]


@pytest.mark.parametrize("name", [*REPORTS, "agent-performance"])
def test_csv_round_trips_to_the_json_rows(client: Any, seeded: Seeded, name: str) -> None:
    """The CSV of a report, read back with the csv module, holds the JSON answer's rows."""
    q = queries(seeded.people)[3]  # a DST window, weekly, grouped by team
    asked = params(q)
    if name == "agent-performance":
        asked.pop("interval")
        asked["group_by"] = "agent"
    as_json = client.get(f"/v1/reports/{name}", params=asked, headers=seeded.headers)
    as_csv = client.get(
        f"/v1/reports/{name}", params={**asked, "format": "csv"}, headers=seeded.headers
    )
    assert as_json.status_code == 200 and as_csv.status_code == 200, as_csv.text
    assert as_csv.headers["content-type"].startswith("text/csv")
    body = as_json.json()
    table = list(csv.reader(io.StringIO(as_csv.text)))
    header, lines = table[0], table[1:]
    keys = [m["key"] for m in body["measures"]]
    assert header[-len(keys) :] == keys
    assert len(lines) == len(body["rows"])
    for line, row in zip(lines, body["rows"], strict=True):
        cells = dict(zip(header, line, strict=True))
        for key in keys:
            value = row["values"].get(key)
            text = cells[key]
            assert (text == "") == (value is None), (key, text, value)
            if value is not None:
                assert _same(float(text), value), (key, text, value)


def test_backlog_totals_do_not_depend_on_the_interval(client: Any, seeded: Seeded) -> None:
    """The open backlog at the end of a range that stops mid-week is one number, asked with
    or without weekly buckets (the last bucket ends at the range's end)."""
    since, until = SHAPE.start.date() + timedelta(days=40), SHAPE.start.date() + timedelta(days=73)
    assert until.weekday() != 6  # not a Sunday: the range stops inside a week
    answers = []
    for interval in (None, "week"):
        q = Query(since, until, "Europe/Paris", interval)
        response = client.get("/v1/reports/backlog", params=params(q), headers=seeded.headers)
        assert response.status_code == 200, response.text
        answers.append(response.json())
    plain, weekly = answers
    assert weekly["totals"]["open"] == plain["totals"]["open"]
    assert weekly["rows"][-1]["values"]["open"] == plain["rows"][0]["values"]["open"]


def test_rebuild_reads_assignments_as_the_tickets_service_writes_them(client: Any) -> None:
    """A ticket created with an assignee and reassigned through the API, then the rebuild
    (it failed on the reassignment's payload until h-reports 46dd527)."""
    from tests.conftest import make_tenant

    tenant = make_tenant(client, roles=("agent",))
    admin, agent = tenant.admin, tenant.members["agent"]
    created = client.post(
        "/v1/tickets",
        headers=admin.headers,
        json={"title": "Printer", "description": "jammed", "assignee_id": agent.user_id},
    )
    assert created.status_code == 201, created.text
    ticket = created.json()
    moved = client.post(
        f"/v1/tickets/{ticket['id']}/assign",
        headers=admin.headers,
        json={"assignee_id": admin.user_id, "version": ticket["version"]},
    )
    assert moved.status_code == 200, moved.text
    assert rebuild.rebuild_tenant(uuid.UUID(tenant.tenant_id)) == 1


def test_every_ticket_channel_can_be_a_filter(client: Any, seeded: Seeded) -> None:
    q = Query(SHAPE.start.date(), TODAY, "UTC", None, None, {"channel": "assistant"})
    response = client.get("/v1/reports/volume", params=params(q), headers=seeded.headers)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "name",
    [
        "backlog",
        "csat",
    ],
)
def test_report_follows_the_definitions_exactly(client: Any, seeded: Seeded, name: str) -> None:
    """backlog and csat against the oracle WITHOUT the departures the broad test allows."""
    failures = [
        (q, measure, detail)
        for q in queries(seeded.people)
        for measure, detail in check(client, seeded, name, q, frozenset())
    ]
    assert not failures, summary(failures)


def test_a_ticket_assigned_at_creation_is_handled_by_its_assignee(client: Any) -> None:
    """The smallest case: created with an assignee through the API, resolved, rebuilt."""
    from tests.conftest import make_tenant

    tenant = make_tenant(client, roles=("agent",))
    admin, agent = tenant.admin, tenant.members["agent"]
    created = client.post(
        "/v1/tickets",
        headers=admin.headers,
        json={"title": "VPN", "description": "down", "assignee_id": agent.user_id},
    )
    assert created.status_code == 201, created.text
    ticket = created.json()
    done = client.post(
        f"/v1/tickets/{ticket['id']}/transitions",
        headers=agent.headers,
        json={"to": "resolved", "version": ticket["version"]},
    )
    assert done.status_code == 200, done.text
    rebuild.rebuild_tenant(uuid.UUID(tenant.tenant_id))
    today = datetime.now(UTC).date().isoformat()
    response = client.get(
        "/v1/reports/agent-performance",
        params={"since": today, "until": today},
        headers=admin.headers,
    )
    assert response.status_code == 200, response.text
    rows = {r["group"]["id"]: r["values"] for r in response.json()["rows"]}
    assert rows.get(agent.user_id, {}).get("handled") == 1, rows
