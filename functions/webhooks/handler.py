"""Webhooks API Lambda: outbound endpoints, their delivery log, the inbound delivery-event
hooks, and the providers' inbound-mail hooks."""

import servicedesk.automation.engine  # event rules run on ticket changes (timeline hook)
import servicedesk.identity.provisioning  # noqa: F401  (accepts external issuers' tokens)
from servicedesk.mail.hook_routes import router as mail_hooks_router
from servicedesk.platform.lambda_ import domain_handler
from servicedesk.webhooks.routes import hooks_router
from servicedesk.webhooks.routes import router as webhooks_router

routers = (webhooks_router, hooks_router, mail_hooks_router)
lambda_handler = domain_handler(*routers, title="Servicedesk webhooks API")
