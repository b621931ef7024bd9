"""WebSocket $disconnect: forget the connection and its subscriptions."""

from servicedesk.realtime import handlers

lambda_handler = handlers.disconnect()
