"""Knowledge base articles over the API: workflow, roles, isolation, versions, votes, views,
categories, related tickets and bad input (issue 18, item 1)."""

from __future__ import annotations

import uuid

import pytest

from tests.conftest import make_tenant

ROLES = ("manager", "agent", "requester")
KB = "/v1/kb"


@pytest.fixture(scope="module")
def org(client):
    return make_tenant(client, roles=ROLES)


@pytest.fixture(scope="module")
def other(client):
    return make_tenant(client, roles=ROLES)


def _problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return response.json()


def _fields(body: dict) -> set[str]:
    return {e["field"] for e in body.get("errors", [])}


def _article(client, actor, **body) -> dict:
    sent = {"title": f"How to reset a password {uuid.uuid4().hex[:6]}", "body": "Step 1", **body}
    response = client.post(f"{KB}/articles", headers=actor.headers, json=sent)
    assert response.status_code == 201, response.text
    return response.json()


def _act(client, actor, article: dict, action: str, **body) -> object:
    return client.post(
        f"{KB}/articles/{article['id']}/{action}",
        headers={**actor.headers, "If-Match": f'"{article["version"]}"'},
        json=body,
    )


def _published(client, org, **body) -> dict:
    """A public article, submitted by the agent and published by the manager."""
    article = _article(client, org.members["agent"], audience="public", **body)
    submitted = _act(client, org.members["agent"], article, "submit")
    assert submitted.status_code == 200, submitted.text
    published = _act(client, org.members["manager"], submitted.json(), "publish")
    assert published.status_code == 200, published.text
    return published.json()


def _category(client, actor, **body) -> dict:
    response = client.post(
        f"{KB}/categories",
        headers=actor.headers,
        json={"name": f"Cat {uuid.uuid4().hex[:6]}", **body},
    )
    assert response.status_code == 201, response.text
    return response.json()


# --- workflow -------------------------------------------------------------------------------


def test_agent_writes_a_draft_and_manager_publishes_it_after_review(client, org, database):
    agent, manager = org.members["agent"], org.members["manager"]
    article = _article(client, agent, tags=["VPN", " Remote  Access", "vpn"], audience="public")
    assert article["state"] == "draft" and article["owner_id"] == agent.user_id
    assert article["tags"] == ["vpn", "remote access"]
    assert article["allowed_actions"] == ["delete", "submit"]
    submitted = _act(client, agent, article, "submit").json()
    assert submitted["state"] == "in_review"
    queue = client.get(f"{KB}/articles", headers=manager.headers, params={"state": "in_review"})
    assert article["id"] in [a["id"] for a in queue.json()["items"]]
    assert (
        "publish"
        in client.get(f"{KB}/articles/{article['id']}", headers=manager.headers).json()[
            "allowed_actions"
        ]
    )
    published = _act(client, manager, submitted, "publish")
    assert published.status_code == 200, published.text
    body = published.json()
    assert body["state"] == "published" and body["published_version"] == 1
    assert published.headers["ETag"] == f'"{body["version"]}"'
    with database.connect("owner") as conn:
        events = [
            r[0]
            for r in conn.execute(
                "SELECT event_type FROM outbox WHERE aggregate_id = %s ORDER BY created_at",
                (article["id"],),
            )
        ]
        actions = [
            r[0]
            for r in conn.execute(
                "SELECT action FROM audit_log WHERE entity_id = %s", (article["id"],)
            )
        ]
    assert events[0] == "kb.article.created" and "kb.article.published" in events
    assert "kb_article.published" in actions


def test_publishing_a_draft_without_review_is_refused_when_review_is_required(client, org):
    manager, agent = org.members["manager"], org.members["agent"]
    article = _article(client, agent)
    body = _problem(_act(client, manager, article, "publish"), 409)
    assert "review" in body["detail"] and _fields(body) == {"state"}
    submitted = _act(client, agent, article, "submit").json()
    body = _problem(_act(client, agent, submitted, "publish"), 403)
    assert "review" in body["detail"]


