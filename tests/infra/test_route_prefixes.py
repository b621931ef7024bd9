"""Every route a Lambda's FastAPI app serves is one API Gateway sends to that Lambda.

The gateway side is the synthesized template (its resources, methods and integrations),
matched the way API Gateway matches: a static path part before ``{var}`` before a greedy
``{proxy+}``, and a method of its own before ``ANY``. The function side is each
``functions/<name>/handler.py``'s ``routers``, as the Lambda serves them.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.routing import APIRoute

from local.app import function_routers
from tests.infra.conftest import Synthesized
from tests.infra.test_stacks import (
    _integration_function,
    _logical_id,
    _nested_outputs,
    _resource_paths,
    _resources,
)

pytestmark = pytest.mark.infra

Gateway = dict[str, dict[str, str]]  # resource path -> method (or ANY) -> function name


def gateway_routes(dev: Synthesized) -> Gateway:
    api = dev.templates["Api"]
    names = {_logical_id(fn.function): name for name, fn in dev.sd.api.functions.items()}
    # With SnapStart the methods invoke the function's `live` alias.
    names |= {
        _logical_id(fn.alias): name
        for name, fn in dev.sd.api.functions.items()
        if fn.alias is not None
    }
    paths = _resource_paths(api)
    nested = _nested_outputs(dev)
    routes: Gateway = {}
    for method in _resources(api, "AWS::ApiGateway::Method").values():
        props = method["Properties"]
        target = _integration_function(method, nested)
        if props["HttpMethod"] == "OPTIONS" or target is None:
            continue  # CORS preflight: a mock integration, no function
        path = paths[props["ResourceId"]["Ref"]]
        routes.setdefault(path, {})[props["HttpMethod"]] = names[target]
    return routes


def _candidates(tree: set[str], prefix: str, rest: list[str]) -> Iterator[str]:
    """Resource paths of ``tree`` matching ``rest`` below ``prefix``, most specific first."""
    if not rest:
        yield prefix
        return
    children = sorted(r for r in tree if r.rpartition("/")[0] == prefix)
    variables = [c for c in children if c.endswith("}") and not c.endswith("+}")]
    for child in (c for c in [f"{prefix}/{rest[0]}", *variables] if c in tree):
        yield from _candidates(tree, child, rest[1:])
    if f"{prefix}/{{proxy+}}" in tree:
        yield f"{prefix}/{{proxy+}}"


def served_by(gateway: Gateway, method: str, path: str) -> str | None:
    """The function API Gateway invokes for ``method`` on a concrete ``path``."""
    # Every resource and the levels above it (a level may have no method of its own).
    tree = {"/".join(r.split("/")[:n]) for r in gateway for n in range(2, r.count("/") + 2)}
    for resource in _candidates(tree, "", path.strip("/").split("/")):
        methods = gateway.get(resource, {})
        if method in methods or "ANY" in methods:
            return methods.get(method, methods.get("ANY"))
    return None


def _sample(path: str) -> str:
    """A concrete path for a route template: each ``{param}`` becomes one path part."""
    return "/".join("sample" if p.startswith("{") else p for p in path.split("/"))


def test_the_matcher_follows_api_gateway(dev: Synthesized) -> None:
    gateway = gateway_routes(dev)
    upload = "/v1/tickets/0b7c/attachments"
    assert served_by(gateway, "POST", upload) == "attachments"
    assert served_by(gateway, "GET", upload) == "tickets"
    assert served_by(gateway, "GET", "/v1/tickets") == "tickets"
    article_upload = "/v1/kb/articles/0b7c/attachments"
    assert served_by(gateway, "POST", article_upload) == "attachments"
    assert served_by(gateway, "GET", article_upload) == "kb"
    assert served_by(gateway, "POST", "/v1/kb/articles/0b7c/publish") == "kb"
    assert served_by(gateway, "GET", "/v1/kb/categories/0b7c") == "kb"
    assert served_by(gateway, "GET", "/v1/kb/articles") == "kb"
    assert served_by(gateway, "GET", "/v1/teams/a/members/b") == "admin"
    assert served_by(gateway, "GET", "/v1/nowhere") is None
    assert served_by(gateway, "GET", "/v2/tickets") is None


def test_every_lambdas_routes_fall_under_the_prefixes_the_gateway_sends_it(
    dev: Synthesized,
) -> None:
    gateway = gateway_routes(dev)
    checked: set[tuple[str, str, str]] = set()
    misrouted = []
    for function, routers in function_routers().items():
        for route in (r for router in routers for r in router.routes):
            assert isinstance(route, APIRoute)
            for method in sorted(route.methods):
                checked.add((function, method, route.path))
                sent_to = served_by(gateway, method, _sample(route.path))
                if sent_to != function:
                    misrouted.append(f"{method} {route.path}: {function}, sent to {sent_to}")
    assert misrouted == []
    assert len(checked) >= 80
    assert ("tickets", "GET", "/v1/tickets/{ticket_id}/sla") in checked
    assert ("attachments", "POST", "/v1/tickets/{ticket_id}/attachments") in checked
    assert ("attachments", "POST", "/v1/kb/articles/{article_id}/attachments") in checked
    assert ("kb", "GET", "/v1/kb/articles/{article_id}/attachments") in checked
