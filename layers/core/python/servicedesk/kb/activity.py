"""What readers do with an article: votes (helpful or not, one per user, changeable), views
(once per reader and day) and the tickets it is linked to (staff)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import func, select, text

from servicedesk.kb import service
from servicedesk.kb.models import KbArticle, KbArticleFeedback, KbArticleTicket
from servicedesk.platform.constraints import unique_or_conflict
from servicedesk.platform.errors import Conflict, Forbidden, NotFound
from servicedesk.platform.pagination import TIMESTAMP, UUID, Key, Keyset, paginate
from servicedesk.platform.permissions import Permission
from servicedesk.platform.tenancy import RequestContext

# --- votes ---------------------------------------------------------------------------------


@dataclass
class Feedback:
    article_id: uuid.UUID
    helpful: bool
    comment: str
    helpful_count: int
    not_helpful_count: int


def my_vote(ctx: RequestContext, article_id: uuid.UUID) -> bool | None:
    row = ctx.session.get(KbArticleFeedback, (ctx.tenant_id, article_id, ctx.user_id))
    return None if row is None else row.helpful


def vote(ctx: RequestContext, *, article_id: uuid.UUID, helpful: bool, comment: str) -> Feedback:
    """Record or change the caller's vote and move the article's counts by the difference."""
    article = service.get_article(ctx, article_id=article_id)
    if article.state != service.PUBLISHED:
        raise Conflict("only published articles take votes", state=article.state)
    # One voter's concurrent votes are serialised here; different voters never wait.
    ctx.session.execute(
        text("SELECT pg_advisory_xact_lock(hashtext(:k))"),
        {"k": f"kb_vote:{article.id}:{ctx.user_id}"},
    )
    row = ctx.session.get(
        KbArticleFeedback, (ctx.tenant_id, article.id, ctx.user_id), populate_existing=True
    )
    before = None if row is None else row.helpful
    if row is None:
        row = KbArticleFeedback(
            tenant_id=ctx.tenant_id, article_id=article.id, user_id=ctx.user_id, helpful=helpful
        )
        ctx.session.add(row)
    row.helpful, row.comment = helpful, comment
    if before is not None:
        row.updated_at = func.now()
    ctx.session.flush()
    up = int(helpful) - int(before is True)
    down = int(not helpful) - int(before is False)
    counts = ctx.session.execute(
        text(
            "UPDATE kb_articles SET helpful_count = helpful_count + :up,"
            " not_helpful_count = not_helpful_count + :down"
            " WHERE tenant_id = :t AND id = :a RETURNING helpful_count, not_helpful_count"
        ),
        {"up": up, "down": down, "t": ctx.tenant_id, "a": article.id},
    ).one()
    return Feedback(article.id, helpful, comment, counts[0], counts[1])


NEWEST_VOTE = Keyset(
    [Key(KbArticleFeedback.updated_at, TIMESTAMP), Key(KbArticleFeedback.user_id, UUID)],
    descending=True,
)


def list_feedback(
    ctx: RequestContext, *, article_id: uuid.UUID, helpful: bool | None, limit: int,
    cursor: str | None,
) -> tuple[list[KbArticleFeedback], str | None]:  # fmt: skip
    """Everyone's votes and comments on an article, newest first (staff; the database lets
    no one else read another person's vote)."""
    article = _staff_article(ctx, article_id)
    query = select(KbArticleFeedback).where(
        KbArticleFeedback.tenant_id == ctx.tenant_id, KbArticleFeedback.article_id == article.id
    )
    if helpful is not None:
        query = query.where(KbArticleFeedback.helpful.is_(helpful))
    return paginate(ctx.session, query, NEWEST_VOTE, limit=limit, cursor=cursor)


# --- views ---------------------------------------------------------------------------------

