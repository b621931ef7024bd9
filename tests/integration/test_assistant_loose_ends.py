"""The assistant (issue 18 loose ends): a ticket its create_ticket tool opens says so in the
timeline ("created" with channel "assistant"); a turn's tool calls are audited in one
statement however many there are (it was one INSERT per call)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event

from tests.conftest import TenantFixture, make_tenant
from tests.integration.test_assistant import BASE, llm, owner_rows
from tests.llm_server import Reply, ScriptedLLM

__all__ = ["llm"]
pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")


@pytest.fixture
def org(client: Any, llm: ScriptedLLM) -> TenantFixture:
    llm._script.clear()
    return make_tenant(client, roles=("agent", "requester"))


def test_a_ticket_the_assistant_opened_says_so_in_its_timeline(client, org, llm):
    requester, agent = org.members["requester"], org.members["agent"]
    llm.script(
        Reply(tool_calls=[("create_ticket", {"title": "Laptop fan loud", "description": "x"})]),
        Reply(text="Opened."),
    )
    response = client.post(BASE, headers=requester.headers, json={"message": "fan noise"})
    assert response.status_code == 201, response.text
    ticket_id = response.json()["ticket_id"]
    for actor in (requester, agent):
        events = client.get(f"/v1/tickets/{ticket_id}/events", headers=actor.headers)
        assert events.status_code == 200, events.text
        created = [e for e in events.json()["items"] if e["type"] == "created"]
        assert len(created) == 1 and created[0]["payload"]["channel"] == "assistant"
    # A ticket opened in the portal says "web".
    other = client.post("/v1/tickets", headers=requester.headers, json={"title": "By hand"})
    events = client.get(f"/v1/tickets/{other.json()['id']}/events", headers=requester.headers)
    assert [e["payload"]["channel"] for e in events.json()["items"] if e["type"] == "created"] == [
        "web"
    ]


def test_a_turns_tool_calls_are_audited_in_one_statement(client, org, llm):
    from servicedesk.platform.db import get_engine

    requester = org.members["requester"]
    calls: list[tuple[str, dict[str, Any] | str]] = [
        ("list_my_tickets", {}),
        ("search_knowledge_base", {"query": "printer", "limit": 3}),
        ("list_my_tickets", {"status": "new"}),
        ("get_ticket_status", {"number": "NOPE-1"}),  # an error is audited too
    ]
    llm.script(Reply(tool_calls=calls), Reply(text="Done."))
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(get_engine(), "before_cursor_execute", count)
    try:
        response = client.post(BASE, headers=requester.headers, json={"message": "status?"})
    finally:
        event.remove(get_engine(), "before_cursor_execute", count)
    assert response.status_code == 201, response.text
    audits = [s for s in statements if s.lstrip().startswith("INSERT INTO audit_log")]
    assert len(audits) == 1, audits
    rows = owner_rows(
        "SELECT data FROM audit_log WHERE tenant_id = %s AND action = 'assistant.tool_call'"
        " ORDER BY id",
        org.tenant_id,
    )
    assert [(r[0]["tool"], r[0]["outcome"]) for r in rows] == [
        ("list_my_tickets", "ok"),
        ("search_knowledge_base", "ok"),
        ("list_my_tickets", "ok"),
        ("get_ticket_status", "error"),
    ]
