"""Webhooks API Lambda: outbound endpoints, their delivery log, the inbound delivery-event
hooks, the providers' inbound-mail hooks, and the GitHub and Slack integrations (admins'
configuration, a ticket's GitHub issue, their signed requests under /v1/hooks)."""

import servicedesk.automation.engine  # event rules run on ticket changes (timeline hook)
import servicedesk.identity.provisioning  # noqa: F401  (accepts external issuers' tokens)
from servicedesk.integrations.routes import inbound_router as integration_hooks_router
from servicedesk.integrations.routes import router as integrations_router
from servicedesk.mail.hook_routes import router as mail_hooks_router
from servicedesk.platform.lambda_ import domain_handler
from servicedesk.webhooks.routes import hooks_router
from servicedesk.webhooks.routes import router as webhooks_router

routers = (
    webhooks_router,
    hooks_router,
    mail_hooks_router,
    integration_hooks_router,
    integrations_router,
)
lambda_handler = domain_handler(*routers, title="Servicedesk webhooks API")
