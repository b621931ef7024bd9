"""CSAT surveys end to end: API → outbox → the moto server's SQS → the e-mail consumer (the
same Lambda handler) → the survey row and the caught survey mail; its links answered once,
over the public routes and in the portal; the managers' summary."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.conftest import Actor, TenantFixture, current_database, make_tenant
from tests.integration import test_notifications as notifications
from tests.integration.test_notifications import Wiring, _parts, _ticket

org = notifications.org
wiring = notifications.wiring
LINK = re.compile(r"/csat/([A-Za-z0-9_-]+)\?rating=([1-5])")


def _resolve(client: Any, agent: Actor, ticket: dict[str, Any]) -> None:
    for to in ("in_progress", "resolved"):
        moved = client.post(
            f"/v1/tickets/{ticket['id']}/transitions", json={"to": to}, headers=agent.headers
        )
        assert moved.status_code == 200, moved.text


def _survey_links(wired: Wiring, to: str) -> list[dict[str, str]]:
    """Per caught survey mail to this address: rating -> token, from its plain text."""
    found = []
    for mail in wired.mails(to, "csat.survey"):
        plain, html = _parts(mail)
        links = {rating: token for token, rating in LINK.findall(plain)}
        assert links.keys() == {"1", "2", "3", "4", "5"}, plain
        assert len(set(links.values())) == 1  # one token, the rating only preselects
        for token in links.values():
            assert f"/csat/{token}?rating=5" in html
        found.append(links)
    return found


def _resolved_with_survey(
    client: Any, org: TenantFixture, wiring: Wiring, title: str = "Printer on fire"
) -> tuple[dict[str, Any], str]:
    requester, agent = org.members["requester"], org.members["agent"]
    ticket = _ticket(client, requester, title)
    before = len(wiring.mails(requester.email, "csat.survey"))
    _resolve(client, agent, ticket)
    wiring.drain()
    mails = _survey_links(wiring, requester.email)
    assert len(mails) == before + 1
    return ticket, mails[-1]["5"]


def _count(sql: str, *args: Any) -> int:
    with current_database().connect("owner") as conn:
        return int(conn.execute(sql, args).fetchone()[0])


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return dict(response.json())


def test_resolution_mails_a_survey_whose_link_records_one_rating(client, org, wiring):
    requester, agent = org.members["requester"], org.members["agent"]
    ticket, token = _resolved_with_survey(client, org, wiring)
    mail = wiring.mails(requester.email, "csat.survey")[-1]
    assert ticket["number"] in mail["Subject"]

    # A GET (a mail scanner, or the page) shows the survey and records nothing.
    shown = client.get(f"/v1/csat/{token}")
    assert shown.status_code == 200, shown.text
    assert shown.json()["answered"] is False and shown.json()["number"] == ticket["number"]
    assert (
        _count(
            "SELECT count(*) FROM csat_surveys WHERE answered_at IS NOT NULL AND ticket_id = %s",
            ticket["id"],
        )
        == 0
    )

    answered = client.post(f"/v1/csat/{token}", json={"rating": 4, "comment": "Quick, thanks"})
    assert answered.status_code == 200, answered.text
    assert answered.json()["rating"] == 4 and answered.json()["answered"] is True

    # Reused: 409, and the first answer stays.
    again = client.post(f"/v1/csat/{token}", json={"rating": 1})
    _problem(again, 409)
    assert client.get(f"/v1/csat/{token}").json()["rating"] == 4

    # The agent sees the rating on the ticket, and its timeline says so.
    seen = client.get(f"/v1/tickets/{ticket['id']}/csat", headers=agent.headers)
    assert seen.status_code == 200, seen.text
    assert (seen.json()["rating"], seen.json()["comment"]) == (4, "Quick, thanks")
    events = client.get(f"/v1/tickets/{ticket['id']}/events", headers=agent.headers)
    assert events.status_code == 200, events.text
    kinds = [e["type"] for e in events.json()["items"]]
    assert "csat_rated" in kinds
    # Internal: the requester's timeline does not show it.
    theirs = client.get(f"/v1/tickets/{ticket['id']}/events", headers=requester.headers)
    assert theirs.status_code == 200, theirs.text
    assert "csat_rated" not in [e["type"] for e in theirs.json()["items"]]
    # The outbox carries csat.rated for webhook subscribers.
    assert (
        _count(
            "SELECT count(*) FROM outbox WHERE event_type = 'csat.rated'"
            " AND payload->>'ticket_id' = %s AND (payload->>'rating')::int = 4",
            ticket["id"],
        )
        == 1
    )


def test_redelivered_resolution_sends_no_second_survey(client, org, wiring):
    requester = org.members["requester"]
    ticket, _ = _resolved_with_survey(client, org, wiring)
    wiring.drain()
    assert _count("SELECT count(*) FROM csat_surveys WHERE ticket_id = %s", ticket["id"]) == 1
    # A reopen and a second resolution: a new survey replaces the unanswered first one.
    agent = org.members["agent"]
    reopened = client.post(
        f"/v1/tickets/{ticket['id']}/transitions", json={"to": "open"}, headers=agent.headers
    )
    assert reopened.status_code == 200, reopened.text
    first = _survey_links(wiring, requester.email)[-1]["3"]
    _resolve(client, agent, ticket)
    wiring.drain()
    second = _survey_links(wiring, requester.email)[-1]["3"]
    assert second != first
    _problem(client.post(f"/v1/csat/{first}", json={"rating": 3}), 410)
    assert client.post(f"/v1/csat/{second}", json={"rating": 3}).status_code == 200
    assert (
        _count(
            "SELECT count(*) FROM csat_surveys WHERE ticket_id = %s AND superseded_at IS NULL",
            ticket["id"],
        )
        == 1
    )


def test_forged_expired_and_out_of_range_answers_write_nothing(client, org, wiring):
    ticket, token = _resolved_with_survey(client, org, wiring)
    import base64

    raw = bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    raw[-1] ^= 1  # a bad signature
    forged = base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")
    for bad in (forged, "x", "A" * 200):
        _problem(client.get(f"/v1/csat/{bad}"), 404)
        _problem(client.post(f"/v1/csat/{bad}", json={"rating": 5}), 404)
    _problem(client.get("/v1/csat/" + "A" * 300), 422)
    for rating in (0, 6, "five", None):
        body = _problem(client.post(f"/v1/csat/{token}", json={"rating": rating}), 422)
        assert any("rating" in str(e) for e in body["errors"]), body
    long_comment = {"rating": 5, "comment": "x" * 2001}
    body = _problem(client.post(f"/v1/csat/{token}", json=long_comment), 422)
    assert any("comment" in str(e) for e in body["errors"]), body

    with current_database().connect("owner") as conn:
        conn.execute(
            "UPDATE csat_surveys SET expires_at = now() - interval '1 second' WHERE ticket_id = %s",
            (ticket["id"],),
        )
        conn.commit()
    _problem(client.get(f"/v1/csat/{token}"), 410)
    _problem(client.post(f"/v1/csat/{token}", json={"rating": 5}), 410)
    assert (
        _count(
            "SELECT count(*) FROM csat_surveys WHERE ticket_id = %s AND answered_at IS NOT NULL",
            ticket["id"],
        )
        == 0
    )
    assert (
        _count(
            "SELECT count(*) FROM outbox WHERE event_type = 'csat.rated'"
            " AND payload->>'ticket_id' = %s",
            ticket["id"],
        )
        == 0
    )


def test_portal_answer_by_the_requester_only_and_isolation(client, org, wiring):
    requester, agent = org.members["requester"], org.members["agent"]
    ticket, token = _resolved_with_survey(client, org, wiring)
    path = f"/v1/tickets/{ticket['id']}/csat"
    pending = client.get(path, headers=requester.headers)
    assert pending.status_code == 200 and pending.json()["answered"] is False

    _problem(client.post(path, json={"rating": 5}, headers=agent.headers), 403)
    other = make_tenant(client, roles=("agent", "manager", "requester"))
    for actor in (other.members["agent"], other.members["requester"], other.admin):
        _problem(client.get(path, headers=actor.headers), 404)
        _problem(client.post(path, json={"rating": 1}, headers=actor.headers), 404)

    answered = client.post(path, json={"rating": 2}, headers=requester.headers)
    assert answered.status_code == 200, answered.text
    _problem(client.post(path, json={"rating": 5}, headers=requester.headers), 409)
    _problem(client.post(f"/v1/csat/{token}", json={"rating": 5}), 409)  # the link too
    assert client.get(path, headers=agent.headers).json()["rating"] == 2

    # A ticket with no survey (not resolved): 404.
    fresh = _ticket(client, requester, "Still open")
    _problem(client.get(f"/v1/tickets/{fresh['id']}/csat", headers=requester.headers), 404)


def test_another_requesters_survey_is_not_theirs(client, org, wiring):
    ticket, _ = _resolved_with_survey(client, org, wiring)
    second = notifications._member(client, org, "requester")
    path = f"/v1/tickets/{ticket['id']}/csat"
    _problem(client.get(path, headers=second.headers), 404)
    _problem(client.post(path, json={"rating": 1}, headers=second.headers), 404)


def _set_csat(client: Any, org: TenantFixture, **changes: Any) -> None:
    current = client.get("/v1/settings/csat", headers=org.admin.headers)
    assert current.status_code == 200, current.text
    put = client.put(
        "/v1/settings/csat",
        json={**current.json(), **changes},
        headers={**org.admin.headers, "If-Match": current.headers["ETag"]},
    )
    assert put.status_code == 200, put.text


def test_settings_off_sends_no_survey_and_wording_is_used(client, wiring):
    org = make_tenant(client, roles=("agent", "manager", "requester"))
    requester, agent = org.members["requester"], org.members["agent"]
    bad = client.put(
        "/v1/settings/csat",
        json={"question": "x" * 201},
        headers={**org.admin.headers, "If-Match": "*"},
    )
    assert bad.status_code in (412, 422), bad.text
    _problem(client.put("/v1/settings/csat", json={"enabled": True}, headers=agent.headers), 403)
    _set_csat(client, org, enabled=False)
    _resolve(client, agent, _ticket(client, requester, "No survey please"))
    wiring.drain()
    assert wiring.mails(requester.email, "csat.survey") == []

    _set_csat(client, org, enabled=True, question="Were we any good?")
    _resolve(client, agent, _ticket(client, requester, "Survey please"))
    wiring.drain()
    mails = wiring.mails(requester.email, "csat.survey")
    assert len(mails) == 1 and "Were we any good?" in _parts(mails[0])[0]


def test_report_figures_and_roles(client, wiring):
    org = make_tenant(client, roles=("agent", "manager", "requester"))
    requester, agent, manager = (org.members[r] for r in ("requester", "agent", "manager"))
    team = client.post("/v1/teams", headers=org.admin.headers, json={"name": "Desk"})
    assert team.status_code == 201, team.text
    ratings = [5, 4, 2, None]  # the last one unanswered
    for n, rating in enumerate(ratings):
        ticket = _ticket(client, requester, f"Report {n}")
        if n < 2:
            moved = client.post(
                f"/v1/tickets/{ticket['id']}/assign",
                json={"team_id": team.json()["id"]},
                headers=agent.headers,
            )
            assert moved.status_code == 200, moved.text
        _resolve(client, agent, ticket)
        wiring.drain()
        if rating is not None:
            token = _survey_links(wiring, requester.email)[-1]["1"]
            assert client.post(f"/v1/csat/{token}", json={"rating": rating}).status_code == 200

    report = client.get("/v1/reports/csat", headers=manager.headers)
    assert report.status_code == 200, report.text
    total = report.json()["total"]
    answered = [r for r in ratings if r is not None]
    assert (total["sent"], total["answered"], total["satisfied"]) == (4, 3, 2)
    assert total["score"] == round(100 * 2 / 3, 2)
    assert total["average"] == round(sum(answered) / len(answered), 2)
    assert total["response_rate"] == 75.0

    by_team = client.get("/v1/reports/csat", params={"group_by": "team"}, headers=manager.headers)
    rows = {r["group_name"]: r for r in by_team.json()["rows"]}
    assert (rows["Desk"]["sent"], rows["Desk"]["answered"], rows["Desk"]["score"]) == (2, 2, 100.0)
    assert (rows[None]["sent"], rows[None]["answered"], rows[None]["average"]) == (2, 1, 2.0)

    for actor in (requester, agent):
        assert client.get("/v1/reports/csat", headers=actor.headers).status_code in (403, 404)
    other = make_tenant(client, roles=("manager",))
    theirs = client.get("/v1/reports/csat", headers=other.members["manager"].headers)
    assert theirs.status_code == 200 and theirs.json()["total"]["sent"] == 0

    for params, field in (
        ({"group_by": "queue"}, "group_by"),
        ({"since": "2026-02-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"}, "since"),
        ({"since": "2024-01-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"}, "since"),
        ({"since": "yesterday"}, "since"),
    ):
        body = _problem(client.get("/v1/reports/csat", params=params, headers=manager.headers), 422)
        assert any(field in str(e) for e in body["errors"]), (params, body)


@pytest.fixture(autouse=True)
def _fresh_mail(wiring: Wiring) -> None:
    wiring.drain()


def test_row_security_keeps_a_survey_to_its_requester_and_the_staff(client, org, wiring):
    ticket, _ = _resolved_with_survey(client, org, wiring)
    stranger = notifications._member(client, org, "requester")
    other = make_tenant(client, roles=("agent",))
    seen: dict[str, int] = {}
    with current_database().connect("app") as conn:
        for name, tenant, user in (
            ("requester", org.tenant_id, org.members["requester"].user_id),
            ("agent", org.tenant_id, org.members["agent"].user_id),
            ("stranger", org.tenant_id, stranger.user_id),
            ("other tenant", other.tenant_id, other.members["agent"].user_id),
        ):
            with conn.transaction():
                conn.execute(
                    "SELECT set_config('app.tenant_id', %s, true),"
                    " set_config('app.user_id', %s, true)",
                    (tenant, user),
                )
                row = conn.execute(
                    "SELECT count(*) FROM csat_surveys WHERE ticket_id = %s", (ticket["id"],)
                ).fetchone()
                seen[name] = int(row[0])
    assert seen == {"requester": 1, "agent": 1, "stranger": 0, "other tenant": 0}


def test_webhook_endpoints_may_subscribe_to_ratings(client, org):
    created = client.post(
        "/v1/webhooks",
        headers=org.admin.headers,
        json={"url": "https://hooks.example.com/csat", "event_types": ["csat.rated"]},
    )
    assert created.status_code == 201, created.text
    assert created.json()["event_types"] == ["csat.rated"]


def test_a_mailed_survey_and_its_answer_reach_the_csat_report(client, wiring, database):
    """Mailing a survey writes one ``csat.sent`` (the survey's sending time is not a ticket
    change): through the real reports consumer, with ``csat.rated``, the csat report counts
    it sent and answered, and agent-performance credits the current assignee."""
    from datetime import UTC, datetime

    from servicedesk.platform import publisher
    from servicedesk.reports import cache
    from tests.integration.test_reports_consumer import _deliver, report_bodies

    desk = make_tenant(client, roles=("agent", "manager", "requester"))
    requester, agent, manager = (desk.members[r] for r in ("requester", "agent", "manager"))
    ticket = _ticket(client, requester, "Screen flickers")
    assigned = client.post(
        f"/v1/tickets/{ticket['id']}/assign",
        json={"assignee_id": agent.user_id},
        headers=agent.headers,
    )
    assert assigned.status_code == 200, assigned.text
    _resolve(client, agent, ticket)
    wiring.drain()
    token = _survey_links(wiring, requester.email)[-1]["4"]
    assert client.post(f"/v1/csat/{token}", json={"rating": 4}).status_code == 200
    wiring.drain()
    sent = "SELECT count(*) FROM outbox WHERE event_type = 'csat.sent' AND aggregate_id = %s"
    assert _count(sent, ticket["id"]) == 1
    assert publisher.channels_for("csat.sent") == ("reports",)

    bodies = report_bodies(database, desk.tenant_id)
    assert _deliver(bodies) == {"batchItemFailures": []}
    cache.clear()
    today = datetime.now(UTC).date().isoformat()
    params = {"since": today, "until": today, "tz": "UTC"}
    report = client.get("/v1/reports/csat", params=params, headers=manager.headers)
    assert report.status_code == 200, report.text
    assert report.json()["totals"] == {
        "sent": 1,
        "answered": 1,
        "response_rate": 1.0,
        "score": 1.0,
        "average": 4.0,
    }
    perf = client.get("/v1/reports/agent-performance", params=params, headers=manager.headers)
    assert perf.status_code == 200, perf.text
    mine = {r["group"]["id"]: r["values"] for r in perf.json()["rows"]}[agent.user_id]
    assert (mine["csat_count"], mine["csat_score"]) == (1, 1.0)
    # Delivered again: nothing counts twice.
    assert _deliver(bodies) == {"batchItemFailures": []}
    cache.clear()
    again = client.get("/v1/reports/csat", params=params, headers=manager.headers)
    assert again.json()["totals"]["sent"] == 1
