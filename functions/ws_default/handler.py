"""WebSocket $default: subscribe / unsubscribe / typing / ping frames; the reply is the
route response API Gateway sends back on the same socket."""

from servicedesk.realtime import handlers

lambda_handler = handlers.default()
