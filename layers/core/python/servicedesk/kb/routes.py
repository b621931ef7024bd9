"""Knowledge base API (``/v1/kb``): articles, categories, versions, votes and views."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/v1/kb", tags=["knowledge base"])
