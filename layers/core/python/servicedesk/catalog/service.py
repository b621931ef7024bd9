"""Catalog rules: categories, their custom-field schemas, default teams and types, and their
tree (docs/ticket-types.md, "Category tree"). Never commits.

The tree: a parent in the same tenant, never the category itself or one of its descendants,
at most ``MAX_DEPTH`` levels; ``position`` orders siblings. Every change of its shape (create
under a parent, move, archive, reorder, delete) takes the tenant's tree lock first, so two
concurrent moves cannot build a cycle. Archiving archives the subtree (requesters never see
a category whose parent they cannot see); unarchiving restores the subtree and needs an
active parent. Deleting moves the tickets of the subtree to ``reassign_to`` and deletes the
subtree, in the request's one transaction."""

from __future__ import annotations

import uuid
from contextlib import AbstractContextManager
from typing import Any

from sqlalchemy import ColumnElement, func, select, text
from sqlalchemy import update as sql_update
from sqlalchemy.orm import Session

from servicedesk.catalog import jsonschema, types
from servicedesk.catalog.models import Category
from servicedesk.catalog.schemas import MAX_DEPTH, CategoryCreate, CategoryUpdate
from servicedesk.platform import audit, crud
from servicedesk.platform.errors import Conflict, NotFound, ValidationProblem, field_error
from servicedesk.platform.pagination import TEXT, UUID, Key, Keyset, paginate
from servicedesk.platform.tenancy import RequestContext
from servicedesk.teams.models import Team

EMPTY_FIELDS_SCHEMA: dict[str, Any] = {"type": "object", "properties": {}}

BY_NAME = Keyset(
    [Key(func.lower(Category.name), TEXT, lambda c: c.name.lower()), Key(Category.id, UUID)]
)


def _visible(ctx: RequestContext) -> list[ColumnElement[bool]]:
    """One rule for lists and reads: requesters see only the categories they may pick."""
    where = [Category.tenant_id == ctx.tenant_id]
    if not ctx.is_staff:
        where.append(Category.active.is_(True))
    return where


def _lock_tree(ctx: RequestContext) -> None:
    ctx.session.execute(
        text("SELECT pg_advisory_xact_lock(hashtext('categories:' || :t))"),
        {"t": str(ctx.tenant_id)},
    )


class Tree:
    """The tenant's categories as (id -> parent, position, name): small, read whole."""

    def __init__(self, ctx: RequestContext) -> None:
        rows = ctx.session.execute(
            select(Category.id, Category.parent_id, Category.position, Category.name).where(
                Category.tenant_id == ctx.tenant_id
            )
        ).all()
        self.parent = {r.id: r.parent_id for r in rows}
        self.sort_key = {r.id: (r.position, r.name.lower(), str(r.id)) for r in rows}
        self.children: dict[uuid.UUID | None, list[uuid.UUID]] = {}
        for r in rows:
            self.children.setdefault(r.parent_id, []).append(r.id)
        for kids in self.children.values():
            kids.sort(key=self.sort_key.__getitem__)

    def depth(self, category_id: uuid.UUID) -> int:
        depth, seen = 0, {category_id}
        parent = self.parent.get(category_id)
        while parent is not None and parent not in seen:
            seen.add(parent)
            depth, parent = depth + 1, self.parent.get(parent)
        return depth

    def subtree(self, category_id: uuid.UUID) -> list[uuid.UUID]:
        """The category and its descendants, parents before children."""
        out, todo = [], [category_id]
        while todo:
            one = todo.pop(0)
            out.append(one)
            todo.extend(self.children.get(one, []))
        return out

    def height(self, category_id: uuid.UUID) -> int:
        """Levels below the category (0: a leaf)."""
        kids = self.children.get(category_id, [])
        return 1 + max(self.height(k) for k in kids) if kids else 0

    def in_order(self) -> list[uuid.UUID]:
        """Depth first, siblings by position then name."""
        out: list[uuid.UUID] = []
        todo = list(reversed(self.children.get(None, [])))
        while todo:
            one = todo.pop()
            out.append(one)
            todo.extend(reversed(self.children.get(one, [])))
        return out


def _with_depth(ctx: RequestContext, categories: list[Category]) -> list[Category]:
    tree = Tree(ctx)
    return [c.at_depth(tree.depth(c.id)) for c in categories]


