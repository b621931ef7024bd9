"""Inbound e-mail delivery hooks: ``POST /v1/hooks/{provider}`` (DESIGN invariant 9).

Order matters: the raw body is verified (HMAC over ``"<t>.<raw body>"``, the same scheme as
outbound deliveries, keyed by ``inbound_hook_secret``) and stale timestamps refused before
anything touches the database. Only then is the notification deduplicated on (provider,
external id) and turned into an outbox event (``email.bounced`` / ``email.complained``);
the consumer applies it (:func:`apply`: a permanent bounce or a complaint suppresses the
address), so the hook answers 202 right away.

Providers: ``generic`` (our JSON schema) and ``ses`` (an SNS notification of an SES Bounce or
Complaint, relayed with our HMAC header). Real SNS signatures are X.509-signed: checking one
means fetching the signing certificate from ``SigningCertURL`` over the network, which the
functions cannot do here (and an unpinned fetch is itself an SSRF vector). Until a verifier
with a pinned certificate host and a cache exists, SES notifications are accepted only when
a relay signed them with our HMAC, so everything accepted has been verified before any read.

Attribution: our mailer tags every SES message with ``servicedesk_tenant``; the generic
schema carries ``tenant_id``. The hook events table and the suppression list (owned by
notifications: ``notifications/suppressions.py``) are global (see migration 0006).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from servicedesk.notifications import suppressions
from servicedesk.platform import outbox
from servicedesk.platform.config import Settings
from servicedesk.platform.consumer import Envelope
from servicedesk.platform.errors import (
    NotFound,
    PayloadTooLarge,
    Unauthorized,
    ValidationProblem,
    field_error,
    validation_errors,
)
from servicedesk.platform.schemas import Email, Input
from servicedesk.webhooks import signing

PROVIDERS = frozenset({"ses", "generic"})
BOUNCED = "email.bounced"
COMPLAINED = "email.complained"
EVENT_TYPES = frozenset({BOUNCED, COMPLAINED})
# SNS messages are at most 256 KiB; nothing legitimate here is larger.
MAX_BYTES = 256 * 1024
SES_TENANT_TAG = "servicedesk_tenant"
MAX_RECIPIENTS = 50

ExternalId = Annotated[str, StringConstraints(min_length=1, max_length=256)]


@dataclass(frozen=True)
class Notice:
    """One verified delivery notification, ready for the outbox."""

    external_id: str
    event_type: str
    tenant_id: uuid.UUID
    recipients: list[str]
    permanent: bool
    detail: str


# --- verification: no database ------------------------------------------------------------


def _secret(settings: Settings) -> str | None:
    if settings.inbound_hook_secret is None:
        return None
    return settings.inbound_hook_secret.get_secret_value() or None


def verified_notices(
    provider: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    settings: Settings,
    now: float | None = None,
) -> list[Notice]:
    """The notices in ``body`` once its signature checks out; 404/413/401/422 otherwise."""
    if provider not in PROVIDERS:
        raise NotFound("no such hook provider")
    if len(body) > MAX_BYTES:
        raise PayloadTooLarge(f"hook bodies must not exceed {MAX_BYTES} bytes")
    secret = _secret(settings)
    try:
        if secret is None:
            raise signing.SignatureError("no secret configured for inbound hooks")
        signing.verify(
            secret,
            headers.get(signing.SIGNATURE_HEADER),
            body,
            now=time.time() if now is None else now,
        )
    except signing.SignatureError as exc:
        raise Unauthorized(
            "missing, invalid or stale signature",
            headers={"WWW-Authenticate": f'{signing.SIGNATURE_HEADER} realm="servicedesk-hooks"'},
        ) from exc
    return parse(provider, body)


# --- parsing (after verification) ---------------------------------------------------------


class GenericNotice(Input):
    id: ExternalId = Field(description="The provider's unique id of this notification")
    type: Literal["bounce", "complaint"]
    tenant_id: uuid.UUID
    recipients: list[Email] = Field(min_length=1, max_length=MAX_RECIPIENTS)
    bounce_type: Literal["permanent", "transient"] = "permanent"
    detail: Annotated[str, StringConstraints(max_length=500)] = ""


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore")


class SnsNotification(_Lenient):
    Type: str
    MessageId: ExternalId
    Message: str = ""


class SesRecipient(_Lenient):
    emailAddress: Email  # noqa: N815 - SES's field name


class SesBounce(_Lenient):
    bounceType: str = "Undetermined"  # noqa: N815
    bounceSubType: str = ""  # noqa: N815
    bouncedRecipients: list[SesRecipient] = Field(max_length=MAX_RECIPIENTS)  # noqa: N815


class SesComplaint(_Lenient):
    complainedRecipients: list[SesRecipient] = Field(max_length=MAX_RECIPIENTS)  # noqa: N815
    complaintFeedbackType: str = ""  # noqa: N815


class SesMail(_Lenient):
    tags: dict[str, list[str]] = Field(default_factory=dict)


class SesMessage(_Lenient):
    notificationType: str | None = None  # noqa: N815 - SNS notifications
    eventType: str | None = None  # noqa: N815 - configuration-set event publishing
    mail: SesMail
    bounce: SesBounce | None = None
    complaint: SesComplaint | None = None


def _invalid(exc: ValidationError, prefix: str = "") -> ValidationProblem:
    errors = validation_errors(exc.errors(), prefix=prefix)
    return ValidationProblem("the notification is not valid", errors=errors)


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError as exc:
        raise ValidationProblem(errors=[field_error("body", "malformed JSON")]) from exc


def parse(provider: str, body: bytes) -> list[Notice]:
    raw = _json(body)
    if provider == "generic":
        try:
            notice = GenericNotice.model_validate(raw)
        except ValidationError as exc:
            raise _invalid(exc) from exc
        bounced = notice.type == "bounce"
        return [
            Notice(
                external_id=notice.id,
                event_type=BOUNCED if bounced else COMPLAINED,
                tenant_id=notice.tenant_id,
                recipients=list(notice.recipients),
                permanent=not bounced or notice.bounce_type == "permanent",
                detail=notice.detail,
            )
        ]
    return _parse_ses(raw)


def _parse_ses(raw: Any) -> list[Notice]:
    try:
        sns = SnsNotification.model_validate(raw)
    except ValidationError as exc:
        raise _invalid(exc) from exc
    if sns.Type != "Notification":
        return []  # subscription handshakes are the relay's business
    try:
        message = SesMessage.model_validate(_json(sns.Message.encode()))
    except ValidationError as exc:
        raise _invalid(exc, "Message.") from exc
    kind = message.notificationType or message.eventType
    if kind == "Bounce" and message.bounce is not None:
        bounce = message.bounce
        event_type, permanent = BOUNCED, bounce.bounceType == "Permanent"
        recipients = [r.emailAddress for r in bounce.bouncedRecipients]
        detail = f"{bounce.bounceType}/{bounce.bounceSubType}".strip("/")
    elif kind == "Complaint" and message.complaint is not None:
        event_type, permanent = COMPLAINED, True
        recipients = [r.emailAddress for r in message.complaint.complainedRecipients]
        detail = message.complaint.complaintFeedbackType
    else:
        return []  # deliveries, opens, ...: nothing to do
    tags = message.mail.tags.get(SES_TENANT_TAG) or []
    try:
        tenant_id = uuid.UUID(tags[0])
    except (IndexError, ValueError) as exc:
        raise ValidationProblem(
            "the message carries no tenant tag",
            errors=[field_error(f"Message.mail.tags.{SES_TENANT_TAG}", "missing or not a UUID")],
        ) from exc
    return [Notice(sns.MessageId, event_type, tenant_id, recipients, permanent, detail[:500])]


# --- recording: dedupe + outbox, one transaction per notice ---------------------------------


def record(provider: str, notices: list[Notice]) -> tuple[int, int]:
    """(accepted, duplicates). Each new notice becomes one outbox event."""
    from servicedesk.platform.db import set_tenant, transaction
    from servicedesk.platform.publisher import publish_committed

    accepted = duplicates = 0
    for notice in notices:
        with transaction() as session:
            set_tenant(session, tenant_id=notice.tenant_id, user_id=None)
            if _record_one(session, provider, notice):
                accepted += 1
            else:
                duplicates += 1
        publish_committed(notice.tenant_id, list(session.info.get("outbox_ids", [])))
    return accepted, duplicates


def _record_one(session: Session, provider: str, notice: Notice) -> bool:
    first = session.execute(
        text(
            "INSERT INTO inbound_hook_events (provider, external_id) VALUES (:p, :x)"
            " ON CONFLICT DO NOTHING RETURNING provider"
        ),
        {"p": provider, "x": notice.external_id},
    ).first()
    if first is None:
        return False
    try:
        with session.begin_nested():
            outbox.emit(
                session,
                tenant_id=notice.tenant_id,
                event_type=notice.event_type,
                aggregate_type="email",
                aggregate_id=notice.external_id,
                payload={
                    "provider": provider,
                    "external_id": notice.external_id,
                    "recipients": notice.recipients,
                    "permanent": notice.permanent,
                    "detail": notice.detail,
                },
            )
    except IntegrityError as exc:
        # The only foreign key is the tenant: a tag naming no tenant of ours.
        raise ValidationProblem(
            "the notification names an unknown tenant",
            errors=[field_error("tenant_id", "unknown tenant")],
        ) from exc
    return True


# --- the consumer side ------------------------------------------------------------------------


def apply(session: Session, envelope: Envelope) -> None:
    """Suppress the addresses of a permanent bounce or a complaint (idempotent)."""
    payload = envelope.payload
    if envelope.type == BOUNCED and not payload.get("permanent"):
        return  # a transient bounce: the next message may well arrive
    suppressions.suppress(
        session,
        payload.get("recipients", []),
        reason="bounce" if envelope.type == BOUNCED else "complaint",
        detail=str(payload.get("detail", "")),
    )
