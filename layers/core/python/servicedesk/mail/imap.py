"""IMAP polling: each tenant's external mailboxes into the intake (``door="imap"``).

EventBridge Scheduler invokes :data:`handler` (``functions/email_imap_poller``). For each
tenant with an enabled mailbox (``mail_mailbox_tenants``, SECURITY DEFINER) the mailboxes
are read in one short tenant transaction; each is then polled with no transaction open
(the network is slow, a connection to the database is not held for it), and its outcome
recorded in another. A poll: connect (implicit TLS, or STARTTLS; certificates and host
names verified; outside dev/test only to public addresses, and to the very address that
was vetted), LOGIN, SELECT the folder, ``UID SEARCH UNSEEN``, then oldest first and at most
``imap_batch_size`` per run: ``UID FETCH BODY.PEEK[]`` (which leaves the message unseen),
``inbox.deposit``, and only once that returned ``UID STORE +FLAGS (\\Seen)``. A crash
between the two leaves the message unseen: it is fetched again next run, and the intake
dedupes on the Message-ID. A mailbox's failure is recorded on it (for admins) and logged;
it never stops the other mailboxes, and does not fail the run (the schedule's retries
cannot mend a wrong password): a failed *tenant* (the database) does.
"""

from __future__ import annotations

import functools
import imaplib
import re
import socket
import ssl
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from servicedesk.mail import inbox
from servicedesk.mail.providers import envelope_sender
from servicedesk.mail.source_models import MailMailbox
from servicedesk.platform import secrets
from servicedesk.platform.config import Settings, get_settings
from servicedesk.platform.db import transaction
from servicedesk.platform.jobs import for_each_tenant, in_tenant, scheduled
from servicedesk.platform.logging import get_logger
from servicedesk.webhooks import ssrf

# Stop starting mailboxes this long before the Lambda timeout.
MARGIN_SECONDS = 15.0
MAX_ERROR = 500
_SIZE = re.compile(rb"UID (\d+).*?RFC822\.SIZE (\d+)|RFC822\.SIZE (\d+).*?UID (\d+)")


class MailboxError(Exception):
    """A mailbox cannot be polled; the message is for its admins (no secret in it)."""


@dataclass(frozen=True)
class Mailbox:
    """What a poll needs, read in the tenant's transaction."""

    id: uuid.UUID
    tenant_id: uuid.UUID
    address: str  # the tenant's default inbound address: the envelope recipient
    host: str
    port: int
    tls_mode: str
    username: str
    folder: str
    secret_arn: str
    uid_validity: int | None


@dataclass
class Poll:
    taken: int = 0
    uid_validity: int | None = None
    last_uid: int | None = None
    unseen: int = 0
    notes: list[str] = field(default_factory=list)  # skipped messages
    error: str | None = None


# --- the connection ----------------------------------------------------------------------


class _Imap(imaplib.IMAP4):
    """Plain IMAP (then STARTTLS) to a vetted address; TLS is checked against ``host``."""

    def __init__(self, host: str, port: int, address: str | None, timeout: float) -> None:
        self._address = address
        super().__init__(host, port, timeout=timeout)

    def _create_socket(self, timeout: float | None) -> socket.socket:
        return socket.create_connection((self._address or self.host, self.port), timeout)


class _ImapTls(imaplib.IMAP4_SSL):
    """Implicit TLS to a vetted address; SNI and the certificate check use ``host``."""

    def __init__(
        self, host: str, port: int, address: str | None, context: ssl.SSLContext, timeout: float
    ) -> None:
        self._address = address
        super().__init__(host, port, ssl_context=context, timeout=timeout)

    def _create_socket(self, timeout: float | None) -> socket.socket:
        sock = socket.create_connection((self._address or self.host, self.port), timeout)
        wrapped: socket.socket = self.ssl_context.wrap_socket(sock, server_hostname=self.host)
        return wrapped


