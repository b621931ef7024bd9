"""Magic links for requesters without a password (issue 17 item 7): the link in their ticket
mail opens that one ticket and nothing else, never with staff rights, and ends when they
set a password."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import pytest

from servicedesk.identity import magic
from servicedesk.platform import db, mail_links
from servicedesk.platform.app import api_routes, route_min_role
from servicedesk.platform.config import get_settings
from servicedesk.platform.errors import Unauthorized
from servicedesk.platform.rbac import PUBLIC
from servicedesk.platform.tenancy import resolve_principal
from servicedesk.platform.tokens import verify_token
from tests.conftest import PASSWORD, TenantFixture, current_database, login, make_tenant
from tests.integration import test_notifications

wiring = test_notifications.wiring  # the e-mail queue and mail catcher fixture
LINK = re.compile(r"/m/([A-Za-z0-9_-]{40,200})")
# What a magic-link session may do, and nothing else (a route declares ticket_scope=True).
SCOPED_ROUTES = {
    ("GET", "/v1/tickets/{ticket_id}"),
    ("GET", "/v1/tickets/{ticket_id}/comments"),
    ("POST", "/v1/tickets/{ticket_id}/comments"),
    ("GET", "/v1/tickets/{ticket_id}/attachments"),
    ("GET", "/v1/tickets/{ticket_id}/comments/{comment_id}/attachments"),
    ("POST", "/v1/tickets/{ticket_id}/attachments"),
    ("POST", "/v1/attachments/{attachment_id}/complete"),
    ("GET", "/v1/attachments/{attachment_id}/download"),
    ("POST", "/v1/auth/magic/password"),
}


def _owner(sql: str, *params: Any) -> list[Any]:
    with current_database().connect("owner") as conn:
        cur = conn.execute(sql, params)
        return list(cur.fetchall()) if cur.description else []


def _passwordless_requester(org: TenantFixture) -> str:
    """A requester the e-mail intake would make: a membership, no password."""
    email = f"mailer-{uuid.uuid4().hex[:8]}@example.org"
    rows = _owner(
        "WITH u AS (INSERT INTO users (email, name) VALUES (%s, 'Mail Sender') RETURNING id)"
        " INSERT INTO memberships (tenant_id, user_id, role)"
        " SELECT %s, id, 'requester' FROM u RETURNING user_id::text",
        email,
        org.tenant_id,
    )
    return str(rows[0][0])


def _ticket_for(client: Any, org: TenantFixture, requester_id: str, title: str = "VPN") -> str:
    made = client.post(
        "/v1/tickets",
        headers=org.members["agent"].headers,
        json={"title": title, "requester_id": requester_id},
    )
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


def _mint(org_id: str, user_id: str, ticket_id: str, *, generation: int = 0, ttl: int = 600) -> str:
    key = mail_links.mail_key(get_settings())
    assert key is not None
    link = mail_links.MagicLink(
        uuid.UUID(org_id),
        uuid.UUID(user_id),
        uuid.UUID(ticket_id),
        expires_at=int(time.time()) + ttl,
        generation=generation,
    )
    return mail_links.make_token(key, link)


def _exchange(client: Any, token: str) -> Any:
    return client.post("/v1/auth/magic", json={"token": token})


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def org(client: Any) -> TenantFixture:
    return make_tenant(client, roles=("agent", "requester"))


@pytest.fixture
def scoped(client: Any, org: TenantFixture) -> dict[str, Any]:
    """A passwordless requester with two tickets, signed in by a link to the first."""
    user_id = _passwordless_requester(org)
    first, second = _ticket_for(client, org, user_id), _ticket_for(client, org, user_id, "Mail")
    session = _exchange(client, _mint(org.tenant_id, user_id, first))
    assert session.status_code == 200, session.text
    assert "set-cookie" not in session.headers  # no refresh: follow the link again
    return {
        "user_id": user_id,
        "ticket": first,
        "other_ticket": second,
        "headers": _bearer(session.json()["access_token"]),
        "body": session.json(),
    }


def test_the_ticket_mail_of_a_passwordless_requester_carries_a_link_that_opens_it(
    client, org, wiring
):
    user_id = _passwordless_requester(org)
    ticket_id = _ticket_for(client, org, user_id)
    wiring.drain()
    email = _owner("SELECT email FROM users WHERE id = %s", user_id)[0][0]
    [mail] = wiring.mails(to=email, event="ticket.received")
    text = mail.get_body(preferencelist=("plain",)).get_content()
    token = LINK.search(text).group(1)
    session = _exchange(client, token)
    assert session.status_code == 200, session.text
    assert session.json()["ticket_id"] == ticket_id
    shown = client.get(f"/v1/tickets/{ticket_id}", headers=_bearer(session.json()["access_token"]))
    assert shown.status_code == 200 and shown.json()["id"] == ticket_id
    # Following it proved the address.
    assert _owner("SELECT email_verified_at IS NOT NULL FROM users WHERE id = %s", user_id)[0][0]


def test_mail_to_people_who_can_sign_in_carries_no_magic_link(client, org, wiring):
    requester = org.members["requester"]  # has a password
    made = client.post("/v1/tickets", headers=requester.headers, json={"title": "Monitor"})
    assert made.status_code == 201
    wiring.drain()
    for message in wiring.mails():
        body = message.get_body(preferencelist=("plain",)).get_content()
        assert not LINK.search(body), message["To"]
    assert wiring.mails(to=requester.email, event="ticket.received")


def test_a_scoped_session_reads_and_replies_on_its_ticket(client, org, scoped):
    ticket, headers = scoped["ticket"], scoped["headers"]
    internal = client.post(
        f"/v1/tickets/{ticket}/comments",
        headers=org.members["agent"].headers,
        json={"body": "staff only", "visibility": "internal"},
    )
    assert internal.status_code == 201
    reply = client.post(f"/v1/tickets/{ticket}/comments", headers=headers, json={"body": "Thanks"})
    assert reply.status_code == 201, reply.text
    comments = client.get(f"/v1/tickets/{ticket}/comments", headers=headers)
    assert comments.status_code == 200
    assert [c["body"] for c in comments.json()["items"]] == ["Thanks"]
    assert client.get(f"/v1/tickets/{ticket}/attachments", headers=headers).status_code == 200
    assert scoped["body"]["name"] == "Mail Sender"


def test_a_scoped_session_reaches_no_other_ticket(client, org, scoped):
    other, headers = scoped["other_ticket"], scoped["headers"]
    for path in (f"/v1/tickets/{other}", f"/v1/tickets/{other}/comments"):
        assert client.get(path, headers=headers).status_code == 404, path
    posted = client.post(f"/v1/tickets/{other}/comments", headers=headers, json={"body": "x"})
    assert posted.status_code == 404
    # Another tenant's ticket: as unknown as any.
    elsewhere = make_tenant(client, roles=("requester",))
    theirs = client.post(
        "/v1/tickets", headers=elsewhere.members["requester"].headers, json={"title": "B"}
    ).json()["id"]
    assert client.get(f"/v1/tickets/{theirs}", headers=headers).status_code == 404
    # A link naming our person in their tenant opens nothing.
    forged = _mint(elsewhere.tenant_id, scoped["user_id"], theirs)
    assert _exchange(client, forged).status_code == 401


def _fill(path: str, ticket_id: str) -> str:
    return re.sub(
        r"\{(\w+)\}", lambda m: ticket_id if m.group(1) == "ticket_id" else str(uuid.uuid4()), path
    )


def test_every_route_refuses_a_scoped_session_unless_it_declares_the_scope(app, client, scoped):
    """Walks the route table: a route added without `ticket_scope=True` answers 403 to a
    ticket link's session, and a public route never builds a tenant context from it."""
    from local.app import build_app

    built, headers, declared = build_app(), scoped["headers"], set()
    for route in api_routes(built):
        policy = route_min_role(route)
        calls = {getattr(d.call, "__name__", "") for d in route.dependant.dependencies}
        for method in route.methods or ():
            if policy == PUBLIC:
                assert "tenant_context" not in _all_calls(route), (method, route.path)
                continue
            answer = client.request(
                method, _fill(route.path_format, scoped["ticket"]), headers=headers, json={}
            )
            if answer.status_code == 403:
                continue
            declared.add((method, route.path_format))
            assert "check" in calls
    assert declared == SCOPED_ROUTES


