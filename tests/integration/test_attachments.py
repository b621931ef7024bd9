"""Attachments over real HTTP against the AWS emulator: the browser posts the file to S3 with
the presigned form, we check what arrived, and downloads are gated by ticket visibility.

moto (5.x) accepts every presigned POST whatever its policy says, and serves presigned
GETs after they expire or were altered: S3 refusing them is tested against LocalStack
(tests/localstack/test_attachments_s3.py). Here the policy we sign is asserted field by
field, and our own completion checks are tested with the uploads moto lets through.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from local.app import load_function
from servicedesk.attachments import magic
from servicedesk.attachments.cleanup import run_cleanup
from servicedesk.platform import storage
from servicedesk.platform.aws import reset as reset_aws_clients
from servicedesk.platform.config import get_settings
from tests.conftest import make_tenant
from tests.events import authorize_request, invoke, load_event, set_header, set_json_body
from tests.integration.test_lambda_handlers import body_json, body_text

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(200))
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 120 + b"This program cannot be run in DOS mode."


# --- fixtures and helpers --------------------------------------------------------------------


@pytest.fixture(scope="module", autouse=True)
def bucket(aws_endpoint: str, database: Any) -> str:
    from local import aws

    reset_aws_clients()  # a client made before the emulator started would miss it
    name = get_settings().attachments_bucket
    aws.ensure_bucket(name, cors_origin=get_settings().web_origin)
    return name


@pytest.fixture
def org(client):
    return make_tenant(client, roles=("agent", "requester"))


def _ticket(client, actor) -> dict[str, Any]:
    response = client.post("/v1/tickets", json={"title": "Screen flickers"}, headers=actor.headers)
    assert response.status_code == 201, response.text
    return response.json()


def _start(
    client, actor, ticket_id, *, filename="shot.png", content_type="image/png", size=None, **extra
):
    body = {
        "filename": filename,
        "content_type": content_type,
        "size": len(PNG) if size is None else size,
        **extra,
    }
    return client.post(f"/v1/tickets/{ticket_id}/attachments", json=body, headers=actor.headers)


def _post_form(upload: dict[str, Any], content: bytes, **field_overrides: str) -> httpx.Response:
    """What a browser does with the form: multipart/form-data, the file last."""
    fields = {**upload["fields"], **field_overrides}
    return httpx.post(
        upload["url"],
        data=fields,
        files={"file": ("blob", content, fields.get("Content-Type", "application/octet-stream"))},
        headers={"Origin": get_settings().web_origin},
    )


def _complete(client, actor, attachment_id, **headers):
    return client.post(
        f"/v1/attachments/{attachment_id}/complete", headers={**actor.headers, **headers}
    )


def _attach(client, actor, ticket_id, content=PNG, **start) -> dict[str, Any]:
    started = _start(client, actor, ticket_id, size=len(content), **start)
    assert started.status_code == 201, started.text
    assert _post_form(started.json()["upload"], content).status_code in (200, 201, 204)
    done = _complete(client, actor, started.json()["attachment"]["id"])
    assert done.status_code == 200, done.text
    return dict(done.json())


def _row(database, attachment_id) -> dict[str, Any]:
    with database.connect("owner") as conn:
        cursor = conn.execute("SELECT * FROM attachments WHERE id = %s", (attachment_id,))
        names = [c.name for c in cursor.description]
        row = cursor.fetchone()
    assert row is not None
    return dict(zip(names, row, strict=True))


def _count(database, where="true", params=()) -> int:
    with database.connect("owner") as conn:
        return int(
            conn.execute(f"SELECT count(*) FROM attachments WHERE {where}", params).fetchone()[0]
        )


def _object_exists(key: str) -> bool:
    return storage.head(key) is not None


def _problem(response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return dict(response.json())


def _fields(problem: dict[str, Any]) -> set[str]:
    return {e["field"] for e in problem.get("errors", [])}


def _internal_note(client, agent, ticket_id) -> dict[str, Any]:
    response = client.post(
        f"/v1/tickets/{ticket_id}/comments",
        json={"body": "Root cause: the driver", "visibility": "internal"},
        headers=agent.headers,
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


# --- the happy path, over real HTTP ------------------------------------------------------


def test_browser_form_upload_then_complete_then_download(client, org, database):
    requester = org.members["requester"]
    ticket = _ticket(client, requester)

    started = _start(client, requester, ticket["id"])
    assert started.status_code == 201, started.text
    attachment, upload = started.json()["attachment"], started.json()["upload"]
    assert attachment["status"] == "pending" and attachment["size"] == len(PNG)
    assert upload["fields"]["Content-Type"] == "image/png"
    key = upload["fields"]["key"]
    assert key.startswith(f"t/{org.tenant_id}/{ticket['id']}/") and "shot" not in key

    posted = _post_form(upload, PNG)
    assert posted.status_code == 204, posted.text
    # CORS for the web origin, so a browser may read the answer.
    assert posted.headers.get("access-control-allow-origin") in (get_settings().web_origin, "*")

    done = _complete(client, requester, attachment["id"])
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "available"
    assert done.json()["sha256"] == hashlib.sha256(PNG).hexdigest()
    assert _row(database, attachment["id"])["version_id"]  # pinned: the bucket is versioned

    listed = client.get(f"/v1/tickets/{ticket['id']}/attachments", headers=requester.headers)
    assert [a["id"] for a in listed.json()["items"]] == [attachment["id"]]

    link = client.get(f"/v1/attachments/{attachment['id']}/download", headers=requester.headers)
    assert link.status_code == 200, link.text
    assert link.headers["cache-control"] == "no-store"
    fetched = httpx.get(link.json()["url"])
    assert fetched.status_code == 200
    assert fetched.content == PNG
    assert fetched.headers["content-type"] == "image/png"
    assert fetched.headers["content-disposition"] == (
        "attachment; filename=\"shot.png\"; filename*=UTF-8''shot.png"
    )

    events = client.get(f"/v1/tickets/{ticket['id']}/events", headers=requester.headers).json()
    added = [e for e in events["items"] if e["type"] == "attachment_added"]
    assert added and added[0]["payload"]["attachment_id"] == attachment["id"]


def test_upload_policy_pins_key_type_exact_size_and_expiry(client, org, bucket):
    requester = org.members["requester"]
    ticket = _ticket(client, requester)
    started = _start(
        client, requester, ticket["id"], filename="notes.txt", content_type="text/plain", size=42
    )
    upload = started.json()["upload"]

    policy = json.loads(base64.b64decode(upload["fields"]["policy"]))

    conditions = policy["conditions"]
    assert {"Content-Type": "text/plain"} in conditions
    assert ["content-length-range", 42, 42] in conditions
    assert {"key": upload["fields"]["key"]} in conditions
    assert {"bucket": bucket} in conditions
    assert upload["fields"]["x-amz-algorithm"] == "AWS4-HMAC-SHA256"
    expiration = datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00"))
    assert timedelta(seconds=290) < expiration - datetime.now(UTC) <= timedelta(seconds=300)
    assert abs(datetime.fromisoformat(upload["expires_at"]) - expiration) < timedelta(seconds=2)


# --- what the completion checks refuse ---------------------------------------------------


def test_png_named_executable_is_rejected_at_complete_and_deleted(client, org, database):
    requester = org.members["requester"]
    ticket = _ticket(client, requester)
    started = _start(client, requester, ticket["id"], filename="cat.png", size=len(EXE))
    attachment_id, key = (
        started.json()["attachment"]["id"],
        started.json()["upload"]["fields"]["key"],
    )
    assert _post_form(started.json()["upload"], EXE).status_code == 204
    assert _object_exists(key)

    problem = _problem(_complete(client, requester, attachment_id), 422)

    assert _fields(problem) == {"content_type"}
    assert "Windows executable" in problem["detail"]
    assert not _object_exists(key)
    row = _row(database, attachment_id)
    assert row["status"] == "rejected" and row["object_removed_at"] is not None
    assert row["sha256"] is None
    # Never listed, never downloadable, and it cannot be completed again.
    assert (
        client.get(f"/v1/tickets/{ticket['id']}/attachments", headers=requester.headers).json()[
            "items"
        ]
        == []
    )
    _problem(
        client.get(f"/v1/attachments/{attachment_id}/download", headers=requester.headers), 404
    )
    _problem(_complete(client, requester, attachment_id), 409)


def test_oversize_upload_that_s3_let_through_is_rejected_at_complete(client, org, database):
    requester = org.members["requester"]
    ticket = _ticket(client, requester)
    started = _start(client, requester, ticket["id"])
    upload = started.json()["upload"]
    _post_form(upload, PNG + b"a few more bytes than declared")

    problem = _problem(_complete(client, requester, started.json()["attachment"]["id"]), 422)

    assert _fields(problem) == {"size"}
    assert not _object_exists(upload["fields"]["key"])


def test_wrong_type_upload_that_s3_let_through_is_rejected_at_complete(client, org, database):
    requester = org.members["requester"]
    ticket = _ticket(client, requester)
    started = _start(client, requester, ticket["id"])
    upload = started.json()["upload"]
    _post_form(upload, PNG, **{"Content-Type": "text/html"})

    problem = _problem(_complete(client, requester, started.json()["attachment"]["id"]), 422)

    assert _fields(problem) == {"content_type"}
    assert "text/html" in problem["detail"]


@pytest.mark.parametrize(
    ("content_type", "content", "reason"),
    [
        ("text/plain", b"<!DOCTYPE html><script>alert(1)</script>", "markup"),
        ("text/plain", b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>', "markup"),
        ("text/csv", b"a,b\n" + b"x" * 2000 + b"\xff\xfe", "UTF-8"),
        ("text/plain", b"hello\x00world", "NUL"),
        ("application/pdf", PNG, "not application/pdf"),
        ("image/jpeg", b"\x7fELF\x02\x01\x01" + b"\x00" * 64, "ELF"),
    ],
)
def test_content_must_match_the_declared_type(client, org, content_type, content, reason):
    requester = org.members["requester"]
    ticket = _ticket(client, requester)
    started = _start(
        client, requester, ticket["id"], filename="f", content_type=content_type, size=len(content)
    )
    _post_form(started.json()["upload"], content)

    problem = _problem(_complete(client, requester, started.json()["attachment"]["id"]), 422)

    assert reason in problem["detail"]


def test_text_and_office_documents_are_accepted(client, org):
    requester = org.members["requester"]
    ticket = _ticket(client, requester)
    csv = "name,city\nRenée,Zürich\n".encode()
    docx = b"PK\x03\x04\x14\x00\x06\x00" + b"[Content_Types].xml" + b"\x00" * 40
    xls = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100

    for content, content_type in (
        (csv, "text/csv"),
        (docx, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        (xls, "application/vnd.ms-excel"),
    ):
        done = _attach(
            client, requester, ticket["id"], content, filename="f", content_type=content_type
        )
        assert done["sha256"] == hashlib.sha256(content).hexdigest()


def test_completing_twice_is_409_and_someone_elses_upload_is_404(client, org, database):
    requester, agent = org.members["requester"], org.members["agent"]
    ticket = _ticket(client, requester)
    started = _start(client, requester, ticket["id"])
    attachment_id = started.json()["attachment"]["id"]
    _post_form(started.json()["upload"], PNG)

    # The agent sees the ticket, but the upload is not theirs to complete.
    _problem(_complete(client, agent, attachment_id), 404)
    assert _row(database, attachment_id)["status"] == "pending"

    assert _complete(client, requester, attachment_id).status_code == 200
    assert _problem(_complete(client, requester, attachment_id), 409)["detail"].endswith(
        "available"
    )


def test_completing_before_the_upload_is_409_and_can_be_retried(client, org, database):
    requester = org.members["requester"]
    ticket = _ticket(client, requester)
    started = _start(client, requester, ticket["id"])
    attachment_id = started.json()["attachment"]["id"]

    assert "file" in _fields(_problem(_complete(client, requester, attachment_id), 409))
    assert _row(database, attachment_id)["status"] == "pending"

    _post_form(started.json()["upload"], PNG)
    assert _complete(client, requester, attachment_id).status_code == 200


def test_a_retried_rejection_replays_the_same_answer(client, org, database):
    requester = org.members["requester"]
    ticket = _ticket(client, requester)
    started = _start(client, requester, ticket["id"], size=len(EXE))
    _post_form(started.json()["upload"], EXE)
    attachment_id = started.json()["attachment"]["id"]

    first = _complete(client, requester, attachment_id, **{"Idempotency-Key": "complete-1234"})
    again = _complete(client, requester, attachment_id, **{"Idempotency-Key": "complete-1234"})

    assert first.status_code == again.status_code == 422
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    # A stored problem replays as a problem, not as plain JSON.
    assert first.headers["content-type"] == again.headers["content-type"]
    assert again.headers["content-type"] == "application/problem+json"


def test_create_with_an_idempotency_key_replays_the_form(client, org, database):
    requester = org.members["requester"]
    ticket = _ticket(client, requester)
    headers = {**requester.headers, "Idempotency-Key": "upload-form-1"}
    body = {"filename": "a.png", "content_type": "image/png", "size": 10}
    path = f"/v1/tickets/{ticket['id']}/attachments"

    first = client.post(path, json=body, headers=headers)
    again = client.post(path, json=body, headers=headers)

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert _count(database, "ticket_id = %s", (ticket["id"],)) == 1


# --- who may see what --------------------------------------------------------------------


def test_download_by_another_requester_is_404(client, org, database):
    requester = org.members["requester"]
    ticket = _ticket(client, requester)
    attachment = _attach(client, requester, ticket["id"])
    peer = make_tenant(client, roles=("requester",)).members["requester"]  # another tenant
    colleague = _colleague(client, org)

    for other in (colleague, peer):
        problem = _problem(
            client.get(f"/v1/attachments/{attachment['id']}/download", headers=other.headers), 404
        )
        assert problem["detail"] == "no such attachment"
        _problem(client.get(f"/v1/tickets/{ticket['id']}/attachments", headers=other.headers), 404)
        _problem(client.delete(f"/v1/attachments/{attachment['id']}", headers=other.headers), 404)
    # Staff of the tenant may download it.
    agent = org.members["agent"]
    assert (
        client.get(
            f"/v1/attachments/{attachment['id']}/download", headers=agent.headers
        ).status_code
        == 200
    )


def _colleague(client, org):
    from tests.conftest import PASSWORD, Actor, login

    email = f"colleague-{uuid.uuid4().hex[:6]}@{org.slug}.example"
    created = client.post(
        "/v1/users",
        headers=org.admin.headers,
        json={"email": email, "name": "Colleague", "role": "requester", "password": PASSWORD},
    )
    assert created.status_code == 201, created.text
    token = login(client, email).json()["access_token"]
    return Actor(email, created.json()["id"], org.tenant_id, org.slug, "requester", token)


def test_internal_note_attachment_is_invisible_to_the_requester(client, org):
    requester, agent = org.members["requester"], org.members["agent"]
    ticket = _ticket(client, requester)
    note = _internal_note(client, agent, ticket["id"])
    attachment = _attach(
        client,
        agent,
        ticket["id"],
        comment_id=note["id"],
        filename="logs.txt",
        content_type="text/plain",
        content=b"kernel: oops\n",
    )
    public = _attach(client, requester, ticket["id"])

    def listed(actor, path=f"/v1/tickets/{ticket['id']}/attachments"):
        response = client.get(path, headers=actor.headers)
        assert response.status_code == 200, response.text
        return {a["id"] for a in response.json()["items"]}

    assert listed(requester) == {public["id"]}
    assert listed(agent) == {public["id"], attachment["id"]}
    note_path = f"/v1/tickets/{ticket['id']}/comments/{note['id']}/attachments"
    assert listed(agent, note_path) == {attachment["id"]}
    _problem(client.get(note_path, headers=requester.headers), 404)
    _problem(
        client.get(f"/v1/attachments/{attachment['id']}/download", headers=requester.headers), 404
    )
    events = client.get(f"/v1/tickets/{ticket['id']}/events", headers=requester.headers).json()[
        "items"
    ]
    seen = {e["payload"].get("attachment_id") for e in events if e["type"] == "attachment_added"}
    assert seen == {public["id"]}
    # Nor can the requester hang a file on the note.
    problem = _problem(_start(client, requester, ticket["id"], comment_id=note["id"]), 422)
    assert _fields(problem) == {"comment_id"}


def test_files_on_a_comment_are_its_authors(client, org):
    requester, agent = org.members["requester"], org.members["agent"]
    ticket = _ticket(client, requester)
    reply = client.post(
        f"/v1/tickets/{ticket['id']}/comments",
        json={"body": "see attached"},
        headers=requester.headers,
    ).json()

    attached = _attach(client, requester, ticket["id"], comment_id=reply["id"])

    path = f"/v1/tickets/{ticket['id']}/comments/{reply['id']}/attachments"
    assert [a["id"] for a in client.get(path, headers=agent.headers).json()["items"]] == [
        attached["id"]
    ]
    assert attached["comment_id"] == reply["id"]
    _problem(_start(client, agent, ticket["id"], comment_id=reply["id"]), 403)


# --- download links ------------------------------------------------------------------------


def test_download_links_are_short_lived_and_never_inline_active_content(client, org):
    requester = org.members["requester"]
    ticket = _ticket(client, requester)
    text = _attach(
        client,
        requester,
        ticket["id"],
        b"plain words\n",
        filename="Résumé «final» v2.txt",
        content_type="text/plain",
    )

    link = client.get(f"/v1/attachments/{text['id']}/download", headers=requester.headers).json()

    query = parse_qs(urlparse(link["url"]).query)
    assert query["X-Amz-Expires"] == [str(storage.DOWNLOAD_TTL_SECONDS)] == ["60"]
    expires_at = datetime.fromisoformat(link["expires_at"])
    assert timedelta(seconds=50) < expires_at - datetime.now(UTC) <= timedelta(seconds=60)
    fetched = httpx.get(link["url"])
    assert fetched.headers["content-type"] == "application/octet-stream"
    assert fetched.headers["content-disposition"] == (
        'attachment; filename="Resume final v2.txt"; '
        "filename*=UTF-8''R%C3%A9sum%C3%A9%20%C2%ABfinal%C2%BB%20v2.txt"
    )


def test_a_second_post_with_the_form_cannot_swap_the_checked_file(client, org):
    """The form stays valid for minutes after completion; downloads are pinned to the
    object version that was checked, so an executable posted afterwards is never served."""
    requester = org.members["requester"]
    ticket = _ticket(client, requester)
    started = _start(client, requester, ticket["id"])
    _post_form(started.json()["upload"], PNG)
    attachment_id = started.json()["attachment"]["id"]
    assert _complete(client, requester, attachment_id).status_code == 200

    assert _post_form(started.json()["upload"], EXE).status_code == 204  # moto lets it in

    link = client.get(f"/v1/attachments/{attachment_id}/download", headers=requester.headers)
    assert httpx.get(link.json()["url"]).content == PNG


def test_a_file_whose_object_is_gone_downloads_as_a_clean_410(client, org, database):
    """The database says `available` but the bytes are gone (removed behind our back, or
    an emulator that lost its state): the API answers a problem, never a link to S3's own
    XML error. Both ways an object goes: its pinned version deleted, and the whole key."""
    requester = org.members["requester"]
    ticket = _ticket(client, requester)
    for remove in ("version", "key"):
        attachment = _attach(client, requester, ticket["id"])
        row = _row(database, attachment["id"])
        assert (
            client.get(
                f"/v1/attachments/{attachment['id']}/download", headers=requester.headers
            ).status_code
            == 200
        )
        s3 = storage.client()
        if remove == "version":
            s3.delete_object(
                Bucket=storage.bucket(), Key=row["object_key"], VersionId=row["version_id"]
            )
        else:
            versions = s3.list_object_versions(Bucket=storage.bucket(), Prefix=row["object_key"])
            for version in versions.get("Versions", []) + versions.get("DeleteMarkers", []):
                s3.delete_object(
                    Bucket=storage.bucket(), Key=row["object_key"], VersionId=version["VersionId"]
                )
        gone = client.get(f"/v1/attachments/{attachment['id']}/download", headers=requester.headers)
        problem = _problem(gone, 410)
        assert problem["type"].endswith("/gone") and problem["attachment_id"] == attachment["id"]
        assert gone.headers["content-type"].startswith("application/problem+json")
        # Still listed (the database row is unchanged), still a 404 for who may not see it.
        outsider = make_tenant(client).members["requester"]
        _problem(
            client.get(f"/v1/attachments/{attachment['id']}/download", headers=outsider.headers),
            404,
        )


@pytest.mark.parametrize(
    ("content_type", "served"),
    [
        ("image/png", "image/png"),
        ("application/pdf", "application/pdf"),
        ("text/plain", "application/octet-stream"),
        ("text/html", "application/octet-stream"),
        ("image/svg+xml", "application/octet-stream"),
        ("application/zip", "application/octet-stream"),
    ],
)
def test_only_safe_types_keep_their_type_when_served(content_type, served):
    assert storage.served_type(content_type) == served


@pytest.mark.parametrize(
    ("declared", "head", "ok"),
    [
        ("image/png", PNG, True),
        ("image/gif", b"GIF89a....", True),
        ("image/webp", b"RIFF\x00\x00\x00\x00WEBPVP8 ", True),
        ("image/webp", b"RIFF\x00\x00\x00\x00WAVEfmt ", False),
        ("application/zip", b"PK\x03\x04rest", True),
        ("application/msword", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", True),
        ("text/plain", "ünïcödé ✓".encode(), True),
        ("text/plain", "ü".encode()[:1], True),  # a character cut by the sniff window
        ("text/plain", b"#!/bin/sh\nrm -rf /", False),
        ("text/plain", b"  <svg onload=alert(1)>", False),
        ("image/png", b"\xcf\xfa\xed\xfe\x07\x00\x00\x01", False),
        ("image/svg+xml", b"<svg/>", False),
    ],
)
def test_magic_bytes(declared, head, ok):
    assert (magic.mismatch(declared, head) is None) is ok


# --- bad input: 4xx naming the field, nothing written -----------------------------------


@pytest.mark.parametrize(
    ("overrides", "field", "status"),
    [
        ({"size": 0}, "size", 422),
        ({"size": -5}, "size", 422),
        ({"size": 25 * 1024 * 1024 + 1}, "size", 422),
        ({"size": "big"}, "size", 422),
        ({"content_type": "text/html"}, "content_type", 422),
        ({"content_type": "image/svg+xml"}, "content_type", 422),
        ({"content_type": "application/x-msdownload"}, "content_type", 422),
        ({"filename": "../../etc/passwd"}, "filename", 422),
        ({"filename": "dir\\evil.png"}, "filename", 422),
        ({"filename": "a\x00b.png"}, "filename", 422),
        ({"filename": "line\nbreak.png"}, "filename", 422),
        ({"filename": "invoice\u202egnp.exe"}, "filename", 422),
        ({"filename": "é" * 128}, "filename", 422),
        ({"filename": ".."}, "filename", 422),
        ({"filename": ""}, "filename", 422),
        ({"comment_id": str(uuid.uuid4())}, "comment_id", 422),
        ({"surprise": 1}, "surprise", 422),
    ],
)
def test_bad_upload_requests_name_the_field_and_write_nothing(
    client, org, database, overrides, field, status
):
    requester = org.members["requester"]
    ticket = _ticket(client, requester)
    before = _count(database)
    audit_before = _audit_count(database, org.tenant_id)

    problem = _problem(_start(client, requester, ticket["id"], **overrides), status)

    assert field in _fields(problem)
    assert _count(database) == before
    assert _audit_count(database, org.tenant_id) == audit_before


def _audit_count(database, tenant_id) -> int:
    with database.connect("owner") as conn:
        return int(
            conn.execute(
                "SELECT count(*) FROM audit_log WHERE tenant_id = %s AND action LIKE 'attachment.%%'",
                (tenant_id,),
            ).fetchone()[0]
        )


def test_a_filename_of_255_utf8_bytes_is_fine(client, org):
    requester = org.members["requester"]
    ticket = _ticket(client, requester)
    name = "é" * 127 + "x"  # 255 bytes
    assert _start(client, requester, ticket["id"], filename=name).status_code == 201


def test_another_tenants_ticket_is_404_and_nothing_is_written(client, org, database):
    other = make_tenant(client, roles=("requester",)).members["requester"]
    ticket = _ticket(client, other)
    before = _count(database)

    _problem(_start(client, org.members["requester"], ticket["id"]), 404)

    assert _count(database) == before


def test_tenant_limits_are_settings_with_an_etag(client, org, database):
    admin, requester = org.admin, org.members["requester"]
    ticket = _ticket(client, requester)
    current = client.get("/v1/settings/attachments", headers=requester.headers)
    assert current.status_code == 200
    assert current.json()["max_size_bytes"] == 25 * 1024 * 1024
    assert current.json()["max_per_ticket"] == 50
    assert "image/png" in current.json()["allowed_types"]
    limits = {
        "max_size_bytes": 1000,
        "max_per_ticket": 2,
        "allowed_types": ["image/png", "text/plain"],
    }

    _problem(client.put("/v1/settings/attachments", json=limits, headers=admin.headers), 428)
    _problem(
        client.put(
            "/v1/settings/attachments",
            json=limits,
            headers={**requester.headers, "If-Match": current.headers["etag"]},
        ),
        403,
    )
    _problem(
        client.put(
            "/v1/settings/attachments",
            json={**limits, "allowed_types": ["text/html"]},
            headers={**admin.headers, "If-Match": current.headers["etag"]},
        ),
        422,
    )
    saved = client.put(
        "/v1/settings/attachments",
        json=limits,
        headers={**admin.headers, "If-Match": current.headers["etag"]},
    )
    assert saved.status_code == 200, saved.text
    _problem(
        client.put(
            "/v1/settings/attachments",
            json=limits,
            headers={**admin.headers, "If-Match": current.headers["etag"]},
        ),
        412,
    )

    assert "size" in _fields(_problem(_start(client, requester, ticket["id"], size=1001), 422))
    assert "content_type" in _fields(
        _problem(_start(client, requester, ticket["id"], content_type="application/pdf"), 422)
    )
    assert _start(client, requester, ticket["id"]).status_code == 201
    assert _start(client, requester, ticket["id"]).status_code == 201
    problem = _problem(_start(client, requester, ticket["id"]), 409)
    assert _fields(problem) == {"ticket_id"}
    assert _count(database, "ticket_id = %s", (ticket["id"],)) == 2


# --- delete and cleanup ----------------------------------------------------------------------


def test_delete_tombstones_then_the_cleanup_job_removes_the_object(client, org, database):
    requester, agent = org.members["requester"], org.members["agent"]
    ticket = _ticket(client, requester)
    mine = _attach(client, requester, ticket["id"])
    staff_removes = _attach(client, requester, ticket["id"])
    colleague = _colleague(client, org)
    key = _row(database, mine["id"])["object_key"]

    _problem(client.delete(f"/v1/attachments/{mine['id']}", headers=colleague.headers), 404)
    gone = client.delete(f"/v1/attachments/{mine['id']}", headers=requester.headers)
    assert gone.status_code == 200, gone.text
    assert gone.json()["status"] == "deleted" and gone.json()["deleted_at"]
    assert (
        client.delete(f"/v1/attachments/{staff_removes['id']}", headers=agent.headers).status_code
        == 200
    )

    assert (
        client.get(f"/v1/tickets/{ticket['id']}/attachments", headers=requester.headers).json()[
            "items"
        ]
        == []
    )
    _problem(client.get(f"/v1/attachments/{mine['id']}/download", headers=requester.headers), 404)
    _problem(client.delete(f"/v1/attachments/{mine['id']}", headers=requester.headers), 404)
    with database.connect("owner") as conn:
        payload = conn.execute(
            "SELECT payload FROM outbox WHERE event_type = 'attachment.deleted' AND aggregate_id = %s",
            (mine["id"],),
        ).fetchone()[0]
    assert payload["object_key"] == key
    events = client.get(f"/v1/tickets/{ticket['id']}/events", headers=requester.headers).json()[
        "items"
    ]
    assert {e["payload"]["attachment_id"] for e in events if e["type"] == "attachment_removed"} == {
        mine["id"],
        staff_removes["id"],
    }
    assert _object_exists(key)  # removed asynchronously

    result = _run_cleanup_handler()

    assert result["removed"] >= 2 and result["failed_tenants"] == []
    assert not _object_exists(key)
    assert _row(database, mine["id"])["object_removed_at"] is not None


def test_cleanup_removes_uploads_left_pending_past_expiry(client, org, database):
    requester = org.members["requester"]
    ticket = _ticket(client, requester)
    abandoned = _start(client, requester, ticket["id"])
    fresh = _start(client, requester, ticket["id"])
    _post_form(abandoned.json()["upload"], PNG)
    abandoned_id = abandoned.json()["attachment"]["id"]
    with database.connect("owner") as conn:
        conn.execute(
            "UPDATE attachments SET expires_at = now() - interval '1 hour' WHERE id = %s",
            (abandoned_id,),
        )
        conn.commit()

    result = _run_cleanup_handler()

    assert result["expired"] >= 1
    row = _row(database, abandoned_id)
    assert row["status"] == "deleted" and row["object_removed_at"] is not None
    assert not _object_exists(row["object_key"])
    assert _row(database, fresh.json()["attachment"]["id"])["status"] == "pending"
    _problem(_complete(client, requester, abandoned_id), 409)
    # A second run finds nothing more to do for it.
    assert run_cleanup(datetime.now(UTC)).failed_tenants == []


def _run_cleanup_handler() -> dict[str, Any]:
    from tests.events import FakeLambdaContext

    handler = load_function("attachment_cleanup")
    result: dict[str, Any] = handler.lambda_handler(
        load_event("eventbridge_scheduled_attachment_cleanup"), FakeLambdaContext()
    )
    return result


# --- the Lambda function, with a sample API Gateway event -------------------------------------


@pytest.fixture(scope="module")
def attachments_function(database: Any) -> Any:
    return load_function("attachments")


def _authorized(authorizer, event: dict[str, Any], token: str, path: str) -> dict[str, Any]:
    """The sample event for ``path``, carrying what the authorizer answers for ``token``."""
    policy = authorize_request(authorizer, f"Bearer {token}")
    set_header(event, "Authorization", f"Bearer {token}")
    event["path"] = path
    event["requestContext"]["path"] = f"/prod{path}"
    event["requestContext"]["authorizer"] = {
        "principalId": policy["principalId"],
        "integrationLatency": 12,
        **policy["context"],
    }
    return event


def _download_event(authorizer, token: str, attachment_id: str) -> dict[str, Any]:
    event = load_event("apigw_rest_get_attachment_download")
    event["pathParameters"] = {"proxy": f"{attachment_id}/download"}
    return _authorized(authorizer, event, token, f"/v1/attachments/{attachment_id}/download")


def test_attachments_function_starts_an_upload_from_the_ticket_route(
    client, org, attachments_function, authorizer
):
    """API Gateway sends POST /v1/tickets/{id}/attachments to this function (not tickets)."""
    requester = org.members["requester"]
    ticket = _ticket(client, requester)
    event = load_event("apigw_rest_post_ticket_attachment")
    event["pathParameters"] = {"ticket_id": ticket["id"]}
    set_json_body(event, {"filename": "shot.png", "content_type": "image/png", "size": len(PNG)})
    path = f"/v1/tickets/{ticket['id']}/attachments"

    response = invoke(attachments_function, _authorized(authorizer, event, requester.token, path))

    assert response["statusCode"] == 201, body_text(response)
    started = body_json(response)
    assert started["attachment"]["status"] == "pending"
    assert started["attachment"]["ticket_id"] == ticket["id"]
    assert _post_form(started["upload"], PNG).status_code == 204
    done = client.post(
        f"/v1/attachments/{started['attachment']['id']}/complete", headers=requester.headers
    )
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "available"


def test_attachments_function_answers_a_gateway_event(
    client, org, attachments_function, authorizer
):
    requester = org.members["requester"]
    ticket = _ticket(client, requester)
    attachment = _attach(client, requester, ticket["id"])

    response = invoke(
        attachments_function, _download_event(authorizer, requester.token, attachment["id"])
    )

    assert response["statusCode"] == 200, body_text(response)
    link = body_json(response)
    assert httpx.get(link["url"]).content == PNG

    colleague = _colleague(client, org)
    refused = invoke(
        attachments_function, _download_event(authorizer, colleague.token, attachment["id"])
    )
    assert refused["statusCode"] == 404
    assert body_json(refused)["type"].endswith("/not-found")
