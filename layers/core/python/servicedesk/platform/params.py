"""FastAPI parameter declarations shared by the routers: page size and cursor, If-Match.

Only the route modules import this; the services use ``platform.pagination`` and
``platform.versioning``, which import no web framework, so the consumers and the
WebSocket handlers that share those services do not load FastAPI.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Header, Query

from servicedesk.platform.pagination import MAX_CURSOR, MAX_LIMIT

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size (1-100)")]
Cursor = Annotated[
    str | None, Query(max_length=MAX_CURSOR, description="Opaque cursor from a previous page")
]
IfMatch = Annotated[
    str | None, Header(alias="If-Match", max_length=40, description='The ETag you read, e.g. "3"')
]
