"""Avatars: a member's picture in an organisation, through the attachments pipeline.

As the branding logo does (``branding.service``): ``POST /v1/attachments/avatar`` checks the
declared type and size and answers a pending ``attachments`` row (``purpose = 'avatar'``)
with a presigned S3 form; ``POST /v1/attachments/{id}/complete`` sniffs and hashes what
arrived (PNG, JPEG or WebP only, whatever the client said) and reads its width and height
from the image header (``check_dimensions``: at most 256x256, as the browser resizes it);
``PUT /v1/me/avatar`` makes a completed avatar upload of the caller's their avatar in this
organisation (``memberships.avatar_attachment_id``), ``DELETE /v1/me/avatar`` removes it. A
replaced or removed avatar becomes a tombstone that the attachments cleanup deletes from S3.

Where a person is shown with a name (``UserPublic``: the users list the web app resolves
requesters, assignees and comment authors with, and ``/v1/me``) the answer carries
``avatar_url``: ``/v1/avatars/{id}``, which redirects to a short-lived link of the object.
That address is public: its random id (a UUID4) is the capability, handed only to those who
may list the person, and it stops answering when the avatar is replaced or removed.

No HTTP here and no commit.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from servicedesk.attachments import imagesize
from servicedesk.attachments.models import Attachment
from servicedesk.identity.models import Membership
from servicedesk.platform import audit, storage
from servicedesk.platform.errors import NotFound, ValidationProblem, field_error
from servicedesk.platform.tenancy import RequestContext

AVATAR = "avatar"
# Raster images only (an SVG can carry script), as for the logo.
AVATAR_TYPES = ("image/png", "image/jpeg", "image/webp")
# The browser downscales to at most AVATAR_MAX_SIDE pixels a side before uploading
# (web/src/profile/resize.ts); a 256x256 picture is a few tens of kilobytes, so 512 KiB
# leaves room for metadata and refuses what was not resized.
AVATAR_MAX_BYTES = 512 * 1024
AVATAR_MAX_SIDE = 256
LINK_TTL_SECONDS = 300


def check_file(content_type: str, size: int) -> None:
    """The declared type and size (the bytes are sniffed at completion): every refused
    field named at once."""
    errors = []
    if content_type not in AVATAR_TYPES:
        errors.append(field_error("content_type", "an avatar must be a PNG, JPEG or WebP image"))
    if size > AVATAR_MAX_BYTES:
        errors.append(field_error("size", f"an avatar may be at most {AVATAR_MAX_BYTES} bytes"))
    if errors:
        raise ValidationProblem("the avatar was refused", errors=errors)


def check_dimensions(content_type: str, data: bytes) -> str | None:
    """Why an uploaded avatar's header is refused (unreadable, or larger than
    AVATAR_MAX_SIDE a side), or None. Reads the header only (``imagesize``)."""
    size = imagesize.dimensions(content_type, data)
    if size is None:
        return "the image's size could not be read from its header"
    width, height = size
    if width < 1 or height < 1:
        return "the image has no pixels"
    if width > AVATAR_MAX_SIDE or height > AVATAR_MAX_SIDE:
        return (
            f"the image is {width}x{height} pixels; an avatar may be at most"
            f" {AVATAR_MAX_SIDE}x{AVATAR_MAX_SIDE}"
        )
    return None


def start_upload(
    ctx: RequestContext, *, filename: str, content_type: str, size: int
) -> tuple[Attachment, storage.PresignedPost]:
    check_file(content_type, size)
    key = storage.object_key(ctx.tenant_id, "avatars", secrets.token_hex(16))
    form = storage.presign_upload(key, content_type=content_type, size=size)
    row = Attachment(
        id=uuid.uuid4(),
        tenant_id=ctx.tenant_id,
        uploader_id=ctx.user_id,
        filename=filename,
        content_type=content_type,
        size_bytes=size,
        object_key=key,
        status="pending",
        expires_at=form.expires_at,
        purpose=AVATAR,
    )
    ctx.session.add(row)
    ctx.session.flush()
    audit.record(
        ctx, action="attachment.created", entity_type="attachment", entity_id=row.id,
        data={"purpose": AVATAR, "content_type": content_type, "size": size},
    )  # fmt: skip
    ctx.session.refresh(row)
    return row, form


def _mine(ctx: RequestContext, attachment_id: uuid.UUID) -> Attachment | None:
    """A completed avatar upload of the caller's in this tenant."""
    return ctx.session.scalars(
        select(Attachment).where(
            Attachment.tenant_id == ctx.tenant_id,
            Attachment.id == attachment_id,
            Attachment.purpose == AVATAR,
            Attachment.uploader_id == ctx.user_id,
            Attachment.status == "available",
        )
    ).one_or_none()


def _current(ctx: RequestContext) -> uuid.UUID | None:
    return ctx.session.execute(
        select(Membership.avatar_attachment_id).where(
            Membership.tenant_id == ctx.tenant_id, Membership.user_id == ctx.user_id
        )
    ).scalar_one_or_none()


def _retire(ctx: RequestContext, attachment_id: uuid.UUID | None) -> None:
    if attachment_id is None:
        return
    old = _mine(ctx, attachment_id)
    if old is not None:
        old.status, old.deleted_at, old.deleted_by = "deleted", datetime.now(UTC), ctx.user_id
        audit.record(
            ctx, action="attachment.deleted", entity_type="attachment", entity_id=old.id,
            data={"purpose": AVATAR},
        )  # fmt: skip


def _point(ctx: RequestContext, attachment_id: uuid.UUID | None) -> None:
    ctx.session.execute(
        update(Membership)
        .where(Membership.tenant_id == ctx.tenant_id, Membership.user_id == ctx.user_id)
        .values(avatar_attachment_id=attachment_id, updated_at=datetime.now(UTC))
    )


def set_avatar(ctx: RequestContext, attachment_id: uuid.UUID) -> None:
    if _mine(ctx, attachment_id) is None:
        raise ValidationProblem(
            "the avatar was not set",
            errors=[field_error("attachment_id", "not a completed avatar upload of yours here")],
        )
    before = _current(ctx)
    if before == attachment_id:
        return
    _point(ctx, attachment_id)
    _retire(ctx, before)
    audit.record(ctx, action="user.avatar_set", entity_type="user", entity_id=ctx.user_id)


def remove_avatar(ctx: RequestContext) -> None:
    before = _current(ctx)
    if before is None:
        return
    _point(ctx, None)
    _retire(ctx, before)
    audit.record(ctx, action="user.avatar_removed", entity_type="user", entity_id=ctx.user_id)


_PUBLIC = text("SELECT object_key, version_id, content_type FROM avatar_public(:id)")


def link(session: Session, attachment_id: uuid.UUID) -> str:
    """A presigned GET of an avatar in use (404 otherwise: unknown, replaced, removed)."""
    row = session.execute(_PUBLIC, {"id": attachment_id}).one_or_none()
    if row is None:
        raise NotFound("no such avatar")
    url, _ = storage.presign_download(
        row.object_key,
        filename="avatar",
        content_type=row.content_type,
        version_id=row.version_id,
        ttl=LINK_TTL_SECONDS,
    )
    return url
