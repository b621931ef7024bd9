"""docs/clients/ (scripts/export_clients.py): the committed Postman collection and HTTP
file equal a fresh generation from the OpenAPI document, and cover every operation."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

import export_clients  # noqa: E402


def test_committed_clients_equal_a_fresh_generation() -> None:
    fresh = export_clients.generated()
    for path, text in fresh.items():
        assert path.exists(), f"{path} missing: run scripts/export_clients.py"
        assert path.read_text() == text, f"{path} is stale: run scripts/export_clients.py"


def test_clients_cover_every_operation() -> None:
    spec = export_clients.openapi()
    wanted = {
        (method.upper(), path)
        for path, item in spec["paths"].items()
        for method in export_clients.METHODS
        if method in item
    }
    collection = json.loads(export_clients.POSTMAN.read_text())
    assert collection["info"]["schema"] == export_clients.POSTMAN_SCHEMA
    in_postman = {
        (
            request["request"]["method"],
            "/"
            + "/".join(
                f"{{{s[1:]}}}" if s.startswith(":") else s
                for s in request["request"]["url"]["path"]
            ),
        )
        for folder in collection["item"]
        for request in folder["item"]
    }
    assert in_postman == wanted
    http = export_clients.HTTP_FILE.read_text()
    in_http = {
        (m.group(1), m.group(2).replace("{{", "{").replace("}}", "}"))
        for m in re.finditer(r"^(GET|POST|PUT|PATCH|DELETE) \{\{baseUrl\}\}([^?\s]+)", http, re.M)
    }
    assert in_http == wanted
    # A public route carries no token; a protected one does.
    login = next(
        r
        for f in collection["item"]
        for r in f["item"]
        if r["request"]["url"]["raw"] == "{{baseUrl}}/v1/auth/login"
    )
    assert login["request"]["auth"] == {"type": "noauth"}
    assert "POST {{baseUrl}}/v1/tickets\nAuthorization: Bearer {{token}}" in http
