"""The e-mail intake end to end over real sockets: smtplib -> the local SMTP door (aiosmtpd
on 127.0.0.1) -> the mail bucket and the intake queue (moto over HTTP) -> the
functions/email_intake handler (polled as make dev polls it) -> PostgreSQL. Nothing of
ours is mocked; a crash before the commit is a real failed commit (a deferred trigger)."""

from __future__ import annotations

import json
import smtplib
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

import psycopg
import pytest

from local.app import load_function
from local.aws import free_port
from servicedesk.platform.aws import reset as reset_aws_clients
from servicedesk.platform.config import get_settings
from tests.conftest import TenantFixture, current_database, make_tenant
from tests.integration import test_notifications as notifications

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")

SMTP_POLICY = policy.SMTP
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(200))
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 120


@pytest.fixture(scope="module", autouse=True)
def mail_env(aws_endpoint: str, database: Any) -> Iterator[dict[str, Any]]:
    """The mail bucket, the intake queue (+ DLQ), the attachments bucket and the SMTP door,
    as make dev makes them."""
    import os

    from local import aws, queues, smtp
    from tests.conftest import reset_caches

    reset_aws_clients()
    prefix = f"mi{uuid.uuid4().hex[:8]}"
    made = queues.ensure_queues(
        prefix, max_receive_count=5, visibility_timeout=1, channels=queues.CHANNELS
    )
    previous = os.environ.get("SERVICEDESK_EMAIL_INTAKE_QUEUE_URL")
    os.environ["SERVICEDESK_EMAIL_INTAKE_QUEUE_URL"] = made["email_intake"].url
    reset_caches()
    settings = get_settings()
    aws.ensure_mail_bucket(settings.email_inbound_bucket)
    aws.ensure_bucket(settings.attachments_bucket, cors_origin=settings.web_origin)
    door = smtp.server(port=free_port(), settings=settings)
    door.start()
    try:
        yield {"queue": made["email_intake"], "port": door.port}
    finally:
        door.stop()
        if previous is None:
            os.environ.pop("SERVICEDESK_EMAIL_INTAKE_QUEUE_URL", None)
        else:
            os.environ["SERVICEDESK_EMAIL_INTAKE_QUEUE_URL"] = previous
        reset_caches()


@pytest.fixture
def org(client: Any) -> TenantFixture:
    return make_tenant(client, roles=("agent", "manager", "requester"))


def set_mail(client: Any, org: TenantFixture, **changes: Any) -> None:
    """Change the tenant's mail settings (as its admin, with the ETag read first)."""
    current = client.get("/v1/mail/settings", headers=org.admin.headers)
    changed = client.put(
        "/v1/mail/settings",
        json={**current.json(), **changes},
        headers={**org.admin.headers, "If-Match": current.headers["ETag"]},
    )
    assert changed.status_code == 200, changed.text


def inbound(slug: str) -> str:
    return f"{slug}@{get_settings().email_inbound_domain}"


def message(
    *,
    sender: str,
    to: str,
    subject: str = "Printer on floor 3 is jammed",
    body: str = "Hello,\n\nthe printer jams on every page.\n\nThanks",
    message_id: str | None = None,
    headers: dict[str, str] | None = None,
    attachments: tuple[tuple[str, str, bytes], ...] = (),
) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = f"Sam Sender <{sender}>"
    mail["To"] = to
    mail["Subject"] = subject
    mail["Message-ID"] = message_id or make_msgid(domain="client.example")
    for name, value in (headers or {}).items():
        mail[name] = value
    mail.set_content(body)
    for filename, content_type, content in attachments:
        maintype, subtype = content_type.split("/")
        mail.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return mail


def send(
    mail_env: dict[str, Any], mail: EmailMessage, *, rcpt: list[str], mail_from: str | None = None
) -> None:
    with smtplib.SMTP("127.0.0.1", mail_env["port"], timeout=30) as smtp:
        smtp.sendmail(
            mail_from if mail_from is not None else str(mail["From"]).split("<")[-1].rstrip(">"),
            rcpt,
            mail.as_bytes(policy=SMTP_POLICY),  # CRLF line ends, as mail clients send
        )


