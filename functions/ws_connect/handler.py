"""WebSocket $connect: verify the access token, register the connection (tenant, user,
expiry). A non-2xx answer makes API Gateway refuse the handshake."""

import servicedesk.identity.provisioning  # noqa: F401  (accepts external issuers' tokens)
from servicedesk.realtime import handlers

lambda_handler = handlers.connect()
