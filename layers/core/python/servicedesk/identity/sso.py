"""Sign-in through a tenant's identity provider: the part every kind shares.

A *kind* (``oidc`` here, identity/oidc.py; ``saml`` plugs in the same way) is a ``Kind``
registered by name: it validates its provider's ``config``, builds the redirect to the
IdP (``start``) and turns the IdP's answer into a verified ``Identity`` (``finish``).
Everything else is here, once:

1. ``begin``: a sign-in in flight (``sso_requests``): random ``state`` (stored hashed,
   single use, ``sso_request_ttl_seconds``), bound to the browser by a random cookie
   (stored hashed), a nonce and a PKCE verifier; the kind's redirect.
2. ``complete``: the callback. The state must be known, unused, unexpired, of a provider
   of this kind and sent by the browser that started it; it is used up before the kind
   looks at the IdP's answer. Then just-in-time provisioning (``provision``) and a
   one-time code (hashed, ``sso_grant_ttl_seconds``) the web app exchanges: the tokens
   never travel in a URL.
3. ``exchange``: the code for our session, issued as a password sign-in issues one
   (identity/sessions.py: a session family with its device).

Roles: a new member gets the provider's ``default_role``; a claim changes a role only
through the provider's explicit ``role_map`` (``role_claim`` -> value -> role). Without a
mapped value the desk's role stands: an IdP claim never overwrites it on its own.
"""

from __future__ import annotations

import secrets
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from servicedesk.identity import memberships, sessions
from servicedesk.identity.provisioning import ExistingAccount, link_external_user
from servicedesk.platform import audit
from servicedesk.platform.config import Settings
from servicedesk.platform.db import set_tenant
from servicedesk.platform.errors import (
    Forbidden,
    NotFound,
    Unauthorized,
    ValidationProblem,
    field_error,
)
from servicedesk.platform.logging import get_logger
from servicedesk.platform.roles import Role


@dataclass(frozen=True)
class Identity:
    """Who the IdP vouches for, verified by the kind."""

    issuer: str
    subject: str
    email: str
    name: str | None
    claims: dict[str, Any]


@dataclass(frozen=True)
class Pending:
    """A sign-in in flight, as a kind needs it."""

    state: str
    nonce: str
    code_verifier: str
    redirect_uri: str
    # The replay cache (SAML: ``seen(assertion id, until)`` records the id and answers
    # whether it had been recorded), bound to the transaction and the provider.
    seen: Callable[[str, datetime], bool] | None = None
    # An IdP-initiated answer: no sign-in was started here (the kind decides whether its
    # provider accepts one).
    unsolicited: bool = False


class Refusal(Exception):
    """The IdP's answer is not accepted. ``reason`` is a short code (logged, and shown to
    the person as a generic failure); ``detail`` is for the logs only."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class Kind(ABC):
    """One kind of provider. Stateless: everything a sign-in needs is passed in."""

    name: str

    @abstractmethod
    def validate_config(
        self, raw: dict[str, Any], settings: Settings, previous: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """The config as stored, or ``ValidationProblem`` naming ``config.<field>``.
        ``previous``: the stored config an update replaces (what the input may omit)."""

    @abstractmethod
    def start(self, config: dict[str, Any], pending: Pending, settings: Settings) -> str:
        """The URL of the IdP the browser is sent to."""

    @abstractmethod
    def finish(
        self,
        config: dict[str, Any],
        secret: str | None,
        pending: Pending,
        params: dict[str, str],
        settings: Settings,
    ) -> Identity:
        """The verified identity from the IdP's answer (``params``), or ``Refusal``."""


KINDS: dict[str, Kind] = {}


def register(kind: Kind) -> None:
    KINDS[kind.name] = kind


def kind_of(name: str) -> Kind:
    found = KINDS.get(name)
    if found is None:
        raise ValidationProblem(
            f"sign-in providers of kind {name} are not available yet",
            errors=[field_error("kind", "not available yet")],
        )
    return found


def callback_url(kind: str, settings: Settings) -> str:
    """The redirect URI to register at the IdP (the web app's origin serves /v1)."""
    return f"{settings.web_origin.rstrip('/')}/v1/auth/sso/{kind}/callback"


def _hash(raw: str) -> bytes:
    return sessions.token_hash(raw)


NO_PROVIDER = "no such sign-in provider"