def drain(mail_env: dict[str, Any], *, rounds: int = 20) -> tuple[int, int]:
    """Feed the intake until its queue is empty, as the event source mapping would;
    (processed, failed)."""
    from local.queues import poll_once

    handler = load_function("email_intake").handler
    done = failed = 0
    for _ in range(rounds):
        processed, failures = poll_once(mail_env["queue"], handler, wait_seconds=0)
        done, failed = done + processed, failed + failures
        if processed == 0 and failures == 0:
            break
    return done, failed


def owner_rows(sql: str, *args: Any) -> list[tuple[Any, ...]]:
    url = current_database().owner_url.set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(url) as conn:
        return list(conn.execute(sql, args).fetchall())


def log_of(tenant_id: str) -> list[tuple[Any, ...]]:
    return owner_rows(
        "SELECT outcome, reason, ticket_id, comment_id, notes, id FROM inbound_mail"
        " WHERE tenant_id = %s ORDER BY created_at, id",
        tenant_id,
    )


def reply_address(ticket: dict[str, Any]) -> str:
    from servicedesk.notifications.templates import reply_address as make

    address = make(uuid.UUID(ticket["id"]), ticket["number"], get_settings())
    assert address is not None
    return address


def comments_of(client: Any, actor: Any, ticket_id: str) -> list[dict[str, Any]]:
    response = client.get(f"/v1/tickets/{ticket_id}/comments", headers=actor.headers)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def open_by_mail(
    client: Any, mail_env: dict[str, Any], org: TenantFixture, sender: str, **kw: Any
) -> tuple[dict[str, Any], EmailMessage]:
    mail = message(sender=sender, to=inbound(org.slug), **kw)
    send(mail_env, mail, rcpt=[inbound(org.slug)])
    drain(mail_env)
    rows = [r for r in log_of(org.tenant_id) if r[0] == "ticket"]
    assert rows, log_of(org.tenant_id)
    ticket = client.get(f"/v1/tickets/{rows[-1][2]}", headers=org.admin.headers)
    assert ticket.status_code == 200, ticket.text
    return ticket.json(), mail


# --- new tickets ------------------------------------------------------------------------


def test_an_unknown_sender_opens_a_ticket_as_a_new_requester(client, mail_env, org):
    sender = f"newcomer-{uuid.uuid4().hex[:6]}@customer.example"
    ticket, mail = open_by_mail(client, mail_env, org, sender)
    assert ticket["channel"] == "email"
    assert ticket["title"] == "Printer on floor 3 is jammed"
    assert "the printer jams on every page" in ticket["description"]
    person = owner_rows(
        "SELECT u.password_hash, m.role FROM users u JOIN memberships m ON m.user_id = u.id"
        " WHERE u.email = %s AND m.tenant_id = %s",
        sender,
        org.tenant_id,
    )
    assert person == [(None, "requester")]
    assert str(ticket["requester_id"]) == str(
        owner_rows("SELECT id FROM users WHERE email = %s", sender)[0][0]
    )
    # The requester's confirmation is on its way (ticket.received), and the timeline says
    # how the ticket came in.
    received = owner_rows(
        "SELECT count(*) FROM outbox WHERE event_type = 'ticket.received' AND aggregate_id = %s",
        ticket["id"],
    )
    assert received == [(1,)]
    events = client.get(
        f"/v1/tickets/{ticket['id']}/events", headers=org.members["agent"].headers
    ).json()
    assert "received_by_email" in {e["type"] for e in events["items"]}
    ids = owner_rows(
        "SELECT message_id, direction FROM mail_message_ids WHERE ticket_id = %s", ticket["id"]
    )
    assert ids == [(str(mail["Message-ID"]), "in")]


def test_unknown_senders_are_held_when_the_tenant_says_so(client, mail_env, org):
    set_mail(client, org, unknown_senders_may_open=False)
    sender = f"stranger-{uuid.uuid4().hex[:6]}@customer.example"
    send(mail_env, message(sender=sender, to=inbound(org.slug)), rcpt=[inbound(org.slug)])
    drain(mail_env)
    assert [r[:2] for r in log_of(org.tenant_id)] == [("held", "unknown_sender")]
    assert owner_rows("SELECT 1 FROM users WHERE email = %s", sender) == []


