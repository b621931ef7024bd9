"""Knowledge base search (``/v1/kb/search``) and the portal's deflection suggestions."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/v1/kb", tags=["knowledge base"])
