"""Admin API Lambda: teams and the service catalog (categories)."""

import servicedesk.identity.provisioning  # noqa: F401  (accepts external issuers' tokens)
from servicedesk.catalog.routes import router as catalog_router
from servicedesk.platform.lambda_ import domain_handler
from servicedesk.teams.routes import router as teams_router

routers = (teams_router, catalog_router)
lambda_handler = domain_handler(*routers, title="Servicedesk admin API")