def test_a_member_opens_a_ticket_with_attachments_and_a_refused_file_is_noted(
    client, mail_env, org
):
    requester = org.members["requester"]
    ticket, _ = open_by_mail(
        client,
        mail_env,
        org,
        requester.email,
        attachments=(
            ("screen.png", "application/octet-stream", PNG),
            ("tool.exe", "application/octet-stream", EXE),
        ),
    )
    assert ticket["requester_id"] == requester.user_id
    files = client.get(f"/v1/tickets/{ticket['id']}/attachments", headers=requester.headers)
    assert [(f["filename"], f["content_type"], f["status"]) for f in files.json()["items"]] == [
        ("screen.png", "image/png", "available")
    ]
    notes = log_of(org.tenant_id)[-1][4]
    assert any(n.get("attachment") == "tool.exe" for n in notes if isinstance(n, dict))


# --- threading --------------------------------------------------------------------------


def test_a_reply_threads_by_its_token_when_the_client_drops_the_headers(client, mail_env, org):
    requester = org.members["requester"]
    ticket, _ = open_by_mail(client, mail_env, org, requester.email)
    address = reply_address(ticket)
    reply = message(sender=requester.email, to=address, subject="Re: it", body="Still jammed.")
    send(mail_env, reply, rcpt=[address])
    drain(mail_env)
    bodies = [c["body"] for c in comments_of(client, requester, ticket["id"])]
    assert bodies == ["Still jammed."]
    assert log_of(org.tenant_id)[-1][:2] == ("comment", "token")


def test_a_reply_threads_by_its_headers_when_the_client_drops_the_token(client, mail_env, org):
    requester = org.members["requester"]
    ticket, first = open_by_mail(client, mail_env, org, requester.email)
    reply = message(
        sender=requester.email,
        to=inbound(org.slug),
        subject="Re: printer",
        body="Also the scanner.",
        headers={"In-Reply-To": str(first["Message-ID"]), "References": str(first["Message-ID"])},
    )
    send(mail_env, reply, rcpt=[inbound(org.slug)])
    drain(mail_env)
    assert [c["body"] for c in comments_of(client, requester, ticket["id"])] == [
        "Also the scanner."
    ]
    assert log_of(org.tenant_id)[-1][:2] == ("comment", "in_reply_to")


def test_a_reply_threads_by_the_subject_number_only_for_a_participant(client, mail_env, org):
    requester = org.members["requester"]
    ticket, _ = open_by_mail(client, mail_env, org, requester.email)
    subject = f"Re: [{ticket['number']}] Printer"
    send(
        mail_env,
        message(sender=requester.email, to=inbound(org.slug), subject=subject, body="Fixed?"),
        rcpt=[inbound(org.slug)],
    )
    drain(mail_env)
    assert [c["body"] for c in comments_of(client, requester, ticket["id"])] == ["Fixed?"]
    # Someone else naming the number opens their own ticket instead.
    other = f"other-{uuid.uuid4().hex[:6]}@customer.example"
    send(
        mail_env,
        message(sender=other, to=inbound(org.slug), subject=subject, body="Me too"),
        rcpt=[inbound(org.slug)],
    )
    drain(mail_env)
    assert len(comments_of(client, requester, ticket["id"])) == 1
    last = log_of(org.tenant_id)[-1]
    assert last[0] == "ticket" and str(last[2]) != ticket["id"]


