"""Branding (issue 20 item 5): the settings section with contrast and logo checks, the logo
through the attachments pipeline (sniffed, size-limited, images only), the public read by
slug (public fields only), roles and tenant isolation, and the e-mails that carry it."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from servicedesk.branding import contrast
from servicedesk.platform import storage
from servicedesk.platform.aws import reset as reset_aws_clients
from servicedesk.platform.config import get_settings
from tests.conftest import make_tenant

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(200))
JPEG_NAMED_PNG = b"\xff\xd8\xff\xe0" + bytes(200)
PATH = "/v1/settings/branding"


@pytest.fixture(scope="module", autouse=True)
def bucket(aws_endpoint: str, database: Any) -> str:
    from local import aws

    reset_aws_clients()
    name = get_settings().attachments_bucket
    aws.ensure_bucket(name, cors_origin=get_settings().web_origin)
    return name


@pytest.fixture
def org(client):
    return make_tenant(client, roles=("manager", "agent", "requester"))


def _problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return dict(response.json())


def _fields(problem: dict[str, Any]) -> set[str]:
    return {e["field"] for e in problem.get("errors", [])}


def _put(client, actor, body: dict[str, Any]) -> httpx.Response:
    read = client.get(PATH, headers=actor.headers)
    assert read.status_code == 200, read.text
    return client.put(
        PATH,
        json={**read.json(), **body},
        headers={**actor.headers, "If-Match": read.headers["etag"]},
    )


def _upload_logo(client, actor, content: bytes = PNG, content_type: str = "image/png"):
    started = client.post(
        "/v1/attachments/branding-logo",
        json={"filename": "logo.png", "content_type": content_type, "size": len(content)},
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


# --- contrast ---------------------------------------------------------------------------


def test_a_colour_without_enough_contrast_is_refused_naming_the_field(client, org, database):
    # #7aa7ff: 2.4:1 under white text; #f5f5f5: an invisible bar on the light surface.
    refused = _put(client, org.admin, {"primary_color": "#7aa7ff", "accent_color": "#f5f5f5"})
    problem = _problem(refused, 422)
    assert _fields(problem) == {"primary_color", "accent_color"}
    details = " ".join(e["detail"] for e in problem["errors"])
    assert "--sd-accent-fg" in details and "4.5:1" in details and "3.0:1" in details
    # nothing was half-applied
    assert client.get(PATH, headers=org.admin.headers).json()["primary_color"] is None

    saved = _put(client, org.admin, {"primary_color": "#0B5CAD", "accent_color": "#c2410c"})
    assert saved.status_code == 200, saved.text
    assert saved.json()["primary_color"] == "#0b5cad"


def test_a_colour_that_is_not_rrggbb_is_a_field_error(client, org):
    problem = _problem(_put(client, org.admin, {"primary_color": "blue"}), 422)
    assert "primary_color" in {e["field"].rsplit(".", 1)[-1] for e in problem["errors"]}


def test_the_contrast_rule_agrees_with_wcag_reference_values():
    assert round(contrast.ratio("#000000", "#ffffff"), 2) == 21.0
    assert round(contrast.ratio("#777777", "#ffffff"), 2) == 4.48  # the classic near miss
    # #767676 is 4.54:1 on white but 4.23:1 on the light theme's background and 3.9:1 on
    # the active navigation's tint: every surface the colour meets counts.
    on_bg, on_tint = contrast.shortfalls("primary_color", "#767676")
    assert "--sd-bg" in on_bg and "4.23:1" in on_bg
    assert "--sd-accent-subtle" in on_tint and "3.9:1" in on_tint
    assert contrast.shortfalls("primary_color", "#595959") == []
    # The design tokens' own accent passes its own rule.
    assert contrast.shortfalls("primary_color", "#1f4fd1") == []


# --- the logo ---------------------------------------------------------------------------


def test_a_logo_upload_is_checked_then_named_by_the_branding(client, org, database):
    attachment_id, done = _upload_logo(client, org.admin)
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "available"
    saved = _put(client, org.admin, {"logo_attachment_id": attachment_id})
    assert saved.status_code == 200, saved.text

    public = client.get(f"/v1/branding/{org.slug}")
    assert public.status_code == 200
    logo_url = public.json()["logo_url"]
    assert logo_url == f"/v1/branding/{org.slug}/logo?v={attachment_id}"
    redirect = client.get(logo_url, follow_redirects=False)
    assert redirect.status_code == 302
    assert httpx.get(redirect.headers["location"]).content == PNG

    # A second logo replaces the first, whose row becomes a tombstone for the cleanup.
    second, done = _upload_logo(client, org.admin)
    assert done.status_code == 200
    assert _put(client, org.admin, {"logo_attachment_id": second}).status_code == 200
    with database.connect("owner") as conn:
        (status,) = conn.execute(
            "SELECT status FROM attachments WHERE id = %s", (attachment_id,)
        ).fetchone()
    assert status == "deleted"


@pytest.mark.parametrize(
    ("content_type", "size", "field"),
    [
        ("image/svg+xml", 100, "content_type"),
        ("application/pdf", 100, "content_type"),
        ("image/gif", 100, "content_type"),
        ("image/png", 512 * 1024 + 1, "size"),
    ],
)
def test_a_logo_that_is_not_an_accepted_image_or_too_large_is_refused(
    client, org, database, content_type, size, field
):
    before = _count(database, org.tenant_id)
    refused = client.post(
        "/v1/attachments/branding-logo",
        json={"filename": "logo", "content_type": content_type, "size": size},
        headers=org.admin.headers,
    )
    assert _fields(_problem(refused, 422)) == {field}
    assert _count(database, org.tenant_id) == before


def test_a_logo_is_sniffed_from_its_bytes_not_its_declared_type(client, org, database):
    attachment_id, done = _upload_logo(client, org.admin, JPEG_NAMED_PNG, "image/png")
    assert _fields(_problem(done, 422)) == {"content_type"}
    with database.connect("owner") as conn:
        row = conn.execute(
            "SELECT status, object_key FROM attachments WHERE id = %s", (attachment_id,)
        ).fetchone()
    assert row[0] == "rejected" and storage.head(row[1]) is None
    # and a rejected (or someone's ticket) file is no logo
    refused = _put(client, org.admin, {"logo_attachment_id": attachment_id})
    assert _fields(_problem(refused, 422)) == {"logo_attachment_id"}


def _count(database, tenant_id: str) -> int:
    with database.connect("owner") as conn:
        return int(
            conn.execute(
                "SELECT count(*) FROM attachments WHERE tenant_id = %s", (tenant_id,)
            ).fetchone()[0]
        )


# --- who reads and writes ------------------------------------------------------------------


def test_roles_everyone_reads_admins_write(client, org):
    for role in ("requester", "agent", "manager"):
        actor = org.members[role]
        assert client.get(PATH, headers=actor.headers).status_code == 200
        assert _put(client, actor, {"display_name": "X"}).status_code == 403
        started = client.post(
            "/v1/attachments/branding-logo",
            json={"filename": "l.png", "content_type": "image/png", "size": 10},
            headers=actor.headers,
        )
        assert started.status_code == 403
    assert client.get(PATH).status_code == 401


def test_a_logo_upload_is_completed_by_an_admin_only(client, org):
    started = client.post(
        "/v1/attachments/branding-logo",
        json={"filename": "l.png", "content_type": "image/png", "size": len(PNG)},
        headers=org.admin.headers,
    )
    attachment_id = started.json()["attachment"]["id"]
    for role in ("requester", "agent", "manager"):
        answer = client.post(
            f"/v1/attachments/{attachment_id}/complete", headers=org.members[role].headers
        )
        assert answer.status_code == 404


def test_anonymous_read_shows_only_the_public_fields(client, org):
    attachment_id, _ = _upload_logo(client, org.admin)
    saved = _put(
        client,
        org.admin,
        {
            "display_name": "Acme IT",
            "primary_color": "#0b5cad",
            "welcome_text": "Welcome to **Acme** IT",
            "logo_attachment_id": attachment_id,
        },
    )
    assert saved.status_code == 200, saved.text
    public = client.get(f"/v1/branding/{org.slug}")
    assert public.status_code == 200
    assert set(public.json()) == {
        "display_name",
        "primary_color",
        "accent_color",
        "welcome_text",
        "logo_url",
        "self_registration",
    }
    assert public.json()["display_name"] == "Acme IT"
    assert attachment_id not in str({k: v for k, v in public.json().items() if k != "logo_url"})
    # A slug nobody has answers as an organisation without branding: the default look.
    unknown = client.get("/v1/branding/no-such-org-here")
    plain = client.get(f"/v1/branding/{make_tenant(client, roles=()).slug}")
    assert unknown.status_code == plain.status_code == 200
    assert (
        unknown.json()
        == plain.json()
        == {
            "display_name": None,
            "primary_color": None,
            "accent_color": None,
            "welcome_text": None,
            "logo_url": None,
            "self_registration": False,
        }
    )
    assert unknown.headers["cache-control"] == plain.headers["cache-control"]
    assert client.get("/v1/branding/no-such-org-here/logo").status_code == 404
    assert client.get("/v1/branding/NOT_A_SLUG").status_code == 422


def test_tenants_are_isolated(client, org):
    other = make_tenant(client, roles=())
    attachment_id, done = _upload_logo(client, other.admin)
    assert done.status_code == 200
    # Another tenant's logo is no logo here, and its upload cannot be completed here.
    refused = _put(client, org.admin, {"logo_attachment_id": attachment_id})
    assert _fields(_problem(refused, 422)) == {"logo_attachment_id"}
    assert (
        client.post(
            f"/v1/attachments/{attachment_id}/complete", headers=org.admin.headers
        ).status_code
        == 404
    )
    assert _put(client, org.admin, {"display_name": "Mine"}).status_code == 200
    assert client.get(PATH, headers=other.admin.headers).json()["display_name"] is None
    assert client.get(f"/v1/branding/{other.slug}").json()["display_name"] != "Mine"


def test_a_branding_change_is_audited(client, org, database):
    assert _put(client, org.admin, {"display_name": "Acme"}).status_code == 200
    with database.connect("owner") as conn:
        rows = conn.execute(
            "SELECT data FROM audit_log WHERE tenant_id = %s AND action = %s",
            (org.tenant_id, "settings.branding_updated"),
        ).fetchall()
    assert [r[0]["after"]["display_name"] for r in rows] == ["Acme"]


def test_the_next_email_carries_name_colour_and_logo(client, org):
    from servicedesk.notifications import templates

    attachment_id = str(uuid.uuid4())
    brand = templates.branding(
        "Acme",
        {
            "branding": {
                "display_name": "Acme IT",
                "primary_color": "#0b5cad",
                "accent_color": "#c2410c",
                "logo_attachment_id": attachment_id,
            }
        },
        slug=org.slug,
    )
    assert brand.display_name == "Acme IT"
    assert (brand.primary, brand.accent) == ("#0b5cad", "#c2410c")
    assert brand.logo_path == f"/v1/branding/{org.slug}/logo?v={attachment_id}"
