"""Unique constraints as 409 problems: the database decides, the client learns which field."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from servicedesk.platform.errors import Conflict, field_error


@contextmanager
def unique_or_conflict(
    session: Session, constraints: Mapping[str, tuple[str, str]], *, title: str
) -> Iterator[None]:
    """Write (and flush) inside a savepoint; a violation of one of ``constraints``
    (constraint name -> (field, detail)) is a 409 naming the field, and the transaction
    lives on. A check before the write would still race a concurrent one: two concurrent
    writers of the same value cannot both commit, the second waits and gets the 409."""
    try:
        with session.begin_nested():
            yield
            session.flush()
    except IntegrityError as exc:
        diag = getattr(exc.orig, "diag", None)
        violated = constraints.get(getattr(diag, "constraint_name", None) or "")
        if violated is None:
            raise
        raise Conflict(title, errors=[field_error(*violated)]) from exc