def test_a_reply_from_a_non_participant_is_held_then_accepted_by_an_agent(client, mail_env, org):
    requester, agent = org.members["requester"], org.members["agent"]
    ticket, _ = open_by_mail(client, mail_env, org, requester.email)
    outsider = f"outsider-{uuid.uuid4().hex[:6]}@customer.example"
    address = reply_address(ticket)
    send(
        mail_env,
        message(sender=outsider, to=address, subject="Re: x", body="I know the fix."),
        rcpt=[address],
    )
    drain(mail_env)
    assert comments_of(client, requester, ticket["id"]) == []
    held = client.get("/v1/mail/held", headers=agent.headers)
    assert held.status_code == 200
    (item,) = held.json()["items"]
    assert item["reason"] == "not_participant" and item["ticket_id"] == ticket["id"]
    shown = client.get(f"/v1/mail/held/{item['id']}", headers=agent.headers)
    assert shown.status_code == 200, shown.text
    assert "I know the fix." in shown.json()["text"]
    assert any(name.lower() == "message-id" for name, _ in shown.json()["headers"])
    # Requesters see none of it.
    assert client.get("/v1/mail/held", headers=requester.headers).status_code == 403
    accepted = client.post(
        f"/v1/mail/held/{item['id']}/accept-comment",
        json={"ticket_id": ticket["id"], "version": item["version"]},
        headers=agent.headers,
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["resolution"] == "comment"
    assert [c["body"] for c in comments_of(client, requester, ticket["id"])] == ["I know the fix."]
    again = client.post(f"/v1/mail/held/{item['id']}/discard", json={}, headers=agent.headers)
    assert again.status_code == 409
    assert client.get("/v1/mail/held", headers=agent.headers).json()["items"] == []


def test_a_forged_token_and_another_tenants_token_attach_to_nothing(client, mail_env, org):
    requester = org.members["requester"]
    ticket, _ = open_by_mail(client, mail_env, org, requester.email)
    other = make_tenant(client, roles=("requester",))
    theirs, _ = open_by_mail(client, mail_env, other, other.members["requester"].email)
    # A forged signature on our own number: no tenant takes it.
    forged = f"reply+{ticket['number'].lower()}.0123456789abcdef@servicedesk.local"
    send(mail_env, message(sender=requester.email, to=forged, body="forged"), rcpt=[forged])
    # Their token with our number: no ticket's HMAC matches.
    token = reply_address(theirs).split(".")[-1].split("@")[0]
    mixed = f"reply+{ticket['number'].lower()}.{token}@servicedesk.local"
    send(mail_env, message(sender=requester.email, to=mixed, body="mixed"), rcpt=[mixed])
    # Their reply address in the headers of mail sent to us: never their ticket.
    send(
        mail_env,
        message(
            sender=requester.email,
            to=f"{inbound(org.slug)}, {reply_address(theirs)}",
            subject="Hello",
            body="crossed",
        ),
        rcpt=[inbound(org.slug)],
    )
    drain(mail_env)
    assert comments_of(client, requester, ticket["id"]) == []
    assert comments_of(client, other.members["requester"], theirs["id"]) == []
    ours = log_of(org.tenant_id)
    assert ours[-1][0] == "ticket" and "forged_or_foreign_reply_token" in ours[-1][4]
    assert len(log_of(other.tenant_id)) == 1  # only their own first message


def test_duplicate_delivery_yields_one_comment(client, mail_env, org):
    requester = org.members["requester"]
    ticket, _ = open_by_mail(client, mail_env, org, requester.email)
    address = reply_address(ticket)
    reply = message(sender=requester.email, to=address, body="Once only.")
    send(mail_env, reply, rcpt=[address])
    send(mail_env, reply, rcpt=[address])  # the same Message-ID, another object
    import boto3

    queue = mail_env["queue"]
    sqs = boto3.client("sqs")
    drain(mail_env)
    # The very same notification delivered twice (SQS at least once).
    key = owner_rows(
        "SELECT object_key FROM inbound_mail WHERE tenant_id = %s ORDER BY created_at DESC",
        org.tenant_id,
    )[0][0]
    from servicedesk.mail import inbox

    arrival = inbox.Arrival(
        bucket=get_settings().email_inbound_bucket,
        key=key,
        message_id="dup",
        door="smtp",
        mail_from=requester.email,
        recipients=(address,),
        received_at=datetime.now(UTC),
        verdicts={},
    )
    for _ in range(2):
        sqs.send_message(QueueUrl=queue.url, MessageBody=inbox.notification(arrival))
    drain(mail_env)
    assert [c["body"] for c in comments_of(client, requester, ticket["id"])] == ["Once only."]


def test_a_failed_commit_loses_nothing_and_the_redelivery_writes_once(client, mail_env, org):
    requester = org.members["requester"]
    ticket, _ = open_by_mail(client, mail_env, org, requester.email)
    name = f"fail_once_{uuid.uuid4().hex[:8]}"
    url = current_database().owner_url.set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE SEQUENCE {name}")
        conn.execute(f"GRANT USAGE ON SEQUENCE {name} TO servicedesk_app")
        conn.execute(
            f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
            f" IF NEW.tenant_id = '{org.tenant_id}' AND NEW.comment_id IS NOT NULL"
            f" AND nextval('{name}') = 1 THEN RAISE EXCEPTION 'commit fails once'; END IF;"
            " RETURN NULL; END $$"
        )
        conn.execute(
            f"CREATE CONSTRAINT TRIGGER {name} AFTER INSERT OR UPDATE ON inbound_mail"
            f" DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION {name}()"
        )
    try:
        address = reply_address(ticket)
        send(
            mail_env, message(sender=requester.email, to=address, body="Survives."), rcpt=[address]
        )
        from local.queues import poll_once

        handler = load_function("email_intake").handler
        processed, failed = poll_once(mail_env["queue"], handler, wait_seconds=1)
        assert (processed, failed) == (0, 1)
        assert comments_of(client, requester, ticket["id"]) == []
        assert [r[0] for r in log_of(org.tenant_id)] == ["ticket"]  # nothing half-written
        time.sleep(1.5)  # the visibility timeout: SQS delivers it again
        drain(mail_env)
        assert [c["body"] for c in comments_of(client, requester, ticket["id"])] == ["Survives."]
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"DROP TRIGGER {name} ON inbound_mail")


