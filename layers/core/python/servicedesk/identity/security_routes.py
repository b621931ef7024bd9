"""The tenant's security settings (``/v1/settings/security``: two-step verification required
of staff, identity/mfa.py). /v1/settings is routed to the tickets function (stacks/api.py),
whose handler includes this router; kept apart from the identity routes so that function
loads no other identity route."""

from __future__ import annotations

from fastapi import APIRouter

from servicedesk.identity.mfa import SECURITY
from servicedesk.platform.settings_routes import add_settings_routes

settings_router = APIRouter(prefix="/v1/settings", tags=["settings"])
add_settings_routes(settings_router, SECURITY)
