"""A message's attachments, through the attachments pipeline's rules: the tenant's allowed
types and size and count limits, the same magic-byte check as an upload's completion
(``attachments.magic``), text checked through. The intake writes the bytes to the
attachments bucket itself (no presigned form: it has them); a refused file is noted on the
message's outcome and the rest of the message still lands."""

from __future__ import annotations

import hashlib
import mimetypes
import secrets
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from servicedesk.attachments import magic
from servicedesk.attachments.models import Attachment
from servicedesk.attachments.service import SETTINGS
from servicedesk.mail.message import Attachment as MailAttachment
from servicedesk.platform import storage
from servicedesk.platform.tenancy import RequestContext
from servicedesk.tickets import timeline
from servicedesk.tickets.models import Ticket


def _type_of(item: MailAttachment, allowed: list[str]) -> str:
    """The declared type if allowed; else what the file name says (mail clients send
    application/octet-stream for most files), which the magic check then confirms."""
    if item.content_type in allowed:
        return item.content_type
    guessed, _ = mimetypes.guess_type(item.filename)
    return guessed if guessed in allowed else item.content_type


def _refusal(item: MailAttachment, content_type: str, limits: Any, count: int) -> str | None:
    if content_type not in limits.allowed_types:
        return f"{content_type} files are not accepted"
    if len(item.content) > limits.max_size_bytes:
        return f"larger than {limits.max_size_bytes} bytes"
    if count >= limits.max_per_ticket:
        return "the ticket has as many attachments as it may"
    why = magic.mismatch(content_type, item.content[: magic.SNIFF_BYTES])
    if why is not None:
        return why
    if content_type in magic.TEXT_TYPES:
        check = magic.TextCheck()
        check.feed(item.content, final=True)
        if check.problem:
            return check.problem
    return None


def store(
    ctx: RequestContext,
    ticket: Ticket,
    comment_id: uuid.UUID | None,
    items: tuple[MailAttachment, ...],
) -> list[dict[str, Any]]:
    """Store what may be stored; the refusals, as notes ({"attachment", "reason"})."""
    if not items:
        return []
    limits = SETTINGS.current(ctx)
    allowed: list[str] = [str(t) for t in limits.allowed_types]
    count = int(
        ctx.session.scalar(
            select(func.count())
            .select_from(Attachment)
            .where(
                Attachment.tenant_id == ctx.tenant_id,
                Attachment.ticket_id == ticket.id,
                Attachment.status.in_(("pending", "available")),
            )
        )
        or 0
    )
    notes: list[dict[str, Any]] = []
    for item in items:
        content_type = _type_of(item, allowed)
        why = _refusal(item, content_type, limits, count)
        if why is not None:
            notes.append({"attachment": item.filename, "reason": why})
            continue
        key = storage.object_key(ctx.tenant_id, ticket.id, secrets.token_hex(16))
        put = storage.client().put_object(
            Bucket=storage.bucket(), Key=key, Body=item.content, ContentType=content_type
        )
        now = datetime.now(UTC)
        row = Attachment(
            id=uuid.uuid4(),
            tenant_id=ctx.tenant_id,
            ticket_id=ticket.id,
            comment_id=comment_id,
            uploader_id=ctx.user_id,
            filename=item.filename.encode()[:255].decode(errors="ignore") or "attachment",
            content_type=content_type,
            size_bytes=len(item.content),
            object_key=key,
            status="available",
            sha256=hashlib.sha256(item.content).hexdigest(),
            version_id=put.get("VersionId"),
            etag=put.get("ETag"),
            completed_at=now,
        )
        ctx.session.add(row)
        count += 1
        timeline.event(
            ctx,
            ticket,
            "attachment_added",
            payload={
                "attachment_id": row.id,
                "comment_id": comment_id,
                "filename": row.filename,
                "content_type": content_type,
                "size": row.size_bytes,
            },
        )
    return notes
