"""The audit log, readable: the rows ``platform.audit`` writes, listed and read by admins."""
