"""Paths at the web origin's root that are not the web app's.

The web app answers any path that names no file with its index page (its router takes it
from there). An integrator or a probe looking for an API at the root (``/graphql``,
``/api``, ``/scim/...``) must not get that page with 200, which says "something is here":
these prefixes answer a 404 problem that points at ``/v1``. One list for the local runtime
(local/web.py) and CloudFront's viewer-request function (stacks/web.py).
"""

from __future__ import annotations

import json

from servicedesk.platform.errors import PROBLEM_BASE

NOT_APP_PREFIXES: tuple[str, ...] = ("/graphql", "/api", "/scim", "/.well-known")


def is_not_app(path: str) -> bool:
    return any(path == p or path.startswith(p + "/") for p in NOT_APP_PREFIXES)


def not_found_problem() -> str:
    """The 404 body both doors answer for those paths (RFC 9457)."""
    return json.dumps(
        {
            "type": PROBLEM_BASE + "not-found",
            "title": "Not found",
            "status": 404,
            "detail": "Nothing is served here: the API is under /v1 (GraphQL at /v1/graphql).",
        }
    )