def begin(
    session: Session,
    *,
    tenant_slug: str,
    provider_slug: str,
    return_to: str | None,
    settings: Settings,
) -> tuple[str, str, str]:
    """(the IdP's URL, the browser cookie's value, the provider's kind) for a new sign-in;
    404 for an unknown tenant, provider, or a disabled one (the same answer)."""
    tenant_id = session.execute(text("SELECT tenant_id_for_slug(:s)"), {"s": tenant_slug}).scalar()
    if tenant_id is None:
        raise NotFound(NO_PROVIDER, errors=[field_error("provider", "unknown")])
    set_tenant(session, tenant_id=tenant_id, user_id=None)
    provider = session.execute(
        text(
            "SELECT id, kind, config FROM identity_providers"
            " WHERE tenant_id = :t AND slug = :s AND enabled"
        ),
        {"t": tenant_id, "s": provider_slug},
    ).one_or_none()
    if provider is None or provider.kind not in KINDS:
        raise NotFound(NO_PROVIDER, errors=[field_error("provider", "unknown")])
    pending = Pending(
        state=secrets.token_urlsafe(32),
        nonce=secrets.token_urlsafe(32),
        code_verifier=secrets.token_urlsafe(48),
        redirect_uri=callback_url(provider.kind, settings),
    )
    browser = secrets.token_urlsafe(32)
    try:
        url = KINDS[provider.kind].start(provider.config, pending, settings)
    except Refusal as refusal:
        get_logger().warning(
            "sso start refused", extra={"reason": refusal.reason, "detail": refusal.detail}
        )
        raise NotFound(
            "this sign-in provider cannot be reached now",
            errors=[field_error("provider", "unreachable")],
        ) from refusal
    session.execute(
        text(
            "INSERT INTO sso_requests (tenant_id, provider_id, state_hash, browser_hash, nonce,"
            " code_verifier, return_to, expires_at)"
            " VALUES (:t, :p, :s, :b, :n, :v, :r, :e)"
        ),
        {
            "t": tenant_id,
            "p": provider.id,
            "s": _hash(pending.state),
            "b": _hash(browser),
            "n": pending.nonce,
            "v": pending.code_verifier,
            "r": return_to,
            "e": datetime.now(UTC) + timedelta(seconds=settings.sso_request_ttl_seconds),
        },
    )
    return url, browser, str(provider.kind)


def pending_state(session: Session, state: str) -> bool:
    """Whether ``state`` is that of a sign-in started here (of any tenant)."""
    found = session.execute(text("SELECT auth_sso_request_tenant(:h)"), {"h": _hash(state)})
    return found.scalar() is not None


def complete(
    session: Session,
    *,
    kind: str,
    state: str | None,
    browser: str | None,
    params: dict[str, str],
    settings: Settings,
) -> str:
    """The callback: the one-time code for the web app, or ``Refusal``. The state is used
    up (committed with the refusal too) before the IdP's answer is looked at."""
    if not state or not browser:
        raise Refusal("state", "no state or no browser cookie")
    tenant_id = session.execute(
        text("SELECT auth_sso_request_tenant(:h)"), {"h": _hash(state)}
    ).scalar()
    if tenant_id is None:
        raise Refusal("state", "unknown state")
    set_tenant(session, tenant_id=tenant_id, user_id=None)
    row = session.execute(
        text(
            "SELECT r.id, r.browser_hash, r.nonce, r.code_verifier, r.expires_at, r.used_at,"
            f" {PROVIDER_COLUMNS}"
            " FROM sso_requests r JOIN identity_providers p ON p.id = r.provider_id"
            " WHERE r.state_hash = :h FOR UPDATE OF r"
        ),
        {"h": _hash(state)},
    ).one()
    if not secrets.compare_digest(bytes(row.browser_hash), _hash(browser)):
        raise Refusal("state", "the state was started by another browser")
    if row.used_at is not None:
        raise Refusal("state", "the state was used already")
    session.execute(text("UPDATE sso_requests SET used_at = now() WHERE id = :id"), {"id": row.id})
    if row.expires_at <= datetime.now(UTC):
        raise Refusal("state", "the sign-in took too long")
    if row.kind != kind or not row.enabled or kind not in KINDS:
        raise Refusal("provider", "the provider is disabled or of another kind")
    pending = Pending(
        state=state,
        nonce=row.nonce,
        code_verifier=row.code_verifier,
        redirect_uri=callback_url(kind, settings),
        seen=replay_cache(session, tenant_id=tenant_id, provider_id=row.provider_id),
    )
    return _vouched(session, tenant_id, row, pending, params, settings, request_id=row.id)


