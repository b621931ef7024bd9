"""The tenant's notification defaults on the e-mail consumer's hot path.

In process, no database: what ``notifications.service._plan`` adds per event, reading the
default of the event's e-mail from the tenant row the consumer already loaded
(``notifications.settings.from_tenant_settings(...).email(type)``), for a tenant without
the section, with an empty one, and with every event type switched off.

    PYTHONPATH=layers/core/python:. .venv/bin/python bench/notification_defaults.py [--events 50000]

Prints per-call medians of 5 rounds and the load average.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# bench/email.py would shadow the standard library's email package (as in bench/branding.py).
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=50_000)
    args = parser.parse_args()
    from servicedesk.notifications.schemas import EVENT_TYPES
    from servicedesk.notifications.settings import from_tenant_settings

    cases: dict[str, dict[str, Any]] = {
        "no section": {"branding": {"display_name": "Acme"}},
        "empty section": {"notifications": {}},
        "all e-mail off": {"notifications": {"email_off": list(EVENT_TYPES)}},
    }
    print(f"load average: {os.getloadavg()}")
    for label, settings in cases.items():
        rounds = []
        for _ in range(5):
            started = time.perf_counter()
            for n in range(args.events):
                from_tenant_settings(settings).email(EVENT_TYPES[n % len(EVENT_TYPES)])
            rounds.append((time.perf_counter() - started) / args.events)
        print(f"{label:>15}: {statistics.median(rounds) * 1e6:.2f} µs per event (median of 5)")


if __name__ == "__main__":
    main()
