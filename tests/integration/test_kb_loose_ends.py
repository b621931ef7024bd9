"""Knowledge base loose ends (issue 18): search snippets and suggestions are the article's
Markdown as text (no ``**``, link targets, fences), still HTML-safe with ``<mark>``; the
search log and the deflections are kept ``kb.activity_retention_days`` and deleted after
by the daily retention job, each tenant by its own setting."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.conftest import TenantFixture, current_database, make_tenant
from tests.integration.test_kb_search import _insert

MARKDOWN = """# Reset the **Zorblax** token

Open [the self-service portal](https://portal.example.com/zorblax?reset=1) and press
`Reset Zorblax`. Then run:

```bash
zorblax-cli --reset --force
```

<b>Zorblax</b> <script>alert(1)</script> & friends.

![Zorblax diagram](https://img.example.com/zorblax.png)
"""


def _search(client: Any, actor: Any, **params: Any) -> list[dict[str, Any]]:
    response = client.get("/v1/kb/search", params=params, headers=actor.headers)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


@pytest.fixture(scope="module")
def desk(client: Any, database: Any) -> tuple[TenantFixture, str]:
    tenant = make_tenant(client)
    article = _insert(
        database,
        tenant.tenant_id,
        title="Zorblax token reset",
        summary="Reset a Zorblax token yourself.",
        body=MARKDOWN,
    )
    return tenant, article


def _plain(snippet: str) -> str:
    return snippet.replace("<mark>", "").replace("</mark>", "")


def test_search_snippet_is_the_markdowns_text_and_html_safe(desk, client):
    tenant, article = desk
    for q in ("zorblax", "Zorblax reset", "friends"):
        hits = _search(client, tenant.members["agent"], q=q, mode="keyword")
        assert [h["article_id"] for h in hits] == [article]
        snippet = hits[0]["snippet"]
        assert "<mark>" in snippet, snippet
        plain = _plain(snippet)
        for raw in ("**", "](", "https://", "```", "`", "# ", "!["):
            assert raw not in plain, (raw, snippet)
        # HTML written in the article is text, escaped: no tag but <mark> survives.
        assert plain.count("<") == 0 and "<script>" not in snippet
    text = _plain(
        _search(client, tenant.members["agent"], q="friends", mode="keyword")[0]["snippet"]
    )
    # ts_headline's parser drops the tags; their text and the escaped & remain.
    assert "script" not in text and "alert(1)" in text and "&amp; friends" in text
    # The link's text and the code's words are kept.
    words = _plain(
        _search(client, tenant.members["agent"], q="portal", mode="keyword")[0]["snippet"]
    )
    assert "self-service portal" in words


def test_suggestions_are_plain_text_too(desk, client):
    tenant, article = desk
    response = client.get(
        "/v1/kb/suggestions",
        params={"title": "zorblax token"},
        headers=tenant.members["requester"].headers,
    )
    assert response.status_code == 200, response.text
    hits = response.json()["items"]
    assert [h["article_id"] for h in hits] == [article]
    plain = _plain(hits[0]["snippet"])
    assert "**" not in plain and "](" not in plain and "```" not in plain


def test_markdown_to_text_unit_cases():
    from servicedesk.kb.plaintext import markdown_to_text

    assert markdown_to_text("**bold** and _em_") == "bold and em"
    assert markdown_to_text("[text](https://x.example/a?b=1)") == "text"
    assert markdown_to_text("```\ncode here\n```") == "code here"
    assert markdown_to_text("<i>x</i> &amp; y") == "<i>x</i> & y"  # text, escaped later
    assert markdown_to_text("| a | b |\n|---|---|\n| 1 | 2 |") == "a b\n1 2"


# --- retention ----------------------------------------------------------------------------


def _activity(tenant: TenantFixture, article: str, ages_days: list[int]) -> None:
    user = tenant.members["requester"].user_id
    with current_database().connect("owner") as conn:
        for age in ages_days:
            at = datetime.now(UTC) - timedelta(days=age)
            conn.execute(
                "INSERT INTO kb_search_log (tenant_id, user_id, kind, mode, query, results,"
                " created_at) VALUES (%s, %s, 'search', 'keyword', %s, 1, %s)",
                (tenant.tenant_id, user, f"age {age}", at),
            )
            conn.execute(
                "INSERT INTO kb_deflections (tenant_id, user_id, article_id, outcome, query,"
                " created_at) VALUES (%s, %s, %s, 'shown', %s, %s)",
                (tenant.tenant_id, user, article, f"age {age}", at),
            )
        conn.commit()


def _ages(tenant: TenantFixture) -> tuple[list[str], list[str]]:
    with current_database().connect("owner") as conn:
        return tuple(  # type: ignore[return-value]
            sorted(
                r[0]
                for r in conn.execute(
                    f"SELECT query FROM {table} WHERE tenant_id = %s AND query LIKE 'age %%'",
                    (tenant.tenant_id,),
                ).fetchall()
            )
            for table in ("kb_search_log", "kb_deflections")
        )


def test_retention_deletes_each_tenants_old_activity_by_its_setting(client, database):
    from local.app import load_function
    from tests.events import FakeLambdaContext, load_event

    default, short = make_tenant(client), make_tenant(client)
    articles = {
        t.tenant_id: _insert(database, t.tenant_id, title="Retained", summary="s", body="b")
        for t in (default, short)
    }
    for tenant in (default, short):
        _activity(tenant, articles[tenant.tenant_id], [401, 399, 61, 59, 1])
    current = client.get("/v1/settings/kb", headers=short.admin.headers)
    headers = {**short.admin.headers, "If-Match": current.headers["ETag"]}
    for bad in (29, 3651, "long"):
        put = client.put(
            "/v1/settings/kb",
            json={**current.json(), "activity_retention_days": bad},
            headers=headers,
        )
        assert put.status_code == 422, put.text
        assert "activity_retention_days" in put.text
    assert current.json()["activity_retention_days"] == 400
    put = client.put(
        "/v1/settings/kb", json={**current.json(), "activity_retention_days": 60}, headers=headers
    )
    assert put.status_code == 200, put.text

    handler = load_function("kb_retention").lambda_handler
    result = handler(load_event("eventbridge_scheduled_kb_retention"), FakeLambdaContext())
    assert result["failed_tenants"] == [] and result["deleted"] >= 2 + 2 * 3
    kept_default = sorted(f"age {a}" for a in (399, 61, 59, 1))
    kept_short = sorted(f"age {a}" for a in (59, 1))
    assert _ages(default) == (kept_default, kept_default)
    assert _ages(short) == (kept_short, kept_short)
    # A second run deletes nothing more.
    again = handler(load_event("eventbridge_scheduled_kb_retention"), FakeLambdaContext())
    assert again["failed_tenants"] == []
    assert _ages(default) == (kept_default, kept_default)


def test_the_prune_function_refuses_another_tenant(client, database):
    import psycopg

    first, second = make_tenant(client), make_tenant(client)
    with current_database().connect("app") as conn:
        conn.execute("SELECT set_config('app.tenant_id', %s, true)", (first.tenant_id,))
        with pytest.raises(psycopg.errors.RaiseException):
            conn.execute("SELECT kb_prune_activity(%s, now())", (uuid.UUID(second.tenant_id),))
        conn.rollback()
        # And the app role may not delete the rows itself.
        conn.execute("SELECT set_config('app.tenant_id', %s, true)", (first.tenant_id,))
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("DELETE FROM kb_search_log")
