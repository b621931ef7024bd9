"""CSAT API: the survey link's page and answer (public: the signed token is the
credential), the portal's survey on a ticket, the managers' summary, the settings."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path

from servicedesk.csat import links, service
from servicedesk.csat.schemas import CsatAnswer, SurveyPublic
from servicedesk.csat.settings import SECTION
from servicedesk.platform.context import Ctx, Tx
from servicedesk.platform.endpoints import route
from servicedesk.platform.rbac import Permission, public
from servicedesk.platform.settings_routes import add_settings_routes

router = APIRouter(prefix="/v1", tags=["csat"])
settings_router = APIRouter(prefix="/v1/settings", tags=["settings"])
add_settings_routes(settings_router, SECTION)

SurveyToken = Annotated[
    str,
    Path(
        min_length=1,
        max_length=links.MAX_TOKEN_LENGTH,
        description="The signed token of the survey link",
    ),
]


def _public(survey: service.Survey) -> SurveyPublic:
    return SurveyPublic(
        ticket_id=survey.ticket_id,
        number=survey.number,
        title=survey.title,
        question=survey.question,
        scale="good-bad" if survey.scale == "good-bad" else "1-5",
        expires_at=survey.expires_at,
        answered=survey.answered_at is not None,
        rating=survey.rating,
        comment=survey.comment,
        answered_at=survey.answered_at,
    )


@router.get(
    "/csat/{token}",
    dependencies=[
        public("survey link: the signed token names the survey; reading records nothing")
    ],
    summary="The survey a link names (no sign-in; link scanners may open it: nothing is recorded)",
)
def show_survey(token: SurveyToken, session: Tx) -> SurveyPublic:
    return _public(service.show_by_token(session, token))


@router.post(
    "/csat/{token}",
    dependencies=[public("survey link: the signed token names the survey and its requester")],
    summary="Answer the survey a link names, once (reused 409, expired 410, forged 404)",
)
def answer_survey(token: SurveyToken, body: CsatAnswer, session: Tx) -> SurveyPublic:
    return _public(
        service.answer_by_token(session, token, rating=body.rating, comment=body.comment)
    )


@route(
    router.get,
    "/tickets/{ticket_id}/csat",
    Permission.TICKET_READ,
    "The ticket's satisfaction survey and its answer",
)
def ticket_survey(ticket_id: uuid.UUID, ctx: Ctx) -> SurveyPublic:
    return _public(service.for_ticket(ctx, ticket_id))


@route(
    router.post,
    "/tickets/{ticket_id}/csat",
    Permission.CSAT_RESPOND,
    "Answer the ticket's satisfaction survey in the portal (its requester, once)",
)
def answer_ticket_survey(ticket_id: uuid.UUID, body: CsatAnswer, ctx: Ctx) -> SurveyPublic:
    survey = service.answer_for_ticket(ctx, ticket_id, rating=body.rating, comment=body.comment)
    return _public(survey)


# GET /v1/reports/csat moved to servicedesk.reports.routes (the reports function).