# One statement: the reader's row moves to today (new, or last counted on an earlier day),
# and only then the article's count goes up.
_VIEW = text(
    "WITH seen AS ("
    " INSERT INTO kb_article_views AS v (tenant_id, article_id, user_id, day)"
    " VALUES (:t, :a, :u, current_date)"
    " ON CONFLICT (tenant_id, article_id, user_id) DO UPDATE SET day = excluded.day"
    " WHERE v.day < excluded.day RETURNING 1)"
    " UPDATE kb_articles SET view_count = view_count + 1"
    " WHERE tenant_id = :t AND id = :a AND EXISTS (SELECT 1 FROM seen) RETURNING view_count"
)


def count_view(ctx: RequestContext, article: KbArticle) -> bool:
    """Count the caller's view of a published article once a day; True when counted."""
    if article.state != service.PUBLISHED:
        return False
    found = ctx.session.execute(
        _VIEW, {"t": ctx.tenant_id, "a": article.id, "u": ctx.user_id}
    ).scalar()
    if found is None:
        return False
    article.view_count = int(found)
    return True


def view(ctx: RequestContext, *, article_id: uuid.UUID) -> tuple[KbArticle, bool]:
    article = service.get_article(ctx, article_id=article_id)
    return article, count_view(ctx, article)


# --- related tickets -----------------------------------------------------------------------

NEWEST_LINK = Keyset(
    [Key(KbArticleTicket.created_at, TIMESTAMP), Key(KbArticleTicket.ticket_id, UUID)],
    descending=True,
)


def _staff_article(ctx: RequestContext, article_id: uuid.UUID) -> KbArticle:
    article = service.get_article(ctx, article_id=article_id)
    if not ctx.can(Permission.KB_WRITE):
        raise Forbidden("only staff link articles and tickets")
    return article


def link_ticket(
    ctx: RequestContext, *, article_id: uuid.UUID, ticket_id: uuid.UUID
) -> KbArticleTicket:
    from servicedesk.tickets import service as tickets

    article = _staff_article(ctx, article_id)
    tickets.get_visible(ctx, ticket_id)  # 404 for a ticket the caller cannot see
    link = KbArticleTicket(
        tenant_id=ctx.tenant_id, article_id=article.id, ticket_id=ticket_id, created_by=ctx.user_id
    )
    with unique_or_conflict(
        ctx.session,
        {"kb_article_tickets_pkey": ("ticket_id", "already linked to this article")},
        title="the ticket is already linked",
    ):
        ctx.session.add(link)
    ctx.session.refresh(link)
    service.emit(ctx, "updated", article, action="ticket_linked", ticket_id=ticket_id)
    return link


def unlink_ticket(ctx: RequestContext, *, article_id: uuid.UUID, ticket_id: uuid.UUID) -> None:
    from servicedesk.tickets import service as tickets

    article = _staff_article(ctx, article_id)
    tickets.get_visible(ctx, ticket_id)
    link = ctx.session.get(KbArticleTicket, (ctx.tenant_id, article.id, ticket_id))
    if link is None:
        raise NotFound("the ticket is not linked to this article")
    ctx.session.delete(link)
    ctx.session.flush()
    service.emit(ctx, "updated", article, action="ticket_unlinked", ticket_id=ticket_id)


def list_tickets(
    ctx: RequestContext, *, article_id: uuid.UUID, limit: int, cursor: str | None
) -> tuple[list[KbArticleTicket], str | None]:
    """The article's linked tickets that the caller may see."""
    from servicedesk.tickets import service as tickets
    from servicedesk.tickets.models import Ticket
    from servicedesk.tickets.visibility import visible

    article = _staff_article(ctx, article_id)
    query = (
        select(KbArticleTicket)
        .join(Ticket, Ticket.id == KbArticleTicket.ticket_id)
        .where(
            KbArticleTicket.tenant_id == ctx.tenant_id,
            KbArticleTicket.article_id == article.id,
            visible(ctx, tickets.load_settings(ctx)),
        )
    )
    return paginate(ctx.session, query, NEWEST_LINK, limit=limit, cursor=cursor)
