"""Servicedesk: a multi-tenant IT service desk, serverless on AWS."""
