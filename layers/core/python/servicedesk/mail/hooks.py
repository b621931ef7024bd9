"""Provider hooks for inbound mail: admins' configuration, and a delivery's way in.

A delivery (``POST /v1/hooks/email/{provider}/{hook_id}``): the hook is looked up by its id
(``mail_hook_lookup``: enabled hooks only, before any tenant transaction) and its secret
read from Secrets Manager before the body is looked at; the provider's credentials are
verified (``mail.providers``); only then is anything written. In the tenant's transaction
the receipt row (provider, message id) is claimed first, so a duplicate delivery, even a
concurrent one, waits for the first and finds it; then ``inbox.deposit`` writes the
message to the mail bucket and tells the intake queue, and the transaction commits. A
failure anywhere before the commit answers 5xx and writes nothing the retry would trip on.
An unknown hook, a disabled one, one of another provider and bad credentials are the
same 401.
"""

from __future__ import annotations

import contextlib
import secrets as random
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, text

from servicedesk.mail import inbox, providers
from servicedesk.mail.source_models import MailHook
from servicedesk.mail.source_schemas import MailHookCreate, MailHookUpdate
from servicedesk.platform import audit, secrets
from servicedesk.platform.config import Settings, get_settings
from servicedesk.platform.crud import changed_fields
from servicedesk.platform.db import set_tenant, transaction
from servicedesk.platform.errors import NotFound, PayloadTooLarge, ValidationProblem, field_error
from servicedesk.platform.pagination import TIMESTAMP, UUID, Key, Keyset, paginate
from servicedesk.platform.tenancy import RequestContext
from servicedesk.platform.versioning import check_version, expected_version
from servicedesk.webhooks import signing

HOOK_PATH = "/v1/hooks/email/{provider}/{hook_id}"
# A key no hook has: an unknown hook is verified against it, so it costs what a known one does.
_DECOY = "decoy-" + random.token_hex(32)


def path(hook: MailHook) -> str:
    """Where the provider posts. Mailgun posts raw MIME only to a URL ending in ``mime``."""
    base = HOOK_PATH.format(provider=hook.provider, hook_id=hook.id)
    return f"{base}/mime" if hook.provider == "mailgun" else base


def username(provider: str) -> str | None:
    return providers.BASIC_USERNAME if provider in ("postmark", "sendgrid") else None


def public(hook: MailHook, secret: str | None = None) -> dict[str, Any]:
    shown = {
        column: getattr(hook, column)
        for column in (
            "id",
            "provider",
            "name",
            "enabled",
            "last_received_at",
            "version",
            "created_at",
            "updated_at",
        )
    }
    return {**shown, "path": path(hook), "username": username(hook.provider), "secret": secret}


# --- admins --------------------------------------------------------------------------------

HOOKS_OLDEST = Keyset([Key(MailHook.created_at, TIMESTAMP), Key(MailHook.id, UUID)])


def list_hooks(
    ctx: RequestContext, *, limit: int, cursor: str | None
) -> tuple[list[MailHook], str | None]:
    query = select(MailHook).where(MailHook.tenant_id == ctx.tenant_id)
    return paginate(ctx.session, query, HOOKS_OLDEST, limit=limit, cursor=cursor)


def get_hook(ctx: RequestContext, *, hook_id: uuid.UUID, lock: bool = False) -> MailHook:
    hook = ctx.session.get(MailHook, hook_id, with_for_update=lock or None)
    if hook is None or hook.tenant_id != ctx.tenant_id:
        raise NotFound("no such mail hook")
    return hook


def _new_secret(provider: str) -> str:
    return signing.generate_secret() if provider == "generic" else random.token_urlsafe(32)


def create_hook(ctx: RequestContext, *, data: MailHookCreate) -> tuple[MailHook, str | None]:
    """The hook, and the generated secret to show once (None for mailgun)."""
    hook_id = uuid.uuid4()
    shown = None if data.signing_key is not None else _new_secret(data.provider)
    value = data.signing_key if data.signing_key is not None else shown
    assert value is not None
    arn = secrets.create(
        get_settings(), tenant_id=ctx.tenant_id, kind="hook", object_id=hook_id, value=value
    )
    try:
        hook = MailHook(
            id=hook_id,
            tenant_id=ctx.tenant_id,
            provider=data.provider,
            name=data.name,
            enabled=data.enabled,
            secret_arn=arn,
            created_by=ctx.user_id,
        )
        ctx.session.add(hook)
        ctx.session.flush()
    except BaseException:
        secrets.delete(arn)
        raise
    ctx.session.refresh(hook)
    audit.record(
        ctx,
        action="mail_hook.created",
        entity_type="mail_hook",
        entity_id=hook.id,
        data={"after": data.model_dump(mode="json", exclude={"signing_key"})},
    )
    return hook, shown