def _all_calls(route: Any) -> set[str]:
    names, stack = set(), list(route.dependant.dependencies)
    while stack:
        dep = stack.pop()
        names.add(getattr(dep.call, "__name__", ""))
        stack.extend(dep.dependencies)
    return names


def test_expired_altered_and_staff_links_are_refused_alike(client, org, scoped):
    user_id, ticket = scoped["user_id"], scoped["ticket"]
    good = _mint(org.tenant_id, user_id, ticket)
    altered = good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB")
    agent = org.members["agent"]
    agent_ticket = _ticket_for(client, org, agent.user_id)
    answers = {
        "altered": _exchange(client, altered),
        "expired": _exchange(client, _mint(org.tenant_id, user_id, ticket, ttl=-1)),
        "another generation": _exchange(
            client, _mint(org.tenant_id, user_id, ticket, generation=1)
        ),
        "staff": _exchange(client, _mint(org.tenant_id, agent.user_id, agent_ticket)),
    }
    shapes = {k: (r.status_code, r.json()["errors"]) for k, r in answers.items()}
    assert len(set(map(repr, shapes.values()))) == 1, shapes
    assert shapes["staff"][0] == 401 and shapes["staff"][1][0]["field"] == "token"
    # A genuine link to a ticket that is not (or no longer) theirs opens nothing: the scope's
    # ticket still passes the visibility rule on every request.
    theirs_not = _ticket_for(client, org, agent.user_id)
    session = _exchange(client, _mint(org.tenant_id, user_id, theirs_not))
    assert session.status_code == 200
    shown = client.get(f"/v1/tickets/{theirs_not}", headers=_bearer(session.json()["access_token"]))
    assert shown.status_code == 404


