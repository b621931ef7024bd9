"""Sample Lambda events from ``events/``, loaded by name, plus helpers to fill them in.

``load_event("apigw_rest_get_me")`` returns a fresh deep copy of ``events/apigw_rest_get_me.json``,
so a test may change it freely. API Gateway REST (v1 payload) events carry every header twice,
in ``headers`` and ``multiValueHeaders``; the helpers keep both in step, as AWS does.
"""

from __future__ import annotations

import copy
import functools
import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

EVENTS_DIR = Path(__file__).resolve().parent.parent / "events"


@functools.cache
def _parsed(name: str) -> dict[str, Any]:
    path = EVENTS_DIR / f"{name}.json"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in EVENTS_DIR.glob("*.json")))
        raise FileNotFoundError(f"no sample event {name!r} in {EVENTS_DIR} (known: {known})")
    event: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return event


def load_event(name: str) -> dict[str, Any]:
    """A deep copy of ``events/<name>.json``."""
    return copy.deepcopy(_parsed(name))


def _header_maps(event: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None]:
    headers = event.get("headers")
    if headers is None:
        headers = event["headers"] = {}
    return headers, event.get("multiValueHeaders")


def drop_header(event: dict[str, Any], name: str) -> dict[str, Any]:
    """Remove a header (any case) from ``headers`` and ``multiValueHeaders``."""
    for mapping in _header_maps(event):
        if mapping is not None:
            for key in [k for k in mapping if k.lower() == name.lower()]:
                del mapping[key]
    return event


def set_header(event: dict[str, Any], name: str, value: str) -> dict[str, Any]:
    """Set a header in ``headers`` and ``multiValueHeaders``, replacing any other casing."""
    drop_header(event, name)
    headers, multi = _header_maps(event)
    headers[name] = value
    if multi is not None:
        multi[name] = [value]
    return event


def set_json_body(event: dict[str, Any], body: Any) -> dict[str, Any]:
    """A JSON request body as API Gateway passes it: a string, with a matching Content-Length."""
    text = json.dumps(body, separators=(",", ":"))
    event["body"] = text
    event["isBase64Encoded"] = False
    set_header(event, "Content-Type", "application/json")
    set_header(event, "Content-Length", str(len(text.encode())))
    return event


OUTBOX_COLUMNS = "id, tenant_id, seq, event_type, aggregate_type, aggregate_id, payload, created_at"


def outbox_rows(database: Any, sql_where: str, *params: Any) -> list[Any]:
    """Outbox rows (read as the owner) with the columns the publisher encodes, oldest first."""
    from types import SimpleNamespace

    import psycopg
    from psycopg.rows import namedtuple_row

    url = database.owner_url.set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(url, row_factory=namedtuple_row) as conn:
        rows = conn.execute(
            f"SELECT {OUTBOX_COLUMNS} FROM outbox WHERE {sql_where} ORDER BY seq",
            params,
        ).fetchall()
    return [SimpleNamespace(**row._asdict()) for row in rows]


def sqs_sample(name: str, rows: list[Any], *, receive_count: int = 1) -> dict[str, Any]:
    """``events/<name>.json`` (an SQS event for a consumer) with one record per outbox row,
    each body encoded exactly as the publisher sends it (``publisher.encode``)."""
    import hashlib
    import uuid

    from servicedesk.platform import publisher

    event = load_event(name)
    template = event["Records"][0]
    records = []
    for row in rows:
        record = copy.deepcopy(template)
        body = publisher.encode(row)
        record["messageId"] = str(uuid.uuid4())
        record["receiptHandle"] = f"sample-{record['messageId']}"
        record["body"] = body
        record["md5OfBody"] = hashlib.md5(body.encode()).hexdigest()
        record["attributes"]["ApproximateReceiveCount"] = str(receive_count)
        record["messageAttributes"]["type"]["stringValue"] = row.event_type
        records.append(record)
    event["Records"] = records
    return event


class TimedLambdaContext:
    """What a scheduled handler (the outbox sweeper's) reads of Lambda's context: its name,
    request id and clock."""

    function_name = "outbox_sweeper"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:outbox_sweeper"
    aws_request_id = "req-sweeper"

    def __init__(self, remaining_ms: int) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


# --- invoking a handler as Lambda does ---------------------------------------------------


@dataclass
class FakeLambdaContext:
    """The attributes of the Lambda context that Powertools reads."""

    function_name: str = "servicedesk-test-fn"
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:servicedesk-test-fn"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))


def invoke(function: Any, event: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = function.lambda_handler(event, FakeLambdaContext())
    return result


def authorize_request(authorizer: Any, authorization: str | None) -> dict[str, Any]:
    event = load_event("authorizer_request")
    if authorization is None:
        drop_header(event, "Authorization")
    else:
        set_header(event, "Authorization", authorization)
    return invoke(authorizer, event)


def authorize_token(authorizer: Any, authorization: str | None) -> dict[str, Any]:
    event = load_event("authorizer_token")
    event["authorizationToken"] = authorization or ""
    return invoke(authorizer, event)


AUTHORIZE = {"request": authorize_request, "token": authorize_token}