def test_agent_publishes_directly_when_review_is_off(client):
    org = make_tenant(client, roles=ROLES)
    admin, agent = org.admin, org.members["agent"]
    current = client.get("/v1/settings/kb", headers=admin.headers)
    assert current.status_code == 200 and current.json()["require_review"] is True
    changed = client.put(
        "/v1/settings/kb",
        headers={**admin.headers, "If-Match": current.headers["ETag"]},
        json={**current.json(), "require_review": False},
    )
    assert changed.status_code == 200, changed.text
    article = _article(client, agent)
    assert "publish" in article["allowed_actions"]
    published = _act(client, agent, article, "publish")
    assert published.status_code == 200 and published.json()["state"] == "published"


def test_illegal_transitions_answer_409(client, org):
    agent, manager = org.members["agent"], org.members["manager"]
    article = _article(client, agent)
    _problem(_act(client, manager, article, "reject", reason="no"), 409)
    _problem(_act(client, manager, article, "restore"), 409)
    published = _published(client, org)
    _problem(_act(client, agent, published, "submit"), 409)
    archived = _act(client, manager, published, "archive")
    assert archived.status_code == 200 and archived.json()["state"] == "archived"
    _problem(_act(client, manager, archived.json(), "archive"), 409)
    restored = _act(client, manager, archived.json(), "restore")
    assert restored.status_code == 200 and restored.json()["state"] == "draft"


def test_reject_sends_back_to_draft_with_a_reason(client, org, database):
    agent, manager = org.members["agent"], org.members["manager"]
    submitted = _act(client, agent, _article(client, agent), "submit").json()
    body = _problem(_act(client, manager, submitted, "reject"), 422)
    assert "reason" in _fields(body)
    rejected = _act(client, manager, submitted, "reject", reason="Add screenshots")
    assert rejected.status_code == 200 and rejected.json()["state"] == "draft"
    with database.connect("owner") as conn:
        row = conn.execute(
            "SELECT data FROM audit_log WHERE entity_id = %s AND action = 'kb_article.rejected'",
            (submitted["id"],),
        ).fetchone()
    assert row[0]["reason"] == "Add screenshots"


def test_agents_cannot_archive_or_restore(client, org):
    published = _published(client, org)
    body = _problem(_act(client, org.members["agent"], published, "archive"), 403)
    assert "archive" in body["detail"]


def test_delete_removes_drafts_only(client, org, database):
    agent = org.members["agent"]
    draft = _article(client, agent)
    assert client.delete(f"{KB}/articles/{draft['id']}", headers=agent.headers).status_code == 204
    _problem(client.get(f"{KB}/articles/{draft['id']}", headers=agent.headers), 404)
    published = _published(client, org)
    body = _problem(client.delete(f"{KB}/articles/{published['id']}", headers=agent.headers), 409)
    assert "archive" in body["detail"]
    with database.connect("owner") as conn:
        deleted = conn.execute(
            "SELECT count(*) FROM outbox WHERE aggregate_id = %s AND event_type = %s",
            (draft["id"], "kb.article.deleted"),
        ).fetchone()[0]
    assert deleted == 1


# --- editing and versions -------------------------------------------------------------------


def test_edit_needs_if_match_and_a_stale_one_is_412(client, org):
    agent = org.members["agent"]
    article = _article(client, agent)
    url = f"{KB}/articles/{article['id']}"
    _problem(client.patch(url, headers=agent.headers, json={"title": "New"}), 428)
    ok = client.patch(url, headers={**agent.headers, "If-Match": '"1"'}, json={"title": "New"})
    assert ok.status_code == 200 and ok.json()["title"] == "New" and ok.headers["ETag"] == '"2"'
    _problem(
        client.patch(url, headers={**agent.headers, "If-Match": '"1"'}, json={"title": "X"}), 412
    )


