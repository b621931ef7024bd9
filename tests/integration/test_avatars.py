"""Avatars (issue 20 point 6): uploaded through the attachments pipeline (declared type and
size checked, bytes sniffed), set and removed on /v1/me/avatar, shown wherever a person is
listed with a name, public only by their random id, and per organisation."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from servicedesk.platform.aws import reset as reset_aws_clients
from servicedesk.platform.config import get_settings
from tests.conftest import make_tenant
from tests.unit.test_imagesize import png

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")

PNG = png(64, 64)
TEXT_NAMED_PNG = b"hello, I am not a picture" * 8


@pytest.fixture(scope="module", autouse=True)
def bucket(aws_endpoint: str, database: Any) -> str:
    from local import aws

    reset_aws_clients()
    name = get_settings().attachments_bucket
    aws.ensure_bucket(name, cors_origin=get_settings().web_origin)
    return name


@pytest.fixture
def org(client):
    return make_tenant(client, roles=("agent", "requester"))


def _fields(response: httpx.Response, status: int) -> set[str]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return {e["field"] for e in response.json().get("errors", [])}


def _upload(client, actor, content: bytes = PNG, content_type: str = "image/png"):
    started = client.post(
        "/v1/attachments/avatar",
        json={"filename": "me.png", "content_type": content_type, "size": len(content)},
        headers=actor.headers,
    )
    assert started.status_code == 201, started.text
    upload = started.json()["upload"]
    posted = httpx.post(
        upload["url"],
        data=upload["fields"],
        files={"file": ("blob", content, content_type)},
        headers={"Origin": get_settings().web_origin},
    )
    assert posted.status_code in (200, 201, 204), posted.text
    attachment_id = started.json()["attachment"]["id"]
    return attachment_id, client.post(
        f"/v1/attachments/{attachment_id}/complete", headers=actor.headers
    )


def _me(client, actor) -> dict[str, Any]:
    return dict(client.get("/v1/me", headers=actor.headers).json())


def test_an_avatar_is_uploaded_set_shown_and_removed(client, org):
    requester, agent = org.members["requester"], org.members["agent"]
    assert _me(client, requester)["user"]["avatar_url"] is None  # initials
    attachment_id, done = _upload(client, requester)
    assert done.status_code == 200, done.text
    assert (
        client.put(
            "/v1/me/avatar", json={"attachment_id": attachment_id}, headers=requester.headers
        ).status_code
        == 204
    )
    url = _me(client, requester)["user"]["avatar_url"]
    assert url == f"/v1/avatars/{attachment_id}"
    assert "avatar_attachment_id" not in _me(client, requester)["user"]
    # Where staff see the person with a name (the users list the web app resolves
    # requesters, assignees and comment authors with).
    listed = client.get("/v1/users", headers=agent.headers).json()["items"]
    assert {u["id"]: u["avatar_url"] for u in listed}[requester.user_id] == url
    one = client.get(f"/v1/users/{requester.user_id}", headers=agent.headers).json()
    assert one["avatar_url"] == url
    # The address works with no session (an <img>), and redirects to the bytes.
    redirect = client.get(url, follow_redirects=False)
    assert redirect.status_code == 302
    assert httpx.get(redirect.headers["location"]).content == PNG

    # A second one replaces the first, whose address stops answering.
    second, done = _upload(client, requester)
    assert done.status_code == 200
    assert (
        client.put(
            "/v1/me/avatar", json={"attachment_id": second}, headers=requester.headers
        ).status_code
        == 204
    )
    assert client.get(url, follow_redirects=False).status_code == 404
    assert client.delete("/v1/me/avatar", headers=requester.headers).status_code == 204
    assert _me(client, requester)["user"]["avatar_url"] is None
    assert client.get(f"/v1/avatars/{second}", follow_redirects=False).status_code == 404
    assert client.delete("/v1/me/avatar", headers=requester.headers).status_code == 204


def test_bad_type_size_and_content_name_the_field(client, org):
    requester = org.members["requester"]

    def start(**body: Any) -> httpx.Response:
        fields = {"filename": "me.png", "content_type": "image/png", "size": 100, **body}
        return client.post("/v1/attachments/avatar", json=fields, headers=requester.headers)

    assert _fields(start(content_type="image/svg+xml"), 422) == {"content_type"}
    assert _fields(start(content_type="application/pdf"), 422) == {"content_type"}
    assert _fields(start(size=2 * 1024 * 1024), 422) == {"size"}
    assert _fields(start(content_type="text/html", size=5_000_000), 422) == {"content_type", "size"}
    assert _fields(start(size=0), 422) == {"size"}
    # Declared a PNG, sent text: the sniffed bytes decide, and it is never usable.
    attachment_id, done = _upload(client, requester, TEXT_NAMED_PNG)
    assert done.status_code == 422, done.text
    # Not resized (the browser downscales to 256x256 first): refused from its header.
    too_big, refused_big = _upload(client, requester, png(257, 8))
    assert _fields(refused_big, 422) == {"file"}
    assert "257x8" in refused_big.json()["detail"]
    assert _fields(
        client.put("/v1/me/avatar", json={"attachment_id": too_big}, headers=requester.headers),
        422,
    ) == {"attachment_id"}
    refused = client.put(
        "/v1/me/avatar", json={"attachment_id": attachment_id}, headers=requester.headers
    )
    assert _fields(refused, 422) == {"attachment_id"}
    assert _fields(
        client.put("/v1/me/avatar", json={"attachment_id": "nope"}, headers=requester.headers),
        422,
    ) == {"attachment_id"}


def test_avatars_are_per_person_and_per_organisation(client, org):
    requester, agent = org.members["requester"], org.members["agent"]
    attachment_id, done = _upload(client, requester)
    assert done.status_code == 200
    # Someone else's upload is not theirs to wear, nor to complete.
    stolen = client.put(
        "/v1/me/avatar", json={"attachment_id": attachment_id}, headers=agent.headers
    )
    assert _fields(stolen, 422) == {"attachment_id"}
    other = make_tenant(client, roles=())
    elsewhere = client.put(
        "/v1/me/avatar", json={"attachment_id": attachment_id}, headers=other.admin.headers
    )
    assert _fields(elsewhere, 422) == {"attachment_id"}
    mine, done = _upload(client, other.admin)
    assert done.status_code == 200
    assert (
        client.put(
            "/v1/me/avatar", json={"attachment_id": mine}, headers=other.admin.headers
        ).status_code
        == 204
    )
    # Not set in this organisation: the other one's avatar is not shown here.
    assert _me(client, org.admin)["user"]["avatar_url"] is None
    # An unset upload has no public address; an unknown id neither.
    assert client.get(f"/v1/avatars/{attachment_id}", follow_redirects=False).status_code == 404
    assert client.get(f"/v1/avatars/{uuid.uuid4()}", follow_redirects=False).status_code == 404
    assert client.get("/v1/avatars/not-an-id").status_code == 422


def test_every_member_may_have_one_and_nobody_anonymous(client, org):
    for role in ("admin", "agent", "requester"):
        actor = org.members[role]
        assert client.delete("/v1/me/avatar", headers=actor.headers).status_code == 204
    assert client.delete("/v1/me/avatar").status_code == 401
    assert client.put("/v1/me/avatar", json={"attachment_id": str(uuid.uuid4())}).status_code == 401
    assert (
        client.post(
            "/v1/attachments/avatar",
            json={"filename": "a.png", "content_type": "image/png", "size": 10},
        ).status_code
        == 401
    )


def test_who_takes_part_in_a_ticket_is_named_with_their_picture(client, org):
    """The portal's conversation and the ticket's people (the requester may not list users)."""
    requester, agent = org.members["requester"], org.members["agent"]
    mine, done = _upload(client, agent)
    assert done.status_code == 200
    assert (
        client.put("/v1/me/avatar", json={"attachment_id": mine}, headers=agent.headers).status_code
        == 204
    )
    ticket = client.post(
        "/v1/tickets", json={"title": "Pictures"}, headers=requester.headers
    ).json()
    assigned = client.post(
        f"/v1/tickets/{ticket['id']}/assign",
        json={"assignee_id": agent.user_id},
        headers=agent.headers,
    )
    assert assigned.status_code == 200, assigned.text
    people = client.get(
        f"/v1/tickets/{ticket['id']}/participants", headers=requester.headers
    ).json()
    by_role = {p["role"]: p for p in people}
    assert by_role["assignee"]["avatar_url"] == f"/v1/avatars/{mine}"
    assert by_role["assignee"]["name"]
    assert by_role["requester"]["avatar_url"] is None
    assert by_role["requester"]["name"]
