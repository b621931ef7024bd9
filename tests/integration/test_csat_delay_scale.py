"""CSAT delay and the good/bad scale, end to end: a resolution with a delay writes a survey
that waits; the CSAT sender (its Lambda handler, and ``sender.run`` at chosen instants)
mails it once it is due, exactly once, or cancels it when the ticket was reopened; a
good/bad survey mails two links and takes 5 or 1 only; the report's score counts both
scales and its average the 1-5 surveys only."""

from __future__ import annotations

import re
import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.conftest import TenantFixture, current_database, make_tenant
from tests.integration import test_notifications as notifications
from tests.integration.test_csat import _count, _problem, _resolve, _set_csat
from tests.integration.test_notifications import _parts, _ticket

wiring = notifications.wiring
ANY_LINK = re.compile(r"/csat/([A-Za-z0-9_-]+)\?rating=([1-5])")


@pytest.fixture
def desk(client: Any) -> TenantFixture:
    return make_tenant(client, roles=("agent", "manager", "requester"))


def _run(now: datetime, wired: Any) -> Any:
    """The CSAT sender at ``now``, then the e-mail consumer over what it queued."""
    from servicedesk.csat.sender import run

    report = run(now)
    assert report.failed_tenants == []
    wired.drain()
    return report


def _survey(ticket_id: str) -> dict[str, Any]:
    with current_database().connect("owner") as conn:
        cur = conn.execute(
            "SELECT id, send_after, sent_at, cancelled_at, superseded_at, scale, expires_at,"
            " created_at FROM csat_surveys WHERE ticket_id = %s ORDER BY created_at DESC",
            (ticket_id,),
        )
        names = [c.name for c in cur.description]
        row = cur.fetchone()
        assert row is not None, "no survey"
        return dict(zip(names, row, strict=True))


def _links(mail: Any) -> dict[str, str]:
    plain, html = _parts(mail)
    found = {rating: token for token, rating in ANY_LINK.findall(plain)}
    for rating, token in found.items():
        assert f"/csat/{token}?rating={rating}" in html
    return found


def _scheduled(client: Any, actor: Any, ticket: dict[str, Any]) -> datetime | None:
    """The ticket's ``csat_survey_scheduled_for`` as ``actor`` reads the ticket."""
    shown = client.get(f"/v1/tickets/{ticket['id']}", headers=actor.headers)
    assert shown.status_code == 200, shown.text
    value = shown.json()["csat_survey_scheduled_for"]
    return None if value is None else datetime.fromisoformat(value)


def test_delayed_survey_waits_then_goes_out_once(client, desk, wiring):
    requester, agent = desk.members["requester"], desk.members["agent"]
    _set_csat(client, desk, delay_minutes=30)
    ticket = _ticket(client, requester, "Delayed survey")
    _resolve(client, agent, ticket)
    wiring.drain()
    assert wiring.mails(requester.email, "csat.survey") == []
    survey = _survey(ticket["id"])
    assert survey["sent_at"] is None and survey["send_after"] is not None
    # Due thirty minutes after the resolution (the resolving event's time).
    resolved = survey["send_after"] - timedelta(minutes=30)
    assert abs((survey["created_at"] - resolved).total_seconds()) < 30
    # Not yet visible: neither in the portal nor to staff.
    path = f"/v1/tickets/{ticket['id']}/csat"
    _problem(client.get(path, headers=requester.headers), 404)
    _problem(client.post(path, json={"rating": 5}, headers=requester.headers), 404)
    # Staff see when it will go out, on the ticket (a requester does not).
    assert _scheduled(client, agent, ticket) == survey["send_after"]
    assert _scheduled(client, desk.members["manager"], ticket) == survey["send_after"]
    assert _scheduled(client, requester, ticket) is None

    # Across the boundary: a second before it is due, nothing; at the instant, one mail.
    early = _run(survey["send_after"] - timedelta(seconds=1), wiring)
    assert early.queued == 0
    assert wiring.mails(requester.email, "csat.survey") == []
    due = _run(survey["send_after"], wiring)
    assert due.queued == 1 and due.tenants >= 1
    mails = wiring.mails(requester.email, "csat.survey")
    assert len(mails) == 1
    token = _links(mails[0])["5"]
    # Again, and later: never a second mail for the survey.
    assert _run(survey["send_after"] + timedelta(minutes=10), wiring).queued == 0
    assert len(wiring.mails(requester.email, "csat.survey")) == 1
    # The due event delivered again (SQS is at-least-once): the claim keeps it to one mail.
    from servicedesk.platform.publisher import publish_committed

    with current_database().connect("owner") as conn:
        event_id = conn.execute(
            "UPDATE outbox SET published_at = NULL WHERE event_type = 'csat.survey_due'"
            " AND payload->>'survey_id' = %s RETURNING id",
            (str(survey["id"]),),
        ).fetchone()[0]
        conn.commit()
    publish_committed(uuid.UUID(desk.tenant_id), [event_id])
    assert wiring.drain() == 1
    assert len(wiring.mails(requester.email, "csat.survey")) == 1

    sent = _survey(ticket["id"])
    assert sent["sent_at"] is not None and sent["send_after"] is None
    assert _scheduled(client, agent, ticket) is None  # sent: no longer pending
    # The link's validity counts from the mail (30 days by default), not the resolution.
    assert sent["expires_at"] - sent["sent_at"] > timedelta(days=29, hours=23)
    shown = client.get(f"/v1/csat/{token}")
    assert shown.status_code == 200 and shown.json()["answered"] is False
    assert client.get(path, headers=requester.headers).status_code == 200
    assert client.post(f"/v1/csat/{token}", json={"rating": 4}).status_code == 200


