"""Two-step verification: TOTP (RFC 6238) with one-time recovery codes (issue 21 point 4).

One authenticator per person (people are global, like their password): ``user_mfa`` holds
the secret encrypted with AES-GCM under a key derived from ``settings.mfa_secret_key``
(HKDF, its own label; the key never reaches the database), the confirmation time and the
last accepted time step. Ten recovery codes per confirmed enrolment, SHA-256 hashed.

Sign-in: a password login (or an invitation accepted with an existing account's password,
or a confirmed sign-up of an existing account) of a person with a confirmed enrolment does
not start a session: it raises `SecondStep`, and the route answers
``{mfa_required: true, mfa_token}``. ``mfa_token`` is an HMAC (no row), bound to the purpose,
tenant and user, valid ``mfa_token_ttl_seconds``. ``POST /v1/auth/mfa`` with the token and a
code (or a recovery code) starts the session. A staff member of a tenant whose security
settings require two-step verification, and who has none, gets
``{mfa_enrolment_required: true, mfa_token}`` instead; that token only opens the enrolment
routes under ``/v1/auth/mfa/totp``, whose confirmation starts the session.

Codes: ``pyotp`` computes them; this module picks the step, so a code is accepted for the
current step and one either side (clock skew), and only for a step later than the last
accepted (``UPDATE … WHERE last_step < :step``: a replay, even concurrent, is refused).
Second-step failures count per person in ``login_attempts`` (scope ``mfa``) and lock out
like the password's (the same limits and back-off); every failure answers the same.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import os
import secrets
import struct
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import pyotp
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pydantic import BaseModel, Field
from sqlalchemy import text
from sqlalchemy.orm import Session

from servicedesk.identity import throttle
from servicedesk.identity.sessions import SignIn
from servicedesk.identity.throttle import Refused
from servicedesk.platform.config import Environment, Settings, resolve_secret
from servicedesk.platform.db import set_tenant
from servicedesk.platform.errors import (
    Conflict,
    Forbidden,
    NotFound,
    ServiceUnavailable,
    TooManyRequests,
    Unauthorized,
    ValidationProblem,
    field_error,
)
from servicedesk.platform.permissions import Permission
from servicedesk.platform.roles import Role
from servicedesk.platform.schemas import Output
from servicedesk.platform.tenant_settings import Section

DIGITS = 6
INTERVAL = 30
SKEW_STEPS = 1
RECOVERY_CODES = 10
SECRET_BYTES = 20  # 160 bits, RFC 4226's recommendation
_DEV_KEY = b"servicedesk-dev-mfa-key"
_TOKEN = struct.Struct(">B16s16sQ")  # purpose, tenant, user, expiry (epoch s)
_TOKEN_LABEL = b"servicedesk-mfa-token\x00"
_SIG_BYTES = 16
# Recovery codes: two groups of five from an alphabet without look-alikes (50 bits).
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"

SIGN_IN = 1  # the second step of a sign-in
ENROL = 2  # a staff member's enrolment that the tenant's policy requires before sign-in
# Flag in the purpose byte: the first step was the organisation's directory, not a
# password (the session it leads to says so: identity/sessions.SignIn).
_VIA_DIRECTORY = 0x10


class SecuritySettings(BaseModel):
    """``tenants.settings["security"]``."""

    require_mfa_for_staff: bool = Field(
        default=False,
        description="Agents, managers and admins must use two-step verification: one "
        "without it is asked to set it up at sign-in, before any session starts",
    )
    sso_only: bool = Field(
        default=False,
        description="Members sign in only through the organisation's sign-in providers: "
        "password, e-mailed ticket links and password resets are refused for them, except "
        "admins (break-glass: password and two-step verification)",
    )


SECURITY = Section(
    "security",
    SecuritySettings,
    read=Permission.ADMIN_SETTINGS,
    noun="security",
    what="security settings",
)


class MfaChallenge(Output):
    """A sign-in's answer when a second step (or an enrolment) comes before the session."""

    mfa_required: bool = Field(
        default=False, description="Send a code to POST /v1/auth/mfa with mfa_token"
    )
    mfa_enrolment_required: bool = Field(
        default=False,
        description="The organisation requires two-step verification: set it up through "
        "POST /v1/auth/mfa/totp and /confirm with mfa_token",
    )
    mfa_token: str = Field(description="Short-lived; only for the step it names")


