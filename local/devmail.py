"""The dev mail viewer's API: the e-mail `make dev` caught instead of sending it.

With ``SERVICEDESK_MAIL_CATCHER_DIR`` set, the mailer writes every message there as an
``.eml`` file (notifications/mailer.py). This router reads them back; ``local.app`` mounts it
only in the local runtime and only when that directory is set, so no Lambda function has
it and the domain code has no dev branch (invariant 13). It is left out of the OpenAPI
document: it is a tool of the local runtime, not part of the API.

Who sees what: any signed-in member sees the caught mail of their tenant addressed to their
own address; admins see all of their tenant's caught mail (invitations to people who have
no account yet included). Another tenant's mail is never listed and answers 404.
"""

from __future__ import annotations

import html
import re
from email import policy
from email.message import EmailMessage
from email.parser import BytesHeaderParser, BytesParser
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse
from pydantic import Field
from sqlalchemy import text

from servicedesk.notifications.mailer import CAUGHT_NAME, EVENT_HEADER, TENANT_HEADER
from servicedesk.platform.config import get_settings
from servicedesk.platform.context import Ctx
from servicedesk.platform.errors import NotFound
from servicedesk.platform.pagination import TEXT, Key, Keyset, Page
from servicedesk.platform.params import Cursor, Limit
from servicedesk.platform.permissions import Permission
from servicedesk.platform.rbac import requires
from servicedesk.platform.schemas import Output
from servicedesk.platform.tenancy import RequestContext

router = APIRouter(prefix="/v1/dev", tags=["dev"], include_in_schema=False)
SHOWN_HEADERS = ("From", "To", "Reply-To", "Subject", "Date", "List-Unsubscribe", EVENT_HEADER)
MAX_PART = 512 * 1024


class CaughtMail(Output):
    name: str = Field(description="File name; GET /v1/dev/mail/{name} returns the raw message")
    to: str
    subject: str
    date: str
    event_type: str | None


class Header(Output):
    name: str
    value: str


class CaughtMessage(Output):
    name: str
    headers: list[Header]
    text: str | None = Field(description="The text/plain part")
    html: str | None = Field(
        description="The text/html part, sanitised: allowed elements only, no attribute but"
        " http(s)/mailto links and table spans (no script, style or image)"
    )


def _directory() -> Path:
    directory = get_settings().mail_catcher_dir
    if not directory:
        raise NotFound("no mail catcher is configured")
    return Path(directory)


class Reader:
    """The caller's view of the catcher directory."""

    def __init__(self, ctx: RequestContext) -> None:
        self.tenant = str(ctx.tenant_id)
        self.only_to: str | None = None
        if not ctx.can(Permission.ADMIN_SETTINGS):
            email = ctx.session.execute(
                text("SELECT email FROM users WHERE id = :u"), {"u": ctx.user_id}
            ).scalar_one()
            self.only_to = str(email).lower()

    def allows(self, headers: Any) -> bool:
        if headers.get(TENANT_HEADER) != self.tenant:
            return False
        return self.only_to is None or str(headers.get("To", "")).strip().lower() == self.only_to

    def path(self, directory: Path, name: str) -> Path:
        """The message file, if ``name`` is one the caller may read; 404 otherwise."""
        path = directory / name
        if not CAUGHT_NAME.match(name) or not path.is_file() or not self.allows(_headers(path)):
            raise NotFound("no such message")
        return path


def _headers(path: Path) -> Any:
    with path.open("rb") as handle:
        return BytesHeaderParser(policy=policy.default).parse(handle)


# Caught mail lives in files, not a table: only the cursor's decoding is shared.
NEWEST_FIRST = Keyset([Key(None, TEXT, lambda item: item.name)], descending=True)


