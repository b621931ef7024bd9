"""CMDB API Lambda: configuration items and their classes, relationships, history, user
links, impact, discovery, and CSV import and export, synchronous and as jobs (/v1/cis,
/v1/ci-classes). The CIs of a ticket are served by the tickets function."""

import servicedesk.identity.provisioning  # noqa: F401  (accepts external issuers' tokens)
from servicedesk.cmdb.import_routes import router as import_jobs_router
from servicedesk.cmdb.routes import router as cmdb_router
from servicedesk.platform.lambda_ import domain_handler

# The jobs first: /v1/cis/imports is not a CI id.
routers = (import_jobs_router, cmdb_router)
lambda_handler = domain_handler(*routers, title="Servicedesk CMDB API")
