"""CSAT API schemas."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from servicedesk.platform.schemas import Input, Output

Rating = Annotated[
    int,
    Field(
        ge=1,
        le=5,
        description="1 (very dissatisfied) to 5 (very satisfied); a good/bad survey takes"
        " 5 (good) or 1 (bad)",
    ),
]


class CsatAnswer(Input):
    rating: Rating
    comment: Annotated[str | None, Field(max_length=2000)] = None


class SurveyPublic(Output):
    """What the survey page and the portal show (to the requester it was sent to)."""

    ticket_id: uuid.UUID
    number: str
    title: str
    question: str
    scale: Literal["1-5", "good-bad"] = Field(
        default="1-5", description="the survey's scale; good/bad ratings are 5 (good) and 1 (bad)"
    )
    expires_at: datetime
    answered: bool
    rating: int | None
    comment: str | None
    answered_at: datetime | None


class CsatRow(Output):
    group_id: uuid.UUID | None = Field(description="the team's or agent's id; null: none set")
    group_name: str | None
    sent: int
    answered: int
    satisfied: int = Field(description="ratings of 4 or 5")
    score: float | None = Field(description="% of answers rated 4 or 5")
    average: float | None = Field(description="mean rating of the answered 1-5 surveys only")
    response_rate: float | None = Field(description="% of sent surveys answered")


class CsatReport(Output):
    group_by: Literal["team", "agent", "none"]
    since: datetime
    until: datetime
    total: CsatRow
    rows: list[CsatRow]
