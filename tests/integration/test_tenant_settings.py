"""The per-tenant settings sections (platform.tenant_settings): one ETag rule, one
replacement with If-Match and audit, sections that do not touch each other, and the
request's snapshot kept current by a replacement in the same transaction."""

from __future__ import annotations

import uuid
from typing import Any

from servicedesk.platform.db import TENANT_SETTINGS, transaction
from servicedesk.platform.roles import Role
from servicedesk.platform.tenancy import RequestContext, resolve_principal
from servicedesk.platform.tokens import Claims
from tests.conftest import make_tenant


def _audit(database: Any, tenant_id: str, action: str) -> list[Any]:
    with database.connect("owner") as conn:
        return conn.execute(
            "SELECT actor_user_id, entity_type, entity_id, data FROM audit_log"
            " WHERE tenant_id = %s AND action = %s ORDER BY id",
            (tenant_id, action),
        ).fetchall()


def test_a_replacement_answers_the_etag_a_later_read_gives_and_is_audited(client, database):
    org = make_tenant(client, roles=("requester",))
    for path, change in (
        ("/v1/settings/tickets", {"reopen_window_days": 3}),
        ("/v1/settings/attachments", {"max_per_ticket": 7}),
    ):
        read = client.get(path, headers=org.admin.headers)
        body = {**read.json(), **change}
        saved = client.put(
            path, json=body, headers={**org.admin.headers, "If-Match": read.headers["etag"]}
        )
        assert saved.status_code == 200, saved.text
        assert saved.headers["etag"] != read.headers["etag"]
        again = client.get(path, headers=org.admin.headers)
        assert again.json() == body and again.headers["etag"] == saved.headers["etag"]

        name = path.rsplit("/", 1)[1]
        [(actor, entity_type, entity_id, data)] = _audit(
            database, org.tenant_id, f"settings.{name}_updated"
        )
        assert (str(actor), entity_type, entity_id) == (org.admin.user_id, "tenant", org.tenant_id)
        ((key, value),) = change.items()
        assert data["before"][key] == read.json()[key] and data["after"][key] == value


def test_replacing_one_section_leaves_the_others_as_they_were(client, database):
    org = make_tenant(client, roles=("requester",))
    with database.connect("owner") as conn:
        conn.execute(
            'UPDATE tenants SET settings = settings || \'{"email": {"branding": {"x": 1}}}\''
            " WHERE id = %s",
            (org.tenant_id,),
        )
    read = client.get("/v1/settings/attachments", headers=org.admin.headers)
    saved = client.put(
        "/v1/settings/attachments",
        json={**read.json(), "max_per_ticket": 3},
        headers={**org.admin.headers, "If-Match": read.headers["etag"]},
    )
    assert saved.status_code == 200, saved.text
    with database.connect("owner") as conn:
        (stored,) = conn.execute(
            "SELECT settings FROM tenants WHERE id = %s", (org.tenant_id,)
        ).fetchone()
    assert stored["email"] == {"branding": {"x": 1}}
    assert stored["attachments"]["max_per_ticket"] == 3
    assert "tickets" not in stored  # never written: its defaults, not a copy


def test_a_replacement_keeps_the_transaction_snapshot_current(client, database):
    from servicedesk.tickets.settings import SECTION

    org = make_tenant(client, roles=("requester",))
    tenant_id, admin_id = uuid.UUID(org.tenant_id), uuid.UUID(org.admin.user_id)
    claims = Claims(
        kind="internal", subject=str(admin_id), tenant=str(tenant_id), role="admin", issuer="test"
    )
    with transaction() as session:
        resolve_principal(session, claims)
        assert isinstance(session.info.get(TENANT_SETTINGS), dict)
        ctx = RequestContext(
            session=session, tenant_id=tenant_id, user_id=admin_id, role=Role.ADMIN
        )
        before = SECTION.current(ctx)
        changed = before.model_copy(update={"reopen_window_days": before.reopen_window_days + 1})
        SECTION.save(ctx, changed)
        # what the next read of this request, and another ctx on the same transaction, see
        assert SECTION.current(ctx) == changed
        other = RequestContext(
            session=session, tenant_id=tenant_id, user_id=admin_id, role=Role.ADMIN
        )
        assert SECTION.current(other) == changed
        assert SECTION.load(session, tenant_id) == changed
        # a snapshot of another tenant is never taken for this one
        assert SECTION.from_snapshot(session, uuid.uuid4()) == type(before)()


def test_switching_the_transaction_to_another_tenant_drops_the_first_ones_snapshot(
    client, database
):
    """A transaction that resolved tenant A's principal and then moves to tenant B (the
    tenant switch, a job over tenants) reads B's settings, never A's snapshot as B's."""
    from servicedesk.platform.db import set_tenant
    from servicedesk.tickets.settings import SECTION

    a, b = make_tenant(client, roles=("requester",)), make_tenant(client, roles=("requester",))
    read = client.get("/v1/settings/tickets", headers=b.admin.headers)
    saved = client.put(
        "/v1/settings/tickets",
        json={**read.json(), "number_prefix": "BEE"},
        headers={**b.admin.headers, "If-Match": read.headers["etag"]},
    )
    assert saved.status_code == 200, saved.text
    a_id, b_id = uuid.UUID(a.tenant_id), uuid.UUID(b.tenant_id)
    claims = Claims(
        kind="internal", subject=a.admin.user_id, tenant=a.tenant_id, role="admin", issuer="test"
    )
    with transaction() as session:
        resolve_principal(session, claims)
        assert SECTION.from_snapshot(session, a_id).number_prefix != "BEE"
        set_tenant(session, tenant_id=b_id, user_id=uuid.UUID(b.admin.user_id))
        assert SECTION.from_snapshot(session, b_id).number_prefix == "BEE"
