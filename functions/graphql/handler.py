"""GraphQL API Lambda: POST /v1/graphql (servicedesk/graphql; docs/graphql.md)."""

import servicedesk.identity.provisioning  # noqa: F401  (accepts external issuers' tokens)
from servicedesk.graphql.routes import router as graphql_router
from servicedesk.platform.lambda_ import domain_handler

routers = (graphql_router,)
lambda_handler = domain_handler(*routers, title="Servicedesk GraphQL API")
