"""Change management (issue 22 point 6): see docs/changes.md."""
