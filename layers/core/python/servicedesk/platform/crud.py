"""Plumbing every configuration domain shares: names unique per tenant (decided by the
database, so two concurrent writers of one name cannot both win) and the audit diff of an
update."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.orm import Session

from servicedesk.platform.constraints import unique_or_conflict


@contextmanager
def unique_name(session: Session, *, constraint: str, what: str) -> Iterator[None]:
    """Write (and flush) inside; a duplicate name (the unique index ``constraint`` on
    ``(tenant_id, lower(name))``) is a 409 naming ``name``, and the transaction lives on.
    No check before the write: it would race a concurrent writer and answer 500."""
    with unique_or_conflict(
        session,
        {constraint: ("name", "already taken (names ignore case)")},
        title=f"a {what} with this name already exists",
    ):
        yield


def changed_fields(entity: object, changes: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Audit payload: before and after of the fields that really change (an empty
    ``after`` means nothing changes)."""
    before = {k: getattr(entity, k) for k, v in changes.items() if getattr(entity, k) != v}
    return {"before": before, "after": {k: changes[k] for k in before}}
