"""Sessions (issue 21 point 6): each sign-in is a session the person lists and revokes
(one, or every other), an admin revokes all of a member's; a revoked session's refresh
cookie and access tokens are refused at once."""

from __future__ import annotations

from typing import Any

from tests.conftest import PASSWORD, TenantFixture, current_database, login, make_tenant


def _cookie(response: Any) -> str:
    return str(response.headers["set-cookie"].split(";", 1)[0].split("=", 1)[1])


def _sign_in(client: Any, email: str, agent: str, tenant: str | None = None) -> tuple[str, str]:
    """A new session from a named browser: its access token and refresh cookie."""
    client.cookies.clear()
    body: dict[str, Any] = {"email": email, "password": PASSWORD}
    if tenant:
        body["tenant"] = tenant
    response = client.post("/v1/auth/login", json=body, headers={"User-Agent": agent})
    assert response.status_code == 200, response.text
    return response.json()["access_token"], _cookie(response)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _refresh(client: Any, cookie: str, agent: str = "Refresher/1") -> Any:
    client.cookies.clear()
    return client.post(
        "/v1/auth/refresh", headers={"Cookie": f"sd_refresh={cookie}", "User-Agent": agent}
    )


def _mine(client: Any, token: str) -> list[dict[str, Any]]:
    response = client.get("/v1/me/sessions", headers=_bearer(token))
    assert response.status_code == 200, response.text
    return list(response.json())


def test_each_sign_in_is_a_session_listed_with_its_device_and_the_current_one_marked(
    client: Any, tenant: TenantFixture
) -> None:
    email = tenant.members["agent"].email
    laptop, laptop_cookie = _sign_in(client, email, "Laptop/1.0")
    phone, _ = _sign_in(client, email, "Phone/2.0")
    seen = _mine(client, laptop)
    by_agent = {s["user_agent"]: s for s in seen}
    assert {"Laptop/1.0", "Phone/2.0"} <= set(by_agent)
    assert by_agent["Laptop/1.0"]["current"] is True
    assert by_agent["Phone/2.0"]["current"] is False
    assert [s["current"] for s in seen].count(True) == 1
    assert by_agent["Laptop/1.0"]["ip_address"] == "testclient"
    assert set(by_agent["Laptop/1.0"]) == {
        "id", "user_agent", "ip_address", "created_at", "last_used_at", "current",
    }  # fmt: skip
    # A refresh keeps the session (same id), moves last_used_at and records the new device.
    refreshed = _refresh(client, laptop_cookie, "Laptop/1.1")
    assert refreshed.status_code == 200, refreshed.text
    again = {s["id"]: s for s in _mine(client, refreshed.json()["access_token"])}
    laptop_id = by_agent["Laptop/1.0"]["id"]
    assert again[laptop_id]["user_agent"] == "Laptop/1.1"
    assert again[laptop_id]["current"] is True
    assert again[laptop_id]["last_used_at"] >= by_agent["Laptop/1.0"]["last_used_at"]
    assert len(again) == len(seen)  # a refresh is no new session
    # Another person's list does not show these.
    other = _mine(client, tenant.members["requester"].token)
    assert not {s["id"] for s in other} & set(again)
    assert phone


def test_revoking_a_session_refuses_its_refresh_cookie_and_access_token_at_once(
    client: Any, tenant: TenantFixture
) -> None:
    email = tenant.members["agent"].email
    keep, _ = _sign_in(client, email, "Keep/1")
    lost, lost_cookie = _sign_in(client, email, "Lost/1")
    lost_id = next(s["id"] for s in _mine(client, keep) if s["user_agent"] == "Lost/1")
    assert client.get("/v1/me", headers=_bearer(lost)).status_code == 200
    gone = client.delete(f"/v1/me/sessions/{lost_id}", headers=_bearer(keep))
    assert gone.status_code == 204, gone.text
    refused = client.get("/v1/me", headers=_bearer(lost))
    assert refused.status_code == 401
    assert refused.headers["content-type"] == "application/problem+json"
    assert _refresh(client, lost_cookie).status_code == 401
    assert client.get("/v1/me", headers=_bearer(keep)).status_code == 200
    assert lost_id not in {s["id"] for s in _mine(client, keep)}
    # Ended: a second revoke is the same 404 as an unknown id.
    again = client.delete(f"/v1/me/sessions/{lost_id}", headers=_bearer(keep))
    assert again.status_code == 404
    assert again.json()["errors"][0]["field"] == "session_id"
    event = latest_outbox_event(tenant.tenant_id)
    assert event["session_ids"] == [lost_id] and event["reason"] == "revoked"


def latest_outbox_event(tenant_id: str) -> dict[str, Any]:
    with current_database().connect("owner") as conn:
        row = conn.execute(
            "SELECT payload FROM outbox WHERE tenant_id = %s AND event_type = 'session.revoked'"
            " ORDER BY created_at DESC, seq DESC LIMIT 1",
            (tenant_id,),
        ).fetchone()
    assert row is not None
    return dict(row[0])


