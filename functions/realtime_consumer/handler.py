"""Realtime broadcaster Lambda: the realtime queue's outbox events (and typing) to the
subscribed connections allowed to hear them, through @connections; on its schedule, the
sweep of expired connections. Partial batch failures; idempotent by event id (and by
chunk, for a large fan-out split over several invocations)."""

from servicedesk.realtime import handlers

lambda_handler = handlers.consumer()
