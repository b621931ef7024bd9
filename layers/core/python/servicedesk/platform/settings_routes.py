"""The GET and PUT routes of a per-tenant settings section (``platform.tenant_settings``).

No ``from __future__ import annotations`` here: the PUT's body is annotated with the
section's model at run time, so FastAPI documents and validates it as a route written
by hand would be.
"""

from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import APIRouter, Response
from pydantic import BaseModel

from servicedesk.platform import tenant_settings
from servicedesk.platform.context import Ctx
from servicedesk.platform.params import IfMatch
from servicedesk.platform.rbac import requires
from servicedesk.platform.tenancy import RequestContext

M = TypeVar("M", bound=BaseModel)


def add_settings_routes(
    router: APIRouter,
    section: tenant_settings.Section[M],
    *,
    check: Callable[[RequestContext, M], None] | None = None,
    path: str | None = None,
) -> None:
    """``GET`` and ``PUT /<section name>`` (or ``path``) on ``router``, named
    ``get_<noun>_settings`` and ``put_<noun>_settings`` (their OpenAPI operation ids)."""
    model = section.model

    def read(ctx: Ctx, response: Response) -> Any:
        return tenant_settings.read(ctx, section, response)

    def replace(body: model, ctx: Ctx, response: Response, if_match: IfMatch = None) -> Any:  # type: ignore[valid-type]
        return tenant_settings.replace(
            ctx, section, body, if_match=if_match, answer=response, check=check
        )

    for method, endpoint, permission, summary in (
        ("get", read, section.read, f"The tenant's {section.what}"),
        (
            "put",
            replace,
            section.write,
            f"Replace the {section.what} (needs If-Match with the ETag you read)",
        ),
    ):
        router.add_api_route(
            path or f"/{section.name}",
            endpoint,
            methods=[method.upper()],
            dependencies=[requires(permission)],
            summary=summary,
            response_model=model,
            name=f"{method}_{section.noun}_settings",
        )
