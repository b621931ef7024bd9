"""Branding: a tenant's display name, logo, colours and portal welcome text (issue 20)."""