PROVIDER_COLUMNS = (
    "p.id AS provider_id, p.kind, p.config, p.secret_arn, p.enabled, p.jit_enabled,"
    " p.default_role, p.role_claim, p.role_map, p.domains"
)


def complete_unsolicited(
    session: Session, *, kind: str, issuer: str, params: dict[str, str], settings: Settings
) -> str:
    """An IdP-initiated answer (no sign-in started here): accepted only from the one
    enabled provider of this kind whose IdP is ``issuer`` and which allows it; the kind
    verifies the answer as unsolicited. The one-time code, or ``Refusal``."""
    found = session.execute(
        text("SELECT tenant_id, provider_id FROM auth_saml_unsolicited(:i)"), {"i": issuer}
    ).all()
    if len(found) != 1:
        reason = "no provider allows it" if not found else "several providers claim this IdP"
        raise Refusal("unsolicited", f"an IdP-initiated answer: {reason}")
    tenant_id, provider_id = found[0]
    set_tenant(session, tenant_id=tenant_id, user_id=None)
    row = session.execute(
        text(f"SELECT {PROVIDER_COLUMNS} FROM identity_providers p WHERE p.id = :p"),
        {"p": provider_id},
    ).one()
    if row.kind != kind or kind not in KINDS:
        raise Refusal("provider", "the provider is of another kind")
    pending = Pending(
        state="",
        nonce="",
        code_verifier="",
        redirect_uri=callback_url(kind, settings),
        seen=replay_cache(session, tenant_id=tenant_id, provider_id=provider_id),
        unsolicited=True,
    )
    return _vouched(session, tenant_id, row, pending, params, settings, request_id=None)


def replay_cache(
    session: Session, *, tenant_id: uuid.UUID, provider_id: uuid.UUID
) -> Callable[[str, datetime], bool]:
    """``seen(id, until)`` over ``sso_assertions``: records the id until ``until`` and
    answers whether it was recorded already (a concurrent first use waits for the other
    transaction and then sees it). Expired ids of the provider go as new ones come."""

    def seen(assertion_id: str, until: datetime) -> bool:
        session.execute(
            text("DELETE FROM sso_assertions WHERE provider_id = :p AND expires_at < now()"),
            {"p": provider_id},
        )
        inserted = session.execute(
            text(
                "INSERT INTO sso_assertions (tenant_id, provider_id, assertion_id, expires_at)"
                " VALUES (:t, :p, :a, :e) ON CONFLICT DO NOTHING RETURNING 1"
            ),
            {"t": tenant_id, "p": provider_id, "a": assertion_id, "e": until},
        ).scalar()
        return inserted is None

    return seen


def _vouched(
    session: Session,
    tenant_id: uuid.UUID,
    provider: Any,
    pending: Pending,
    params: dict[str, str],
    settings: Settings,
    *,
    request_id: uuid.UUID | None,
) -> str:
    """The kind verifies the IdP's answer, the person is provisioned, and the sign-in
    (``request_id``; for an IdP-initiated answer a used-up one of its own) gets the one-time
    code. What the answer leads to (the replay cache's entry included) is undone when it is
    refused."""
    secret = None
    if provider.secret_arn:
        from servicedesk.platform import secrets as stored

        secret = stored.read(provider.secret_arn)
    with session.begin_nested():
        identity = KINDS[provider.kind].finish(provider.config, secret, pending, params, settings)
        user_id = provision(session, tenant_id=tenant_id, provider=provider, identity=identity)
    if request_id is None:
        request_id = session.execute(
            text(
                "INSERT INTO sso_requests (tenant_id, provider_id, state_hash, browser_hash,"
                " nonce, code_verifier, expires_at, used_at)"
                " VALUES (:t, :p, :s, :b, '', '', now(), now()) RETURNING id"
            ),
            {
                "t": tenant_id,
                "p": provider.provider_id,
                "s": _hash(secrets.token_urlsafe(32)),
                "b": _hash(secrets.token_urlsafe(32)),
            },
        ).scalar_one()
    code = secrets.token_urlsafe(32)
    session.execute(
        text(
            "UPDATE sso_requests SET grant_hash = :g, grant_expires_at = :e, user_id = :u"
            " WHERE id = :id"
        ),
        {
            "g": _hash(code),
            "e": datetime.now(UTC) + timedelta(seconds=settings.sso_grant_ttl_seconds),
            "u": user_id,
            "id": request_id,
        },
    )
    return code


