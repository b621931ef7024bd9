"""``/v1/settings/ldap``: the tenant's directory (identity/directory.py), admins only.

Routed to the identity function (stacks/api.py ``METHOD_OVERRIDES``): the one in the VPC
with the egress to the directory, and the one that reads the service password at sign-in.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field
from sqlalchemy import text

from servicedesk.identity import directory, directory_login
from servicedesk.identity.directory import (
    DirectoryUnavailable,
    LdapSettings,
    LdapSettingsInput,
    LdapSettingsPublic,
)
from servicedesk.platform import secrets, tenant_settings
from servicedesk.platform.config import get_settings
from servicedesk.platform.context import Ctx
from servicedesk.platform.errors import ValidationProblem, field_error
from servicedesk.platform.params import IfMatch
from servicedesk.platform.rbac import Permission, requires
from servicedesk.platform.roles import Role
from servicedesk.platform.tenancy import RequestContext
from servicedesk.platform.versioning import check_etag

settings_router = APIRouter(prefix="/v1/settings", tags=["settings"])
ADMIN = [requires(Permission.ADMIN_IDENTITY)]
SECTION = directory.SECTION
SECRET_KIND = "ldap-bind"  # noqa: S105 - a name part, not a secret
REQUIRED_WHEN_ENABLED = ("host", "bind_dn", "user_search_base")


@settings_router.get(
    "/ldap",
    dependencies=ADMIN,
    summary="The tenant's directory (LDAP) settings",
    name="get_ldap_settings",
    response_model=LdapSettingsPublic,
)
def get_ldap_settings(ctx: Ctx, response: Response) -> Any:
    return LdapSettingsPublic.of(tenant_settings.read(ctx, SECTION, response))


def _check(ctx: RequestContext, value: LdapSettings) -> None:
    if not value.enabled:
        return
    errors = [
        field_error(name, "required") for name in REQUIRED_WHEN_ENABLED if not getattr(value, name)
    ]
    if value.password_secret_arn is None:
        errors.append(field_error("password", "required to enable the directory"))
    if value.group_lookup == "search" and not value.group_search_base:
        errors.append(field_error("group_search_base", "required for group_lookup search"))
    if errors:
        raise ValidationProblem(errors=errors)


def _check_teams(ctx: RequestContext, value: LdapSettings) -> None:
    wanted = {m.team_id for m in value.group_teams}
    if not wanted:
        return
    known = set(
        ctx.session.execute(
            text("SELECT id FROM teams WHERE tenant_id = :t AND id = ANY(:ids)"),
            {"t": ctx.tenant_id, "ids": list(wanted)},
        ).scalars()
    )
    if wanted - known:
        raise ValidationProblem(errors=[field_error("group_teams", "names an unknown team")])


def _check_all(ctx: RequestContext, value: LdapSettings) -> None:
    _check(ctx, value)
    _check_teams(ctx, value)


@settings_router.put(
    "/ldap",
    dependencies=ADMIN,
    summary="Replace the directory (LDAP) settings (needs If-Match with the ETag you read)",
    description="`password` sets the service account's password (kept in Secrets Manager, "
    "never returned: `has_password`); omitted, the stored one stays.",
    name="put_ldap_settings",
    response_model=LdapSettingsPublic,
)
def put_ldap_settings(
    body: LdapSettingsInput, ctx: Ctx, response: Response, if_match: IfMatch = None
) -> Any:
    before = SECTION.load(ctx.session, ctx.tenant_id)
    check_etag(if_match, tenant_settings.etag(before))
    arn = before.password_secret_arn
    fields = body.model_dump(exclude={"password"})
    if body.password is not None and arn is None:
        candidate = LdapSettings(**fields, password_secret_arn="(new)")  # noqa: S106
        _check_all(ctx, candidate)  # refuse before a secret is created
        arn = secrets.create(
            get_settings().identity_secret_prefix,
            tenant_id=ctx.tenant_id,
            kind=SECRET_KIND,
            object_id=ctx.tenant_id,
            value=body.password,
        )
    elif body.password is not None and arn is not None:
        _check_all(ctx, LdapSettings(**fields, password_secret_arn=arn))
        secrets.replace(arn, body.password)
    stored = tenant_settings.replace(
        ctx,
        SECTION,
        LdapSettings(**fields, password_secret_arn=arn),
        if_match=if_match,
        answer=response,
        check=_check_all,
    )
    return LdapSettingsPublic.of(stored)


class DirectoryTest(BaseModel):
    username: str = Field(min_length=1, max_length=254, description="A user to look up")


class DirectoryTestResult(BaseModel):
    ok: bool = Field(description="The service account bound (TLS and certificate checked)")
    found: bool = False
    dn: str | None = None
    email: str | None = None
    name: str | None = None
    groups: list[str] = Field(default_factory=list)
    role: Role | None = Field(default=None, description="The role the groups map to")
    error: str | None = None


@settings_router.post(
    "/ldap/test",
    dependencies=ADMIN,
    summary="Test the directory: bind as the service account and look a user up",
    description="Uses the saved settings; no user's password is needed or sent.",
    name="test_ldap_settings",
)
def test_ldap_settings(body: DirectoryTest, ctx: Ctx) -> DirectoryTestResult:
    config = SECTION.load(ctx.session, ctx.tenant_id)
    missing = [name for name in REQUIRED_WHEN_ENABLED if not getattr(config, name)]
    if missing:
        raise ValidationProblem(
            "save the directory's settings first",
            errors=[field_error(name, "required") for name in missing],
        )
    try:
        person = directory.find(config, directory_login.service_password(config), body.username)
    except DirectoryUnavailable as exc:
        return DirectoryTestResult(ok=False, error=str(exc))
    if person is None:
        return DirectoryTestResult(ok=True, found=False)
    return DirectoryTestResult(
        ok=True,
        found=True,
        dn=person.dn,
        email=person.email,
        name=person.name,
        groups=list(person.groups),
        role=directory.role_for(config, person.groups),
    )


test_ldap_settings.__test__ = False  # type: ignore[attr-defined]  # not a pytest test
