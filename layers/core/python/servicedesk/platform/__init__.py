"""Cross-cutting plumbing: config, database, tenancy, auth, errors, observability."""
