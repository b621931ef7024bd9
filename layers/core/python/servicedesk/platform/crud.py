"""Plumbing every configuration domain shares: names unique per tenant (decided by the
database, so two concurrent writers of one name cannot both win), the version check and
audit diff of an update, and the write, read-back and audit row of a creation or a change."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel
from sqlalchemy import func
from sqlalchemy.orm import Session

from servicedesk.platform import audit
from servicedesk.platform.constraints import unique_or_conflict
from servicedesk.platform.tenancy import RequestContext
from servicedesk.platform.versioning import check_version, expected_version


class Entity(Protocol):
    id: Any


class Versioned(Protocol):
    version: Any
    updated_at: Any


E = TypeVar("E", bound=Entity)
V = TypeVar("V", bound=Versioned)


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


@contextmanager
def flushed(session: Session) -> Iterator[None]:
    """Write inside, flushed on the way out (for writes no constraint guards)."""
    yield
    session.flush()


def changed_fields(entity: object, changes: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Audit payload: before and after of the fields that really change (an empty
    ``after`` means nothing changes)."""
    before = {k: getattr(entity, k) for k, v in changes.items() if getattr(entity, k) != v}
    return {"before": before, "after": {k: changes[k] for k in before}}


def created(
    ctx: RequestContext,
    entity: E,
    guard: AbstractContextManager[None],
    entity_type: str,
    *,
    action: str | None = None,
    after: dict[str, Any] | None = None,
) -> E:
    """Insert ``entity`` inside ``guard`` (``unique_name``, ``unique_or_conflict`` or
    ``flushed``), read back what the database filled in, and audit ``action`` (by default
    ``<entity_type>.created``) with ``after``, the values it was created with."""
    with guard:
        ctx.session.add(entity)
    ctx.session.refresh(entity)
    audit.record(
        ctx,
        action=action or f"{entity_type}.created",
        entity_type=entity_type,
        entity_id=entity.id,
        data=None if after is None else {"after": after},
    )
    return entity


def changes(
    lock: Callable[[], V], data: BaseModel, if_match: int | None, what: str, mode: str = "python"
) -> tuple[V, dict[str, dict[str, Any]]]:
    """An update's entity, locked, and its diff (``changed_fields``): the version the
    client read is required (428, before the entity is looked up) and must be current
    (412). ``data`` carries the fields sent and maybe ``version``."""
    expected = expected_version(getattr(data, "version", None), if_match)
    entity = lock()
    check_version(entity.version, expected, what=what)
    sent = data.model_dump(mode=mode, exclude_unset=True, exclude={"version"})
    return entity, changed_fields(entity, sent)


def changed(
    ctx: RequestContext, entity: V, after: dict[str, Any], *, guard: AbstractContextManager[None]
) -> V:
    """Write ``after`` onto ``entity`` inside ``guard`` as its next version, and read it
    back."""
    with guard:
        for key, value in after.items():
            setattr(entity, key, value)
        entity.version = entity.version + 1
        entity.updated_at = func.now()
    ctx.session.refresh(entity)
    return entity