def update_hook(
    ctx: RequestContext, *, hook_id: uuid.UUID, data: MailHookUpdate, if_match: int | None
) -> MailHook:
    expected = expected_version(data.version, if_match)
    hook = get_hook(ctx, hook_id=hook_id, lock=True)
    check_version(hook.version, expected, what="mail hook")
    if data.signing_key is not None and hook.provider != "mailgun":
        raise ValidationProblem(
            errors=[field_error("signing_key", "only a mailgun hook takes a signing key")]
        )
    changes = data.model_dump(exclude_unset=True, exclude={"version", "signing_key"})
    diff = changed_fields(hook, changes)
    if not diff["after"] and data.signing_key is None:
        return hook
    for key, value in diff["after"].items():
        setattr(hook, key, value)
    if data.signing_key is not None:
        secrets.replace(hook.secret_arn, data.signing_key)
        diff["after"]["signing_key"] = "(replaced)"
    hook.version += 1
    hook.updated_at = func.now()
    ctx.session.flush()
    ctx.session.refresh(hook)
    audit.record(
        ctx, action="mail_hook.updated", entity_type="mail_hook", entity_id=hook.id, data=diff
    )
    return hook


def rotate_secret(ctx: RequestContext, *, hook_id: uuid.UUID) -> tuple[MailHook, str]:
    hook = get_hook(ctx, hook_id=hook_id, lock=True)
    if hook.provider == "mailgun":
        raise ValidationProblem(
            "a mailgun hook verifies with Mailgun's signing key: PATCH signing_key instead",
            errors=[field_error("provider", "mailgun keys are set, not generated")],
        )
    secret = _new_secret(hook.provider)
    secrets.replace(hook.secret_arn, secret)
    hook.version += 1
    hook.updated_at = func.now()
    ctx.session.flush()
    ctx.session.refresh(hook)
    audit.record(ctx, action="mail_hook.secret_rotated", entity_type="mail_hook", entity_id=hook.id)
    return hook, secret


def delete_hook(ctx: RequestContext, *, hook_id: uuid.UUID) -> None:
    hook = get_hook(ctx, hook_id=hook_id, lock=True)
    arn = hook.secret_arn
    ctx.session.delete(hook)
    ctx.session.flush()
    audit.record(ctx, action="mail_hook.deleted", entity_type="mail_hook", entity_id=hook_id)
    # After the row: were the secret gone first and the commit failed, the hook would stay
    # with no secret. The reverse leaves at worst an orphaned secret.
    secrets.delete(arn)


# --- a delivery ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    tenant_id: uuid.UUID
    slug: str
    provider: str
    secret_arn: str


@dataclass(frozen=True)
class Received:
    duplicate: bool
    status: int


def lookup(hook_id: uuid.UUID) -> Target | None:
    with transaction() as session:
        row = session.execute(text("SELECT * FROM mail_hook_lookup(:id)"), {"id": hook_id}).first()
    return None if row is None else Target(row[0], row[1], row[2], row[3])


def receive(
    provider: str,
    hook_id: uuid.UUID,
    body: bytes,
    headers: Mapping[str, str],
    *,
    settings: Settings,
    now: float | None = None,
) -> Received:
    if provider not in providers.PROVIDERS:
        raise NotFound("no such mail provider")
    if settings.email_intake_queue_url is None:
        raise NotFound("inbound mail is not enabled in this deployment")
    if len(body) > providers.MAX_BODY_BYTES:  # before the lookup: the same 413 for every hook
        raise PayloadTooLarge(f"hook bodies must not exceed {providers.MAX_BODY_BYTES} bytes")
    target = lookup(hook_id)
    if target is None or target.provider != provider:
        # Whatever it says, the answer is the same 401.
        with contextlib.suppress(Exception):
            providers.verify(provider, _DECOY, body, headers, now=now)
        raise providers.refused(provider)
    delivery = providers.verify(
        provider,
        secrets.read(target.secret_arn),
        body,
        headers,
        now=time.time() if now is None else now,
    )
    if len(delivery.raw) > settings.email_max_message_bytes:
        raise PayloadTooLarge(
            f"the message must not exceed {settings.email_max_message_bytes} bytes"
        )
    with transaction() as session:
        set_tenant(session, tenant_id=target.tenant_id, user_id=None)
        claimed = session.execute(
            text(
                "INSERT INTO mail_hook_receipts (tenant_id, hook_id, provider, external_id)"
                " VALUES (:t, :h, :p, :x) ON CONFLICT DO NOTHING RETURNING 1"
            ),
            {"t": target.tenant_id, "h": hook_id, "p": provider, "x": delivery.external_id},
        ).first()
        if claimed is not None:
            # At most once a minute: the row lock would otherwise queue a hook's concurrent
            # deliveries behind each other until each commits.
            session.execute(
                text(
                    "UPDATE mail_hooks SET last_received_at = now() WHERE id = :h"
                    " AND (last_received_at IS NULL"
                    " OR last_received_at < now() - interval '1 minute')"
                ),
                {"h": hook_id},
            )
            inbox.deposit(
                delivery.raw,
                door="hook",
                mail_from=delivery.mail_from,
                recipients=[f"{target.slug}@{settings.email_inbound_domain}"],
                settings=settings,
            )
    return Received(duplicate=claimed is None, status=providers.STATUS[provider])
