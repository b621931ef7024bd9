"""Assistant API (``/v1/assistant``): conversations and their messages."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/v1/assistant", tags=["assistant"])
