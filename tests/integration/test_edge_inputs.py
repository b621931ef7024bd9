"""Input the database or the parser would refuse is a 422 naming the field, on EVERY route.

The routes come from the OpenAPI document; each request body is generated from the route's
own schema (every property, valid where the schema says how), then broken in one place.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest

from servicedesk.platform.inputs import MAX_JSON_DEPTH, NUL_MESSAGE
from tests.conftest import make_tenant

PATTERN_SAMPLES = ("abc", "ABC", "a-b", "abc1")


def _operations(app: Any) -> list[tuple[str, str, dict[str, Any]]]:
    paths = app.openapi()["paths"]
    return [
        (method.upper(), path, op)
        for path, ops in paths.items()
        for method, op in ops.items()
        if path.startswith("/v1/")
    ]


def _resolve(node: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = components[node["$ref"].rsplit("/", 1)[1]]
    return node


def _string(node: dict[str, Any]) -> str:
    fmt = node.get("format")
    if fmt == "email":
        return "someone@example.org"
    if fmt == "uuid":
        return str(uuid.uuid4())
    if fmt == "date-time":
        return "2026-01-05T09:00:00Z"
    if fmt == "date":
        return "2026-01-05"
    if fmt in ("uri", "url"):
        return "https://example.org/hook"
    low, high = node.get("minLength", 1), node.get("maxLength", 40)
    for sample in PATTERN_SAMPLES:
        text = (sample * low)[: max(low, len(sample))][:high]
        if "pattern" not in node or re.search(node["pattern"], text):
            return text
    return "x" * low


def sample(node: dict[str, Any], components: dict[str, Any], depth: int = 0) -> Any:
    """A value for a JSON schema: every property, the first enum member, the first branch."""
    node = _resolve(node, components)
    if "const" in node:
        return node["const"]
    if "enum" in node:
        return node["enum"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        if key in node:
            branches = [b for b in node[key] if _resolve(b, components).get("type") != "null"]
            return sample(branches[0] if branches else node[key][0], components, depth)
    kind = node.get("type")
    if kind == "object" or "properties" in node:
        return _object(node, components, depth)
    if kind == "array":
        count = max(1, node.get("minItems", 1))
        return [sample(node.get("items", {}), components, depth + 1) for _ in range(count)]
    if kind == "string":
        return _string(node)
    if kind in ("integer", "number"):
        return node.get("minimum", node.get("exclusiveMinimum", 0) + 1)
    if kind == "boolean":
        return True
    return None


def _object(node: dict[str, Any], components: dict[str, Any], depth: int) -> dict[str, Any]:
    if depth > 6:
        return {}
    props = node.get("properties", {})
    if not props and isinstance(node.get("additionalProperties"), dict):
        return {"key": sample(node["additionalProperties"], components, depth + 1)}
    return {name: sample(p, components, depth + 1) for name, p in props.items()}


def string_leaves(value: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    if isinstance(value, str):
        yield path
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from string_leaves(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from string_leaves(item, (*path, str(index)))


def _with_nul(value: Any, path: tuple[str, ...]) -> Any:
    if not path:
        return value[:1] + "\x00" + value[1:]
    copy = json.loads(json.dumps(value))
    target = copy
    for part in path[:-1]:
        target = target[int(part)] if isinstance(target, list) else target[part]
    last = int(path[-1]) if isinstance(target, list) else path[-1]
    target[last] = _with_nul(target[last], ())
    return copy


def _url(path: str, ids: dict[str, str], broken: str | None = None) -> str:
    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        return quote("a\x00b") if name == broken else ids.get(name, str(uuid.uuid4()))

    return re.sub(r"\{(\w+)\}", fill, path)


def _nul_problem(response: Any, field: str, where: str) -> None:
    assert response.status_code == 422, (field, where, response.status_code, response.text)
    assert response.headers["content-type"] == "application/problem+json"
    errors = response.json()["errors"]
    named = [e for e in errors if e["field"] == field and e["in"] == where]
    assert named and named[0]["detail"] == NUL_MESSAGE, errors


@pytest.fixture(scope="module")
def admin(client: Any) -> Any:
    return make_tenant(client).admin


# Bodies with no text field at all (flags and numbers only): nothing there to break.
NO_STRINGS = {
    ("PUT", "/v1/settings/kb"),
    ("PUT", "/v1/assistant/settings"),
    ("PUT", "/v1/settings/security"),
    ("POST", "/v1/cis/imports/{job_id}/import"),  # {partial}
}


def test_every_route_names_a_nul_in_any_body_field(client, app, admin):
    components = app.openapi()["components"]["schemas"]
    checked = 0
    for method, path, op in _operations(app):
        content = op.get("requestBody", {}).get("content", {}).get("application/json")
        if content is None:
            continue
        body = sample(content["schema"], components)
        leaves = list(string_leaves(body))
        assert leaves or (method, path) in NO_STRINGS, (
            f"{method} {path}: the generated body has no string to break"
        )
        for leaf in leaves:
            response = client.request(
                method, _url(path, {}), json=_with_nul(body, leaf), headers=admin.headers
            )
            _nul_problem(response, ".".join(leaf), "body")
            checked += 1
    assert checked > 40


def test_a_nul_in_a_nested_key_is_named(client, admin):
    response = client.post(
        "/v1/tickets",
        json={"title": "t", "custom_fields": {"outer": {"in\x00side": "x"}}},
        headers=admin.headers,
    )
    _nul_problem(response, "custom_fields.outer.in\\u0000side", "body")


def test_every_route_names_a_nul_in_a_query_path_or_header_parameter(client, app, admin):
    for method, path, op in _operations(app):
        params = op.get("parameters", [])
        for param in params:
            name, where = param["name"], param["in"]
            if where == "query":
                url = f"{_url(path, {})}?{name}={quote('a' + chr(0))}"
                response = client.request(method, url, headers=admin.headers)
            elif where == "path":
                response = client.request(method, _url(path, {}, name), headers=admin.headers)
            elif where == "header":
                headers = {**admin.headers, name: "a\x00b"}
                response = client.request(method, _url(path, {}), headers=headers)
            else:
                continue
            _nul_problem(response, name, where)
        # Headers every route reads, declared or not.
        for header in ("Authorization", "X-Request-Id"):
            response = client.request(method, _url(path, {}), headers={header: "Bearer a\x00b"})
            _nul_problem(response, header, "header")


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 300, 100_000])
def test_every_route_refuses_json_nested_too_deep(client, app, admin, depth):
    deep = '{"title": ' + "[" * depth + "]" * depth + "}"
    for method, path, op in _operations(app):
        if "requestBody" not in op:
            continue
        response = client.request(
            method,
            _url(path, {}),
            content=deep.encode(),
            headers={**admin.headers, "Content-Type": "application/json"},
        )
        assert response.status_code == 422, (method, path, response.text)
        [error] = response.json()["errors"]
        assert error["field"] == "body" and str(MAX_JSON_DEPTH) in error["detail"]


def test_brackets_inside_strings_do_not_count_as_nesting(client, admin):
    title = '\\"' + "[" * 200 + "{" * 200
    response = client.post("/v1/tickets", json={"title": title[:200]}, headers=admin.headers)
    assert response.status_code == 201, response.text


def test_json_just_within_the_depth_limit_reaches_the_route(client, admin):
    nested: Any = "leaf"
    for _ in range(MAX_JSON_DEPTH - 2):
        nested = {"n": nested}
    response = client.post(
        "/v1/tickets", json={"title": "deep", "custom_fields": nested}, headers=admin.headers
    )
    # The route's own rules answer (no such custom field), not the edge.
    assert response.status_code in (201, 422), response.text
    if response.status_code == 422:
        assert all(e["field"] != "body" for e in response.json()["errors"])


# --- cursors: every route that takes one ------------------------------------------------


def _b64(value: Any) -> str:
    raw = value if isinstance(value, bytes) else json.dumps(value).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


BAD_CURSORS = [
    "%%%not-base64",
    _b64(b"\xff\xfe not json"),
    _b64({"created_at": "2026-01-01"}),
    _b64("a string"),
    _b64([]),
    _b64([1, 2, 3, 4, 5, 6]),
    _b64(b"[" * 300 + b"]" * 300),
    "x" * 600,
]
# Right shape, wrong values, for every arity a list may use (1-4 keys).
for arity in range(1, 5):
    BAD_CURSORS += [
        _b64([{"a": 1}] * arity),
        _b64([True] * arity),
        _b64([None] * arity),
        _b64(["a\x00b"] * arity),
        _b64([2**70] * arity),
        _b64([1e400] * arity),
    ]
    if arity > 1:  # no list sorts by text alone past one key: some key wants a uuid or time
        BAD_CURSORS += [
            _b64(["not-a-date-or-uuid"] * arity),
            _b64(["2026-01-01T00:00:00"] * arity),  # a time without a zone
            _b64(["NaN"] * arity),
        ]


@pytest.fixture(scope="module")
def resources(client: Any, admin: Any) -> dict[str, str]:
    ticket = client.post("/v1/tickets", json={"title": "cursor"}, headers=admin.headers)
    assert ticket.status_code == 201, ticket.text
    ticket_id = ticket.json()["id"]
    comment = client.post(
        f"/v1/tickets/{ticket_id}/comments", json={"body": "hello"}, headers=admin.headers
    )
    assert comment.status_code == 201, comment.text
    hook = client.post(
        "/v1/webhooks",
        json={"url": "https://hooks.example.com/x", "event_types": ["ticket.created"]},
        headers=admin.headers,
    )
    assert hook.status_code == 201, hook.text
    article = client.post("/v1/kb/articles", json={"title": "cursor"}, headers=admin.headers)
    assert article.status_code == 201, article.text
    rule = client.post(
        "/v1/automations",
        json={
            "name": "cursor",
            "kind": "time",
            "active": False,
            "actions": [{"type": "add_tags", "tags": ["x"]}],
        },
        headers=admin.headers,
    )
    assert rule.status_code == 201, rule.text
    classes = client.get("/v1/ci-classes", headers=admin.headers).json()["items"]
    ci = client.post(
        "/v1/cis", json={"class_id": classes[0]["id"], "name": "cursor"}, headers=admin.headers
    )
    assert ci.status_code == 201, ci.text
    project = client.post(
        "/v1/projects", json={"name": "Cursor", "key": "CUR"}, headers=admin.headers
    )
    assert project.status_code == 201, project.text
    project_id = project.json()["id"]
    task = client.post(
        f"/v1/projects/{project_id}/tasks", json={"title": "cursor"}, headers=admin.headers
    )
    assert task.status_code == 201, task.text
    source = client.post(
        "/v1/cis/discovery-sources",
        json={
            "name": "cursor",
            "role_arn": "arn:aws:iam::123456789012:role/servicedesk-discovery",
            "regions": ["eu-west-1"],
        },
        headers=admin.headers,
    )
    assert source.status_code == 201, source.text
    return {
        "source_id": source.json()["id"],
        "project_id": project_id,
        "task_id": task.json()["id"],
        "ci_id": ci.json()["id"],
        "rule_id": rule.json()["id"],
        "article_id": article.json()["id"],
        "ticket_id": ticket_id,
        "comment_id": comment.json()["id"],
        "webhook_id": hook.json()["id"],
    }


def test_every_list_names_a_malformed_cursor(client, app, admin, resources):
    lists = [
        (path, op)
        for method, path, op in _operations(app)
        if method == "GET" and any(p["name"] == "cursor" for p in op.get("parameters", []))
    ]
    assert len(lists) >= 13
    for path, _ in lists:
        for name in re.findall(r"\{(\w+)\}", path):
            assert name in resources, f"{path}: no {name} to list under"
        url = _url(path, resources)
        assert client.get(url, headers=admin.headers).status_code == 200, url
        for cursor in BAD_CURSORS:
            response = client.get(url, params={"cursor": cursor}, headers=admin.headers)
            assert response.status_code == 422, (path, cursor, response.text)
            assert response.headers["content-type"] == "application/problem+json"
            assert [e["field"] for e in response.json()["errors"]] == ["cursor"], response.text


def test_a_cursor_from_a_page_still_continues_the_list(client, admin):
    for n in range(3):
        made = client.post("/v1/calendars", json=_calendar(f"Cal {n}"), headers=admin.headers)
        assert made.status_code == 201, made.text
    first = client.get("/v1/calendars?limit=2", headers=admin.headers).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = client.get(
        "/v1/calendars", params={"limit": 2, "cursor": first["next_cursor"]}, headers=admin.headers
    ).json()
    names = [c["name"] for c in first["items"] + rest["items"]]
    assert names == sorted(names) and len(set(names)) == len(names) >= 3


def _calendar(name: str) -> dict[str, Any]:
    day = [{"start": "09:00", "end": "17:00"}]
    return {"name": name, "timezone": "Europe/Berlin", "week": [day] * 5 + [[], []]}


def test_every_route_taking_if_match_declares_412(app):
    for method, path, op in _operations(app):
        headers = {p["name"] for p in op.get("parameters", []) if p["in"] == "header"}
        if "If-Match" in headers:
            assert "412" in op["responses"], f"{method} {path}"


def test_a_validation_problem_reads_as_sentences(client):
    response = client.post(
        "/v1/signup",
        json={"organization_name": "O", "slug": "ab", "name": "N", "email": "x", "password": "p"},
    )
    assert response.status_code == 422, response.text
    problem = response.json()
    errors = {e["field"]: e for e in problem["errors"]}
    assert errors["slug"]["detail"] == "must be at least 3 characters"
    assert errors["slug"]["code"] == "string_too_short"
    assert errors["email"]["detail"] == "must be at least 3 characters"
    assert "slug must be at least 3 characters" in problem["detail"]
    assert "should" not in response.text
