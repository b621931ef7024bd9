"""The web app's Content-Security-Policy: one policy for CloudFront (stacks/web.py) and the
local runtime (local/web.py), so what `make dev` and the e2e tests run under is what
production sends. Everything comes from the app's own origin; only ``connect`` grows (the
S3 upload endpoint, the WebSocket API's origin) and ``images`` (the attachments bucket's
origin: the tenant's logo is a redirect from /v1/branding/{slug}/logo to a presigned GET,
and a CSP checks the redirect's target too)."""

from __future__ import annotations

from collections.abc import Sequence


def content_security_policy(
    connect: Sequence[str] = (), *, upgrade_insecure: bool, images: Sequence[str] = ()
) -> str:
    sources = " ".join(["'self'", *connect])
    image_sources = " ".join(["'self'", "data:", "blob:", *images])
    directives = [
        "default-src 'self'",
        f"connect-src {sources}",
        f"img-src {image_sources}",
        "style-src 'self'",
        "script-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
    if upgrade_insecure:  # https only (not the http://127.0.0.1 of the local runtime)
        directives.append("upgrade-insecure-requests")
    return "; ".join(directives)
