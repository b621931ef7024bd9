"""Answer with a model that is already validated, serialised once.

A synchronous endpoint that returns a model makes FastAPI validate it again against the
response model, in a worker thread of its own (one more thread hop per request), before
it serialises it. The hot read routes (ticket list and get) build their response models
themselves, so they hand back the JSON directly; the route still declares
``response_model``, so the OpenAPI document is the same.
"""

from __future__ import annotations

from fastapi import Response
from pydantic import BaseModel


def json_response(body: BaseModel, response: Response) -> Response:
    """``body`` as JSON (by alias, as FastAPI would), with the status and the headers the
    endpoint and its dependencies set on the injected ``response``."""
    out = Response(
        content=body.model_dump_json(by_alias=True),
        media_type="application/json",
        status_code=response.status_code or 200,
    )
    out.headers.raw.extend(response.headers.raw)
    return out