def test_a_link_expires_by_its_own_clock(client, org, scoped):
    token = _mint(org.tenant_id, scoped["user_id"], scoped["ticket"], ttl=3600)
    with db.transaction() as session:
        granted = magic.exchange(session, token=token, settings=get_settings(), request_id=None)
        assert granted.ticket_id == uuid.UUID(scoped["ticket"])
    with pytest.raises(Unauthorized), db.transaction() as session:
        magic.exchange(
            session,
            token=token,
            settings=get_settings(),
            request_id=None,
            now=time.time() + 3601,
        )


def test_a_scoped_token_of_someone_now_staff_is_refused(client, org, scoped):
    _owner(
        "UPDATE memberships SET role = 'agent' WHERE tenant_id = %s AND user_id = %s",
        org.tenant_id,
        scoped["user_id"],
    )
    refused = client.get(f"/v1/tickets/{scoped['ticket']}", headers=scoped["headers"])
    assert refused.status_code == 401


def test_setting_a_password_ends_the_links_and_the_person_signs_in(client, org, scoped):
    email = scoped["body"]["email"]
    link = _mint(org.tenant_id, scoped["user_id"], scoped["ticket"])
    weak = client.post("/v1/auth/magic/password", headers=scoped["headers"], json={"password": "x"})
    assert weak.status_code == 422
    done = client.post(
        "/v1/auth/magic/password", headers=scoped["headers"], json={"password": PASSWORD}
    )
    assert done.status_code == 204, done.text
    assert _exchange(client, link).status_code == 401  # generation 0 is over
    fresh = _mint(org.tenant_id, scoped["user_id"], scoped["ticket"], generation=1)
    assert _exchange(client, fresh).status_code == 401  # has a password: signs in instead
    signed_in = login(client, email)
    assert signed_in.status_code == 200
    full = _bearer(signed_in.json()["access_token"])
    assert client.get("/v1/tickets", headers=full).status_code == 200
    # A full session cannot use the scoped endpoint to change a password without proof.
    refused = client.post("/v1/auth/magic/password", headers=full, json={"password": PASSWORD})
    assert refused.status_code == 403


def test_the_websocket_and_other_non_http_paths_refuse_a_scoped_token(client, scoped):
    claims = verify_token(scoped["headers"]["Authorization"].split()[1])
    assert claims.ticket_scope == uuid.UUID(scoped["ticket"])
    # The API Gateway authorizer hands the scope on to the functions.
    assert claims.from_context(claims.to_context()) == claims
    with pytest.raises(Unauthorized), db.transaction() as session:
        resolve_principal(session, claims)  # what $connect calls: no scope allowed
