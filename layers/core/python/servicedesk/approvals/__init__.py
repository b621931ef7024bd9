"""Approvals: flows, requests on any subject, stages, decisions, delegations (docs/approvals.md)."""
