"""The dev mail viewer's API (local/devmail.py): only in the local runtime, only with a mail
catcher; members read what was sent to them, admins their tenant's, nobody another's."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import make_tenant, reset_caches


@pytest.fixture(scope="module")
def mail_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mail")


@pytest.fixture(scope="module")
def client(database: Any, mail_dir: Path) -> Iterator[Any]:
    """The local app built as `make dev` builds it: with the catcher directory set."""
    from local.app import build_app

    os.environ["SERVICEDESK_MAIL_CATCHER_DIR"] = str(mail_dir)
    reset_caches()
    try:
        with TestClient(build_app(), raise_server_exceptions=False) as test_client:
            yield test_client
    finally:
        del os.environ["SERVICEDESK_MAIL_CATCHER_DIR"]
        reset_caches()


def _send(mail_dir: Path, tenant_id: str, to: str, subject: str) -> None:
    """A message written by the real mailer, as the e-mail consumer writes them."""
    from servicedesk.notifications import mailer
    from servicedesk.notifications.templates import Rendered
    from servicedesk.platform.config import get_settings

    rendered = Rendered(
        subject=subject,
        title=subject,
        summary="summary",
        text=f"Plain words for {to}",
        html=f"<p style='color:red'>HTML words for {to}</p><script>alert(1)</script>",
    )
    outgoing = mailer.Outgoing(
        to=to,
        from_name="Servicedesk",
        rendered=rendered,
        event_type="comment.public",
        event_id=uuid.uuid4(),
        tenant_id=uuid.UUID(tenant_id),
    )
    message = mailer.build(outgoing, get_settings())
    mailer.catch(mail_dir, message, outgoing.event_type, to)


def test_members_see_their_mail_admins_their_tenants(client, mail_dir):
    org = make_tenant(client, roles=("agent", "requester"))
    other = make_tenant(client, roles=())
    requester, agent = org.members["requester"], org.members["agent"]
    _send(mail_dir, org.tenant_id, requester.email, "For the requester")
    _send(mail_dir, org.tenant_id, agent.email, "For the agent")
    _send(mail_dir, org.tenant_id, "newcomer@elsewhere.example", "An invitation")
    _send(mail_dir, other.tenant_id, other.admin.email, "Another tenant's")

    def subjects(actor: Any) -> set[str]:
        response = client.get("/v1/dev/mail", headers=actor.headers)
        assert response.status_code == 200, response.text
        return {item["subject"] for item in response.json()["items"]}

    assert subjects(requester) == {"For the requester"}
    assert subjects(agent) == {"For the agent"}
    assert subjects(org.admin) == {"For the requester", "For the agent", "An invitation"}
    assert subjects(other.admin) == {"Another tenant's"}

    listed = client.get("/v1/dev/mail", headers=org.admin.headers).json()["items"]
    names = {item["subject"]: item["name"] for item in listed}
    mine = names["For the requester"]
    raw = client.get(f"/v1/dev/mail/{mine}", headers=requester.headers)
    assert raw.status_code == 200 and "Subject: For the requester" in raw.text
    parts = client.get(f"/v1/dev/mail/{mine}/parts", headers=requester.headers)
    assert parts.status_code == 200, parts.text
    body = parts.json()
    assert f"Plain words for {requester.email}" in body["text"]
    # Sanitised on the way out (and again in the browser): words stay, the rest goes.
    assert f"<p>HTML words for {requester.email}</p>" in body["html"]
    assert "style" not in body["html"] and "script" not in body["html"]
    assert {h["name"] for h in body["headers"]} >= {"From", "To", "Subject", "Date"}

    # What the caller may not read is not there at all.
    for who, name in (
        (agent, mine),
        (other.admin, mine),
        (requester, names["An invitation"]),
    ):
        for suffix in ("", "/parts"):
            response = client.get(f"/v1/dev/mail/{name}{suffix}", headers=who.headers)
            assert response.status_code == 404, (who.email, suffix)
    for bad in ("..%2F..%2Fetc%2Fpasswd", "x.eml", "..%2Fmail%2F" + mine):
        assert client.get(f"/v1/dev/mail/{bad}", headers=org.admin.headers).status_code == 404
    assert client.get("/v1/dev/mail").status_code == 401


def test_paging_follows_the_cursor(client, mail_dir):
    org = make_tenant(client, roles=())
    for n in range(5):
        _send(mail_dir, org.tenant_id, org.admin.email, f"Message {n}")
    seen, cursor = [], None
    while True:
        params: dict[str, Any] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = client.get("/v1/dev/mail", params=params, headers=org.admin.headers).json()
        seen += [item["subject"] for item in page["items"]]
        cursor = page.get("next_cursor")
        if not cursor:
            break
    assert sorted(seen) == [f"Message {n}" for n in range(5)]


def test_only_the_local_runtime_with_a_catcher_has_it(client, database):
    """No Lambda function serves it, the OpenAPI document does not list it, and without a
    catcher directory the local app has no such route either."""
    from local.app import FUNCTIONS, build_app, load_function

    for handler in sorted(FUNCTIONS.glob("*/handler.py")):
        for router in getattr(load_function(handler.parent.name), "routers", ()):
            paths = [getattr(route, "path", "") for route in router.routes]
            assert not [p for p in paths if p.startswith("/v1/dev")], handler
    assert not [p for p in client.get("/openapi.json").json()["paths"] if "/dev/" in p]
    assert os.environ.get("SERVICEDESK_MAIL_CATCHER_DIR")
    saved = os.environ.pop("SERVICEDESK_MAIL_CATCHER_DIR")
    reset_caches()
    try:
        with TestClient(build_app(), raise_server_exceptions=False) as bare:
            org = make_tenant(bare, roles=())
            response = bare.get("/v1/dev/mail", headers=org.admin.headers)
            assert response.status_code == 404
    finally:
        os.environ["SERVICEDESK_MAIL_CATCHER_DIR"] = saved
        reset_caches()
