"""External IMAP mailboxes per tenant: admins' configuration and the "test connection"
action. The password goes to Secrets Manager (``platform.secrets``); the row keeps its ARN and
the poller's state (``mail.imap``), which admins read to see why a mailbox is failing."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select

from servicedesk.mail import imap
from servicedesk.mail.source_models import MailMailbox
from servicedesk.mail.source_schemas import MailboxCreate, MailboxUpdate
from servicedesk.platform import audit, secrets
from servicedesk.platform.config import get_settings
from servicedesk.platform.crud import changed_fields
from servicedesk.platform.errors import NotFound, ValidationProblem, field_error
from servicedesk.platform.pagination import TIMESTAMP, UUID, Key, Keyset, paginate
from servicedesk.platform.tenancy import RequestContext
from servicedesk.platform.versioning import check_version, expected_version

MAILBOXES_OLDEST = Keyset([Key(MailMailbox.created_at, TIMESTAMP), Key(MailMailbox.id, UUID)])
# A new server, folder or account starts the poll's state afresh.
RESETS_STATE = frozenset({"host", "port", "username", "folder"})


def list_mailboxes(
    ctx: RequestContext, *, limit: int, cursor: str | None
) -> tuple[list[MailMailbox], str | None]:
    query = select(MailMailbox).where(MailMailbox.tenant_id == ctx.tenant_id)
    return paginate(ctx.session, query, MAILBOXES_OLDEST, limit=limit, cursor=cursor)


def get_mailbox(ctx: RequestContext, *, mailbox_id: uuid.UUID, lock: bool = False) -> MailMailbox:
    mailbox = ctx.session.get(MailMailbox, mailbox_id, with_for_update=lock or None)
    if mailbox is None or mailbox.tenant_id != ctx.tenant_id:
        raise NotFound("no such mailbox")
    return mailbox


def _vetted(host: str, port: int) -> None:
    """Outside dev and test the host must resolve to public addresses only (422 else)."""
    try:
        imap.vet_host(host, port, get_settings())
    except imap.MailboxError as exc:
        raise ValidationProblem(f"host: {exc}", errors=[field_error("host", str(exc))]) from exc


def create_mailbox(ctx: RequestContext, *, data: MailboxCreate) -> MailMailbox:
    _vetted(data.host, data.port)
    mailbox_id = uuid.uuid4()
    arn = secrets.create(
        get_settings(),
        tenant_id=ctx.tenant_id,
        kind="imap",
        object_id=mailbox_id,
        value=data.password,
    )
    try:
        mailbox = MailMailbox(
            id=mailbox_id,
            tenant_id=ctx.tenant_id,
            secret_arn=arn,
            created_by=ctx.user_id,
            **data.model_dump(exclude={"password"}),
        )
        ctx.session.add(mailbox)
        ctx.session.flush()
    except BaseException:
        secrets.delete(arn)
        raise
    ctx.session.refresh(mailbox)
    audit.record(
        ctx,
        action="mailbox.created",
        entity_type="mailbox",
        entity_id=mailbox.id,
        data={"after": data.model_dump(mode="json", exclude={"password"})},
    )
    return mailbox


def update_mailbox(
    ctx: RequestContext, *, mailbox_id: uuid.UUID, data: MailboxUpdate, if_match: int | None
) -> MailMailbox:
    expected = expected_version(data.version, if_match)
    mailbox = get_mailbox(ctx, mailbox_id=mailbox_id, lock=True)
    check_version(mailbox.version, expected, what="mailbox")
    changes: dict[str, Any] = data.model_dump(exclude_unset=True, exclude={"version", "password"})
    diff = changed_fields(mailbox, changes)
    if not diff["after"] and data.password is None:
        return mailbox
    if {"host", "port"} & diff["after"].keys():
        _vetted(diff["after"].get("host", mailbox.host), diff["after"].get("port", mailbox.port))
    for key, value in diff["after"].items():
        setattr(mailbox, key, value)
    if RESETS_STATE & diff["after"].keys():
        mailbox.uid_validity = mailbox.last_uid = None
    if data.password is not None:
        secrets.replace(mailbox.secret_arn, data.password)
        diff["after"]["password"] = "(replaced)"  # noqa: S105 - a marker for the audit log
    if data.password is not None or RESETS_STATE & diff["after"].keys():
        mailbox.consecutive_failures = 0
        mailbox.last_error = None
    mailbox.version += 1
    mailbox.updated_at = func.now()
    ctx.session.flush()
    ctx.session.refresh(mailbox)
    audit.record(
        ctx, action="mailbox.updated", entity_type="mailbox", entity_id=mailbox.id, data=diff
    )
    return mailbox


def delete_mailbox(ctx: RequestContext, *, mailbox_id: uuid.UUID) -> None:
    mailbox = get_mailbox(ctx, mailbox_id=mailbox_id, lock=True)
    arn = mailbox.secret_arn
    ctx.session.delete(mailbox)
    ctx.session.flush()
    audit.record(ctx, action="mailbox.deleted", entity_type="mailbox", entity_id=mailbox_id)
    secrets.delete(arn)  # after the row (mail/hooks.py, delete_hook, says why)


def test_mailbox(ctx: RequestContext, *, mailbox_id: uuid.UUID) -> imap.Poll:
    """Connect with the stored settings and password; nothing is taken or recorded."""
    settings = get_settings()
    mailbox = get_mailbox(ctx, mailbox_id=mailbox_id)
    return imap.test_connection(imap.snapshot(ctx.session, mailbox, settings), settings=settings)


test_mailbox.__test__ = False  # type: ignore[attr-defined]  # not a pytest test
