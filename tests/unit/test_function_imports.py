"""Each Lambda function imports what it serves and nothing else (cold start, issue 15).

Every handler is imported in a fresh interpreter, by path, with its own folder as the
working directory (as the Lambda runtime does with /var/task); the child reports which
modules ended up in ``sys.modules``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = ROOT / "functions"

CHILD = """
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("handler", sys.argv[1])
module = importlib.util.module_from_spec(spec)
sys.modules["handler"] = module
spec.loader.exec_module(module)
assert callable(getattr(module, "lambda_handler", None) or module.handler)
print(json.dumps(sorted(sys.modules)))
"""

# The API functions and the route modules each may load: its own domains' and no other's.
API_ROUTES = {
    # GraphQL reads through the tickets' services, never their routes.
    "graphql": {"servicedesk.graphql.routes"},
    "admin": {
        "servicedesk.audit.routes",
        "servicedesk.catalog.routes",
        "servicedesk.teams.routes",
        "servicedesk.tickets.category_routes",
    },
    # The logo upload and the public branding by slug sign S3 links (branding.routes).
    "attachments": {
        "servicedesk.attachments.routes",
        "servicedesk.branding.routes",
        "servicedesk.attachments.avatar_routes",  # the avatar upload and its public link
    },
    "identity": {
        "servicedesk.health.routes",
        "servicedesk.identity.routes",
        "servicedesk.identity.registration_routes",  # POST /v1/signup/requester
        "servicedesk.attachments.avatar_routes",  # PUT/DELETE /v1/me/avatar
        "servicedesk.identity.mfa_routes",
        "servicedesk.identity.sso_routes",  # /v1/identity-providers, /v1/auth/sso/...
        "servicedesk.identity.directory_routes",  # GET/PUT /v1/settings/ldap, its test
        "servicedesk.identity.role_routes",  # /v1/roles (custom roles)
    },
    "notifications": {"servicedesk.notifications.routes"},
    "tickets": {
        "servicedesk.tickets.routes",
        "servicedesk.tickets.approval_routes",  # GET /v1/tickets/{ticket_id}/approvals
        "servicedesk.sla.routes",
        "servicedesk.attachments.routes",
        "servicedesk.kb.settings_routes",
        "servicedesk.csat.routes",
        "servicedesk.views.routes",
        "servicedesk.branding.routes",  # GET/PUT /v1/settings/branding
        "servicedesk.identity.registration_routes",  # GET/PUT /v1/settings/portal
        "servicedesk.notifications.settings_routes",  # GET/PUT /v1/settings/notifications
        "servicedesk.identity.security_routes",  # GET/PUT /v1/settings/security
        "servicedesk.cmdb.routes",  # /v1/tickets/{id}/cis, .../affected-services
        "servicedesk.cmdb.discovery_routes",  # added to cmdb.routes' router, not served here
    },
    "webhooks": {
        "servicedesk.webhooks.routes",
        "servicedesk.mail.hook_routes",
        "servicedesk.integrations.routes",
    },
    "mail": {"servicedesk.mail.routes", "servicedesk.mail.source_routes"},
    "kb": {
        "servicedesk.kb.routes",
        "servicedesk.kb.search_routes",
        "servicedesk.attachments.routes",
    },
    "assistant": {"servicedesk.assistant.routes"},
    "exports": {"servicedesk.exports.routes", "servicedesk.exports.subscription_routes"},
    "reports": {"servicedesk.reports.routes"},
    "macros": {"servicedesk.macros.routes"},
    "scim": {"servicedesk.scim.routes", "servicedesk.scim.admin_routes"},
    "automation": {"servicedesk.automation.routes"},
    "approvals": {"servicedesk.approvals.routes", "servicedesk.changes.routes"},
    # A task's files: their list and removal (attachments.routes' task_list_router).
    "projects": {"servicedesk.projects.routes", "servicedesk.attachments.routes"},
    "cmdb": {
        "servicedesk.cmdb.routes",
        "servicedesk.cmdb.import_routes",
        "servicedesk.cmdb.discovery_routes",  # /v1/cis/discovery-sources
    },
}

WEB_FRAMEWORK = ("fastapi", "starlette", "mangum", "servicedesk.platform.app")
# Modules each non-HTTP function must not load, beyond the web framework and any routes.
NON_HTTP_EXTRA: dict[str, tuple[str, ...]] = {
    "authorizer": ("sqlalchemy", "boto3"),
    "ws_connect": ("boto3",),
    "ws_default": ("boto3",),
    "ws_disconnect": ("boto3", "jwt"),
    "email_consumer": ("aws_lambda_powertools.utilities.batch", "boto3"),
    "realtime_consumer": ("aws_lambda_powertools.utilities.batch", "boto3", "jwt"),
    "webhook_consumer": ("aws_lambda_powertools.utilities.batch", "boto3", "jwt"),
    # Embeddings and drafts: the database and the model providers, no tokens.
    "knowledge_consumer": ("aws_lambda_powertools.utilities.batch", "jwt"),
    "reports_consumer": ("aws_lambda_powertools.utilities.batch", "jwt"),
    "outbox_sweeper": ("boto3", "jwt"),
    "sla_evaluator": ("boto3", "jwt"),
    # Mailboxes and the bucket/queue path; boto3 when a poll first reaches AWS.
    "email_imap_poller": ("aws_lambda_powertools.utilities.batch", "boto3", "jwt"),
    # The cleanup job needs the attachment rows and the bucket, not the API's rules.
    "attachment_cleanup": ("boto3", "servicedesk.attachments.service", "servicedesk.tickets"),
    "migrate": (),
    # Exports: the database, the bucket, the report renderers; no tokens, no routes.
    "export_worker": ("aws_lambda_powertools.utilities.batch", "jwt"),
    "report_scheduler": ("jwt",),
    "automation_scheduler": ("jwt",),
    "automation_consumer": ("aws_lambda_powertools.utilities.batch", "jwt"),
    # GitHub and Slack calls: the database, the tickets' services, httpx; no tokens.
    "integrations_consumer": ("aws_lambda_powertools.utilities.batch", "jwt"),
    # Mails due surveys: the survey rows and the mailer, not the tickets' rules.
    "csat_sender": ("boto3", "jwt", "servicedesk.tickets.service", "servicedesk.sla"),
    # Deletes old search log and deflection rows: no search, no models.
    "kb_retention": ("boto3", "jwt", "servicedesk.kb.search", "servicedesk.ai"),
    # AWS discovery: the database, STS and the tenants' APIs (boto3 when a run starts).
    "cmdb_discovery": ("boto3", "jwt"),
    # The intake writes tickets through the tickets domain's services, never its routes.
    "email_intake": ("aws_lambda_powertools.utilities.batch", "boto3"),
}


def loaded_modules(function: str) -> set[str]:
    handler = FUNCTIONS / function / "handler.py"
    env = dict(os.environ, PYTHONPATH=str(ROOT / "layers" / "core" / "python"))
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(handler)],
        cwd=handler.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def _is_routes(module: str) -> bool:
    """A domain's routes module: ``<domain>.routes``, or ``<domain>.<area>_routes`` in a
    domain with several (mail: the admins' sources and the providers' hook). The platform's
    shared route builders (``platform.settings_routes``) are not a domain's."""
    name = module.rsplit(".", 1)[-1]
    domain = module.startswith("servicedesk.") and not module.startswith("servicedesk.platform.")
    return domain and (name == "routes" or name.endswith("_routes"))


def _under(modules: set[str], package: str) -> list[str]:
    return sorted(m for m in modules if m == package or m.startswith(package + "."))


def test_every_function_is_classified() -> None:
    functions = {p.parent.name for p in FUNCTIONS.glob("*/handler.py")}
    assert functions == set(API_ROUTES) | set(NON_HTTP_EXTRA)


@pytest.mark.parametrize("function", sorted(API_ROUTES))
def test_api_function_loads_only_its_own_routes(function: str) -> None:
    modules = loaded_modules(function)
    routes = {m for m in modules if _is_routes(m)}
    assert routes == API_ROUTES[function]
    # boto3 is for the routes that reach AWS, imported when one runs.
    assert _under(modules, "boto3") == []


@pytest.mark.parametrize("function", sorted(NON_HTTP_EXTRA))
def test_non_http_function_loads_no_web_framework(function: str) -> None:
    modules = loaded_modules(function)
    present = {
        package: _under(modules, package)
        for package in (*WEB_FRAMEWORK, *NON_HTTP_EXTRA[function])
        if _under(modules, package)
    }
    routes = sorted(m for m in modules if _is_routes(m))
    assert present == {}
    assert routes == []
