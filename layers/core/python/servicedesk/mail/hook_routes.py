"""The providers' inbound-mail hook (public: each request carries its own credentials,
verified before anything is written; ``mail/hooks.py``). Thin: parse, call, shape."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from servicedesk.mail import hooks, providers
from servicedesk.platform.config import get_settings
from servicedesk.platform.rbac import public

router = APIRouter(prefix="/v1", tags=["hooks"])


class MailAccepted(BaseModel):
    status: Literal["accepted", "duplicate"]


HookProvider = Annotated[str, Path(max_length=32)]


@router.post(
    "/hooks/email/{provider}/{hook_id}",
    status_code=202,
    dependencies=[public("provider hooks carry their own credentials, verified first")],
    summary="Inbound mail from a provider (Mailgun, Postmark, SendGrid, or signed raw MIME)",
    openapi_extra={"x-max-body-bytes": providers.MAX_BODY_BYTES},
)
async def receive_mail(
    provider: HookProvider, hook_id: uuid.UUID, request: Request, response: Response
) -> MailAccepted:
    body = await request.body()
    received = await run_in_threadpool(
        hooks.receive, provider, hook_id, body, request.headers, settings=get_settings()
    )
    response.status_code = received.status
    return MailAccepted(status="duplicate" if received.duplicate else "accepted")


@router.post(
    "/hooks/email/{provider}/{hook_id}/mime",
    status_code=202,
    dependencies=[public("provider hooks carry their own credentials, verified first")],
    summary="The same, at the URL Mailgun needs to post raw MIME (it must end in mime)",
    openapi_extra={"x-max-body-bytes": providers.MAX_BODY_BYTES},
)
async def receive_mail_mime(
    provider: HookProvider, hook_id: uuid.UUID, request: Request, response: Response
) -> MailAccepted:
    return await receive_mail(provider, hook_id, request, response)