def tls_context(settings: Settings) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if settings.imap_ca_file:
        context.load_verify_locations(cafile=settings.imap_ca_file)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def vet_host(host: str, port: int, settings: Settings) -> None:
    """The SSRF rules when a mailbox is saved (and again at every connection)."""
    _vetted_address(host, port, settings)


def _vetted_address(host: str, port: int, settings: Settings) -> str | None:
    """The public address to connect to (None in dev/test: connect by name)."""
    if ssrf.allow_local(settings):
        return None
    try:
        addresses = ssrf.resolve(host, port)
    except ssrf.UnsafeUrl as exc:
        raise MailboxError(str(exc)) from exc
    for ip in addresses:
        reason = ssrf.forbidden_reason(ip)
        if reason is not None:
            raise MailboxError(f"the host resolves to {reason}")
    return str(addresses[0])


def connect(
    *, host: str, port: int, tls_mode: str, settings: Settings, timeout: float | None = None
) -> imaplib.IMAP4:
    address = _vetted_address(host, port, settings)
    context = tls_context(settings)
    seconds = timeout or settings.imap_timeout_seconds
    if tls_mode == "implicit":
        return _ImapTls(host, port, address, context, seconds)
    conn = _Imap(host, port, address, seconds)
    try:
        conn.starttls(ssl_context=context)
    except imaplib.IMAP4.error as exc:  # never falls back to plain text
        conn.shutdown()
        raise MailboxError(f"STARTTLS failed: {_server_text(exc)}") from exc
    except BaseException:
        conn.shutdown()
        raise
    return conn


def _ok(answer: tuple[str, list[Any]], what: str) -> list[Any]:
    status, data = answer
    if status != "OK":
        detail = b" ".join(d for d in data if isinstance(d, bytes)).decode("ascii", "replace")
        raise MailboxError(f"{what} refused: {detail[:200]}")
    return data


def _open(
    box: Mailbox, password: str, settings: Settings, timeout: float | None = None
) -> tuple[imaplib.IMAP4, int | None]:
    """Connected, logged in, the folder selected (read-write); and its UIDVALIDITY."""
    conn = connect(
        host=box.host, port=box.port, tls_mode=box.tls_mode, settings=settings, timeout=timeout
    )
    try:
        try:
            _ok(conn.login(box.username, password), "LOGIN")
        except imaplib.IMAP4.error as exc:  # imaplib raises on NO
            raise MailboxError(f"LOGIN refused: {_server_text(exc)}") from exc
        _ok(conn.select(f'"{box.folder}"'), f"SELECT {box.folder}")
        _, validity = conn.response("UIDVALIDITY")
        value = validity[0] if validity else None
        uid_validity = int(value) if isinstance(value, bytes) and value.isdigit() else None
    except BaseException:
        _close(conn)
        raise
    return conn, uid_validity


def _close(conn: imaplib.IMAP4) -> None:
    try:
        conn.logout()
    except (imaplib.IMAP4.error, OSError):
        conn.shutdown()


def _unseen(conn: imaplib.IMAP4) -> list[int]:
    data = _ok(conn.uid("SEARCH", "UNSEEN"), "UID SEARCH")
    words = b" ".join(d for d in data if isinstance(d, bytes)).split()
    return sorted({int(w) for w in words if w.isdigit()})


def _sizes(conn: imaplib.IMAP4, uids: list[int]) -> dict[int, int]:
    data = _ok(conn.uid("FETCH", ",".join(map(str, uids)), "(RFC822.SIZE)"), "UID FETCH")
    sizes: dict[int, int] = {}
    for item in data:
        line = item[0] if isinstance(item, tuple) else item
        match = _SIZE.search(line) if isinstance(line, bytes) else None
        if match:
            uid, size = (match[1], match[2]) if match[1] else (match[4], match[3])
            sizes[int(uid)] = int(size)
    return sizes


