"""``POST /v1/auth/login`` through a tenant's directory (identity/directory.py).

Which sign-ins go to a directory: a bare user name with the tenant's slug (``tenant``),
or an e-mail whose domain a tenant with an enabled directory lists (that tenant, or the
one named by ``tenant``). An e-mail that has a password account in another organisation
keeps its password sign-in: a tenant's list of domains is not a proof of owning them,
and must not route another organisation's people (and their passwords) to its server.
A person the directory does not know falls back to the password sign-in (a break-glass
admin with a password still gets in); the answer is the same 401 either way.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from servicedesk.identity import directory, memberships, mfa, sessions
from servicedesk.identity.directory import DirectoryUnavailable, LdapSettings
from servicedesk.identity.schemas import LoginRequest
from servicedesk.identity.throttle import PasswordGate, Refused
from servicedesk.platform import audit, secrets
from servicedesk.platform.config import Settings
from servicedesk.platform.db import set_tenant
from servicedesk.platform.errors import (
    BadRequest,
    ServiceUnavailable,
    Unauthorized,
    ValidationProblem,
    field_error,
)
from servicedesk.platform.logging import get_logger
from servicedesk.platform.roles import Role

INVALID_CREDENTIALS = "invalid e-mail or password"
UNAVAILABLE = "the organisation's directory cannot be reached; try again later"


@dataclass(frozen=True)
class Target:
    tenant_id: uuid.UUID
    slug: str
    config: LdapSettings


def _config(session: Session, tenant_id: uuid.UUID) -> LdapSettings:
    set_tenant(session, tenant_id=tenant_id, user_id=None)
    return directory.SECTION.load(session, tenant_id)


def target(session: Session, data: LoginRequest) -> Target | None:
    """The directory this sign-in goes to, or None (the password sign-in)."""
    if "@" not in data.email:
        if data.tenant is None:
            raise ValidationProblem(
                errors=[field_error("tenant", "required to sign in with a user name")]
            )
        tenant_id = session.execute(
            text("SELECT tenant_id_for_slug(:s)"), {"s": data.tenant}
        ).scalar()
        if tenant_id is None:
            raise Refused(Unauthorized(INVALID_CREDENTIALS))
        config = _config(session, tenant_id)
        if not config.enabled:
            raise Refused(Unauthorized(INVALID_CREDENTIALS))
        return Target(tenant_id, data.tenant, config)
    domain = data.email.rsplit("@", 1)[1]
    claims = session.execute(
        text("SELECT tenant_id, tenant_slug FROM auth_ldap_tenants(:d)"), {"d": domain}
    ).all()
    claims = [c for c in claims if data.tenant in (None, c.tenant_slug)]
    if not claims:
        return None
    if len(claims) > 1:
        raise Refused(
            BadRequest(
                "several organisations sign this domain in; name one",
                errors=[field_error("tenant", "required: one of the listed tenants")],
                tenants=sorted(c.tenant_slug for c in claims),
            )
        )
    claim = claims[0]
    elsewhere = session.execute(
        text(
            "SELECT 1 FROM auth_login_candidates(:e)"
            " WHERE password_hash IS NOT NULL AND tenant_id <> :t LIMIT 1"
        ),
        {"e": data.email, "t": claim.tenant_id},
    ).first()
    if elsewhere is not None:
        return None
    return Target(claim.tenant_id, claim.tenant_slug, _config(session, claim.tenant_id))


def offers_user_names(session: Session, slug: str) -> bool:
    """The organisation signs its people in with a bare directory user name (an enabled
    directory, not SSO-only): what the sign-in page asks for when it knows the slug. As
    public as the providers' discovery: nothing about accounts."""
    from servicedesk.identity import sso

    tenant_id = session.execute(text("SELECT tenant_id_for_slug(:s)"), {"s": slug}).scalar()
    if tenant_id is None or sso.sso_only_tenants(session, [tenant_id]):
        return False
    return _config(session, tenant_id).enabled


def service_password(config: LdapSettings) -> str:
    if config.password_secret_arn is None:
        raise DirectoryUnavailable("no service password is set")
    return secrets.read(config.password_secret_arn)


