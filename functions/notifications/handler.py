"""Notifications API Lambda: the in-app inbox, preferences, and the dev mail catcher."""

from servicedesk.notifications.routes import dev_router, router
from servicedesk.platform.lambda_ import domain_handler

routers = (router, dev_router)
lambda_handler = domain_handler(*routers, title="Servicedesk notifications API")