@router.get(
    "/mail",
    dependencies=[requires(Permission.DESK_ACCESS)],
    summary="The caught e-mail the caller may read, newest first (local runtime only)",
)
def list_mail(ctx: Ctx, limit: Limit = 50, cursor: Cursor = None) -> Page[CaughtMail]:
    directory, reader = _directory(), Reader(ctx)
    after = NEWEST_FIRST.decode(cursor)
    before = str(after[0]) if after else None
    names = sorted(
        (p.name for p in directory.glob("*.eml") if CAUGHT_NAME.match(p.name)), reverse=True
    )
    items: list[CaughtMail] = []
    for name in names:
        if before is not None and name >= before:
            continue
        headers = _headers(directory / name)
        if not reader.allows(headers):
            continue
        if len(items) == limit:
            return Page(items=items, next_cursor=NEWEST_FIRST.encode(items[-1]))
        items.append(
            CaughtMail(
                name=name,
                to=str(headers.get("To", "")),
                subject=str(headers.get("Subject", "")),
                date=str(headers.get("Date", "")),
                event_type=headers.get(EVENT_HEADER),
            )
        )
    return Page(items=items)


@router.get(
    "/mail/{name}",
    dependencies=[requires(Permission.DESK_ACCESS)],
    summary="One caught e-mail, raw (the .eml text)",
    response_class=PlainTextResponse,
)
def get_mail(name: str, ctx: Ctx) -> PlainTextResponse:
    path = Reader(ctx).path(_directory(), name)
    return PlainTextResponse(path.read_text(encoding="utf-8", errors="replace"))


ALLOWED_TAGS = frozenset(
    {"a", "abbr", "b", "blockquote", "br", "caption", "code", "div", "em", "hr", "i", "li"}
    | {"ol", "p", "pre", "s", "small", "span", "strong", "sub", "sup", "u", "ul"}
    | {"h1", "h2", "h3", "h4", "h5", "h6"}
    | {"table", "caption", "thead", "tbody", "tfoot", "tr", "td", "th"}
)
VOID_TAGS = frozenset({"br", "hr"})
# Dropped with everything inside them: their text is not content.
DROPPED_TAGS = frozenset(
    {"script", "style", "head", "title", "template", "noscript", "iframe", "object", "embed"}
    | {"svg", "math", "form", "textarea"}
)
SAFE_HREF = re.compile(r"^(https?:|mailto:)", re.IGNORECASE)


class _Cleaner(HTMLParser):
    """Rebuilds HTML from an allow-list (stdlib parser, so nothing runs or loads)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.dropping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in DROPPED_TAGS:
            self.dropping += 1
            return
        if self.dropping or tag not in ALLOWED_TAGS:
            return
        kept = []
        for name, raw in attrs:
            value = (raw or "").strip()
            if tag == "a" and name == "href" and SAFE_HREF.match(value):
                kept.append(f' href="{html.escape(value)}"')
            elif tag in ("td", "th") and name in ("colspan", "rowspan") and value.isdigit():
                kept.append(f' {name}="{int(value)}"')
        self.out.append(f"<{tag}{''.join(kept)}>")

    def handle_endtag(self, tag: str) -> None:
        if tag in DROPPED_TAGS:
            self.dropping = max(0, self.dropping - 1)
        elif not self.dropping and tag in ALLOWED_TAGS and tag not in VOID_TAGS:
            self.out.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        if not self.dropping:
            self.out.append(html.escape(data, quote=False))


def clean_html(source: str) -> str:
    cleaner = _Cleaner()
    cleaner.feed(source)
    cleaner.close()
    return "".join(cleaner.out)


def _part(message: EmailMessage, subtype: str) -> str | None:
    body = message.get_body(preferencelist=(subtype,))
    if body is None:
        return None
    content = body.get_content()
    return str(content)[:MAX_PART] if isinstance(content, str) else None


@router.get(
    "/mail/{name}/parts",
    dependencies=[requires(Permission.DESK_ACCESS)],
    summary="One caught e-mail: its main headers and its text and HTML parts",
)
def get_mail_parts(name: str, ctx: Ctx) -> CaughtMessage:
    path = Reader(ctx).path(_directory(), name)
    with path.open("rb") as handle:
        message = BytesParser(policy=policy.default).parse(handle)
    assert isinstance(message, EmailMessage)
    headers = [Header(name=key, value=str(message[key])) for key in SHOWN_HEADERS if message[key]]
    markup = _part(message, "html")
    return CaughtMessage(
        name=name,
        headers=headers,
        text=_part(message, "plain"),
        html=clean_html(markup) if markup is not None else None,
    )
