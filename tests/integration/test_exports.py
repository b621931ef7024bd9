"""Exports: the ticket list and the SLA compliance report as CSV (RFC 4180, formula-safe)
or JSON, streamed in keyset pages, bounded, under the list's own visibility rule."""

from __future__ import annotations

import csv
import io
import uuid
from typing import Any

import pytest
from sqlalchemy import event

from servicedesk.platform import csvexport, db
from servicedesk.platform.roles import Role
from servicedesk.platform.tenancy import RequestContext
from servicedesk.tickets import export, queries
from tests.conftest import make_tenant, reset_caches

AWKWARD = [
    'comma, "quoted" title',
    "two\r\nlines\nand more",
    "unicodé ✓ 日本語 🎫",
    '=HYPERLINK("http://evil","x")',
    "+1+2",
    "-2+3",
    "@SUM(A1)",
]


@pytest.fixture(autouse=True)
def fresh_settings() -> Any:
    yield
    reset_caches()


def _set(monkeypatch: Any, name: str, value: str) -> None:
    monkeypatch.setenv(f"SERVICEDESK_{name}", value)
    reset_caches()


@pytest.fixture(scope="module")
def desk(client: Any) -> Any:
    tenant = make_tenant(client, roles=("agent", "requester", "manager"))
    requester = tenant.members["requester"]
    for title in AWKWARD:
        response = client.post("/v1/tickets", json={"title": title}, headers=requester.headers)
        assert response.status_code == 201, response.text
    # A ticket in a team the agent is not in: the agent may not list it, so not export it.
    team = client.post("/v1/teams", json={"name": "Hidden team"}, headers=tenant.admin.headers)
    assert team.status_code == 201, team.text
    hidden = client.post(
        "/v1/tickets", json={"title": "hidden from the agent"}, headers=requester.headers
    )
    assigned = client.post(
        f"/v1/tickets/{hidden.json()['id']}/assign",
        json={"team_id": team.json()["id"]},
        headers=tenant.admin.headers,
    )
    assert assigned.status_code == 200, assigned.text
    return tenant