def _body(conn: imaplib.IMAP4, uid: int) -> bytes | None:
    """The message, unseen still (BODY.PEEK); None when it is gone (expunged meanwhile)."""
    data = _ok(conn.uid("FETCH", str(uid), "(BODY.PEEK[])"), "UID FETCH")
    for item in data:
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes):
            return item[1]
    return None


def _seen(conn: imaplib.IMAP4, uid: int) -> None:
    _ok(conn.uid("STORE", str(uid), "+FLAGS", "(\\Seen)"), "UID STORE")


# --- one mailbox ---------------------------------------------------------------------------


def poll_mailbox(box: Mailbox, *, settings: Settings, deadline: float | None = None) -> Poll:
    """Take the mailbox's unseen messages into the intake; never raises."""
    poll = Poll()
    try:
        password = secrets.read(box.secret_arn)
        conn, poll.uid_validity = _open(box, password, settings)
        try:
            _take(conn, box, poll, settings, deadline)
        finally:
            _close(conn)
    except Exception as exc:  # noqa: BLE001 - recorded on the mailbox and logged, not lost
        poll.error = _describe(exc)
        get_logger().warning(
            "imap poll failed",
            extra={"tenant_id": str(box.tenant_id), "mailbox_id": str(box.id), "error": poll.error},
        )
    return poll


def _take(
    conn: imaplib.IMAP4, box: Mailbox, poll: Poll, settings: Settings, deadline: float | None
) -> None:
    unseen = _unseen(conn)
    poll.unseen = len(unseen)
    batch = unseen[: settings.imap_batch_size]
    if not batch:
        return
    sizes = _sizes(conn, batch)
    for uid in batch:
        if deadline is not None and time.monotonic() > deadline:
            return
        if sizes.get(uid, 0) > settings.email_max_message_bytes:
            # Never taken: marked seen so it does not block the mailbox, and said so.
            _seen(conn, uid)
            poll.notes.append(
                f"skipped UID {uid}: {sizes[uid]} bytes, over {settings.email_max_message_bytes}"
            )
            continue
        raw = _body(conn, uid)
        if raw is not None and len(raw) <= settings.email_max_message_bytes:
            inbox.deposit(
                raw,
                door="imap",
                mail_from=envelope_sender(raw),
                recipients=[box.address],
                settings=settings,
            )
            poll.taken += 1
        # Only now: a failure above leaves it unseen, to be fetched again.
        _seen(conn, uid)
        poll.last_uid = uid


def _server_text(exc: imaplib.IMAP4.error) -> str:
    """What the server said (imaplib puts the bytes' repr in the message)."""
    said = exc.args[0] if exc.args else ""
    if isinstance(said, bytes):
        return said.decode("utf-8", "replace")[:200]
    text_ = str(said)
    return (text_[2:-1] if text_[:2] in ("b'", 'b"') else text_)[:200]


def _describe(exc: BaseException) -> str:
    if isinstance(exc, MailboxError):
        text_ = str(exc)
    elif isinstance(exc, ssl.SSLCertVerificationError):
        text_ = f"TLS certificate not trusted: {exc.verify_message}"
    elif isinstance(exc, ssl.SSLError):
        text_ = f"TLS failed: {exc.reason or exc}"
    elif isinstance(exc, TimeoutError | socket.timeout):
        text_ = "timed out"
    elif isinstance(exc, OSError):
        text_ = f"cannot connect: {exc.strerror or exc}"
    elif isinstance(exc, imaplib.IMAP4.error):
        text_ = f"IMAP error: {_server_text(exc)}"
    else:
        text_ = f"{type(exc).__name__}"
    return text_[:MAX_ERROR]


