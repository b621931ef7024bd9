"""The e-mail suppression list: addresses a permanent bounce or a complaint made undeliverable.

Global, not per tenant (see migration 0006): an address that bounces bounces for everyone.
The mailer skips what is listed; the inbound delivery hooks (webhooks/inbound.py) add to it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from sqlalchemy import text
from sqlalchemy.orm import Session


def suppress(
    session: Session,
    addresses: Iterable[str],
    *,
    reason: Literal["bounce", "complaint"],
    detail: str,
) -> None:
    """List ``addresses`` (lower-cased); an address already listed keeps its first reason."""
    for address in addresses:
        session.execute(
            text(
                "INSERT INTO email_suppressions (address, reason, detail)"
                " VALUES (lower(:a), :r, :d) ON CONFLICT DO NOTHING"
            ),
            {"a": str(address), "r": reason, "d": detail[:500]},
        )


def suppressed(session: Session, addresses: list[str]) -> set[str]:
    """Which of ``addresses`` (lower-cased) the mailer must skip."""
    if not addresses:
        return set()
    rows = session.execute(
        text("SELECT address FROM email_suppressions WHERE address = ANY(:a)"),
        {"a": [a.lower() for a in addresses]},
    ).scalars()
    return set(rows)
