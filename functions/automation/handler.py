"""Automation rules API Lambda (servicedesk/automation)."""

import servicedesk.identity.provisioning  # noqa: F401  (accepts external issuers' tokens)
from servicedesk.automation.routes import router
from servicedesk.platform.lambda_ import domain_handler

routers = (router,)
lambda_handler = domain_handler(*routers, title="Servicedesk automation API")
