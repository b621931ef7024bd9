"""Where a tenant receives mail: its default address, computed (``<slug>@<inbound
domain>``), and the aliases its admins add, each mapped to a category and/or a team. An
alias is unique across tenants (a unique constraint decides; the 409 never says who holds
it). ``route`` finds the tenants of an arriving message from its envelope recipients,
before any tenant transaction, through SECURITY DEFINER functions (migration 0014)."""

from __future__ import annotations

import hashlib
import hmac
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from servicedesk.mail.models import MailAddress
from servicedesk.mail.schemas import AddressCreate, AddressUpdate
from servicedesk.notifications import templates
from servicedesk.platform import audit
from servicedesk.platform.config import Settings, get_settings
from servicedesk.platform.constraints import unique_or_conflict
from servicedesk.platform.crud import changed_fields
from servicedesk.platform.errors import NotFound, ValidationProblem, field_error
from servicedesk.platform.pagination import TEXT, Key, Keyset, paginate
from servicedesk.platform.tenancy import RequestContext
from servicedesk.platform.versioning import check_version, expected_version

ALIAS_WORD = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")
# reply+<number>.<16 hex>@<reply domain> (notifications.templates.reply_address)
REPLY_LOCAL = re.compile(r"^reply\+([A-Za-z0-9-]{1,40})\.([0-9a-f]{16})$")
BY_ADDRESS = Keyset([Key(MailAddress.address, TEXT)])
_TAKEN = {"uq_mail_addresses_address": ("address", "this address is already in use")}


def default_address(slug: str, settings: Settings) -> str:
    return f"{slug}@{settings.email_inbound_domain.lower()}"


def tenant_slug(ctx: RequestContext) -> str:
    return str(
        ctx.session.execute(
            text("SELECT slug FROM tenants WHERE id = :t"), {"t": ctx.tenant_id}
        ).scalar_one()
    )


# --- the admin API ---------------------------------------------------------------------


def list_addresses(
    ctx: RequestContext, *, limit: int, cursor: str | None
) -> tuple[list[MailAddress], str | None]:
    query = select(MailAddress).where(MailAddress.tenant_id == ctx.tenant_id)
    return paginate(ctx.session, query, BY_ADDRESS, limit=limit, cursor=cursor)


def get_address(ctx: RequestContext, address_id: uuid.UUID, *, lock: bool = False) -> MailAddress:
    found = ctx.session.get(MailAddress, address_id, with_for_update=lock or None)
    if found is None or found.tenant_id != ctx.tenant_id:
        raise NotFound("no such address")
    return found


def _check_address(ctx: RequestContext, address: str, settings: Settings) -> None:
    local, _, domain = address.rpartition("@")
    if domain in {settings.email_inbound_domain.lower(), templates.reply_domain(settings).lower()}:
        slug = tenant_slug(ctx)
        word = local.removeprefix(f"{slug}-") if local.startswith(f"{slug}-") else None
        if domain != settings.email_inbound_domain.lower() or not word:
            raise ValidationProblem(
                errors=[
                    field_error(
                        "address",
                        f"on {settings.email_inbound_domain} an alias is {slug}-<word>@…",
                    )
                ]
            )
        if not ALIAS_WORD.fullmatch(word):
            raise ValidationProblem(
                errors=[field_error("address", "the word is letters, digits and dashes")]
            )
        # A tenant whose slug is this local part receives at it by default.
        taken = ctx.session.execute(text("SELECT tenant_slug_taken(:s)"), {"s": local}).scalar()
        if taken:
            raise ValidationProblem(errors=[field_error("address", "this address is taken")])


def _check_targets(
    ctx: RequestContext, category_id: uuid.UUID | None, team_id: uuid.UUID | None
) -> None:
    if category_id is not None:
        found = ctx.session.execute(
            text("SELECT 1 FROM categories WHERE tenant_id = :t AND id = :id AND active"),
            {"t": ctx.tenant_id, "id": category_id},
        ).first()
        if found is None:
            raise ValidationProblem(errors=[field_error("category_id", "no such active category")])
    if team_id is not None:
        found = ctx.session.execute(
            text("SELECT 1 FROM teams WHERE tenant_id = :t AND id = :id AND active"),
            {"t": ctx.tenant_id, "id": team_id},
        ).first()
        if found is None:
            raise ValidationProblem(errors=[field_error("team_id", "no such active team")])


