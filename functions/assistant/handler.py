"""Assistant API Lambda: conversations with the language model, tools run as the caller."""

import servicedesk.automation.engine  # event rules run on ticket changes (timeline hook)
import servicedesk.identity.provisioning  # noqa: F401  (accepts external issuers' tokens)
from servicedesk.assistant.routes import router as assistant_router
from servicedesk.platform.lambda_ import domain_handler

routers = (assistant_router,)
lambda_handler = domain_handler(*routers, title="Servicedesk assistant API")
