"""Password checks, throttled in Postgres per account and per client address.

`PasswordGate.check` is the only way a route checks a password (login, accepting an
invitation into an existing account, whatever comes next): a route gets the gate by
declaring the `PasswordCheck` dependency (identity/routes.py), which is also how a test
finds every such route.
Failures inside the window back off exponentially once the limit is reached; a success
resets the account's count (not the address's, or one valid account would reset a
password-spraying attacker's address).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from servicedesk.identity import passwords
from servicedesk.platform.config import Settings
from servicedesk.platform.errors import ProblemError, TooManyRequests


class Refused(Exception):
    """A refusal whose side effects (attempt counts, revoked families) must still commit:
    the route returns its problem instead of raising it."""

    def __init__(self, problem: ProblemError) -> None:
        super().__init__(problem.detail)
        self.problem = problem


def window_wait(
    row: Any, *, window: int, per_email: int, per_address: int, address: str | None
) -> int:
    """Seconds until another mailed request (sign-up, reset, verification) is allowed, from
    the window's counts per e-mail and per client address and when the oldest of each
    leaves it (a row of by_email, email_oldest, by_address, address_oldest)."""
    now = datetime.now(UTC)
    waits = [0.0]
    for count, oldest, limit in (
        (row.by_email, row.email_oldest, per_email),
        (row.by_address, row.address_oldest, per_address if address else 0),
    ):
        if limit and count >= limit and oldest is not None:
            waits.append((oldest + timedelta(seconds=window) - now).total_seconds())
    return math.ceil(max(waits))


def account_key(email: str) -> str:
    return hashlib.sha256(email.lower().encode()).hexdigest()


_FAILURES = text(
    """
    SELECT count(*) AS n, max(created_at) AS last FROM login_attempts
    WHERE scope = :scope AND key = :key AND NOT succeeded
      AND created_at > now() - make_interval(secs => :window)
      AND (:scope = 'address' OR created_at > coalesce(
            (SELECT max(created_at) FROM login_attempts
             WHERE scope = :scope AND key = :key AND succeeded), '-infinity'))
    """
)


def _wait(session: Session, *, scope: str, key: str, limit: int, settings: Settings) -> int:
    row = session.execute(
        _FAILURES, {"scope": scope, "key": key, "window": settings.login_failure_window_seconds}
    ).one()
    if row.n < limit or row.last is None:
        return 0
    lock = min(
        settings.login_lockout_base_seconds * 2 ** (row.n - limit),
        settings.login_lockout_max_seconds,
    )
    remaining = (row.last - datetime.now(UTC)).total_seconds() + lock
    return max(0, int(remaining + 0.999))


def retry_after(session: Session, *, email: str, address: str | None, settings: Settings) -> int:
    """Seconds the caller must wait before another attempt; 0 when not locked."""
    waits = [
        _wait(
            session,
            scope="account",
            key=account_key(email),
            limit=settings.login_max_failures_account,
            settings=settings,
        )
    ]
    if address:
        waits.append(
            _wait(
                session,
                scope="address",
                key=address,
                limit=settings.login_max_failures_address,
                settings=settings,
            )
        )
    return max(waits)


def record(session: Session, *, email: str, address: str | None, succeeded: bool) -> None:
    rows = [{"scope": "account", "key": account_key(email), "ok": succeeded}]
    if address:
        rows.append({"scope": "address", "key": address, "ok": succeeded})
    session.execute(
        text("INSERT INTO login_attempts (scope, key, succeeded) VALUES (:scope, :key, :ok)"), rows
    )


@dataclass(frozen=True)
class PasswordGate:
    """Login's lockout and attempt counting around every password verification."""

    client_ip: str | None
    settings: Settings

    def check(
        self, session: Session, *, email: str, password_hash: str | None, password: str
    ) -> bool:
        """Whether ``password`` matches; raises `Refused` (429) while the account or the
        address is locked. Counts the attempt either way: callers must return `Refused`
        problems rather than raise them, so that the count commits."""
        self.refuse_while_locked(session, email=email)
        verified = passwords.verify_password(password_hash, password)
        self.count(session, email=email, succeeded=verified)
        return verified

    def refuse_while_locked(self, session: Session, *, email: str) -> None:
        """Raises `Refused` (429) while the account or the address is locked (a check
        done elsewhere than here, as a directory's bind: identity/directory_login.py)."""
        wait = retry_after(session, email=email, address=self.client_ip, settings=self.settings)
        if wait > 0:
            raise Refused(
                TooManyRequests("too many failed attempts; try again later", retry_after=wait)
            )

    def count(self, session: Session, *, email: str, succeeded: bool) -> None:
        record(session, email=email, address=self.client_ip, succeeded=succeeded)


def failures_wait(session: Session, *, scope: str, key: str, limit: int, settings: Settings) -> int:
    """Seconds before another attempt of ``scope`` for ``key`` (the second step of a
    sign-in counts per person: identity/mfa.py), with the password's back-off."""
    return _wait(session, scope=scope, key=key, limit=limit, settings=settings)
