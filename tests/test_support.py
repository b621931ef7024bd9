"""Helpers shared by tests that need more than the fixtures."""

from __future__ import annotations

from typing import Any

import psycopg


def latest_outbox(database: Any, event_type: str, to: str) -> dict[str, Any]:
    """The newest outbox payload of a type for an address, read as the owner."""
    with psycopg.connect(
        database.owner_url.set(drivername="postgresql").render_as_string(False)
    ) as c:
        row = c.execute(
            "SELECT payload FROM outbox WHERE event_type = %s AND payload->>'to' = %s"
            " ORDER BY created_at DESC LIMIT 1",
            (event_type, to),
        ).fetchone()
    assert row is not None, f"no {event_type} for {to}"
    return dict(row[0])


def accept_latest_invitation(client: Any, tenant: Any, email: str, **body: Any) -> Any:
    from tests.conftest import current_database

    payload = latest_outbox(current_database(), "user.invited", email)
    return client.post("/v1/auth/accept-invitation", json={"token": payload["token"], **body})


class ResponseTap:
    """Records, for every request the app answers, (endpoint, status) where the status is
    one the OpenAPI document must declare route by route (412, 428)."""

    WATCHED = frozenset({412, 428})

    def __init__(self, app: Any) -> None:
        self.app = app
        self.seen: set[tuple[Any, int]] = set()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        async def tap(message: Any) -> None:
            if message["type"] == "http.response.start" and message["status"] in self.WATCHED:
                self.seen.add((scope.get("endpoint"), message["status"]))
            await send(message)

        await self.app(scope, receive, tap if scope["type"] == "http" else send)

    def undeclared(self, fastapi_app: Any) -> list[str]:
        """Each watched answer a route gave that its operation does not declare."""
        from servicedesk.platform.app import api_routes

        if not self.seen:
            return []  # nothing to look up: skip building the document (~1.5 s a module)
        paths = fastapi_app.openapi()["paths"]
        missing = []
        for route in api_routes(fastapi_app):
            for endpoint, status in self.seen:
                if endpoint is not route.endpoint:
                    continue
                for method in route.methods or ():
                    responses = paths[route.path_format][method.lower()]["responses"]
                    if str(status) not in responses:
                        missing.append(f"{method} {route.path_format} answered {status}")
        return missing


def problem(response: Any, status: int) -> dict[str, Any]:
    """The problem+json body of a response that must answer ``status``."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return dict(response.json())


def field_names(body: dict[str, Any]) -> set[str]:
    """The fields a problem names."""
    return {e["field"] for e in body.get("errors", [])}
