"""Admin API Lambda: teams, the service catalog (categories, their tree), ticket types and
the audit log (read only)."""

import servicedesk.identity.provisioning  # noqa: F401  (accepts external issuers' tokens)
from servicedesk.audit.routes import router as audit_router
from servicedesk.catalog.routes import router as catalog_router
from servicedesk.platform.lambda_ import domain_handler
from servicedesk.teams.routes import router as teams_router
from servicedesk.tickets.category_routes import router as category_delete_router

routers = (teams_router, catalog_router, category_delete_router, audit_router)
lambda_handler = domain_handler(*routers, title="Servicedesk admin API")
