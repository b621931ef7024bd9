"""Projects and tasks with dependencies (issue 24)."""
