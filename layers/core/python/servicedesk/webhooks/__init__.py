"""Webhooks: signed outbound deliveries of outbox events, and inbound e-mail delivery hooks."""
