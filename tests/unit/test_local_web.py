"""local/web.py: the built web app on the API's origin, never in the API's way."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient

from local.web import mount_web
from servicedesk.platform.app import create_app
from servicedesk.platform.rbac import public

router = APIRouter(prefix="/v1")


@router.get("/ping", dependencies=[public("test route")])
def ping() -> dict[str, str]:
    return {"pong": "yes"}


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><div id=root></div>")
    (tmp_path / "assets" / "app-1234.js").write_text("console.log(1)")
    (tmp_path / "robots.txt").write_text("User-agent: *")
    (tmp_path.parent / "secret.txt").write_text("nope")
    return tmp_path


@pytest.fixture
def client(dist: Path) -> Any:
    app = create_app(router)
    mount_web(app, dist)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def test_app_routes_get_index_with_security_headers(client: Any) -> None:
    # A route may hold a dot (the dev mail viewer's message names end in .eml).
    for path in (
        "/",
        "/requests",
        "/tickets/0b7a3c2e-0000-4000-8000-000000000000",
        "/dev/mail/20261206T221145Z-comment.public-a%40acme.example.eml",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "id=root" in response.text
        assert response.headers["cache-control"] == "no-cache"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert response.headers["x-content-type-options"] == "nosniff"


def test_hashed_assets_are_immutable_and_other_files_are_served(client: Any) -> None:
    asset = client.get("/assets/app-1234.js")
    assert asset.status_code == 200
    assert "immutable" in asset.headers["cache-control"]
    assert client.get("/robots.txt").text == "User-agent: *"


def test_missing_files_and_api_paths_answer_the_apis_404(client: Any) -> None:
    for path in (
        "/assets/missing.js",
        "/assets/missing",
        "/missing.png",
        "/v1/nope",
        "/v1",
        "/ws",
        "/docs/x",
        "/openapi.json/x",
        # Where an API could be at the root (servicedesk.platform.webpaths): never the app.
        "/graphql",
        "/graphql/x",
        "/api",
        "/api/v1/tickets",
        "/scim/v2/Users",
        "/.well-known/openid-configuration",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.headers["content-type"] == "application/problem+json", path


def test_api_routes_are_not_shadowed(client: Any) -> None:
    assert client.get("/v1/ping").json() == {"pong": "yes"}
    assert client.get("/openapi.json").json()["info"]["title"] == "Servicedesk API"
    assert client.get("/docs").status_code == 404  # this dist has no api-docs/


def test_runtime_config_points_the_app_at_its_own_origin(client: Any) -> None:
    response = client.get("/config.json")
    assert response.json() == {"websocketUrl": None, "apiBase": "/v1"}
    assert response.headers["cache-control"] == "no-cache"


def test_only_get_and_head_reach_the_app(client: Any) -> None:
    assert client.head("/requests").status_code == 200
    response = client.post("/requests", json={})
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_paths_outside_dist_are_never_served(client: Any) -> None:
    response = client.get("/..%2Fsecret.txt")
    assert "nope" not in response.text
    response = client.get("/assets/..%2F..%2Fsecret.txt")
    assert "nope" not in response.text


def test_nothing_is_mounted_before_the_app_is_built(tmp_path: Path) -> None:
    app = create_app(router)
    mount_web(app, tmp_path / "missing")
    with TestClient(app, raise_server_exceptions=False) as test_client:
        response = test_client.get("/")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


ROOT = Path(__file__).resolve().parents[2]
SWAGGER = ROOT / "web" / "node_modules" / "swagger-ui-dist"


@pytest.fixture
def docs_client(dist: Path) -> Any:
    """A dist with api-docs/ as the web build makes it (vite.config.ts, apiDocs): the page
    and start script from web/public, Swagger UI's files from the pinned npm package."""
    import shutil

    target = dist / "api-docs"
    shutil.copytree(ROOT / "web" / "public" / "api-docs", target)
    for name in ("swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png"):
        shutil.copy(SWAGGER / name, target / name)
    app = create_app(router)
    mount_web(app, dist)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def test_docs_are_served_from_this_origin_only(docs_client: Any) -> None:
    """/docs works offline: every script, style and icon it names is ours, served 200 under
    the app's CSP (no inline script or style), and no URL points elsewhere."""
    import re

    page = docs_client.get("/docs")
    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["content-security-policy"]
    html = page.text
    assert "<style" not in html and " style=" not in html
    assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html) is None, "an inline script"
    refs = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert {r.rsplit("/", 1)[-1] for r in refs} >= {"swagger-ui-bundle.js", "init.js"}
    for ref in refs:
        assert ref.startswith("/") and not ref.startswith("//"), ref
        asset = docs_client.get(ref)
        assert asset.status_code == 200, ref
        text = asset.text if ref.endswith((".js", ".html")) and "bundle" not in ref else ""
        assert not re.search(r"https?://", text), f"{ref} names another origin"
    assert not re.search(r"https?://", html)
    assert docs_client.get("/docs/x").status_code == 404
