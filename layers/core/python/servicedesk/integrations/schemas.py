"""Request and response bodies of the integrations API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, model_validator

from servicedesk.platform.schemas import Input, Output
from servicedesk.tickets.states import Status

Kind = Literal["github", "slack"]
Name = Annotated[str, StringConstraints(min_length=1, max_length=80)]
# GitHub's own rules for an owner (user or organisation) and a repository name.
Owner = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$", max_length=39)
]
Repo = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._-]{1,100}$")]
Token = Annotated[str, StringConstraints(min_length=1, max_length=2048)]
ApiUrl = Annotated[str, StringConstraints(min_length=8, max_length=500)]
SlackId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._-]{1,64}$")]
Channels = Annotated[dict[uuid.UUID, SlackId], Field(max_length=200)]
TOKEN_NOTE = "Kept in Secrets Manager; never returned"  # noqa: S105 - a description


class GithubSettings(Input):
    owner: Owner
    repo: Repo
    token: Token = Field(
        description="A fine-grained token or a GitHub App installation token with Issues "
        f"read/write on the repository. {TOKEN_NOTE}"
    )
    api_url: ApiUrl | None = Field(
        default=None, description="GitHub Enterprise's REST API base URL; GitHub.com's if none"
    )
    pr_merged_status: Status | None = Field(
        default=None, description="Move a referenced ticket to this status when a PR merges"
    )


class GithubSettingsUpdate(Input):
    owner: Owner | None = None
    repo: Repo | None = None
    token: Token | None = Field(default=None, description=f"A new token. {TOKEN_NOTE}")
    api_url: ApiUrl | None = None
    pr_merged_status: Status | None = None


class SlackSettings(Input):
    client_id: Annotated[str, StringConstraints(pattern=r"^[0-9.]{1,64}$")] = Field(
        description="The Slack app's client id (Basic Information)"
    )
    client_secret: Token = Field(description=f"The Slack app's client secret. {TOKEN_NOTE}")
    signing_secret: Token = Field(description=f"The Slack app's signing secret. {TOKEN_NOTE}")
    channels: Channels = Field(
        default_factory=dict, description="Desk team id -> Slack channel id its tickets go to"
    )
    default_channel: SlackId | None = Field(
        default=None, description="Where tickets without a mapped team are announced"
    )


class SlackSettingsUpdate(Input):
    client_id: Annotated[str, StringConstraints(pattern=r"^[0-9.]{1,64}$")] | None = None
    client_secret: Token | None = None
    signing_secret: Token | None = None
    channels: Channels | None = None
    default_channel: SlackId | None = None


class IntegrationCreate(Input):
    kind: Kind
    name: Name
    enabled: bool = True
    github: GithubSettings | None = None
    slack: SlackSettings | None = None

    @model_validator(mode="after")
    def _matching_settings(self) -> IntegrationCreate:
        given = getattr(self, self.kind)
        other = self.slack if self.kind == "github" else self.github
        if given is None:
            raise ValueError(f"{self.kind}: required for a {self.kind} integration")
        if other is not None:
            raise ValueError(f"only the {self.kind} settings belong to a {self.kind} integration")
        return self


class IntegrationUpdate(Input):
    name: Name | None = None
    enabled: bool | None = None
    github: GithubSettingsUpdate | None = None
    slack: SlackSettingsUpdate | None = None
    version: int | None = Field(default=None, ge=1, description="Or send If-Match")


class IntegrationPublic(Output):
    id: uuid.UUID
    kind: Kind
    name: str
    enabled: bool
    config: dict[str, Any] = Field(description="What is not secret (no token ever)")
    installed: bool = Field(description="Slack: the workspace granted its bot token")
    inbound_url: str = Field(description="Where GitHub or Slack sends its requests")
    version: int
    created_at: datetime
    updated_at: datetime


class IntegrationWithSecret(IntegrationPublic):
    webhook_secret: str | None = Field(
        default=None, description="GitHub: the webhook's secret, shown once; set it on GitHub"
    )


class SlackInstall(Output):
    authorize_url: str = Field(description="Send the admin's browser here (Slack's consent)")


class GithubIssueRequest(Input):
    integration_id: uuid.UUID
    title: Annotated[str, StringConstraints(min_length=1, max_length=256)] | None = Field(
        default=None, description="The ticket's number and title if none"
    )


class IntegrationLinkPublic(Output):
    id: uuid.UUID
    integration_id: uuid.UUID
    ticket_id: uuid.UUID
    kind: str
    external_id: str
    status: Literal["pending", "linked", "failed"]
    url: str | None
    title: str | None
    created_at: datetime
    updated_at: datetime


class HookAnswer(Output):
    accepted: bool
    duplicate: bool = False
    linked: list[str] = Field(default_factory=list, description="Ticket numbers linked")
    reason: str | None = None
