from __future__ import annotations

import io
import json
import logging
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aws_lambda_powertools import Logger
from fastapi import APIRouter
from fastapi.testclient import TestClient

from local.scheduler import LambdaContext
from servicedesk.platform.app import create_app
from servicedesk.platform.errors import NotFound
from servicedesk.platform.logging import REDACTED, RedactingFormatter, redact
from servicedesk.platform.rbac import public


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


# --- access lines and labels -----------------------------------------------------------


router = APIRouter(prefix="/v1")


@router.get("/fine", dependencies=[public("test")])
def fine() -> dict[str, str]:
    return {"ok": "yes"}


@router.get("/missing/{who}", dependencies=[public("test")])
def missing(who: str) -> dict[str, str]:
    raise NotFound(f"no {who}")


@router.get("/broken", dependencies=[public("test")])
def broken() -> dict[str, str]:
    raise RuntimeError("broken on purpose")


@router.get("/slow", dependencies=[public("test")])
def slow() -> dict[str, str]:
    time.sleep(1.0)  # over log_lines' 800 ms
    return {"ok": "slowly"}


@router.get("/tickets/{ticket_id}/notes", dependencies=[public("test")])
def ticket_notes(ticket_id: str) -> dict[str, str]:
    from servicedesk.platform.logging import get_logger

    get_logger().info("looking at notes", extra={"requester": "carol@example.net"})
    return {"ticket": ticket_id}


def test_access_lines_carry_route_template_ticket_and_trace(log_lines):
    """One line per request with its route template (not the raw path), the ticket its path
    names, and the request's trace id, which every line of the request carries too; user
    text in them is redacted."""
    ticket = "0b6f0a52-5f5e-4f43-9d6a-2c9d4f3b7a10"
    with TestClient(create_app(router), raise_server_exceptions=False) as client:
        client.get(f"/v1/tickets/{ticket}/notes")
        client.get("/v1/tickets/dave@example.com/notes")
    lines = log_lines()
    access = [line for line in lines if line["message"] == "request"]
    assert [line["route"] for line in access] == ["GET /v1/tickets/{ticket_id}/notes"] * 2
    assert access[0]["ticket_id"] == ticket and access[1]["ticket_id"] == "[email]"
    notes = [line for line in lines if line["message"] == "looking at notes"]
    assert [n["trace_id"] for n in notes] == [a["trace_id"] for a in access]
    assert access[0]["trace_id"] != access[1]["trace_id"]
    text = json.dumps(lines)
    assert "carol@example.net" not in text and "dave@example.com" not in text


def _access(read: Callable[[], list[dict[str, Any]]]) -> dict[str, tuple[str, int]]:
    return {
        line["path"]: (line["level"], line["status"])
        for line in read()
        if line["message"] == "request"
    }


def test_access_lines_are_quiet_for_fast_successes_and_louder_for_errors_and_slowness(log_lines):
    with TestClient(create_app(router), raise_server_exceptions=False) as client:
        for path in ("/v1/fine", "/v1/missing/ada@example.org", "/v1/broken", "/v1/slow"):
            client.get(path, headers={"X-Request-Id": "req-12345678"})
    access = _access(log_lines)
    assert access == {
        "/v1/fine": ("DEBUG", 200),
        "/v1/missing/[email]": ("INFO", 404),  # redacted like every line
        "/v1/broken": ("WARNING", 500),
        "/v1/slow": ("WARNING", 200),
    }
    assert all(
        line["request_id"] == "req-12345678" for line in log_lines() if line["message"] == "request"
    )
    assert any(
        line["message"] == "unhandled error" and line["level"] == "ERROR" for line in log_lines()
    )


def test_the_success_level_is_configurable_and_info_hides_debug(log_lines, monkeypatch):
    from servicedesk.platform.config import get_settings
    from servicedesk.platform.logging import get_logger

    monkeypatch.setenv("SERVICEDESK_ACCESS_LOG_LEVEL", "INFO")
    get_settings.cache_clear()
    with TestClient(create_app(router)) as client:
        client.get("/v1/fine")
        get_logger().setLevel("INFO")
        monkeypatch.setenv("SERVICEDESK_ACCESS_LOG_LEVEL", "DEBUG")
        get_settings.cache_clear()
        client.get("/v1/missing/x")
        client.get("/v1/fine")  # DEBUG under INFO: not printed
    assert [(line["path"], line["level"]) for line in log_lines() if "path" in line] == [
        ("/v1/fine", "INFO"),
        ("/v1/missing/x", "INFO"),
    ]


def test_an_invocations_labels_end_with_it_and_stay_in_its_thread(log_lines):
    from servicedesk.platform.logging import get_logger, labels, log_invocation

    @log_invocation
    def handler(event: dict[str, Any], context: Any) -> None:
        get_logger().info("inside", extra={"n": event["n"]})

    context = LambdaContext("ws_default", aws_request_id="r-1")
    seen_in_other_thread: list[str] = []
    with labels(service="servicedesk-tickets", function_name="tickets"):
        worker = threading.Thread(target=lambda: handler({"n": 1}, context))
        worker.start()
        worker.join()
        get_logger().info("request line")
    get_logger().info("after")
    seen_in_other_thread = [
        f"{line['message']}:{line.get('function_name')}:{line['service']}" for line in log_lines()
    ]
    assert seen_in_other_thread[0].startswith("inside:ws_default:")
    assert seen_in_other_thread[1:] == [
        "request line:tickets:servicedesk-tickets",
        f"after:None:{get_logger().service}",
    ]
    assert log_lines()[0]["cold_start"] is True and log_lines()[0]["function_request_id"] == "r-1"


def test_no_handler_writes_invocation_labels_into_the_shared_logger():
    """Powertools' inject_lambda_context appends the context to the logger itself, where
    it outlives the invocation (and, locally, labels other functions' lines): every
    handler uses platform.logging.log_invocation instead."""
    root = Path(__file__).resolve().parents[2]
    sources = [*root.glob("functions/*/handler.py"), *root.glob("layers/core/python/**/*.py")]
    assert len(sources) > 20
    offenders = [
        str(path.relative_to(root))
        for path in sources
        if re.search(r"\.inject_lambda_context\b|\.append_keys\(", path.read_text())
    ]
    assert offenders == []
