"""Reports as PDF (synchronously and as a background export) and scheduled report
deliveries end to end: subscriptions over the API, the report scheduler (the Lambda
handler) claiming due slots, the e-mail consumer mailing the PDF (attached, or linked to
each recipient's own export when large), once per slot; isolation, roles, bad input."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, time, timedelta
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pypdfium2 as pdfium
import pytest

from servicedesk.reports import cache
from servicedesk.reports.rebuild import rebuild_tenant
from tests.conftest import Actor, TenantFixture, current_database, make_tenant, reset_caches
from tests.integration import test_export_jobs as export_jobs
from tests.integration.test_notifications import _member

exports = export_jobs.exports
_owner_sql = export_jobs._owner_sql
_problem = export_jobs._problem

TODAY = datetime.now(UTC).date().isoformat()


@pytest.fixture
def desk(client: Any) -> TenantFixture:
    org = make_tenant(client, roles=("agent", "manager", "requester"))
    for n in range(4):
        made = client.post(
            "/v1/tickets", json={"title": f"Broken {n}"}, headers=org.members["requester"].headers
        )
        assert made.status_code == 201, made.text
    rebuild_tenant(uuid.UUID(org.tenant_id))
    cache.clear()
    return org


def _pdf_text(data: bytes) -> str:
    document = pdfium.PdfDocument(data)
    try:
        assert len(document) >= 1
        page = document[0]
        image = page.render(scale=1, grayscale=True).to_pil().convert("L")
        assert sum(1 for v in image.tobytes() if v < 200) > 1000  # not blank
        return "".join(p.get_textpage().get_text_range() for p in document)
    finally:
        document.close()


def _fields(problem: dict[str, Any]) -> set[str]:
    return {e["field"] for e in problem.get("errors", [])}


def _scheduler() -> dict[str, Any]:
    from local.app import load_function
    from local.scheduler import LambdaContext, scheduled_event

    handler = load_function("report_scheduler").lambda_handler
    return dict(
        handler(
            scheduled_event("eventbridge_scheduled_report_scheduler"),
            LambdaContext("report_scheduler"),
        )
    )


# --- PDF, synchronously and in the background ---------------------------------------


def test_report_as_pdf_synchronously(client, desk):
    manager = desk.members["manager"]
    response = client.get(
        "/v1/reports/volume",
        params={"since": TODAY, "until": TODAY, "interval": "day", "format": "pdf"},
        headers=manager.headers,
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"].endswith('.pdf"')
    text = _pdf_text(response.content)
    assert "Ticket volume" in text and TODAY in text
    agent = desk.members["agent"]
    _problem(client.get("/v1/reports/volume", params={"format": "pdf"}, headers=agent.headers), 403)


def test_report_export_job_makes_a_pdf(client, desk, exports):
    manager = desk.members["manager"]
    asked = client.post(
        "/v1/exports",
        json={
            "kind": "report",
            "report": "volume",
            "format": "pdf",
            "params": {"since": TODAY, "until": TODAY, "interval": "day", "tz": "Europe/Paris"},
        },
        headers=manager.headers,
    )
    assert asked.status_code == 202, asked.text
    exports.run()
    job = client.get(f"/v1/exports/{asked.json()['id']}", headers=manager.headers).json()
    assert job["status"] == "done" and job["rows_total"] == 1
    link = client.get(f"/v1/exports/{job['id']}/download", headers=manager.headers).json()
    fetched = httpx.get(link["url"])
    assert fetched.headers["content-type"] == "application/pdf"
    assert "Europe/Paris" in _pdf_text(fetched.content)
    csv_job = client.post(
        "/v1/exports",
        json={"kind": "report", "report": "volume", "format": "csv", "params": {"since": TODAY}},
        headers=manager.headers,
    )
    exports.run()
    link = client.get(
        f"/v1/exports/{csv_job.json()['id']}/download", headers=manager.headers
    ).json()
    lines = httpx.get(link["url"]).text.splitlines()
    assert lines[0] == "bucket,group_id,group,created,resolved,reopened"
    assert lines[1].endswith(",4,0,0")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"report": "nope"}, "report"),
        ({"report": None}, "report"),
        ({"report": "volume", "params": {"tz": "Mars/Olympus"}}, "params.tz"),
        ({"report": "volume", "params": {"bogus": 1}}, "params.bogus"),
        ({"report": "volume", "params": {"type": "Not a key"}}, "params.type"),
        ({"report": "volume", "params": {"interval": "hour"}}, "params.interval"),
        (
            {"report": "volume", "params": {"since": "2026-05-02", "until": "2026-05-01"}},
            "params.until",
        ),
        ({"report": "volume", "params": {"since": "tomorrow"}}, "params.since"),
    ],
)
def test_bad_report_exports_are_422_naming_the_field(client, desk, exports, body, field):
    response = client.post(
        "/v1/exports", json={"kind": "report", "format": "pdf", **body}, headers=desk.admin.headers
    )
    assert field in _fields(_problem(response, 422))


# --- subscriptions --------------------------------------------------------------------


def _subscribe(client: Any, actor: Actor, **body: Any) -> Any:
    fields = {
        "report": "volume",
        "format": "pdf",
        "frequency": "weekly",
        "weekday": 0,
        "hour": 8,
        "tz": "Europe/Paris",
        "params": {"interval": "day"},
    }
    return client.post("/v1/report-subscriptions", json={**fields, **body}, headers=actor.headers)


def test_manager_subscribes_and_the_next_slot_is_local(client, desk):
    manager, agent = desk.members["manager"], desk.members["agent"]
    made = _subscribe(client, manager, recipients=[manager.user_id, agent.user_id])
    assert made.status_code == 201, made.text
    sub = made.json()
    slot = datetime.fromisoformat(sub["next_run_at"]).astimezone(ZoneInfo("Europe/Paris"))
    assert (slot.weekday(), slot.hour, slot.minute) == (0, 8, 0)
    assert timedelta(0) < slot - datetime.now(UTC) <= timedelta(days=7)
    assert sub["owner_id"] == manager.user_id and sub["active"] is True

    listed = client.get("/v1/report-subscriptions", headers=desk.admin.headers)
    assert [s["id"] for s in listed.json()["items"]] == [sub["id"]]

    # Daily from now on: the weekday goes, the next slot is within a day.
    changed = client.patch(
        f"/v1/report-subscriptions/{sub['id']}",
        json={"frequency": "daily", "hour": 7, "version": sub["version"]},
        headers=manager.headers,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["weekday"] is None
    nxt = datetime.fromisoformat(changed.json()["next_run_at"])
    assert nxt.astimezone(ZoneInfo("Europe/Paris")).hour == 7
    assert nxt - datetime.now(UTC) <= timedelta(days=1)
    stale = client.patch(
        f"/v1/report-subscriptions/{sub['id']}",
        json={"hour": 9, "version": sub["version"]},
        headers=manager.headers,
    )
    _problem(stale, 412)
    removed = client.delete(f"/v1/report-subscriptions/{sub['id']}", headers=manager.headers)
    assert removed.status_code == 204
    _problem(client.get(f"/v1/report-subscriptions/{sub['id']}", headers=manager.headers), 404)


def test_subscriptions_are_for_managers_and_their_tenant(client, desk):
    manager, agent = desk.members["manager"], desk.members["agent"]
    sub = _subscribe(client, manager, recipients=[agent.user_id]).json()
    _problem(_subscribe(client, agent, recipients=[agent.user_id]), 403)
    _problem(client.get("/v1/report-subscriptions", headers=agent.headers), 403)
    _problem(client.get("/v1/report-subscriptions", headers=desk.members["requester"].headers), 403)
    other = make_tenant(client, roles=("manager",))
    theirs = other.members["manager"]
    _problem(client.get(f"/v1/report-subscriptions/{sub['id']}", headers=theirs.headers), 404)
    _problem(
        client.patch(
            f"/v1/report-subscriptions/{sub['id']}",
            json={"hour": 3, "version": 1},
            headers=theirs.headers,
        ),
        404,
    )
    _problem(client.delete(f"/v1/report-subscriptions/{sub['id']}", headers=theirs.headers), 404)
    assert client.get("/v1/report-subscriptions", headers=theirs.headers).json()["items"] == []
    # Nor may they send their reports to this tenant's people.
    outside = _subscribe(client, theirs, recipients=[agent.user_id])
    assert "recipients" in _fields(_problem(outside, 422))


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"weekday": None}, "weekday"),
        ({"frequency": "daily"}, "weekday"),
        ({"frequency": "monthly", "weekday": None, "monthday": 31}, "monthday"),
        ({"frequency": "monthly", "weekday": None}, "monthday"),
        ({"hour": 24}, "hour"),
        ({"tz": "Nowhere/City"}, "tz"),
        ({"report": "nope"}, "report"),
        ({"params": {"since": "2026-01-01"}}, "params.since"),
        ({"params": {"tz": "UTC"}}, "params.tz"),
        ({"params": {"type": "Not a key"}}, "params.type"),
        ({"params": {"bogus": 1}}, "params.bogus"),
        ({"params": {"interval": "hour"}}, "params.interval"),
        ({"format": "json"}, "format"),
        ({"recipients": []}, "recipients"),
        ({"recipients": ["requester"]}, "recipients"),
    ],
)
def test_bad_subscriptions_are_422_naming_the_field(client, desk, body, field):
    manager = desk.members["manager"]
    if body.get("recipients") == ["requester"]:
        body = {**body, "recipients": [desk.members["requester"].user_id]}
    body.setdefault("recipients", [manager.user_id])
    response = _subscribe(client, manager, **body)
    assert field in _fields(_problem(response, 422)), response.text
    rows = _owner_sql(
        "SELECT count(*) FROM report_subscriptions WHERE tenant_id = %s", desk.tenant_id
    )
    assert rows[0][0] == 0


# --- the scheduler --------------------------------------------------------------------


def _due(sub_id: str, minutes_ago: int = 3) -> datetime:
    rows = _owner_sql(
        "UPDATE report_subscriptions SET next_run_at = date_trunc('minute', now())"
        " - make_interval(mins => %s) WHERE id = %s RETURNING next_run_at",
        minutes_ago,
        sub_id,
    )
    return rows[0][0]


def _reports(exports: Any, to: str) -> list[EmailMessage]:
    return exports.mail.mails(to, "report.delivered")


def test_due_subscription_is_mailed_once_per_slot_with_the_pdf(client, desk, exports):
    manager, agent = desk.members["manager"], desk.members["agent"]
    sub = _subscribe(client, manager, recipients=[manager.user_id, agent.user_id]).json()
    slot = _due(sub["id"])
    result = _scheduler()
    # The scheduler serves every tenant: another test of this worker's database may have
    # left a subscription due (the order of tests varies). This one's effects are below.
    assert result["delivered"] >= 1 and result["failed_tenants"] == []
    exports.mail.drain()
    for person in (manager, agent):
        mails = _reports(exports, person.email)
        assert len(mails) == 1, person.role
        attachments = list(mails[0].iter_attachments())
        assert [a.get_content_type() for a in attachments] == ["application/pdf"]
        assert "Ticket volume" in _pdf_text(attachments[0].get_content())
    row = _owner_sql(
        "SELECT next_run_at, last_run_at, last_error FROM report_subscriptions WHERE id = %s",
        sub["id"],
    )[0]
    assert row[1] == slot and row[2] is None
    assert row[0] > datetime.now(UTC)
    assert row[0].astimezone(ZoneInfo("Europe/Paris")).weekday() == 0
    # Not due any more: nothing happens.
    assert _scheduler()["delivered"] == 0

    # The same slot due again (as after a crash between the mail and the advance): a new
    # event, but no second mail to anyone and no second copy of the file for anyone.
    _owner_sql("UPDATE report_subscriptions SET next_run_at = %s WHERE id = %s", slot, sub["id"])
    assert _scheduler()["delivered"] == 1
    exports.mail.drain()
    assert len(_reports(exports, manager.email)) == 1
    assert len(_reports(exports, agent.email)) == 1
    copies = _owner_sql(
        "SELECT owner_id, count(*) FROM export_jobs WHERE subscription_id = %s GROUP BY owner_id",
        sub["id"],
    )
    assert sorted(str(o) for o, _ in copies) == sorted([manager.user_id, agent.user_id])
    assert all(n == 1 for _, n in copies)


def test_a_slot_locked_by_another_run_is_skipped(client, desk, exports):
    manager = desk.members["manager"]
    sub = _subscribe(client, manager, recipients=[manager.user_id]).json()
    _due(sub["id"])
    with current_database().connect("owner") as holder:
        holder.execute("SELECT 1 FROM report_subscriptions WHERE id = %s FOR UPDATE", (sub["id"],))
        assert _scheduler()["delivered"] == 0  # SKIP LOCKED: the other run has it
        holder.rollback()
    assert _scheduler()["delivered"] == 1


def _latest_daily_slot(hour: int, tz: str, now: datetime) -> datetime:
    zone = ZoneInfo(tz)
    local = now.astimezone(zone)
    slot = datetime.combine(local.date(), time(hour), tzinfo=zone)
    if slot > local:
        slot = datetime.combine(local.date() - timedelta(days=1), time(hour), tzinfo=zone)
    return slot.astimezone(UTC)


def test_missed_slots_are_caught_up_once_by_the_latest(client, desk, exports):
    """The scheduler was down three days: the next run delivers the latest missed slot (its
    period: the day before it), once, not the oldest and not one per missed slot."""
    manager, agent = desk.members["manager"], desk.members["agent"]
    now = datetime.now(UTC)
    hour = (now.astimezone(ZoneInfo("Europe/Paris")) - timedelta(hours=2)).hour
    sub = _subscribe(
        client,
        manager,
        frequency="daily",
        weekday=None,
        hour=hour,
        recipients=[manager.user_id, agent.user_id],
    ).json()
    latest = _latest_daily_slot(hour, "Europe/Paris", now)
    oldest = latest - timedelta(days=3)  # due three days ago (DST aside: same local hour)
    oldest = _latest_daily_slot(hour, "Europe/Paris", oldest + timedelta(minutes=1))
    _owner_sql("UPDATE report_subscriptions SET next_run_at = %s WHERE id = %s", oldest, sub["id"])

    result = _scheduler()
    assert result["delivered"] >= 1 and result["caught_up"] >= 1, result
    assert _scheduler()["delivered"] == 0  # once: nothing is due now
    exports.mail.drain()
    for person in (manager, agent):
        mails = _reports(exports, person.email)
        assert len(mails) == 1, person.role
        body = mails[0].get_body(("plain",)).get_content()
        assert latest.strftime("%Y-%m-%d %H:%M UTC") in body
    row = _owner_sql(
        "SELECT next_run_at, last_run_at, last_error FROM report_subscriptions WHERE id = %s",
        sub["id"],
    )[0]
    assert row[1] == latest and row[2] is None
    assert row[0] > datetime.now(UTC)
    slots = _owner_sql(
        "SELECT DISTINCT slot, params FROM export_jobs WHERE subscription_id = %s", sub["id"]
    )
    assert [s for s, _ in slots] == [latest]


def test_overlapping_runs_deliver_a_missed_slot_once(client, desk, exports):
    """Two scheduler invocations at once (EventBridge retrying while the first still runs):
    one delivers the caught-up slot, the other finds it locked or no longer due."""
    manager, agent = desk.members["manager"], desk.members["agent"]
    sub = _subscribe(client, manager, recipients=[manager.user_id, agent.user_id]).json()
    _due(sub["id"], minutes_ago=60 * 24 * 9)  # more than a week: a weekly slot was missed
    from local.app import load_function

    load_function("report_scheduler")  # imported before the threads race
    start = threading.Barrier(2)

    def invoke() -> dict[str, Any]:
        start.wait()
        return _scheduler()

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda _: invoke(), range(2)))
    assert sorted(r["delivered"] for r in results) == [0, 1], results
    exports.mail.drain()
    for person in (manager, agent):
        assert len(_reports(exports, person.email)) == 1, person.role
    copies = _owner_sql(
        "SELECT owner_id, count(*) FROM export_jobs WHERE subscription_id = %s GROUP BY owner_id",
        sub["id"],
    )
    assert sorted(n for _, n in copies) == [1, 1]


def test_a_large_report_is_linked_to_each_recipients_own_export(
    client,
    desk,
    exports,
    monkeypatch,
):
    manager, agent = desk.members["manager"], desk.members["agent"]
    monkeypatch.setenv("SERVICEDESK_REPORT_ATTACHMENT_MAX_BYTES", "1024")
    reset_caches()
    sub = _subscribe(client, manager, recipients=[agent.user_id, manager.user_id]).json()
    _due(sub["id"])
    assert _scheduler()["delivered"] == 1
    exports.mail.drain()
    mail = _reports(exports, agent.email)[0]
    assert list(mail.iter_attachments()) == []
    body = mail.get_body(("plain",)).get_content()
    job_id = body.split("/exports/")[1].split()[0].strip(".")
    link = client.get(f"/v1/exports/{job_id}/download", headers=agent.headers)
    assert link.status_code == 200, link.text
    assert "Ticket volume" in _pdf_text(httpx.get(link.json()["url"]).content)
    # That link is the agent's: the manager (a recipient too) has their own.
    _problem(client.get(f"/v1/exports/{job_id}/download", headers=manager.headers), 404)


def test_an_owner_who_may_no_longer_read_reports_deactivates_the_subscription(
    client,
    desk,
    exports,
):
    owner = _member(client, desk, "manager")
    agent = desk.members["agent"]
    sub = _subscribe(client, owner, recipients=[agent.user_id]).json()
    _due(sub["id"])
    _owner_sql(
        "UPDATE memberships SET role = 'agent' WHERE tenant_id = %s AND user_id = %s",
        desk.tenant_id,
        owner.user_id,
    )
    result = _scheduler()
    assert result["deactivated"] >= 1  # this one, and perhaps another test's left due
    exports.mail.drain()
    assert _reports(exports, agent.email) == []
    shown = client.get(f"/v1/report-subscriptions/{sub['id']}", headers=desk.admin.headers).json()
    assert shown["active"] is False and "role" in shown["last_error"]
    # Reactivated (by a manager) it is scheduled again, from now on.
    again = client.patch(
        f"/v1/report-subscriptions/{sub['id']}",
        json={"active": True, "version": shown["version"]},
        headers=desk.members["manager"].headers,
    )
    assert again.status_code == 200, again.text
    assert again.json()["last_error"] is None
    assert datetime.fromisoformat(again.json()["next_run_at"]) > datetime.now(UTC)
