"""Notifications: who hears what, per-user preferences, in-app inbox and e-mail."""
