"""A query parameter a route does not declare is a 422 naming it, on EVERY route.

FastAPI ignores undeclared query parameters, so ``?format=csv`` on a JSON-only report once
answered JSON without a word; platform.app.reject_unknown_query closes the class.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest

from servicedesk.platform.app import api_routes, declared_query
from tests.conftest import make_tenant


@pytest.fixture(scope="module")
def admin(client: Any) -> Any:
    return make_tenant(client).admin


def _url(path: str) -> str:
    return re.sub(r"\{(\w+)(:path)?\}", lambda _m: str(uuid.uuid4()), path)


def _unknown_named(response: Any, name: str, where: str) -> None:
    assert response.status_code == 422, (where, response.status_code, response.text)
    assert response.headers["content-type"] == "application/problem+json", where
    errors = response.json()["errors"]
    assert [e for e in errors if e["field"] == name and e["in"] == "query"], (where, errors)


def test_every_route_names_an_unknown_query_parameter(client, app, admin):
    routes = api_routes(app)
    checked = 0
    for route in routes:
        for method in sorted(route.methods or ()):
            if method == "HEAD":
                continue
            where = f"{method} {route.path}"
            url = f"{_url(route.path)}?zz_not_declared=1"
            response = client.request(method, url, headers=admin.headers)
            _unknown_named(response, "zz_not_declared", where)
            checked += 1
    assert checked > 150


def test_a_declared_parameter_next_to_an_unknown_one_names_only_the_unknown(client, admin):
    response = client.get(
        "/v1/reports/sla-compliance?group_by=team&formt=csv", headers=admin.headers
    )
    _unknown_named(response, "formt", "sla-compliance")
    assert [e["field"] for e in response.json()["errors"]] == ["formt"]


def test_declared_parameters_include_those_of_dependencies(app):
    route = next(r for r in api_routes(app) if r.path == "/v1/tickets" and "GET" in r.methods)
    assert {"limit", "cursor", "status", "q"} <= declared_query(route)


def test_the_same_request_without_the_unknown_parameter_is_answered(client, admin):
    response = client.get("/v1/reports/sla-compliance?group_by=team", headers=admin.headers)
    assert response.status_code == 200, response.text
