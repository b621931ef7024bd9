"""GitHub and Slack integrations (issue 23 points 6-8): docs/integrations.md."""
