"""Knowledge base search (issue 18): candidate functions, the search log, deflections.

Revision ID: 0019
Revises: 0017
Create Date: 2026-12-06

Row-level security keeps the GIN (keyword) and HNSW (vector) indexes from the application
role: ``@@`` and ``<=>`` are not leakproof, so PostgreSQL evaluates the tenant policy
first and the indexes never apply (the reason for ``ticket_search_candidates`` in 0009).
``kb_keyword_candidates`` and ``kb_semantic_candidates`` run as the owner and return the
best article ids of the *current* tenant (from the transaction's settings, never from a
parameter) with their rank or distance; the caller then reads the articles ``WHERE id IN``
as the app role, under RLS and ``kb.visibility.visible_articles``.

The visibility rule is repeated inside only to *rank* the right rows (a requester's top 50
must be drawn from published public articles, or a tenant with many drafts would leave
them an empty page): public-only when the caller asks for it or the transaction's user is
not active staff. Archived articles are never search results. Filters (category, tags,
audience) are applied inside for the same reason. The semantic search casts to the
dimension's partial HNSW index (0017) and scans iteratively (pgvector 0.8
``hnsw.iterative_scan``) so filters that reject neighbours do not empty the result.

``kb_search_log``: one row per search or suggestion (the query text, bounded, the mode and
how many results), for the "searches with no result" report and for the per-user rate
limit. A requester reads only their own rows (restrictive policy); staff read the tenant's.
``kb_deflections``: what the portal showed while a requester typed a new request, and what
came of it (shown, opened, solved: no ticket created), counted per tenant.
"""

from alembic import op

from servicedesk.platform.rls import (
    APP_ROLE,
    CURRENT_TENANT,
    CURRENT_USER_ID,
    definer_function,
    grant,
    tenant_rls,
)

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

INDEXED_DIMENSIONS = (256, 512, 1024, 1536)

IS_STAFF = f"""EXISTS (SELECT 1 FROM memberships m
     WHERE m.tenant_id = {CURRENT_TENANT} AND m.user_id = {CURRENT_USER_ID}
       AND m.active AND m.role <> 'requester')"""

# The filters, inside dynamic SQL ($1 is the query; then these, in this order). Dynamic
# SQL: every call is planned with its own values, so a rare word goes to the GIN or HNSW
# index and a broad one is bounded below, where a cached generic plan would guess.
FILTERS = """
       AND a.state <> 'archived'
       AND (NOT $2 OR (a.state = 'published' AND a.audience = 'public'))
       AND ($3::uuid IS NULL OR a.category_id = $3)
       AND (cardinality($4::text[]) = 0 OR a.tags @> $4)
       AND ($5::text IS NULL OR a.audience = $5)"""
USING = "USING p_query, v_public_only, p_category, p_tags, p_audience, v_limit"

# Ranking reads each match's tsvector, and the full one (body included) is TOASTed: ranking
# the 6,000 matches of a broad query cost 240 ms of the 250 at 100,000 articles, the index
# scan 8 (docs/benchmarks.md, "Knowledge base search"). So: matches in the title, tags or
# summary (``search_head``: small, never TOASTed) first, all of them ranked, above every
# match in the body only; those only when the head gives fewer than asked, and only a
# window of BODY_WINDOW of them is ranked (a broad word's body matches are many and alike).
BODY_WINDOW = 200
KEYWORD_SIGNATURE = (
    "kb_keyword_candidates(p_query tsquery, p_public_only boolean, p_category uuid,"
    " p_tags text[], p_audience text, p_limit integer)"
)
KEYWORD = f"""
DECLARE
    v_public_only boolean := p_public_only OR NOT {IS_STAFF};
    v_limit integer := least(greatest(p_limit, 1), 200);
    v_found integer;
BEGIN
    RETURN QUERY EXECUTE $q$
    SELECT a.id, 1 + ts_rank_cd(a.search_head, $1, 32)::float8 AS rank
      FROM kb_articles a
     WHERE a.tenant_id = {CURRENT_TENANT}
       AND a.search_head @@ $1 {FILTERS}
     ORDER BY rank DESC, a.id
     LIMIT $6
    $q$ {USING};
    GET DIAGNOSTICS v_found = ROW_COUNT;
    IF v_found < v_limit THEN
        RETURN QUERY EXECUTE $q$
        SELECT w.id, ts_rank_cd(w.search, $1, 32)::float8 AS rank
          FROM (SELECT a.id, a.search FROM kb_articles a
                 WHERE a.tenant_id = {CURRENT_TENANT}
                   AND a.search @@ $1 AND NOT a.search_head @@ $1 {FILTERS}
                 LIMIT {BODY_WINDOW}) w
         ORDER BY rank DESC, w.id
         LIMIT $6
        $q$ USING p_query, v_public_only, p_category, p_tags, p_audience, v_limit - v_found;
    END IF;
END
"""