def login(
    session: Session,
    *,
    data: LoginRequest,
    found: Target,
    gate: PasswordGate,
    settings: Settings,
    request_id: str | None,
    device: sessions.Device,
) -> sessions.IssuedTokens | None:
    """Tokens of a directory sign-in; None when the directory does not know the person
    (the caller goes on with the password sign-in)."""
    account = data.email if "@" in data.email else f"{data.email}@{found.slug}"
    gate.refuse_while_locked(session, email=account)
    if not data.password:
        gate.count(session, email=account, succeeded=False)
        raise Refused(Unauthorized(INVALID_CREDENTIALS))
    config = found.config
    try:
        person, verified = directory.authenticate(
            config, service_password(config), data.email, data.password
        )
        if person is None and "@" in data.email:
            return None
    except DirectoryUnavailable as exc:
        get_logger().warning(
            "ldap.unavailable",
            extra={"tenant_id": str(found.tenant_id), "reason": str(exc)},
        )
        raise Refused(ServiceUnavailable(UNAVAILABLE, retry_after=30)) from exc
    gate.count(session, email=account, succeeded=verified)
    if person is None or not verified:
        raise Refused(Unauthorized(INVALID_CREDENTIALS))
    email = person.email or (data.email if "@" in data.email else None)
    if email is None or (config.domains and email.rsplit("@", 1)[-1] not in config.domains):
        get_logger().warning(
            "ldap.email_refused",
            extra={"tenant_id": str(found.tenant_id), "has_email": email is not None},
        )
        raise Refused(Unauthorized(INVALID_CREDENTIALS))
    user_id, role = _provision(session, found, person, email)
    mfa.check_sign_in(
        session,
        tenant_id=found.tenant_id,
        user_id=user_id,
        role=role,
        settings=settings,
        sign_in="directory",
    )
    audit.write(
        session,
        tenant_id=found.tenant_id,
        actor_id=user_id,
        action="auth.login",
        entity_type="user",
        entity_id=user_id,
        request_id=request_id,
        data={"method": "ldap"},
    )
    return sessions.start(
        session,
        tenant_id=found.tenant_id,
        user_id=user_id,
        role=role,
        settings=settings,
        device=device,
        sign_in="directory",
    )


def _follow_groups(
    session: Session, found: Target, user_id: uuid.UUID, role: str, member_of: set[uuid.UUID]
) -> None:
    """Group → team at sign-in, by the teams API's rules (teams/service.put_member; SCIM's
    ``teams.follow_groups``): into the mapped teams of the person's groups only as staff (a
    requester would be picked by round-robin assignment), out of the mapped teams of groups
    they left; audited as the API's changes are. In SQL here: identity must not import the
    teams package (tests/unit/test_boundaries.py)."""
    staff = Role(role).is_staff
    for team_id in (m.team_id for m in found.config.group_teams):
        params = {"t": found.tenant_id, "team": team_id, "u": user_id}
        if staff and team_id in member_of:
            changed = session.execute(
                text(
                    "INSERT INTO team_members (tenant_id, team_id, user_id)"
                    " SELECT :t, id, :u FROM teams WHERE tenant_id = :t AND id = :team"
                    " AND active ON CONFLICT (team_id, user_id) DO UPDATE SET active = true"
                    " WHERE NOT team_members.active RETURNING 1"
                ),
                params,
            ).first()
            action = "team.member_added"
        else:
            changed = session.execute(
                text(
                    "DELETE FROM team_members WHERE tenant_id = :t AND team_id = :team"
                    " AND user_id = :u RETURNING 1"
                ),
                params,
            ).first()
            action = "team.member_removed"
        if changed is not None:
            audit.write(
                session,
                tenant_id=found.tenant_id,
                actor_id=user_id,
                action=action,
                entity_type="team",
                entity_id=team_id,
                request_id=None,
                data={"user_id": str(user_id), "via": "directory"},
            )


def _provision(
    session: Session, found: Target, person: directory.DirectoryUser, email: str
) -> tuple[uuid.UUID, str]:
    """Create or update the person (keyed by the directory's stable id) and their role
    and mapped teams, as the directory says today."""
    set_tenant(session, tenant_id=found.tenant_id, user_id=None)
    try:
        with session.begin_nested():
            raw = session.execute(
                text("SELECT auth_provision_external_user(:iss, :sub, :email, :name)"),
                {
                    "iss": f"ldap:{found.tenant_id}",
                    "sub": person.subject,
                    "email": email,
                    "name": (person.name or email)[:200],
                },
            ).scalar_one()
    except IntegrityError as exc:
        # The address belongs to another account (a password one, or another issuer's).
        raise Refused(Unauthorized(INVALID_CREDENTIALS)) from exc
    user_id = uuid.UUID(str(raw))
    set_tenant(session, tenant_id=found.tenant_id, user_id=user_id)
    role = directory.role_for(found.config, person.groups)
    inserted = session.execute(
        text(
            "INSERT INTO memberships (tenant_id, user_id, role) VALUES (:t, :u, :r)"
            " ON CONFLICT (tenant_id, user_id) DO NOTHING RETURNING role"
        ),
        {"t": found.tenant_id, "u": user_id, "r": role.value},
    ).scalar_one_or_none()
    current = str(inserted or "")
    if inserted is None:
        row = session.execute(
            text("SELECT role, active FROM memberships WHERE tenant_id = :t AND user_id = :u"),
            {"t": found.tenant_id, "u": user_id},
        ).one()
        if not row.active:
            raise Refused(Unauthorized(INVALID_CREDENTIALS))
        current = str(row.role)
        if current != role.value:
            # Guarded: the tenant's last admin keeps the admin role (identity/memberships.py).
            ctx = memberships.sign_in_context(
                session, tenant_id=found.tenant_id, user_id=user_id, role=current
            )
            current = memberships.set_role(ctx, user_id, role, at_sign_in=True).role
    mapped = {m.team_id for m in found.config.group_teams}
    if mapped:
        _follow_groups(
            session, found, user_id, current, directory.teams_for(found.config, person.groups)
        )
    return user_id, current
