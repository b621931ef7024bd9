"""``GET/PUT /v1/settings/notifications``: the tenant's notification defaults (admins).

Served by the tickets function with the other settings sections (``/v1/settings`` is
routed there); the e-mail consumer reads the section from the tenant row it loads anyway.
"""

from __future__ import annotations

from fastapi import APIRouter

from servicedesk.notifications.settings import SECTION
from servicedesk.platform.settings_routes import add_settings_routes

settings_router = APIRouter(prefix="/v1/settings", tags=["settings"])
add_settings_routes(settings_router, SECTION)
