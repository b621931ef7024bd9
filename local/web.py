"""The built web app (web/dist) on the API's own origin, as CloudFront serves it in AWS.

It is the router's *default* handler, what runs only when no route matched, so it never
shadows an API route whatever order routes are added in. Paths that belong to the API
(/v1, /docs, /openapi.json, /ws, /@connections) keep the API's problem+json 404; any other
GET that names no file gets index.html (the app's router takes it from there). ``/docs``
itself is the API reference: Swagger UI from the web build (``api-docs/``, the npm package
swagger-ui-dist, no CDN) reading ``/openapi.json``, under the same headers as the app.
``/config.json`` is the runtime config that the web stack writes in AWS; here the WebSocket
is on this same origin, so it names none and the app uses ``/ws``. It also says when this
runtime is a development one (``environment: "dev"``, the app's "Development" banner) and
whether its mail viewer is there (``mailViewer``, local/devmail.py); AWS's config has neither.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from fastapi import FastAPI
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from servicedesk.platform import csp, webpaths

DIST = Path(__file__).resolve().parent.parent / "web" / "dist"
API_PREFIXES = ("/v1", "/docs", "/openapi.json", "/ws", "/@connections")
IMMUTABLE = "public, max-age=31536000, immutable"
RUNTIME_CONFIG = {"websocketUrl": None, "apiBase": "/v1"}


def runtime_config() -> dict[str, object]:
    from servicedesk.platform.config import get_settings

    settings = get_settings()
    config: dict[str, object] = dict(RUNTIME_CONFIG)
    if settings.is_dev:
        config["environment"] = "dev"
    if settings.mail_catcher_dir:
        config["mailViewer"] = True
    return config


DOCS_PAGE = "api-docs/docs.html"


def content_security_policy() -> str:
    """Same origin for everything; uploads also go to the S3 endpoint (the emulator here)."""
    connect = []
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if endpoint:
        parts = urlsplit(endpoint)
        connect.append(f"{parts.scheme}://{parts.netloc}")
    return csp.content_security_policy(connect, upgrade_insecure=False, images=connect)


def security_headers() -> dict[str, str]:
    return {
        "Content-Security-Policy": content_security_policy(),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "X-Frame-Options": "DENY",
    }


def is_api_path(path: str) -> bool:
    return any(path == p or path.startswith(p + "/") for p in API_PREFIXES)


# What a build's files are named like: a missing one is a 404, not the app. Other paths
# with a dot are the app's routes (the dev mail viewer's /dev/mail/<name>.eml).
STATIC_SUFFIXES = frozenset(
    {".js", ".mjs", ".css", ".map", ".json", ".txt", ".html", ".ico", ".png", ".jpg",
     ".jpeg", ".gif", ".webp", ".svg", ".woff", ".woff2", ".webmanifest", ".xml", ".wasm"}
)  # fmt: skip


def _static_name(path: str) -> bool:
    return PurePosixPath(path).suffix.lower() in STATIC_SUFFIXES


class WebApp:
    """Static files from ``dist`` with an SPA fallback; everything else to ``not_found``."""

    def __init__(self, dist: Path, not_found: ASGIApp) -> None:
        self.dist = dist.resolve()
        self.not_found = not_found

    def _file(self, path: str) -> Path | None:
        candidate = (self.dist / path.lstrip("/")).resolve()
        if candidate.is_relative_to(self.dist) and candidate.is_file():
            return candidate
        return None

    def response(self, path: str) -> Response | None:
        file = self._file(DOCS_PAGE if path == "/docs" else path)
        if file is not None and file.name != "index.html":
            cache = IMMUTABLE if path.startswith("/assets/") else "no-cache"
            return FileResponse(file, headers={"Cache-Control": cache, **security_headers()})
        if path == "/config.json":
            headers = {"Cache-Control": "no-cache", **security_headers()}
            return JSONResponse(runtime_config(), headers=headers)
        if path == "/docs" or path.startswith("/assets/") or _static_name(path):
            return None  # a missing file is a 404, not the app
        index = self.dist / "index.html"
        if not index.is_file():
            return PlainTextResponse(
                "The web app is not built yet: run `make web`.", status_code=503
            )
        return FileResponse(index, headers={"Cache-Control": "no-cache", **security_headers()})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "/")
        if (
            scope["type"] != "http"
            or scope.get("method") not in ("GET", "HEAD")
            or (is_api_path(path) and path != "/docs")
            or webpaths.is_not_app(path)  # /graphql, /api, ...: a 404, never the app
        ):
            await self.not_found(scope, receive, send)
            return
        response = self.response(path)
        if response is None:
            await self.not_found(scope, receive, send)
            return
        await response(scope, receive, send)


def mount_web(app: FastAPI, dist: Path = DIST) -> None:
    """Serve the web app from ``dist`` when it has been built (``make web``)."""
    if not (dist / "index.html").is_file():
        return
    app.router.default = WebApp(dist, app.router.default)
