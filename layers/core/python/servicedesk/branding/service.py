"""Branding rules: the checks of a new branding, the logo's upload, the public read.

No HTTP here and no commit. The logo goes through the attachments pipeline (a pending
``attachments`` row with ``purpose = 'logo'``, a presigned S3 form, the completion that
sniffs and hashes the bytes); branding names it by id once it is available.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from servicedesk.attachments.models import Attachment
from servicedesk.branding import contrast
from servicedesk.branding.settings import SECTION, BrandingSettings
from servicedesk.platform import audit, storage
from servicedesk.platform.errors import NotFound, ValidationProblem, field_error
from servicedesk.platform.tenancy import RequestContext

LOGO = "logo"
# Raster images only: an SVG can carry script and links, and sanitising it safely is a
# project of its own; it is refused (docs/settings.md).
LOGO_TYPES = ("image/png", "image/jpeg", "image/webp")
LOGO_MAX_BYTES = 512 * 1024
# The public logo link redirects to a presigned GET that lives this long.
LOGO_LINK_TTL_SECONDS = 300


# --- saving ------------------------------------------------------------------------------


def check(ctx: RequestContext, value: BrandingSettings) -> None:
    """What the model cannot check alone, all at once (every refused field is named): the
    colours' contrast with the design tokens, and that the logo is a finished logo upload
    of this tenant. A replaced logo's row becomes a tombstone; the attachments cleanup
    removes its object."""
    errors = []
    for name in ("primary_color", "accent_color"):
        colour = getattr(value, name)
        if colour is not None:
            errors += [field_error(name, why) for why in contrast.shortfalls(name, colour)]
    if value.logo_attachment_id is not None and _logo(ctx, value.logo_attachment_id) is None:
        errors.append(
            field_error("logo_attachment_id", "not a completed logo upload of this organisation")
        )
    if errors:
        raise ValidationProblem("the branding was not saved", errors=errors)
    before = SECTION.load(ctx.session, ctx.tenant_id).logo_attachment_id
    if before is not None and before != value.logo_attachment_id:
        old = _logo(ctx, before)
        if old is not None:
            old.status, old.deleted_at, old.deleted_by = "deleted", datetime.now(UTC), ctx.user_id
            audit.record(
                ctx, action="attachment.deleted", entity_type="attachment", entity_id=old.id,
                data={"purpose": LOGO, "filename": old.filename},
            )  # fmt: skip


def _logo(ctx: RequestContext, attachment_id: uuid.UUID) -> Attachment | None:
    return ctx.session.scalars(
        select(Attachment).where(
            Attachment.tenant_id == ctx.tenant_id,
            Attachment.id == attachment_id,
            Attachment.purpose == LOGO,
            Attachment.status == "available",
        )
    ).one_or_none()


# --- the logo's upload -------------------------------------------------------------------


def check_logo_file(content_type: str, size: int) -> None:
    """The declared type and size of a logo (the bytes are sniffed at completion)."""
    errors = []
    if content_type not in LOGO_TYPES:
        why = (
            "SVG is not accepted (it can carry script): upload a PNG, JPEG or WebP"
            if "svg" in content_type
            else "a logo must be a PNG, JPEG or WebP image"
        )
        errors.append(field_error("content_type", why))
    if size > LOGO_MAX_BYTES:
        errors.append(field_error("size", f"a logo may be at most {LOGO_MAX_BYTES} bytes"))
    if errors:
        raise ValidationProblem("the logo was refused", errors=errors)


def start_logo_upload(
    ctx: RequestContext, *, filename: str, content_type: str, size: int
) -> tuple[Attachment, storage.PresignedPost]:
    """A pending logo and its upload form; ``POST /v1/attachments/{id}/complete`` checks
    what arrived (``attachments.service.complete``)."""
    check_logo_file(content_type, size)
    key = storage.object_key(ctx.tenant_id, "branding", secrets.token_hex(16))
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
        purpose=LOGO,
    )
    ctx.session.add(row)
    ctx.session.flush()
    audit.record(
        ctx, action="attachment.created", entity_type="attachment", entity_id=row.id,
        data={"purpose": LOGO, "filename": filename, "content_type": content_type, "size": size},
    )  # fmt: skip
    ctx.session.refresh(row)
    return row, form


# --- what anyone may read --------------------------------------------------------------


@dataclass(frozen=True)
class Public:
    """The branding an anonymous caller may read by the tenant's slug: no ids, no settings
    beyond these. An organisation that set no branding and does not take registrations
    answers exactly as a slug no organisation has (``DEFAULT``): the sign-in page shows the
    default look, and the answer does not tell which slugs exist."""

    display_name: str | None
    primary_color: str | None
    accent_color: str | None
    welcome_text: str | None
    logo_url: str | None
    self_registration: bool


DEFAULT = Public(None, None, None, None, None, False)

_PUBLIC = text(
    "SELECT tenant_id, name, branding, logo_key, logo_version, logo_type"
    " FROM branding_public(:slug)"
)


def _row(session: Session, slug: str) -> Any:
    row = session.execute(_PUBLIC, {"slug": slug}).one_or_none()
    if row is None:
        raise NotFound("no such organisation")
    return row


def logo_path(slug: str, version: object) -> str:
    """The stable address of a tenant's logo (a redirect to a short-lived link); ``v``
    changes with the logo, so browsers and mail clients may cache it."""
    return f"/v1/branding/{slug}/logo?v={version}"


def public(session: Session, slug: str) -> Public:
    from servicedesk.identity.registration import portal_by_slug

    row = session.execute(_PUBLIC, {"slug": slug}).one_or_none()
    tenant, portal = portal_by_slug(session, slug)
    if row is None or tenant is None:
        return DEFAULT
    value = BrandingSettings.model_validate(row.branding or {})
    if value == BrandingSettings() and not portal.self_registration:
        return DEFAULT
    return Public(
        display_name=value.display_name or row.name,
        primary_color=value.primary_color,
        accent_color=value.accent_color,
        welcome_text=value.welcome_text,
        logo_url=logo_path(slug, value.logo_attachment_id) if row.logo_key else None,
        self_registration=portal.self_registration,
    )


def logo_link(session: Session, slug: str) -> str:
    """A presigned GET of the tenant's current logo (404 when it has none)."""
    row = _row(session, slug)
    if not row.logo_key:
        raise NotFound("this organisation has no logo")
    url, _ = storage.presign_download(
        row.logo_key,
        filename="logo",
        content_type=row.logo_type,
        version_id=row.logo_version,
        ttl=LOGO_LINK_TTL_SECONDS,
    )
    return url