def test_connection(box: Mailbox, *, settings: Settings, password: str | None = None) -> Poll:
    """Connect, log in, select and count the unseen messages; nothing is taken."""
    poll = Poll()
    try:
        secret = password if password is not None else secrets.read(box.secret_arn)
        conn, poll.uid_validity = _open(
            box, secret, settings, timeout=min(10.0, settings.imap_timeout_seconds)
        )
        try:
            poll.unseen = len(_unseen(conn))
        finally:
            _close(conn)
    except Exception as exc:  # noqa: BLE001 - the answer to the admin says what failed
        poll.error = _describe(exc)
    return poll


test_connection.__test__ = False  # type: ignore[attr-defined]  # not a pytest test


# --- every tenant ------------------------------------------------------------------------


def snapshot(session: Session, row: MailMailbox, settings: Settings) -> Mailbox:
    slug = session.execute(
        text("SELECT slug FROM tenants WHERE id = :t"), {"t": row.tenant_id}
    ).scalar_one()
    return Mailbox(
        id=row.id,
        tenant_id=row.tenant_id,
        address=f"{slug}@{settings.email_inbound_domain}",
        host=row.host,
        port=row.port,
        tls_mode=row.tls_mode,
        username=row.username,
        folder=row.folder,
        secret_arn=row.secret_arn,
        uid_validity=row.uid_validity,
    )


def _tenants() -> list[uuid.UUID]:
    with transaction() as session:
        return list(session.execute(text("SELECT * FROM mail_mailbox_tenants()")).scalars())


def _record(box: Mailbox, poll: Poll, session: Session, tenant_id: uuid.UUID) -> None:
    now = datetime.now(UTC)
    values: dict[str, Any] = {
        "last_polled_at": now,
        "messages_taken": MailMailbox.messages_taken + poll.taken,
    }
    if poll.uid_validity is not None:
        values["uid_validity"] = poll.uid_validity
    if poll.last_uid is not None:
        values["last_uid"] = poll.last_uid
    problem = poll.error or ("; ".join(poll.notes)[:MAX_ERROR] if poll.notes else None)
    if problem is not None:
        values |= {"last_error": problem, "last_error_at": now}
    if poll.error is None:
        values |= {"last_success_at": now, "consecutive_failures": 0}
        if problem is None:
            values["last_error"] = None
    else:
        values["consecutive_failures"] = MailMailbox.consecutive_failures + 1
    session.execute(
        update(MailMailbox)
        .where(MailMailbox.tenant_id == tenant_id, MailMailbox.id == box.id)
        .values(**values)
    )


def poll_all(*, budget: float | None, settings: Settings | None = None) -> dict[str, Any]:
    settings = settings or get_settings()
    deadline = None if budget is None else time.monotonic() + budget

    def load(session: Session, tenant_id: uuid.UUID) -> list[Mailbox]:
        rows = session.scalars(
            select(MailMailbox)
            .where(MailMailbox.tenant_id == tenant_id, MailMailbox.enabled)
            .order_by(MailMailbox.last_polled_at.asc().nulls_first(), MailMailbox.id)
        )
        return [snapshot(session, row, settings) for row in rows]

    tenants = _tenants()
    loaded = for_each_tenant(tenants, load, what="imap mailboxes")
    failed = list(loaded.failed_tenants)
    report = {"tenants": len(tenants), "mailboxes": 0, "taken": 0, "failed_mailboxes": 0}
    for box in (box for boxes in loaded.results for box in boxes):
        if deadline is not None and time.monotonic() > deadline:
            break
        poll = poll_mailbox(box, settings=settings, deadline=deadline)
        outcome = in_tenant(
            box.tenant_id, functools.partial(_record, box, poll), what="imap record"
        )
        if outcome.failed and str(box.tenant_id) not in failed:
            failed.append(str(box.tenant_id))
        report["mailboxes"] += 1
        report["taken"] += poll.taken
        report["failed_mailboxes"] += poll.error is not None
    return {**report, "failed_tenants": failed}


@scheduled("imap poll", margin_seconds=MARGIN_SECONDS)
def handler(budget_seconds: float | None) -> dict[str, Any]:
    return poll_all(budget=budget_seconds)
