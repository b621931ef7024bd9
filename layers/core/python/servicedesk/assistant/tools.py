"""The assistant's tools: JSON schemas for the model, pydantic for the arguments, and each
tool run as the calling user (their RequestContext: the same services, RLS and visibility
rules as the REST API). A tool never raises: bad arguments, what the caller may not see
and refusals from the services come back to the model as an error it can read.

Text written by people (articles, tickets, replies) goes to the model inside
``<document>`` elements, escaped, so that it cannot close its element and pass for the
system's words; the system prompt says that what is inside is data, never instructions.
"""

from __future__ import annotations

import html
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)
from sqlalchemy import select

from servicedesk.ai.chat import ToolSpec
from servicedesk.assistant import knowledge
from servicedesk.platform.errors import ProblemError
from servicedesk.platform.tenancy import RequestContext
from servicedesk.tickets.models import Comment, Ticket
from servicedesk.tickets.schemas import TicketCreate
from servicedesk.tickets.states import Status
from servicedesk.tickets.visibility import visible, visible_comments

MAX_RESULT_CHARS = 8000
MAX_DOCUMENT_CHARS = 2000
RECENT_REPLIES = 5
MY_TICKETS = 20


class Args(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class SearchArgs(Args):
    query: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    limit: int = Field(default=5, ge=1, le=10)


class CreateTicketArgs(Args):
    title: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    description: Annotated[str, StringConstraints(max_length=20000)] = ""
    priority: Literal["low", "medium", "high", "critical"] | None = None


class TicketStatusArgs(Args):
    ticket_id: uuid.UUID | None = None
    number: Annotated[str, StringConstraints(min_length=1, max_length=40)] | None = None

    @model_validator(mode="after")
    def _one_of(self) -> TicketStatusArgs:
        if (self.ticket_id is None) == (self.number is None):
            raise ValueError("give exactly one of ticket_id or number")
        return self


class MyTicketsArgs(Args):
    status: Status | None = None


@dataclass
class Turn:
    """What the tools of one turn share: the conversation, and the ticket made in it."""

    conversation_id: uuid.UUID
    created_ticket: Ticket | None = None
    calls: list[dict[str, Any]] = field(default_factory=list)  # for the audit trail


class ToolError(Exception):
    """Answered to the model as ``{"error": ...}``."""


def document(kind: str, attributes: dict[str, Any], text: str) -> str:
    attrs = "".join(
        f' {name}="{html.escape(str(value), quote=True)}"'
        for name, value in attributes.items()
        if value is not None
    )
    body = html.escape(text[:MAX_DOCUMENT_CHARS], quote=False)
    return f'<document type="{kind}"{attrs}>\n{body}\n</document>'


def _search(ctx: RequestContext, turn: Turn, args: SearchArgs) -> str:
    hits = knowledge.search(ctx, q=args.query, limit=args.limit)
    if not hits:
        return "No knowledge base article matches."
    parts = [f"{len(hits)} article(s) found:"]
    for hit in hits:
        text = hit.summary or ""
        if hit.snippet:
            # The snippet is HTML-escaped with <mark> highlights: read back to plain text
            # (the document escapes it again).
            plain = hit.snippet.replace("<mark>", "").replace("</mark>", "")
            text = f"{text}\n{html.unescape(plain)}".strip()
        parts.append(document("article", {"id": hit.article_id, "title": hit.title}, text))
    return "\n".join(parts)


def _create_ticket(ctx: RequestContext, turn: Turn, args: CreateTicketArgs) -> str:
    if turn.created_ticket is not None:
        raise ToolError(
            f"a ticket was already opened in this turn ({turn.created_ticket.number});"
            " do not open another"
        )
    from servicedesk.tickets import service as tickets  # cold start: see _tickets_service

    data = TicketCreate(title=args.title, description=args.description, priority=args.priority)
    ticket = tickets.create(ctx, data=data, channel="assistant")
    turn.created_ticket = ticket
    return json.dumps(
        {
            "created": True,
            "ticket_id": str(ticket.id),
            "number": ticket.number,
            "status": ticket.status,
            "priority": ticket.priority,
        }
    )


def _find_ticket(ctx: RequestContext, args: TicketStatusArgs) -> Ticket:
    # The tickets' service and queries (and the SLA engine behind them) are imported when
    # a ticket tool first runs, not when the assistant's Lambda starts: most turns only
    # search the knowledge base (tests/unit/test_function_imports.py).
    from servicedesk.tickets import service as tickets

    settings = tickets.load_settings(ctx)
    query = select(Ticket).where(Ticket.tenant_id == ctx.tenant_id, visible(ctx, settings))
    if args.ticket_id is not None:
        query = query.where(Ticket.id == args.ticket_id)
    else:
        query = query.where(Ticket.number == (args.number or "").upper())
    ticket = ctx.session.scalars(query).one_or_none()
    if ticket is None:
        raise ToolError("ticket not found")
    return ticket


def _ticket_status(ctx: RequestContext, turn: Turn, args: TicketStatusArgs) -> str:
    ticket = _find_ticket(ctx, args)
    replies = ctx.session.scalars(
        select(Comment)
        .where(
            Comment.tenant_id == ctx.tenant_id,
            Comment.ticket_id == ticket.id,
            Comment.deleted_at.is_(None),
            visible_comments(ctx),
        )
        .order_by(Comment.created_at.desc(), Comment.id.desc())
        .limit(RECENT_REPLIES)
    ).all()
    facts = {
        "id": ticket.id,
        "number": ticket.number,
        "status": ticket.status,
        "priority": ticket.priority,
        "created_at": ticket.created_at.isoformat(),
        "updated_at": ticket.updated_at.isoformat(),
        "resolved_at": ticket.resolved_at.isoformat() if ticket.resolved_at else None,
    }
    parts = [document("ticket", facts, f"{ticket.title}\n\n{ticket.description}")]
    for reply in reversed(replies):
        attributes = {"at": reply.created_at.isoformat(), "visibility": reply.visibility}
        parts.append(document("reply", attributes, reply.body))
    return "\n".join(parts)


def _my_tickets(ctx: RequestContext, turn: Turn, args: MyTicketsArgs) -> str:
    from servicedesk.tickets import queries

    filters = queries.TicketFilters(
        status=[args.status.value] if args.status else [], requester_id=ctx.user_id
    )
    rows, _ = queries.list_tickets(
        ctx, filters=filters, sort="-updated_at", limit=MY_TICKETS, cursor=None
    )
    if not rows:
        return "You have no tickets" + (
            f" with status {args.status.value}." if args.status else "."
        )
    return "\n".join(
        document(
            "ticket",
            {"id": t.id, "number": t.number, "status": t.status, "priority": t.priority},
            t.title,
        )
        for t in rows
    )


@dataclass(frozen=True)
class Tool:
    spec: ToolSpec
    args: type[Args]
    run: Callable[[RequestContext, Turn, Any], str]


def _spec(name: str, description: str, args: type[Args]) -> ToolSpec:
    schema = args.model_json_schema()
    schema.pop("title", None)
    return ToolSpec(name, description, schema)


TOOLS: dict[str, Tool] = {
    tool.spec.name: tool
    for tool in (
        Tool(
            _spec(
                "search_knowledge_base",
                "Search the help centre's articles; use before answering a how-to or"
                " troubleshooting question.",
                SearchArgs,
            ),
            SearchArgs,
            _search,
        ),
        Tool(
            _spec(
                "create_ticket",
                "Open a support ticket for the user, when the articles do not solve the"
                " problem and the user wants help from the service desk. At most once.",
                CreateTicketArgs,
            ),
            CreateTicketArgs,
            _create_ticket,
        ),
        Tool(
            _spec(
                "get_ticket_status",
                "The status, details and latest replies of one of the user's tickets, by"
                " ticket_id or by number (e.g. SD-2026-000123).",
                TicketStatusArgs,
            ),
            TicketStatusArgs,
            _ticket_status,
        ),
        Tool(
            _spec(
                "list_my_tickets",
                "The user's own tickets, newest activity first, optionally by status.",
                MyTicketsArgs,
            ),
            MyTicketsArgs,
            _my_tickets,
        ),
    )
}
SPECS = tuple(tool.spec for tool in TOOLS.values())


def _validation_detail(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors()[:5]:
        where = ".".join(str(p) for p in error.get("loc", ())) or "arguments"
        parts.append(f"{where}: {error.get('msg', 'invalid')}")
    return "; ".join(parts)


def run(ctx: RequestContext, turn: Turn, name: str, raw_arguments: str) -> tuple[str, bool]:
    """The tool's answer for the model and whether it succeeded. The tool's writes happen
    in a savepoint: a tool that fails leaves nothing behind."""
    audit: dict[str, Any] = {"tool": name, "arguments": raw_arguments[:2000]}
    turn.calls.append(audit)
    tool = TOOLS.get(name)
    try:
        if tool is None:
            raise ToolError(f"unknown tool {name!r}; the tools are {', '.join(TOOLS)}")
        try:
            parsed = json.loads(raw_arguments or "{}")
        except ValueError as exc:
            raise ToolError("arguments are not valid JSON") from exc
        if not isinstance(parsed, dict):
            raise ToolError("arguments must be a JSON object")
        try:
            args = tool.args.model_validate(parsed)
        except ValidationError as exc:
            raise ToolError(f"invalid arguments: {_validation_detail(exc)}") from exc
        with ctx.session.begin_nested():
            answer = tool.run(ctx, turn, args)
    except ToolError as exc:
        audit.update(outcome="error", detail=str(exc))
        return json.dumps({"error": str(exc)}), False
    except ProblemError as exc:  # a service refused (validation, permission, not found)
        detail = exc.detail or exc.title
        if exc.errors:
            detail += ": " + "; ".join(f"{e['field']}: {e['detail']}" for e in exc.errors)
        audit.update(outcome="error", detail=detail, status=exc.status)
        return json.dumps({"error": "not found" if exc.status == 404 else detail}), False
    audit["outcome"] = "ok"
    return answer[:MAX_RESULT_CHARS], True
