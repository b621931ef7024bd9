"""Exports API Lambda: asynchronous exports (/v1/exports: jobs, progress, download links)
and scheduled report subscriptions (/v1/report-subscriptions). The only API function that
may sign links to the exports bucket."""

import servicedesk.identity.provisioning  # noqa: F401  (accepts external issuers' tokens)
from servicedesk.exports.routes import router as exports_router
from servicedesk.exports.subscription_routes import router as subscriptions_router
from servicedesk.platform.lambda_ import domain_handler

routers = (exports_router, subscriptions_router)
lambda_handler = domain_handler(*routers, title="Servicedesk exports API")
