"""The corpus of tests/fixtures/email/ through the real path: each message, its
placeholders filled as the corpus README says, is sent with smtplib to the local SMTP door
(aiosmtpd on 127.0.0.1), lands in the mail bucket and on the intake queue (moto over
HTTP), is taken by the functions/email_intake handler, and must end as its
``expected.json`` "intake" block says."""

from __future__ import annotations

import json
import re
import smtplib
import uuid
from pathlib import Path
from typing import Any

import pytest

from servicedesk.attachments import magic
from servicedesk.platform.config import get_settings
from tests.conftest import TenantFixture, make_tenant
from tests.integration.test_mail_intake import (
    drain,
    inbound,
    log_of,
    mail_env,
    reply_address,
    set_mail,
)

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "email"
CASES = sorted(
    p.name.removesuffix(".expected.json")
    for p in CORPUS.glob("*.expected.json")
    if "intake" in json.loads(p.read_text())
)
# The corpus names a comment "reply"; a new ticket's reason is ours ("new"), the corpus's
# null; a refused attachment is a note on the outcome, not its reason.
OUTCOMES = {"reply": "comment"}
MACHINE = {"bounce", "mailer_daemon"}  # sent with a null envelope sender, as MTAs do

__all__ = ["mail_env"]


@pytest.fixture(scope="module")
def desk(client: Any, mail_env: dict[str, Any]) -> TenantFixture:
    org = make_tenant(client, roles=("agent", "requester"))
    set_mail(client, org, sender_max_messages=10_000)
    return org


def test_the_corpus_is_large_enough():
    assert len(CASES) >= 40


@pytest.mark.parametrize("name", CASES)
def test_corpus_message_end_to_end(client, mail_env, desk, name):
    expected = json.loads((CORPUS / f"{name}.expected.json").read_text())
    intake = expected["intake"]
    raw = (CORPUS / f"{name}.eml").read_bytes()
    requester = desk.members["requester"]
    ticket = client.post(
        "/v1/tickets", json={"title": f"Corpus {name}"}, headers=requester.headers
    ).json()
    domain = get_settings().email_inbound_domain
    thread_id = f"<ticket-{ticket['id']}@servicedesk.local>"  # what our mail carries
    values = {
        b"{{TO}}": inbound(desk.slug).encode(),
        b"{{REPLY_ADDRESS}}": reply_address(ticket).encode(),
        b"{{IN_REPLY_TO}}": thread_id.encode(),
        b"{{NUMBER}}": ticket["number"].encode(),
        b"{{FROM}}": requester.email.encode(),
    }
    for placeholder, value in values.items():
        raw = raw.replace(placeholder, value)
    # Each run its own Message-ID (the dedupe would otherwise take a rerun for a copy).
    raw = re.sub(
        rb"(?im)^(Message-ID:\s*<)",
        lambda m: m.group(1) + f"run{uuid.uuid4().hex[:8]}.".encode(),
        raw,
        count=1,
    )
    raw = re.sub(rb"\r?\n", b"\r\n", raw)  # on the wire, lines end in CRLF
    sender = (expected.get("from_address") or "someone@customer.example").replace(
        "{{FROM}}", requester.email
    )
    if expected.get("auto") in MACHINE:
        sender = ""
    before = len(log_of(desk.tenant_id))
    with smtplib.SMTP("127.0.0.1", mail_env["port"], timeout=60) as smtp:
        smtp.sendmail(sender, [f"{desk.slug}@{domain}"], raw)
    drain(mail_env)
    rows = log_of(desk.tenant_id)[before:]
    assert len(rows) == 1, rows
    outcome, reason, ticket_id, comment_id, notes, _ = rows[0]
    assert outcome == OUTCOMES.get(intake["outcome"], intake["outcome"]), (name, rows[0])
    if intake["outcome"] == "ticket":
        # Every attachment of a type uploads accept is stored; the others (calendar
        # invitations, S/MIME signatures, winmail.dat, forwarded .eml) are refused and noted.
        refused = {n["attachment"] for n in notes if isinstance(n, dict) and "attachment" in n}
        acceptable = {
            a["filename"]
            for a in expected.get("attachments") or []
            if a["content_type"] in magic.ALLOWED_TYPES
        }
        if intake.get("reason") == "attachment_refused":
            assert refused, notes
        else:
            assert not refused & acceptable, notes
    elif intake["outcome"] == "reply":
        assert reason == intake["reason"], (name, rows[0])
        assert str(ticket_id) == ticket["id"] and comment_id is not None
    else:
        assert reason == intake["reason"], (name, rows[0])