# --- closed and merged tickets ----------------------------------------------------------


def _close(client: Any, org: TenantFixture, ticket: dict[str, Any]) -> None:
    moved = client.post(
        f"/v1/tickets/{ticket['id']}/transitions",
        json={"to": "closed"},
        headers=org.members["agent"].headers,
    )
    assert moved.status_code == 200, moved.text


def test_a_reply_to_a_closed_ticket_reopens_it_by_default(client, mail_env, org):
    requester = org.members["requester"]
    ticket, _ = open_by_mail(client, mail_env, org, requester.email)
    _close(client, org, ticket)
    address = reply_address(ticket)
    send(mail_env, message(sender=requester.email, to=address, body="Back again."), rcpt=[address])
    drain(mail_env)
    now = client.get(f"/v1/tickets/{ticket['id']}", headers=requester.headers).json()
    assert now["status"] == "open"
    assert [c["body"] for c in comments_of(client, requester, ticket["id"])] == ["Back again."]


@pytest.mark.parametrize(("policy", "outcome"), [("hold", "held"), ("new_ticket", "ticket")])
def test_a_reply_to_a_closed_ticket_per_tenant_setting(client, mail_env, org, policy, outcome):
    set_mail(client, org, closed_ticket_reply=policy)
    requester = org.members["requester"]
    ticket, _ = open_by_mail(client, mail_env, org, requester.email)
    _close(client, org, ticket)
    address = reply_address(ticket)
    send(mail_env, message(sender=requester.email, to=address, body="Again."), rcpt=[address])
    drain(mail_env)
    last = log_of(org.tenant_id)[-1]
    assert last[0] == outcome
    assert comments_of(client, requester, ticket["id"]) == []
    if outcome == "ticket":
        links = client.get(f"/v1/tickets/{last[2]}/links", headers=requester.headers)
        assert ticket["id"] in json.dumps(links.json())


def test_a_reply_to_a_merged_ticket_follows_the_merge(client, mail_env, org):
    requester, agent = org.members["requester"], org.members["agent"]
    first, _ = open_by_mail(client, mail_env, org, requester.email)
    second, _ = open_by_mail(client, mail_env, org, requester.email, subject="Same printer")
    merged = client.post(
        f"/v1/tickets/{first['id']}/merge", json={"target_id": second["id"]}, headers=agent.headers
    )
    assert merged.status_code in (200, 201), merged.text
    address = reply_address(first)
    send(mail_env, message(sender=requester.email, to=address, body="Merged?"), rcpt=[address])
    drain(mail_env)
    last = log_of(org.tenant_id)[-1]
    assert last[0] == "comment" and str(last[2]) == second["id"]


# --- loops and junk -----------------------------------------------------------------------


def test_machine_mail_and_our_own_mail_are_ignored_never_answered(client, mail_env, org):
    requester = org.members["requester"]
    to = inbound(org.slug)
    send(
        mail_env,
        message(sender=requester.email, to=to, headers={"Auto-Submitted": "auto-replied"}),
        rcpt=[to],
    )
    send(mail_env, message(sender=requester.email, to=to), rcpt=[to], mail_from="")
    send(
        mail_env,
        message(sender=requester.email, to=to, message_id="<abc.def@servicedesk.local>"),
        rcpt=[to],
    )
    drain(mail_env)
    reasons = [(r[0], r[1]) for r in log_of(org.tenant_id)]
    assert reasons[0] == ("ignored", "auto_submitted")
    assert reasons[1:] == [("ignored", "null_sender"), ("ignored", "own_message")]
    assert owner_rows(
        "SELECT count(*) FROM outbox WHERE tenant_id = %s AND event_type = 'ticket.received'",
        org.tenant_id,
    ) == [(0,)]


