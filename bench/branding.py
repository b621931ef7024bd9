"""Branding's cost on the e-mail consumer's hot path and the contrast check.

In process, no database: ``templates.render`` of a reply mail (the most common one) for a
tenant without branding, with the older ``email.branding`` and with the branding section
(colours and a logo), and ``branding.contrast.shortfalls`` per colour checked.

    PYTHONPATH=layers/core/python:. .venv/bin/python bench/branding.py [--mails 20000]

Prints per-call medians of 5 rounds and the load average: the machine is shared, so
compare figures of the same run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# bench/email.py would shadow the standard library's email package (as in bench/email.py).
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]


def _facts(settings: dict[str, object]) -> tuple[object, object]:
    from servicedesk.notifications import recipients, templates
    from servicedesk.platform.consumer import Envelope
    from servicedesk.tickets.models import Comment, Ticket

    tenant_id, ticket_id = uuid.uuid4(), uuid.uuid4()
    ticket = Ticket(id=ticket_id, number="TCK-2030-000042", title="Printer", status="open")
    comment = Comment(id=uuid.uuid4(), ticket_id=ticket_id, body="On it.\n" * 20)
    envelope = Envelope(
        uuid.uuid4(), 1, tenant_id, "comment.public", "ticket", str(ticket_id), {},
        datetime.now(UTC),
    )  # fmt: skip
    facts = templates.Facts(
        event_type="comment.public",
        payload={"actor_id": str(uuid.uuid4())},
        branding=templates.branding("Acme", settings, slug="acme"),
        subject=recipients.Subject(envelope, ticket, comment),
        actor_name="Sam",
        web_origin="https://desk.example",
        tenant_id=tenant_id,
    )
    person = recipients.Recipient("p@example.com", uuid.uuid4(), "Pat", "requester")
    return facts, person


def _per_call(fn: object, n: int) -> float:
    rounds = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(n):
            fn()  # type: ignore[operator]
        rounds.append((time.perf_counter() - start) / n)
    return statistics.median(rounds)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mails", type=int, default=20000)
    args = parser.parse_args()
    from servicedesk.branding import contrast
    from servicedesk.notifications import templates
    from servicedesk.platform.config import get_settings

    settings = get_settings()
    older = {"display_name": "Acme IT", "accent_color": "#0b5cad"}
    cases: dict[str, dict[str, object]] = {
        "no branding": {},
        "email.branding (older)": {"email": {"branding": older}},
        "branding section + logo": {
            "branding": {
                "display_name": "Acme IT",
                "primary_color": "#0b5cad",
                "accent_color": "#c2410c",
                "logo_attachment_id": str(uuid.uuid4()),
            }
        },
    }  # fmt: skip
    print(f"load average: {os.getloadavg()}")
    for name, tenant_settings in cases.items():
        facts, person = _facts(tenant_settings)
        cost = _per_call(lambda f=facts, p=person: templates.render(f, p, settings), args.mails)
        print(f"render reply mail, {name}: {cost * 1e6:.1f} us")
        brand = _per_call(lambda s=tenant_settings: templates.branding("Acme", s, slug="acme"),
                          args.mails)  # fmt: skip
        print(f"templates.branding, {name}: {brand * 1e6:.2f} us")
    for field, colour in (("primary_color", "#0b5cad"), ("accent_color", "#c2410c")):
        cost = _per_call(lambda f=field, c=colour: contrast.shortfalls(f, c), args.mails)
        print(f"contrast.shortfalls({field}): {cost * 1e6:.1f} us")
    print(f"load average: {os.getloadavg()}")


if __name__ == "__main__":
    main()