SEMANTIC_SIGNATURE = (
    "kb_semantic_candidates(p_model text, p_query vector, p_public_only boolean,"
    " p_category uuid, p_tags text[], p_audience text, p_limit integer)"
)
# The cast to the dimension's own type is what matches the partial index of 0017; a
# dimension without an index is searched exactly (no cast).
SEMANTIC = f"""
DECLARE
    v_public_only boolean := p_public_only OR NOT {IS_STAFF};
    v_limit integer := least(greatest(p_limit, 1), 200);
    v_dim integer := vector_dims(p_query);
    v_cast text := CASE WHEN v_dim IN {INDEXED_DIMENSIONS} THEN format('::vector(%s)', v_dim)
                        ELSE '' END;
BEGIN
    -- The graph walk's candidate list, and iterative scanning (pgvector 0.8) so that filters
    -- rejecting neighbours do not empty the result; transaction-local (a SET clause on the
    -- function would need the privilege to set them at creation, before pgvector loads).
    PERFORM set_config('hnsw.ef_search', '100', true);
    PERFORM set_config('hnsw.iterative_scan', 'relaxed_order', true);
    RETURN QUERY EXECUTE format($q$
    WITH nearest AS MATERIALIZED (
        SELECT e.article_id, (e.embedding%1$s <=> $1%1$s)::float8 AS distance
          FROM kb_embeddings e
          JOIN kb_articles a ON a.tenant_id = e.tenant_id AND a.id = e.article_id
         WHERE e.tenant_id = {CURRENT_TENANT}
           AND e.dim = %2$s AND e.model = $7 {FILTERS}
         ORDER BY e.embedding%1$s <=> $1%1$s
         LIMIT $6)
    SELECT article_id, distance FROM nearest ORDER BY distance, article_id
    $q$, v_cast, v_dim)
    {USING}, p_model;
END
"""

# Title, tags and summary only: what the keyword search ranks first (see KEYWORD).
SEARCH_HEAD = """
ALTER TABLE kb_articles ADD COLUMN search_head tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('simple', title), 'A')
    || setweight(to_tsvector('english', title), 'A')
    || setweight(to_tsvector('simple', kb_tags_text(tags)), 'A')
    || setweight(to_tsvector('simple', summary), 'B')
    || setweight(to_tsvector('english', summary), 'B')
) STORED;
CREATE INDEX ix_kb_articles_search_head ON kb_articles USING gin (search_head);
"""

# The reindex command's --all: tenants that have articles (tenants itself is RLS-bound).
TENANTS_SIGNATURE = "kb_tenants_with_articles()"
TENANTS = "SELECT DISTINCT tenant_id FROM kb_articles ORDER BY tenant_id"

TABLES = """
CREATE TABLE kb_search_log (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    user_id uuid NOT NULL,
    -- search (GET /v1/kb/search), suggest (the portal's deflection), ticket (agent panel)
    kind text NOT NULL CHECK (kind IN ('search', 'suggest', 'ticket')),
    mode text NOT NULL CHECK (mode IN ('keyword', 'semantic', 'hybrid')),
    query text NOT NULL CHECK (length(query) <= 400),
    results integer NOT NULL CHECK (results >= 0),
    degraded boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ix_kb_search_log_user ON kb_search_log (tenant_id, user_id, created_at);
CREATE INDEX ix_kb_search_log_empty ON kb_search_log (tenant_id, created_at)
    WHERE results = 0;

CREATE TABLE kb_deflections (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES tenants(id),
    user_id uuid NOT NULL,
    article_id uuid NOT NULL,
    -- shown: suggested while typing; opened: the requester opened it; solved: "this solved
    -- my problem" (the request was not submitted).
    outcome text NOT NULL CHECK (outcome IN ('shown', 'opened', 'solved')),
    query text NOT NULL DEFAULT '' CHECK (length(query) <= 400),
    created_at timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (tenant_id, article_id) REFERENCES kb_articles (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX ix_kb_deflections_tenant ON kb_deflections (tenant_id, created_at, outcome);
CREATE INDEX ix_kb_deflections_article ON kb_deflections (tenant_id, article_id);
"""

# Requesters see only their own rows; staff the tenant's (for reports).
OWN_ROWS = (
    "CREATE POLICY own_rows ON {table} AS RESTRICTIVE TO " + APP_ROLE + " USING (user_id = "
    f"{CURRENT_USER_ID} OR {IS_STAFF})"
    f" WITH CHECK (user_id = {CURRENT_USER_ID})"
)


def _function(signature: str, returns: str, body: str) -> list[str]:
    return [
        f"CREATE OR REPLACE FUNCTION {signature} RETURNS {returns} LANGUAGE plpgsql STABLE"
        f" SECURITY DEFINER SET search_path = public, pg_temp AS $fn$ {body} $fn$",
        f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC",
        f"GRANT EXECUTE ON FUNCTION {signature} TO {APP_ROLE}",
    ]


def upgrade() -> None:
    statements = [
        SEARCH_HEAD,
        *_function(KEYWORD_SIGNATURE, "TABLE (article_id uuid, rank float8)", KEYWORD),
        *_function(
            SEMANTIC_SIGNATURE,
            "TABLE (article_id uuid, distance float8)",
            SEMANTIC,
        ),
        *definer_function(TENANTS_SIGNATURE, "SETOF uuid", TENANTS),
        TABLES,
    ]
    for statement in statements:
        op.execute(statement)
    for table, privileges in (
        ("kb_search_log", "SELECT, INSERT"),
        ("kb_deflections", "SELECT, INSERT"),
    ):
        for statement in tenant_rls(table):
            op.execute(statement)
        op.execute(OWN_ROWS.format(table=table))
        op.execute(grant(table, privileges))


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS kb_deflections, kb_search_log")
    op.execute("DROP FUNCTION IF EXISTS kb_tenants_with_articles()")
    op.execute("ALTER TABLE kb_articles DROP COLUMN IF EXISTS search_head")
    op.execute(
        "DROP FUNCTION IF EXISTS kb_semantic_candidates(text, vector, boolean, uuid, text[], text, integer)"
    )
    op.execute(
        "DROP FUNCTION IF EXISTS kb_keyword_candidates(tsquery, boolean, uuid, text[], text, integer)"
    )
