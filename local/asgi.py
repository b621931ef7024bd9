"""ASGI entry for uvicorn in `make dev`: the API, behind the local WebSocket gateway."""

import os

# One uvicorn process serves many requests at once (the sync routes run on a 40-thread
# pool), unlike a Lambda instance, which serves one: size the pool for that. Above it a
# request waits SERVICEDESK_DB_POOL_TIMEOUT_SECONDS for a connection, then gets a 503
# with Retry-After. The embedded PostgreSQL allows 100 connections.
os.environ.setdefault("SERVICEDESK_DB_POOL_SIZE", "10")
os.environ.setdefault("SERVICEDESK_DB_MAX_OVERFLOW", "10")
# The response does not wait for SQS: the publish after commit runs on a background worker
# here (platform.publisher.publish_after_commit); the sweeper still catches what it misses.
os.environ.setdefault("SERVICEDESK_PUBLISH_IN_BACKGROUND", "1")

from local.app import build_app
from local.ws import Gateway
from servicedesk.platform.lambda_ import settle_heap

# ws://…/ws and /@connections are the gateway's; every other request reaches the API app.
app = Gateway(build_app())

# As each API Lambda does at the end of its initialization (platform.lambda_.settle_heap).
settle_heap()
