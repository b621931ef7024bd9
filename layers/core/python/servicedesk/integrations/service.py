"""A tenant's integrations: admins' configuration, their secrets, inbound lookups, and the
outbound HTTP call every integration makes.

Each integration's credentials are ONE JSON secret in Secrets Manager (``platform.secrets``,
under ``integrations_secret_prefix``): GitHub's token and webhook secret; Slack's client
secret, signing secret and, once installed, bot token. The row keeps its ARN; no answer
carries a value, except the GitHub webhook secret we generate, shown once at creation.
Every change is audited and published (``integration.created|updated|deleted``, through
the outbox, without any secret).
"""

from __future__ import annotations

import json
import secrets as random
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from servicedesk.integrations.models import Integration, IntegrationLink
from servicedesk.integrations.schemas import IntegrationCreate, IntegrationUpdate
from servicedesk.platform import audit, outbox, secrets
from servicedesk.platform.config import Settings, get_settings
from servicedesk.platform.constraints import unique_or_conflict
from servicedesk.platform.errors import NotFound, ValidationProblem, field_error
from servicedesk.platform.pagination import TIMESTAMP, UUID, Key, Keyset, paginate
from servicedesk.platform.tenancy import RequestContext
from servicedesk.platform.versioning import check_version, expected_version
from servicedesk.webhooks import ssrf

OLDEST = Keyset([Key(Integration.created_at, TIMESTAMP), Key(Integration.id, UUID)])
UNIQUE_NAME = {"integrations_name": ("name", "already used by another integration")}
UNIQUE_WORKSPACE = {"integrations_external": ("code", "this workspace is connected already")}
CREATED, UPDATED, DELETED = "integration.created", "integration.updated", "integration.deleted"
LINKED = "integration.linked"
# What each kind keeps in its secret (never in config, never in an answer).
SECRET_KEYS = {
    "github": ("token", "webhook_secret"),
    "slack": ("client_secret", "signing_secret", "bot_token"),
}


# --- admins' configuration ----------------------------------------------------------------


def list_integrations(
    ctx: RequestContext, *, limit: int, cursor: str | None
) -> tuple[list[Integration], str | None]:
    query = select(Integration).where(Integration.tenant_id == ctx.tenant_id)
    return paginate(ctx.session, query, OLDEST, limit=limit, cursor=cursor)


def get_integration(
    ctx: RequestContext, *, integration_id: uuid.UUID, lock: bool = False
) -> Integration:
    found = ctx.session.get(Integration, integration_id, with_for_update=lock or None)
    if found is None or found.tenant_id != ctx.tenant_id:
        raise NotFound("no such integration")
    return found


def _described(integration: Integration) -> dict[str, Any]:
    """What the audit log and the events say of an integration (never a secret)."""
    return {
        "id": str(integration.id),
        "kind": integration.kind,
        "name": integration.name,
        "enabled": integration.enabled,
        "config": integration.config,
        "installed": integration.installed,
    }


def publish(
    session: Session,
    tenant_id: uuid.UUID,
    event: str,
    integration_id: uuid.UUID,
    payload: dict[str, Any],
) -> None:
    outbox.emit(
        session,
        tenant_id=tenant_id,
        event_type=event,
        aggregate_type="integration",
        aggregate_id=integration_id,
        payload={"integration_id": str(integration_id), **payload},
    )


def _changed(ctx: RequestContext, event: str, integration: Integration, data: Any) -> None:
    audit.record(ctx, action=event, entity_type="integration", entity_id=integration.id, data=data)
    publish(
        ctx.session,
        ctx.tenant_id,
        event,
        integration.id,
        {"integration": _described(integration), "actor_id": str(ctx.user_id)},
    )


def _api_url(value: str | None, settings: Settings, field: str) -> str | None:
    """A GitHub Enterprise base URL: https (http to a local fake only in dev/test), no
    address the SSRF rules refuse; stored without its trailing slash."""
    if value is None:
        return None
    try:
        ssrf.vet(value, local=ssrf.allow_local(settings))
    except ssrf.UnsafeUrl as exc:
        raise ValidationProblem(errors=[field_error(field, str(exc))]) from exc
    return value.rstrip("/")


