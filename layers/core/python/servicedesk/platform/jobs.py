"""What scheduled Lambda handlers share."""

from __future__ import annotations

from typing import Any


def time_budget(context: Any, *, margin_seconds: float) -> float | None:
    """Seconds a scheduled run may keep starting work: Lambda's remaining time less a
    margin for what is in flight; None without a clock (the local scheduler's context)."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if not callable(remaining):
        return None
    return max(0.0, int(remaining()) / 1000 - margin_seconds)
