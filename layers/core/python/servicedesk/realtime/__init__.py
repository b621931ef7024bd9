"""Realtime: WebSocket connections, authorized rooms, and pushes from the outbox."""
