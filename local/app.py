"""One ASGI app mounting every domain router exactly as the Lambda functions do.

The routers are read from each ``functions/*/handler.py`` (its ``routers`` tuple), so a
domain function and the local app can never serve different route sets.

One process serves every function here, so the log labels that Lambda gets for free (each
function logs under its own service name) are put on per request and per invocation: an
HTTP request is labelled with the function that owns its route (``local-api`` when none
does: the web app, unknown paths), and each handler this module loads with its function.

The only route set of its own is the dev mail viewer (local/devmail.py), mounted when mail
is caught.
"""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from starlette.routing import Match
from starlette.types import ASGIApp, Receive, Scope, Send

from local.metrics import mount_metrics
from local.web import mount_web
from servicedesk.platform.app import create_app
from servicedesk.platform.logging import labels

FUNCTIONS = Path(__file__).resolve().parent.parent / "functions"
LOCAL_SERVICE = "local-api"


def service_name(function: str) -> str:
    """The service a function logs as, as the stack names it (constructs/domain_function)."""
    return f"servicedesk-{function.replace('_', '-')}"


def _labelled(function: str, handler: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(handler)
    def invoke(event: Any, context: Any, *args: Any, **kwargs: Any) -> Any:
        with labels(service=service_name(function)):
            return handler(event, context, *args, **kwargs)

    invoke.__name__ = function  # local.queues names the invocation's context after it
    return invoke


def load_function(name: str) -> ModuleType:
    """A function's handler module (a fresh load), its handler labelled with its service."""
    path = FUNCTIONS / name / "handler.py"
    spec = importlib.util.spec_from_file_location(f"functions_{name}_handler", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for entry in ("lambda_handler", "handler"):  # the intake's is `handler`
        handler = getattr(module, entry, None)
        if callable(handler):
            module.__dict__[entry] = _labelled(name, handler)
    return module


def function_routers() -> dict[str, tuple[APIRouter, ...]]:
    """Each API function's routers, by function name."""
    return {
        handler.parent.name: tuple(routers)
        for handler in sorted(FUNCTIONS.glob("*/handler.py"))
        if (routers := getattr(load_function(handler.parent.name), "routers", ()))
    }


def domain_routers(by_function: dict[str, tuple[APIRouter, ...]] | None = None) -> list[APIRouter]:
    routers: list[APIRouter] = []
    for owned in (by_function or function_routers()).values():
        for router in owned:
            if router not in routers:
                routers.append(router)
    return routers


def route_owners(by_function: dict[str, tuple[APIRouter, ...]]) -> list[tuple[APIRoute, str]]:
    """Every API route with the function that serves it on Lambda, in the app's order.

    The routers' own routes: FastAPI keeps included routers as such in `app.routes`."""
    owners: list[tuple[APIRoute, str]] = []
    seen: set[int] = set()
    for function, routers in by_function.items():
        for router in routers:
            if id(router) in seen:
                continue
            seen.add(id(router))
            owners += [(r, function) for r in router.routes if isinstance(r, APIRoute)]
    return owners


class RouteLabels:
    """Label every line an HTTP request logs with the function that owns its route."""

    def __init__(self, app: ASGIApp, *, owners: list[tuple[APIRoute, str]]) -> None:
        self.app = app
        self.table = owners

    def owner(self, scope: Scope) -> str | None:
        partial = None  # the path matches, the method does not (405): still that function's
        for route, function in self.table:
            match, _ = route.matches(scope)
            if match is Match.FULL:
                return function
            if match is Match.PARTIAL and partial is None:
                partial = function
        return partial

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        function = self.owner(scope)
        service = service_name(function) if function else LOCAL_SERVICE
        with labels(service=service, function_name=function):
            await self.app(scope, receive, send)


def local_routers() -> list[APIRouter]:
    """What only the local runtime serves: the dev mail viewer, when mail is caught."""
    from local import devmail
    from servicedesk.platform.config import get_settings

    return [devmail.router] if get_settings().mail_catcher_dir else []


def build_app() -> FastAPI:
    from servicedesk.platform import sentry

    sentry.init()  # off unless SERVICEDESK_SENTRY_DSN is set
    by_function = function_routers()
    app = create_app(*domain_routers(by_function), *local_routers())
    mount_metrics(app)  # /metrics: the metrics in Prometheus text format (local only)
    mount_web(app)  # the built web app (web/dist), on paths no route answers
    # Outermost, so that the access line and everything the route logs carry the labels.
    app.add_middleware(RouteLabels, owners=route_owners(by_function))
    return app
