"""SCIM API Lambda: ``/scim/v2`` for identity providers (the tenant's SCIM token, checked
here: the gateway's authorizer does not see these paths) and ``/v1/scim`` for the
tenant's admins (settings, token, group mappings)."""

import servicedesk.identity.provisioning  # noqa: F401  (accepts external issuers' tokens)
from servicedesk.platform.lambda_ import domain_handler
from servicedesk.scim.admin_routes import router as admin_router
from servicedesk.scim.routes import router as scim_router

routers = (scim_router, admin_router)
lambda_handler = domain_handler(*routers, title="Servicedesk SCIM API")
