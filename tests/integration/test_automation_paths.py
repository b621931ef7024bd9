"""Automation rules along the real paths their events and side effects take (issue 20
point 4): an SLA crossing recorded by the evaluator reaches the automation queue (moto's
SQS over HTTP) and the consumer Lambda's handler runs the rule; a rule's ``webhook``
reaches a real HTTP server through the outbox and the webhook consumer, signed; its
``notify`` reaches the recipient in the app and by e-mail through the e-mail consumer and
SES (moto over HTTP: the path production mail takes); and the dry run of a rule with a
business-hours condition, on a non-UTC calendar with a holiday, names exactly the tickets
the rule then fires on."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.request import urlopen
from zoneinfo import ZoneInfo

import boto3
import pytest

from local.app import load_function
from local.queues import Queue, ensure_queues, poll_once, sqs_event
from local.scheduler import LambdaContext
from servicedesk.automation import timed
from servicedesk.platform.aws import reset as reset_aws_clients
from servicedesk.sla.business_time import BusinessCalendar, business_seconds_between
from tests.conftest import TenantFixture, make_tenant, reset_caches
from tests.events import outbox_rows, sqs_sample
from tests.integration.test_outbox import _drain
from tests.integration.test_sla import _age_ticket, _policy
from tests.integration.test_webhooks import Receiver
from tests.webhook_docs import recipe_verify

ZONE = "America/New_York"
WEEK = [[{"start": "09:00", "end": "17:00"}]] * 5 + [[]] * 2  # Monday to Friday, 9 to 5


@pytest.fixture(scope="module")
def queues(aws_endpoint: str, database: Any) -> Any:
    made = ensure_queues(prefix=f"au{uuid.uuid4().hex[:8]}", visibility_timeout=2)
    patch = pytest.MonkeyPatch()
    for channel, queue in made.items():
        patch.setenv(f"SERVICEDESK_{channel.upper()}_QUEUE_URL", queue.url)
    reset_caches()
    reset_aws_clients()
    yield made
    patch.undo()
    reset_caches()
    reset_aws_clients()


@pytest.fixture(scope="module")
def receiver() -> Any:
    server = Receiver()
    yield server
    server.server.shutdown()
    server.server.server_close()


@pytest.fixture
def org(client: Any) -> TenantFixture:
    return make_tenant(client, roles=("agent", "manager", "requester"))


def _consume(queue: Queue, function: str) -> int:
    """Poll ``queue`` through the named Lambda's handler until it is empty (the events it
    is given are SQS events as Lambda sends them: local.queues.sqs_event)."""
    handler = load_function(function).lambda_handler
    total = 0
    for _ in range(30):
        done, failed = poll_once(queue, handler)
        assert failed == 0, f"{function} failed a record"
        if done == 0:
            return total
        total += done
    raise AssertionError(f"the {function} queue does not drain")


def _rule(client: Any, org: TenantFixture, **body: Any) -> dict[str, Any]:
    created = client.post("/v1/automations", headers=org.admin.headers, json=body)
    assert created.status_code == 201, created.text
    return dict(created.json())


def _ticket(client: Any, org: TenantFixture, title: str) -> dict[str, Any]:
    created = client.post(
        "/v1/tickets", headers=org.members["requester"].headers, json={"title": title}
    )
    assert created.status_code == 201, created.text
    return dict(created.json())


def _runs(client: Any, org: TenantFixture, rule_id: str) -> list[dict[str, Any]]:
    page = client.get(f"/v1/automations/{rule_id}/runs?limit=100", headers=org.admin.headers)
    assert page.status_code == 200, page.text
    return list(page.json()["items"])


def _get(client: Any, org: TenantFixture, ticket_id: str) -> dict[str, Any]:
    return dict(client.get(f"/v1/tickets/{ticket_id}", headers=org.admin.headers).json())


# --- SLA warnings and breaches ---------------------------------------------------------------


def _received(queue: Queue) -> list[Any]:
    """Every message on ``queue``, received and left there (visible again in 2 s)."""
    sqs = boto3.client("sqs")
    found: dict[str, Any] = {}
    for _ in range(10):
        got = sqs.receive_message(
            QueueUrl=queue.url, MaxNumberOfMessages=10, AttributeNames=["All"]
        ).get("Messages", [])
        if not got:
            break
        found.update({m["MessageId"]: m for m in got})
    return list(found.values())


def test_an_sla_breach_runs_its_rule_through_the_queue_and_the_consumer(
    client, org, queues, database
):
    from servicedesk.sla.evaluator import run

    marker = f"sla{uuid.uuid4().hex[:8]}"
    breached = _rule(
        client,
        org,
        name="Escalate breaches",
        kind="event",
        triggers=[{"event": "sla_breached"}],
        conditions={"all": [{"field": "title", "op": "contains", "value": marker}]},
        actions=[
            {"type": "set_field", "field": "priority", "value": "critical"},
            {"type": "add_tags", "tags": ["breached"]},
        ],
    )
    warned = _rule(
        client,
        org,
        name="Flag warnings",
        kind="event",
        triggers=[{"event": "sla_warning"}],
        conditions={"all": [{"field": "title", "op": "contains", "value": marker}]},
        actions=[{"type": "add_tags", "tags": ["warned"]}],
    )
    _policy(client, org, position=1)
    ticket = _ticket(client, org, f"{marker} server room hot")
    untouched = _ticket(client, org, "no marker here")
    for made in (ticket, untouched):
        _age_ticket(database, made["id"], 61)  # first response (60 min): 75%, 90%, breached
    for queue in queues.values():
        _drain(queue.url)

    report = run(datetime.now(UTC))  # records the crossings and publishes them at once

    assert org.tenant_id not in report.failed_tenants
    assert _get(client, org, ticket["id"])["tags"] == []  # the rules run in the consumer
    messages = _received(queues["automation"])
    types = sorted(json.loads(m["Body"])["type"] for m in messages)
    assert types == ["sla.breached"] * 2 + ["sla.warning"] * 4  # 3 crossings x 2 tickets
    handler = load_function("automation_consumer").lambda_handler
    event = sqs_event(messages, queues["automation"].arn)
    result = handler(event, LambdaContext("automation_consumer", aws_request_id="r1"))
    assert result == {"batchItemFailures": []}
    # SQS delivers at least once: the breach again, as events/sqs_automation_sla_breached.json
    # carries it (the body the publisher encodes from the outbox row), runs nothing.
    rows = outbox_rows(database, "tenant_id = %s AND event_type = 'sla.breached'", org.tenant_id)
    assert len(rows) == 2
    again = handler(sqs_sample("sqs_automation_sla_breached", rows), LambdaContext("x"))
    assert again == {"batchItemFailures": []}

    after = _get(client, org, ticket["id"])
    assert after["priority"] == "critical"
    assert sorted(after["tags"]) == ["breached", "warned"]
    assert _get(client, org, untouched["id"])["tags"] == []
    [fired] = _runs(client, org, breached["id"])
    assert (fired["status"], fired["trigger"], fired["ticket_id"]) == (
        "fired",
        "sla_breached",
        ticket["id"],
    )
    assert [o["status"] for o in fired["outcomes"]] == ["applied", "applied"]
    warnings = _runs(client, org, warned["id"])  # 75% and 90%: one run each
    assert [(r["trigger"], r["ticket_id"]) for r in warnings] == [
        ("sla_warning", ticket["id"]),
        ("sla_warning", ticket["id"]),
    ]
    events = client.get(f"/v1/tickets/{ticket['id']}/events", headers=org.admin.headers)
    assert events.status_code == 200, events.text
    assert "sla_breached" in {e["type"] for e in events.json()["items"]}


# --- webhook and notify ------------------------------------------------------------------------


def _ses_sent(aws_endpoint: str) -> list[dict[str, Any]]:
    """Every message the emulator's SES accepted (its own record, over HTTP)."""
    with urlopen(f"{aws_endpoint}/moto-api/data.json") as response:
        return list(json.loads(response.read())["ses"]["RawMessage"])


