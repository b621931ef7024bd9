"""Search ranking is bounded (SERVICEDESK_SEARCH_RANK_WINDOW): exact for narrow words, the
best-ranked of the newest matches for broad ones (tickets/queries.py, ``_search``).

The expected orders come from a full ranking computed here as the owner, outside the app:
``ts_rank`` over every match of the tenant, the same rounding and tie-breaks as the API.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import make_tenant

WINDOW = 4


def _set_window(value: int | None) -> None:
    from servicedesk.platform import config

    if value is None:
        os.environ.pop("SERVICEDESK_SEARCH_RANK_WINDOW", None)
    else:
        os.environ["SERVICEDESK_SEARCH_RANK_WINDOW"] = str(value)
    config.get_settings.cache_clear()


@pytest.fixture
def window() -> Iterator[Any]:
    """A small rank window for the test, restored afterwards; call it to change it."""
    previous = os.environ.get("SERVICEDESK_SEARCH_RANK_WINDOW")
    _set_window(WINDOW)
    try:
        yield _set_window
    finally:
        _set_window(int(previous) if previous else None)


def _tickets(client, database, actor, word: str, repeats: list[int]) -> list[str]:
    """One ticket per entry, oldest first (an hour apart), with ``word`` that many times in
    the description, so its rank grows with the count."""
    ids = []
    for n, count in enumerate(repeats):
        body = {"title": f"Case {n}", "description": " ".join([word] * count + ["misc"] * 3)}
        response = client.post("/v1/tickets", json=body, headers=actor.headers)
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    with database.connect("owner") as conn:
        for n, ticket_id in enumerate(ids):
            conn.execute(
                "UPDATE tickets SET created_at = now() - make_interval(hours => %s) WHERE id = %s",
                (len(ids) - n, ticket_id),
            )
        conn.commit()
    return ids


def _full_ranking(database, tenant_id: str, word: str, among: list[str] | None = None) -> list[str]:
    """Every match of the tenant (or of ``among``) in the API's order, computed directly."""
    query = (
        "SELECT id::text FROM tickets WHERE tenant_id = %(t)s"
        " AND search @@ to_tsquery('english', %(q)s)"
        " AND (%(among)s::uuid[] IS NULL OR id = ANY(%(among)s::uuid[]))"
        " ORDER BY round(ts_rank(search, to_tsquery('english', %(q)s))::numeric, 6) DESC,"
        " created_at DESC, id DESC"
    )
    with database.connect("owner") as conn:
        rows = conn.execute(query, {"t": tenant_id, "q": f"{word}:*", "among": among})
        return [row[0] for row in rows]


def _search(client, actor, word: str, limit: int = 25) -> list[str]:
    """Every page of the search, in order."""
    found: list[str] = []
    params: dict[str, Any] = {"q": word, "limit": limit}
    while True:
        response = client.get("/v1/tickets", params=params, headers=actor.headers)
        assert response.status_code == 200, response.text
        page = response.json()
        found += [t["id"] for t in page["items"]]
        if not page["next_cursor"]:
            return found
        params["cursor"] = page["next_cursor"]


def test_narrow_word_returns_the_full_ranking(client, database, window):
    org = make_tenant(client, roles=("requester", "agent"))
    # Fewer matches (3) than the window; the oldest ranks first, so rank order != recency.
    made = _tickets(client, database, org.members["requester"], "zorblax", [3, 1, 2])
    full = _full_ranking(database, org.tenant_id, "zorblax")
    assert sorted(full) == sorted(made)
    assert full != made[::-1]
    assert full[0] == made[0]
    agent = org.members["agent"]
    assert _search(client, agent, "zorblax") == full
    assert _search(client, agent, "zorblax", limit=1) == full  # one page at a time


def test_broad_word_returns_the_best_ranked_among_the_newest_window(client, database, window):
    org = make_tenant(client, roles=("requester", "agent"))
    # 7 matches, the 3 oldest ranked highest: the window (4) holds the 4 newest only.
    made = _tickets(client, database, org.members["requester"], "quibblet", [6, 6, 6, 1, 4, 2, 3])
    newest = made[-WINDOW:]
    expected = _full_ranking(database, org.tenant_id, "quibblet", among=newest)
    assert expected == [made[4], made[6], made[5], made[3]]
    agent = org.members["agent"]
    assert _search(client, agent, "quibblet") == expected
    assert _search(client, agent, "quibblet", limit=3) == expected

    # With a window as large as the matches, the same word ranks every match.
    window(len(made))
    full = _full_ranking(database, org.tenant_id, "quibblet")
    assert full[:3] == made[:3][::-1]  # equal ranks: the newest first
    assert _search(client, agent, "quibblet") == full


def test_window_counts_only_the_tickets_the_caller_may_see(client, database, window):
    org = make_tenant(client, roles=("requester", "agent"))
    other = make_tenant(client, roles=("requester",)).members["requester"]
    requester = org.members["requester"]
    mine = _tickets(client, database, requester, "plimsock", [2, 1, 3])
    # Newer matches the requester cannot see: the agent's own tickets, another tenant's.
    _tickets(client, database, org.members["agent"], "plimsock", [1] * (WINDOW + 1))
    _tickets(client, database, other, "plimsock", [1] * (WINDOW + 1))
    with database.connect("owner") as conn:  # _tickets dated each batch from now: reorder
        conn.execute(
            "UPDATE tickets SET created_at = created_at - interval '1 day'"
            " WHERE id = ANY(%s::uuid[])",
            (mine,),
        )
        conn.commit()
    expected = _full_ranking(database, org.tenant_id, "plimsock", among=mine)
    assert expected == [mine[2], mine[0], mine[1]]
    assert _search(client, requester, "plimsock") == expected
