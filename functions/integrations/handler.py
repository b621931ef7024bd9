"""Integrations API Lambda: admins' GitHub and Slack configuration, a ticket's GitHub issue
and links, and GitHub's and Slack's signed inbound requests."""

import servicedesk.automation.engine  # event rules run on ticket changes (timeline hook)
import servicedesk.identity.provisioning  # noqa: F401  (accepts external issuers' tokens)
from servicedesk.integrations.routes import inbound_router, router
from servicedesk.platform.lambda_ import domain_handler

routers = (inbound_router, router)
lambda_handler = domain_handler(*routers, title="Servicedesk integrations API")
