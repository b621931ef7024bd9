"""Log labels in the local runtime: one process serves every function, so each HTTP
request is labelled with the function that owns its route (as each Lambda logs under its
own name), and no invocation's labels stick to what the process does next."""

from __future__ import annotations

import re
import uuid

import pytest
from fastapi.routing import APIRoute

from local.app import LOCAL_SERVICE, function_routers, load_function, service_name
from local.scheduler import LambdaContext


def _owned_routes() -> list[tuple[str, str, str]]:
    """(method, path, function) of every API route, read from the function handlers."""
    return sorted(
        (method, route.path, function)
        for function, routers in function_routers().items()
        for router in routers
        for route in router.routes
        if isinstance(route, APIRoute)
        for method in route.methods or ()
    )


def _access_line(read, request_id: str) -> dict:
    (line,) = [
        line
        for line in read()
        if line["message"] == "request" and line.get("request_id") == request_id
    ]
    return line


def test_every_route_logs_under_the_function_that_owns_it(client, log_lines):
    # Another function's invocation first (the REST authorizer refusing a token): on a
    # shared logger its name used to stick to every later line of the process.
    authorizer = load_function("authorizer").lambda_handler
    event = {"type": "TOKEN", "authorizationToken": "Bearer x", "methodArn": "arn:a/s/GET/x"}
    with pytest.raises(Exception, match="Unauthorized"):
        authorizer(event, LambdaContext("authorizer", aws_request_id="authz-1"))

    routes = _owned_routes()
    assert len({function for _, _, function in routes}) >= 5
    wrong = []
    for n, (method, path, function) in enumerate(routes):
        request_id = f"walk-{n:05d}"
        concrete = re.sub(r"\{[^}]+\}", lambda _: str(uuid.uuid4()), path)
        # Not following a redirect (the SSO callback's): that would be a second request.
        client.request(
            method, concrete, headers={"X-Request-Id": request_id}, follow_redirects=False
        )
        line = _access_line(log_lines, request_id)
        labelled = (line["service"], line.get("function_name"))
        if labelled != (service_name(function), function):
            wrong.append((method, path, labelled))
    assert wrong == []

    # What no function owns (the web app, unknown paths) is the local API's own.
    client.get("/no/such/page", headers={"X-Request-Id": "walk-unowned"})
    line = _access_line(log_lines, "walk-unowned")
    assert line["service"] == LOCAL_SERVICE and "function_name" not in line
    assert not [line for line in log_lines() if line.get("function_request_id") == "authz-1"][1:]
