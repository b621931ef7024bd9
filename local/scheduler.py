"""Local stand-in for EventBridge Scheduler: invokes the scheduled Lambda handlers.

moto emulates the Scheduler API but fires nothing, so `make dev` ticks each schedule
itself, calling the very handler the deployed schedule targets with an event shaped like
the real one.
"""

from __future__ import annotations

import copy
import json
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from local.app import load_function

EVENTS = Path(__file__).resolve().parent.parent / "events"


@dataclass
class LambdaContext:
    function_name: str
    memory_limit_in_mb: int = 256
    aws_request_id: str = ""

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:local:000000000000:function:{self.function_name}"


def scheduled_event(template: str) -> dict[str, Any]:
    event: dict[str, Any] = copy.deepcopy(json.loads((EVENTS / f"{template}.json").read_text()))
    event["id"] = str(uuid.uuid4())
    event["time"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return event


class Ticker(threading.Thread):
    """Invoke ``functions/<name>/handler.py`` every ``seconds`` until stopped."""

    def __init__(self, name: str, event_template: str, seconds: float) -> None:
        super().__init__(name=f"tick-{name}", daemon=True)
        self.function = name
        self.event_template = event_template
        self.seconds = seconds
        self.stopped = threading.Event()

    def run(self) -> None:
        handler = load_function(self.function).lambda_handler
        while not self.stopped.wait(self.seconds):
            context = LambdaContext(self.function, aws_request_id=str(uuid.uuid4()))
            try:
                handler(scheduled_event(self.event_template), context)
            except Exception as exc:  # noqa: BLE001 - a failed tick is logged; the next one retries
                print(f"[{self.function}] scheduled run failed: {exc}", flush=True)

    def stop(self) -> None:
        self.stopped.set()