class SecondStep(Exception):
    """The password was right; the sign-in continues with a code (or an enrolment)."""

    def __init__(self, body: dict[str, Any]) -> None:
        super().__init__("second step")
        self.body = body


# --- keys and tokens -------------------------------------------------------------------


def _master_key(settings: Settings) -> bytes:
    value = resolve_secret(settings.mfa_secret_key, settings.mfa_secret_key_secret_arn)
    if value:
        return value.encode()
    if settings.environment in (Environment.DEV, Environment.TEST):
        return _DEV_KEY
    raise ServiceUnavailable("two-step verification is not configured", retry_after=300)


def _derive(settings: Settings, label: bytes) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=label)
    return hkdf.derive(_master_key(settings))


def _encrypt(settings: Settings, user_id: uuid.UUID, secret: bytes) -> bytes:
    nonce = os.urandom(12)
    aead = AESGCM(_derive(settings, b"servicedesk-totp-secret"))
    return nonce + aead.encrypt(nonce, secret, user_id.bytes)  # bound to its person


def _decrypt(settings: Settings, user_id: uuid.UUID, stored: bytes) -> bytes:
    aead = AESGCM(_derive(settings, b"servicedesk-totp-secret"))
    try:
        return aead.decrypt(stored[:12], stored[12:], user_id.bytes)
    except InvalidTag as exc:  # another key, or a row copied to another person
        raise ServiceUnavailable(
            "two-step verification cannot read this account's key", retry_after=300
        ) from exc


def make_token(
    settings: Settings,
    *,
    purpose: int,
    tenant_id: uuid.UUID,
    user_id: uuid.UUID,
    sign_in: SignIn = "password",
) -> str:
    expires = int(time.time()) + settings.mfa_token_ttl_seconds
    kind = purpose | (_VIA_DIRECTORY if sign_in == "directory" else 0)
    payload = _TOKEN.pack(kind, tenant_id.bytes, user_id.bytes, expires)
    key = _derive(settings, b"servicedesk-mfa-token")
    sig = hmac.new(key, _TOKEN_LABEL + payload, hashlib.sha256).digest()[:_SIG_BYTES]
    return base64.urlsafe_b64encode(payload + sig).decode().rstrip("=")


@dataclass(frozen=True)
class TokenClaims:
    tenant_id: uuid.UUID
    user_id: uuid.UUID
    sign_in: SignIn = "password"


def read_token(
    settings: Settings, token: str, *, purpose: int, now: float | None = None
) -> TokenClaims | None:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except ValueError:
        return None
    if len(raw) != _TOKEN.size + _SIG_BYTES:
        return None
    payload, sig = raw[: _TOKEN.size], raw[_TOKEN.size :]
    key = _derive(settings, b"servicedesk-mfa-token")
    expected = hmac.new(key, _TOKEN_LABEL + payload, hashlib.sha256).digest()[:_SIG_BYTES]
    if not hmac.compare_digest(sig, expected):
        return None
    kind, tenant, user, expires = _TOKEN.unpack(payload)
    if kind & ~_VIA_DIRECTORY != purpose or expires <= (time.time() if now is None else now):
        return None
    via: SignIn = "directory" if kind & _VIA_DIRECTORY else "password"
    return TokenClaims(uuid.UUID(bytes=tenant), uuid.UUID(bytes=user), via)


# --- codes -----------------------------------------------------------------------------


def _totp(secret: bytes) -> pyotp.TOTP:
    return pyotp.TOTP(base64.b32encode(secret).decode(), digits=DIGITS, interval=INTERVAL)


