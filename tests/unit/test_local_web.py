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
    for path in ("/", "/requests", "/tickets/0b7a3c2e-0000-4000-8000-000000000000"):
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
    for path in ("/assets/missing.js", "/v1/nope", "/v1", "/ws", "/docs/x", "/openapi.json/x"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.headers["content-type"] == "application/problem+json", path


def test_api_routes_are_not_shadowed(client: Any) -> None:
    assert client.get("/v1/ping").json() == {"pong": "yes"}
    assert client.get("/openapi.json").json()["info"]["title"] == "Servicedesk API"
    assert client.get("/docs").status_code == 200


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
