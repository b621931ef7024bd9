"""Knowledge base API Lambda: articles, categories, versions, search and suggestions."""

import servicedesk.automation.engine  # event rules run on ticket changes (timeline hook)
import servicedesk.identity.provisioning  # noqa: F401  (accepts external issuers' tokens)
from servicedesk.attachments.routes import article_list_router
from servicedesk.kb.routes import router as kb_router
from servicedesk.kb.search_routes import router as search_router
from servicedesk.platform.lambda_ import domain_handler

# Search first: its static paths (/v1/kb/search, /v1/kb/suggestions) before any {id} route.
routers = (search_router, kb_router, article_list_router)
lambda_handler = domain_handler(*routers, title="Servicedesk knowledge base API")