def test_webhook_and_notify_leave_through_the_outbox_and_arrive(
    client, org, queues, receiver, aws_endpoint
):
    hook = client.post(
        "/v1/webhooks",
        headers=org.admin.headers,
        # Subscribed to something else: the rule's delivery goes to it whatever it hears.
        json={"url": receiver.url(f"/rule/{org.slug}"), "event_types": ["sla.escalation"]},
    )
    assert hook.status_code == 201, hook.text
    agent = org.members["agent"]
    marker = f"fx{uuid.uuid4().hex[:8]}"
    rule = _rule(
        client,
        org,
        name="Tell the world",
        kind="event",
        triggers=[{"event": "created"}],
        conditions={"all": [{"field": "title", "op": "contains", "value": marker}]},
        actions=[
            {"type": "webhook", "webhook_id": hook.json()["id"]},
            {
                "type": "notify",
                "to": ["requester", agent.user_id],
                "subject": "Rule saw {{ticket.number}}",
                "body": "Hello {{requester.first_name}}, {{ticket.title}} is with us.",
            },
        ],
    )
    boto3.client("sesv2").create_email_identity(EmailIdentity="no-reply@servicedesk.local")
    for queue in queues.values():
        _drain(queue.url)
    sent_before = len(_ses_sent(aws_endpoint))

    ticket = _ticket(client, org, f"{marker} printer jam")

    assert receiver.at(f"/rule/{org.slug}") == []  # nothing leaves inside the request
    [run] = _runs(client, org, rule["id"])
    assert [(o["type"], o["status"]) for o in run["outcomes"]] == [
        ("webhook", "applied"),
        ("notify", "applied"),
    ]
    _consume(queues["webhook"], "webhook_consumer")
    [request] = receiver.at(f"/rule/{org.slug}")
    headers, body = request["headers"], json.loads(request["body"])
    assert recipe_verify(hook.json()["secret"], headers["Servicedesk-Signature"], request["body"])
    assert not recipe_verify("whsec_other", headers["Servicedesk-Signature"], request["body"])
    assert headers["Servicedesk-Event-Type"] == body["type"] == "automation.webhook"
    assert body["data"]["ticket_id"] == ticket["id"] and body["data"]["rule_id"] == rule["id"]
    assert body["data"]["ticket"]["title"] == f"{marker} printer jam"
    logged = client.get(
        f"/v1/webhooks/{hook.json()['id']}/deliveries", headers=org.admin.headers
    ).json()["items"]
    assert [(d["success"], d["event_id"]) for d in logged] == [(True, body["id"])]

    _consume(queues["email"], "email_consumer")
    mails = [
        m
        for m in _ses_sent(aws_endpoint)[sent_before:]
        if "X-Servicedesk-Event: automation.notify" in m["raw_data"]
    ]
    requester = org.members["requester"]
    # One message each (moto lists a message's address once per place it read it).
    assert sorted(d for m in mails for d in set(m["destinations"])) == sorted(
        [requester.email, agent.email]
    )
    for mail in mails:
        assert f"Rule saw {ticket['number']}" in mail["raw_data"]
        assert "Hello Requester," in mail["raw_data"]
    for person in (requester, agent):
        inbox = client.get("/v1/notifications", headers=person.headers).json()["items"]
        assert [n["event_type"] for n in inbox if n["event_type"] == "automation.notify"] == [
            "automation.notify"
        ]


