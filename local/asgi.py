"""ASGI entry for uvicorn in `make dev`."""

from local.app import build_app

app = build_app()
