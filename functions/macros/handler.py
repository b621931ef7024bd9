"""Macros API Lambda: macros and canned responses, and their use on a ticket (apply,
preview, render: POST on /v1/tickets/{ticket_id}/macros/{macro_id}/..., routed here)."""

import servicedesk.identity.provisioning  # noqa: F401  (accepts external issuers' tokens)
from servicedesk.macros.routes import router as macros_router
from servicedesk.platform.lambda_ import domain_handler

routers = (macros_router,)
lambda_handler = domain_handler(*routers, title="Servicedesk macros API")
