"""Who sent a message: a member of the tenant, or someone the intake makes a requester.

An unknown sender becomes a person WITHOUT a password (they follow their tickets by e-mail
and can set one later, the identity side's work) and a ``requester`` membership, through
the same definer lookup and tables as ``identity.users.create_user``: the person is found
by ``auth_password_hash`` (global, whoever they are), else inserted; the membership is the
tenant's. Two messages of a new sender at once: the second insert of the person fails on
the unique address, is rolled back to its savepoint, and finds the first's row.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from servicedesk.identity.models import User
from servicedesk.platform import audit
from servicedesk.platform.roles import Role


@dataclass(frozen=True)
class Sender:
    user_id: uuid.UUID
    role: Role
    active: bool


def member(session: Session, tenant_id: uuid.UUID, email: str) -> Sender | None:
    row = session.execute(
        text(
            "SELECT m.user_id, m.role, m.active FROM memberships m JOIN users u ON u.id = m.user_id"
            " WHERE m.tenant_id = :t AND u.email = :e"
        ),
        {"t": tenant_id, "e": email.lower()},
    ).first()
    return None if row is None else Sender(row.user_id, Role(row.role), bool(row.active))


def _person(session: Session, email: str, name: str) -> uuid.UUID:
    lookup = text("SELECT user_id FROM auth_password_hash(:e)")
    existing = session.execute(lookup, {"e": email}).first()
    if existing is not None:
        return uuid.UUID(str(existing.user_id))
    user_id = uuid.uuid4()
    try:
        with session.begin_nested():
            session.add(User(id=user_id, email=email, name=name, password_hash=None))
            session.flush()
    except IntegrityError:  # the same new sender, committed meanwhile
        again = session.execute(lookup, {"e": email}).first()
        if again is None:
            raise
        return uuid.UUID(str(again.user_id))
    return user_id


def make_requester(session: Session, tenant_id: uuid.UUID, email: str, name: str) -> Sender:
    """A requester membership for ``email`` (the person created first if unknown), as the
    intake's own act (no actor), audited."""
    user_id = _person(session, email.lower(), (name or email.split("@", maxsplit=1)[0])[:200])
    session.execute(
        text(
            "INSERT INTO memberships (tenant_id, user_id, role) VALUES (:t, :u, :r)"
            " ON CONFLICT (tenant_id, user_id) DO NOTHING"
        ),
        {"t": tenant_id, "u": user_id, "r": Role.REQUESTER.value},
    )
    audit.write(
        session,
        tenant_id=tenant_id,
        actor_id=None,
        action="user.added_by_mail",
        entity_type="user",
        entity_id=user_id,
        request_id=None,
        data={"role": Role.REQUESTER.value},
    )
    found = member(session, tenant_id, email)
    assert found is not None
    return found
