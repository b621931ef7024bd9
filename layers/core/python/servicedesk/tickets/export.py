"""Ticket export: the ticket list (same filters, same visibility rule) as rows, read in
keyset pages so that no more than one page of tickets is in memory at a time."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

from servicedesk.platform import db
from servicedesk.platform.config import get_settings
from servicedesk.platform.errors import ValidationProblem, field_error
from servicedesk.platform.tenancy import RequestContext
from servicedesk.tickets import queries

COLUMNS = (
    "number",
    "title",
    "status",
    "priority",
    "channel",
    "requester_id",
    "assignee_id",
    "team_id",
    "category_id",
    "type",
    "tags",
    "created_at",
    "updated_at",
    "first_response_at",
    "resolved_at",
    "closed_at",
    "sla_due_at",
    "id",
)


def check_size(ctx: RequestContext, filters: queries.TicketFilters) -> None:
    """Over ``export_max_rows`` matching tickets is 422 naming the limit, before any byte
    is sent (a streamed answer cannot turn into an error half-way)."""
    limit = get_settings().export_max_rows
    if queries.count_tickets(ctx, filters=filters, cap=limit) > limit:
        raise ValidationProblem(
            detail=f"more than {limit} tickets match; narrow the filters, or export them in"
            " the background: POST /v1/exports with kind tickets and these filters as params",
            errors=[field_error("max_rows", f"an export holds at most {limit} rows")],
            max_rows=limit,
            async_export="/v1/exports",
        )


def rows(
    ctx: RequestContext, filters: queries.TicketFilters, sort: str
) -> Iterator[tuple[Any, ...]]:
    """The visible tickets matching ``filters`` in ``sort`` order, one tuple per ticket.

    The request's own transaction has ended when the response streams, so the export reads
    in a transaction of its own, scoped to the same tenant and user.
    """
    settings = get_settings()
    remaining = settings.export_max_rows
    with db.transaction() as session:
        db.set_tenant(session, tenant_id=ctx.tenant_id, user_id=ctx.user_id)
        if db.TENANT_SETTINGS in ctx.session.info:
            session.info[db.TENANT_SETTINGS] = ctx.session.info[db.TENANT_SETTINGS]
        reader = dataclasses.replace(ctx, session=session)
        cursor: str | None = None
        while remaining > 0:
            page, cursor = queries.list_tickets(
                reader,
                filters=filters,
                sort=sort,
                limit=min(settings.export_page_size, remaining),
                cursor=cursor,
            )
            for ticket in page:
                yield tuple(getattr(ticket, name) for name in COLUMNS)
            remaining -= len(page)
            # Rows already written leave the session: memory stays at one page.
            session.expunge_all()
            if cursor is None:
                break
