"""Per-tenant settings: one section of ``tenants.settings`` (a name and a pydantic model).

Read from the snapshot the request's principal statement took (``db.TENANT_SETTINGS``,
no round trip) or from the database, cached for the request; published with an ETag (a
hash of the value); replaced whole, with ``If-Match`` (missing 428, stale 412) and an
audit row holding before and after. Framework-free: the routes pass their response in.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.orm import Session

from servicedesk.platform import audit
from servicedesk.platform.db import TENANT_SETTINGS
from servicedesk.platform.permissions import Permission
from servicedesk.platform.tenancy import RequestContext
from servicedesk.platform.versioning import check_etag

M = TypeVar("M", bound=BaseModel)

_SELECT = text("SELECT settings -> CAST(:name AS text) FROM tenants WHERE id = :t")
_UPDATE = text(
    "UPDATE tenants SET settings = jsonb_set(settings, ARRAY[CAST(:name AS text)],"
    " CAST(:v AS jsonb)), updated_at = now() WHERE id = :t"
    " RETURNING settings -> CAST(:name AS text)"
)


class _Headers(Protocol):
    def __setitem__(self, key: str, value: str, /) -> None: ...


class Answer(Protocol):
    """Where the ETag goes: a FastAPI/Starlette ``Response``."""

    @property
    def headers(self) -> _Headers: ...


@dataclass(frozen=True)
class Section(Generic[M]):
    """``tenants.settings -> name``, validated by ``model`` (an absent section: its defaults),
    and its routes (``platform.settings_routes``): the permission that reads it and the one
    that replaces it (admin:settings, unless said otherwise), and what it is called
    (``noun``: the operation ids, by default the name without its plural s; ``what``: the
    summaries, by default "<noun> settings")."""

    name: str
    model: type[M]
    read: Permission
    write: Permission = Permission.ADMIN_SETTINGS
    noun: str = ""
    what: str = ""

    def __post_init__(self) -> None:
        if not self.noun:
            object.__setattr__(self, "noun", self.name.removesuffix("s"))
        if not self.what:
            object.__setattr__(self, "what", f"{self.noun} settings")

    def load(self, session: Session, tenant_id: uuid.UUID) -> M:
        """From the database (jobs, consumers, and the value a replacement is checked against)."""
        raw = session.execute(_SELECT, {"name": self.name, "t": tenant_id}).scalar()
        return self.model.model_validate(raw or {})

    def from_snapshot(self, session: Session, tenant_id: uuid.UUID) -> M:
        """As the request's principal statement read them, or from the database when this
        transaction has no snapshot of this tenant."""
        snapshot = session.info.get(TENANT_SETTINGS)
        if isinstance(snapshot, dict) and session.info.get("tenant_id") == tenant_id:
            return self.model.model_validate(snapshot.get(self.name) or {})
        return self.load(session, tenant_id)

    def current(self, ctx: RequestContext) -> M:
        """The request's value, read once per request."""
        cached = ctx.extra.get(self._cache_key)
        if isinstance(cached, self.model):
            return cached
        loaded = self.from_snapshot(ctx.session, ctx.tenant_id)
        ctx.extra[self._cache_key] = loaded
        return loaded

    def save(self, ctx: RequestContext, value: M) -> M:
        """Write the section; the value as stored (jsonb orders an object's keys its own
        way, and the ETag of a later read hashes that order)."""
        raw = ctx.session.execute(
            _UPDATE, {"name": self.name, "v": value.model_dump_json(), "t": ctx.tenant_id}
        ).scalar_one()
        stored = self.model.model_validate(raw)
        snapshot = ctx.session.info.get(TENANT_SETTINGS)
        if isinstance(snapshot, dict):
            snapshot[self.name] = raw
        ctx.extra[self._cache_key] = stored
        return stored

    @property
    def _cache_key(self) -> str:
        return f"settings:{self.name}"


def etag(value: BaseModel) -> str:
    digest = hashlib.sha256(value.model_dump_json().encode()).hexdigest()[:16]
    return f'"{digest}"'


def read(ctx: RequestContext, section: Section[M], answer: Answer) -> M:
    """The GET of a settings section: the value, its ETag on ``answer``."""
    value = section.current(ctx)
    answer.headers["ETag"] = etag(value)
    return value


def replace(
    ctx: RequestContext,
    section: Section[M],
    value: M,
    *,
    if_match: str | None,
    answer: Answer,
    check: Callable[[RequestContext, M], None] | None = None,
) -> M:
    """The PUT of a settings section: If-Match against the stored value's ETag, then
    ``check`` (what the model cannot validate alone, e.g. names that must exist), then the
    write and its audit row (``settings.<name>_updated``); on ``answer`` the ETag the next
    read of the stored value gives."""
    before = section.load(ctx.session, ctx.tenant_id)
    check_etag(if_match, etag(before))
    if check is not None:
        check(ctx, value)
    stored = section.save(ctx, value)
    audit.record(
        ctx,
        action=f"settings.{section.name}_updated",
        entity_type="tenant",
        entity_id=ctx.tenant_id,
        data={"before": before.model_dump(), "after": value.model_dump()},
    )
    answer.headers["ETag"] = etag(stored)
    return value
