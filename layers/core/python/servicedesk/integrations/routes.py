"""Integrations API: admins' configuration, a ticket's GitHub issue and links, and the
public inbound routes of GitHub and Slack (each verifies its own signature). Thin."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from servicedesk.integrations import github, service, slack
from servicedesk.integrations.schemas import (
    GithubIssueRequest,
    HookAnswer,
    IntegrationCreate,
    IntegrationLinkPublic,
    IntegrationPublic,
    IntegrationUpdate,
    IntegrationWithSecret,
    SlackInstall,
)
from servicedesk.platform.config import get_settings
from servicedesk.platform.endpoints import Resource, listing, operation
from servicedesk.platform.errors import PayloadTooLarge, field_error
from servicedesk.platform.rbac import Permission, public

router = APIRouter(prefix="/v1", tags=["integrations"])
# The inbound routes: GitHub's and Slack's requests, signed (no bearer token).
inbound_router = APIRouter(prefix="/v1", tags=["integrations"])
SIGNED = "GitHub and Slack sign their requests; the signature is checked before any read"


async def capped_body(request: Request) -> bytes:
    """The raw body, refused (413) past ``integrations_max_body_bytes`` without reading
    more than that: a declared length over the cap is refused before the first byte."""
    cap = get_settings().integrations_max_body_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap:
        raise PayloadTooLarge(errors=[field_error("body", f"larger than {cap} bytes")])
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > cap:
            raise PayloadTooLarge(errors=[field_error("body", f"larger than {cap} bytes")])
    return bytes(body)


@inbound_router.post(
    "/hooks/github/{integration_id}",
    dependencies=[public(SIGNED)],
    summary="GitHub's webhook deliveries (issues, issue_comment, pull_request); signed",
    status_code=202,
)
async def github_webhook(integration_id: uuid.UUID, request: Request) -> HookAnswer:
    body = await capped_body(request)
    return await run_in_threadpool(github.receive, integration_id, request.headers, body)


@inbound_router.get(
    "/hooks/slack/oauth/callback",
    dependencies=[public("the signed, single-use state bound to the installing admin")],
    summary="Slack's OAuth redirect after an admin installed the app; back to the web app",
    status_code=303,
    response_class=RedirectResponse,
)
async def slack_oauth_callback(
    state: Annotated[str, Query(min_length=1, max_length=200)],
    code: Annotated[str | None, Query(max_length=500)] = None,
    error: Annotated[str | None, Query(max_length=200)] = None,
) -> RedirectResponse:
    target = await run_in_threadpool(slack.finish_install, state=state, code=code, error=error)
    return RedirectResponse(target, status_code=303)


for path, summary in (
    ("commands", "Slack slash commands (/ticket); signed"),
    ("interactions", "Slack interactivity (modal submissions, buttons); signed"),
    ("events", "Slack Events API (thread replies, link unfurls); signed"),
):

    def _make(kind: str) -> object:
        async def slack_inbound(integration_id: uuid.UUID, request: Request) -> dict[str, Any]:
            body = await capped_body(request)
            answer = await run_in_threadpool(
                slack.receive, kind, integration_id, request.headers, body
            )
            return answer or {}  # an empty object: Slack's "done" (closes a modal)

        slack_inbound.__name__ = f"slack_{kind}"
        return slack_inbound

    inbound_router.add_api_route(
        f"/hooks/slack/{{integration_id}}/{path}",
        _make(path),  # type: ignore[arg-type]
        methods=["POST"],
        dependencies=[public(SIGNED)],
        summary=summary,
        name=f"slack_{path}",
        response_model=dict[str, Any],
    )


integrations = Resource(
    router,
    "/integrations",
    "integration_id",
    "integration",
    IntegrationPublic,
    Permission.INTEGRATION_MANAGE,
    Permission.INTEGRATION_MANAGE,
)
integrations.list("List the organisation's integrations", service.list_integrations)
integrations.create(
    "Connect a GitHub repository or a Slack workspace (GitHub's webhook secret shown once)",
    IntegrationCreate,
    service.create_integration,
    public=IntegrationWithSecret,
)
integrations.get("Get an integration", service.get_integration)
integrations.update(
    "Change an integration: enable, channels per team, PR-merged status, tokens",
    IntegrationUpdate,
    service.update_integration,
)
integrations.delete(
    "Disconnect an integration (its secrets are deleted)", service.delete_integration
)

operation(
    router.post,
    "/integrations/{integration_id}/slack/install",
    Permission.INTEGRATION_MANAGE,
    "Start installing the Slack app: the URL of Slack's consent screen, bound to you",
    slack.start_install,
    public=SlackInstall,
)

operation(
    router.post,
    "/tickets/{ticket_id}/github-issue",
    Permission.INTEGRATION_USE,
    "Create a GitHub issue from the ticket (asynchronously: the link is pending until then)",
    github.request_issue,
    public=IntegrationLinkPublic,
    body=GithubIssueRequest,
    status_code=202,
)

listing(
    router,
    "/tickets/{ticket_id}/integration-links",
    Permission.INTEGRATION_USE,
    "The ticket's GitHub issues and pull requests and its Slack thread",
    IntegrationLinkPublic,
    service.ticket_links,
)