# --- dry run with business hours ---------------------------------------------------------------


def _holiday(now: datetime) -> date:
    """The last weekday before today, in the calendar's zone: it lies inside the threshold
    window, so it moves which tickets have had enough business hours."""
    day = now.astimezone(ZoneInfo(ZONE)).date() - timedelta(days=1)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def test_the_dry_run_of_a_business_hours_rule_names_the_tickets_it_then_fires_on(
    client, org, database
):
    now = datetime.now(UTC)
    holiday = _holiday(now)
    calendar = client.post(
        "/v1/calendars",
        headers=org.members["manager"].headers,
        json={
            "name": "New York office",
            "timezone": ZONE,
            "week": WEEK,
            "holidays": [str(holiday)],
        },
    )
    assert calendar.status_code == 201, calendar.text
    _policy(client, org, position=1, calendar_id=calendar.json()["id"])
    marker = f"bh{uuid.uuid4().hex[:8]}"
    # Entered their status every 7 hours over the last 15 days: across two weekends and the
    # holiday, at every hour of the day.
    ages = {}
    for n in range(1, 52):
        made = _ticket(client, org, f"{marker} {n}")
        ages[made["id"]] = now - timedelta(hours=7 * n, minutes=13)
    with database.connect("owner") as conn:
        for ticket_id, at in ages.items():
            conn.execute(
                "UPDATE tickets SET status_changed_at = %s, created_at = %s WHERE id = %s",
                (at, at, ticket_id),
            )
        conn.commit()
    threshold = 16  # two business days
    conditions = {
        "all": [
            {"field": "title", "op": "contains", "value": marker},
            {"field": "status", "op": "in", "value": ["new", "open"]},
            {
                "field": "hours_since_status_change",
                "op": "gte",
                "value": threshold,
                "business": True,
            },
        ]
    }

    dry = client.post(
        "/v1/automations/dry-run",
        headers=org.admin.headers,
        json={"kind": "time", "conditions": conditions, "limit": 100},
    )
    assert dry.status_code == 200, dry.text
    rule = _rule(
        client,
        org,
        name="Two business days",
        kind="time",
        conditions=conditions,
        actions=[{"type": "add_tags", "tags": ["stale"]}],
    )
    ran_at = datetime.now(UTC)
    assert timed.run(ran_at).failed_tenants == []

    matched = {t["id"] for t in dry.json()["items"]}
    fired = {r["ticket_id"] for r in _runs(client, org, rule["id"]) if r["status"] == "fired"}
    assert dry.json()["count"] == len(matched) and matched == fired

    def expected(cal: BusinessCalendar) -> set[str]:
        return {
            ticket_id
            for ticket_id, at in ages.items()
            if business_seconds_between(cal, at, ran_at) >= threshold * 3600
        }

    week = [[(9 * 60, 17 * 60)]] * 5 + [[]] * 2
    office = BusinessCalendar.build(ZONE, week, holidays=[holiday])
    assert fired == expected(office)
    # The weekend and the holiday both count: without either the set would differ.
    assert fired != expected(BusinessCalendar.always())
    assert fired != expected(BusinessCalendar.build(ZONE, week))
    tagged = {
        t
        for t in ages
        if "stale" in client.get(f"/v1/tickets/{t}", headers=org.admin.headers).json()["tags"]
    }
    assert tagged == fired
