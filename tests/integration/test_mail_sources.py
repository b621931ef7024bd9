"""The other doors for inbound mail, end to end over real sockets: provider hooks (Mailgun,
Postmark, SendGrid, generic) into the mail bucket and the intake queue on the moto server,
with their secrets in its Secrets Manager; IMAP polling against a scripted IMAP4rev1 server
over TLS from a test CA; and the admins' API for both (roles, isolation)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from servicedesk.mail import imap, inbox
from servicedesk.webhooks import signing
from tests.conftest import TenantFixture, make_tenant, reset_caches
from tests.imap_server import ImapServer, Store, make_pki

DOMAIN = "in.mailsrc.test"


def _mime(message_id: str, *, size: int = 0, return_path: str | None = None) -> bytes:
    head = f"Return-Path: <{return_path}>\r\n" if return_path is not None else ""
    body = "Hello from outside.\r\n" + ("x" * 76 + "\r\n") * (size // 78)
    return (
        f"{head}From: Ann Sender <ann@customer.example>\r\nTo: help@customer.example\r\n"
        f"Subject: printer\r\nMessage-ID: {message_id}\r\nDate: Sat, 05 Dec 2026 10:00:00 +0000"
        f"\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}"
    ).encode()


@pytest.fixture(scope="module")
def mail_aws(
    aws_endpoint: str, database: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """The mail bucket, the intake queue and the IMAP test CA, configured for the app."""
    s3 = boto3.client("s3", endpoint_url=aws_endpoint)
    sqs = boto3.client("sqs", endpoint_url=aws_endpoint)
    bucket = f"mail-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    queue_url = sqs.create_queue(QueueName=f"intake-{uuid.uuid4().hex[:12]}")["QueueUrl"]
    pki = make_pki(tmp_path_factory.mktemp("imap-pki"))
    env = {
        "SERVICEDESK_EMAIL_INBOUND_BUCKET": bucket,
        "SERVICEDESK_EMAIL_INTAKE_QUEUE_URL": queue_url,
        "SERVICEDESK_EMAIL_INBOUND_DOMAIN": DOMAIN,
        "SERVICEDESK_MAIL_SECRET_PREFIX": f"servicedesk/test-{uuid.uuid4().hex[:8]}/mail",
        "SERVICEDESK_IMAP_CA_FILE": str(pki.ca_file),
        "SERVICEDESK_IMAP_TIMEOUT_SECONDS": "5",
    }
    previous = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    reset_caches()
    yield {"s3": s3, "sqs": sqs, "bucket": bucket, "queue": queue_url, "pki": pki}
    for key, value in previous.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    reset_caches()


@pytest.fixture(scope="module")
def org(client: Any, mail_aws: dict[str, Any]) -> TenantFixture:
    return make_tenant(client)


def _arrivals(mail_aws: dict[str, Any]) -> list[inbox.Arrival]:
    """Every notification on the intake queue now (consumed)."""
    found = []
    while True:
        answer = mail_aws["sqs"].receive_message(
            QueueUrl=mail_aws["queue"], MaxNumberOfMessages=10, WaitTimeSeconds=0
        )
        messages = answer.get("Messages", [])
        if not messages:
            return found
        for message in messages:
            found.append(inbox.parse_notification(message["Body"]))
            mail_aws["sqs"].delete_message(
                QueueUrl=mail_aws["queue"], ReceiptHandle=message["ReceiptHandle"]
            )


def _stored(mail_aws: dict[str, Any], arrival: inbox.Arrival) -> bytes:
    body = mail_aws["s3"].get_object(Bucket=arrival.bucket, Key=arrival.key)["Body"]
    return bytes(body.read())


def _hook(client: Any, org: TenantFixture, provider: str, **body: Any) -> dict[str, Any]:
    created = client.post(
        "/v1/mail/hooks",
        json={"provider": provider, "name": f"{provider} in", **body},
        headers=org.admin.headers,
    )
    assert created.status_code == 201, created.text
    return dict(created.json())


def _multipart(fields: dict[str, bytes]) -> tuple[bytes, str]:
    boundary = "----sd" + uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        + value
        + b"\r\n"
        for name, value in fields.items()
    ]
    return b"".join(
        parts
    ) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def _basic(secret: str) -> dict[str, str]:
    token = base64.b64encode(f"servicedesk:{secret}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def _generic_post(client: Any, hook: dict[str, Any], secret: str, raw: bytes, **kw: Any) -> Any:
    stamp = kw.pop("stamp", int(time.time()))
    header = signing.sign([secret], stamp, raw)
    return client.post(
        hook["path"],
        content=raw,
        headers={"Content-Type": "message/rfc822", signing.SIGNATURE_HEADER: header},
    )


# --- provider hooks -----------------------------------------------------------------------


def test_generic_hook_deposits_once_for_the_tenant_and_keeps_its_secret_in_secrets_manager(
    client: Any, org: TenantFixture, mail_aws: dict[str, Any]
) -> None:
    _arrivals(mail_aws)
    hook = _hook(client, org, "generic")
    secret = hook["secret"]
    assert hook["path"] == f"/v1/hooks/email/generic/{hook['id']}"
    shown = client.get(f"/v1/mail/hooks/{hook['id']}", headers=org.admin.headers).json()
    assert "secret" not in shown and secret not in json.dumps(shown)
    raw = _mime(f"<{uuid.uuid4().hex}@customer.example>", return_path="ann@customer.example")

    first = _generic_post(client, hook, secret, raw)
    again = _generic_post(client, hook, secret, raw)

    assert (first.status_code, first.json()) == (202, {"status": "accepted"})
    assert (again.status_code, again.json()) == (202, {"status": "duplicate"})
    [arrival] = _arrivals(mail_aws)
    assert arrival.door == "hook"
    assert arrival.recipients == (f"{org.slug}@{DOMAIN}",)
    assert arrival.mail_from == "ann@customer.example"
    assert arrival.key.startswith("inbound/hook/")
    assert _stored(mail_aws, arrival) == raw
    # The value lives in Secrets Manager, under the tenant's prefix.
    listed = boto3.client("secretsmanager").list_secrets()["SecretList"]
    mine = [s for s in listed if s["Name"].endswith(f"/{org.tenant_id}/hook-{hook['id']}")]
    assert len(mine) == 1
    value = boto3.client("secretsmanager").get_secret_value(SecretId=mine[0]["ARN"])
    assert value["SecretString"] == secret


def test_unknown_hook_and_bad_or_stale_signature_are_the_same_401(
    client: Any, org: TenantFixture, mail_aws: dict[str, Any]
) -> None:
    _arrivals(mail_aws)
    hook = _hook(client, org, "generic")
    raw = _mime(f"<{uuid.uuid4().hex}@customer.example>")
    unknown = {**hook, "path": f"/v1/hooks/email/generic/{uuid.uuid4()}"}
    other_provider = {**hook, "path": f"/v1/hooks/email/sendgrid/{hook['id']}"}
    answers = [
        _generic_post(client, unknown, hook["secret"], raw),
        _generic_post(client, hook, "whsec_wrong", raw),
        _generic_post(client, hook, hook["secret"], raw, stamp=int(time.time()) - 3600),
        client.post(hook["path"], content=raw, headers={"Content-Type": "message/rfc822"}),
    ]
    for answer in answers:
        assert answer.status_code == 401
        body = answer.json()
        assert (body["title"], body["detail"]) == (
            answers[0].json()["title"],
            answers[0].json()["detail"],
        )
        assert answer.headers["www-authenticate"] == answers[0].headers["www-authenticate"]
    assert client.post(other_provider["path"], content=raw).status_code == 401
    # Disabled: the same 401 as unknown.
    patched = client.patch(
        f"/v1/mail/hooks/{hook['id']}",
        json={"enabled": False, "version": 1},
        headers=org.admin.headers,
    )
    assert patched.status_code == 200, patched.text
    assert _generic_post(client, hook, hook["secret"], raw).status_code == 401
    assert _arrivals(mail_aws) == []


def test_mailgun_mime_forward_verifies_timestamp_and_token(
    client: Any, org: TenantFixture, mail_aws: dict[str, Any]
) -> None:
    _arrivals(mail_aws)
    key = "key-" + uuid.uuid4().hex
    hook = _hook(client, org, "mailgun", signing_key=key)
    assert hook["secret"] is None
    assert hook["path"].endswith(f"/{hook['id']}/mime")
    raw = _mime(f"<{uuid.uuid4().hex}@customer.example>")

    def post(stamp: int, signing_key: str = key, urlencoded: bool = False) -> Any:
        token = uuid.uuid4().hex + uuid.uuid4().hex[:18]
        signature = hmac.new(
            signing_key.encode(), f"{stamp}{token}".encode(), hashlib.sha256
        ).hexdigest()
        fields = {
            "timestamp": str(stamp).encode(),
            "token": token.encode(),
            "signature": signature.encode(),
            "sender": b"bounce+x@customer.example",
            "recipient": b"help@customer.example",
            "body-mime": raw,
        }
        if urlencoded:
            from urllib.parse import urlencode

            form = urlencode({k: v.decode() for k, v in fields.items()}).encode()
            ctype = "application/x-www-form-urlencoded"
        else:
            form, ctype = _multipart(fields)
        return client.post(hook["path"], content=form, headers={"Content-Type": ctype})

    assert post(int(time.time()), "key-wrong").status_code == 401
    assert post(int(time.time()) - 3600).status_code == 401
    accepted = post(int(time.time()))
    assert (accepted.status_code, accepted.json()["status"]) == (200, "accepted")
    assert post(int(time.time()), urlencoded=True).json()["status"] == "duplicate"
    [arrival] = _arrivals(mail_aws)
    assert arrival.mail_from == "bounce+x@customer.example"
    assert _stored(mail_aws, arrival) == raw


def test_postmark_needs_basic_credentials_and_raw_email(
    client: Any, org: TenantFixture, mail_aws: dict[str, Any]
) -> None:
    _arrivals(mail_aws)
    hook = _hook(client, org, "postmark")
    assert hook["username"] == "servicedesk"
    raw = _mime(f"<{uuid.uuid4().hex}@customer.example>")
    payload = {
        "MessageID": str(uuid.uuid4()),
        "From": "ann@customer.example",
        "RawEmail": raw.decode(),
    }

    wrong = client.post(hook["path"], json=payload, headers=_basic("nope"))
    none = client.post(hook["path"], json=payload)
    no_raw = client.post(
        hook["path"], json={**payload, "RawEmail": None}, headers=_basic(hook["secret"])
    )
    ok = client.post(hook["path"], json=payload, headers=_basic(hook["secret"]))

    assert (wrong.status_code, none.status_code) == (401, 401)
    assert no_raw.status_code == 422
    assert "RawEmail" in json.dumps(no_raw.json()["errors"])
    assert (ok.status_code, ok.json()["status"]) == (200, "accepted")
    [arrival] = _arrivals(mail_aws)
    assert _stored(mail_aws, arrival) == raw
    # Rotation: the old password stops at once, the new one works.
    rotated = client.post(f"/v1/mail/hooks/{hook['id']}/rotate-secret", headers=org.admin.headers)
    assert rotated.status_code == 200
    again = {**payload, "MessageID": str(uuid.uuid4())}
    assert client.post(hook["path"], json=again, headers=_basic(hook["secret"])).status_code == 401
    new = client.post(hook["path"], json=again, headers=_basic(rotated.json()["secret"]))
    assert new.status_code == 200


def test_sendgrid_raw_mime_takes_the_envelope_sender(
    client: Any, org: TenantFixture, mail_aws: dict[str, Any]
) -> None:
    _arrivals(mail_aws)
    hook = _hook(client, org, "sendgrid")
    raw = _mime(f"<{uuid.uuid4().hex}@customer.example>") + "Grüße\r\n".encode()
    envelope = json.dumps({"to": ["help@customer.example"], "from": "ann@customer.example"})
    form, ctype = _multipart({"email": raw, "envelope": envelope.encode(), "to": b"x"})

    answer = client.post(
        hook["path"], content=form, headers={"Content-Type": ctype, **_basic(hook["secret"])}
    )

    assert (answer.status_code, answer.json()["status"]) == (202, "accepted")
    [arrival] = _arrivals(mail_aws)
    assert arrival.mail_from == "ann@customer.example"
    assert _stored(mail_aws, arrival) == raw


def test_hook_bodies_may_pass_the_api_limit_up_to_their_own(
    client: Any, org: TenantFixture, mail_aws: dict[str, Any]
) -> None:
    _arrivals(mail_aws)
    hook = _hook(client, org, "generic")
    big = _mime(f"<{uuid.uuid4().hex}@customer.example>", size=2 * 1024 * 1024)
    too_big = _mime(f"<{uuid.uuid4().hex}@customer.example>", size=5 * 1024 * 1024)

    assert _generic_post(client, hook, hook["secret"], big).status_code == 202
    assert _generic_post(client, hook, hook["secret"], too_big).status_code == 413
    # Elsewhere the API's own limit (1 MiB) stands.
    elsewhere = client.post(
        "/v1/mail/hooks",
        content=b"{" + b" " * (2 * 1024 * 1024) + b"}",
        headers={**org.admin.headers, "Content-Type": "application/json"},
    )
    assert elsewhere.status_code == 413
    assert len(_arrivals(mail_aws)) == 1


def test_mail_hooks_are_for_admins_and_their_own_tenant(
    client: Any, org: TenantFixture, mail_aws: dict[str, Any]
) -> None:
    other = make_tenant(client, roles=())
    hook = _hook(client, org, "generic")
    for role in ("agent", "requester"):
        headers = org.members[role].headers
        assert client.get("/v1/mail/hooks", headers=headers).status_code == 403
        assert (
            client.post(
                "/v1/mail/hooks", json={"provider": "generic", "name": "x"}, headers=headers
            ).status_code
            == 403
        )
    path = f"/v1/mail/hooks/{hook['id']}"
    assert client.get(path, headers=other.admin.headers).status_code == 404
    assert client.delete(path, headers=other.admin.headers).status_code == 404
    listed = client.get("/v1/mail/hooks", headers=other.admin.headers).json()["items"]
    assert listed == []
    bad = client.post(
        "/v1/mail/hooks",
        json={"provider": "postmark", "name": "x", "signing_key": "k" * 20},
        headers=org.admin.headers,
    )
    assert bad.status_code == 422
    assert client.delete(path, headers=org.admin.headers).status_code == 204
    assert client.get(path, headers=org.admin.headers).status_code == 404


# --- IMAP ------------------------------------------------------------------------------------


def _mailbox(client: Any, org: TenantFixture, server: ImapServer, **body: Any) -> dict[str, Any]:
    fields = {
        "name": "support inbox",
        "host": "localhost",
        "port": server.port,
        "tls_mode": "implicit" if server.implicit_tls else "starttls",
        "username": server.store.username,
        "password": server.store.password,
        **body,
    }
    created = client.post("/v1/mail/mailboxes", json=fields, headers=org.admin.headers)
    assert created.status_code == 201, created.text
    return dict(created.json())


def _store() -> Store:
    return Store(username="desk@customer.example", password="p@ss " + uuid.uuid4().hex)


def test_poller_takes_unseen_mail_oldest_first_and_marks_it_seen_after_the_deposit(
    client: Any, org: TenantFixture, mail_aws: dict[str, Any]
) -> None:
    _arrivals(mail_aws)
    store = _store()
    old_seen = store.add(_mime("<seen@customer.example>"))
    store.messages[0].seen = True
    raws = [_mime(f"<{n}-{uuid.uuid4().hex}@customer.example>") for n in range(3)]
    for raw in raws:
        store.add(raw)
    with ImapServer(store, mail_aws["pki"]) as server:
        box = _mailbox(client, org, server)
        assert store.password not in json.dumps(box)

        report = imap.poll_all(budget=None)

    assert report["failed_tenants"] == [] and report["taken"] >= 3
    arrivals = [a for a in _arrivals(mail_aws) if org.slug in a.recipients[0]]
    assert [_stored(mail_aws, a) for a in arrivals] == raws
    assert all(a.door == "imap" and a.mail_from == "ann@customer.example" for a in arrivals)
    assert all(m.seen for m in store.messages)
    assert old_seen not in [a for a in arrivals]
    fetches = [c for c in store.commands if c in ("UID FETCH", "UID STORE")]
    assert fetches == ["UID FETCH", *["UID FETCH", "UID STORE"] * 3]
    shown = client.get(f"/v1/mail/mailboxes/{box['id']}", headers=org.admin.headers).json()
    assert shown["messages_taken"] == 3 and shown["last_error"] is None
    assert shown["last_success_at"] is not None


def test_a_failed_deposit_leaves_the_message_unseen_for_the_next_run(
    client: Any, org: TenantFixture, mail_aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = make_tenant(client, roles=())
    _arrivals(mail_aws)
    store = _store()
    raw = _mime(f"<{uuid.uuid4().hex}@customer.example>")
    store.add(raw)
    with ImapServer(store, mail_aws["pki"], implicit_tls=False) as server:
        box = _mailbox(client, tenant, server)
        monkeypatch.setenv("SERVICEDESK_EMAIL_INTAKE_QUEUE_URL", mail_aws["queue"] + "-missing")
        reset_caches()
        imap.poll_all(budget=None)
        assert store.messages[0].seen is False
        failed = client.get(f"/v1/mail/mailboxes/{box['id']}", headers=tenant.admin.headers).json()
        assert failed["consecutive_failures"] == 1 and failed["last_error"]

        monkeypatch.setenv("SERVICEDESK_EMAIL_INTAKE_QUEUE_URL", mail_aws["queue"])
        reset_caches()
        imap.poll_all(budget=None)

    assert store.messages[0].seen is True
    assert "STARTTLS" in store.commands
    mine = [a for a in _arrivals(mail_aws) if a.recipients == (f"{tenant.slug}@{DOMAIN}",)]
    # The first run's object was written before the queue refused: the intake hears of one.
    assert [_stored(mail_aws, a) for a in mine] == [raw]
    healed = client.get(f"/v1/mail/mailboxes/{box['id']}", headers=tenant.admin.headers).json()
    assert healed["consecutive_failures"] == 0 and healed["last_error"] is None


def test_a_broken_mailbox_is_recorded_and_does_not_stop_the_others(
    client: Any, mail_aws: dict[str, Any], tmp_path: Path
) -> None:
    broken_tenant = make_tenant(client, roles=())
    good_tenant = make_tenant(client, roles=())
    _arrivals(mail_aws)
    good, wrong_password, untrusted = _store(), _store(), _store()
    good.add(_mime(f"<{uuid.uuid4().hex}@customer.example>"))
    wrong_password.add(_mime(f"<{uuid.uuid4().hex}@customer.example>"))
    rogue_pki = make_pki(tmp_path / "rogue")  # a CA the poller does not trust
    with (
        ImapServer(good, mail_aws["pki"]) as good_server,
        ImapServer(wrong_password, mail_aws["pki"]) as bad_server,
        ImapServer(untrusted, rogue_pki) as rogue_server,
    ):
        bad_box = _mailbox(client, broken_tenant, bad_server, password="not-it")
        rogue_box = _mailbox(client, broken_tenant, rogue_server)
        _mailbox(client, good_tenant, good_server)

        report = imap.poll_all(budget=None)
        tested = client.post(
            f"/v1/mail/mailboxes/{rogue_box['id']}/test", headers=broken_tenant.admin.headers
        ).json()

    assert report["failed_tenants"] == [] and report["failed_mailboxes"] >= 2
    assert good.messages[0].seen and not wrong_password.messages[0].seen
    assert "LOGIN" not in untrusted.commands  # no credentials to an unverified server
    bad = client.get(f"/v1/mail/mailboxes/{bad_box['id']}", headers=broken_tenant.admin.headers)
    assert "LOGIN refused" in bad.json()["last_error"]
    rogue = client.get(f"/v1/mail/mailboxes/{rogue_box['id']}", headers=broken_tenant.admin.headers)
    assert "certificate" in rogue.json()["last_error"]
    assert tested["ok"] is False and "certificate" in tested["error"]
    assert any(a.recipients == (f"{good_tenant.slug}@{DOMAIN}",) for a in _arrivals(mail_aws))


def test_test_connection_counts_unseen_and_takes_nothing(
    client: Any, org: TenantFixture, mail_aws: dict[str, Any]
) -> None:
    store = _store()
    store.add(_mime("<a@customer.example>"))
    store.add(_mime("<b@customer.example>"))
    with ImapServer(store, mail_aws["pki"]) as server:
        box = _mailbox(client, org, server)
        ok = client.post(f"/v1/mail/mailboxes/{box['id']}/test", headers=org.admin.headers)
        client.patch(
            f"/v1/mail/mailboxes/{box['id']}",
            json={"folder": "Nope", "version": box["version"]},
            headers=org.admin.headers,
        )
        missing = client.post(f"/v1/mail/mailboxes/{box['id']}/test", headers=org.admin.headers)
    assert ok.json() == {"ok": True, "unseen": 2, "error": None}
    assert missing.json()["ok"] is False and "SELECT" in missing.json()["error"]
    assert not any(m.seen for m in store.messages)
    assert "UID FETCH" not in store.commands


def test_mailboxes_are_for_admins_and_their_own_tenant(
    client: Any, org: TenantFixture, mail_aws: dict[str, Any]
) -> None:
    other = make_tenant(client, roles=())
    body = {"name": "x", "host": "imap.customer.example", "username": "u", "password": "secret-pw"}
    for role in ("agent", "requester"):
        headers = org.members[role].headers
        assert client.get("/v1/mail/mailboxes", headers=headers).status_code == 403
        assert client.post("/v1/mail/mailboxes", json=body, headers=headers).status_code == 403
    created = client.post("/v1/mail/mailboxes", json=body, headers=org.admin.headers)
    assert created.status_code == 201 and "password" not in created.json()
    path = f"/v1/mail/mailboxes/{created.json()['id']}"
    for method in ("get", "delete"):
        assert getattr(client, method)(path, headers=other.admin.headers).status_code == 404
    assert client.post(f"{path}/test", headers=other.admin.headers).status_code == 404
    for bad in ({"host": "imap://x"}, {"folder": 'a"b'}, {"port": 0}, {"tls_mode": "none"}):
        answer = client.post("/v1/mail/mailboxes", json={**body, **bad}, headers=org.admin.headers)
        assert answer.status_code == 422, bad
    assert client.delete(path, headers=org.admin.headers).status_code == 204


def test_the_webhooks_lambda_takes_a_base64_binary_form_byte_for_byte(
    client: Any, org: TenantFixture, mail_aws: dict[str, Any]
) -> None:
    """As API Gateway delivers a binary media type (stacks/constructs/rest_api.py): the body
    base64-encoded; an 8-bit Latin-1 message must reach the bucket unchanged."""
    from local.app import load_function
    from local.scheduler import LambdaContext
    from tests.events import load_event, set_header

    _arrivals(mail_aws)
    hook = _hook(client, org, "sendgrid")
    raw = _mime(f"<{uuid.uuid4().hex}@customer.example>").replace(
        b"charset=utf-8", b"charset=iso-8859-1"
    ) + "Grüße aus Köln\r\n".encode("latin-1")
    form, ctype = _multipart({"email": raw, "envelope": b'{"from": "ann@customer.example"}'})
    event = load_event("apigw_rest_post_login")
    event.update(
        resource="/v1/hooks/{proxy+}",
        path=hook["path"],
        pathParameters={"proxy": hook["path"].removeprefix("/v1/hooks/")},
        body=base64.b64encode(form).decode(),
        isBase64Encoded=True,
    )
    event["requestContext"].update(resourcePath="/v1/hooks/{proxy+}", path=f"/prod{hook['path']}")
    set_header(event, "Content-Type", ctype)
    set_header(event, "Content-Length", str(len(form)))
    set_header(event, "Authorization", _basic(hook["secret"])["Authorization"])

    response = load_function("webhooks").lambda_handler(event, LambdaContext("webhooks"))

    assert response["statusCode"] == 202, response
    [arrival] = _arrivals(mail_aws)
    assert _stored(mail_aws, arrival) == raw


def test_starttls_is_required_and_credentials_never_go_out_in_clear(
    client: Any, mail_aws: dict[str, Any]
) -> None:
    tenant = make_tenant(client, roles=())
    store = _store()
    store.add(_mime(f"<{uuid.uuid4().hex}@customer.example>"))
    with ImapServer(store, mail_aws["pki"], implicit_tls=False, offer_starttls=False) as server:
        box = _mailbox(client, tenant, server)
        tested = client.post(
            f"/v1/mail/mailboxes/{box['id']}/test", headers=tenant.admin.headers
        ).json()
        imap.poll_all(budget=None)
    assert tested["ok"] is False and "STARTTLS" in tested["error"]
    assert "LOGIN" not in store.commands and not store.messages[0].seen
    shown = client.get(f"/v1/mail/mailboxes/{box['id']}", headers=tenant.admin.headers).json()
    assert "STARTTLS" in shown["last_error"]


def test_outside_dev_and_test_a_mailbox_must_resolve_to_public_addresses() -> None:
    from servicedesk.platform.config import Settings

    settings = Settings(environment="prod")
    for host in ("127.0.0.1", "localhost", "10.0.0.8", "169.254.169.254"):
        with pytest.raises(imap.MailboxError, match="resolves to"):
            imap.connect(host=host, port=993, tls_mode="implicit", settings=settings)


def test_the_poller_lambda_runs_from_its_scheduled_event(
    client: Any, mail_aws: dict[str, Any]
) -> None:
    """functions/email_imap_poller as EventBridge Scheduler (and make dev's ticker) invoke it."""
    from local.app import load_function
    from local.scheduler import LambdaContext
    from tests.events import load_event

    tenant = make_tenant(client, roles=())
    _arrivals(mail_aws)
    store = _store()
    raw = _mime(f"<{uuid.uuid4().hex}@customer.example>")
    store.add(raw)
    with ImapServer(store, mail_aws["pki"]) as server:
        _mailbox(client, tenant, server)
        result = load_function("email_imap_poller").lambda_handler(
            load_event("eventbridge_scheduled_imap_poll"), LambdaContext("email_imap_poller")
        )
    assert result["failed_tenants"] == [] and result["taken"] >= 1
    mine = [a for a in _arrivals(mail_aws) if a.recipients == (f"{tenant.slug}@{DOMAIN}",)]
    assert [_stored(mail_aws, a) for a in mine] == [raw]


def test_outside_dev_and_test_a_mailbox_on_a_private_address_is_refused_when_saved(
    client: Any, mail_aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    org = make_tenant(client, roles=())
    body = {"name": "x", "username": "u", "password": "secret-pw", "port": 993}
    monkeypatch.setenv("SERVICEDESK_ENVIRONMENT", "prod")
    reset_caches()
    try:
        for host in ("127.0.0.1", "10.1.2.3", "localhost"):
            answer = client.post(
                "/v1/mail/mailboxes", json={**body, "host": host}, headers=org.admin.headers
            )
            assert answer.status_code == 422, answer.text
            assert answer.json()["errors"][0]["field"] == "host"
    finally:
        monkeypatch.setenv("SERVICEDESK_ENVIRONMENT", "test")
        reset_caches()
    assert client.get("/v1/mail/mailboxes", headers=org.admin.headers).json()["items"] == []
