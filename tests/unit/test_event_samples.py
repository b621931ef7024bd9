"""The SQS samples in events/ are what the publisher sends: each body is an outbox row as
`publisher.encode` writes it, on a channel that hears its event type."""

from __future__ import annotations

import hashlib
from types import SimpleNamespace

import pytest

from servicedesk.platform import publisher
from servicedesk.platform.consumer import Envelope
from tests.events import EVENTS_DIR, load_event

# The intake queue carries SES receipt notifications, not outbox rows (servicedesk.mail).
INTAKE = "sqs_email_intake"
SAMPLES = sorted(path.stem for path in EVENTS_DIR.glob("sqs_*.json") if path.stem != INTAKE)


def test_every_consumer_has_a_sample():
    assert {name.split("_")[1] for name in SAMPLES} == {
        "email",
        "webhook",
        "realtime",
        "knowledge",
        "reports",
        "automation",
        "exports",
        "integrations",
    }
    assert (EVENTS_DIR / f"{INTAKE}.json").exists()


def test_the_intake_sample_is_a_receipt_notification_naming_its_object():
    from servicedesk.mail import inbox

    (record,) = load_event(INTAKE)["Records"]
    arrival = inbox.parse_notification(record["body"])
    assert arrival.door == "smtp"
    assert arrival.key == inbox.object_key("smtp", arrival.message_id, arrival.received_at)
    assert arrival.recipients == ("acme@inbound.servicedesk.local",)
    assert record["md5OfBody"] == hashlib.md5(record["body"].encode()).hexdigest()
    assert record["eventSourceARN"].endswith(":servicedesk-email-intake")


@pytest.mark.parametrize("name", SAMPLES)
def test_sample_body_is_an_outbox_row_as_the_publisher_encodes_it(name):
    channel = name.split("_")[1]
    (record,) = load_event(name)["Records"]
    envelope = Envelope.parse(record["body"])
    row = SimpleNamespace(
        id=envelope.event_id,
        seq=envelope.seq,
        tenant_id=envelope.tenant_id,
        event_type=envelope.type,
        aggregate_type=envelope.aggregate_type,
        aggregate_id=envelope.aggregate_id,
        payload=envelope.payload,
        created_at=envelope.created_at,
    )
    assert publisher.encode(row) == record["body"]
    assert channel in publisher.channels_for(envelope.type)
    assert record["messageAttributes"]["type"]["stringValue"] == envelope.type
    assert record["md5OfBody"] == hashlib.md5(record["body"].encode()).hexdigest()
    assert record["eventSourceARN"].endswith(f":servicedesk-{channel}")


def test_every_event_in_the_webhook_catalogue_reaches_the_webhook_queue():
    """An event type an endpoint may subscribe to is routed to the webhook consumer, or the
    subscription would silently never fire."""
    from servicedesk.webhooks.schemas import KNOWN_EVENT_TYPES

    unrouted = sorted(t for t in KNOWN_EVENT_TYPES if "webhook" not in publisher.channels_for(t))
    assert unrouted == []


def test_the_webhook_docs_list_the_whole_catalogue():
    from pathlib import Path

    from servicedesk.webhooks.schemas import KNOWN_EVENT_TYPES

    doc = (Path(__file__).resolve().parents[2] / "docs" / "webhooks.md").read_text()
    assert sorted(t for t in KNOWN_EVENT_TYPES if f"`{t}`" not in doc) == []
