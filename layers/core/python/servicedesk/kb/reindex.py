"""Re-embed articles with the configured provider (after a provider or model change).

    python -m servicedesk.kb.reindex --tenant <tenant id> [--tenant ...] | --all
        [--batch 200] [--prune]

Each tenant in pages of ``--batch`` articles, each page its own transaction (a failure
loses one page, and a rerun skips what is already embedded: unchanged hashes).
``--prune`` removes the vectors of other models once the tenant is done.
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from collections.abc import Sequence

from sqlalchemy import select, text

from servicedesk.ai.embeddings import get_embedder
from servicedesk.kb.embedding import embed_articles
from servicedesk.kb.models import KbArticle
from servicedesk.platform.db import set_tenant, transaction


def reindex_tenant(
    tenant_id: uuid.UUID, *, batch: int = 200, prune: bool = False
) -> dict[str, int]:
    embedder = get_embedder()
    totals = {"embedded": 0, "unchanged": 0, "pruned": 0}
    after: uuid.UUID | None = None
    while True:
        with transaction() as session:
            set_tenant(session, tenant_id=tenant_id, user_id=None)
            query = select(KbArticle.id).where(
                KbArticle.tenant_id == tenant_id, KbArticle.state != "archived"
            )
            if after is not None:
                query = query.where(KbArticle.id > after)
            ids = list(session.scalars(query.order_by(KbArticle.id).limit(batch)))
            if not ids:
                break
            done = embed_articles(session, tenant_id, ids, embedder)
        totals["embedded"] += done.embedded
        totals["unchanged"] += done.unchanged
        after = ids[-1]
    if prune:
        with transaction() as session:
            set_tenant(session, tenant_id=tenant_id, user_id=None)
            result = session.execute(
                text("DELETE FROM kb_embeddings WHERE tenant_id = :t AND model <> :m"),
                {"t": tenant_id, "m": embedder.model_id},
            )
            totals["pruned"] = int(getattr(result, "rowcount", 0) or 0)
    return totals


def all_tenants() -> list[uuid.UUID]:
    with transaction() as session:
        return list(session.scalars(text("SELECT kb_tenants_with_articles()")))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m servicedesk.kb.reindex")
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--tenant", action="append", type=uuid.UUID, help="a tenant id")
    which.add_argument("--all", action="store_true", help="every tenant with articles")
    parser.add_argument("--batch", type=int, default=200, choices=range(1, 1001), metavar="N")
    parser.add_argument("--prune", action="store_true", help="drop other models' vectors")
    args = parser.parse_args(argv)
    tenants = all_tenants() if args.all else list(args.tenant)
    failed = 0
    for tenant_id in tenants:
        started = time.perf_counter()
        try:
            totals = reindex_tenant(tenant_id, batch=args.batch, prune=args.prune)
        except Exception as exc:  # noqa: BLE001 - reported; the other tenants still run
            failed += 1
            sys.stderr.write(f"{tenant_id}: failed: {type(exc).__name__}: {exc}\n")
            continue
        seconds = time.perf_counter() - started
        sys.stdout.write(f"{tenant_id}: {totals} in {seconds:.1f} s\n")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