def mapped_role(provider: Any, claims: dict[str, Any]) -> Role | None:
    """The role the provider's explicit map gives the person's claim (the highest, for a
    list of values such as groups), or None."""
    role_map: dict[str, str] = provider.role_map or {}
    if not provider.role_claim or not role_map:
        return None
    value = claims.get(provider.role_claim)
    values = value if isinstance(value, list) else [value]
    roles = [Role(role_map[v]) for v in values if isinstance(v, str) and v in role_map]
    return max(roles, key=lambda r: r.rank) if roles else None


def provision(
    session: Session, *, tenant_id: uuid.UUID, provider: Any, identity: Identity
) -> uuid.UUID:
    """The person's account and membership: found by the IdP's (issuer, subject); created
    when the provider allows just-in-time provisioning. Raises ``Refusal``."""
    existing = session.execute(
        text(
            "SELECT u.id FROM users u JOIN memberships m ON m.user_id = u.id"
            " WHERE m.tenant_id = :t AND u.idp_issuer = :iss AND u.idp_subject = :sub"
        ),
        {"t": tenant_id, "iss": identity.issuer, "sub": identity.subject},
    ).scalar()
    linked = None if existing is not None else link_member(session, tenant_id, provider, identity)
    if linked is not None:
        user_id = linked
    else:
        if existing is None and not provider.jit_enabled:
            raise Refusal("not_provisioned", "no member with this identity, and JIT is off")
        try:
            user_id = link_external_user(
                session,
                issuer=identity.issuer,
                subject=identity.subject,
                email=identity.email,
                name=identity.name or identity.email,
            )
        except ExistingAccount as exc:
            raise Refusal("existing_account", "the e-mail belongs to another account") from exc
    set_tenant(session, tenant_id=tenant_id, user_id=user_id)
    mapped = mapped_role(provider, identity.claims)
    member = session.execute(
        text("SELECT role, active FROM memberships WHERE tenant_id = :t AND user_id = :u"),
        {"t": tenant_id, "u": user_id},
    ).one_or_none()
    if member is None:
        if not provider.jit_enabled:
            raise Refusal("not_provisioned", "not a member, and JIT is off")
        session.execute(
            text("INSERT INTO memberships (tenant_id, user_id, role) VALUES (:t, :u, :r)"),
            {"t": tenant_id, "u": user_id, "r": (mapped or Role(provider.default_role)).value},
        )
    elif not member.active:
        raise Refusal("inactive", "the membership is deactivated")
    elif mapped is not None and member.role != mapped.value:
        # Guarded: the tenant's last admin keeps the admin role (identity/memberships.py).
        ctx = memberships.sign_in_context(
            session, tenant_id=tenant_id, user_id=user_id, role=member.role
        )
        memberships.set_role(ctx, user_id, mapped, at_sign_in=True)
    return user_id


def link_member(
    session: Session, tenant_id: uuid.UUID, provider: Any, identity: Identity
) -> uuid.UUID | None:
    """The existing account of the IdP's e-mail, now linked to the IdP's (issuer, subject),
    when the address is in one of the provider's ``domains`` and the account is linked to
    no IdP yet and is an active member of the provider's own tenant (invited, password,
    SCIM or directory people moving to SSO). Never an account that is not this tenant's
    member: that would hand another organisation's person to this tenant's IdP. Audited."""
    domain = identity.email.rpartition("@")[2].lower()
    if not domain or domain not in (provider.domains or []):
        return None
    found = session.execute(
        text("SELECT auth_sso_link_member(:t, :e, :iss, :sub)"),
        {"t": tenant_id, "e": identity.email, "iss": identity.issuer, "sub": identity.subject},
    ).scalar()
    if found is None:
        return None
    user_id = uuid.UUID(str(found))
    set_tenant(session, tenant_id=tenant_id, user_id=user_id)
    audit.write(
        session,
        tenant_id=tenant_id,
        actor_id=user_id,
        action="auth.sso_linked",
        entity_type="user",
        entity_id=user_id,
        request_id=None,
        data={"provider_id": str(provider.provider_id), "issuer": identity.issuer},
    )
    return user_id