def test_reopened_before_the_delay_cancels_the_survey(client, desk, wiring):
    requester, agent = desk.members["requester"], desk.members["agent"]
    _set_csat(client, desk, delay_minutes=60)
    ticket = _ticket(client, requester, "Reopened soon")
    _resolve(client, agent, ticket)
    wiring.drain()
    reopened = client.post(
        f"/v1/tickets/{ticket['id']}/transitions", json={"to": "open"}, headers=agent.headers
    )
    assert reopened.status_code == 200, reopened.text
    wiring.drain()
    survey = _survey(ticket["id"])
    assert _scheduled(client, agent, ticket) is None  # reopened: it will be cancelled
    report = _run(survey["send_after"] + timedelta(minutes=1), wiring)
    assert report.queued == 0 and report.cancelled == 1
    assert wiring.mails(requester.email, "csat.survey") == []
    cancelled = _survey(ticket["id"])
    assert cancelled["cancelled_at"] is not None and cancelled["sent_at"] is None
    _problem(client.get(f"/v1/tickets/{ticket['id']}/csat", headers=requester.headers), 404)
    # Nothing is due any more for it.
    assert _run(survey["send_after"] + timedelta(days=1), wiring).cancelled == 0

    # Resolved again: a new survey with its own delay, mailed once.
    _resolve(client, agent, ticket)
    wiring.drain()
    second = _survey(ticket["id"])
    assert second["id"] != survey["id"] and second["send_after"] > survey["send_after"]
    assert _run(second["send_after"], wiring).queued == 1
    assert len(wiring.mails(requester.email, "csat.survey")) == 1
    assert (
        _count(
            "SELECT count(*) FROM csat_surveys WHERE ticket_id = %s AND sent_at IS NOT NULL",
            ticket["id"],
        )
        == 1
    )


def test_resolved_again_before_the_first_went_out_sends_one(client, desk, wiring):
    """Reopened and resolved again while the consumer had not seen the second resolution:
    the first survey is cancelled (the ticket's resolution is newer than the survey)."""
    requester, agent = desk.members["requester"], desk.members["agent"]
    _set_csat(client, desk, delay_minutes=5)
    ticket = _ticket(client, requester, "Flapping")
    _resolve(client, agent, ticket)
    wiring.drain()
    first = _survey(ticket["id"])
    assert client.post(
        f"/v1/tickets/{ticket['id']}/transitions", json={"to": "open"}, headers=agent.headers
    ).is_success
    _resolve(client, agent, ticket)  # not drained: its survey is not written yet
    assert _run(first["send_after"], wiring).cancelled == 1
    wiring.drain()
    second = _survey(ticket["id"])
    assert _run(second["send_after"], wiring).queued == 1
    assert len(wiring.mails(requester.email, "csat.survey")) == 1