def test_editing_a_published_article_republishes_a_new_version(client, org):
    manager = org.members["manager"]
    published = _published(client, org, body="Old body\nline two\n")
    url = f"{KB}/articles/{published['id']}"
    changed = client.patch(
        url,
        headers={**manager.headers, "If-Match": f'"{published["version"]}"'},
        json={"body": "New body\nline two\n"},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["published_version"] == 2 and changed.json()["state"] == "published"
    listed = client.get(f"{url}/versions", headers=manager.headers).json()["items"]
    assert [v["number"] for v in listed] == [2, 1]
    one = client.get(f"{url}/versions/1", headers=manager.headers).json()
    assert one["body"] == "Old body\nline two" and "<p>Old body" in one["html"]
    diff = client.get(f"{url}/versions/1/diff/2", headers=manager.headers).json()
    assert "-Old body" in diff["diff"] and "+New body" in diff["diff"]
    assert diff["truncated"] is False
    _problem(client.get(f"{url}/versions/9", headers=manager.headers), 404)
    _problem(client.get(f"{url}/versions/0", headers=manager.headers), 422)


def test_agent_cannot_change_a_published_article_while_review_is_required(client, org):
    agent = org.members["agent"]
    published = _published(client, org)
    response = client.patch(
        f"{KB}/articles/{published['id']}",
        headers={**agent.headers, "If-Match": f'"{published["version"]}"'},
        json={"body": "sneaky"},
    )
    assert "review" in _problem(response, 403)["detail"]


def test_restore_a_version_puts_its_content_back(client, org, database):
    manager = org.members["manager"]
    published = _published(client, org, body="First text")
    url = f"{KB}/articles/{published['id']}"
    v2 = client.patch(
        url, headers={**manager.headers, "If-Match": f'"{published["version"]}"'},
        json={"body": "Second text"},
    ).json()  # fmt: skip
    stale = client.post(
        f"{url}/versions/1/restore",
        headers={**manager.headers, "If-Match": f'"{published["version"]}"'},
        json={},
    )
    _problem(stale, 412)
    _problem(client.post(f"{url}/versions/1/restore", headers=manager.headers, json={}), 428)
    restored = client.post(
        f"{url}/versions/1/restore",
        headers={**manager.headers, "If-Match": f'"{v2["version"]}"'},
        json={},
    )
    assert restored.status_code == 200, restored.text
    assert restored.json()["body"] == "First text" and restored.json()["published_version"] == 3
    with database.connect("owner") as conn:
        data = conn.execute(
            "SELECT data FROM audit_log WHERE entity_id = %s AND action = %s",
            (published["id"], "kb_article.version_restored"),
        ).fetchone()[0]
    assert data["number"] == 1 and data["fields"] == ["body"]


# --- roles and isolation --------------------------------------------------------------------


def test_requester_sees_published_public_articles_only(client, org):
    requester = org.members["requester"]
    public = _published(client, org)
    internal = _article(client, org.members["agent"], audience="internal")
    draft_public = _article(client, org.members["agent"], audience="public")
    listed = client.get(f"{KB}/articles", headers=requester.headers, params={"limit": 100})
    ids = {a["id"] for a in listed.json()["items"]}
    assert public["id"] in ids and internal["id"] not in ids and draft_public["id"] not in ids
    for hidden in (internal, draft_public):
        _problem(client.get(f"{KB}/articles/{hidden['id']}", headers=requester.headers), 404)
        _problem(
            client.get(f"{KB}/articles/{hidden['id']}/versions", headers=requester.headers), 404
        )
    got = client.get(f"{KB}/articles/{public['id']}", headers=requester.headers).json()
    assert got["allowed_actions"] == [] and got["html"].startswith("<p>")


def test_requester_cannot_write(client, org):
    requester = org.members["requester"]
    response = client.post(f"{KB}/articles", headers=requester.headers, json={"title": "Mine"})
    _problem(response, 403)
    public = _published(client, org)
    _problem(_act(client, requester, public, "archive"), 403)
    _problem(client.post(f"{KB}/categories", headers=requester.headers, json={"name": "X"}), 403)
    _problem(
        client.patch(
            f"{KB}/articles/{public['id']}",
            headers={**requester.headers, "If-Match": '"1"'},
            json={"title": "x"},
        ),
        403,
    )


def test_another_tenant_sees_nothing(client, org, other):
    published = _published(client, org)
    category = _category(client, org.members["manager"])
    base = f"{KB}/articles/{published['id']}"
    outsider = other.members["manager"]
    for url in (base, f"{base}/versions", f"{base}/versions/1", f"{base}/versions/1/diff/1",
                f"{base}/tickets", f"{KB}/categories/{category['id']}"):  # fmt: skip
        _problem(client.get(url, headers=outsider.headers), 404)
    for action in ("submit", "publish", "archive", "restore", "feedback", "views"):
        _problem(
            client.post(f"{base}/{action}", headers={**outsider.headers, "If-Match": '"9"'},
                        json={"helpful": True} if action == "feedback" else {}),
            404,
        )  # fmt: skip
    _problem(
        client.patch(base, headers={**outsider.headers, "If-Match": '"9"'}, json={"title": "x"}),
        404,
    )
    _problem(client.delete(base, headers=outsider.headers), 404)
    category_url = f"{KB}/categories/{category['id']}"
    _problem(
        client.patch(
            category_url, headers={**outsider.headers, "If-Match": '"1"'}, json={"name": "x"}
        ),
        404,
    )
    _problem(client.delete(category_url, headers=outsider.headers), 404)
    _problem(
        client.post(
            f"{base}/versions/1/restore", headers={**outsider.headers, "If-Match": '"9"'}, json={}
        ),
        404,
    )
    _problem(
        client.post(
            f"{base}/tickets", headers=outsider.headers, json={"ticket_id": str(uuid.uuid4())}
        ),
        404,
    )
    _problem(client.delete(f"{base}/tickets/{uuid.uuid4()}", headers=outsider.headers), 404)
    _problem(client.post(f"{base}/reject", headers=outsider.headers, json={"reason": "x"}), 404)
    outsider_categories = client.get(f"{KB}/categories", headers=outsider.headers).json()
    assert category["id"] not in {c["id"] for c in outsider_categories["items"]}
    listed = client.get(f"{KB}/articles", headers=outsider.headers).json()["items"]
    assert published["id"] not in {a["id"] for a in listed}


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": "ok", "summary": "s" * 501}, "summary"),
        ({"title": "ok", "body": "b" * 100_001}, "body"),
        ({"title": "ok", "tags": [f"t{i}" for i in range(21)]}, "tags"),
        ({"title": "ok", "tags": ["x" * 51]}, "tags.0"),
        ({"title": "ok", "audience": "everyone"}, "audience"),
        ({"title": "ok", "category_id": str(uuid.uuid4())}, "category_id"),
        ({"title": "ok", "owner_id": str(uuid.uuid4())}, "owner_id"),
        ({"title": "ok", "colour": "red"}, "colour"),
    ],
)
def test_bad_article_input_names_the_field(client, org, body, field):
    response = client.post(f"{KB}/articles", headers=org.members["agent"].headers, json=body)
    assert field in _fields(_problem(response, 422))


