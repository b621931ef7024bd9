"""Approvals API Lambda: the approvals inbox and decisions, approval flows, delegations,
and a ticket's approvals (GET /v1/tickets/{ticket_id}/approvals, routed here)."""

import servicedesk.identity.provisioning  # noqa: F401  (accepts external issuers' tokens)
from servicedesk.approvals.routes import router as approvals_router
from servicedesk.platform.lambda_ import domain_handler

routers = (approvals_router,)
lambda_handler = domain_handler(*routers, title="Servicedesk approvals API")
