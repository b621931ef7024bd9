"""Liveness and readiness: no auth, no data."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from servicedesk.identity.schemas import HealthResponse
from servicedesk.platform import db
from servicedesk.platform.logging import get_logger
from servicedesk.platform.rbac import public

# The migration head this code expects; tests/integration/test_migrations.py keeps it honest.

SCHEMA_HEAD = "0062"

router = APIRouter(prefix="/v1", tags=["health"])


@router.get("/health", dependencies=[public("liveness probe")], summary="Liveness")
def health() -> HealthResponse:
    return HealthResponse(status="ok")


@router.get(
    "/health/ready",
    dependencies=[public("readiness probe")],
    summary="Readiness: database reachable and migrated to the expected head",
    responses={200: {"model": HealthResponse}, 503: {"model": HealthResponse}},
)
def ready() -> JSONResponse:
    try:
        with db.transaction() as session:
            version = session.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except SQLAlchemyError:
        get_logger().exception("readiness check failed")
        body = HealthResponse(status="unavailable", database="unreachable")
        return JSONResponse(body.model_dump(exclude_none=True), status_code=503)
    if version != SCHEMA_HEAD:
        body = HealthResponse(status="unavailable", database="ok", migration="behind")
        return JSONResponse(body.model_dump(exclude_none=True), status_code=503)
    return JSONResponse(HealthResponse(status="ok", database="ok", migration="ok").model_dump())