def list_categories(
    ctx: RequestContext, *, active: bool | None, tree: bool, limit: int, cursor: str | None
) -> tuple[list[Category], str | None]:
    """By name, a page at a time; or (``tree``) every visible category in tree order
    (depth first, siblings by position), in one answer."""
    query = select(Category).where(*_visible(ctx))
    if active is not None:
        query = query.where(Category.active.is_(active))
    if tree:
        found = {c.id: c for c in ctx.session.scalars(query)}
        shape = Tree(ctx)
        return [found[i].at_depth(shape.depth(i)) for i in shape.in_order() if i in found], None
    rows, nxt = paginate(ctx.session, query, BY_NAME, limit=limit, cursor=cursor)
    return _with_depth(ctx, rows), nxt


def get_category(ctx: RequestContext, *, category_id: uuid.UUID, lock: bool = False) -> Category:
    query = select(Category).where(*_visible(ctx), Category.id == category_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    category = ctx.session.scalars(query).one_or_none()
    if category is None:
        raise NotFound("no such category")
    return _with_depth(ctx, [category])[0]


def get_active_category(
    session: Session, *, tenant_id: uuid.UUID, category_id: uuid.UUID
) -> Category | None:
    """The category a new ticket names, if it is one of the tenant's active categories."""
    return session.scalars(
        select(Category).where(
            Category.tenant_id == tenant_id,
            Category.id == category_id,
            Category.active.is_(True),
        )
    ).one_or_none()


def _problems(
    ctx: RequestContext, *, fields_schema: object, team_id: uuid.UUID | None
) -> list[dict[str, Any]]:
    errors = [] if fields_schema is None else jsonschema.check_schema(fields_schema)
    if team_id is not None:
        team = ctx.session.execute(
            select(Team.id).where(
                Team.tenant_id == ctx.tenant_id, Team.id == team_id, Team.active.is_(True)
            )
        ).first()
        if team is None:
            errors.append(field_error("default_team_id", "no such active team"))
    return errors


def _check_parent(
    ctx: RequestContext, tree: Tree, parent_id: uuid.UUID, moving: uuid.UUID | None
) -> None:
    """The parent exists in the tenant and is active, the category does not move below
    itself, and the tree stays at most ``MAX_DEPTH`` levels deep."""
    parent = ctx.session.get(Category, parent_id)
    if parent is None or parent.tenant_id != ctx.tenant_id:
        raise ValidationProblem(errors=[field_error("parent_id", "no such category")])
    if moving is not None and parent_id in tree.subtree(moving):
        raise Conflict(
            "a category cannot move below itself",
            errors=[field_error("parent_id", "is this category or one of its descendants")],
        )
    if not parent.active:
        raise ValidationProblem(errors=[field_error("parent_id", "the category is archived")])
    height = tree.height(moving) if moving is not None else 0
    if tree.depth(parent_id) + 1 + height >= MAX_DEPTH:
        raise ValidationProblem(
            errors=[field_error("parent_id", f"the tree is at most {MAX_DEPTH} levels deep")]
        )


def _last_position(ctx: RequestContext, parent_id: uuid.UUID | None) -> int:
    last = ctx.session.scalar(
        select(func.max(Category.position)).where(
            Category.tenant_id == ctx.tenant_id,
            Category.parent_id.is_(None) if parent_id is None else Category.parent_id == parent_id,
        )
    )
    return 0 if last is None else last + 1


def _unique_name(ctx: RequestContext) -> AbstractContextManager[None]:
    return crud.unique_name(ctx.session, constraint="uq_categories_name", what="category")


def _check_references(
    ctx: RequestContext, default_type: str | None, approval_flow_id: uuid.UUID | None
) -> None:
    """A default type still usable, an approval flow active (422 naming the field)."""
    if default_type is not None:
        types.check_usable(ctx, default_type, "default_type")
    if approval_flow_id is not None:
        from servicedesk.approvals import flows

        flows.usable(ctx, approval_flow_id, "approval_flow_id")


def create_category(ctx: RequestContext, *, data: CategoryCreate) -> Category:
    errors = _problems(ctx, fields_schema=data.fields_schema, team_id=data.default_team_id)
    if errors:
        raise ValidationProblem(errors=errors)
    _check_references(ctx, data.default_type, data.approval_flow_id)
    _lock_tree(ctx)
    if data.parent_id is not None:
        _check_parent(ctx, Tree(ctx), data.parent_id, None)
    category = Category(
        id=uuid.uuid4(),
        tenant_id=ctx.tenant_id,
        name=data.name,
        description=data.description,
        fields_schema=data.fields_schema or EMPTY_FIELDS_SCHEMA,
        default_team_id=data.default_team_id,
        parent_id=data.parent_id,
        position=_last_position(ctx, data.parent_id) if data.position is None else data.position,
        default_type=data.default_type,
        approval_flow_id=data.approval_flow_id,
    )
    created = crud.created(
        ctx, category, _unique_name(ctx), "category", after=data.model_dump(mode="json")
    )
    return _with_depth(ctx, [created])[0]


def update_category(
    ctx: RequestContext, *, category_id: uuid.UUID, data: CategoryUpdate, if_match: int | None
) -> Category:
    category, diff = crud.changes(
        lambda: get_category(ctx, category_id=category_id, lock=True), data, if_match, "category"
    )
    if not diff["after"]:
        return category
    # Only what changes is checked: sending back a default team retired since is no error.
    changes = dict(diff["after"])
    errors = _problems(
        ctx, fields_schema=changes.get("fields_schema"), team_id=changes.get("default_team_id")
    )
    if errors:
        raise ValidationProblem(errors=errors)
    _check_references(ctx, changes.get("default_type"), changes.get("approval_flow_id"))
    if {"parent_id", "active"} & changes.keys():
        _lock_tree(ctx)
        tree = Tree(ctx)
        if "parent_id" in changes:
            if changes["parent_id"] is not None:
                _check_parent(ctx, tree, changes["parent_id"], category.id)
            if "position" not in changes:
                changes["position"] = _last_position(ctx, changes["parent_id"])
        active = changes.pop("active", None)
        if active is not None:
            parent = changes.get("parent_id", category.parent_id)
            _set_active(ctx, tree, category, active, parent)
    if changes:
        crud.changed(ctx, category, changes, guard=_unique_name(ctx))
    audit.record(
        ctx, action="category.updated", entity_type="category", entity_id=category_id, data=diff
    )
    return _with_depth(ctx, [category])[0]


def _set_active(
    ctx: RequestContext, tree: Tree, category: Category, active: bool, parent: uuid.UUID | None
) -> None:
    """Archive (or restore) the category and its subtree."""
    if active and parent is not None:
        parent_active = ctx.session.scalar(select(Category.active).where(Category.id == parent))
        if not parent_active:
            raise Conflict(
                "the parent category is archived; restore it first",
                errors=[field_error("parent_id", "archived")],
            )
    ids = tree.subtree(category.id)
    ctx.session.execute(
        sql_update(Category)
        .where(Category.tenant_id == ctx.tenant_id, Category.id.in_(ids))
        .where(Category.active.is_not(active))
        .values(active=active, version=Category.version + 1, updated_at=func.now())
        .execution_options(synchronize_session=False)
    )
    ctx.session.flush()
    ctx.session.refresh(category)


def set_archived(ctx: RequestContext, *, category_id: uuid.UUID, archived: bool) -> Category:
    """``POST /categories/{id}/archive`` and ``/unarchive``: idempotent."""
    category = get_category(ctx, category_id=category_id, lock=True)
    _lock_tree(ctx)
    before = category.active
    _set_active(ctx, Tree(ctx), category, not archived, category.parent_id)
    if before != category.active:
        audit.record(
            ctx,
            action="category.archived" if archived else "category.unarchived",
            entity_type="category",
            entity_id=category_id,
        )
    return _with_depth(ctx, [category])[0]


def reorder(
    ctx: RequestContext, *, parent_id: uuid.UUID | None, ids: list[uuid.UUID]
) -> list[Category]:
    """The children of ``parent_id`` (null: the top level) get positions 0..n-1 in the order
    given; the list names each of them once (one added or moved meanwhile: 409, reload)."""
    _lock_tree(ctx)
    if parent_id is not None:
        get_category(ctx, category_id=parent_id)
    siblings = list(
        ctx.session.scalars(
            select(Category)
            .where(
                Category.tenant_id == ctx.tenant_id,
                Category.parent_id.is_(None)
                if parent_id is None
                else Category.parent_id == parent_id,
            )
            .with_for_update()
        )
    )
    by_id = {c.id: c for c in siblings}
    errors = types.order_errors(ids, set(by_id), "not a child of this parent")
    if errors:
        raise ValidationProblem("the order must name each child once", errors=errors)
    missing = [c.name for c in siblings if c.id not in set(ids)]
    if missing:
        raise Conflict(
            "the order must name every child of the parent; reload and retry",
            errors=[field_error("ids", f"missing {len(missing)}, e.g. {missing[0]!r}")],
        )
    before = {str(c.id): c.position for c in siblings}
    for position, one in enumerate(ids):
        if by_id[one].position != position:
            by_id[one].position = position
            by_id[one].version += 1
            by_id[one].updated_at = func.now()
    ctx.session.flush()
    audit.record(
        ctx,
        action="categories.reordered",
        entity_type="category",
        entity_id=parent_id or ids[0],
        data={"before": before, "after": {str(i): n for n, i in enumerate(ids)}},
    )
    ordered = [by_id[i] for i in ids]
    for child in ordered:
        ctx.session.refresh(child)
    return _with_depth(ctx, ordered)


def prepare_delete(
    ctx: RequestContext, *, category_id: uuid.UUID, reassign_to: uuid.UUID | None
) -> tuple[Category, list[uuid.UUID]]:
    """Check a delete (``servicedesk.tickets.reassign.delete_category``, which moves the
    tickets: the catalog does not import tickets): the category and its subtree's ids,
    locked. Without ``reassign_to`` while tickets use the subtree: 409 naming it."""
    category = get_category(ctx, category_id=category_id, lock=True)
    _lock_tree(ctx)
    ids = Tree(ctx).subtree(category.id)
    used = int(
        ctx.session.scalar(
            text("SELECT count(*) FROM tickets WHERE tenant_id = :t AND category_id = ANY(:ids)"),
            {"t": ctx.tenant_id, "ids": ids},
        )
        or 0
    )
    if reassign_to is not None:
        if reassign_to in ids:
            raise ValidationProblem(
                errors=[field_error("reassign_to", "is the deleted category or below it")]
            )
        target = get_active_category(ctx.session, tenant_id=ctx.tenant_id, category_id=reassign_to)
        if target is None:
            raise ValidationProblem(errors=[field_error("reassign_to", "no such active category")])
    elif used:
        message = f"{used} tickets are filed here or below; name a category to move them to"
        raise Conflict(message, errors=[field_error("reassign_to", message)])
    policy = _policy_naming(ctx, ids)
    if policy is not None:
        message = f"the SLA policy {policy!r} names this category or one below; change it first"
        raise Conflict(message, errors=[field_error("category_id", message)])
    return category, ids


def finish_delete(
    ctx: RequestContext,
    category: Category,
    ids: list[uuid.UUID],
    *,
    reassign_to: uuid.UUID | None,
    moved: int,
) -> None:
    """After the tickets moved: mail addresses that filed into the subtree file into
    ``reassign_to`` (or no category), the subtree goes, and the audit row says it all."""
    ctx.session.execute(
        text(
            "UPDATE mail_addresses SET category_id = :to, version = version + 1,"
            " updated_at = now() WHERE tenant_id = :t AND category_id = ANY(:ids)"
        ),
        {"t": ctx.tenant_id, "ids": ids, "to": reassign_to},
    )
    ctx.session.execute(
        text("DELETE FROM categories WHERE tenant_id = :t AND id = ANY(:ids)"),
        {"t": ctx.tenant_id, "ids": ids},
    )
    audit.record(
        ctx,
        action="category.deleted",
        entity_type="category",
        entity_id=category.id,
        data={
            "before": {"name": category.name, "parent_id": category.parent_id},
            "deleted": [str(i) for i in ids],
            "reassign_to": reassign_to,
            "tickets_moved": moved,
        },
    )
    ctx.session.expunge(category)


def _policy_naming(ctx: RequestContext, ids: list[uuid.UUID]) -> str | None:
    name: str | None = ctx.session.scalar(
        text(
            "SELECT name FROM sla_policies WHERE tenant_id = :t"
            " AND conditions->'category_ids' ?| CAST(:ids AS text[]) ORDER BY position LIMIT 1"
        ),
        {"t": ctx.tenant_id, "ids": [str(i) for i in ids]},
    )
    return name