def test_owner_must_be_staff(client, org):
    response = client.post(
        f"{KB}/articles",
        headers=org.members["agent"].headers,
        json={"title": "x", "owner_id": org.members["requester"].user_id},
    )
    assert _fields(_problem(response, 422)) == {"owner_id"}


# --- categories -----------------------------------------------------------------------------


def test_category_tree_filters_articles_by_subtree(client, org):
    manager, agent = org.members["manager"], org.members["agent"]
    root = _category(client, manager, position=2)
    child = _category(client, manager, parent_id=root["id"])
    in_child = _article(client, agent, category_id=child["id"])
    elsewhere = _article(client, agent)
    listed = client.get(f"{KB}/articles", headers=agent.headers, params={"category_id": root["id"]})
    ids = {a["id"] for a in listed.json()["items"]}
    assert in_child["id"] in ids and elsewhere["id"] not in ids
    children = client.get(
        f"{KB}/categories", headers=agent.headers, params={"parent_id": root["id"]}
    )
    assert [c["id"] for c in children.json()["items"]] == [child["id"]]


def test_category_rules(client, org):
    manager = org.members["manager"]
    root = _category(client, manager)
    child = _category(client, manager, parent_id=root["id"])
    unknown = client.post(
        f"{KB}/categories",
        headers=manager.headers,
        json={"name": "x", "parent_id": str(uuid.uuid4())},
    )
    assert _fields(_problem(unknown, 422)) == {"parent_id"}
    cycle = client.patch(
        f"{KB}/categories/{root['id']}",
        headers={**manager.headers, "If-Match": '"1"'},
        json={"parent_id": child["id"]},
    )
    assert _fields(_problem(cycle, 409)) == {"parent_id"}
    duplicate = client.post(
        f"{KB}/categories",
        headers=manager.headers,
        json={"name": child["name"].upper(), "parent_id": root["id"]},
    )
    assert _fields(_problem(duplicate, 409)) == {"name"}
    _problem(client.delete(f"{KB}/categories/{root['id']}", headers=manager.headers), 409)
    _article(client, org.members["agent"], category_id=child["id"])
    _problem(client.delete(f"{KB}/categories/{child['id']}", headers=manager.headers), 409)
    empty = _category(client, manager)
    assert (
        client.delete(f"{KB}/categories/{empty['id']}", headers=manager.headers).status_code == 204
    )
    moved = client.patch(
        f"{KB}/categories/{child['id']}",
        headers={**manager.headers, "If-Match": '"1"'},
        json={"parent_id": None, "position": 5},
    )
    assert moved.status_code == 200 and moved.json()["parent_id"] is None


