"""ASGI entry for uvicorn in `make dev`: the API, behind the local WebSocket gateway."""

from local.app import build_app
from local.ws import Gateway

# ws://…/ws and /@connections are the gateway's; every other request reaches the API app.
app = Gateway(build_app())
