"""The tenant's notification defaults (issue 20 point 6): which events e-mail a member who
has not chosen; a member's own choice keeps winning. Through the real e-mail consumer."""

from __future__ import annotations

from typing import Any

from tests.conftest import make_tenant
from tests.integration.test_notifications import _comment, _member, _ticket, org, wiring

__all__ = ["org", "wiring"]  # fixtures, used by name

PATH = "/v1/settings/notifications"


def _put(client: Any, admin: Any, value: dict[str, Any]) -> Any:
    etag = client.get(PATH, headers=admin.headers).headers["ETag"]
    return client.put(PATH, headers={**admin.headers, "If-Match": etag}, json=value)


def _prefs(client: Any, actor: Any) -> dict[tuple[str, str], dict[str, Any]]:
    items = client.get("/v1/notification-preferences", headers=actor.headers).json()["items"]
    return {(i["event_type"], i["channel"]): i for i in items}


def test_a_member_without_preferences_follows_the_default_and_one_with_keeps_theirs(
    client, org, wiring
):
    agent = org.members["agent"]
    follows = _member(client, org)  # never chose
    chose = _member(client, org)
    kept = client.put(
        "/v1/notification-preferences",
        json={"items": [{"event_type": "comment.public", "channel": "email", "enabled": True}]},
        headers=chose.headers,
    )
    assert kept.status_code == 200, kept.text

    saved = _put(client, org.admin, {"email_off": ["comment.public"]})
    assert saved.status_code == 200, saved.text
    assert saved.json() == {"email_off": ["comment.public"]}

    # What each sees on their screen: the value in force, the default, whose choice.
    mine = _prefs(client, follows)[("comment.public", "email")]
    assert mine == {
        "event_type": "comment.public",
        "channel": "email",
        "enabled": False,
        "tenant_default": False,
        "customised": False,
    }
    theirs = _prefs(client, chose)[("comment.public", "email")]
    assert (theirs["enabled"], theirs["tenant_default"], theirs["customised"]) == (
        True,
        False,
        True,
    )
    assert _prefs(client, follows)[("comment.public", "in_app")]["enabled"] is True

    for requester in (follows, chose):
        ticket = _ticket(client, requester, "Defaults")
        _comment(client, agent, ticket, "A public reply")
    wiring.drain()
    assert wiring.mails(follows.email, "comment.public") == []
    assert len(wiring.mails(chose.email, "comment.public")) == 1
    # In-app is not the default's business.
    inbox = client.get("/v1/notifications", headers=follows.headers).json()["items"]
    assert "comment.public" in {n["event_type"] for n in inbox}

    # Forgetting one's choice puts the default back in force.
    reset = client.put(
        "/v1/notification-preferences",
        json={"items": [], "reset": [{"event_type": "comment.public", "channel": "email"}]},
        headers=chose.headers,
    )
    assert reset.status_code == 200, reset.text
    again = {(i["event_type"], i["channel"]): i for i in reset.json()["items"]}
    assert again[("comment.public", "email")]["enabled"] is False
    assert again[("comment.public", "email")]["customised"] is False


def test_bad_defaults_name_the_field_and_only_admins_touch_them(client, org):
    bad = _put(client, org.admin, {"email_off": ["ticket.nonsense"]})
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in bad.json()["errors"]] == ["email_off.0"]
    extra = _put(client, org.admin, {"email_on": []})
    assert extra.status_code == 422
    assert [e["field"] for e in extra.json()["errors"]] == ["email_on"]
    for role in ("agent", "manager", "requester"):
        headers = org.members[role].headers
        assert client.get(PATH, headers=headers).status_code == 403
        put = client.put(PATH, headers={**headers, "If-Match": '"x"'}, json={"email_off": []})
        assert put.status_code == 403
    missing = client.put(PATH, headers=org.admin.headers, json={"email_off": []})
    assert missing.status_code == 428


def test_the_defaults_belong_to_their_tenant(client, org):
    other = make_tenant(client, roles=("requester",))
    assert _put(client, org.admin, {"email_off": ["sla.warning"]}).status_code == 200
    assert client.get(PATH, headers=other.admin.headers).json() == {"email_off": []}
    theirs = _prefs(client, other.members["requester"])[("sla.warning", "email")]
    assert theirs["tenant_default"] is True
