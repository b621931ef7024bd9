"""CMDB: configuration items, their classes and relationships, impact (docs/cmdb.md)."""