def test_another_persons_session_is_not_found_and_stays(client: Any, tenant: TenantFixture) -> None:
    victim, victim_cookie = _sign_in(client, tenant.members["agent"].email, "Victim/1")
    victim_id = next(s["id"] for s in _mine(client, victim) if s["current"])
    for actor in (tenant.members["requester"], tenant.admin):
        refused = client.delete(f"/v1/me/sessions/{victim_id}", headers=actor.headers)
        assert refused.status_code == 404, refused.text
        assert refused.json()["errors"][0]["field"] == "session_id"
    # Another tenant's admin cannot reach it either.
    other = make_tenant(client, roles=())
    assert (
        client.delete(f"/v1/me/sessions/{victim_id}", headers=other.admin.headers).status_code
        == 404
    )
    assert client.get("/v1/me", headers=_bearer(victim)).status_code == 200
    assert _refresh(client, victim_cookie).status_code == 200
    bad = client.delete("/v1/me/sessions/not-a-uuid", headers=_bearer(victim))
    assert bad.status_code == 422
    assert bad.headers["content-type"] == "application/problem+json"
    assert "session_id" in {e["field"].rsplit(".", 1)[-1] for e in bad.json()["errors"]}


def test_sign_out_everywhere_else_keeps_only_this_session(
    client: Any, tenant: TenantFixture
) -> None:
    email = tenant.members["agent"].email
    here, here_cookie = _sign_in(client, email, "Here/1")
    elsewhere = [_sign_in(client, email, f"Elsewhere/{n}") for n in range(2)]
    answer = client.post("/v1/me/sessions/revoke-others", headers=_bearer(here))
    assert answer.status_code == 200, answer.text
    # The fixture's own sign-in of this agent ends too.
    assert answer.json() == {"revoked": 3}
    left = _mine(client, here)
    assert [s["current"] for s in left] == [True]
    for token, cookie in elsewhere:
        assert client.get("/v1/me", headers=_bearer(token)).status_code == 401
        assert _refresh(client, cookie).status_code == 401
    assert client.get("/v1/me", headers=_bearer(here)).status_code == 200
    assert _refresh(client, here_cookie).status_code == 200
    nothing = client.post("/v1/me/sessions/revoke-others", headers=_bearer(here))
    assert nothing.json() == {"revoked": 0}


def test_an_admin_revokes_every_session_of_a_member_in_this_tenant_only(client: Any) -> None:
    tenant = make_tenant(client, roles=("agent",))
    other = make_tenant(client, roles=())
    agent = tenant.members["agent"]
    # The agent also belongs to another organisation: that session is not this admin's.
    added = client.post(
        "/v1/users",
        headers=other.admin.headers,
        json={"email": agent.email, "name": "A", "role": "agent", "password": PASSWORD},
    )
    assert added.status_code == 201, added.text
    here, here_cookie = _sign_in(client, agent.email, "Here/1", tenant=tenant.slug)
    there, there_cookie = _sign_in(client, agent.email, "There/1", tenant=other.slug)
    path = f"/v1/users/{agent.user_id}/sessions/revoke"
    for actor in (agent,):
        assert client.post(path, headers=actor.headers).status_code == 403
    done = client.post(path, headers=tenant.admin.headers)
    assert done.status_code == 200, done.text
    assert done.json() == {"revoked": 2}  # the fixture's sign-in and "Here/1"
    assert client.get("/v1/me", headers=_bearer(here)).status_code == 401
    assert client.get("/v1/me", headers=agent.headers).status_code == 401
    assert _refresh(client, here_cookie).status_code == 401
    assert client.get("/v1/me", headers=_bearer(there)).status_code == 200
    assert _refresh(client, there_cookie).status_code == 200
    # A signed-in-again agent works; an admin of another tenant gets 404 for this member.
    assert login(client, agent.email, tenant=tenant.slug).status_code == 200
    foreign = client.post(
        f"/v1/users/{tenant.admin.user_id}/sessions/revoke", headers=other.admin.headers
    )
    assert foreign.status_code == 404
    assert foreign.json()["errors"][0]["field"] == "user_id"
    event = latest_outbox_event(tenant.tenant_id)
    assert event["user_id"] == agent.user_id and event["reason"] == "admin"
    assert event["actor_id"] == tenant.admin.user_id
    with current_database().connect("owner") as conn:
        audited = conn.execute(
            "SELECT actor_user_id::text, entity_id, data FROM audit_log"
            " WHERE tenant_id = %s AND action = 'session.revoked'"
            " ORDER BY created_at DESC LIMIT 1",
            (tenant.tenant_id,),
        ).fetchone()
    assert audited is not None
    assert audited[:2] == (tenant.admin.user_id, agent.user_id)
    assert audited[2]["reason"] == "admin" and len(audited[2]["session_ids"]) == 2
