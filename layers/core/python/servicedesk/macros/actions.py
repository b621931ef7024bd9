"""The ``apply_macro`` action of automation rules: every action of a shared macro.

Only tenant-scoped macros that are not archived (a rule belongs to the tenant, not to a
person or a team). The macro's actions run in the caller's mode: strict refuses any problem
(its fields under ``actions.<i>.<j>``, ``j`` the macro's own action) and rolls back; lenient
skips the macro's broken actions and applies the rest, leaving each one's outcome in
``Run.extra["apply_macro"]`` for the rule's run log. A macro cannot nest another (its
actions are limited to ``MACRO_TYPES`` when saved), so this cannot loop.

Imported on first use by the executor (``executor.PROVIDERS``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from servicedesk.actions import executor
from servicedesk.actions.schemas import MACRO_TYPES, ApplyMacro
from servicedesk.macros.models import Macro
from servicedesk.macros.schemas import actions_of
from servicedesk.platform.errors import ValidationProblem, field_error
from servicedesk.platform.tenancy import RequestContext

OUTCOMES = "apply_macro"


def _shared(ctx: RequestContext, action: ApplyMacro) -> Macro | None:
    return ctx.session.scalars(
        select(Macro).where(
            Macro.tenant_id == ctx.tenant_id,
            Macro.id == action.macro_id,
            Macro.scope == "tenant",
            Macro.archived_at.is_(None),
        )
    ).one_or_none()


def _missing(where: str) -> dict[str, Any]:
    return field_error(f"{where}.macro_id", "no such shared (tenant) macro, or it is archived")


def check(ctx: RequestContext, action: ApplyMacro, where: str) -> list[dict[str, Any]]:
    """The macro itself; its actions' references are checked when they run, in the
    caller's mode (strict refuses them all before anything is written)."""
    return [] if _shared(ctx, action) is not None else [_missing(where)]


def apply(run: executor.Run, action: ApplyMacro) -> executor.Status:
    macro = _shared(run.ctx, action)
    if macro is None:
        raise ValidationProblem(errors=[field_error("macro_id", "no such shared macro")])
    actions = [a for a in actions_of(macro.actions) if a.type in MACRO_TYPES]
    outcomes = executor.apply(
        run.ctx,
        run.ticket_id,
        actions,
        agent_id=run.agent_id,
        mode=run.mode,
        prefix="",
        extra=run.extra,
    )
    macro.usage_count = macro.usage_count + 1
    macro.last_used_at = func.now()
    run.extra.setdefault(OUTCOMES, []).append(
        {"macro_id": str(macro.id), "outcomes": [vars(o) for o in outcomes]}
    )
    statuses = {o.status for o in outcomes}
    if statuses == {"skipped"}:
        # Nothing applied: reported as this action skipped, with each reason.
        raise ValidationProblem(
            errors=[field_error(str(o.index), o.detail or "skipped") for o in outcomes]
        )
    return "applied" if "applied" in statuses else "unchanged"


executor.register("apply_macro", check=check, apply=apply)
