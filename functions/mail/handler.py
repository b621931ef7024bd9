"""Mail API Lambda: inbound addresses, e-mail settings, held mail, the mail log, and the
other doors' configuration (provider hooks, IMAP mailboxes).

It runs in the egress subnets: "test connection" reaches the tenants' IMAP servers."""

import servicedesk.automation.engine  # event rules run on ticket changes (timeline hook)
import servicedesk.identity.provisioning  # noqa: F401  (accepts external issuers' tokens)
from servicedesk.mail.routes import router as mail_router
from servicedesk.mail.source_routes import router as sources_router
from servicedesk.platform.lambda_ import domain_handler

routers = (mail_router, sources_router)
lambda_handler = domain_handler(*routers, title="Servicedesk mail API")