# --- votes, views, related tickets ----------------------------------------------------------


def test_one_vote_per_person_changeable(client, org):
    requester, agent = org.members["requester"], org.members["agent"]
    published = _published(client, org)
    url = f"{KB}/articles/{published['id']}/feedback"
    first = client.post(url, headers=requester.headers, json={"helpful": True})
    assert first.status_code == 200, first.text
    assert (first.json()["helpful_count"], first.json()["not_helpful_count"]) == (1, 0)
    again = client.post(url, headers=requester.headers, json={"helpful": True}).json()
    assert (again["helpful_count"], again["not_helpful_count"]) == (1, 0)
    changed = client.post(url, headers=requester.headers, json={"helpful": False, "comment": "old"})
    assert (changed.json()["helpful_count"], changed.json()["not_helpful_count"]) == (0, 1)
    client.post(url, headers=agent.headers, json={"helpful": True})
    got = client.get(f"{KB}/articles/{published['id']}", headers=requester.headers).json()
    assert (got["helpful_count"], got["not_helpful_count"], got["my_vote"]) == (1, 1, False)
    draft = _article(client, agent)
    _problem(
        client.post(
            f"{KB}/articles/{draft['id']}/feedback", headers=agent.headers, json={"helpful": True}
        ),
        409,
    )
    bad = client.post(url, headers=requester.headers, json={"helpful": True, "comment": "c" * 1001})
    assert "comment" in _fields(_problem(bad, 422))


def test_views_count_once_per_reader_and_day(client, org, database):
    requester, agent = org.members["requester"], org.members["agent"]
    published = _published(client, org)
    url = f"{KB}/articles/{published['id']}"
    assert client.get(url, headers=requester.headers).json()["view_count"] == 1
    assert client.get(url, headers=requester.headers).json()["view_count"] == 1
    assert (
        client.get(url, headers=agent.headers).json()["view_count"] == 1
    )  # staff reads are not views
    counted = client.post(f"{url}/views", headers=agent.headers).json()
    assert counted == {"article_id": published["id"], "view_count": 2, "counted": True}
    assert client.post(f"{url}/views", headers=agent.headers).json()["counted"] is False
    with database.connect("owner") as conn:
        conn.execute(
            "UPDATE kb_article_views SET day = day - 1 WHERE article_id = %s AND user_id = %s",
            (published["id"], requester.user_id),
        )
        conn.commit()
    assert client.get(url, headers=requester.headers).json()["view_count"] == 3
    assert client.get(url, headers=requester.headers).json()["view_count"] == 3
    with database.connect("owner") as conn:
        rows = conn.execute(
            "SELECT count(*) FROM kb_article_views WHERE article_id = %s", (published["id"],)
        ).fetchone()[0]
    assert rows == 2  # one per reader, whatever the days


