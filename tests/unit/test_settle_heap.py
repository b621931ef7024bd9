"""An API function's initialization ends with its heap frozen (platform.lambda_.settle_heap):
full collections then skip what the app loaded (docs/architecture.md, docs/benchmarks.md)."""

from __future__ import annotations

import gc

from fastapi import APIRouter

from servicedesk.platform.lambda_ import domain_handler


def test_a_domain_handler_leaves_the_loaded_objects_frozen() -> None:
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    router = APIRouter()

    @router.get("/v1/ping")
    def ping() -> dict[str, str]:
        return {"ok": "yes"}

    handler = domain_handler(router, title="settle")
    try:
        assert callable(handler)
        # The app, its routes and what its imports loaded are out of the collector's way:
        # a full collection now walks only what came after.
        frozen = gc.get_freeze_count()
        assert frozen > 10_000
        assert len(gc.get_objects(generation=2)) < frozen // 10
    finally:
        gc.unfreeze()
