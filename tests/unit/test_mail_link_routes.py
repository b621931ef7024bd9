"""Every link our e-mails carry into the web app opens a page of it (issue 20: the footer's
settings link and the invitation mail's link said "Page not found").

Two nets: every event the e-mail consumer mails is rendered (templates.render, with the
payload URLs its producers make) and each web-app link in it is looked up in the router;
and the source is scanned for any path written after the web origin, so a link added
elsewhere (a new mail, a redirect) is checked too. The router's paths are read from
web/src/app/router.tsx and web/src/admin/routes.tsx."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from servicedesk.identity import recovery
from servicedesk.notifications import recipients, templates
from servicedesk.platform.config import get_settings
from servicedesk.platform.consumer import Envelope
from servicedesk.tickets.models import Comment, Ticket

ROOT = Path(__file__).resolve().parents[2]
ORIGIN = "https://desk.example"


def _router_patterns() -> list[re.Pattern[str]]:
    app = (ROOT / "web/src/app/router.tsx").read_text()
    admin = (ROOT / "web/src/admin/routes.tsx").read_text()
    paths = re.findall(r'path:\s*"(/[^"]*)"', app)
    paths += re.findall(r'section\("(/[^"]*)"', admin)
    paths += ["/admin/" + p for p in re.findall(r'[sS]ection\("([^/"][^"]*)"', admin)]
    paths += ["/admin"] if 'path: "/admin"' in admin else []
    out = []
    for path in paths:
        if path == "*":
            continue
        pattern = re.sub(r":[A-Za-z]+", "[^/]+", path)
        out.append(re.compile(f"^{pattern}/?$"))
    return out


PATTERNS = _router_patterns()


def routed(path: str) -> bool:
    return any(p.match(path) for p in PATTERNS)


def test_the_router_is_read():
    assert routed("/settings/notifications") and routed("/admin/settings")
    assert routed("/tickets/123") and not routed("/no-such-page")


def _links(text: str) -> set[str]:
    return {u.rstrip(".,;)") for u in re.findall(r"https?://[^\s\"<>]+", text)}


def _payload(event_type: str) -> dict[str, object]:
    """As the producers write it: the URLs are built the way they build them."""
    token = "x" * 40
    return {
        "actor_id": str(uuid.uuid4()),
        "assignee_id": str(uuid.uuid4()),
        "status_from": "new",
        "status_to": "open",
        "target": "first_response",
        "role": "agent",
        "job_id": str(uuid.uuid4()),
        "report": "tickets",
        "format": "csv",
        "expires_at": "2030-01-01T00:00:00Z",
        "organization": {"name": "Acme"},
        "tenant": {"slug": "acme"},
        "confirm_url": f"{ORIGIN}/signup/confirm#token={token}",
        "accept_url": f"{ORIGIN}/accept-invitation#token={token}",
        "login_url": f"{ORIGIN}/login",
        "url": f"{ORIGIN}{(recovery.RESET if 'reset' in event_type else recovery.VERIFY).page}"
        f"#token={token}",
    }


@pytest.mark.parametrize("event_type", sorted(recipients.RULES))
@pytest.mark.parametrize("role", ["requester", "agent"])
def test_every_link_a_mail_carries_opens_a_page_of_the_app(event_type, role):
    tenant_id, ticket_id = uuid.uuid4(), uuid.uuid4()
    ticket = Ticket(
        id=ticket_id, number="TCK-2030-000042", title="Printer", status="open", description="d"
    )
    comment = Comment(id=uuid.uuid4(), ticket_id=ticket_id, body="a reply")
    envelope = Envelope(
        uuid.uuid4(), 1, tenant_id, event_type, "ticket", str(ticket_id), {}, datetime.now(UTC)
    )
    about_ticket = not event_type.startswith(("user.", "signup.", "account.", "export.", "mail."))
    facts = templates.Facts(
        event_type=event_type,
        payload=_payload(event_type),
        branding=templates.branding("Acme", {"branding": {"logo_attachment_id": "1"}}, slug="acme"),
        subject=recipients.Subject(envelope, ticket if about_ticket else None, comment),
        actor_name="Sam",
        web_origin=ORIGIN,
        tenant_id=tenant_id,
    )
    person = recipients.Recipient("p@example.com", uuid.uuid4(), "Pat", role, link_generation=0)
    rendered = templates.render(facts, person, get_settings())
    links = _links(rendered.text) | _links(rendered.html)
    links |= {v.strip("<>") for v in rendered.headers.values() if v.startswith("<")}
    assert links, "every mail links somewhere"
    for link in links:
        path = urlsplit(link).path
        if path.startswith("/v1/"):
            continue  # the API (one-click unsubscribe, the logo), not a page
        assert routed(path), f"{event_type} mail links to {path}, which the web app lacks"


# Paths written right after the web origin anywhere in the Python source.
_WRITTEN = re.compile(
    r"(?:web_origin[^}\"']*|\borigin)\}(/[^\"'#?{}\s]*(?:\{[^}]*\}[^\"'#?{}\s]*)*)"
)


def test_every_path_the_code_writes_after_the_web_origin_is_a_page():
    found: list[tuple[str, str]] = []
    for source in (ROOT / "layers/core/python/servicedesk").rglob("*.py"):
        for match in _WRITTEN.finditer(source.read_text()):
            path = re.sub(r"\{[^}]*\}", "x", match.group(1))
            found.append((source.name, path))
    assert len(found) >= 8  # the scan sees the links we know of
    missing = [(f, p) for f, p in found if not p.startswith("/v1/") and not routed(p)]
    assert missing == []
