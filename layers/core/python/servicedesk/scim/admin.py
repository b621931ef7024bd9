"""The tenant admin's side of SCIM: enable it, choose the default role, make (rotate) or
revoke the token, and map groups to teams and roles."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import text

from servicedesk.platform import audit
from servicedesk.platform.errors import NotFound
from servicedesk.platform.tenancy import RequestContext
from servicedesk.platform.versioning import check_version, expected_version
from servicedesk.scim import groups
from servicedesk.scim.auth import new_token
from servicedesk.scim.errors import ScimError
from servicedesk.scim.schemas import ScimGroupMapping, ScimSettingsIn

_CONFIG = text(
    "SELECT enabled, default_role, token_prefix, token_created_at, token_created_by, version"
    " FROM scim_configs WHERE tenant_id = :t"
)


def config(ctx: RequestContext, *, lock: bool = False) -> Any:
    """The tenant's SCIM configuration, made (disabled, no token) on first use."""
    ctx.session.execute(
        text("INSERT INTO scim_configs (tenant_id) VALUES (:t) ON CONFLICT DO NOTHING"),
        {"t": ctx.tenant_id},
    )
    query = text(str(_CONFIG) + (" FOR UPDATE" if lock else ""))
    return ctx.session.execute(query, {"t": ctx.tenant_id}).one()


def update(ctx: RequestContext, data: ScimSettingsIn, *, if_match: int | None) -> Any:
    current = config(ctx, lock=True)
    check_version(current.version, expected_version(data.version, if_match), what="SCIM settings")
    ctx.session.execute(
        text(
            "UPDATE scim_configs SET enabled = :e, default_role = :r, version = version + 1,"
            " updated_at = now() WHERE tenant_id = :t"
        ),
        {"t": ctx.tenant_id, "e": data.enabled, "r": data.default_role.value},
    )
    audit.record(
        ctx,
        action="scim.settings_changed",
        entity_type="tenant",
        entity_id=ctx.tenant_id,
        data={"enabled": data.enabled, "default_role": data.default_role.value},
    )
    return config(ctx)


def rotate_token(ctx: RequestContext) -> tuple[str, Any]:
    """A new token replaces the old one at once. The token is returned once; only its
    hash and prefix are kept."""
    config(ctx, lock=True)
    raw, digest, prefix = new_token()
    ctx.session.execute(
        text(
            "UPDATE scim_configs SET token_hash = :h, token_prefix = :p, token_created_at = now(),"
            " token_created_by = :u, version = version + 1, updated_at = now()"
            " WHERE tenant_id = :t"
        ),
        {"t": ctx.tenant_id, "h": digest, "p": prefix, "u": ctx.user_id},
    )
    audit.record(
        ctx,
        action="scim.token_rotated",
        entity_type="tenant",
        entity_id=ctx.tenant_id,
        data={"prefix": prefix},
    )
    return raw, config(ctx)


def revoke_token(ctx: RequestContext) -> None:
    config(ctx, lock=True)
    ctx.session.execute(
        text(
            "UPDATE scim_configs SET token_hash = NULL, token_prefix = NULL,"
            " token_created_at = NULL, token_created_by = NULL, version = version + 1,"
            " updated_at = now() WHERE tenant_id = :t"
        ),
        {"t": ctx.tenant_id},
    )
    audit.record(ctx, action="scim.token_revoked", entity_type="tenant", entity_id=ctx.tenant_id)


def list_groups(ctx: RequestContext) -> list[Any]:
    return list(
        ctx.session.execute(
            text(
                "SELECT g.id, g.display_name, g.external_id, g.team_id, g.role,"
                " (SELECT count(*) FROM scim_group_members m"
                "  WHERE m.tenant_id = g.tenant_id AND m.group_id = g.id) AS members"
                " FROM scim_groups g WHERE g.tenant_id = :t"
                " ORDER BY lower(g.display_name), g.id LIMIT 1000"
            ),
            {"t": ctx.tenant_id},
        ).all()
    )


def map_group(ctx: RequestContext, group_id: uuid.UUID, data: ScimGroupMapping) -> Any:
    try:
        groups.map_group(ctx, group_id, team_id=data.team_id, role=data.role)
    except ScimError as exc:
        if exc.status == 404:
            raise NotFound("no such SCIM group") from exc
        raise
    return next(g for g in list_groups(ctx) if g.id == group_id)
