"""The assistant's limits: one turn at a time per user, messages per minute per user, and
the tenant's monthly token budget (counted from the usage the model reports)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import func, select, text

from servicedesk.ai.chat import Usage as ModelUsage
from servicedesk.assistant.models import ChatMessage, Usage
from servicedesk.assistant.settings import AssistantSettings
from servicedesk.platform import metrics
from servicedesk.platform.errors import Conflict, TooManyRequests
from servicedesk.platform.tenancy import RequestContext

WINDOW_SECONDS = 60

_TRY_LOCK = text("SELECT pg_try_advisory_xact_lock(hashtextextended(:key, 0))")
_ADD_USAGE = text(
    "INSERT INTO assistant_usage (tenant_id, month, input_tokens, output_tokens, turns)"
    " VALUES (:t, :m, :i, :o, 1)"
    " ON CONFLICT (tenant_id, month) DO UPDATE SET"
    " input_tokens = assistant_usage.input_tokens + EXCLUDED.input_tokens,"
    " output_tokens = assistant_usage.output_tokens + EXCLUDED.output_tokens,"
    " turns = assistant_usage.turns + 1, updated_at = now()"
)


def month_of(now: datetime) -> date:
    return date(now.year, now.month, 1)


def _next_month(now: datetime) -> datetime:
    first = month_of(now)
    year, month = (first.year + 1, 1) if first.month == 12 else (first.year, first.month + 1)
    return datetime(year, month, 1, tzinfo=UTC)


def one_turn_at_a_time(ctx: RequestContext) -> None:
    """A user's turns run one after another (held until the request's transaction ends),
    so the counts below cannot be raced past by parallel requests."""
    key = f"assistant:{ctx.tenant_id}:{ctx.user_id}"
    if not ctx.session.execute(_TRY_LOCK, {"key": key}).scalar():
        raise Conflict("the assistant is still answering your previous message")


def check_rate(ctx: RequestContext, settings: AssistantSettings, now: datetime) -> None:
    since = func.now() - text(f"interval '{WINDOW_SECONDS} seconds'")
    count, oldest = ctx.session.execute(
        select(func.count(), func.min(ChatMessage.created_at)).where(
            ChatMessage.tenant_id == ctx.tenant_id,
            ChatMessage.user_id == ctx.user_id,
            ChatMessage.role == "user",
            ChatMessage.created_at > since,
        )
    ).one()
    if count >= settings.messages_per_minute:
        wait = WINDOW_SECONDS - int((now - oldest).total_seconds()) if oldest else WINDOW_SECONDS
        raise TooManyRequests(
            f"at most {settings.messages_per_minute} messages a minute to the assistant",
            retry_after=max(1, wait),
        )


def check_budget(ctx: RequestContext, settings: AssistantSettings, now: datetime) -> None:
    used = ctx.session.execute(
        select(Usage.input_tokens + Usage.output_tokens).where(
            Usage.tenant_id == ctx.tenant_id, Usage.month == month_of(now)
        )
    ).scalar()
    if (used or 0) >= settings.monthly_token_budget:
        raise TooManyRequests(
            "the organisation's monthly assistant budget is spent",
            retry_after=int((_next_month(now) - now).total_seconds()),
            budget=settings.monthly_token_budget,
            used=int(used or 0),
        )


def record_usage(ctx: RequestContext, usage: ModelUsage, now: datetime) -> None:
    metrics.assistant_usage(usage.input_tokens, usage.output_tokens)
    ctx.session.execute(
        _ADD_USAGE,
        {
            "t": ctx.tenant_id,
            "m": month_of(now),
            "i": usage.input_tokens,
            "o": usage.output_tokens,
        },
    )
