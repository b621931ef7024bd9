"""SCIM 2.0 provisioning (RFC 7643/7644): people and groups from an identity provider."""