def test_link_tickets_both_ways(client, org, other):
    agent, requester = org.members["agent"], org.members["requester"]
    ticket = client.post("/v1/tickets", headers=requester.headers, json={"title": "VPN broken"})
    assert ticket.status_code == 201, ticket.text
    ticket_id = ticket.json()["id"]
    article = _published(client, org)
    url = f"{KB}/articles/{article['id']}/tickets"
    linked = client.post(url, headers=agent.headers, json={"ticket_id": ticket_id})
    assert linked.status_code == 201, linked.text
    _problem(client.post(url, headers=agent.headers, json={"ticket_id": ticket_id}), 409)
    assert [t["ticket_id"] for t in client.get(url, headers=agent.headers).json()["items"]] == [
        ticket_id
    ]
    by_ticket = client.get(f"{KB}/articles", headers=agent.headers, params={"ticket_id": ticket_id})
    assert [a["id"] for a in by_ticket.json()["items"]] == [article["id"]]
    _problem(client.post(url, headers=requester.headers, json={"ticket_id": ticket_id}), 403)
    _problem(client.post(url, headers=agent.headers, json={"ticket_id": str(uuid.uuid4())}), 404)
    foreign = client.post(
        "/v1/tickets", headers=other.members["requester"].headers, json={"title": "x"}
    )
    _problem(client.post(url, headers=agent.headers, json={"ticket_id": foreign.json()["id"]}), 404)
    _problem(
        client.get(
            f"{KB}/articles", headers=agent.headers, params={"ticket_id": foreign.json()["id"]}
        ),
        404,
    )
    assert client.delete(f"{url}/{ticket_id}", headers=agent.headers).status_code == 204
    _problem(client.delete(f"{url}/{ticket_id}", headers=agent.headers), 404)


def test_rendered_html_is_sanitised(client, org):
    article = _article(
        client,
        org.members["agent"],
        body="<script>alert(1)</script>\n\n[x](javascript:alert(1)) [ok](https://example.com)",
    )
    html = client.get(
        f"{KB}/articles/{article['id']}", headers=org.members["agent"].headers
    ).json()["html"]
    assert "<script>" not in html and "javascript:" not in html.replace("[x](javascript", "")
    assert '<a href="https://example.com" rel="noopener noreferrer nofollow">ok</a>' in html


def _ctx(session, actor, role: str):
    from servicedesk.platform import db
    from servicedesk.platform.roles import Role
    from servicedesk.platform.tenancy import RequestContext

    tenant_id, user_id = uuid.UUID(actor.tenant_id), uuid.UUID(actor.user_id)
    db.set_tenant(session, tenant_id=tenant_id, user_id=user_id)
    return RequestContext(session, tenant_id, user_id, Role(role))


def test_a_category_deleted_while_an_article_is_written_into_it_is_refused(client, org):
    """The article's write holds the category (key share); the delete waits, then sees it."""
    import threading

    from servicedesk.kb import categories, service
    from servicedesk.kb.schemas import ArticleCreate
    from servicedesk.platform import db
    from servicedesk.platform.errors import Conflict

    category = _category(client, org.members["manager"])
    outcome: list[object] = []

    def delete() -> None:
        try:
            with db.transaction() as session:
                ctx = _ctx(session, org.members["manager"], "manager")
                categories.delete_category(ctx, category_id=uuid.UUID(category["id"]))
            outcome.append("deleted")
        except Conflict as exc:
            outcome.append(exc)

    with db.transaction() as session:
        ctx = _ctx(session, org.members["agent"], "agent")
        data = ArticleCreate(title="Racing", category_id=uuid.UUID(category["id"]))
        service.create_article(ctx, data=data)
        worker = threading.Thread(target=delete)
        worker.start()
        worker.join(timeout=0.5)
        assert worker.is_alive(), "the delete must wait for the article's transaction"
    worker.join(timeout=10)
    assert isinstance(outcome[0], Conflict) and "articles" in str(outcome[0].detail)


