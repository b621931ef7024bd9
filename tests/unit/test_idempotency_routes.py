"""One idempotency mechanism: every route that takes an Idempotency-Key runs its work
through ``idempotency.once`` (which stores the status and replays problems as problems),
directly or through the ``Once`` dependency (``platform.endpoints``) that binds the key to
the request, and nothing outside the platform claims or completes keys by hand."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from local.app import build_app
from servicedesk.platform import endpoints
from servicedesk.platform.app import api_routes

LAYER = Path(__file__).resolve().parents[2] / "layers" / "core" / "python" / "servicedesk"


def _headers(dependant) -> list[str]:
    """The header names a route (or dependency) reads, its dependencies' included."""
    own = [p.alias for p in dependant.header_params]
    return own + [h for sub in dependant.dependencies for h in _headers(sub)]


def _takes_key(route) -> bool:
    return "Idempotency-Key" in _headers(route.dependant)


def _runs_once(route) -> bool:
    """``idempotency.once(...)`` in the endpoint, or its ``Once`` parameter called."""
    source = inspect.getsource(route.endpoint)
    if "idempotency.once(" in source:
        return True
    bound = [d.name for d in route.dependant.dependencies if d.call is endpoints._idempotent]
    return len(bound) == 1 and f"return {bound[0]}(" in source


def test_every_route_with_an_idempotency_key_uses_once():
    routes = [r for r in api_routes(build_app()) if _takes_key(r)]
    assert len(routes) >= 15, "the walk found too few routes to mean anything"
    for route in routes:
        assert "POST" in route.methods, route.path
        assert _runs_once(route), f"{route.path} does not use idempotency.once"


def test_no_domain_claims_or_completes_keys_by_hand():
    hand_rolled = re.compile(r"idempotency\.(begin|complete)\(")
    offenders = [
        str(path.relative_to(LAYER))
        for path in LAYER.rglob("*.py")
        if path.name != "idempotency.py" and hand_rolled.search(path.read_text())
    ]
    assert offenders == []
