"""Mail API Lambda: inbound addresses, e-mail settings, held mail, the mail log."""

import servicedesk.identity.provisioning  # noqa: F401  (accepts external issuers' tokens)
from servicedesk.mail.routes import router as mail_router
from servicedesk.platform.lambda_ import domain_handler

routers = (mail_router,)
lambda_handler = domain_handler(*routers, title="Servicedesk mail API")
