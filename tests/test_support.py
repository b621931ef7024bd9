"""Helpers shared by tests that need more than the fixtures."""

from __future__ import annotations

from typing import Any

import psycopg


def latest_outbox(database: Any, event_type: str, to: str) -> dict[str, Any]:
    """The newest outbox payload of a type for an address, read as the owner."""
    with psycopg.connect(
        database.owner_url.set(drivername="postgresql").render_as_string(False)
    ) as c:
        row = c.execute(
            "SELECT payload FROM outbox WHERE event_type = %s AND payload->>'to' = %s"
            " ORDER BY created_at DESC LIMIT 1",
            (event_type, to),
        ).fetchone()
    assert row is not None, f"no {event_type} for {to}"
    return dict(row[0])


def accept_latest_invitation(client: Any, tenant: Any, email: str, **body: Any) -> Any:
    from tests.conftest import current_database

    payload = latest_outbox(current_database(), "user.invited", email)
    return client.post("/v1/auth/accept-invitation", json={"token": payload["token"], **body})
