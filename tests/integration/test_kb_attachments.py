"""Article files through the attachments pipeline (presigned S3 form, completion checks,
gated download, tombstone) against the AWS emulator; who may see them follows the article.
And the knowledge base function answering a sample API Gateway event."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import httpx
import pytest

from local.app import load_function
from servicedesk.platform.aws import reset as reset_aws_clients
from servicedesk.platform.config import get_settings
from tests.conftest import make_tenant
from tests.events import invoke, load_event, set_json_body
from tests.integration.test_attachments import EXE, PNG, _authorized, _post_form
from tests.integration.test_lambda_handlers import body_json, body_text

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")
ROLES = ("manager", "agent", "requester")


@pytest.fixture(scope="module", autouse=True)
def bucket(aws_endpoint: str, database: Any) -> str:
    from local import aws

    reset_aws_clients()
    name = get_settings().attachments_bucket
    aws.ensure_bucket(name, cors_origin=get_settings().web_origin)
    return name


@pytest.fixture(scope="module")
def org(client):
    return make_tenant(client, roles=ROLES)


def _problem(response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return dict(response.json())


def _article(client, org, *, publish: bool, audience: str = "public") -> dict[str, Any]:
    agent, manager = org.members["agent"], org.members["manager"]
    made = client.post(
        "/v1/kb/articles",
        headers=agent.headers,
        json={"title": f"Printer setup {uuid.uuid4().hex[:6]}", "audience": audience},
    )
    assert made.status_code == 201, made.text
    article = made.json()
    if publish:
        for actor, action in ((agent, "submit"), (manager, "publish")):
            moved = client.post(
                f"/v1/kb/articles/{article['id']}/{action}", headers=actor.headers, json={}
            )
            assert moved.status_code == 200, moved.text
            article = moved.json()
    return article


def _start(client, actor, article_id, content=PNG, **extra) -> Any:
    body = {"filename": "diagram.png", "content_type": "image/png", "size": len(content), **extra}
    return client.post(
        f"/v1/kb/articles/{article_id}/attachments", json=body, headers=actor.headers
    )


def _attach(client, actor, article_id, content=PNG) -> dict[str, Any]:
    started = _start(client, actor, article_id, content)
    assert started.status_code == 201, started.text
    assert _post_form(started.json()["upload"], content).status_code == 204
    done = client.post(
        f"/v1/attachments/{started.json()['attachment']['id']}/complete", headers=actor.headers
    )
    assert done.status_code == 200, done.text
    return dict(done.json())


def test_article_file_upload_complete_download_round_trip(client, org, database):
    agent, requester = org.members["agent"], org.members["requester"]
    article = _article(client, org, publish=True)
    started = _start(client, agent, article["id"])
    assert started.status_code == 201, started.text
    attachment, upload = started.json()["attachment"], started.json()["upload"]
    assert attachment["article_id"] == article["id"] and attachment["ticket_id"] is None
    assert upload["fields"]["key"].startswith(f"t/{org.tenant_id}/kb/{article['id']}/")
    assert _post_form(upload, PNG).status_code == 204
    done = client.post(f"/v1/attachments/{attachment['id']}/complete", headers=agent.headers)
    assert done.status_code == 200, done.text
    assert done.json()["sha256"] == hashlib.sha256(PNG).hexdigest()

    listed = client.get(f"/v1/kb/articles/{article['id']}/attachments", headers=requester.headers)
    assert [a["id"] for a in listed.json()["items"]] == [attachment["id"]]
    link = client.get(f"/v1/attachments/{attachment['id']}/download", headers=requester.headers)
    assert link.status_code == 200, link.text
    assert httpx.get(link.json()["url"]).content == PNG
    with database.connect("owner") as conn:
        actions = {
            r[0]
            for r in conn.execute(
                "SELECT action FROM audit_log WHERE entity_type = 'kb_article' AND entity_id = %s",
                (article["id"],),
            )
        }
    assert {"attachment.created", "attachment.completed"} <= actions


def test_a_draft_or_internal_articles_files_are_hidden_from_requesters(client, org):
    agent, requester = org.members["agent"], org.members["requester"]
    for article in (
        _article(client, org, publish=False),
        _article(client, org, publish=True, audience="internal"),
    ):
        attachment = _attach(client, agent, article["id"])
        _problem(
            client.get(f"/v1/attachments/{attachment['id']}/download", headers=requester.headers),
            404,
        )
        _problem(
            client.get(f"/v1/kb/articles/{article['id']}/attachments", headers=requester.headers),
            404,
        )
        assert (
            client.get(
                f"/v1/attachments/{attachment['id']}/download", headers=agent.headers
            ).status_code
            == 200
        )


def test_requesters_cannot_upload_or_remove_article_files(client, org):
    requester, agent = org.members["requester"], org.members["agent"]
    article = _article(client, org, publish=True)
    _problem(_start(client, requester, article["id"]), 403)
    attachment = _attach(client, agent, article["id"])
    _problem(client.delete(f"/v1/attachments/{attachment['id']}", headers=requester.headers), 403)
    removed = client.delete(f"/v1/attachments/{attachment['id']}", headers=agent.headers)
    assert removed.status_code == 200 and removed.json()["status"] == "deleted"
    listed = client.get(f"/v1/kb/articles/{article['id']}/attachments", headers=agent.headers)
    assert listed.json()["items"] == []


def test_an_executable_named_png_is_rejected_for_an_article_too(client, org, database):
    agent = org.members["agent"]
    article = _article(client, org, publish=False)
    started = _start(client, agent, article["id"], EXE)
    assert _post_form(started.json()["upload"], EXE).status_code == 204
    done = client.post(
        f"/v1/attachments/{started.json()['attachment']['id']}/complete", headers=agent.headers
    )
    assert "content_type" in {e["field"] for e in _problem(done, 422)["errors"]}


def test_bad_upload_and_another_tenant_and_a_draft_with_files(client, org):
    agent = org.members["agent"]
    article = _article(client, org, publish=False)
    bad = _start(client, agent, article["id"], content_type="application/x-msdownload")
    assert "content_type" in {e["field"] for e in _problem(bad, 422)["errors"]}
    extra = _start(client, agent, article["id"], comment_id=str(uuid.uuid4()))
    assert "comment_id" in {e["field"] for e in _problem(extra, 422)["errors"]}
    outsider = make_tenant(client, roles=("agent",)).members["agent"]
    _problem(_start(client, outsider, article["id"]), 404)
    _problem(
        client.get(f"/v1/kb/articles/{article['id']}/attachments", headers=outsider.headers), 404
    )
    _attach(client, agent, article["id"])
    refused = client.delete(f"/v1/kb/articles/{article['id']}", headers=agent.headers)
    assert "archive" in _problem(refused, 409)["detail"]


# --- the Lambda functions, with sample API Gateway events -------------------------------------


def test_attachments_function_starts_an_upload_from_the_article_route(client, org, authorizer):
    agent = org.members["agent"]
    article = _article(client, org, publish=False)
    event = load_event("apigw_rest_post_kb_article_attachment")
    event["pathParameters"] = {"article_id": article["id"]}
    set_json_body(event, {"filename": "a.png", "content_type": "image/png", "size": len(PNG)})
    path = f"/v1/kb/articles/{article['id']}/attachments"
    response = invoke(
        load_function("attachments"), _authorized(authorizer, event, agent.token, path)
    )
    assert response["statusCode"] == 201, body_text(response)
    assert body_json(response)["attachment"]["article_id"] == article["id"]


def test_kb_function_answers_a_gateway_event(client, org, authorizer):
    requester = org.members["requester"]
    article = _article(client, org, publish=True)
    hidden = _article(client, org, publish=False)
    kb = load_function("kb")
    for target, status in ((article, 200), (hidden, 404)):
        event = load_event("apigw_rest_get_kb_article")
        event["pathParameters"] = {"proxy": f"articles/{target['id']}"}
        path = f"/v1/kb/articles/{target['id']}"
        response = invoke(kb, _authorized(authorizer, event, requester.token, path))
        assert response["statusCode"] == status, body_text(response)
    event = load_event("apigw_rest_get_kb_article")
    path = f"/v1/kb/articles/{article['id']}"
    answer = body_json(invoke(kb, _authorized(authorizer, event, requester.token, path)))
    assert answer["id"] == article["id"] and answer["state"] == "published"
