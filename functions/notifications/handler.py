"""Notifications API Lambda: the in-app inbox and preferences."""

import servicedesk.identity.provisioning  # noqa: F401  (accepts external issuers' tokens)
from servicedesk.notifications.routes import router
from servicedesk.platform.lambda_ import domain_handler

routers = (router,)
lambda_handler = domain_handler(*routers, title="Servicedesk notifications API")
