"""Scheduled report subscriptions: the API's shapes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

Frequency = Literal["daily", "weekly", "monthly"]
DeliveryFormat = Literal["pdf", "csv"]
Hour = Annotated[int, Field(ge=0, le=23, description="Local hour of the delivery")]
Weekday = Annotated[int, Field(ge=0, le=6, description="0 = Monday (weekly only)")]
Monthday = Annotated[int, Field(ge=1, le=28, description="Day of the month (monthly only)")]
Recipients = Annotated[
    list[uuid.UUID],
    Field(min_length=1, max_length=50, description="Staff members of the tenant"),
]


def _zone(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError("is not an IANA time zone") from exc
    return value


def check_cadence(frequency: str, weekday: int | None, monthday: int | None) -> None:
    """weekly needs weekday, monthly needs monthday, and neither takes the other's."""
    if frequency == "weekly" and weekday is None:
        raise ValueError("weekday is required for a weekly delivery")
    if frequency == "monthly" and monthday is None:
        raise ValueError("monthday is required for a monthly delivery")
    if frequency != "weekly" and weekday is not None:
        raise ValueError("weekday is only for a weekly delivery")
    if frequency != "monthly" and monthday is not None:
        raise ValueError("monthday is only for a monthly delivery")


class SubscriptionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    report: Annotated[str, Field(min_length=1, max_length=100)]
    params: dict[str, Any] = Field(
        default_factory=dict,
        description="The report's parameters but since/until (each delivery covers the"
        " period before it: the day, week or month)",
    )
    format: DeliveryFormat = "pdf"
    frequency: Frequency
    hour: Hour
    weekday: Weekday | None = None
    monthday: Monthday | None = None
    tz: Annotated[str, Field(min_length=1, max_length=64)]
    recipients: Recipients
    active: bool = True

    @field_validator("tz")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return _zone(value) or value


class SubscriptionUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    params: dict[str, Any] | None = None
    format: DeliveryFormat | None = None
    frequency: Frequency | None = None
    hour: Hour | None = None
    weekday: Weekday | None = None
    monthday: Monthday | None = None
    tz: Annotated[str | None, Field(min_length=1, max_length=64)] = None
    recipients: Recipients | None = None
    active: bool | None = None
    version: int | None = Field(None, description="The version read (or send If-Match)")

    @field_validator("tz")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        return _zone(value)


class SubscriptionPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    owner_id: uuid.UUID
    report: str
    params: dict[str, Any]
    format: DeliveryFormat
    frequency: Frequency
    hour: int
    weekday: int | None
    monthday: int | None
    tz: str
    recipients: list[uuid.UUID]
    active: bool
    next_run_at: datetime
    last_run_at: datetime | None
    last_error: str | None
    version: int
    created_at: datetime
    updated_at: datetime