def test_a_locked_survey_is_skipped_and_two_runs_mail_it_once(client, desk, wiring):
    requester, agent = desk.members["requester"], desk.members["agent"]
    _set_csat(client, desk, delay_minutes=10)
    ticket = _ticket(client, requester, "Busy row")
    _resolve(client, agent, ticket)
    wiring.drain()
    survey = _survey(ticket["id"])
    due = survey["send_after"] + timedelta(seconds=1)
    # Another run holds the row: this one skips it (SKIP LOCKED), it does not wait.
    with current_database().connect("owner") as conn:
        conn.execute("SELECT 1 FROM csat_surveys WHERE id = %s FOR UPDATE", (survey["id"],))
        assert _run(due, wiring).queued == 0
        conn.rollback()
    # Two runs at once: one mail.
    from servicedesk.csat.sender import run

    results: list[Any] = []
    runs = [threading.Thread(target=lambda: results.append(run(due))) for _ in range(2)]
    for t in runs:
        t.start()
    for t in runs:
        t.join()
    assert sorted(r.queued for r in results) == [0, 1]
    wiring.drain()
    assert len(wiring.mails(requester.email, "csat.survey")) == 1
    assert (
        _count(
            "SELECT count(*) FROM deliveries WHERE recipient = %s",
            f"csat:{survey['id']}",
        )
        == 1
    )


def test_turned_off_meanwhile_cancels_and_the_handler_runs(client, desk, wiring):
    from local.app import load_function
    from tests.events import FakeLambdaContext, load_event

    requester, agent = desk.members["requester"], desk.members["agent"]
    _set_csat(client, desk, delay_minutes=1)
    ticket = _ticket(client, requester, "Off meanwhile")
    _resolve(client, agent, ticket)
    wiring.drain()
    with current_database().connect("owner") as conn:
        conn.execute(
            "UPDATE csat_surveys SET send_after = now() - interval '1 minute' WHERE ticket_id = %s",
            (ticket["id"],),
        )
        conn.commit()
    _set_csat(client, desk, enabled=False)
    handler = load_function("csat_sender").lambda_handler
    result = handler(load_event("eventbridge_scheduled_csat_sender"), FakeLambdaContext())
    assert result["failed_tenants"] == [] and result["cancelled"] >= 1
    wiring.drain()
    assert wiring.mails(requester.email, "csat.survey") == []
    assert _survey(ticket["id"])["cancelled_at"] is not None


def test_delay_zero_is_immediate_and_settings_bounds(client, desk, wiring):
    requester, agent = desk.members["requester"], desk.members["agent"]
    assert client.get("/v1/settings/csat", headers=requester.headers).json()["delay_minutes"] == 0
    ticket = _ticket(client, requester, "At once")
    _resolve(client, agent, ticket)
    wiring.drain()
    assert len(wiring.mails(requester.email, "csat.survey")) == 1
    assert _survey(ticket["id"])["send_after"] is None

    current = client.get("/v1/settings/csat", headers=desk.admin.headers)
    for field, value in (
        ("delay_minutes", -1),
        ("delay_minutes", 10081),
        ("delay_minutes", "soon"),
        ("scale", "1-10"),
    ):
        put = client.put(
            "/v1/settings/csat",
            json={**current.json(), field: value},
            headers={**desk.admin.headers, "If-Match": current.headers["ETag"]},
        )
        body = _problem(put, 422)
        assert any(field in str(e) for e in body["errors"]), body
    _set_csat(client, desk, delay_minutes=10080)  # a week: the upper bound