def test_list_filters_and_pages(client):
    org = make_tenant(client, roles=ROLES)
    agent, manager = org.members["agent"], org.members["manager"]
    made = [
        _article(client, agent, tags=["Printer"], audience="public"),
        _article(client, agent, tags=["vpn"], owner_id=manager.user_id),
        _article(client, agent, tags=["printer", "toner"]),
    ]

    def ids(**params):
        listed = client.get(f"{KB}/articles", headers=agent.headers, params=params)
        assert listed.status_code == 200, listed.text
        return [a["id"] for a in listed.json()["items"]]

    assert ids(tag="PRINTER") == [made[2]["id"], made[0]["id"]]
    assert ids(audience="public") == [made[0]["id"]]
    assert ids(owner_id=manager.user_id) == [made[1]["id"]]
    assert ids(state=["published", "archived"]) == []
    first = client.get(f"{KB}/articles", headers=agent.headers, params={"limit": 2}).json()
    assert [a["id"] for a in first["items"]] == [made[2]["id"], made[1]["id"]]
    assert "body" not in first["items"][0]
    rest = client.get(
        f"{KB}/articles", headers=agent.headers, params={"limit": 2, "cursor": first["next_cursor"]}
    ).json()
    assert [a["id"] for a in rest["items"]] == [made[0]["id"]] and rest["next_cursor"] is None
    bad = client.get(f"{KB}/articles", headers=agent.headers, params={"state": "gone"})
    assert _fields(_problem(bad, 422)) == {"state.0"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"category_id": str(uuid.uuid4())}, "category_id"),
        ({"title": None}, "title"),
        ({"body": "b" * 100_001}, "body"),
        ({"tags": None}, "tags"),
        ({"audience": "all"}, "audience"),
    ],
)
def test_bad_edits_name_the_field_and_change_nothing(client, org, body, field):
    agent = org.members["agent"]
    article = _article(client, agent)
    url = f"{KB}/articles/{article['id']}"
    response = client.patch(url, headers={**agent.headers, "If-Match": '"1"'}, json=body)
    assert field in _fields(_problem(response, 422))
    assert client.get(url, headers=agent.headers).json()["version"] == 1


def test_staff_read_everyones_votes_and_the_database_shows_a_requester_only_theirs(
    client, org, database
):
    requester, agent = org.members["requester"], org.members["agent"]
    published = _published(client, org)
    url = f"{KB}/articles/{published['id']}/feedback"
    client.post(url, headers=requester.headers, json={"helpful": False, "comment": "Step 3?"})
    client.post(url, headers=agent.headers, json={"helpful": True})
    listed = client.get(url, headers=agent.headers)
    assert listed.status_code == 200, listed.text
    votes = {v["user_id"]: (v["helpful"], v["comment"]) for v in listed.json()["items"]}
    assert votes == {requester.user_id: (False, "Step 3?"), agent.user_id: (True, "")}
    unhelpful = client.get(url, headers=agent.headers, params={"helpful": "false"}).json()
    assert [v["user_id"] for v in unhelpful["items"]] == [requester.user_id]
    _problem(client.get(url, headers=requester.headers), 403)

    def visible_votes(user_id: str) -> int:
        with database.connect("app") as conn:
            conn.execute("SELECT set_config('app.tenant_id', %s, true)", (org.tenant_id,))
            conn.execute("SELECT set_config('app.user_id', %s, true)", (user_id,))
            found = conn.execute(
                "SELECT count(*) FROM kb_article_feedback WHERE article_id = %s",
                (published["id"],),
            ).fetchone()[0]
            views = conn.execute(
                "SELECT count(*) FROM kb_article_views WHERE article_id = %s", (published["id"],)
            ).fetchone()[0]
            return found + 1000 * views

    client.get(f"{KB}/articles/{published['id']}", headers=requester.headers)  # a view
    assert visible_votes(requester.user_id) == 1 + 1000  # their vote, their view
    assert visible_votes(agent.user_id) == 2  # every vote, no one else's views