def test_spam_and_virus_verdicts(client, mail_env, org):
    from servicedesk.mail import inbox

    to = inbound(org.slug)
    for verdicts in ({"spam": "FAIL"}, {"virus": "FAIL"}):
        inbox.deposit(
            message(sender=org.members["requester"].email, to=to).as_bytes(),
            door="hook",
            mail_from="x@customer.example",
            recipients=[to],
            settings=get_settings(),
            verdicts=verdicts,
        )
    drain(mail_env)
    assert [(r[0], r[1]) for r in log_of(org.tenant_id)] == [
        ("ignored", "spam"),
        ("rejected", "virus"),
    ]
    manager, agent = org.members["manager"], org.members["agent"]
    log = client.get("/v1/mail/log?outcome=rejected", headers=manager.headers)
    assert [i["reason"] for i in log.json()["items"]] == ["virus"]
    assert client.get("/v1/mail/log", headers=agent.headers).status_code == 403
    rejected = log.json()["items"][0]["id"]
    assert client.get(f"/v1/mail/messages/{rejected}", headers=agent.headers).status_code == 404
    assert client.get(f"/v1/mail/messages/{rejected}", headers=manager.headers).status_code == 200


def test_a_sender_over_the_rate_limit_is_held(client, mail_env, org):
    set_mail(client, org, sender_max_messages=2)
    to = inbound(org.slug)
    for n in range(4):
        send(
            mail_env,
            message(sender=org.members["requester"].email, to=to, subject=f"n{n}"),
            rcpt=[to],
        )
        drain(mail_env)
    assert [(r[0], r[1]) for r in log_of(org.tenant_id)] == [
        ("ticket", "new"),
        ("ticket", "new"),
        ("held", "rate_limited"),
        ("held", "rate_limited"),
    ]
    told = owner_rows(
        "SELECT count(*) FROM outbox WHERE tenant_id = %s AND event_type = 'mail.held'",
        org.tenant_id,
    )
    assert told == [(1,)]  # once per window


# --- addresses ------------------------------------------------------------------------


def test_aliases_route_to_their_team_and_are_unique_across_tenants(client, mail_env, org):
    admin = org.admin
    team = client.post("/v1/teams", json={"name": "HR"}, headers=admin.headers)
    assert team.status_code == 201, team.text
    domain = get_settings().email_inbound_domain
    alias = f"{org.slug}-hr@{domain}"
    made = client.post(
        "/v1/mail/addresses",
        json={"address": alias, "team_id": team.json()["id"]},
        headers=admin.headers,
    )
    assert made.status_code == 201, made.text
    listed = client.get("/v1/mail/addresses", headers=admin.headers).json()
    assert listed["default_address"] == inbound(org.slug)
    assert [a["address"] for a in listed["items"]] == [alias]
    # Another tenant cannot take it, and is not told who has it.
    other = make_tenant(client, roles=())
    taken = client.post(
        "/v1/mail/addresses", json={"address": "support@shared.example"}, headers=admin.headers
    )
    assert taken.status_code == 201
    clash = client.post(
        "/v1/mail/addresses",
        json={"address": "support@shared.example"},
        headers=other.admin.headers,
    )
    assert clash.status_code == 409
    assert org.slug not in clash.text
    # Not another tenant's slug on our domain.
    wrong = client.post(
        "/v1/mail/addresses", json={"address": f"{other.slug}-x@{domain}"}, headers=admin.headers
    )
    assert wrong.status_code == 422
    # Mail to the alias lands on its team; a forwarded alias matches on To.
    send(mail_env, message(sender=org.members["requester"].email, to=alias), rcpt=[alias])
    send(
        mail_env,
        message(sender=org.members["requester"].email, to="support@shared.example"),
        rcpt=[inbound(org.slug)],
    )
    drain(mail_env)
    rows = log_of(org.tenant_id)
    assert [r[0] for r in rows] == ["ticket", "ticket"]
    first = client.get(f"/v1/tickets/{rows[0][2]}", headers=admin.headers).json()
    assert first["team_id"] == team.json()["id"]
    assert owner_rows(
        "SELECT a.address FROM inbound_mail m JOIN mail_addresses a ON a.id = m.alias_id"
        " WHERE m.id = %s",
        rows[1][5],
    ) == [("support@shared.example",)]
    # Isolation: the other tenant's admin sees neither.
    mine = made.json()["id"]
    assert client.get(f"/v1/mail/addresses/{mine}", headers=other.admin.headers).status_code == 404
    assert (
        client.get(f"/v1/mail/messages/{rows[0][5]}", headers=other.admin.headers).status_code
        == 404
    )
    assert client.get("/v1/mail/addresses", headers=org.members["agent"].headers).status_code == 403


