"""Attachments against LocalStack's S3: the upload form and the download links our service
issues are enforced by S3 itself, which moto does not do (it stores whatever is posted and
serves links after they expire or were altered). Everything goes through our code: the
API's form and links, or `platform.storage` with a shorter lifetime where waiting out
the real one would take minutes.
"""

from __future__ import annotations

import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlencode, urlparse, urlunparse

import httpx
import pytest

from servicedesk.platform import storage
from tests.integration.test_attachments import (  # the fixtures serve this module too
    PNG,
    _attach,
    _complete,
    _object_exists,
    _post_form,
    _problem,
    _row,
    _start,
    _ticket,
    bucket,
    org,
)

__all__ = ["bucket", "org"]


def _s3_error(response: httpx.Response) -> tuple[str, str]:
    """S3's error document: (Code, Message)."""
    document = ET.fromstring(response.content)
    return document.findtext("Code") or "", document.findtext("Message") or ""


def _started(client, actor, **start) -> tuple[str, dict]:
    """A pending attachment on a new ticket: (attachment id, the upload form we issued)."""
    started = _start(client, actor, _ticket(client, actor)["id"], **start)
    assert started.status_code == 201, started.text
    return started.json()["attachment"]["id"], started.json()["upload"]


def _download_link(client, actor) -> tuple[str, dict]:
    attachment = _attach(client, actor, _ticket(client, actor)["id"])
    link = client.get(f"/v1/attachments/{attachment['id']}/download", headers=actor.headers)
    assert link.status_code == 200, link.text
    return link.json()["url"], attachment


# --- the upload form --------------------------------------------------------------------


def test_the_form_we_issue_is_accepted_and_the_link_we_issue_serves_the_file(client, org):
    requester = org.members["requester"]
    url, attachment = _download_link(client, requester)

    assert dict(parse_qsl(urlparse(url).query))["X-Amz-Expires"] == str(
        storage.DOWNLOAD_TTL_SECONDS
    )
    fetched = httpx.get(url)
    assert fetched.status_code == 200, fetched.text
    assert fetched.content == PNG
    assert fetched.headers["content-type"] == "image/png"
    assert fetched.headers["content-disposition"].startswith('attachment; filename="shot.png"')
    assert attachment["status"] == "available"


def test_s3_refuses_an_upload_larger_than_declared(client, org):
    requester = org.members["requester"]
    attachment_id, upload = _started(client, requester)

    refused = _post_form(upload, PNG + b"one byte more than declared")

    assert refused.status_code == 400, refused.text
    assert _s3_error(refused)[0] == "EntityTooLarge"
    assert not _object_exists(upload["fields"]["key"])
    _problem(_complete(client, requester, attachment_id), 409)  # nothing was stored


def test_s3_refuses_an_upload_smaller_than_declared(client, org):
    _, upload = _started(client, org.members["requester"])

    refused = _post_form(upload, PNG[:-1])

    assert refused.status_code == 400, refused.text
    assert _s3_error(refused)[0] == "EntityTooSmall"
    assert not _object_exists(upload["fields"]["key"])


def test_s3_refuses_an_upload_with_another_content_type(client, org):
    requester = org.members["requester"]
    attachment_id, upload = _started(client, requester)

    refused = _post_form(upload, PNG, **{"Content-Type": "text/html"})

    assert refused.status_code == 403, refused.text
    code, message = _s3_error(refused)
    assert code == "AccessDenied" and "Policy Condition failed" in message
    assert not _object_exists(upload["fields"]["key"])
    _problem(_complete(client, requester, attachment_id), 409)


def test_s3_refuses_the_form_for_another_key(client, org):
    _, upload = _started(client, org.members["requester"])
    elsewhere = f"t/{uuid.uuid4()}/{uuid.uuid4()}/{'0' * 32}"  # another tenant's prefix

    refused = _post_form(upload, PNG, key=elsewhere)

    assert refused.status_code == 403, refused.text
    assert "Policy Condition failed" in _s3_error(refused)[1]
    assert not _object_exists(elsewhere)


def test_s3_refuses_a_form_after_it_expired(client, org):
    _, upload = _started(client, org.members["requester"])
    key = upload["fields"]["key"]
    short = storage.presign_upload(key, content_type="image/png", size=len(PNG), ttl=1)
    time.sleep(2)

    refused = _post_form({"url": short.url, "fields": short.fields}, PNG)

    assert refused.status_code == 403, refused.text
    assert "expired" in _s3_error(refused)[1].lower()
    assert not _object_exists(key)


# --- the download link ------------------------------------------------------------------


def test_s3_refuses_a_download_link_after_it_expired(client, org, database):
    requester = org.members["requester"]
    _, attachment = _download_link(client, requester)
    row = _row(database, attachment["id"])
    url, expires_at = storage.presign_download(
        row["object_key"],
        filename=row["filename"],
        content_type=row["content_type"],
        version_id=row["version_id"],
        ttl=5,
    )
    assert httpx.get(url).status_code == 200  # the same link, within its lifetime
    time.sleep(max(0.0, (expires_at - datetime.now(UTC)).total_seconds()) + 1.5)

    refused = httpx.get(url)

    assert refused.status_code == 403, refused.text
    assert "expired" in _s3_error(refused)[1].lower()


def _with_query(url: str, **changes: str) -> str:
    parts = urlparse(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    return urlunparse(parts._replace(query=urlencode({**query, **changes})))


def _with_path(url: str, path: str) -> str:
    return urlunparse(urlparse(url)._replace(path=path))


TAMPERINGS: dict[str, Callable[[str, str], str]] = {
    # Have our bucket serve the file as a page a browser renders.
    "served as html": lambda url, _: _with_query(
        url, **{"response-content-type": "text/html", "response-content-disposition": "inline"}
    ),
    # Keep a link working past its lifetime.
    "longer lifetime": lambda url, _: _with_query(url, **{"X-Amz-Expires": "604800"}),
    # Reach another file with this file's signature.
    "another key": lambda url, other: _with_path(url, urlparse(other).path),
    "altered signature": lambda url, _: _with_query(
        url,
        **{"X-Amz-Signature": "0" * 64},
    ),
}


@pytest.mark.parametrize("tampering", sorted(TAMPERINGS))
def test_s3_refuses_a_tampered_download_link(client, org, tampering):
    requester = org.members["requester"]
    url, _ = _download_link(client, requester)
    other, _ = _download_link(client, requester)
    assert httpx.get(other).status_code == 200

    refused = httpx.get(TAMPERINGS[tampering](url, other))

    assert refused.status_code == 403, refused.text
    assert _s3_error(refused)[0] in ("SignatureDoesNotMatch", "AccessDenied")
    assert httpx.get(url).status_code == 200  # the link as issued still works