def matching_step(secret: bytes, code: str, *, now: float | None = None) -> int | None:
    """The time step (current, or one either side) whose code ``code`` is; None if none."""
    if len(code) != DIGITS or not code.isdigit():
        return None
    totp = _totp(secret)
    current = totp.timecode(_datetime(now))
    found = None
    for step in range(current - SKEW_STEPS, current + SKEW_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            found = step  # no early exit: the same work whichever step matches
    return found


def _datetime(now: float | None) -> Any:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(time.time() if now is None else now, UTC)


def normalise_recovery_code(code: str) -> str:
    return "".join(ch for ch in code.lower() if ch.isalnum())


def _recovery_hash(code: str) -> bytes:
    return hashlib.sha256(
        b"servicedesk-recovery\x00" + normalise_recovery_code(code).encode()
    ).digest()


def _new_recovery_code() -> str:
    chars = [secrets.choice(_ALPHABET) for _ in range(10)]
    return "".join(chars[:5]) + "-" + "".join(chars[5:])


def otpauth_uri(secret: bytes, *, issuer: str, account: str) -> str:
    label = quote(f"{issuer}:{account}", safe="@:")
    query = (
        f"secret={base64.b32encode(secret).decode().rstrip('=')}&issuer={quote(issuer, safe='')}"
        f"&algorithm=SHA1&digits={DIGITS}&period={INTERVAL}"
    )
    return f"otpauth://totp/{label}?{query}"


def qr_svg(uri: str) -> str:
    import segno

    qr = segno.make(uri, error="m", micro=False)
    out = io.BytesIO()
    # A standalone document (with its namespace): the web app shows it as an image.
    qr.save(out, kind="svg", xmldecl=False, svgns=True, nl=False, scale=4, border=2,
            dark="#000", light="#fff")  # fmt: skip
    return out.getvalue().decode()


# --- state -----------------------------------------------------------------------------


@dataclass
class Status:
    enabled: bool
    pending: bool
    confirmed_at: Any = None
    recovery_codes_left: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


_ROW = text("SELECT secret, confirmed_at, last_step FROM user_mfa WHERE user_id = :u")


def status(session: Session, *, user_id: uuid.UUID) -> Status:
    row = session.execute(_ROW, {"u": user_id}).one_or_none()
    if row is None:
        return Status(enabled=False, pending=False)
    left = session.execute(
        text("SELECT count(*) FROM user_mfa_recovery_codes WHERE user_id = :u AND used_at IS NULL"),
        {"u": user_id},
    ).scalar_one()
    return Status(
        enabled=row.confirmed_at is not None,
        pending=row.confirmed_at is None,
        confirmed_at=row.confirmed_at,
        recovery_codes_left=int(left),
    )


def is_enabled(session: Session, *, user_id: uuid.UUID) -> bool:
    return bool(
        session.execute(
            text("SELECT 1 FROM user_mfa WHERE user_id = :u AND confirmed_at IS NOT NULL"),
            {"u": user_id},
        ).first()
    )


def required_for(session: Session, *, tenant_id: uuid.UUID, role: str) -> bool:
    """Whether the tenant's policy requires two-step verification of this role."""
    if not Role(role).is_staff:
        return False
    # Loaded, not from the request's snapshot: a sign-in or a switch reads another tenant's
    # settings than the one the principal statement (if any) read.
    return SECURITY.load(session, tenant_id).require_mfa_for_staff


@dataclass(frozen=True)
class Enrolment:
    secret: str  # base32, to type in
    otpauth_uri: str
    qr_svg: str


def start_enrolment(session: Session, *, user_id: uuid.UUID, settings: Settings) -> Enrolment:
    """A new secret for the person (replacing an unconfirmed one); refused (409) when
    two-step verification is on already, or when the person has no password."""
    person = session.execute(
        text(
            "SELECT u.email, u.password_hash IS NOT NULL AS has_password,"
            " coalesce(nullif(t.settings -> 'branding' ->> 'display_name', ''), t.name) AS brand"
            " FROM users u, tenants t"
            " WHERE u.id = :u AND t.id = NULLIF(current_setting('app.tenant_id', true), '')::uuid"
        ),
        {"u": user_id},
    ).one()
    if not person.has_password:
        raise Conflict(
            "two-step verification is for accounts that sign in with a password;"
            " set a password first (or use your identity provider's)"
        )
    if is_enabled(session, user_id=user_id):
        raise Conflict("two-step verification is on already: turn it off first")
    secret = secrets.token_bytes(SECRET_BYTES)
    session.execute(
        text(
            "INSERT INTO user_mfa (user_id, secret) VALUES (:u, :s)"
            " ON CONFLICT (user_id) DO UPDATE SET secret = excluded.secret, last_step = NULL,"
            " created_at = now(), updated_at = now()"
        ),
        {"u": user_id, "s": _encrypt(settings, user_id, secret)},
    )
    uri = otpauth_uri(secret, issuer=str(person.brand), account=str(person.email))
    return Enrolment(base64.b32encode(secret).decode().rstrip("="), uri, qr_svg(uri))


def _gate(session: Session, *, user_id: uuid.UUID, settings: Settings) -> None:
    wait = throttle.failures_wait(
        session,
        scope="mfa",
        key=str(user_id),
        limit=settings.login_max_failures_account,
        settings=settings,
    )
    if wait > 0:
        raise Refused(
            TooManyRequests("too many failed attempts; try again later", retry_after=wait)
        )


def _count(session: Session, *, user_id: uuid.UUID, ok: bool) -> None:
    session.execute(
        text("INSERT INTO login_attempts (scope, key, succeeded) VALUES ('mfa', :k, :ok)"),
        {"k": str(user_id), "ok": ok},
    )


def _accept_code(
    session: Session, *, user_id: uuid.UUID, code: str, settings: Settings, pending: bool
) -> bool:
    row = session.execute(_ROW, {"u": user_id}).one_or_none()
    if row is None or (row.confirmed_at is None) != pending:
        return False
    step = matching_step(_decrypt(settings, user_id, row.secret), code)
    if step is None:
        return False
    taken = session.execute(
        text(
            "UPDATE user_mfa SET last_step = :s, updated_at = now()"
            " WHERE user_id = :u AND (last_step IS NULL OR last_step < :s) RETURNING 1"
        ),
        {"u": user_id, "s": step},
    ).first()
    return taken is not None


def _accept_recovery_code(session: Session, *, user_id: uuid.UUID, code: str) -> bool:
    used = session.execute(
        text(
            "UPDATE user_mfa_recovery_codes SET used_at = now()"
            " WHERE user_id = :u AND code_hash = :h AND used_at IS NULL RETURNING 1"
        ),
        {"u": user_id, "h": _recovery_hash(code)},
    ).first()
    return used is not None


def verify(
    session: Session,
    *,
    user_id: uuid.UUID,
    code: str | None,
    recovery_code: str | None,
    settings: Settings,
) -> str | None:
    """Check a code or a recovery code of the person's confirmed enrolment, through the
    per-person lockout (raises `Refused` 429); counts the attempt. Returns how ("totp" or
    "recovery_code"), or None when it does not pass."""
    _gate(session, user_id=user_id, settings=settings)
    how = None
    if code is not None and _accept_code(
        session, user_id=user_id, code=code, settings=settings, pending=False
    ):
        how = "totp"
    elif (
        recovery_code is not None
        and is_enabled(session, user_id=user_id)
        and _accept_recovery_code(session, user_id=user_id, code=recovery_code)
    ):
        how = "recovery_code"
    _count(session, user_id=user_id, ok=how is not None)
    return how


def confirm_enrolment(
    session: Session, *, user_id: uuid.UUID, code: str, settings: Settings
) -> list[str] | None:
    """Turn on a pending enrolment with its first code: the recovery codes (shown once),
    or None when the code does not pass (counted like a sign-in's)."""
    _gate(session, user_id=user_id, settings=settings)
    row = session.execute(_ROW, {"u": user_id}).one_or_none()
    if row is None or row.confirmed_at is not None:
        raise NotFound(
            "no enrolment to confirm: start one first",
            errors=[field_error("code", "no enrolment waits for a code")],
        )
    ok = _accept_code(session, user_id=user_id, code=code, settings=settings, pending=True)
    _count(session, user_id=user_id, ok=ok)
    if not ok:
        return None
    session.execute(
        text("UPDATE user_mfa SET confirmed_at = now(), updated_at = now() WHERE user_id = :u"),
        {"u": user_id},
    )
    return new_recovery_codes(session, user_id=user_id)


def new_recovery_codes(session: Session, *, user_id: uuid.UUID) -> list[str]:
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODES)]
    session.execute(text("DELETE FROM user_mfa_recovery_codes WHERE user_id = :u"), {"u": user_id})
    session.execute(
        text("INSERT INTO user_mfa_recovery_codes (user_id, code_hash) VALUES (:u, :h)"),
        [{"u": user_id, "h": _recovery_hash(code)} for code in codes],
    )
    return codes


