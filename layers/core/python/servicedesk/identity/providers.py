"""A tenant's sign-in providers: admins' configuration (identity/sso.py signs in with them).

The config is validated by the provider's kind (for OIDC the issuer's discovery document
is fetched and checked now: a malformed one is a 422 naming its field). The client secret
goes to Secrets Manager (``platform.secrets``, under ``identity_secret_prefix``); the row
keeps its ARN, and no answer carries it. Changes are audited and published
(``identity_provider.created|updated|deleted``, through the outbox, without the config's
secrets: there are none in it, and never the client secret).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select

from servicedesk.identity import sso
from servicedesk.identity.models import IdentityProvider
from servicedesk.identity.sso_schemas import ProviderCreate, ProviderUpdate
from servicedesk.platform import audit, outbox, secrets
from servicedesk.platform.config import get_settings
from servicedesk.platform.constraints import unique_or_conflict
from servicedesk.platform.crud import changed_fields
from servicedesk.platform.errors import NotFound, ValidationProblem, field_error
from servicedesk.platform.pagination import TIMESTAMP, UUID, Key, Keyset, paginate
from servicedesk.platform.tenancy import RequestContext
from servicedesk.platform.versioning import check_version, expected_version

OLDEST = Keyset([Key(IdentityProvider.created_at, TIMESTAMP), Key(IdentityProvider.id, UUID)])
UNIQUE_SLUG = {"identity_providers_slug": ("slug", "already used by another provider")}
CREATED, UPDATED, DELETED = (
    "identity_provider.created",
    "identity_provider.updated",
    "identity_provider.deleted",
)


def list_providers(
    ctx: RequestContext, *, limit: int, cursor: str | None
) -> tuple[list[IdentityProvider], str | None]:
    query = select(IdentityProvider).where(IdentityProvider.tenant_id == ctx.tenant_id)
    return paginate(ctx.session, query, OLDEST, limit=limit, cursor=cursor)


def get_provider(
    ctx: RequestContext, *, provider_id: uuid.UUID, lock: bool = False
) -> IdentityProvider:
    provider = ctx.session.get(IdentityProvider, provider_id, with_for_update=lock or None)
    if provider is None or provider.tenant_id != ctx.tenant_id:
        raise NotFound("no such sign-in provider")
    return provider


def _described(provider: IdentityProvider) -> dict[str, Any]:
    """What the audit log and the events say of a provider (never the secret)."""
    return {
        "id": str(provider.id),
        "kind": provider.kind,
        "name": provider.name,
        "slug": provider.slug,
        "domains": list(provider.domains),
        "enabled": provider.enabled,
        "jit_enabled": provider.jit_enabled,
        "default_role": provider.default_role,
        "has_secret": provider.has_secret,
    }


def _publish(ctx: RequestContext, event: str, provider: IdentityProvider) -> None:
    outbox.emit(
        ctx.session,
        tenant_id=ctx.tenant_id,
        event_type=event,
        aggregate_type="identity_provider",
        aggregate_id=provider.id,
        payload={"provider": _described(provider), "actor_id": str(ctx.user_id)},
    )


def create_provider(ctx: RequestContext, *, data: ProviderCreate) -> IdentityProvider:
    settings = get_settings()
    config = sso.kind_of(data.kind).validate_config(data.config, settings)
    provider_id = uuid.uuid4()
    arn = None
    if data.client_secret is not None:
        arn = secrets.create(
            settings.identity_secret_prefix,
            tenant_id=ctx.tenant_id,
            kind="idp",
            object_id=provider_id,
            value=data.client_secret,
        )
    try:
        provider = IdentityProvider(
            id=provider_id,
            tenant_id=ctx.tenant_id,
            secret_arn=arn,
            created_by=ctx.user_id,
            config=config,
            **data.model_dump(mode="json", exclude={"client_secret", "config"}),
        )
        with unique_or_conflict(
            ctx.session, UNIQUE_SLUG, title="a sign-in provider with this slug exists"
        ):
            ctx.session.add(provider)
    except BaseException:
        if arn is not None:
            secrets.delete(arn)
        raise
    ctx.session.refresh(provider)
    audit.record(
        ctx,
        action=CREATED,
        entity_type="identity_provider",
        entity_id=provider.id,
        data={"after": _described(provider)},
    )
    _publish(ctx, CREATED, provider)
    return provider


def update_provider(
    ctx: RequestContext, *, provider_id: uuid.UUID, data: ProviderUpdate, if_match: int | None
) -> IdentityProvider:
    settings = get_settings()
    expected = expected_version(data.version, if_match)
    provider = get_provider(ctx, provider_id=provider_id, lock=True)
    check_version(provider.version, expected, what="sign-in provider")
    sent = data.model_dump(
        mode="json",
        exclude_unset=True,
        exclude={"version", "client_secret", "remove_client_secret"},
    )
    diff = changed_fields(provider, sent)
    after = diff["after"]
    if "config" in after:
        after["config"] = sso.kind_of(provider.kind).validate_config(
            after["config"], settings, previous=provider.config
        )
    role_claim = after.get("role_claim", provider.role_claim)
    if after.get("role_map", provider.role_map) and not role_claim:
        raise ValidationProblem(errors=[field_error("role_claim", "role_map needs role_claim")])
    secret_changed = data.client_secret is not None or (
        data.remove_client_secret and provider.secret_arn is not None
    )
    if not after and not secret_changed:
        return provider
    old_arn = None
    if data.client_secret is not None:
        if provider.secret_arn is None:
            provider.secret_arn = secrets.create(
                settings.identity_secret_prefix,
                tenant_id=ctx.tenant_id,
                kind="idp",
                object_id=provider.id,
                value=data.client_secret,
            )
        else:
            secrets.replace(provider.secret_arn, data.client_secret)
        after["client_secret"] = "(replaced)"  # noqa: S105
    elif data.remove_client_secret and provider.secret_arn is not None:
        old_arn, provider.secret_arn = provider.secret_arn, None
        after["client_secret"] = "(removed)"  # noqa: S105
    with unique_or_conflict(
        ctx.session, UNIQUE_SLUG, title="a sign-in provider with this slug exists"
    ):
        for key, value in after.items():
            if key != "client_secret":
                setattr(provider, key, value)
        provider.version += 1
        provider.updated_at = func.now()
    ctx.session.refresh(provider)
    audit.record(
        ctx, action=UPDATED, entity_type="identity_provider", entity_id=provider.id, data=diff
    )
    _publish(ctx, UPDATED, provider)
    if old_arn is not None:
        secrets.delete(old_arn)
    return provider


def delete_provider(ctx: RequestContext, *, provider_id: uuid.UUID) -> None:
    provider = get_provider(ctx, provider_id=provider_id, lock=True)
    arn = provider.secret_arn
    _publish(ctx, DELETED, provider)
    ctx.session.delete(provider)
    ctx.session.flush()
    audit.record(ctx, action=DELETED, entity_type="identity_provider", entity_id=provider_id)
    if arn is not None:
        secrets.delete(arn)  # after the row (mail/hooks.py, delete_hook, says why)
