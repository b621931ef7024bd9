"""Avatar API. Thin.

- ``POST /v1/attachments/avatar`` (``upload_router``) and ``GET /v1/avatars/{id}``
  (``public_router``): the attachments function, the only one that signs S3 links.
- ``PUT/DELETE /v1/me/avatar`` (``me_router``): the identity function, with ``/v1/me``.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Response
from fastapi.responses import RedirectResponse
from pydantic import Field, StringConstraints

from servicedesk.attachments import avatars
from servicedesk.attachments.schemas import AttachmentPublic, AttachmentUpload, Filename
from servicedesk.identity.schemas import AvatarSet
from servicedesk.platform.context import Ctx, Tx
from servicedesk.platform.endpoints import Once, route
from servicedesk.platform.rbac import Permission, public
from servicedesk.platform.schemas import Input
from servicedesk.platform.storage import UploadForm

upload_router = APIRouter(prefix="/v1/attachments", tags=["users"])
public_router = APIRouter(prefix="/v1/avatars", tags=["users"])
me_router = APIRouter(prefix="/v1/me", tags=["users"])


class AvatarCreate(Input):
    """The body of ``POST /v1/attachments/avatar``."""

    filename: Filename
    content_type: Annotated[str, StringConstraints(min_length=3, max_length=255, to_lower=True)]
    size: int = Field(gt=0, le=100 * 1024 * 1024, description="Exact size in bytes")


@route(
    upload_router.post,
    "/avatar",
    Permission.DESK_ACCESS,
    "Start the upload of your avatar (PNG, JPEG or WebP; at most 512 KiB and 256x256"
    " pixels, read from its header at completion): a pending file and an S3 form; then"
    " complete it and PUT /v1/me/avatar",
    status_code=201,
)
def create_avatar_upload(body: AvatarCreate, ctx: Ctx, once: Once) -> AttachmentUpload:
    def start() -> AttachmentUpload:
        row, form = avatars.start_upload(
            ctx, filename=body.filename, content_type=body.content_type, size=body.size
        )
        return AttachmentUpload(
            attachment=AttachmentPublic.model_validate(row),
            upload=UploadForm(url=form.url, fields=form.fields, expires_at=form.expires_at),
        )

    return once(body, start)


@route(
    me_router.put,
    "/avatar",
    Permission.DESK_ACCESS,
    "Use a completed avatar upload as your picture in this organisation",
    status_code=204,
)
def put_my_avatar(body: AvatarSet, ctx: Ctx) -> Response:
    avatars.set_avatar(ctx, body.attachment_id)
    return Response(status_code=204)


@route(
    me_router.delete,
    "/avatar",
    Permission.DESK_ACCESS,
    "Remove your picture in this organisation (your initials are shown instead)",
    status_code=204,
)
def delete_my_avatar(ctx: Ctx) -> Response:
    avatars.remove_avatar(ctx)
    return Response(status_code=204)


@public_router.get(
    "/{attachment_id}",
    dependencies=[public("an avatar in an <img>: its random id is the capability")],
    summary="A person's avatar: a redirect to a short-lived link",
    status_code=302,
    response_class=RedirectResponse,
    responses={302: {"description": "Redirect to the image"}},
)
def get_avatar(attachment_id: Annotated[uuid.UUID, Path()], session: Tx) -> RedirectResponse:
    url = avatars.link(session, attachment_id)
    headers = {"Cache-Control": f"private, max-age={avatars.LINK_TTL_SECONDS - 60}"}
    return RedirectResponse(url, status_code=302, headers=headers)