REFUSED = "this sign-in link is not valid any more; sign in again"


def exchange(
    session: Session,
    *,
    code: str,
    settings: Settings,
    device: sessions.Device,
    request_id: str | None,
) -> tuple[sessions.IssuedTokens, str | None]:
    """The web app's one-time code for our session (and where the person was going)."""
    refused = Unauthorized(REFUSED, errors=[field_error("code", "unknown, used or expired")])
    tenant_id = session.execute(
        text("SELECT auth_sso_grant_tenant(:h)"), {"h": _hash(code)}
    ).scalar()
    if tenant_id is None:
        raise refused
    set_tenant(session, tenant_id=tenant_id, user_id=None)
    row = session.execute(
        text(
            "SELECT r.id, r.user_id, r.return_to, r.grant_expires_at, r.granted_at, m.role,"
            " m.active, r.provider_id"
            " FROM sso_requests r JOIN memberships m"
            " ON m.tenant_id = r.tenant_id AND m.user_id = r.user_id"
            " WHERE r.grant_hash = :h FOR UPDATE OF r"
        ),
        {"h": _hash(code)},
    ).one_or_none()
    if (
        row is None
        or row.granted_at is not None
        or row.grant_expires_at <= datetime.now(UTC)
        or not row.active
    ):
        raise refused
    session.execute(
        text("UPDATE sso_requests SET granted_at = now() WHERE id = :id"), {"id": row.id}
    )
    set_tenant(session, tenant_id=tenant_id, user_id=row.user_id)
    audit.write(
        session,
        tenant_id=tenant_id,
        actor_id=row.user_id,
        action="auth.sso_login",
        entity_type="identity_provider",
        entity_id=row.provider_id,
        request_id=request_id,
    )
    tokens = sessions.start(
        session,
        tenant_id=tenant_id,
        user_id=row.user_id,
        role=row.role,
        settings=settings,
        device=device,
        sign_in="sso",
    )
    return tokens, row.return_to


@dataclass(frozen=True)
class Offer:
    tenant: str
    tenant_name: str
    provider: str
    name: str
    kind: str


def discover(session: Session, *, email: str | None, tenant: str | None) -> list[Offer]:
    """The enabled providers to offer for an e-mail's domain or a tenant's slug (nothing
    about accounts: the same answer whether or not the address has one)."""
    domain = email.rpartition("@")[2].lower() if email and "@" in email else None
    rows = session.execute(
        text(
            "SELECT tenant_slug, tenant_name, provider_slug, name, kind"
            " FROM auth_sso_discover(:d, :s)"
        ),
        {"d": domain, "s": tenant},
    ).all()
    return [Offer(r.tenant_slug, r.tenant_name, r.provider_slug, r.name, r.kind) for r in rows]


def sso_only_tenants(session: Session, tenant_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """Which of these tenants refuse password, magic-link and recovery sign-in."""
    if not tenant_ids:
        return set()
    return {
        uuid.UUID(str(t))
        for t in session.execute(
            text("SELECT auth_sso_only_tenants(:ids)"), {"ids": tenant_ids}
        ).scalars()
    }


def refuse_password_join(session: Session, tenant_id: uuid.UUID, *, role: str, field: str) -> None:
    """Joining an SSO-only organisation with a password (an invitation, self-registration
    and its confirmation) is refused for everyone but admins (break-glass): its people sign
    in through the provider, where JIT or SCIM creates them. 403 naming ``field``."""
    if role == Role.ADMIN.value or not sso_only_tenants(session, [tenant_id]):
        return
    raise Forbidden(
        "this organisation signs in through its identity provider: use "
        '"Sign in with …" on the sign-in page',
        errors=[field_error(field, "the organisation signs in through its identity provider")],
    )


def sso_only_email(session: Session, email: str) -> bool:
    """The address's account signs in nowhere with a password (every membership is a
    non-admin one of an SSO-only tenant)."""
    return bool(session.execute(text("SELECT auth_sso_only_email(:e)"), {"e": email}).scalar())
