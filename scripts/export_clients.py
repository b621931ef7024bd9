"""Generate API clients from the OpenAPI document into docs/clients/: a Postman collection
(v2.1; Insomnia imports it too) and an HTTP file (VS Code REST Client, JetBrains HTTP
Client). One request per operation, grouped by tag, with its path and required query
parameters as variables, the bearer token where the route needs one, and a JSON body made
of the schema's required fields.

Usage: .venv/bin/python scripts/export_clients.py [--check]
``--check`` exits 1 when the committed files differ from a fresh generation
(tests/unit/test_export_clients.py runs it).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "docs" / "clients"
POSTMAN = OUTPUT / "servicedesk.postman_collection.json"
HTTP_FILE = OUTPUT / "servicedesk.http"
POSTMAN_SCHEMA = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"
BASE_URL = "http://127.0.0.1:8000"
METHODS = ("get", "post", "put", "patch", "delete")
# Example bodies stop nesting here (recursive schemas).
MAX_DEPTH = 4


def openapi() -> dict[str, Any]:
    sys.path.insert(0, str(ROOT / "scripts"))
    from export_openapi import document

    return dict(json.loads(document()))


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = spec["components"]["schemas"][name]
    return schema


STRING_FORMATS = {
    "uuid": "00000000-0000-0000-0000-000000000000",
    "email": "someone@example.com",
    "date-time": "2026-01-01T00:00:00Z",
    "date": "2026-01-01",
    "uri": "https://example.com/",
}
SCALARS: dict[str, Any] = {"integer": 1, "number": 1.0, "boolean": False}


def _given(spec: dict[str, Any], schema: dict[str, Any]) -> tuple[bool, Any]:
    """(True, value) when the schema names a value: an example, a default, an enum's
    first member; (False, the first non-null alternative of anyOf/oneOf/allOf) else."""
    for key in ("example", "default"):
        if schema.get(key) is not None:
            return True, schema[key]
    if "enum" in schema:
        return True, schema["enum"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        options = [s for s in schema.get(key, []) if _resolve(spec, s).get("type") != "null"]
        if options:
            return False, options[0]
    return False, None


def example(spec: dict[str, Any], schema: dict[str, Any], depth: int = 0) -> Any:
    """A placeholder value for a schema: its example or default, else by type; objects
    with their required properties only."""
    schema = _resolve(spec, schema)
    named, value = _given(spec, schema)
    if named:
        return value
    if value is not None:
        return example(spec, value, depth)
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        properties = schema.get("properties", {})
        required = [] if depth >= MAX_DEPTH else schema.get("required", [])
        return {n: example(spec, properties[n], depth + 1) for n in required if n in properties}
    if kind == "array":
        return [] if depth >= MAX_DEPTH else [example(spec, schema.get("items", {}), depth + 1)]
    if kind == "string":
        return STRING_FORMATS.get(schema.get("format") or "", "string")
    return SCALARS.get(str(kind))


def operations(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """Every operation, sorted by tag, path and method, as the clients need it."""
    found: list[dict[str, Any]] = []
    for path, item in spec["paths"].items():
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            params = [*item.get("parameters", []), *op.get("parameters", [])]
            body = (
                (op.get("requestBody") or {}).get("content", {}).get("application/json", {})
            ).get("schema")
            found.append(
                {
                    "tag": (op.get("tags") or ["other"])[0],
                    "name": op.get("summary") or op.get("operationId") or f"{method} {path}",
                    "method": method.upper(),
                    "path": path,
                    "path_params": [p["name"] for p in params if p["in"] == "path"],
                    "query": [
                        p["name"] for p in params if p["in"] == "query" and p.get("required")
                    ],
                    "auth": bool(op.get("security", spec.get("security", []))),
                    "idempotent": any(p["name"] == "Idempotency-Key" for p in params),
                    "if_match": any(p["name"] == "If-Match" for p in params),
                    "body": example(spec, body) if body is not None else None,
                }
            )
    return sorted(found, key=lambda o: (o["tag"], o["path"], METHODS.index(o["method"].lower())))


def _headers(op: dict[str, Any]) -> list[tuple[str, str]]:
    headers: list[tuple[str, str]] = []
    if op["auth"]:
        headers.append(("Authorization", "Bearer {{token}}"))
    if op["body"] is not None:
        headers.append(("Content-Type", "application/json"))
    if op["if_match"]:
        headers.append(("If-Match", '"{{version}}"'))
    if op["idempotent"]:
        headers.append(("Idempotency-Key", "{{$guid}}"))
    return headers


def postman(spec: dict[str, Any]) -> dict[str, Any]:
    folders: dict[str, list[dict[str, Any]]] = {}
    for op in operations(spec):
        segments = [
            f":{s[1:-1]}" if s.startswith("{") and s.endswith("}") else s
            for s in op["path"].strip("/").split("/")
        ]
        url: dict[str, Any] = {
            "raw": "{{baseUrl}}/" + "/".join(segments),
            "host": ["{{baseUrl}}"],
            "path": segments,
        }
        if op["path_params"]:
            url["variable"] = [{"key": name, "value": ""} for name in op["path_params"]]
        if op["query"]:
            url["query"] = [{"key": name, "value": ""} for name in op["query"]]
            url["raw"] += "?" + "&".join(f"{name}=" for name in op["query"])
        request: dict[str, Any] = {
            "method": op["method"],
            "header": [
                {"key": k, "value": v, "type": "text"}
                for k, v in _headers(op)
                if k != "Authorization"  # the collection's bearer auth, inherited
            ],
            "url": url,
        }
        if not op["auth"]:
            request["auth"] = {"type": "noauth"}
        if op["body"] is not None:
            request["body"] = {
                "mode": "raw",
                "raw": json.dumps(op["body"], indent=2),
                "options": {"raw": {"language": "json"}},
            }
        folders.setdefault(op["tag"], []).append({"name": op["name"], "request": request})
    return {
        "info": {
            "name": spec["info"]["title"],
            "description": "Generated from the OpenAPI document by scripts/export_clients.py;"
            " do not edit. Set baseUrl and token (an access token from POST /v1/auth/login).",
            "schema": POSTMAN_SCHEMA,
        },
        "auth": {
            "type": "bearer",
            "bearer": [{"key": "token", "value": "{{token}}", "type": "string"}],
        },
        "variable": [
            {"key": "baseUrl", "value": BASE_URL},
            {"key": "token", "value": ""},
            {"key": "version", "value": ""},
        ],
        "item": [{"name": tag, "item": items} for tag, items in folders.items()],
    }


def http_file(spec: dict[str, Any]) -> str:
    variables = sorted({name for op in operations(spec) for name in op["path_params"]})
    lines = [
        f"# {spec['info']['title']}: generated from the OpenAPI document by",
        "# scripts/export_clients.py; do not edit. Set @token to an access token",
        "# (POST /v1/auth/login) and the ids below to the records you work on.",
        f"@baseUrl = {BASE_URL}",
        "@token = ",
        "@version = ",
        *(f"@{name} = " for name in variables),
        "",
    ]
    for op in operations(spec):
        path = op["path"].replace("{", "{{").replace("}", "}}")
        query = "&".join(f"{name}=" for name in op["query"])
        lines.append(f"### {op['tag']}: {op['name']}")
        lines.append(f"{op['method']} {{{{baseUrl}}}}{path}{'?' + query if query else ''}")
        lines += [f"{k}: {v}" for k, v in _headers(op)]
        if op["body"] is not None:
            lines += ["", json.dumps(op["body"], indent=2)]
        lines.append("")
    return "\n".join(lines)


def generated() -> dict[Path, str]:
    spec = openapi()
    return {
        POSTMAN: json.dumps(postman(spec), indent=2, ensure_ascii=False) + "\n",
        HTTP_FILE: http_file(spec),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the files are stale")
    args = parser.parse_args(argv)
    stale = []
    for path, text in generated().items():
        current = path.read_text() if path.exists() else ""
        if current == text:
            continue
        if args.check:
            stale.append(path)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    for path in stale:
        sys.stderr.write(f"{path} is stale: run scripts/export_clients.py\n")
    return 1 if stale else 0


if __name__ == "__main__":
    raise SystemExit(main())
