"""Knowledge base category tree: create, read, move (never into its own subtree),
delete (only when empty). Staff and requesters read the tree; managers write it."""

from __future__ import annotations

import uuid
from contextlib import AbstractContextManager

from sqlalchemy import exists, select, text

from servicedesk.kb.models import KbArticle, KbCategory
from servicedesk.kb.schemas import KbCategoryCreate, KbCategoryUpdate
from servicedesk.platform import audit, crud, outbox
from servicedesk.platform.constraints import unique_or_conflict
from servicedesk.platform.errors import Conflict, NotFound, ValidationProblem, field_error
from servicedesk.platform.pagination import INTEGER, TEXT, UUID, Key, Keyset, paginate
from servicedesk.platform.tenancy import RequestContext

BY_POSITION = Keyset(
    [Key(KbCategory.position, INTEGER), Key(KbCategory.name, TEXT), Key(KbCategory.id, UUID)]
)
MAX_DEPTH = 10

# Every category below :root (itself included), with its depth.
_SUBTREE = text(
    "WITH RECURSIVE tree(id, depth) AS ("
    " SELECT id, 0 FROM kb_categories WHERE tenant_id = :t AND id = :root"
    " UNION ALL SELECT c.id, tree.depth + 1 FROM kb_categories c JOIN tree ON c.parent_id = tree.id"
    " WHERE c.tenant_id = :t AND tree.depth < 1000)"
    " SELECT id FROM tree"
)
# The chain of ancestors of :id (itself included).
_ANCESTORS = text(
    "WITH RECURSIVE up(id, parent_id, depth) AS ("
    " SELECT id, parent_id, 0 FROM kb_categories WHERE tenant_id = :t AND id = :id"
    " UNION ALL SELECT c.id, c.parent_id, up.depth + 1 FROM kb_categories c"
    " JOIN up ON c.id = up.parent_id WHERE c.tenant_id = :t AND up.depth < 1000)"
    " SELECT id FROM up"
)


def subtree_ids(ctx: RequestContext, category_id: uuid.UUID) -> list[uuid.UUID]:
    rows = ctx.session.execute(_SUBTREE, {"t": ctx.tenant_id, "root": category_id}).scalars()
    return list(rows)


def _emit(ctx: RequestContext, kind: str, category: KbCategory) -> None:
    outbox.emit(
        ctx.session,
        tenant_id=ctx.tenant_id,
        event_type=f"kb.category.{kind}",
        aggregate_type="kb_category",
        aggregate_id=category.id,
        payload={"category_id": category.id, "actor_id": ctx.user_id},
    )


def list_categories(
    ctx: RequestContext, *, parent_id: uuid.UUID | None, limit: int, cursor: str | None
) -> tuple[list[KbCategory], str | None]:
    """The whole tree in (position, name) order, or the children of ``parent_id``."""
    query = select(KbCategory).where(KbCategory.tenant_id == ctx.tenant_id)
    if parent_id is not None:
        query = query.where(KbCategory.parent_id == parent_id)
    return paginate(ctx.session, query, BY_POSITION, limit=limit, cursor=cursor)


def get_category(ctx: RequestContext, *, category_id: uuid.UUID, lock: bool = False) -> KbCategory:
    query = select(KbCategory).where(
        KbCategory.tenant_id == ctx.tenant_id, KbCategory.id == category_id
    )
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    category = ctx.session.scalars(query).one_or_none()
    if category is None:
        raise NotFound("no such category")
    return category


def check_exists(ctx: RequestContext, category_id: uuid.UUID, field: str) -> None:
    """422 naming ``field`` unless the category exists. The row stays key-share locked, so
    a concurrent delete (which locks it for update, then looks for articles and children)
    either waits for this write and sees it, or has gone first and this answers 422."""
    found = ctx.session.scalar(
        select(KbCategory.id)
        .where(KbCategory.tenant_id == ctx.tenant_id, KbCategory.id == category_id)
        .with_for_update(read=True, key_share=True)
    )
    if found is None:
        raise ValidationProblem(errors=[field_error(field, "no such category")])


def _check_parent(ctx: RequestContext, parent_id: uuid.UUID, moving: uuid.UUID | None) -> None:
    check_exists(ctx, parent_id, "parent_id")
    ancestors = list(
        ctx.session.execute(_ANCESTORS, {"t": ctx.tenant_id, "id": parent_id}).scalars()
    )
    if moving is not None and moving in ancestors:
        raise Conflict(
            "a category cannot move below itself",
            errors=[field_error("parent_id", "is this category or one of its descendants")],
        )
    if len(ancestors) >= MAX_DEPTH:
        raise ValidationProblem(
            errors=[field_error("parent_id", f"the tree is at most {MAX_DEPTH} levels deep")]
        )


def _unique(ctx: RequestContext) -> AbstractContextManager[None]:
    return unique_or_conflict(
        ctx.session,
        {"ux_kb_categories_name": ("name", "already taken under this parent (ignoring case)")},
        title="a category with this name already exists here",
    )


def create_category(ctx: RequestContext, *, data: KbCategoryCreate) -> KbCategory:
    if data.parent_id is not None:
        _check_parent(ctx, data.parent_id, None)
    category = KbCategory(
        id=uuid.uuid4(),
        tenant_id=ctx.tenant_id,
        parent_id=data.parent_id,
        name=data.name,
        description=data.description,
        position=data.position,
    )
    created = crud.created(
        ctx, category, _unique(ctx), "kb_category", after=data.model_dump(mode="json")
    )
    _emit(ctx, "created", created)
    return created


def update_category(
    ctx: RequestContext, *, category_id: uuid.UUID, data: KbCategoryUpdate, if_match: int | None
) -> KbCategory:
    category, diff = crud.changes(
        lambda: get_category(ctx, category_id=category_id, lock=True),
        data,
        if_match,
        "category",
    )
    if not diff["after"]:
        return category
    if diff["after"].get("parent_id") is not None:
        # Moves are serialised per tenant, so two concurrent moves cannot build a cycle.
        ctx.session.execute(
            text("SELECT pg_advisory_xact_lock(hashtext('kb_categories:' || :t))"),
            {"t": str(ctx.tenant_id)},
        )
        _check_parent(ctx, diff["after"]["parent_id"], category.id)
    crud.changed(ctx, category, diff["after"], guard=_unique(ctx))
    audit.record(
        ctx, action="kb_category.updated", entity_type="kb_category", entity_id=category_id,
        data=diff,
    )  # fmt: skip
    _emit(ctx, "updated", category)
    return category


def delete_category(ctx: RequestContext, *, category_id: uuid.UUID) -> None:
    category = get_category(ctx, category_id=category_id, lock=True)
    children = ctx.session.scalar(
        select(
            exists().where(
                KbCategory.tenant_id == ctx.tenant_id, KbCategory.parent_id == category.id
            )
        )
    )
    if children:
        raise Conflict("the category has sub-categories; move or delete them first")
    articles = ctx.session.scalar(
        select(
            exists().where(
                KbArticle.tenant_id == ctx.tenant_id, KbArticle.category_id == category.id
            )
        )
    )
    if articles:
        raise Conflict("the category has articles; move them first")
    _emit(ctx, "deleted", category)
    audit.record(
        ctx, action="kb_category.deleted", entity_type="kb_category", entity_id=category.id,
        data={"before": {"name": category.name, "parent_id": category.parent_id}},
    )  # fmt: skip
    ctx.session.delete(category)
    ctx.session.flush()
