"""Approvals API Lambda: the approvals inbox and decisions, approval flows, delegations,
and a ticket's approvals (GET /v1/tickets/{ticket_id}/approvals, routed here); change
management (/v1/changes: changes, their calendar, settings, templates, blackout windows),
which opens its approvals on this engine."""

import servicedesk.identity.provisioning  # noqa: F401  (accepts external issuers' tokens)
from servicedesk.approvals.routes import router as approvals_router
from servicedesk.changes.routes import router as changes_router
from servicedesk.platform.lambda_ import domain_handler

routers = (approvals_router, changes_router)
lambda_handler = domain_handler(*routers, title="Servicedesk approvals API")
