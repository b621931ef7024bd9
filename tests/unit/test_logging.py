from __future__ import annotations

import io
import json
import logging

from aws_lambda_powertools import Logger

from servicedesk.platform.logging import REDACTED, RedactingFormatter, redact


def test_redact_scrubs_secrets_by_key_and_pattern():
    record = {
        "password": "hunter2hunter2",
        "headers": {"Authorization": "Bearer abc.def.ghi", "cookie": "sd_refresh=xyz"},
        "message": "login for ada@example.org with Bearer eyJhbGciOi.eyJzdWIi.c2lnbmF0dXJl",
        "token_type": "bearer",
        "nested": [{"refresh_token": "r"}],
    }
    out = redact(record)
    assert out["password"] == REDACTED
    assert out["headers"] == {"Authorization": REDACTED, "cookie": REDACTED}
    assert "ada@example.org" not in out["message"] and "eyJ" not in out["message"]
    assert out["token_type"] == "bearer"
    assert out["nested"] == [{"refresh_token": REDACTED}]


def test_logger_output_is_redacted_json():
    stream = io.StringIO()
    logger = Logger(
        service="t",
        logger_formatter=RedactingFormatter(),
        logger_handler=logging.StreamHandler(stream),
    )
    logger.info(
        "user bob@example.com signed in", extra={"email": "bob@example.com", "tenant_id": "t1"}
    )
    line = json.loads(stream.getvalue().strip().splitlines()[-1])
    assert "bob@example.com" not in json.dumps(line)
    assert line["tenant_id"] == "t1" and line["email"] == REDACTED


def test_exception_details_are_redacted_too():
    """Powertools puts the exception object itself in stack_trace.value; it is scrubbed."""
    stream = io.StringIO()
    logger = Logger(
        service="t-exceptions",  # Powertools shares one logger per service name
        logger_formatter=RedactingFormatter(),
        logger_handler=logging.StreamHandler(stream),
        serialize_stacktrace=True,
    )
    try:
        raise ValueError("no mailbox alice@example.com (token eyJa.eyJb.c)")
    except ValueError:
        logger.exception("delivery to bob@example.org failed")
    text = stream.getvalue().strip().splitlines()[-1]
    line = json.loads(text)
    assert "alice@example.com" not in text and "bob@example.org" not in text
    assert "eyJa.eyJb.c" not in text
    assert line["stack_trace"]["value"].startswith("no mailbox [email]")
    assert line["stack_trace"]["type"] == "ValueError"