def _split(kind: str, settings_in: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(config, secret values) of a kind's settings as sent."""
    keys = SECRET_KEYS[kind]
    config = {k: v for k, v in settings_in.items() if k not in keys}
    values = {k: v for k, v in settings_in.items() if k in keys and v is not None}
    return config, values


def create_integration(ctx: RequestContext, *, data: IntegrationCreate) -> Integration:
    settings = get_settings()
    sent = getattr(data, data.kind).model_dump(mode="json")
    config, values = _split(data.kind, sent)
    webhook_secret = None
    if data.kind == "github":
        config["api_url"] = _api_url(config.get("api_url"), settings, "github.api_url")
        webhook_secret = values["webhook_secret"] = random.token_urlsafe(32)
    integration_id = uuid.uuid4()
    arn = secrets.create(
        settings.integrations_secret_prefix,
        tenant_id=ctx.tenant_id,
        kind=data.kind,
        object_id=integration_id,
        value=json.dumps(values),
    )
    try:
        integration = Integration(
            id=integration_id,
            tenant_id=ctx.tenant_id,
            kind=data.kind,
            name=data.name,
            enabled=data.enabled,
            config=config,
            secret_arn=arn,
            created_by=ctx.user_id,
        )
        with unique_or_conflict(
            ctx.session, UNIQUE_NAME, title="an integration with this name exists"
        ):
            ctx.session.add(integration)
    except BaseException:
        secrets.delete(arn)
        raise
    ctx.session.refresh(integration)
    _changed(ctx, CREATED, integration, {"after": _described(integration)})
    integration.webhook_secret = webhook_secret  # type: ignore[attr-defined]  # shown once
    return integration


def update_integration(
    ctx: RequestContext, *, integration_id: uuid.UUID, data: IntegrationUpdate, if_match: int | None
) -> Integration:
    settings = get_settings()
    expected = expected_version(data.version, if_match)
    integration = get_integration(ctx, integration_id=integration_id, lock=True)
    check_version(integration.version, expected, what="integration")
    other = "slack" if integration.kind == "github" else "github"
    if getattr(data, other) is not None:
        raise ValidationProblem(
            errors=[field_error(other, f"not a setting of a {integration.kind} integration")]
        )
    before = _described(integration)
    changes = data.model_dump(mode="json", exclude_unset=True, exclude={"version", other})
    kind_changes = changes.pop(integration.kind, None) or {}
    config, values = _split(integration.kind, kind_changes)
    if "api_url" in config:
        config["api_url"] = _api_url(config["api_url"], settings, "github.api_url")
    for key, value in changes.items():
        setattr(integration, key, value)
    if config:
        integration.config = {**integration.config, **config}
    if values and integration.secret_arn is not None:
        current = read_secret(integration)
        secrets.replace(integration.secret_arn, json.dumps({**current, **values}))
    after = _described(integration)
    if after == before and not values:
        return integration
    with unique_or_conflict(ctx.session, UNIQUE_NAME, title="an integration with this name exists"):
        integration.version += 1
        integration.updated_at = func.now()
    ctx.session.refresh(integration)
    diff: dict[str, Any] = {"before": before, "after": _described(integration)}
    if values:
        diff["secrets_replaced"] = sorted(values)
    _changed(ctx, UPDATED, integration, diff)
    return integration


def delete_integration(ctx: RequestContext, *, integration_id: uuid.UUID) -> None:
    integration = get_integration(ctx, integration_id=integration_id, lock=True)
    arn = integration.secret_arn
    _changed(ctx, DELETED, integration, {"before": _described(integration)})
    ctx.session.delete(integration)
    ctx.session.flush()
    if arn is not None:
        secrets.delete(arn)  # after the row: a failed delete leaves no row without its secret


def read_secret(integration: Integration) -> dict[str, str]:
    if integration.secret_arn is None:
        return {}
    return dict(json.loads(secrets.read(integration.secret_arn)))


def store_secret(integration: Integration, **values: str) -> None:
    assert integration.secret_arn is not None
    secrets.replace(integration.secret_arn, json.dumps({**read_secret(integration), **values}))


# --- inbound: the public routes find their tenant by the integration's id ----------------


@dataclass(frozen=True)
class Inbound:
    """An enabled integration of ``kind`` as an inbound request finds it."""

    tenant_id: uuid.UUID
    integration_id: uuid.UUID
    config: dict[str, Any]
    external_id: str | None
    secret: dict[str, str]


def inbound(session: Session, integration_id: uuid.UUID, kind: str) -> Inbound:
    """The integration and its secret (no body read yet); 404 if unknown, of another kind
    or disabled: nothing says which."""
    from servicedesk.platform.db import set_tenant

    tenant_id = session.execute(
        text("SELECT integration_tenant(:i)"), {"i": integration_id}
    ).scalar_one_or_none()
    if tenant_id is None:
        raise NotFound("no such integration")
    set_tenant(session, tenant_id=tenant_id, user_id=None)
    found = session.get(Integration, integration_id)
    if found is None or found.kind != kind or not found.enabled:
        raise NotFound("no such integration")
    return Inbound(tenant_id, found.id, dict(found.config), found.external_id, read_secret(found))


# Rows of bookkeeping deleted per new row (deliveries here, Slack install states in slack.py).
PRUNE_BATCH = 100


def first_delivery(session: Session, found: Inbound, delivery_id: str) -> bool:
    """True the first time (integration, delivery id) is seen (invariant 9's dedupe).

    Ids are remembered for ``integrations_dedupe_days``: each delivery first deletes at most
    ``PRUNE_BATCH`` of its tenant's older rows, so the table stays bounded by the arrival
    rate without a sweeper of its own."""
    session.execute(
        text(
            "DELETE FROM integration_deliveries WHERE ctid IN (SELECT ctid"
            " FROM integration_deliveries WHERE tenant_id = :t"
            " AND received_at < now() - make_interval(days => :days) LIMIT :n)"
        ),
        {"t": found.tenant_id, "days": get_settings().integrations_dedupe_days, "n": PRUNE_BATCH},
    )
    row = session.execute(
        text(
            "INSERT INTO integration_deliveries (tenant_id, integration_id, delivery_id)"
            " VALUES (:t, :i, :d) ON CONFLICT DO NOTHING RETURNING delivery_id"
        ),
        {"t": found.tenant_id, "i": found.integration_id, "d": delivery_id},
    ).first()
    return row is not None


# --- links ------------------------------------------------------------------------------


def link(
    session: Session,
    *,
    tenant_id: uuid.UUID,
    integration_id: uuid.UUID,
    ticket_id: uuid.UUID,
    kind: str,
    external_id: str,
    url: str | None,
    title: str | None,
    status: str = "linked",
    created_by: uuid.UUID | None = None,
    data: dict[str, Any] | None = None,
) -> tuple[uuid.UUID, bool]:
    """Insert or refresh a link; (its id, whether it is new)."""
    row = session.execute(
        text(
            "INSERT INTO integration_links (tenant_id, integration_id, ticket_id, kind,"
            " external_id, status, url, title, created_by, data)"
            " VALUES (:t, :i, :tk, :k, :x, :s, :u, :ti, :by, CAST(:d AS jsonb))"
            " ON CONFLICT (integration_id, ticket_id, kind, external_id) DO UPDATE"
            " SET url = coalesce(EXCLUDED.url, integration_links.url),"
            " title = coalesce(EXCLUDED.title, integration_links.title),"
            " status = EXCLUDED.status, updated_at = now()"
            " RETURNING id, (xmax = 0) AS inserted"
        ),
        {
            "t": tenant_id,
            "i": integration_id,
            "tk": ticket_id,
            "k": kind,
            "x": external_id,
            "s": status,
            "u": url,
            "ti": title,
            "by": created_by,
            "d": json.dumps(data or {}),
        },
    ).one()
    return uuid.UUID(str(row.id)), bool(row.inserted)


def ticket_links(
    ctx: RequestContext, *, ticket_id: uuid.UUID, limit: int, cursor: str | None
) -> tuple[list[IntegrationLink], str | None]:
    """A ticket's links (staff; the ticket must be one they may see)."""
    from servicedesk.tickets.service import get_visible

    get_visible(ctx, ticket_id)
    query = select(IntegrationLink).where(IntegrationLink.ticket_id == ticket_id)
    keyset = Keyset([Key(IntegrationLink.created_at, TIMESTAMP), Key(IntegrationLink.id, UUID)])
    return paginate(ctx.session, query, keyset, limit=limit, cursor=cursor)


# --- outbound ---------------------------------------------------------------------------


class CallFailed(Exception):
    """The service refused or did not answer: the consumer's record is retried."""


def call(
    method: str,
    url: str,
    *,
    headers: dict[str, str],
    json_body: dict[str, Any] | None = None,
    form: dict[str, str] | None = None,
    settings: Settings,
) -> dict[str, Any]:
    """One call to GitHub's or Slack's API: SSRF-vetted and pinned (the base URL may be an
    admin's), no redirects, no proxy from the environment, a timeout; the JSON answer.
    Non-2xx or an unreadable answer raise ``CallFailed`` (the message names no secret)."""
    import httpx

    try:
        target = ssrf.vet(url, local=ssrf.allow_local(settings))
    except ssrf.UnsafeUrl as exc:
        raise CallFailed(f"refused: {exc}") from exc
    connect_url, pinned, extensions = target.request()
    try:
        with httpx.Client(
            timeout=settings.integrations_timeout_seconds, follow_redirects=False, trust_env=False
        ) as client:
            response = client.request(
                method,
                connect_url,
                headers={"User-Agent": "Servicedesk-Integrations/1", **headers, **pinned},
                json=json_body,
                data=form,
                extensions=extensions,
            )
    except httpx.HTTPError as exc:
        raise CallFailed(f"{type(exc).__name__} calling {target.host}") from exc
    if not 200 <= response.status_code < 300:
        raise CallFailed(f"HTTP {response.status_code} from {target.host}")
    try:
        answer = response.json()
    except ValueError as exc:
        raise CallFailed(f"not JSON from {target.host}") from exc
    return dict(answer) if isinstance(answer, dict) else {"items": answer}
