"""Branding API. Thin.

- ``GET/PUT /v1/settings/branding`` (``settings_router``, the tickets function with the
  other settings): everyone signed in reads it (the shell applies it), admins replace it.
- ``POST /v1/attachments/branding-logo`` (``upload_router``, the attachments function,
  the only one that signs S3 forms): start a logo upload; the attachments' own
  ``/complete`` checks it.
- ``GET /v1/branding/{slug}`` and ``/v1/branding/{slug}/logo`` (``public_router``, the
  attachments function): what anyone may read, by the organisation's slug.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response
from fastapi.responses import RedirectResponse

from servicedesk.attachments.schemas import AttachmentPublic, AttachmentUpload
from servicedesk.branding import service
from servicedesk.branding.schemas import BrandingPublic, LogoCreate
from servicedesk.branding.settings import SECTION
from servicedesk.platform.context import Ctx, Tx
from servicedesk.platform.endpoints import Once, route
from servicedesk.platform.rbac import Permission, public
from servicedesk.platform.settings_routes import add_settings_routes
from servicedesk.platform.storage import UploadForm

settings_router = APIRouter(prefix="/v1/settings", tags=["settings"])
add_settings_routes(settings_router, SECTION, check=service.check)

upload_router = APIRouter(prefix="/v1/attachments", tags=["settings"])
public_router = APIRouter(prefix="/v1/branding", tags=["settings"])

Slug = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9-]{1,48}[a-z0-9]$", max_length=50)]


@route(
    upload_router.post,
    "/branding-logo",
    Permission.ADMIN_SETTINGS,
    "Start a logo upload (PNG, JPEG or WebP; at most 512 KiB): a pending file and an S3 form",
    status_code=201,
)
def create_branding_logo(body: LogoCreate, ctx: Ctx, once: Once) -> AttachmentUpload:
    def start() -> AttachmentUpload:
        row, form = service.start_logo_upload(
            ctx, filename=body.filename, content_type=body.content_type, size=body.size
        )
        return AttachmentUpload(
            attachment=AttachmentPublic.model_validate(row),
            upload=UploadForm(url=form.url, fields=form.fields, expires_at=form.expires_at),
        )

    return once(body, start)


@public_router.get(
    "/{slug}",
    dependencies=[public("the login page and portal of an organisation: public fields only")],
    summary="An organisation's public branding: name, colours, logo address, welcome text",
    description="A slug no organisation has answers as an organisation without branding"
    " (the default look): the answer does not tell which slugs exist.",
    response_model=BrandingPublic,
)
def get_public_branding(slug: Slug, session: Tx, response: Response) -> BrandingPublic:
    found = service.public(session, slug)
    response.headers["Cache-Control"] = "public, max-age=30"
    return BrandingPublic(**found.__dict__)


@public_router.get(
    "/{slug}/logo",
    dependencies=[public("the logo in the login page and in e-mails: an image, public")],
    summary="The organisation's logo: a redirect to a short-lived link",
    status_code=302,
    response_class=RedirectResponse,
    responses={302: {"description": "Redirect to the logo"}},
)
def get_branding_logo(
    slug: Slug,
    session: Tx,
    v: Annotated[
        str | None, Query(max_length=64, description="Changes with the logo (a cache key)")
    ] = None,
) -> RedirectResponse:
    url = service.logo_link(session, slug)
    headers = {"Cache-Control": f"public, max-age={service.LOGO_LINK_TTL_SECONDS - 60}"}
    return RedirectResponse(url, status_code=302, headers=headers)
