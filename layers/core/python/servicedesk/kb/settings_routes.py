"""``GET``/``PUT /v1/settings/kb``: the tenant's knowledge base settings. Served by the
tickets function, where API Gateway sends ``/v1/settings``; a module of its own so that
function loads none of the articles' code (Markdown rendering, services)."""

from __future__ import annotations

from fastapi import APIRouter

from servicedesk.kb import settings as kb_settings
from servicedesk.platform.settings_routes import add_settings_routes

settings_router = APIRouter(prefix="/v1/settings", tags=["settings"])
add_settings_routes(settings_router, kb_settings.SECTION)