def create_address(ctx: RequestContext, *, data: AddressCreate) -> MailAddress:
    settings = get_settings()
    address = data.address.lower()
    _check_address(ctx, address, settings)
    _check_targets(ctx, data.category_id, data.team_id)
    row = MailAddress(
        id=uuid.uuid4(),
        tenant_id=ctx.tenant_id,
        address=address,
        category_id=data.category_id,
        team_id=data.team_id,
        description=data.description,
        created_by=ctx.user_id,
    )
    with unique_or_conflict(ctx.session, _TAKEN, title="this address is already in use"):
        ctx.session.add(row)
    ctx.session.refresh(row)
    audit.record(
        ctx,
        action="mail_address.created",
        entity_type="mail_address",
        entity_id=row.id,
        data={"after": data.model_dump(mode="json")},
    )
    return row


def update_address(
    ctx: RequestContext, *, address_id: uuid.UUID, data: AddressUpdate, if_match: int | None
) -> MailAddress:
    expected = expected_version(data.version, if_match)
    row = get_address(ctx, address_id, lock=True)
    check_version(row.version, expected, what="address")
    changes = data.model_dump(exclude_unset=True, exclude={"version"})
    diff = changed_fields(row, changes)
    after = diff["after"]
    if not after:
        return row
    _check_targets(
        ctx,
        data.category_id if "category_id" in after else None,
        data.team_id if "team_id" in after else None,
    )
    for key, value in after.items():
        setattr(row, key, value)
    row.version += 1
    row.updated_at = func.now()
    ctx.session.flush()
    ctx.session.refresh(row)
    audit.record(
        ctx, action="mail_address.updated", entity_type="mail_address", entity_id=row.id, data=diff
    )
    return row


def delete_address(ctx: RequestContext, *, address_id: uuid.UUID) -> None:
    row = get_address(ctx, address_id, lock=True)
    ctx.session.delete(row)
    ctx.session.flush()
    audit.record(
        ctx,
        action="mail_address.deleted",
        entity_type="mail_address",
        entity_id=address_id,
        data={"before": {"address": row.address}},
    )


# --- routing an arrival ---------------------------------------------------------------


@dataclass
class Destination:
    """One tenant an arrival is for, and what its recipients told us."""

    tenant_id: uuid.UUID
    alias_ids: list[uuid.UUID] = field(default_factory=list)
    reply_tickets: list[uuid.UUID] = field(default_factory=list)  # verified reply tokens


def token_matches(ticket_id: uuid.UUID, token: str, settings: Settings) -> bool:
    key = templates.token_key(settings)
    if key is None:
        return False
    expected = hmac.new(key, str(ticket_id).encode(), hashlib.sha256).hexdigest()[:16]
    return hmac.compare_digest(expected, token)


def reply_token_of(address: str, settings: Settings) -> tuple[str, str] | None:
    """(number, token) of a reply address on our reply domain; None for any other."""
    local, _, domain = address.lower().rpartition("@")
    if domain != templates.reply_domain(settings).lower():
        return None
    found = REPLY_LOCAL.fullmatch(local)
    if found is None:
        return None
    return found.group(1).upper(), found.group(2)


def route(
    session: Session, recipients: Iterable[str], settings: Settings
) -> dict[uuid.UUID, Destination]:
    """The tenants an arrival is for, by envelope recipient: an alias (any domain), the
    default address ``<slug>@<inbound domain>``, or a signed reply address (its number
    looked up across tenants, the HMAC of each candidate ticket id checked). A recipient
    that is none of these is not ours and is ignored."""
    found: dict[uuid.UUID, Destination] = {}
    inbound = settings.email_inbound_domain.lower()
    for recipient in recipients:
        address = recipient.strip().lower()
        alias = session.execute(
            text("SELECT tenant_id, alias_id FROM mail_address_tenant(:a)"), {"a": address}
        ).first()
        if alias is not None:
            found.setdefault(alias.tenant_id, Destination(alias.tenant_id)).alias_ids.append(
                alias.alias_id
            )
            continue
        local, _, domain = address.rpartition("@")
        if domain == inbound and local:
            tenant_id = session.execute(
                text("SELECT tenant_id_for_slug(:s)"), {"s": local}
            ).scalar()
            if tenant_id is not None:
                found.setdefault(tenant_id, Destination(tenant_id))
            continue
        reply = reply_token_of(address, settings)
        if reply is None:
            continue
        number, token = reply
        for row in session.execute(
            text("SELECT tenant_id, ticket_id FROM mail_reply_tickets(:n)"), {"n": number}
        ):
            if token_matches(row.ticket_id, token, settings):
                found.setdefault(row.tenant_id, Destination(row.tenant_id)).reply_tickets.append(
                    row.ticket_id
                )
    return found