def test_the_smtp_door_refuses_foreign_domains_and_oversize(mail_env):
    with smtplib.SMTP("127.0.0.1", mail_env["port"], timeout=30) as smtp:
        smtp.ehlo()
        assert smtp.has_extn("size")
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
            smtp.sendmail(
                "a@customer.example", ["someone@elsewhere.example"], b"Subject: x\r\n\r\nx"
            )
        code = refused.value.recipients["someone@elsewhere.example"][0]
        assert code == 550
        too_big = b"Subject: big\r\n\r\n" + b"x" * (get_settings().email_max_message_bytes + 10)
        with pytest.raises((smtplib.SMTPSenderRefused, smtplib.SMTPDataError)) as big:
            smtp.sendmail(
                "a@customer.example",
                [f"nobody@{get_settings().email_inbound_domain}"],
                too_big,
            )
        assert getattr(big.value, "smtp_code", None) == 552


# --- outbound threading -------------------------------------------------------------------

wiring = notifications.wiring


def test_our_mail_threads_under_the_requesters_own_and_answers_to_it_thread(
    client, mail_env, org, wiring
):
    sender = f"threads-{uuid.uuid4().hex[:6]}@customer.example"
    ticket, first = open_by_mail(client, mail_env, org, sender)
    wiring.drain()
    (confirmation,) = wiring.mails(to=sender, event="ticket.received")
    assert confirmation["In-Reply-To"] == first["Message-ID"]
    assert first["Message-ID"] in str(confirmation["References"]).split()
    notifications._comment(client, org.members["agent"], ticket, "Try switching it off.")
    wiring.drain()
    (answer,) = wiring.mails(to=sender, event="comment.public")
    assert answer["In-Reply-To"] == first["Message-ID"]
    recorded = owner_rows(
        "SELECT ticket_id, direction FROM mail_message_ids WHERE message_id = %s",
        str(answer["Message-ID"]),
    )
    assert [(str(t), d) for t, d in recorded] == [(ticket["id"], "out")]
    # Their client answers our mail by its headers alone (no token in the address).
    reply = message(
        sender=sender,
        to=inbound(org.slug),
        subject="Re: done",
        body="That worked.",
        headers={"In-Reply-To": str(answer["Message-ID"])},
    )
    send(mail_env, reply, rcpt=[inbound(org.slug)])
    drain(mail_env)
    assert log_of(org.tenant_id)[-1][:2] == ("comment", "in_reply_to")
    # Our own mail coming back is never taken: as it is (it says it is automatic), and
    # stripped of that and sent on by someone (its Message-ID is one we sent).
    send(mail_env, answer, rcpt=[inbound(org.slug)], mail_from=sender)
    del answer["Auto-Submitted"]
    del answer["From"]
    answer["From"] = sender
    send(mail_env, answer, rcpt=[inbound(org.slug)], mail_from=sender)
    drain(mail_env)
    assert [r[:2] for r in log_of(org.tenant_id)[-2:]] == [
        ("ignored", "auto_submitted"),
        ("ignored", "own_message"),
    ]