def remove_own(session: Session, *, user_id: uuid.UUID) -> bool:
    session.execute(text("DELETE FROM user_mfa_recovery_codes WHERE user_id = :u"), {"u": user_id})
    gone = session.execute(
        text("DELETE FROM user_mfa WHERE user_id = :u RETURNING 1"), {"u": user_id}
    ).first()
    return gone is not None


def admin_reset(session: Session, *, user_id: uuid.UUID) -> str:
    """An admin removes a member's enrolment (``auth_mfa_admin_reset``); raises 404 for
    someone who is not a member here and 409 for a person of other organisations too."""
    outcome = str(
        session.execute(text("SELECT auth_mfa_admin_reset(:u)"), {"u": user_id}).scalar_one()
    )
    if outcome == "unknown":
        raise NotFound("no such user")
    if outcome == "shared":
        raise Conflict(
            "this person belongs to other organisations too: an admin of one cannot turn off"
            " their two-step verification; they can sign in with a recovery code and turn it"
            " off themselves"
        )
    return outcome


# --- sign-in ---------------------------------------------------------------------------


_SIGN_IN = text(
    "SELECT EXISTS (SELECT 1 FROM user_mfa WHERE user_id = :u AND confirmed_at IS NOT NULL)"
    " AS enabled, (SELECT settings -> 'security' FROM tenants WHERE id = :t) AS security"
)


