"""Knowledge base core (issue 18): categories, articles, their versions, their embeddings.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05

``kb_categories``: the help centre's category tree (its own tree, not the tickets'
categories). ``kb_articles``: one row per article with its working copy (title, summary,
Markdown body, tags), audience (``public`` for requesters, ``internal`` for staff) and
state ``draft → in_review → published → archived``; ``search`` is the keyword index
(error codes and product names through the 'simple' configuration, prose through
'english'). ``kb_article_versions``: every publish keeps the body it published (number 1,
2, ...): diff and restore read them. ``kb_embeddings``: one vector per (article, model),
written off the request path by the knowledge consumer; the dimension is the provider's
and is recorded per row, and each supported dimension has its own partial HNSW index
(cosine) on the cast ``embedding::vector(N)``, which queries must repeat.

The ``vector`` extension is not trusted: the local bootstrap creates it as the embedded
superuser (local/db.py); on Aurora the migration runs as the master user (rds_superuser).
"""

from alembic import op

from servicedesk.platform.rls import grant, tenant_rls

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

# Dimensions with an HNSW index: the local model (256), Titan v2 (256/512/1024),
# OpenAI-compatible models (1536 for text-embedding-3-small; others reduce with
# ``dimensions``). A row of another dimension is still stored and searched exactly.
INDEXED_DIMENSIONS = (256, 512, 1024, 1536)

TABLES = """
-- array_to_string is only STABLE; for text[] it is immutable, which a generated column needs.
CREATE FUNCTION kb_tags_text(tags text[]) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN array_to_string(tags, ' ');

CREATE TABLE kb_categories (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    parent_id uuid,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
    description text NOT NULL DEFAULT '' CHECK (length(description) <= 1000),
    position integer NOT NULL DEFAULT 0,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, parent_id) REFERENCES kb_categories (tenant_id, id),
    CHECK (parent_id IS DISTINCT FROM id)
);
CREATE UNIQUE INDEX ux_kb_categories_name ON kb_categories
    (tenant_id, coalesce(parent_id, '00000000-0000-0000-0000-000000000000'::uuid), lower(name));
CREATE INDEX ix_kb_categories_parent ON kb_categories (tenant_id, parent_id, position, id);

CREATE TABLE kb_articles (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    category_id uuid,
    title text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    summary text NOT NULL DEFAULT '' CHECK (length(summary) <= 500),
    body text NOT NULL DEFAULT '' CHECK (length(body) <= 100000),
    tags text[] NOT NULL DEFAULT '{}' CHECK (cardinality(tags) <= 20),
    audience text NOT NULL DEFAULT 'internal' CHECK (audience IN ('public', 'internal')),
    state text NOT NULL DEFAULT 'draft'
        CHECK (state IN ('draft', 'in_review', 'published', 'archived')),
    owner_id uuid,
    created_by uuid,
    updated_by uuid,
    -- The newest kb_article_versions.number (0 until the first publish).
    published_version integer NOT NULL DEFAULT 0,
    published_at timestamptz,
    archived_at timestamptz,
    -- A draft proposed from a resolved ticket (the knowledge consumer).
    source_ticket_id uuid,
    view_count bigint NOT NULL DEFAULT 0,
    helpful_count integer NOT NULL DEFAULT 0,
    not_helpful_count integer NOT NULL DEFAULT 0,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    search tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple', title), 'A')
        || setweight(to_tsvector('english', title), 'A')
        || setweight(to_tsvector('simple', kb_tags_text(tags)), 'A')
        || setweight(to_tsvector('english', summary), 'B')
        || setweight(to_tsvector('simple', body), 'C')
        || setweight(to_tsvector('english', body), 'C')
    ) STORED,
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, category_id) REFERENCES kb_categories (tenant_id, id)
);
CREATE INDEX ix_kb_articles_search ON kb_articles USING gin (search);
CREATE INDEX ix_kb_articles_list ON kb_articles (tenant_id, state, updated_at DESC, id);
CREATE INDEX ix_kb_articles_category ON kb_articles (tenant_id, category_id, state);
CREATE INDEX ix_kb_articles_tags ON kb_articles USING gin (tags);
CREATE INDEX ix_kb_articles_source ON kb_articles (tenant_id, source_ticket_id)
    WHERE source_ticket_id IS NOT NULL;

CREATE TABLE kb_article_versions (
    tenant_id uuid NOT NULL,
    article_id uuid NOT NULL,
    number integer NOT NULL CHECK (number >= 1),
    title text NOT NULL,
    summary text NOT NULL,
    body text NOT NULL,
    tags text[] NOT NULL,
    audience text NOT NULL,
    category_id uuid,
    published_by uuid,
    published_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, article_id, number),
    FOREIGN KEY (tenant_id, article_id) REFERENCES kb_articles (tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE kb_embeddings (
    tenant_id uuid NOT NULL,
    article_id uuid NOT NULL,
    model text NOT NULL CHECK (length(model) BETWEEN 1 AND 200),
    dim integer NOT NULL CHECK (dim BETWEEN 1 AND 4096),
    -- sha256 of the embedded text: an event for unchanged text is not embedded again.
    content_hash text NOT NULL,
    embedding vector NOT NULL CHECK (vector_dims(embedding) = dim),
    embedded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, article_id, model),
    FOREIGN KEY (tenant_id, article_id) REFERENCES kb_articles (tenant_id, id) ON DELETE CASCADE
);
"""

TENANT_TABLES = {
    "kb_categories": "SELECT, INSERT, UPDATE, DELETE",
    "kb_articles": "SELECT, INSERT, UPDATE, DELETE",
    # Versions are history: written once, never changed.
    "kb_article_versions": "SELECT, INSERT",
    "kb_embeddings": "SELECT, INSERT, UPDATE, DELETE",
}


def hnsw_index(dim: int) -> str:
    return (
        f"CREATE INDEX ix_kb_embeddings_hnsw_{dim} ON kb_embeddings USING hnsw"
        f" ((embedding::vector({dim})) vector_cosine_ops) WHERE dim = {dim}"
    )


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS vector")
    op.execute(TABLES)
    for dim in INDEXED_DIMENSIONS:
        op.execute(hnsw_index(dim))
    for table, privileges in TENANT_TABLES.items():
        for statement in tenant_rls(table):
            op.execute(statement)
        op.execute(grant(table, privileges))


def downgrade() -> None:
    op.execute(
        "DROP TABLE IF EXISTS kb_embeddings, kb_article_versions, kb_articles, kb_categories"
    )