def test_good_bad_survey_two_buttons_and_ratings(client, desk, wiring):
    requester, agent = desk.members["requester"], desk.members["agent"]
    _set_csat(client, desk, scale="good-bad")
    ticket = _ticket(client, requester, "Thumbs")
    _resolve(client, agent, ticket)
    wiring.drain()
    mails = wiring.mails(requester.email, "csat.survey")
    assert len(mails) == 1
    links = _links(mails[0])
    assert links.keys() == {"5", "1"}
    plain, html = _parts(mails[0])
    assert "Good: " in plain and "Bad: " in plain and ">Good</a>" in html
    token = links["5"]
    shown = client.get(f"/v1/csat/{token}")
    assert shown.json()["scale"] == "good-bad"
    for rating in (2, 3, 4):
        body = _problem(client.post(f"/v1/csat/{token}", json={"rating": rating}), 422)
        assert any("rating" in str(e) for e in body["errors"]), body
    path = f"/v1/tickets/{ticket['id']}/csat"
    _problem(client.post(path, json={"rating": 3}, headers=requester.headers), 422)
    assert (
        _count(
            "SELECT count(*) FROM csat_surveys WHERE ticket_id = %s AND answered_at IS NOT NULL",
            ticket["id"],
        )
        == 0
    )
    answered = client.post(f"/v1/csat/{token}", json={"rating": 1, "comment": "slow"})
    assert answered.status_code == 200 and answered.json()["rating"] == 1
    assert client.get(path, headers=agent.headers).json()["scale"] == "good-bad"


def test_the_database_refuses_a_middle_rating_on_good_bad(client, desk, wiring):
    requester, agent = desk.members["requester"], desk.members["agent"]
    _set_csat(client, desk, scale="good-bad")
    ticket = _ticket(client, requester, "Check")
    _resolve(client, agent, ticket)
    wiring.drain()
    import psycopg

    with current_database().connect("owner") as conn, pytest.raises(psycopg.errors.CheckViolation):
        conn.execute(
            "UPDATE csat_surveys SET rating = 3, answered_at = now() WHERE ticket_id = %s",
            (ticket["id"],),
        )


def test_report_score_counts_both_scales_average_only_one_to_five(client, desk, wiring):
    requester, agent, manager = (desk.members[r] for r in ("requester", "agent", "manager"))
    answers: list[tuple[str, int]] = [("1-5", 4), ("1-5", 2), ("good-bad", 5), ("good-bad", 1)]
    for n, (scale, rating) in enumerate(answers):
        _set_csat(client, desk, scale=scale)
        ticket = _ticket(client, requester, f"Mixed {n}")
        _resolve(client, agent, ticket)
        wiring.drain()
        path = f"/v1/tickets/{ticket['id']}/csat"
        assert client.get(path, headers=requester.headers).json()["scale"] == scale
        done = client.post(path, json={"rating": rating}, headers=requester.headers)
        assert done.status_code == 200, done.text
    since = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    got = client.get("/v1/reports/csat", params={"since": since}, headers=manager.headers)
    assert got.status_code == 200, got.text
    total = got.json()["total"]
    # Independent figures: satisfied = ratings >= 4 on both scales (4 and good).
    ratings = [r for _, r in answers]
    assert total["answered"] == 4 and total["satisfied"] == sum(r >= 4 for r in ratings)
    assert total["score"] == 50.0
    one_to_five = [r for s, r in answers if s == "1-5"]
    assert total["average"] == round(sum(one_to_five) / len(one_to_five), 2)


def test_reopened_between_the_hand_over_and_the_mail_sends_none(client, desk, wiring):
    """The sender handed the survey over; the ticket was reopened before the e-mail
    consumer read the event: the consumer cancels it instead of mailing."""
    from servicedesk.csat.sender import run

    requester, agent = desk.members["requester"], desk.members["agent"]
    _set_csat(client, desk, delay_minutes=15)
    ticket = _ticket(client, requester, "Reopened in flight")
    _resolve(client, agent, ticket)
    wiring.drain()
    survey = _survey(ticket["id"])
    assert run(survey["send_after"]).queued == 1  # queued, not yet consumed
    assert client.post(
        f"/v1/tickets/{ticket['id']}/transitions", json={"to": "open"}, headers=agent.headers
    ).is_success
    wiring.drain()
    assert wiring.mails(requester.email, "csat.survey") == []
    assert _survey(ticket["id"])["cancelled_at"] is not None
