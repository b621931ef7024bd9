"""Drafts from resolved tickets: the knowledge consumer's process for ``ticket.status_changed``
to resolved (issue 18, item 4).

When the tenant has ``drafts_from_tickets`` on, the ticket and its public comments (never
an internal note) become a draft article (``servicedesk.kb.drafting``): audience public,
state draft, ``source_ticket_id`` the ticket, owned by the agent who resolved it. A draft
too like an existing article (trigram similarity of the titles, or cosine similarity of the
draft's embedding to an article's) is not written; the ticket's timeline says which article
it resembled. Agents review and publish it through the normal article workflow.

Idempotent: the event is claimed in ``deliveries`` in the same transaction, and the ticket
row is locked while its draft is written, so a redelivery does nothing and two resolutions
of one ticket never make two drafts (a reopened and resolved again ticket rewrites its
draft while it is still a draft). A language model that fails in a way that may pass
(timeout, 5xx, 429) is retried by raising, which lets SQS deliver the event again, up to
``LLM_ATTEMPTS`` deliveries; then, and for any other failure, the draft is extractive.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from servicedesk.ai.embeddings import EmbeddingError, as_literal, get_embedder
from servicedesk.kb.consumer import PROCESSES
from servicedesk.kb.models import KbArticle
from servicedesk.kb.settings import SECTION
from servicedesk.platform import outbox
from servicedesk.platform.consumer import Envelope, claim
from servicedesk.platform.roles import STAFF_ROLES
from servicedesk.tickets.models import Comment, Ticket
from servicedesk.tickets.timeline import system_event

if TYPE_CHECKING:
    from servicedesk.kb import drafting

CHANNEL = "knowledge"
# Deliveries of one event that may try the language model; the last falls back.
LLM_ATTEMPTS = 3
# At or above these a draft is a duplicate of the article (measured in docs/kb.md).
TITLE_SIMILARITY = 0.6
EMBEDDING_SIMILARITY = 0.75
# Dimensions with a partial HNSW index (migrations/0017): the query repeats the cast.
INDEXED_DIMENSIONS = frozenset({256, 512, 1024, 1536})
RESOLVED = "resolved"
DRAFT = "draft"


@dataclass(frozen=True)
class Similar:
    article_id: uuid.UUID
    title: str
    similarity: float
    by: str  # "title" or "embedding"


def _staff_ids(session: Session, tenant_id: uuid.UUID, user_ids: set[uuid.UUID]) -> set[uuid.UUID]:
    """Which of ``user_ids`` are staff of the tenant (SQL, not identity's models: every
    import costs the knowledge consumer's cold start)."""
    if not user_ids:
        return set()
    rows = session.execute(
        text(
            "SELECT user_id FROM memberships WHERE tenant_id = :t"
            " AND user_id = ANY(CAST(:users AS uuid[])) AND role = ANY(CAST(:staff AS text[]))"
        ),
        {
            "t": tenant_id,
            "users": list(user_ids),
            "staff": [role.value for role in STAFF_ROLES],
        },
    )
    return {uuid.UUID(str(row.user_id)) for row in rows}


def _log() -> Any:
    from servicedesk.platform.logging import get_logger

    return get_logger()


def conversation_of(session: Session, ticket: Ticket) -> drafting.Conversation:
    """The ticket's title, description, tags and category, and its public comments up to
    the resolution. Internal notes are filtered here, in the query: nothing after this
    point may ever see one."""
    # Imported when a ticket is resolved: the model client (httpx) costs every cold start.
    from servicedesk.kb import drafting

    comments = session.scalars(
        select(Comment)
        .where(
            Comment.tenant_id == ticket.tenant_id,
            Comment.ticket_id == ticket.id,
            Comment.visibility == "public",
            Comment.deleted_at.is_(None),
            Comment.created_at <= (ticket.resolved_at or datetime.now(UTC)),
        )
        .order_by(Comment.created_at, Comment.id)
    ).all()
    staff = _staff_ids(session, ticket.tenant_id, {c.author_id for c in comments})
    category = None
    if ticket.category_id is not None:
        category = session.scalar(
            text("SELECT name FROM categories WHERE tenant_id = :t AND id = :id"),
            {"t": ticket.tenant_id, "id": ticket.category_id},
        )
    return drafting.Conversation(
        title=ticket.title,
        description=ticket.description,
        tags=tuple(ticket.tags),
        category=category,
        replies=tuple(drafting.Reply(c.body, c.author_id in staff, c.created_at) for c in comments),
    )


def compose(conversation: drafting.Conversation, envelope: Envelope) -> drafting.Draft | None:
    """Through the language model when one is configured, else (or when it fails for
    good) extractive. Raises ``ChatError`` for SQS to deliver the event again."""
    from servicedesk.ai.chat import ChatError, get_chat_model
    from servicedesk.kb import drafting

    try:
        model = get_chat_model()
    except ChatError:
        _log().warning("language model misconfigured; the draft is extractive")
        model = None
    if model is not None and drafting.solution_replies(conversation.replies):
        try:
            return drafting.through_llm(model, conversation)
        except ChatError as exc:
            if exc.retryable and envelope.receive_count < LLM_ATTEMPTS:
                raise
            _log().warning(
                "language model failed; the draft is extractive",
                extra={"kind": exc.kind, "attempt": envelope.receive_count},
            )
    return drafting.extractive(conversation)


def embedding_text(draft: drafting.Draft) -> str:
    return f"{draft.title}\n\n{draft.summary}\n\n{draft.body}"


def similar_by_title(session: Session, tenant_id: uuid.UUID, title: str) -> Similar | None:
    """The existing article whose title is most like ``title`` by trigrams, found through
    the trigram index on ``lower(title)`` (migrations/0021) with the threshold as the
    ``%`` operator's."""
    session.execute(
        text("SELECT set_config('pg_trgm.similarity_threshold', :limit, true)"),
        {"limit": str(TITLE_SIMILARITY)},
    )
    row = session.execute(
        text(
            "SELECT id, title, similarity(lower(title), lower(:title)) AS score"
            " FROM kb_articles WHERE tenant_id = :t AND state <> 'archived'"
            " AND lower(title) % lower(:title) ORDER BY score DESC, id LIMIT 1"
        ),
        {"t": tenant_id, "title": title},
    ).first()
    if row is None or float(row.score) < TITLE_SIMILARITY:
        return None
    return Similar(uuid.UUID(str(row.id)), str(row.title), float(row.score), "title")


def similar_by_embedding(
    session: Session, tenant_id: uuid.UUID, draft: drafting.Draft
) -> Similar | None:
    """The article whose stored embedding (this provider's model) is nearest the draft's."""
    try:
        embedder = get_embedder()
        (vector,) = embedder.embed([embedding_text(draft)])
    except EmbeddingError:
        _log().warning("embedding failed; the draft is compared by title only")
        return None
    dim = int(embedder.dim)
    cast = f"vector({dim})" if dim in INDEXED_DIMENSIONS else "vector"
    # The nearest few of the tenant's vectors by the partial HNSW index (dim inlined so the
    # planner matches the index's predicate; strict iterative scan so that other tenants'
    # vectors, filtered out after the index, cannot leave the answer empty).
    session.execute(text("SELECT set_config('hnsw.iterative_scan', 'strict_order', true)"))
    row = session.execute(
        text(
            "SELECT n.article_id, a.title, 1 - n.distance AS score FROM ("
            f" SELECT e.article_id, e.embedding::{cast} <=> CAST(:v AS {cast}) AS distance"
            f"  FROM kb_embeddings e WHERE e.tenant_id = :t AND e.model = :m AND e.dim = {dim}"
            "  ORDER BY distance LIMIT 10) n"
            " JOIN kb_articles a ON a.tenant_id = :t AND a.id = n.article_id"
            " WHERE a.state <> 'archived' ORDER BY n.distance LIMIT 1"
        ),
        {"v": as_literal(vector), "t": tenant_id, "m": embedder.model_id},
    ).first()
    if row is None or float(row.score) < EMBEDDING_SIMILARITY:
        return None
    return Similar(uuid.UUID(str(row.article_id)), str(row.title), float(row.score), "embedding")


def _skip(session: Session, ticket: Ticket, reason: str, **detail: Any) -> None:
    system_event(
        session,
        tenant_id=ticket.tenant_id,
        ticket_id=ticket.id,
        type_="kb_draft_skipped",
        payload={"reason": reason, **detail},
    )


def _owner(session: Session, ticket: Ticket, actor: object) -> uuid.UUID | None:
    """The agent who resolved the ticket (the event's actor), else its assignee."""
    try:
        resolver = uuid.UUID(str(actor)) if actor else None
    except ValueError:
        resolver = None
    if resolver is not None and _staff_ids(session, ticket.tenant_id, {resolver}):
        return resolver
    return ticket.assignee_id


def _write(
    session: Session,
    ticket: Ticket,
    draft: drafting.Draft,
    existing: KbArticle | None,
    owner: uuid.UUID | None,
) -> KbArticle:
    fields = {"title": draft.title, "summary": draft.summary, "body": draft.body}
    if existing is not None:
        for name, value in fields.items():
            setattr(existing, name, value)
        existing.tags = draft.tags
        existing.version += 1
        existing.updated_at = datetime.now(UTC)
        article, event_type = existing, "kb.article.updated"
    else:
        article = KbArticle(
            tenant_id=ticket.tenant_id,
            tags=draft.tags,
            audience="public",
            state=DRAFT,
            owner_id=owner,
            created_by=None,
            source_ticket_id=ticket.id,
            **fields,
        )
        session.add(article)
        event_type = "kb.article.created"
    session.flush()
    outbox.emit(
        session,
        tenant_id=ticket.tenant_id,
        event_type=event_type,
        aggregate_type="kb_article",
        aggregate_id=article.id,
        payload={
            "article_id": article.id,
            "state": article.state,
            "source_ticket_id": ticket.id,
            "actor_id": None,
        },
    )
    system_event(
        session,
        tenant_id=ticket.tenant_id,
        ticket_id=ticket.id,
        type_="kb_draft_proposed",
        payload={
            "article_id": article.id,
            "title": article.title,
            "method": draft.method,
            "updated": existing is not None,
        },
    )
    return article


def _claimed(session: Session, envelope: Envelope, recipient: str) -> bool:
    """Whether this event's draft was already handled (a redelivery: no model call)."""
    return (
        session.execute(
            text(
                "SELECT 1 FROM deliveries WHERE event_id = :e AND channel = :c"
                " AND recipient = :r AND status = 'done'"
            ),
            {"e": envelope.event_id, "c": CHANNEL, "r": recipient},
        ).first()
        is not None
    )


def _ticket(
    session: Session, tenant_id: uuid.UUID, ticket_id: uuid.UUID, lock: bool
) -> Ticket | None:
    query = select(Ticket).where(Ticket.tenant_id == tenant_id, Ticket.id == ticket_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return session.scalar(query)


def _source_article(session: Session, ticket: Ticket, lock: bool) -> KbArticle | None:
    query = (
        select(KbArticle)
        .where(KbArticle.tenant_id == ticket.tenant_id, KbArticle.source_ticket_id == ticket.id)
        .order_by(KbArticle.created_at, KbArticle.id)
        .limit(1)
    )
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return session.scalar(query)


def _wanted(session: Session, envelope: Envelope) -> uuid.UUID | None:
    """The resolved ticket's id when this tenant wants drafts from resolved tickets."""
    payload = envelope.payload
    if payload.get("status_to") != RESOLVED:
        return None
    if not SECTION.load(session, envelope.tenant_id).drafts_from_tickets:
        return None
    try:
        return uuid.UUID(str(payload.get("ticket_id")))
    except ValueError:
        _log().warning("a status event without a ticket id", extra={"event": envelope.type})
        return None


def _settle(session: Session, ticket: Ticket, draft: drafting.Draft | None, actor: object) -> None:
    """Under the ticket's lock: write the draft, or say on the timeline why not."""
    existing = _source_article(session, ticket, lock=True)
    if existing is not None and existing.state != DRAFT:
        _skip(session, ticket, "article_exists", article_id=existing.id, title=existing.title)
        return
    if draft is None:
        _skip(session, ticket, "no_public_reply")
        return
    if existing is None:
        similar = similar_by_title(session, ticket.tenant_id, draft.title) or (
            similar_by_embedding(session, ticket.tenant_id, draft)
        )
        if similar is not None:
            _skip(
                session,
                ticket,
                "similar_article",
                article_id=similar.article_id,
                title=similar.title,
                similarity=round(similar.similarity, 3),
                by=similar.by,
            )
            return
    _write(session, ticket, draft, existing, _owner(session, ticket, actor))


def propose(session: Session, envelope: Envelope) -> None:
    """The process for ``ticket.status_changed`` (registered in ``kb.consumer.PROCESSES``).

    The draft is composed first, without a lock (a model may take seconds); then the
    ticket row is locked, the event claimed and the state read again before writing, so
    two resolutions of one ticket, or two deliveries of one event, write one draft."""
    ticket_id = _wanted(session, envelope)
    if ticket_id is None:
        return
    recipient = f"draft:{ticket_id}"
    ticket = _ticket(session, envelope.tenant_id, ticket_id, lock=False)
    if ticket is None or ticket.status != RESOLVED or _claimed(session, envelope, recipient):
        return  # gone, reopened since (the next resolution proposes), or done already
    existing = _source_article(session, ticket, lock=False)
    draft = None
    if existing is None or existing.state == DRAFT:
        draft = compose(conversation_of(session, ticket), envelope)
    ticket = _ticket(session, envelope.tenant_id, ticket_id, lock=True)
    if ticket is None or ticket.status != RESOLVED:
        return
    if claim(session, envelope, channel=CHANNEL, recipient=recipient):
        _settle(session, ticket, draft, envelope.payload.get("actor_id"))


PROCESSES["ticket.status_changed"] = propose