def test_held_mail_accepted_as_a_ticket_or_discarded_and_isolated(client, mail_env, org):
    set_mail(client, org, unknown_senders_may_open=False)
    to = inbound(org.slug)
    for n in range(2):
        sender = f"held{n}-{uuid.uuid4().hex[:6]}@customer.example"
        send(mail_env, message(sender=sender, to=to, subject=f"Held {n}"), rcpt=[to])
    drain(mail_env)
    agent = org.members["agent"]
    items = client.get("/v1/mail/held?limit=1", headers=agent.headers).json()
    assert len(items["items"]) == 1 and items["next_cursor"]
    rest = client.get(
        f"/v1/mail/held?limit=1&cursor={items['next_cursor']}", headers=agent.headers
    ).json()
    newest, oldest = items["items"][0], rest["items"][0]
    # Another tenant's staff and this tenant's requester see none of it.
    other = make_tenant(client, roles=("agent",))
    assert (
        client.get(
            f"/v1/mail/held/{newest['id']}", headers=other.members["agent"].headers
        ).status_code
        == 404
    )
    assert (
        client.post(
            f"/v1/mail/held/{newest['id']}/discard", json={}, headers=other.members["agent"].headers
        ).status_code
        == 404
    )
    requester = org.members["requester"].headers
    assert client.get(f"/v1/mail/held/{newest['id']}", headers=requester).status_code == 403
    accept = {"Idempotency-Key": f"accept-{uuid.uuid4()}", **agent.headers}
    made = client.post(
        f"/v1/mail/held/{newest['id']}/accept-ticket",
        json={"title": "Accepted by an agent"},
        headers=accept,
    )
    assert made.status_code == 201, made.text
    assert made.json()["channel"] == "email" and made.json()["title"] == "Accepted by an agent"
    # A retry (the answer was lost) gets the same ticket, not a conflict or a second one.
    again = client.post(
        f"/v1/mail/held/{newest['id']}/accept-ticket",
        json={"title": "Accepted by an agent"},
        headers=accept,
    )
    assert again.status_code == 201 and again.json()["id"] == made.json()["id"]
    stale = client.post(
        f"/v1/mail/held/{oldest['id']}/discard",
        json={"note": "spam", "version": oldest["version"] + 1},
        headers=agent.headers,
    )
    assert stale.status_code == 412
    gone = client.post(
        f"/v1/mail/held/{oldest['id']}/discard", json={"note": "spam"}, headers=agent.headers
    )
    assert gone.status_code == 200 and gone.json()["resolution"] == "discarded"
    assert client.get("/v1/mail/held", headers=agent.headers).json()["items"] == []
    messages = client.get(
        f"/v1/mail/tickets/{made.json()['id']}/messages", headers=agent.headers
    ).json()
    assert [m["id"] for m in messages] == [newest["id"]]


def test_two_copies_taken_at_once_make_one_outcome(client, mail_env, org):
    """Two pollers with the same arrival at the same moment: the unique claim decides."""
    import threading

    from servicedesk.mail import inbox, intake

    requester = org.members["requester"]
    ticket, _ = open_by_mail(client, mail_env, org, requester.email)
    address = reply_address(ticket)
    raw = message(sender=requester.email, to=address, body="Concurrent.").as_bytes(
        policy=SMTP_POLICY
    )
    arrival = inbox.deposit(
        raw, door="hook", mail_from=requester.email, recipients=[address], settings=get_settings()
    )
    drain_copy = threading.Barrier(2)
    results: list[Any] = []

    def take() -> None:
        drain_copy.wait()
        results.extend(intake.take(arrival, get_settings()))

    threads = [threading.Thread(target=take) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(d.duplicate for d in results) == [False, True]
    drain(mail_env)  # the queued notification: a third copy
    assert [c["body"] for c in comments_of(client, requester, ticket["id"])] == ["Concurrent."]


def test_staff_hear_of_held_mail(client, mail_env, org, wiring):
    set_mail(client, org, unknown_senders_may_open=False)
    to = inbound(org.slug)
    sender = f"unknown-{uuid.uuid4().hex[:6]}@customer.example"
    send(mail_env, message(sender=sender, to=to, subject="Please help"), rcpt=[to])
    drain(mail_env)
    wiring.drain()
    agent, requester = org.members["agent"], org.members["requester"]
    (told,) = wiring.mails(to=agent.email, event="mail.held")
    assert "/held-mail" in told.get_body(preferencelist=("plain",)).get_content()
    assert "Reply-To" not in told
    assert wiring.mails(to=requester.email, event="mail.held") == []
    assert wiring.mails(to=sender) == []  # the sender is never answered
    inbox_items = client.get("/v1/notifications", headers=agent.headers).json()["items"]
    assert any(n["event_type"] == "mail.held" for n in inbox_items)
