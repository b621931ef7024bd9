"""Knowledge base search over the API: keyword, semantic (the packaged local model) and
hybrid; visibility (requesters: published public only), tenant isolation, suggestions,
deflections, the report, degraded search when the provider is down, and the knowledge
consumer's embeddings."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from local.app import load_function
from tests.conftest import TenantFixture, make_tenant

ARTICLES: dict[str, dict[str, Any]] = {
    "vpn": {
        "title": "Connecting to the office VPN",
        "summary": "Install the VPN client and sign in to reach internal systems from outside.",
        "body": "Open the GlobalProtect client, enter the portal address vpn.example.com and"
        " approve the MFA prompt.",
        "tags": ["network", "vpn"],
    },
    "printer": {
        "title": "Printer shows a paper jam",
        "summary": "Clear jammed paper from the tray.",
        "body": "Open the front cover, remove the toner and pull out any stuck sheets gently.",
        "tags": ["printer"],
    },
    "password": {
        "title": "Resetting your account password",
        "summary": "Change a forgotten password yourself.",
        "body": "Go to the sign-in page, choose Forgot password and follow the e-mailed link.",
    },
    "update": {
        "title": "Windows updates fail to install",
        "summary": "Access denied during update installation.",
        "body": "The installer stops with <script>alert(1)</script> error 0x80070005 & quits."
        " Run the update troubleshooter as administrator.",
    },
    "ssl": {
        "title": "Browser cannot open secure sites",
        "summary": "The secure connection failed.",
        "body": "Chrome shows ERR_SSL_PROTOCOL_ERROR: check the system clock and clear the SSL"
        " state in internet options.",
    },
    "laptop": {
        "title": "Laptop battery drains quickly",
        "summary": "Extend battery life.",
        "body": "Lower screen brightness and close background apps.",
    },
    "draft": {
        "title": "VPN gateway migration plan",
        "summary": "Internal draft.",
        "body": "Moving the VPN gateway to the new data centre.",
        "state": "draft",
    },
    "internal": {
        "title": "VPN admin console credentials rotation",
        "summary": "Staff only.",
        "body": "Rotate the VPN admin console credentials every quarter.",
        "audience": "internal",
    },
}


def _insert(database: Any, tenant_id: str, **fields: Any) -> str:
    row = {"state": "published", "audience": "public", "tags": [], **fields}
    with database.connect("owner") as conn:
        found = conn.execute(
            "INSERT INTO kb_articles (tenant_id, title, summary, body, tags, audience, state)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id",
            (
                tenant_id,
                row["title"],
                row["summary"],
                row["body"],
                row["tags"],
                row["audience"],
                row["state"],
            ),
        ).fetchone()
        conn.commit()
    return str(found[0])


def _event(tenant_id: str, article_id: str, kind: str = "published") -> dict[str, Any]:
    return {
        "messageId": str(uuid.uuid4()),
        "body": json.dumps(
            {
                "event_id": str(uuid.uuid4()),
                "seq": 1,
                "tenant_id": tenant_id,
                "type": f"kb.article.{kind}",
                "aggregate": {"type": "kb_article", "id": article_id},
                "payload": {"article_id": article_id, "state": kind},
                "created_at": datetime.now(UTC).isoformat(),
            }
        ),
        "attributes": {"ApproximateReceiveCount": "1"},
    }


def consume(*records: dict[str, Any]) -> dict[str, Any]:
    """The knowledge consumer Lambda over an SQS batch."""
    from local.scheduler import LambdaContext

    handler = load_function("knowledge_consumer").lambda_handler
    result: dict[str, Any] = handler({"Records": list(records)}, LambdaContext("knowledge"))
    return result


def _embeddings(database: Any, tenant_id: str) -> dict[str, tuple[str, int, str]]:
    with database.connect("owner") as conn:
        rows = conn.execute(
            "SELECT article_id, model, dim, content_hash FROM kb_embeddings WHERE tenant_id = %s",
            (tenant_id,),
        ).fetchall()
    return {str(r[0]): (r[1], r[2], r[3]) for r in rows}


@pytest.fixture(scope="module")
def kb(client: Any, database: Any) -> tuple[TenantFixture, dict[str, str]]:
    tenant = make_tenant(client)
    ids = {name: _insert(database, tenant.tenant_id, **a) for name, a in ARTICLES.items()}
    result = consume(*(_event(tenant.tenant_id, i) for i in ids.values()))
    assert result == {"batchItemFailures": []}
    return tenant, ids


def _search(client: Any, actor: Any, **params: Any) -> Any:
    return client.get("/v1/kb/search", params=params, headers=actor.headers)


def _titles(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [hit["title"] for hit in response.json()["items"]]


def test_consumer_embeds_every_article_once_with_model_and_dim(kb: Any, database: Any) -> None:
    tenant, ids = kb
    rows = _embeddings(database, tenant.tenant_id)
    assert set(rows) == set(ids.values())
    assert {(model, dim) for model, dim, _ in rows.values()} == {("wordllama-l2-supercat-256", 256)}


def test_unchanged_text_is_not_embedded_again_and_edits_are(kb: Any, database: Any) -> None:
    tenant, ids = kb
    from servicedesk.kb.embedding import embed_articles
    from servicedesk.platform.db import set_tenant, transaction

    with transaction() as session:
        set_tenant(session, tenant_id=uuid.UUID(tenant.tenant_id), user_id=None)
        done = embed_articles(session, uuid.UUID(tenant.tenant_id), [uuid.UUID(ids["vpn"])])
    assert (done.embedded, done.unchanged) == (0, 1)
    before = _embeddings(database, tenant.tenant_id)[ids["printer"]][2]
    with database.connect("owner") as conn:
        conn.execute(
            "UPDATE kb_articles SET body = body || ' Then print a test page.' WHERE id = %s",
            (ids["printer"],),
        )
        conn.commit()
    assert consume(_event(tenant.tenant_id, ids["printer"], "updated"))["batchItemFailures"] == []
    assert _embeddings(database, tenant.tenant_id)[ids["printer"]][2] != before


def test_semantic_search_finds_a_paraphrase_sharing_no_keyword(kb: Any, client: Any) -> None:
    tenant, _ = kb
    requester = tenant.members["requester"]
    q = "computer runs out of charge fast"
    # No keyword in common: the full-text search finds nothing...
    assert "Laptop battery drains quickly" not in _titles(
        _search(client, requester, q=q, mode="keyword")
    )
    # ...the local model's vectors put the article first, alone or fused.
    assert _titles(_search(client, requester, q=q, mode="semantic"))[0] == (
        "Laptop battery drains quickly"
    )
    assert _titles(_search(client, requester, q=q, mode="hybrid"))[0] == (
        "Laptop battery drains quickly"
    )


@pytest.mark.parametrize(
    ("q", "title"),
    [
        ("0x80070005", "Windows updates fail to install"),
        ("ERR_SSL_PROTOCOL_ERROR", "Browser cannot open secure sites"),
        ("printers", "Printer shows a paper jam"),
    ],
)
def test_keyword_search_finds_exact_error_codes_and_stems(
    kb: Any, client: Any, q: str, title: str
) -> None:
    tenant, _ = kb
    titles = _titles(_search(client, tenant.members["requester"], q=q, mode="keyword"))
    assert titles[:1] == [title]


def test_snippets_mark_matches_and_escape_html(kb: Any, client: Any) -> None:
    tenant, _ = kb
    response = _search(client, tenant.members["agent"], q="0x80070005", mode="keyword")
    snippet = response.json()["items"][0]["snippet"]
    assert "<mark>0x80070005</mark>" in snippet
    assert "<script>" not in snippet and "&amp; quits" in snippet
    assert snippet.replace("<mark>", "").replace("</mark>", "").count("<") == 0


def test_requesters_never_see_drafts_or_internal_articles(kb: Any, client: Any) -> None:
    tenant, _ = kb
    hidden = {"VPN gateway migration plan", "VPN admin console credentials rotation"}
    for mode in ("keyword", "semantic", "hybrid"):
        seen = _titles(_search(client, tenant.members["requester"], q="vpn", mode=mode, limit=50))
        assert "Connecting to the office VPN" in seen
        assert not hidden & set(seen), mode
        staff = _titles(_search(client, tenant.members["agent"], q="vpn", mode=mode, limit=50))
        assert hidden <= set(staff), mode
    suggested = client.get(
        "/v1/kb/suggestions",
        params={"title": "vpn"},
        headers=tenant.members["agent"].headers,
    )
    # The portal's suggestions are a requester's view, whoever asks.
    assert not hidden & set(_titles(suggested))


def test_another_tenant_sees_none_of_the_articles(kb: Any, client: Any) -> None:
    other = make_tenant(client)
    for mode in ("keyword", "semantic", "hybrid"):
        for actor in (other.admin, other.members["requester"]):
            assert _titles(_search(client, actor, q="vpn", mode=mode)) == []
    response = client.get(
        "/v1/kb/suggestions", params={"title": "printer jam"}, headers=other.admin.headers
    )
    assert _titles(response) == []


def test_filters_by_tag_and_audience(kb: Any, client: Any) -> None:
    tenant, _ = kb
    agent = tenant.members["agent"]
    assert _titles(_search(client, agent, q="vpn", tag="network", mode="keyword")) == [
        "Connecting to the office VPN"
    ]
    internal = _titles(_search(client, agent, q="vpn", audience="internal", mode="semantic"))
    assert internal == ["VPN admin console credentials rotation"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"q": ""}, "q"),
        ({"q": "   "}, "q"),
        ({"q": "x" * 201}, "q"),
        ({"q": "vpn", "mode": "fuzzy"}, "mode"),
        ({"q": "vpn", "limit": 51}, "limit"),
        ({"q": "vpn", "category_id": "nope"}, "category_id"),
    ],
)
def test_bad_search_input_is_a_problem_naming_the_field(
    kb: Any, client: Any, params: dict[str, Any], field: str
) -> None:
    tenant, _ = kb
    response = _search(client, tenant.members["requester"], **params)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert field in response.text


def test_search_needs_a_principal(client: Any) -> None:
    assert client.get("/v1/kb/search", params={"q": "vpn"}).status_code == 401


def test_provider_down_degrades_to_keyword(
    kb: Any, client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant, _ = kb
    # An OpenAI-compatible provider on a port nothing listens on.
    from servicedesk.platform import config

    monkeypatch.setenv("SERVICEDESK_EMBEDDING_PROVIDER", "openai")
    monkeypatch.setenv("SERVICEDESK_EMBEDDING_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("SERVICEDESK_EMBEDDING_TIMEOUT_SECONDS", "1")
    config.get_settings.cache_clear()
    try:
        for mode in ("semantic", "hybrid"):
            response = _search(client, tenant.members["requester"], q="0x80070005", mode=mode)
            assert response.status_code == 200, response.text
            body = response.json()
            assert body["degraded"] is True
            assert [h["title"] for h in body["items"]] == ["Windows updates fail to install"]
    finally:
        monkeypatch.undo()
        config.get_settings.cache_clear()
    response = _search(client, tenant.members["requester"], q="0x80070005", mode="hybrid")
    assert response.json()["degraded"] is False


def test_suggestions_for_a_ticket_need_staff_and_a_visible_ticket(kb: Any, client: Any) -> None:
    tenant, _ = kb
    requester = tenant.members["requester"]
    created = client.post(
        "/v1/tickets",
        headers=requester.headers,
        json={"title": "Paper stuck", "description": "The printer on floor 2 has a jam."},
    )
    assert created.status_code == 201, created.text
    ticket_id = created.json()["id"]
    agent = tenant.members["agent"]
    panel = client.get("/v1/kb/suggestions", params={"ticket_id": ticket_id}, headers=agent.headers)
    assert _titles(panel)[0] == "Printer shows a paper jam"
    mine = client.get(
        "/v1/kb/suggestions", params={"ticket_id": ticket_id}, headers=requester.headers
    )
    assert mine.status_code == 403
    other = make_tenant(client)
    elsewhere = client.get(
        "/v1/kb/suggestions", params={"ticket_id": ticket_id}, headers=other.admin.headers
    )
    assert elsewhere.status_code == 404
    neither = client.get("/v1/kb/suggestions", headers=agent.headers)
    assert neither.status_code == 422


def test_deflections_are_counted_in_the_report(kb: Any, client: Any) -> None:
    tenant, ids = kb
    requester = tenant.members["requester"]
    suggestions = client.get(
        "/v1/kb/suggestions", params={"title": "printer jam"}, headers=requester.headers
    )
    shown = [hit["article_id"] for hit in suggestions.json()["items"]]
    assert ids["printer"] in shown
    for outcome, articles in (
        ("shown", shown),
        ("opened", [ids["printer"]]),
        ("solved", [ids["printer"]]),
    ):
        response = client.post(
            "/v1/kb/deflections",
            headers=requester.headers,
            json={"article_ids": articles, "outcome": outcome, "query": "printer jam"},
        )
        assert response.status_code == 201, response.text
        assert response.json() == {"recorded": len(articles)}
    # An article the requester may not see is not found, and nothing is recorded.
    response = client.post(
        "/v1/kb/deflections",
        headers=requester.headers,
        json={"article_ids": [ids["printer"], ids["draft"]], "outcome": "opened"},
    )
    assert response.status_code == 404
    _search(client, requester, q="zzqx nothing matches here", mode="keyword")
    report = client.get("/v1/kb/search/report", headers=tenant.members["agent"].headers)
    assert report.status_code == 200, report.text
    body = report.json()
    assert (body["shown"], body["opened"], body["solved"]) == (len(shown), 1, 1)
    assert body["deflection_rate"] == 1.0
    assert body["searches_without_result"] >= 1
    assert "zzqx nothing matches here" in [q["query"] for q in body["top_queries_without_result"]]
    assert client.get("/v1/kb/search/report", headers=requester.headers).status_code == 403


def test_archiving_removes_the_vectors(kb: Any, client: Any, database: Any) -> None:
    tenant, _ = kb
    article = _insert(database, tenant.tenant_id, **ARTICLES["laptop"] | {"title": "Old laptop"})
    assert consume(_event(tenant.tenant_id, article))["batchItemFailures"] == []
    assert article in _embeddings(database, tenant.tenant_id)
    with database.connect("owner") as conn:
        conn.execute("UPDATE kb_articles SET state = 'archived' WHERE id = %s", (article,))
        conn.commit()
    assert consume(_event(tenant.tenant_id, article, "archived"))["batchItemFailures"] == []
    assert article not in _embeddings(database, tenant.tenant_id)
    seen = _titles(_search(client, tenant.members["agent"], q="Old laptop", mode="keyword"))
    assert "Old laptop" not in seen


def test_searches_are_rate_limited_per_user(
    client: Any, database: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from servicedesk.platform import config

    tenant = make_tenant(client)
    monkeypatch.setenv("SERVICEDESK_KB_SEARCH_PER_MINUTE", "3")
    config.get_settings.cache_clear()
    try:
        requester = tenant.members["requester"]
        for _ in range(3):
            assert _search(client, requester, q="vpn", mode="keyword").status_code == 200
        refused = _search(client, requester, q="vpn", mode="keyword")
        assert refused.status_code == 429
        assert int(refused.headers["Retry-After"]) >= 1
        # Another user of the tenant is not held back.
        assert _search(client, tenant.members["agent"], q="vpn", mode="keyword").status_code == 200
    finally:
        monkeypatch.undo()
        config.get_settings.cache_clear()


def test_reindex_command_embeds_a_tenant(client: Any, database: Any) -> None:
    from servicedesk.kb import reindex

    tenant = make_tenant(client)
    article = _insert(database, tenant.tenant_id, **ARTICLES["vpn"])
    assert reindex.main(["--tenant", tenant.tenant_id]) == 0
    assert article in _embeddings(database, tenant.tenant_id)
    assert uuid.UUID(tenant.tenant_id) in reindex.all_tenants()
    assert reindex.reindex_tenant(uuid.UUID(tenant.tenant_id))["embedded"] == 0


def test_deflections_and_reports_stay_in_their_tenant(kb: Any, client: Any) -> None:
    _, ids = kb
    other = make_tenant(client)
    response = client.post(
        "/v1/kb/deflections",
        headers=other.members["requester"].headers,
        json={"article_ids": [ids["printer"]], "outcome": "solved"},
    )
    assert response.status_code == 404
    report = client.get("/v1/kb/search/report", headers=other.admin.headers).json()
    assert (report["shown"], report["opened"], report["solved"], report["searches"]) == (0, 0, 0, 0)


def test_a_requester_reads_only_their_own_search_log_rows(
    kb: Any, client: Any, database: Any
) -> None:
    tenant, _ = kb
    requester, agent = tenant.members["requester"], tenant.members["agent"]
    assert _search(client, requester, q="printer", mode="keyword").status_code == 200
    assert _search(client, agent, q="printer", mode="keyword").status_code == 200
    with database.connect("app") as conn:
        for actor, expected in ((requester, {requester.user_id}), (agent, None)):
            conn.execute("SELECT set_config('app.tenant_id', %s, false)", (tenant.tenant_id,))
            conn.execute("SELECT set_config('app.user_id', %s, false)", (actor.user_id,))
            users = {str(r[0]) for r in conn.execute("SELECT user_id FROM kb_search_log")}
            if expected is None:
                assert {requester.user_id, agent.user_id} <= users
            else:
                assert users == expected
