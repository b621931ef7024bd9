"""Article embeddings, written off the request path (the knowledge consumer, the reindex).

Every article that is not archived is embedded (staff search drafts and internal articles
too; the visibility rule decides who sees them); archiving or deleting an article removes
its vectors. The text is title, summary and body; its sha256 is kept per row, so an event
for an article whose text did not change (a vote, a category move) costs one indexed read
and no provider call. One row per (article, model): a provider change is the reindex
command's work, and searches read only the configured model's rows.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from servicedesk.ai.embeddings import Embedder, as_literal, content_hash, get_embedder
from servicedesk.kb.models import KbArticle
from servicedesk.platform.consumer import Envelope

# Texts per provider call: the local model and OpenAI-compatible endpoints take batches.
BATCH = 32
REMOVED = ("kb.article.archived", "kb.article.deleted")


@dataclass(frozen=True)
class Embedded:
    embedded: int
    unchanged: int
    removed: int


def article_text(title: str, summary: str, body: str) -> str:
    return "\n\n".join(part for part in (title, summary, body) if part)


_EXISTING = text(
    "SELECT article_id, content_hash FROM kb_embeddings"
    " WHERE tenant_id = :tenant AND model = :model AND article_id = ANY(CAST(:ids AS uuid[]))"
)
_UPSERT = text(
    "INSERT INTO kb_embeddings (tenant_id, article_id, model, dim, content_hash, embedding)"
    " VALUES (:tenant, :article, :model, :dim, :hash, CAST(:embedding AS vector))"
    " ON CONFLICT (tenant_id, article_id, model) DO UPDATE"
    " SET dim = EXCLUDED.dim, content_hash = EXCLUDED.content_hash,"
    " embedding = EXCLUDED.embedding, embedded_at = now()"
)
_REMOVE = text(
    "DELETE FROM kb_embeddings WHERE tenant_id = :tenant AND article_id = ANY(CAST(:ids AS uuid[]))"
)


def embed_articles(
    session: Session,
    tenant_id: uuid.UUID,
    article_ids: Sequence[uuid.UUID],
    embedder: Embedder | None = None,
) -> Embedded:
    """(Re-)embed these articles of the tenant's transaction; remove the vectors of those
    archived or gone. A provider failure raises ``EmbeddingError`` (the event is retried)."""
    embedder = embedder or get_embedder()
    rows = session.execute(
        select(KbArticle.id, KbArticle.title, KbArticle.summary, KbArticle.body).where(
            KbArticle.tenant_id == tenant_id,
            KbArticle.id.in_(list(article_ids)),
            KbArticle.state != "archived",
        )
    ).all()
    live = {row.id: article_text(row.title, row.summary, row.body) for row in rows}
    gone = [str(a) for a in article_ids if a not in live]
    if gone:
        session.execute(_REMOVE, {"tenant": tenant_id, "ids": gone})
    known = {
        row.article_id: row.content_hash
        for row in session.execute(
            _EXISTING,
            {"tenant": tenant_id, "model": embedder.model_id, "ids": [str(a) for a in live]},
        )
    }
    todo = [(a, t, content_hash(t)) for a, t in live.items() if known.get(a) != content_hash(t)]
    for start in range(0, len(todo), BATCH):
        chunk = todo[start : start + BATCH]
        vectors = embedder.embed([t for _, t, _ in chunk])
        session.execute(
            _UPSERT,
            [
                {
                    "tenant": tenant_id,
                    "article": article_id,
                    "model": embedder.model_id,
                    "dim": len(vector),
                    "hash": digest,
                    "embedding": as_literal(vector),
                }
                for (article_id, _, digest), vector in zip(chunk, vectors, strict=True)
            ],
        )
    return Embedded(embedded=len(todo), unchanged=len(live) - len(todo), removed=len(gone))


def process(session: Session, envelope: Envelope) -> None:
    """The knowledge consumer's process for ``kb.article.*`` events."""
    raw = envelope.payload.get("article_id") or envelope.aggregate_id
    try:
        article_id = uuid.UUID(str(raw))
    except ValueError:
        return  # not an article event we can act on; nothing to retry
    if envelope.type in REMOVED:
        session.execute(_REMOVE, {"tenant": envelope.tenant_id, "ids": [str(article_id)]})
        return
    embed_articles(session, envelope.tenant_id, [article_id])