def check_sign_in(
    session: Session,
    *,
    tenant_id: uuid.UUID,
    user_id: uuid.UUID,
    role: str,
    settings: Settings,
    sign_in: SignIn = "password",
) -> None:
    """Between a verified password (or mailed proof) and a session: raises `SecondStep`
    when the person has two-step verification, or when the tenant requires it of this role
    and the person has none. The transaction is the tenant's, as the caller's. One round
    trip: every password sign-in pays it (docs/benchmarks.md, "Two-step verification")."""
    row = session.execute(_SIGN_IN, {"u": user_id, "t": tenant_id}).one()
    if row.enabled:
        token = make_token(
            settings, purpose=SIGN_IN, tenant_id=tenant_id, user_id=user_id, sign_in=sign_in
        )
        raise SecondStep(MfaChallenge(mfa_required=True, mfa_token=token).model_dump())
    policy = SecuritySettings.model_validate(row.security or {})
    if Role(role).is_staff and policy.require_mfa_for_staff:
        token = make_token(
            settings, purpose=ENROL, tenant_id=tenant_id, user_id=user_id, sign_in=sign_in
        )
        raise SecondStep(MfaChallenge(mfa_enrolment_required=True, mfa_token=token).model_dump())


def check_switch(session: Session, *, tenant_id: uuid.UUID, user_id: uuid.UUID, role: str) -> None:
    """Switching into a tenant that requires two-step verification of the role, without it:
    refused (403), as a sign-in there would be."""
    if required_for(session, tenant_id=tenant_id, role=role) and not is_enabled(
        session, user_id=user_id
    ):
        raise Forbidden(
            "this organisation requires two-step verification: set it up in your profile first",
            errors=[field_error("tenant", "requires two-step verification")],
        )


def refused() -> Refused:
    """The one answer for every failed second step: a wrong, used or replayed code, an
    expired or altered token, a membership that ended."""
    return Refused(
        Unauthorized(
            "the code is not valid, or this sign-in expired: try again, or sign in again",
            errors=[field_error("code", "not valid")],
        )
    )


@dataclass(frozen=True)
class Member:
    tenant_id: uuid.UUID
    user_id: uuid.UUID
    role: str
    sign_in: SignIn = "password"


def member_of_token(session: Session, *, token: str, purpose: int, settings: Settings) -> Member:
    """The active membership a second-step token names (the transaction set to it), or the
    one refusal."""
    claims = read_token(settings, token, purpose=purpose)
    if claims is None:
        raise refused()
    set_tenant(session, tenant_id=claims.tenant_id, user_id=claims.user_id)
    row = session.execute(
        text("SELECT role, active FROM memberships WHERE tenant_id = :t AND user_id = :u"),
        {"t": claims.tenant_id, "u": claims.user_id},
    ).one_or_none()
    if row is None or not row.active:
        raise refused()
    return Member(claims.tenant_id, claims.user_id, str(row.role), claims.sign_in)


def code_choice(code: str | None, recovery_code: str | None) -> None:
    """Exactly one of ``code`` and ``recovery_code`` (422 naming both otherwise)."""
    if (code is None) == (recovery_code is None):
        message = "give exactly one of code and recovery_code"
        raise ValidationProblem(
            message,
            errors=[field_error("code", message), field_error("recovery_code", message)],
        )
