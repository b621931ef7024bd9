"""API schemas of the mail sources: provider hooks and IMAP mailboxes."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StringConstraints, field_validator, model_validator

from servicedesk.platform.schemas import Input, Name, Output, not_null

Provider = Literal["mailgun", "postmark", "sendgrid", "generic"]
TlsMode = Literal["implicit", "starttls"]
# A DNS name or an IP literal; no scheme, port, path or whitespace.
HOST_RE = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9.:-]*[A-Za-z0-9])?$")


def _host(value: str) -> str:
    if not HOST_RE.fullmatch(value) or ".." in value:
        raise ValueError("must be a host name or an IP address")
    return value.lower()


Host = Annotated[str, StringConstraints(min_length=1, max_length=253), AfterValidator(_host)]
Port = Annotated[int, Field(ge=1, le=65535)]
Username = Annotated[str, StringConstraints(min_length=1, max_length=320)]
# IMAP mailbox names are sent as quoted ASCII strings: no quotes, backslashes or controls.
Folder = Annotated[
    str,
    StringConstraints(min_length=1, max_length=200, pattern=r"^[\x20\x21\x23-\x5b\x5d-\x7e]+$"),
]
MailboxPassword = Annotated[
    str, StringConstraints(min_length=1, max_length=1024, strip_whitespace=False)
]
SigningKey = Annotated[
    str, StringConstraints(min_length=8, max_length=256, pattern=r"^[\x21-\x7e]+$")
]


# --- provider hooks -------------------------------------------------------------------------


class MailHookCreate(Input):
    provider: Provider
    name: Name
    enabled: bool = True
    signing_key: SigningKey | None = Field(
        default=None,
        description="Mailgun only (and required there): the account's HTTP webhook signing "
        "key. The other providers get a secret generated here, shown once.",
    )

    @model_validator(mode="after")
    def _key_for_mailgun_only(self) -> MailHookCreate:
        if (self.provider == "mailgun") != (self.signing_key is not None):
            raise ValueError("signing_key is required for mailgun and refused for the others")
        return self


class MailHookUpdate(Input):
    name: Name | None = None
    enabled: bool | None = None
    signing_key: SigningKey | None = Field(default=None, description="Mailgun only")
    version: int | None = Field(default=None, ge=1, description="Or send If-Match")

    _not_null = field_validator("name", "enabled", mode="before")(not_null)


class MailHookPublic(Output):
    id: uuid.UUID
    provider: Provider
    name: str
    enabled: bool
    path: str = Field(description="Where the provider posts (below the API's base URL)")
    username: str | None = Field(description="HTTP Basic user name (postmark, sendgrid)")
    last_received_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime


class MailHookWithSecret(MailHookPublic):
    secret: str | None = Field(
        description="Shown only now: the Basic password (postmark, sendgrid) or the HMAC key "
        "(generic); none for mailgun (its own signing key)"
    )


# --- IMAP mailboxes -------------------------------------------------------------------------


class MailboxCreate(Input):
    name: Name
    host: Host
    port: Port = 993
    tls_mode: TlsMode = "implicit"
    username: Username
    password: MailboxPassword = Field(description="Kept in Secrets Manager; never returned")
    folder: Folder = "INBOX"
    enabled: bool = True


class MailboxUpdate(Input):
    name: Name | None = None
    host: Host | None = None
    port: Port | None = None
    tls_mode: TlsMode | None = None
    username: Username | None = None
    password: MailboxPassword | None = None
    folder: Folder | None = None
    enabled: bool | None = None
    version: int | None = Field(default=None, ge=1, description="Or send If-Match")

    _not_null = field_validator(
        "name",
        "host",
        "port",
        "tls_mode",
        "username",
        "password",
        "folder",
        "enabled",
        mode="before",
    )(not_null)


class MailboxPublic(Output):
    id: uuid.UUID
    name: str
    host: str
    port: int
    tls_mode: TlsMode
    username: str
    folder: str
    enabled: bool
    last_polled_at: datetime | None
    last_success_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    consecutive_failures: int
    messages_taken: int
    version: int
    created_at: datetime
    updated_at: datetime


class MailboxTest(Output):
    ok: bool
    unseen: int | None = Field(description="Unseen messages in the folder, when it connected")
    error: str | None