def _csv(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"].startswith('attachment; filename="tickets-')
    assert response.headers["content-disposition"].endswith('.csv"')
    text = response.content.decode("utf-8")
    assert "\r\n" in text
    return list(csv.DictReader(io.StringIO(text, newline="")))


def _listed(client: Any, actor: Any) -> set[str]:
    response = client.get("/v1/tickets?limit=100", headers=actor.headers)
    assert response.status_code == 200, response.text
    return {t["id"] for t in response.json()["items"]}


def test_csv_round_trips_commas_quotes_newlines_and_unicode(client, desk):
    rows = _csv(client.get("/v1/tickets/export?format=csv", headers=desk.admin.headers))
    assert list(rows[0]) == list(export.COLUMNS)
    titles = {r["title"] for r in rows}
    for title in AWKWARD[:3]:
        assert title in titles


def test_a_cell_starting_a_formula_is_neutralised(client, desk):
    rows = _csv(client.get("/v1/tickets/export?format=csv", headers=desk.admin.headers))
    titles = {r["title"] for r in rows}
    for title in AWKWARD[3:]:
        assert title not in titles
        assert "'" + title in titles
    assert csvexport.neutralise("=1+1") == "'=1+1"
    assert csvexport.neutralise("\r=1") == "'\r=1"
    assert csvexport.neutralise("\tx") == "'\tx"  # titles are stripped; other text is not
    assert csvexport.neutralise("a=1") == "a=1"
    assert csvexport.cell(-3) == -3  # a number is written as a number


def test_json_export_holds_the_same_tickets_as_csv(client, desk):
    as_json = client.get("/v1/tickets/export", headers=desk.admin.headers)
    assert as_json.status_code == 200, as_json.text
    assert as_json.headers["content-type"] == "application/json"
    assert as_json.headers["content-disposition"].endswith('.json"')
    items = as_json.json()["items"]
    as_csv = _csv(client.get("/v1/tickets/export?format=csv", headers=desk.admin.headers))
    assert [i["id"] for i in items] == [r["id"] for r in as_csv]
    assert {i["title"] for i in items} >= set(AWKWARD)  # JSON needs no neutralising


def test_agent_exports_exactly_what_the_agent_may_list(client, desk):
    agent = desk.members["agent"]
    rows = _csv(client.get("/v1/tickets/export?format=csv", headers=agent.headers))
    exported = {r["id"] for r in rows}
    assert exported == _listed(client, agent)
    assert "hidden from the agent" not in {r["title"] for r in rows}
    admin_rows = _csv(client.get("/v1/tickets/export?format=csv", headers=desk.admin.headers))
    assert "hidden from the agent" in {r["title"] for r in admin_rows}


def test_export_applies_the_list_filters_and_sort(client, desk):
    url = "/v1/tickets/export?format=csv&q=unicod%C3%A9"
    rows = _csv(client.get(url, headers=desk.admin.headers))
    assert [r["title"] for r in rows] == [AWKWARD[2]]
    oldest = _csv(
        client.get("/v1/tickets/export?format=csv&sort=created_at", headers=desk.admin.headers)
    )
    newest = _csv(client.get("/v1/tickets/export?format=csv", headers=desk.admin.headers))
    assert [r["id"] for r in oldest] == [r["id"] for r in reversed(newest)]
    bad = client.get("/v1/tickets/export?status=nope", headers=desk.admin.headers)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"].startswith("status")


def test_another_tenant_exports_none_of_these_tickets(client, desk):
    other = make_tenant(client)
    client.post(
        "/v1/tickets", json={"title": "other tenant's"}, headers=other.members["requester"].headers
    )
    rows = _csv(client.get("/v1/tickets/export?format=csv", headers=other.admin.headers))
    assert [r["title"] for r in rows] == ["other tenant's"]


def test_agents_managers_and_admins_may_export_tickets(client, desk):
    for actor in (desk.members["agent"], desk.members["manager"], desk.admin):
        response = client.get("/v1/tickets/export?format=csv", headers=actor.headers)
        assert response.status_code == 200, (actor.role, response.text)


def test_requesters_cannot_export_tickets(client, desk):
    response = client.get("/v1/tickets/export", headers=desk.members["requester"].headers)
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    assert client.get("/v1/tickets/export").status_code == 401


def test_an_export_over_the_row_limit_is_422_naming_the_limit(client, desk, monkeypatch):
    _set(monkeypatch, "EXPORT_MAX_ROWS", "3")
    response = client.get("/v1/tickets/export?format=csv", headers=desk.admin.headers)
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["max_rows"] == 3
    assert body["errors"][0]["field"] == "max_rows"
    narrowed = client.get(
        "/v1/tickets/export?format=csv&q=unicod%C3%A9", headers=desk.admin.headers
    )
    assert len(_csv(narrowed)) == 1


def test_the_export_reads_one_page_at_a_time(client, desk, monkeypatch):
    """The rows come from a generator that queries page by page: after the first row only
    the first page has been read, and each page leaves the session once written."""
    _set(monkeypatch, "EXPORT_PAGE_SIZE", "2")
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "FROM tickets" in statement:
            statements.append(statement)

    engine = db.get_engine()
    event.listen(engine, "before_cursor_execute", count)
    try:
        with db.transaction() as session:
            db.set_tenant(
                session, tenant_id=uuid.UUID(desk.tenant_id), user_id=uuid.UUID(desk.admin.user_id)
            )
            ctx = RequestContext(
                session=session,
                tenant_id=uuid.UUID(desk.tenant_id),
                user_id=uuid.UUID(desk.admin.user_id),
                role=Role.ADMIN,
            )
            rows = export.rows(ctx, queries.TicketFilters(), "-created_at")
            first = next(rows)
            assert len(statements) == 1
            rest = list(rows)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    total = 1 + len(rest)
    assert total == len(AWKWARD) + 1
    assert len(statements) == -(-total // 2)  # one query per page of two
    assert first[export.COLUMNS.index("title")] == "hidden from the agent"


def test_csv_chunks_stream_as_rows_arrive():
    produced: list[int] = []

    def rows() -> Any:
        for i in range(1000):
            produced.append(i)
            yield (i, f"row {i}")

    chunks = csvexport.csv_chunks(("n", "text"), rows())
    first = next(chunks)
    assert first.startswith(b"n,text\r\n0,row 0\r\n")
    assert len(produced) < csvexport.ROWS_PER_CHUNK + 1
    parsed = list(csv.reader(io.StringIO((first + b"".join(chunks)).decode(), newline="")))
    assert len(parsed) == 1001 and parsed[-1] == ["999", "row 999"]


def test_sla_compliance_report_as_csv_or_json(client, desk):
    manager = desk.members["manager"]
    as_json = client.get("/v1/reports/sla-compliance?group_by=priority", headers=manager.headers)
    assert as_json.status_code == 200, as_json.text
    assert as_json.json()["group_by"] == "priority"
    response = client.get(
        "/v1/reports/sla-compliance?group_by=priority&format=csv", headers=manager.headers
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert 'filename="sla-compliance-' in response.headers["content-disposition"]
    parsed = list(csv.reader(io.StringIO(response.content.decode(), newline="")))
    assert parsed[0] == ["priority", "target", "met", "breached", "compliance"]
    assert len(parsed) - 1 == len(as_json.json()["rows"])
    for role in ("agent", "requester"):
        refused = client.get(
            "/v1/reports/sla-compliance?format=csv", headers=desk.members[role].headers
        )
        assert refused.status_code == 403
    bad = client.get("/v1/reports/sla-compliance?format=pdf", headers=manager.headers)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "format"


def test_exports_declare_text_csv_in_openapi(app):
    paths = app.openapi()["paths"]
    for path in ("/v1/tickets/export", "/v1/reports/sla-compliance"):
        content = paths[path]["get"]["responses"]["200"]["content"]
        assert "text/csv" in content and "application/json" in content, path
